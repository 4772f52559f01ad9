//! A `profile.created` event is written without its context (`data` is JSON `null`):
//! the profile at that version *is* its context, and is read when the event is (see
//! `service::events`). The first later change to the profile writes the context into
//! the event first; this partial index finds the events still waiting for one, and
//! holds only those.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000003_deferred_contexts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The predicate is `service::events::deferred()`, word for word: a query uses a
        // partial index only when its condition is the index's.
        let sql = "CREATE INDEX ix_profile_event_deferred ON profile_event (profile_id) \
                   WHERE CAST(\"data\" AS TEXT) = 'null'";
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_profile_event_deferred").table("profile_event").to_owned()).await
    }
}
