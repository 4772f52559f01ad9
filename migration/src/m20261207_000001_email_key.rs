//! One email key: `profile.email_key`, the key [`email_key::of`] computes in
//! Rust, replaces `lower(email)` for uniqueness, lookups, search and the email order.
//! `lower` folded ASCII only on SQLite and followed the collation on PostgreSQL, so
//! `ÉLISE@…` and `élise@…` (and on both, `josé` in NFC and NFD) were two profiles.
//!
//! The column compares bytewise on both databases (PostgreSQL: the "C" collation), so
//! its unique index, its order and its prefix ranges agree with SQLite's. The key of
//! each existing row is computed here; where rows collide, the oldest (created_at, then
//! id) keeps the key and the others keep none: they are listed at every start and by
//! `profiles-gateway email-collisions`, to be merged, never merged here.

use std::collections::HashSet;

use sea_orm::prelude::Uuid;
use sea_orm::{ConnectionTrait, DatabaseBackend, Order};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000001_email_key"
    }
}

/// Rows whose key one statement writes.
const BATCH: usize = 500;

/// The indexes this migration makes, after the keys are in.
const NEW_INDEXES: [&str; 3] = [
    "CREATE UNIQUE INDEX IF NOT EXISTS ux_profile_email_key ON profile (email_key)",
    // The email order: valued keys by (key, id), then profiles without a key by id.
    "CREATE INDEX IF NOT EXISTS ix_profile_email_key_id ON profile (email_key, id)",
    "CREATE INDEX IF NOT EXISTS ix_profile_no_email_key ON profile (id) WHERE email_key IS NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let column = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "ALTER TABLE profile ADD COLUMN email_key text COLLATE \"C\"",
            _ => "ALTER TABLE profile ADD COLUMN email_key text",
        };
        // Every step may be run again: a database migrated part way by an earlier build
        // (which ran SQLite migrations outside a transaction) is finished, not refused.
        // Today the migrations run in one transaction on either database.
        if !manager.has_column("profile", "email_key").await? {
            db.execute_unprepared(column).await?;
        }
        write_keys(db, &keys_to_keep(db).await?).await?;
        // `ix_profile_no_email` stays: `hasEmail: false` still reads it.
        for index in ["ux_profile_email_lower", "ix_profile_email_key"] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}")).await?;
        }
        for sql in NEW_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let email_order = match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE INDEX ix_profile_email_key ON profile ((translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', \
                 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\"), id)"
            }
            _ => "CREATE INDEX ix_profile_email_key ON profile (lower(email), id)",
        };
        for index in ["ux_profile_email_key", "ix_profile_email_key_id", "ix_profile_no_email_key"] {
            db.execute_unprepared(&format!("DROP INDEX {index}")).await?;
        }
        for sql in [
            "CREATE UNIQUE INDEX ux_profile_email_lower ON profile (lower(email))",
            email_order,
            "ALTER TABLE profile DROP COLUMN email_key",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// The key each profile with an email gets: its email's key, unless an older profile
/// (created_at, then id) has the same, in which case it gets none.
async fn keys_to_keep(db: &impl ConnectionTrait) -> Result<Vec<(Uuid, String)>, DbErr> {
    let oldest_first = Query::select()
        .columns(["id", "email"])
        .from("profile")
        .and_where(Expr::col("email").is_not_null())
        .order_by("created_at", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for row in db.query_all(&oldest_first).await? {
        let id: Uuid = row.try_get("", "id")?;
        let email: String = row.try_get("", "email")?;
        let key = email_key::of(&email);
        // A blank address has no key (the service never stores one; older rows might).
        if !key.is_empty() && seen.insert(key.clone()) {
            kept.push((id, key));
        }
    }
    Ok(kept)
}

/// Writes `keys` by profile id, a batch a statement (`CASE id WHEN … THEN key`), rather
/// than one statement a profile.
async fn write_keys(db: &impl ConnectionTrait, keys: &[(Uuid, String)]) -> Result<(), DbErr> {
    for batch in keys.chunks(BATCH) {
        let mut key = CaseStatement::new();
        for (id, value) in batch {
            key = key.case(Expr::col("id").eq(*id), value.as_str());
        }
        let update = Query::update()
            .table("profile")
            .value("email_key", key)
            .and_where(Expr::col("id").is_in(batch.iter().map(|(id, _)| *id)))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
