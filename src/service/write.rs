//! What every write shares: its transaction, the profiles it changes, the split
//! between user errors and failures, and the profile's version.
//!
//! A write is a [`Write`]: [`Write::begin`] opens its transaction; [`Write::touch`]
//! (or [`Write::touch_many`]) bumps the version of a profile it changes (and checks
//! `expectedVersion`, and first settles the profile's deferred events: see
//! `service::events`); creating, deleting, restoring and purging say so with
//! [`Write::record`] (purging also keeps the profile's last context first, with
//! [`Write::purging`]); its own statements run on [`Write::conn`]. The only way to
//! commit is [`Write::commit`], which first writes the change events of the profiles the
//! write changed into the outbox (`service::events`), in the same transaction: nothing
//! that changes a profile can commit without its event, and a write that fails or
//! changes nothing writes none.
//!
//! A write begins on the app's [`Services`]: it stamps times with their clock
//! ([`Write::now`]) and, once committed, tells their notifier of its events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::enums::ProfileType;
use entity::profile;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryTrait, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::validate::{Path, UserError, UserErrorCode};
use crate::error::AppError;
use crate::service::change::{Change, ChangeKind};
use crate::service::runtime::Services;

/// Why a write did not happen: the caller's input (reported as `userErrors`), or a
/// failure (reported as a GraphQL error).
#[derive(Debug)]
pub enum WriteError {
    User(Vec<UserError>),
    App(AppError),
}

pub type WriteResult<T> = Result<T, WriteError>;

impl From<DbErr> for WriteError {
    fn from(err: DbErr) -> Self {
        WriteError::App(err.into())
    }
}

impl From<AppError> for WriteError {
    fn from(err: AppError) -> Self {
        WriteError::App(err)
    }
}

impl From<Vec<UserError>> for WriteError {
    fn from(errors: Vec<UserError>) -> Self {
        WriteError::User(errors)
    }
}

/// One user error as a `WriteError`.
pub fn user_error(path: &Path, code: UserErrorCode, message: impl Into<String>) -> WriteError {
    let mut problems = crate::domain::validate::Problems::default();
    problems.add(path, code, message);
    WriteError::User(problems.into_errors())
}

/// A write in progress: its transaction, the profiles it has changed so far, and the
/// last context of those it purges.
pub struct Write {
    /// What the write began on: its clock, and the notifier to wake waiters after the commit.
    services: Services,
    txn: DatabaseTransaction,
    changes: BTreeMap<Uuid, Change>,
    purged: BTreeMap<Uuid, serde_json::Map<String, serde_json::Value>>,
}

impl Write {
    /// Starts a write. On SQLite it is `BEGIN IMMEDIATE`: a transaction that reads
    /// before it writes would otherwise fail, rather than wait, when another writer
    /// holds the lock. PostgreSQL ignores the option.
    pub async fn begin(services: &Services) -> Result<Write, DbErr> {
        let txn = services
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        Ok(Write { services: services.clone(), txn, changes: BTreeMap::new(), purged: BTreeMap::new() })
    }

    /// The time now on the services' clock, to the microsecond: what the write stamps.
    pub fn now(&self) -> DateTime<Utc> {
        self.services.clock.now()
    }

    /// The transaction, for the write's own statements.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records what happened to a profile. A profile changed several ways in one
    /// write keeps the weightiest (created, deleted, restored or purged over updated)
    /// and the last version.
    pub fn record(&mut self, profile_id: Uuid, kind: ChangeKind, version: i32) {
        let change = self.changes.entry(profile_id).or_insert(Change { profile_id, kind, version });
        change.kind = change.kind.max(kind);
        change.version = version;
    }

    /// Records a change to profile `id`: `version` + 1 and `updatedAt` now, in one
    /// statement, so that the version check cannot race. Fails with NOT_FOUND at
    /// `path` when there is no such (visible) profile, and with VERSION_CONFLICT when
    /// `expected_version` is given and is not the stored version.
    pub async fn touch(&mut self, id: Uuid, expected_version: Option<i32>, path: &Path) -> WriteResult<profile::Model> {
        self.settle(profile::Column::Id.eq(id)).await?;
        if let Some(profile) = Write::bump(&self.txn, id, expected_version, self.now()).await? {
            self.record(profile.id, ChangeKind::Updated, profile.version);
            return Ok(profile);
        }
        let exists = profile::Entity::find_by_id(id)
            .filter(crate::service::profiles::keys::visible())
            .one(&self.txn)
            .await?
            .is_some();
        Err(match (exists, expected_version) {
            (true, Some(version)) => user_error(
                &Path::root("expectedVersion"),
                UserErrorCode::VersionConflict,
                format!("the profile changed since version {version}; read it again"),
            ),
            _ => user_error(path, UserErrorCode::NotFound, "no such profile"),
        })
    }

    /// `version` + 1 and `updatedAt` at `now` for visible profile `id` (at `expected_version`
    /// when given), on `db` — the write's transaction or a savepoint in it — in one
    /// statement; none when there is no such profile. [`Write::touch`] settles the
    /// profile's deferred events first and records it; any other caller must settle
    /// them first too (an import does, for a whole wave at once), and records it once
    /// its savepoint is released.
    pub async fn bump(
        db: &impl ConnectionTrait,
        id: Uuid,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Option<profile::Model>, DbErr> {
        let mut update = profile::Entity::update_many()
            .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
            .col_expr(profile::Column::UpdatedAt, Expr::val(now))
            .filter(profile::Column::Id.eq(id))
            .filter(profile::Column::ProfileType.ne(ProfileType::Deleted));
        if let Some(version) = expected_version {
            update = update.filter(profile::Column::Version.eq(version));
        }
        Ok(update.exec_with_returning(db).await?.into_iter().next())
    }

    /// Bumps the version of every visible profile `filter` selects (e.g. those holding
    /// a tag about to be deleted), and records each.
    pub async fn touch_many(&mut self, filter: sea_orm::Condition) -> Result<(), DbErr> {
        self.settle(filter.clone()).await?;
        // Only the ids and versions come back: a tag can have many holders.
        let mut update = profile::Entity::update_many()
            .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
            .col_expr(profile::Column::UpdatedAt, Expr::val(self.now()))
            .filter(filter)
            .filter(crate::service::profiles::keys::visible())
            .into_query();
        update.returning(Query::returning().columns([profile::Column::Id, profile::Column::Version]));
        let statement = self.txn.get_database_backend().build(&update);
        for row in self.txn.query_all_raw(statement).await? {
            self.record(row.try_get("", "id")?, ChangeKind::Updated, row.try_get("", "version")?);
        }
        Ok(())
    }

    /// Keeps the context of profile `id`, which this write is about to purge: its
    /// `profile.purged` event carries it. A purge recorded without it fails to commit.
    pub async fn purging(&mut self, id: Uuid) -> Result<(), DbErr> {
        self.settle(profile::Column::Id.eq(id)).await?;
        let today = self.now().date_naive();
        self.purged.extend(crate::service::events::context::load(&self.txn, &[id], today).await?);
        Ok(())
    }

    /// Writes their context into the deferred events of the profiles `profiles` selects,
    /// before a change that their contexts show but that does not [`Write::touch`] them
    /// (`service::events`, "Deferred contexts"): restoring one, renaming a tag they hold.
    pub async fn settle(&self, profiles: impl sea_orm::sea_query::IntoCondition) -> Result<(), DbErr> {
        crate::service::events::deferred::settle(&self.txn, profiles).await
    }

    /// Commits, after writing the events of the changed profiles in the same
    /// transaction. Returns the changes.
    pub async fn commit(self) -> Result<Vec<Change>, DbErr> {
        let Write { services, txn, changes, purged } = self;
        let changes: Vec<Change> = changes.into_values().collect();
        let written = crate::service::events::outbox::write(&txn, &changes, purged, services.clock.now()).await?;
        txn.commit().await?;
        if written > 0 {
            services.notifier.committed();
        }
        Ok(changes)
    }
}

/// A unique violation as TAKEN at the path of the first `(needle, path)` whose needle
/// the database's message names (an index or column name); anything else unchanged.
/// Catches the races that checks made before writing cannot.
pub fn taken(err: DbErr, fields: &[(&str, Path)]) -> WriteError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err()
        && let Some((_, path)) = fields.iter().find(|(needle, _)| message.contains(needle))
    {
        return user_error(path, UserErrorCode::Taken, "is already in use");
    }
    err.into()
}
