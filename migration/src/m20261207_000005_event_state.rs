//! An event can hold the profile's *state*: the row as the change left it and the
//! old values of the columns the change set, as PostgreSQL wrote them into JSON in the
//! very statement that changed the profile (`service::one_statement`). Such an event
//! waits for its context like a created one (`data` is JSON `null`): its relations are
//! the profile's until they next change, which settles it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000005_event_state"
    }
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("profile_event").drop_column("state").to_owned()).await
    }
}
