//! Schema migrations, one file per change, applied in order on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;
/// The table of applied migrations, read at start to tell a newer build's migrations.
pub use sea_orm_migration::seaql_migrations;

mod m20261129_000001_create_profiles;
mod m20261129_000002_list_indexes;
mod m20261129_000003_unvalued_indexes;
mod m20261129_000004_api_tokens;
mod m20261201_000001_profile_changes;
mod m20261202_000001_profile_events;
mod m20261203_000001_webhooks;
mod m20261203_000002_event_compression;
mod m20261203_000003_deferred_contexts;
mod m20261207_000001_email_key;
mod m20261207_000002_delivery_share;
mod m20261207_000003_merge;
mod m20261207_000004_duplicates;
mod m20261207_000005_event_state;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_profiles::Migration),
            Box::new(m20261129_000002_list_indexes::Migration),
            Box::new(m20261129_000003_unvalued_indexes::Migration),
            Box::new(m20261129_000004_api_tokens::Migration),
            Box::new(m20261201_000001_profile_changes::Migration),
            Box::new(m20261202_000001_profile_events::Migration),
            Box::new(m20261203_000001_webhooks::Migration),
            Box::new(m20261203_000002_event_compression::Migration),
            Box::new(m20261203_000003_deferred_contexts::Migration),
            Box::new(m20261207_000001_email_key::Migration),
            Box::new(m20261207_000002_delivery_share::Migration),
            Box::new(m20261207_000003_merge::Migration),
            Box::new(m20261207_000004_duplicates::Migration),
            Box::new(m20261207_000005_event_state::Migration),
        ]
    }
}
