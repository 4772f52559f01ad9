//! An event can hold the profile's *state* instead of its context: the row, the old
//! values of the columns the change set, and the relations, as PostgreSQL wrote them
//! into JSON in the very statement that changed the profile
//! (`service::one_statement`). Its context and `changed` are derived from that when it
//! is read. Such an event's `data` is JSON `null` like a waiting created event's, but it
//! waits for nothing: the partial index of the events still waiting leaves it out.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000005_event_state"
    }
}

/// Recreates the partial index of the events waiting for a context with `predicate`.
/// A query uses it only when its condition is the predicate (`service::events::deferred`).
async fn waiting_index(manager: &SchemaManager<'_>, predicate: &str) -> Result<(), DbErr> {
    manager.drop_index(Index::drop().name("ix_profile_event_deferred").table("profile_event").to_owned()).await?;
    let sql = format!("CREATE INDEX ix_profile_event_deferred ON profile_event (profile_id) WHERE {predicate}");
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("profile_event").add_column(ColumnDef::new("state").json().null()).to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // Compressed like `data` (m20261203_000002), where the server can.
            let sql = "DO $$ BEGIN EXECUTE 'ALTER TABLE profile_event ALTER COLUMN state SET COMPRESSION lz4'; \
                       EXCEPTION WHEN feature_not_supported OR syntax_error OR undefined_object THEN NULL; END $$";
            manager.get_connection().execute_unprepared(sql).await?;
        }
        waiting_index(manager, "CAST(\"data\" AS TEXT) = 'null' AND \"state\" IS NULL").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        waiting_index(manager, "CAST(\"data\" AS TEXT) = 'null'").await?;
        manager.alter_table(Table::alter().table("profile_event").drop_column("state").to_owned()).await
    }
}
