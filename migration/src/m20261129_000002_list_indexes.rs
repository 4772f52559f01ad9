//! Indexes for every filter and order of the profile list (`profiles(filter,
//! orderBy)`), so that none of them reads the whole table on PostgreSQL.
//!
//! Name and email orders fold ASCII case and compare bytewise. The expressions here
//! must be the ones the queries use (`service::profile_order::folded`): SQLite's
//! `lower` folds ASCII only; on PostgreSQL `translate` does the same, in the "C"
//! collation whatever the database's collation is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_list_indexes"
    }
}

const UPPER: &str = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
const LOWER: &str = "'abcdefghijklmnopqrstuvwxyz'";

fn folded(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("(translate({column}, {UPPER}, {LOWER}) COLLATE \"C\")"),
        _ => format!("lower({column})"),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let phone = match backend {
            DatabaseBackend::Postgres => "(mobile_phone COLLATE \"C\")",
            _ => "mobile_phone",
        };
        let statements = [
            "CREATE INDEX ix_profile_updated_at_id ON profile (updated_at, id)".to_owned(),
            "CREATE INDEX ix_profile_joined_at ON profile (joined_at)".to_owned(),
            "CREATE INDEX ix_profile_birthday ON profile (birth_month, birth_day, id)".to_owned(),
            "CREATE INDEX ix_profile_profile_type ON profile (profile_type)".to_owned(),
            format!("CREATE INDEX ix_profile_first_name_key ON profile ({}, id)", folded(backend, "first_name")),
            format!("CREATE INDEX ix_profile_last_name_key ON profile ({}, id)", folded(backend, "last_name")),
            format!("CREATE INDEX ix_profile_email_key ON profile ({}, id)", folded(backend, "email")),
            format!("CREATE INDEX ix_profile_mobile_phone_key ON profile ({phone})"),
            "CREATE INDEX ix_identity_primary_identifier ON identity (identifier) WHERE is_primary".to_owned(),
        ];
        let db = manager.get_connection();
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in [
            "ix_profile_updated_at_id",
            "ix_profile_joined_at",
            "ix_profile_birthday",
            "ix_profile_profile_type",
            "ix_profile_first_name_key",
            "ix_profile_last_name_key",
            "ix_profile_email_key",
            "ix_profile_mobile_phone_key",
            "ix_identity_primary_identifier",
        ] {
            db.execute_unprepared(&format!("DROP INDEX {index}")).await?;
        }
        Ok(())
    }
}
