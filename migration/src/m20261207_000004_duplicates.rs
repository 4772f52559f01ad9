//! Finding duplicate candidates (`Profile.duplicates`): each rule an index lookup.
//!
//! - A shared phone: the mobile phone has its unique index; the secondary phone gets
//!   `ix_profile_secondary_phone` (with the id, so that the first candidates by id are
//!   read in order and the read stops there).
//! - The same email but for a `+tag`: the column `email_base_key`, the email key without
//!   its sub-address ([`email_key::base_of`], computed in Rust as the key is), filled
//!   here for every row with an email (collisions, whose key is null, too), and
//!   `ix_profile_email_base_key`. Like `email_key` it compares bytewise on both
//!   databases (PostgreSQL: the "C" collation).
//! - The same name and birth date: `ix_profile_name_birth`, on the names folded as the
//!   list's name indexes fold them (ASCII letters only, the same on both databases),
//!   then year, month and day.

use sea_orm::prelude::Uuid;
use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000004_duplicates"
    }
}

/// Rows whose base key one statement writes.
const BATCH: usize = 500;

const UPPER: &str = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
const LOWER: &str = "'abcdefghijklmnopqrstuvwxyz'";

/// `column` folded as `service::profiles::filter::folded` folds it: the expression
/// the duplicates query compares, so that the index serves it.
fn folded(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("(translate({column}, {UPPER}, {LOWER}) COLLATE \"C\")"),
        _ => format!("lower({column})"),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let column = match backend {
            DatabaseBackend::Postgres => "ALTER TABLE profile ADD COLUMN email_base_key text COLLATE \"C\"",
            _ => "ALTER TABLE profile ADD COLUMN email_base_key text",
        };
        db.execute_unprepared(column).await?;
        write_base_keys(db).await?;
        for sql in [
            "CREATE INDEX ix_profile_email_base_key ON profile (email_base_key)".to_owned(),
            "CREATE INDEX ix_profile_secondary_phone ON profile (secondary_phone, id)".to_owned(),
            format!(
                "CREATE INDEX ix_profile_name_birth ON profile ({}, {}, birth_year, birth_month, birth_day)",
                folded(backend, "last_name"),
                folded(backend, "first_name"),
            ),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        if backend == DatabaseBackend::Postgres {
            // Statistics for the new column and the name index's expressions: without
            // them, until autovacuum analyzes the table, PostgreSQL guesses the lookups'
            // sizes and may hash-join the whole table instead of using the indexes.
            db.execute_unprepared("ANALYZE profile").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "DROP INDEX ix_profile_name_birth",
            "DROP INDEX ix_profile_secondary_phone",
            "DROP INDEX ix_profile_email_base_key",
            "ALTER TABLE profile DROP COLUMN email_base_key",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// Writes the base key of every profile with an email, a batch a statement
/// (`CASE id WHEN … THEN key`), rather than one statement a profile.
async fn write_base_keys(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let emails =
        Query::select().columns(["id", "email"]).from("profile").and_where(Expr::col("email").is_not_null()).to_owned();
    let mut keys = Vec::new();
    for row in db.query_all(&emails).await? {
        let id: Uuid = row.try_get("", "id")?;
        let email: String = row.try_get("", "email")?;
        let key = email_key::base_of(&email);
        // A blank address has no key (the service never stores one; older rows might).
        if !key.is_empty() {
            keys.push((id, key));
        }
    }
    for batch in keys.chunks(BATCH) {
        let mut key = CaseStatement::new();
        for (id, value) in batch {
            key = key.case(Expr::col("id").eq(*id), value.as_str());
        }
        let update = Query::update()
            .table("profile")
            .value("email_base_key", key)
            .and_where(Expr::col("id").is_in(batch.iter().map(|(id, _)| *id)))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
