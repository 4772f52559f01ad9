//! PostgreSQL compresses an event's context (about 5 KB of JSON) with lz4 instead of
//! pglz: `pglz_compress` was the backend's largest cost in an import (perf), and lz4
//! took 12 % off its time (bench/import.py). A server built without lz4 keeps pglz.
//! SQLite does not compress.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000002_event_compression"
    }
}

/// Compresses `profile_event.data` with `method`, unless the server cannot.
async fn compress(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "DO $$ BEGIN EXECUTE 'ALTER TABLE profile_event ALTER COLUMN data SET COMPRESSION {method}'; \
         EXCEPTION WHEN feature_not_supported OR syntax_error OR undefined_object THEN NULL; END $$"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        compress(manager, "lz4").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        compress(manager, "pglz").await
    }
}
