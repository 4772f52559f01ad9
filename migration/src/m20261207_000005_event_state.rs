//! An event can hold the profile's *state* instead of its context: the row, the old
//! values of the columns the change set, and the relations, as PostgreSQL wrote them
//! into JSON in the very statement that changed the profile
//! (`service::one_statement`). Its `data` is then `{}` (never a context, which always
//! has keys, and not the `null` of a created event still waiting, so the partial index
//! of those leaves it out), and its context and `changed` are derived from the state
//! when it is read. The migration only adds the column: a replica of the release
//! before reads the events it always read.

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
