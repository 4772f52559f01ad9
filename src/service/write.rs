//! The write seam: what every write shares — its transaction, the profiles it changes,
//! their versions and their events.
//!
//! A write is a [`Write`]: [`Write::begin`] opens its transaction. A profile changes
//! only through the seam's operations (or, on PostgreSQL, through
//! `service::one_statement`: an update of its own columns or a delete as one statement
//! with its event, which uses the seam's version statement, [`bump`]), each of which first locks the profile's row,
//! then *settles* its deferred events (writes the context it still has into them: see
//! `service::events`, "Deferred contexts"), then bumps its version in the one version
//! statement ([`bump`]), and records the change:
//! - [`Write::hold`] then [`Write::change`] (one profile's own columns, with
//!   `expectedVersion`): the hold reads the profile with all its context holds as it
//!   locks it, so that its event compares with that and, while only the row changed,
//!   needs no read back ([`Held`]);
//! - [`Write::touch`] (one profile, held) and [`Write::touch_many`] (every visible
//!   profile a condition selects) before changing what it holds;
//! - [`Write::delete`], [`Write::restore`] and [`Write::purge`] (which also erases the
//!   profile's earlier events, and purges the profile's tombstones);
//! - [`Write::merge_away`] (a held duplicate becomes a tombstone of its survivor) and
//!   [`Write::merged`] (the held survivor of a merge), whose events carry keys besides
//!   the context ([`Write::commit`]);
//! - [`Write::created`] for profiles the write inserted;
//! - [`Write::savepoint`], whose [`Savepoint::touch`] and [`Savepoint::created`] are
//!   recorded only when it is released (an import fails one row alone this way).
//!
//! [`Write::settle`] settles without a change of version, for a change that the
//! contexts show but the profiles do not hold (renaming a tag they hold). The
//! write's other statements — on what a profile owns, and the checks — run on
//! [`Write::conn`]. The only way to commit a write is [`Write::commit`], which first writes
//! the change events of the profiles the write changed into the outbox, in the same
//! transaction: nothing that changes a profile can commit without its event, and a
//! write that fails or changes nothing writes none.
//!
//! A write begins on the app's [`Services`]: it stamps times with their clock
//! ([`Write::now`]) and, once committed, tells their notifier of its events.
//! [`Write::rollback`] undoes it (a merge's preview).
//!
//! Tombstones (profiles merged into another, `merged_into` set) are refused by every
//! operation: where a profile is not found, one more statement tells a tombstone, and
//! the write fails with ALREADY_MERGED rather than NOT_FOUND; a found profile costs
//! nothing more.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::enums::ProfileType;
use entity::profile;
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SqliteTransactionMode, TransactionOptions,
    TransactionTrait, UpdateMany,
};
use uuid::Uuid;

use crate::domain::validate::{Path, UserErrorCode};
use crate::service::change::{Change, ChangeKind};
use crate::service::error::{Error, Result};
use crate::service::events::deferred::waiting_since;

/// Whether a profile a planned read locked is the row version the statement's
/// snapshot has (PostgreSQL): after waiting for the lock, or when a write committed
/// between the snapshot and the lock, the row is the newer version and its correlated
/// subqueries still read the snapshot.
pub(crate) const FRESH: &str = "(\"profile\".\"xmin\" = (SELECT \"s\".\"xmin\" FROM \"profile\" AS \"s\" \
     WHERE \"s\".\"id\" = \"profile\".\"id\"))";
use crate::service::events::outbox::Held;
use crate::service::events::{context, deferred, outbox};
use crate::service::profiles::keys::visible;
use crate::service::profiles::read::{self, Planned, Selection};
use crate::service::runtime::Services;

/// The one statement that bumps versions: `version` + 1 and `updatedAt` at `now`, for the
/// profiles `filter` selects. Every change of a profile's version is this statement,
/// with the conditions and columns of its operation added.
pub(crate) fn bump(filter: impl IntoCondition, now: DateTime<Utc>) -> UpdateMany<profile::Entity> {
    profile::Entity::update_many()
        .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
        .col_expr(profile::Column::UpdatedAt, Expr::val(now))
        .filter(filter.into_condition())
}

/// Settles the deferred events of the profiles `profiles` selects (deleted ones too),
/// having locked their rows first, in id order: the one lock order is reference
/// records, then profiles, then their waiting events.
async fn settle(db: &impl ConnectionTrait, profiles: Condition) -> Result<()> {
    lock_rows(db, profiles.clone()).await?;
    deferred::settle(db, profiles).await
}

/// Locks the profiles `profiles` selects (deleted ones too) until commit, in id order:
/// how a write takes several, so that two never hold each what the other waits for.
async fn lock_rows(db: &impl ConnectionTrait, profiles: Condition) -> Result<()> {
    let _: Vec<Uuid> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Id)
        .filter(profiles)
        .order_by_asc(profile::Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(())
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
    held: HashMap<Uuid, Held>,
    /// Keys that a changed profile's event `data` has besides its context.
    extra: HashMap<Uuid, serde_json::Map<String, serde_json::Value>>,
}

/// The user error for a profile that is not there: ALREADY_MERGED when `id` is a
/// tombstone (one statement, on this path only), else NOT_FOUND with `missing`.
pub(crate) async fn not_found(db: &impl ConnectionTrait, id: Uuid, path: &Path, missing: &str) -> Result<Error> {
    Ok(match merged_into(db, id).await? {
        Some(survivor) => Error::user(
            path,
            UserErrorCode::AlreadyMerged,
            format!("this profile was merged into profile {survivor}; use that one"),
        ),
        None => Error::user(path, UserErrorCode::NotFound, missing),
    })
}

/// The survivor tombstone `id` was merged into; none when `id` is no tombstone.
pub(crate) async fn merged_into(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Uuid>> {
    let found: Option<Option<Uuid>> = profile::Entity::find()
        .select_only()
        .column(profile::Column::MergedInto)
        .filter(profile::Column::Id.eq(id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.flatten())
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
        Ok(Write {
            services: services.clone(),
            txn,
            changes: BTreeMap::new(),
            settled: BTreeSet::new(),
            held: HashMap::new(),
            extra: HashMap::new(),
        })
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
        settle(&self.txn, profile::Column::Id.is_in(pending.iter().copied()).into_condition()).await?;
        self.settled.extend(pending);
        Ok(())
    }

    /// Settles the deferred events of the profiles `profiles` selects, before a change
    /// that their contexts show but that changes no profile: renaming a tag they hold.
    pub(crate) async fn settle(&self, profiles: impl IntoCondition) -> Result<()> {
        let profiles = profiles.into_condition();
        settle(&self.txn, profiles.clone()).await?;
        // A new version of each row, unchanged: a write that read one of them before
        // this commits, and locks it after, then knows to read its relations again
        // ([`Write::hold`]), which a lock alone would not tell it.
        if self.txn.get_database_backend() == DatabaseBackend::Postgres {
            let same = profile::Entity::update_many()
                .col_expr(profile::Column::Version, Expr::col(profile::Column::Version))
                .filter(profiles);
            same.exec(&self.txn).await?;
        }
        Ok(())
    }

    /// Reads visible profile `id` with all its context holds, locking its row until
    /// commit, and settles its deferred events with that context: what every change to
    /// one profile begins with (once per write). Fails with NOT_FOUND at `path` when
    /// there is no such profile, and with VERSION_CONFLICT when `expected_version` is
    /// given and is not the stored version. Returns the profile's row as it is now.
    pub(crate) async fn hold(
        &mut self,
        id: Uuid,
        expected_version: Option<i32>,
        path: &Path,
    ) -> Result<profile::Model> {
        let current = self.hold_where(id, visible(), path, "no such profile").await?;
        match expected_version {
            Some(version) if version != current.version => Err(Error::user(
                &Path::root("expectedVersion"),
                UserErrorCode::VersionConflict,
                format!("the profile changed since version {version}; read it again"),
            )),
            _ => Ok(current),
        }
    }

    /// [`Write::hold`] for the profile `condition` allows, NOT_FOUND with `missing`.
    async fn hold_where(
        &mut self,
        id: Uuid,
        condition: impl IntoCondition,
        path: &Path,
        missing: &str,
    ) -> Result<profile::Model> {
        if let Some(held) = self.held.get(&id) {
            let current = held.after.clone().unwrap_or_else(|| held.before.model.clone());
            let version = self.changes.get(&id).map_or(current.version, |change| change.version);
            return Ok(profile::Model { version, ..current });
        }
        let condition = condition.into_condition();
        let query =
            || profile::Entity::find().filter(profile::Column::Id.eq(id)).filter(condition.clone()).lock_exclusive();
        let postgres = self.txn.get_database_backend() == DatabaseBackend::Postgres;
        let extra: &[(&str, &str)] = if postgres {
            &[("waiting_since", waiting_since()), ("fresh", FRESH)]
        } else {
            &[("waiting_since", waiting_since())]
        };
        let mut found = read::rows_with(&self.txn, query(), &Selection::everything(), extra).await?.into_iter().next();
        // On PostgreSQL a row that changed after the statement began (it waited for the
        // lock, or a write committed in between) comes back as it is now, but the
        // relations as the statement began: read again, now that the row is held, so
        // that the relations are as current as the row.
        if postgres && let Some((_, row)) = &found {
            let fresh: bool = row.try_get("", "fresh")?;
            if !fresh {
                found = read::rows_with(&self.txn, query(), &Selection::everything(), extra).await?.into_iter().next();
            }
        }
        let Some((before, row)) = found else {
            return Err(not_found(&self.txn, id, path, missing).await?);
        };
        if !self.settled.contains(&id) {
            let waiting: Option<DateTime<Utc>> = row.try_get("", "waiting_since")?;
            if let Some(since) = waiting {
                deferred::settle_with(&self.txn, id, &context::text(&before, since.date_naive())).await?;
            }
            self.settled.insert(id);
        }
        let current = before.model.clone();
        self.held.insert(id, Held { before, after: None });
        Ok(current)
    }

    /// Changes profile `id`, which the write [holds](Write::hold): `version` + 1,
    /// `updatedAt` now and `columns`, in one statement. The profile as stored.
    pub(crate) async fn change(&mut self, id: Uuid, columns: profile::ActiveModel) -> Result<profile::Model> {
        self.bump_held(id, ChangeKind::Updated, columns, visible()).await
    }

    /// Changes profile `id` before a change to what it holds (its addresses, tags, …):
    /// [`Write::hold`], then `version` + 1 and `updatedAt` now.
    pub(crate) async fn touch(
        &mut self,
        id: Uuid,
        expected_version: Option<i32>,
        path: &Path,
    ) -> Result<profile::Model> {
        self.hold(id, expected_version, path).await?;
        let unchanged = <profile::ActiveModel as Default>::default();
        let profile = self.bump_held(id, ChangeKind::Updated, unchanged, visible()).await?;
        // What it holds changes next: its context is read again at commit.
        if let Some(held) = self.held.get_mut(&id) {
            held.after = None;
        }
        Ok(profile)
    }

    /// The one statement that changes a held profile's row, and the change recorded.
    async fn bump_held(
        &mut self,
        id: Uuid,
        kind: ChangeKind,
        mut columns: profile::ActiveModel,
        condition: impl IntoCondition,
    ) -> Result<profile::Model> {
        let Some(held) = self.held.get(&id) else {
            return Err(Error::Invariant(format!("profile {id} changed without being held")));
        };
        // A row alone tells the context only while no relation it names changes, and
        // while nothing but the row changed before (`after` is kept from the last change).
        let row_alone = (held.after.is_some() || !self.changes.contains_key(&id))
            && [profile::Column::TierHandle, profile::Column::PreferredLocationId, profile::Column::JoinedLocationId]
                .into_iter()
                .all(|column| !columns.get(column).is_set());
        columns.id = ActiveValue::NotSet;
        let update = bump(condition, self.now()).set(columns).filter(profile::Column::Id.eq(id));
        let profile = update
            .exec_with_returning(&self.txn)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Invariant(format!("held profile {id} was not found to change")))?;
        self.record(id, kind, profile.version);
        if let Some(held) = self.held.get_mut(&id) {
            held.after = row_alone.then(|| profile.clone());
        }
        Ok(profile)
    }

    /// Changes every visible profile `filter` selects (e.g. those holding a tag about
    /// to be deleted): `version` + 1 each, in one statement.
    pub(crate) async fn touch_many(&mut self, filter: Condition) -> Result<()> {
        settle(&self.txn, filter.clone()).await?;
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
        lock_rows(&self.txn, visible().add(filter.into_condition())).await
    }

    /// Soft-deletes visible profile `id`: it becomes `DELETED`, keeping the type it
    /// had for [`Write::restore`]. NOT_FOUND at `path` when there is no such profile.
    pub(crate) async fn delete(&mut self, id: Uuid, path: &Path) -> Result<profile::Model> {
        let current = self.hold_where(id, visible(), path, "no such profile").await?;
        let columns = profile::ActiveModel {
            type_before_delete: ActiveValue::Set(Some(current.profile_type)),
            profile_type: ActiveValue::Set(ProfileType::Deleted),
            ..Default::default()
        };
        self.bump_held(id, ChangeKind::Deleted, columns, visible()).await
    }

    /// Brings deleted profile `id` back with the type it had. Of concurrent restores of
    /// one profile exactly one finds it deleted (each holds the row in turn); the
    /// others get NOT_FOUND at `path`.
    pub(crate) async fn restore(&mut self, id: Uuid, path: &Path) -> Result<profile::Model> {
        // A tombstone is deleted too, but never comes back: ALREADY_MERGED.
        let deleted = Condition::all()
            .add(profile::Column::ProfileType.eq(ProfileType::Deleted))
            .add(profile::Column::MergedInto.is_null());
        let current = self.hold_where(id, deleted.clone(), path, "no deleted profile has this id").await?;
        let columns = profile::ActiveModel {
            profile_type: ActiveValue::Set(current.type_before_delete.unwrap_or_default()),
            type_before_delete: ActiveValue::Set(None),
            ..Default::default()
        };
        self.bump_held(id, ChangeKind::Restored, columns, deleted).await
    }

    /// Removes profile `id` and everything it owns (the foreign keys cascade), deleted
    /// or not, and erases its events so far with their deliveries (purging erases: no
    /// personal data of the person is left): its `profile.purged` event, written at
    /// commit, carries only its id. The profiles merged into it (its tombstones) go
    /// with it, each the same way, and its merge records (their foreign key cascades).
    /// NOT_FOUND at `path` when there is no such profile, ALREADY_MERGED when it is a
    /// tombstone.
    pub(crate) async fn purge(&mut self, id: Uuid, path: &Path) -> Result<()> {
        // The profile's row first, the order every change takes (its waiting event is
        // not settled: it is erased below), then its tombstones in id order, as a
        // merge that holds the profile and repoints them takes them: never the
        // other way round.
        for rows in [profile::Column::Id.eq(id), profile::Column::MergedInto.eq(id)] {
            lock_rows(&self.txn, rows.into_condition()).await?;
        }
        let this = Condition::all().add(profile::Column::Id.eq(id)).add(profile::Column::MergedInto.is_null());
        let purged = profile::Entity::delete_many()
            .filter(Condition::any().add(this).add(profile::Column::MergedInto.eq(id)))
            .exec_with_returning(&self.txn)
            .await?;
        if !purged.iter().any(|profile| profile.id == id) {
            return Err(not_found(&self.txn, id, path, "no such profile").await?);
        }
        // After the rows are gone: a write that changed one of them before had to
        // commit first, so its event is among those erased. Two statements in all.
        let ids: Vec<Uuid> = purged.iter().map(|profile| profile.id).collect();
        outbox::erase(&self.txn, &ids).await?;
        for profile in purged {
            self.record(profile.id, ChangeKind::Purged, profile.version);
        }
        Ok(())
    }

    /// The profile `id` as the write found it when it [held](Write::hold) it, with all
    /// its context holds.
    pub(crate) fn held(&self, id: Uuid) -> Option<&Planned> {
        self.held.get(&id).map(|held| &held.before)
    }

    /// Makes held profile `id` a tombstone of `survivor`: `DELETED` (keeping its type),
    /// `merged_into` the survivor, its email and mobile phone released (unlike a soft
    /// delete, a merge frees them), and its tier and locations let go. What it owned moves next, so its context is
    /// read again at commit; its `profile.deleted` event says why.
    pub(crate) async fn merge_away(&mut self, id: Uuid, survivor: Uuid) -> Result<profile::Model> {
        let Some(held) = self.held.get(&id) else {
            return Err(Error::Invariant(format!("profile {id} merged without being held")));
        };
        let columns = profile::ActiveModel {
            type_before_delete: ActiveValue::Set(Some(held.before.model.profile_type)),
            profile_type: ActiveValue::Set(ProfileType::Deleted),
            merged_into: ActiveValue::Set(Some(survivor)),
            email: ActiveValue::Set(None),
            email_key: ActiveValue::Set(None),
            email_base_key: ActiveValue::Set(None),
            mobile_phone: ActiveValue::Set(None),
            // A tombstone never comes back: it holds no tier or location, which would
            // keep them IN_USE for good.
            tier_handle: ActiveValue::Set(None),
            preferred_location_id: ActiveValue::Set(None),
            joined_location_id: ActiveValue::Set(None),
            ..Default::default()
        };
        let profile = self.bump_held(id, ChangeKind::Deleted, columns, visible()).await?;
        self.reread(id);
        let extra = [("deleted_reason", "merged".into()), ("merged_into", survivor.to_string().into())];
        self.extra.insert(id, extra.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        Ok(profile)
    }

    /// Changes held profile `id`, the survivor of a merge of `merged_from`, with
    /// `columns`: `version` + 1 once, and its `profile.merged` event, whose data adds
    /// `merged_from` to the context. What it holds changes too, so its context is read
    /// again at commit.
    pub(crate) async fn merged(
        &mut self,
        id: Uuid,
        columns: profile::ActiveModel,
        merged_from: &[Uuid],
    ) -> Result<profile::Model> {
        let profile = self.bump_held(id, ChangeKind::Merged, columns, visible()).await?;
        self.reread(id);
        let ids: Vec<serde_json::Value> = merged_from.iter().map(|id| id.to_string().into()).collect();
        self.extra.insert(id, [("merged_from".to_owned(), serde_json::Value::Array(ids))].into_iter().collect());
        Ok(profile)
    }

    /// Points the tombstones of `from` (profiles merged into them earlier) at `to`,
    /// when those are merged into `to` in turn: a tombstone always names a live
    /// survivor. Tombstones have no version to bump and no event.
    pub(crate) async fn repoint(&self, from: &[Uuid], to: Uuid) -> Result<()> {
        profile::Entity::update_many()
            .col_expr(profile::Column::MergedInto, Expr::val(to))
            .filter(profile::Column::MergedInto.is_in(from.iter().copied()))
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Forgets the row a held profile's change left: its context is read at commit.
    fn reread(&mut self, id: Uuid) {
        if let Some(held) = self.held.get_mut(&id) {
            held.after = None;
        }
    }

    /// Undoes the write: nothing it did is kept, and no event is written.
    pub(crate) async fn rollback(self) -> Result<()> {
        self.txn.rollback().await?;
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
        let Write { services, txn, changes, held, extra, .. } = self;
        let changes: Vec<Change> = changes.into_values().collect();
        let written = outbox::write(&txn, &changes, &held, &extra, services.clock.now()).await?;
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
            settle(&self.txn, profile::Column::Id.eq(id).into_condition()).await?;
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
