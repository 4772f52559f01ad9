//! The write seam: what every write shares — its transaction, the profiles it changes,
//! their versions and their events.
//!
//! A write is a [`Write`]: [`Write::begin`] opens its transaction. A profile changes
//! only through the seam's operations, each of which first *settles* the profile's
//! deferred events (writes the context it still has into them: see `service::events`,
//! "Deferred contexts"), then bumps its version in the one version statement
//! ([`bump`]), and records the change:
//! - [`Write::touch`] (one profile, with `expectedVersion`) and [`Write::touch_many`]
//!   (every visible profile a condition selects) before changing what it holds;
//! - [`Write::delete`], [`Write::restore`] and [`Write::purge`] (which also erases the
//!   profile's earlier events);
//! - [`Write::created`] for profiles the write inserted;
//! - [`Write::savepoint`], whose [`Savepoint::touch`] and [`Savepoint::created`] are
//!   recorded only when it is released (an import fails one row alone this way).
//!
//! [`Write::settle`] settles without a change of version, for a change that the
//! contexts show but the profiles do not hold (renaming a tag they hold). The
//! write's other statements — on what a profile owns, and the checks — run on
//! [`Write::conn`]. The only way to commit is [`Write::commit`], which first writes
//! the change events of the profiles the write changed into the outbox, in the same
//! transaction: nothing that changes a profile can commit without its event, and a
//! write that fails or changes nothing writes none.
//!
//! A write begins on the app's [`Services`]: it stamps times with their clock
//! ([`Write::now`]) and, once committed, tells their notifier of its events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::enums::ProfileType;
use entity::profile;
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoCondition, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait, UpdateMany,
};
use uuid::Uuid;

use crate::domain::validate::{Path, UserErrorCode};
use crate::service::change::{Change, ChangeKind};
use crate::service::error::{Error, Result};
use crate::service::events::{deferred, outbox};
use crate::service::profiles::keys::visible;
use crate::service::runtime::Services;

/// The one statement that bumps versions: `version` + 1 and `updatedAt` at `now`, for the
/// profiles `filter` selects. Every change of a profile's version is this statement,
/// with the conditions and columns of its operation added.
fn bump(filter: impl IntoCondition, now: DateTime<Utc>) -> UpdateMany<profile::Entity> {
    profile::Entity::update_many()
        .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
        .col_expr(profile::Column::UpdatedAt, Expr::val(now))
        .filter(filter.into_condition())
}

/// A write in progress: its transaction, the profiles it has changed so far, and the
/// ones whose deferred events it has settled.
pub(crate) struct Write {
    /// What the write began on: its clock, and the notifier to wake waiters after the
    /// commit.
    services: Services,
    txn: DatabaseTransaction,
    changes: BTreeMap<Uuid, Change>,
    settled: BTreeSet<Uuid>,
}

impl Write {
    /// Starts a write. On SQLite it is `BEGIN IMMEDIATE`: a transaction that reads
    /// before it writes would otherwise fail, rather than wait, when another writer
    /// holds the lock. PostgreSQL ignores the option.
    pub(crate) async fn begin(services: &Services) -> Result<Write> {
        let txn = services
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        Ok(Write { services: services.clone(), txn, changes: BTreeMap::new(), settled: BTreeSet::new() })
    }

    /// The time now on the services' clock, to the microsecond: what the write stamps.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.services.clock.now()
    }

    /// The transaction, for the write's checks and its statements on what profiles
    /// own. A profile's own row changes through the operations of the seam.
    pub(crate) fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records what happened to a profile. A profile changed several ways in one
    /// write keeps the weightiest (created, deleted, restored or purged over updated)
    /// and the last version.
    fn record(&mut self, profile_id: Uuid, kind: ChangeKind, version: i32) {
        let change = self.changes.entry(profile_id).or_insert(Change { profile_id, kind, version });
        change.kind = change.kind.max(kind);
        change.version = version;
    }

    /// Records profiles this write inserted (on [`Write::conn`]), at their versions.
    pub(crate) fn created(&mut self, profiles: impl IntoIterator<Item = (Uuid, i32)>) {
        for (id, version) in profiles {
            // A new profile has no deferred event to settle.
            self.settled.insert(id);
            self.record(id, ChangeKind::Created, version);
        }
    }

    /// Settles the deferred events of the profiles with `ids` that this write has not
    /// settled yet: once each, before its first change.
    pub(crate) async fn settle_profiles(&mut self, ids: impl IntoIterator<Item = Uuid>) -> Result<()> {
        let pending: Vec<Uuid> = ids.into_iter().filter(|id| !self.settled.contains(id)).collect();
        if pending.is_empty() {
            return Ok(());
        }
        deferred::settle(&self.txn, profile::Column::Id.is_in(pending.iter().copied())).await?;
        self.settled.extend(pending);
        Ok(())
    }

    /// Settles the deferred events of the profiles `profiles` selects, before a change
    /// that their contexts show but that changes no profile: renaming a tag they hold.
    pub(crate) async fn settle(&self, profiles: impl IntoCondition) -> Result<()> {
        deferred::settle(&self.txn, profiles).await
    }

    /// Changes profile `id`: `version` + 1 and `updatedAt` now, in one statement, so
    /// that the version check cannot race. Fails with NOT_FOUND at `path` when there is
    /// no such (visible) profile, and with VERSION_CONFLICT when `expected_version` is
    /// given and is not the stored version.
    pub(crate) async fn touch(
        &mut self,
        id: Uuid,
        expected_version: Option<i32>,
        path: &Path,
    ) -> Result<profile::Model> {
        self.settle_profiles([id]).await?;
        let mut update = bump(visible(), self.now()).filter(profile::Column::Id.eq(id));
        if let Some(version) = expected_version {
            update = update.filter(profile::Column::Version.eq(version));
        }
        if let Some(profile) = update.exec_with_returning(&self.txn).await?.into_iter().next() {
            self.record(profile.id, ChangeKind::Updated, profile.version);
            return Ok(profile);
        }
        let exists = profile::Entity::find_by_id(id).filter(visible()).one(&self.txn).await?.is_some();
        Err(match (exists, expected_version) {
            (true, Some(version)) => Error::user(
                &Path::root("expectedVersion"),
                UserErrorCode::VersionConflict,
                format!("the profile changed since version {version}; read it again"),
            ),
            _ => Error::user(path, UserErrorCode::NotFound, "no such profile"),
        })
    }

    /// Changes every visible profile `filter` selects (e.g. those holding a tag about
    /// to be deleted): `version` + 1 each, in one statement.
    pub(crate) async fn touch_many(&mut self, filter: Condition) -> Result<()> {
        self.settle(filter.clone()).await?;
        self.lock(filter.clone()).await?;
        // Only the ids and versions come back: a tag can have many holders.
        let mut update = bump(visible(), self.now()).filter(filter).into_query();
        update.returning(Query::returning().columns([profile::Column::Id, profile::Column::Version]));
        let statement = self.txn.get_database_backend().build(&update);
        for row in self.txn.query_all_raw(statement).await? {
            let id: Uuid = row.try_get("", "id")?;
            self.settled.insert(id);
            self.record(id, ChangeKind::Updated, row.try_get("", "version")?);
        }
        Ok(())
    }

    /// Locks the visible profiles `filter` selects until commit, in id order, before a
    /// write changes several (PostgreSQL; SQLite serialises writers anyway). Two such
    /// writes, or one and a write of one profile, then never hold each what the other
    /// waits for, as they could locking them in the order a statement meets them.
    pub(crate) async fn lock(&self, filter: impl IntoCondition) -> Result<()> {
        let _: Vec<Uuid> = profile::Entity::find()
            .select_only()
            .column(profile::Column::Id)
            .filter(visible())
            .filter(filter.into_condition())
            .order_by_asc(profile::Column::Id)
            .lock_exclusive()
            .into_tuple()
            .all(&self.txn)
            .await?;
        Ok(())
    }

    /// Soft-deletes visible profile `id`: it becomes `DELETED`, keeping the type it
    /// had for [`Write::restore`]. NOT_FOUND at `path` when there is no such profile.
    pub(crate) async fn delete(&mut self, id: Uuid, path: &Path) -> Result<profile::Model> {
        self.settle_profiles([id]).await?;
        // `type_before_delete` takes the type the row had before this statement.
        let deleted = bump(visible(), self.now())
            .col_expr(profile::Column::TypeBeforeDelete, Expr::col(profile::Column::ProfileType))
            .col_expr(profile::Column::ProfileType, Expr::val(ProfileType::Deleted))
            .filter(profile::Column::Id.eq(id))
            .exec_with_returning(&self.txn)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::user(path, UserErrorCode::NotFound, "no such profile"))?;
        self.record(id, ChangeKind::Deleted, deleted.version);
        Ok(deleted)
    }

    /// Brings deleted profile `id` back with the type it had, in one conditional
    /// statement: of concurrent restores of one profile exactly one finds it deleted;
    /// the others get NOT_FOUND at `path`.
    pub(crate) async fn restore(&mut self, id: Uuid, path: &Path) -> Result<profile::Model> {
        self.settle_profiles([id]).await?;
        let previous_type =
            Func::coalesce([Expr::col(profile::Column::TypeBeforeDelete), Expr::val(ProfileType::default())]);
        let restored = bump(profile::Column::ProfileType.eq(ProfileType::Deleted), self.now())
            .col_expr(profile::Column::ProfileType, previous_type.into())
            .col_expr(profile::Column::TypeBeforeDelete, Expr::val(Option::<ProfileType>::None))
            .filter(profile::Column::Id.eq(id))
            .exec_with_returning(&self.txn)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::user(path, UserErrorCode::NotFound, "no deleted profile has this id"))?;
        self.record(id, ChangeKind::Restored, restored.version);
        Ok(restored)
    }

    /// Removes profile `id` and everything it owns (the foreign keys cascade), deleted
    /// or not, and erases its events so far with their deliveries (purging erases: no
    /// personal data of the person is left): its `profile.purged` event, written at
    /// commit, carries only its id. NOT_FOUND at `path` when there is no such profile.
    pub(crate) async fn purge(&mut self, id: Uuid, path: &Path) -> Result<()> {
        // Its waiting event locked before the profile, in the order every change takes
        // them (a change that settled it and then waits for the profile would otherwise
        // deadlock with this purge); not settled, since it is erased below.
        deferred::lock(&self.txn, id).await?;
        let purged =
            profile::Entity::delete_many().filter(profile::Column::Id.eq(id)).exec_with_returning(&self.txn).await?;
        let Some(profile) = purged.into_iter().next() else {
            return Err(Error::user(path, UserErrorCode::NotFound, "no such profile"));
        };
        // After the profile's row is gone: a write that changed the profile before it
        // had to commit first, so its event is among those erased.
        outbox::erase(&self.txn, id).await?;
        self.record(id, ChangeKind::Purged, profile.version);
        Ok(())
    }

    /// Opens a savepoint in the write: what is done in it counts only once it is
    /// [released](Savepoint::release).
    pub(crate) async fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        let txn = self.txn.begin().await?;
        Ok(Savepoint { write: self, txn, changes: Vec::new(), settled: Vec::new() })
    }

    /// Commits, after writing the events of the changed profiles in the same
    /// transaction. Returns the changes.
    pub(crate) async fn commit(self) -> Result<Vec<Change>> {
        let Write { services, txn, changes, .. } = self;
        let changes: Vec<Change> = changes.into_values().collect();
        let written = outbox::write(&txn, &changes, services.clock.now()).await?;
        txn.commit().await?;
        if written > 0 {
            services.notifier.committed();
        }
        Ok(changes)
    }
}

/// A savepoint in a [`Write`]: its changes are recorded in the write when it is
/// released, and forgotten (with its statements) when it is rolled back.
pub(crate) struct Savepoint<'w> {
    write: &'w mut Write,
    txn: DatabaseTransaction,
    changes: Vec<(Uuid, ChangeKind, i32)>,
    settled: Vec<Uuid>,
}

impl Savepoint<'_> {
    /// The savepoint, for its statements on what profiles own.
    pub(crate) fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Changes visible profile `id` as [`Write::touch`] does, without a version check;
    /// none when there is no such profile (deleted or purged since it was read).
    pub(crate) async fn touch(&mut self, id: Uuid) -> Result<Option<profile::Model>> {
        if !self.write.settled.contains(&id) && !self.settled.contains(&id) {
            deferred::settle(&self.txn, profile::Column::Id.eq(id)).await?;
            self.settled.push(id);
        }
        let bumped =
            bump(visible(), self.write.now()).filter(profile::Column::Id.eq(id)).exec_with_returning(&self.txn).await?;
        let profile = bumped.into_iter().next();
        if let Some(profile) = &profile {
            self.changes.push((id, ChangeKind::Updated, profile.version));
        }
        Ok(profile)
    }

    /// Records profiles inserted in the savepoint, at their versions.
    pub(crate) fn created(&mut self, profiles: impl IntoIterator<Item = (Uuid, i32)>) {
        self.changes.extend(profiles.into_iter().map(|(id, version)| (id, ChangeKind::Created, version)));
    }

    /// Keeps what the savepoint did, and records its changes in the write.
    pub(crate) async fn release(self) -> Result<()> {
        let Savepoint { write, txn, changes, settled } = self;
        txn.commit().await?;
        write.settled.extend(settled);
        for (id, kind, version) in changes {
            if kind == ChangeKind::Created {
                write.settled.insert(id);
            }
            write.record(id, kind, version);
        }
        Ok(())
    }

    /// Undoes what the savepoint did; the write goes on without it.
    pub(crate) async fn rollback(self) -> Result<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}
