//! Reference data: tags, statuses, tiers and locations.
//!
//! Deleting one that profiles use: tags and statuses are labels, so they are detached
//! from those profiles (each counts as changed, `version` + 1); tiers and locations
//! are what a profile points at, so deleting one in use is refused with IN_USE.
//! Changing a handle (or a location's external id) changes what the profiles that use
//! it show, so those profiles count as changed too.

use chrono::{DateTime, Utc};
use entity::{location, profile, profile_status, profile_tag, status, tag, tier};
use sea_orm::ActiveValue;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::validate::{Path, Problems, UserErrorCode};
use crate::service::draft::{Columns, LocationChanges, Patch, StatusChanges, TagChanges, TierChanges};
use crate::service::error::{Error, Result};
use crate::service::error::{Unique, taken};
use crate::service::runtime::Services;
use crate::service::write::Write;

/// Every tag, by handle.
pub(crate) async fn tags(db: &DatabaseConnection) -> Result<Vec<tag::Model>> {
    Ok(tag::Entity::find().order_by_asc(tag::Column::Handle).all(db).await?)
}

/// Every status, by rank then handle.
pub(crate) async fn statuses(db: &DatabaseConnection) -> Result<Vec<status::Model>> {
    Ok(status::Entity::find().order_by_asc(status::Column::Rank).order_by_asc(status::Column::Handle).all(db).await?)
}

/// Every tier, by rank then handle.
pub(crate) async fn tiers(db: &DatabaseConnection) -> Result<Vec<tier::Model>> {
    Ok(tier::Entity::find().order_by_asc(tier::Column::Rank).order_by_asc(tier::Column::Handle).all(db).await?)
}

/// Every location, by name then id.
pub(crate) async fn locations(db: &DatabaseConnection) -> Result<Vec<location::Model>> {
    Ok(location::Entity::find().order_by_asc(location::Column::Name).order_by_asc(location::Column::Id).all(db).await?)
}

/// What deleting a record that profiles use does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnDelete {
    /// Detach it from those profiles.
    Detach,
    /// Refuse with IN_USE.
    Refuse,
}

/// A kind of reference record, with what the generic writes below need of its entity
/// (bounds stated once here, and implied wherever `E: Reference` is).
pub(crate) trait Reference:
    EntityTrait<
        ActiveModel: ActiveModelTrait<Entity = Self> + Send,
        Model: IntoActiveModel<<Self as EntityTrait>::ActiveModel>,
        PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType: From<i32>>,
    >
{
    /// What one is called in messages.
    const NOUN: &'static str;
    const ON_DELETE: OnDelete;
    /// The unique constraint that guards it, and the input field that sets it.
    const UNIQUE: (Unique, &'static str);
    /// The profiles that use `row`.
    fn holders(row: &Self::Model) -> Condition;
    /// Whether `change` alters what those profiles show.
    fn shown_change(change: &Self::ActiveModel, row: &Self::Model) -> bool;
    /// The plain changes the GraphQL layer gives for this kind of record.
    type Changes: Columns<Row = Self::ActiveModel>;
}

fn changes<T: PartialEq + Into<sea_orm::Value>>(change: &ActiveValue<T>, current: &T) -> bool {
    matches!(change, ActiveValue::Set(value) if value != current)
}

/// Tags and statuses: labels joined to profiles through a link table.
macro_rules! label {
    ($entity:ident, $changes:ident, $noun:literal, $unique:ident, $link:ident, $link_column:ident) => {
        impl Reference for $entity::Entity {
            type Changes = $changes;
            const NOUN: &'static str = $noun;
            const ON_DELETE: OnDelete = OnDelete::Detach;
            const UNIQUE: (Unique, &'static str) = (Unique::$unique, "handle");
            fn holders(row: &$entity::Model) -> Condition {
                let links = Query::select()
                    .column($link::Column::ProfileId)
                    .from($link::Entity)
                    .and_where($link::Column::$link_column.eq(row.id))
                    .to_owned();
                Condition::all().add(profile::Column::Id.in_subquery(links))
            }
            fn shown_change(change: &$entity::ActiveModel, row: &$entity::Model) -> bool {
                changes(&change.handle, &row.handle)
            }
        }
    };
}
label!(tag, TagChanges, "tag", TagHandle, profile_tag, TagId);
label!(status, StatusChanges, "status", StatusHandle, profile_status, StatusId);

impl Reference for tier::Entity {
    type Changes = TierChanges;
    const NOUN: &'static str = "tier";
    const ON_DELETE: OnDelete = OnDelete::Refuse;
    const UNIQUE: (Unique, &'static str) = (Unique::TierHandle, "handle");
    fn holders(row: &tier::Model) -> Condition {
        Condition::all().add(profile::Column::TierHandle.eq(row.handle.as_str()))
    }
    fn shown_change(change: &tier::ActiveModel, row: &tier::Model) -> bool {
        changes(&change.handle, &row.handle)
    }
}

impl Reference for location::Entity {
    type Changes = LocationChanges;
    const NOUN: &'static str = "location";
    const ON_DELETE: OnDelete = OnDelete::Refuse;
    const UNIQUE: (Unique, &'static str) = (Unique::LocationExternalId, "externalId");
    fn holders(row: &location::Model) -> Condition {
        Condition::any()
            .add(profile::Column::PreferredLocationId.eq(row.id))
            .add(profile::Column::JoinedLocationId.eq(row.id))
    }
    fn shown_change(change: &location::ActiveModel, row: &location::Model) -> bool {
        changes(&change.external_id, &row.external_id)
    }
}

fn unique<E: Reference>() -> [(Unique, Path); 1] {
    [(E::UNIQUE.0, Path::root("input").key(E::UNIQUE.1))]
}

/// Creates a record; a value already in use is TAKEN.
pub(crate) async fn create<E>(db: &Services, changes: E::Changes, problems: Problems) -> Result<E::Model>
where
    E: Reference,
{
    problems.finish(())?;
    let columns = changes.columns();
    let txn = Write::begin(db).await?;
    let row = stamped(columns, true, txn.now()).insert(txn.conn()).await.map_err(|err| taken(err, &unique::<E>()))?;
    txn.commit().await?;
    Ok(row)
}

async fn find<E>(txn: &sea_orm::DatabaseTransaction, id: i32) -> Result<E::Model>
where
    E: Reference,
{
    // Locked until commit: writes that check this record first lock it to share
    // (see `checks`), so neither can act on a stale view of the other.
    E::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| Error::user(&Path::root("id"), UserErrorCode::NotFound, format!("no {} has this id", E::NOUN)))
}

/// Changes record `id` as `changes` says.
pub(crate) async fn update<E>(db: &Services, id: i32, changes: E::Changes, problems: Problems) -> Result<E::Model>
where
    E: Reference,
{
    let mut columns = changes.columns();
    let mut txn = Write::begin(db).await?;
    let current = find::<E>(txn.conn(), id).await?;
    problems.finish(())?;
    if E::shown_change(&columns, &current) {
        txn.touch_many(E::holders(&current)).await?;
    } else if columns.is_changed() {
        // The profiles do not change (no version, no event), but the event context
        // holds the whole record: deferred contexts take the one it has now.
        txn.settle(E::holders(&current)).await?;
    }
    let row = if columns.is_changed() {
        for key in <E::PrimaryKey as sea_orm::Iterable>::iter() {
            columns.set(sea_orm::PrimaryKeyToColumn::into_column(key), id.into());
        }
        stamped(columns, false, txn.now()).update(txn.conn()).await.map_err(|err| taken(err, &unique::<E>()))?
    } else {
        current
    };
    txn.commit().await?;
    Ok(row)
}

/// Deletes a record, detaching it from profiles or refusing while they use it.
pub(crate) async fn delete<E>(db: &Services, id: i32) -> Result<i32>
where
    E: Reference,
{
    let mut txn = Write::begin(db).await?;
    let current = find::<E>(txn.conn(), id).await?;
    match E::ON_DELETE {
        OnDelete::Detach => txn.touch_many(E::holders(&current)).await?,
        OnDelete::Refuse => {
            // Deleted profiles count: restoring one brings its tier and locations back.
            let users = profile::Entity::find().filter(E::holders(&current)).count(txn.conn()).await?;
            if users > 0 {
                let message = format!("{users} profile(s) use this {}; change them first", E::NOUN);
                return Err(Error::user(&Path::root("id"), UserErrorCode::InUse, message));
            }
        }
    }
    current.into_active_model().delete(txn.conn()).await?;
    txn.commit().await?;
    Ok(id)
}

/// `columns` with `updated_at` (and, for a new record, `created_at`) set to `now`.
fn stamped<A: ActiveModelTrait>(mut columns: A, created: bool, now: DateTime<Utc>) -> A
where
    A::Entity: EntityTrait,
{
    use sea_orm::Iterable;
    for column in <A::Entity as EntityTrait>::Column::iter() {
        let name = sea_orm::IdenStatic::as_str(&column);
        if name == "updated_at" || (created && name == "created_at") {
            columns.set(column, now.into());
        }
    }
    columns
}

/// For tests and fixtures: a tier, created as `createTier` would.
pub async fn create_tier(db: &Services, handle: &str, name: &str, rank: i32) -> Result<tier::Model> {
    let row = TierChanges { handle: Patch::Set(handle.into()), name: Patch::Set(name.into()), rank: Patch::Set(rank) };
    create::<tier::Entity>(db, row, Problems::default()).await
}

/// For tests and fixtures: a status, created as `createStatus` would.
pub async fn create_status(db: &Services, handle: &str, name: &str, rank: i32) -> Result<status::Model> {
    let row =
        StatusChanges { handle: Patch::Set(handle.into()), name: Patch::Set(name.into()), rank: Patch::Set(rank) };
    create::<status::Entity>(db, row, Problems::default()).await
}

/// For tests and fixtures: a location, created as `createLocation` would.
pub async fn create_location(
    db: &Services,
    name: &str,
    external_id: Option<&str>,
    external_code: Option<&str>,
) -> Result<location::Model> {
    let row = LocationChanges {
        name: Patch::Set(name.into()),
        external_id: Patch::Set(external_id.map(str::to_owned)),
        external_code: Patch::Set(external_code.map(str::to_owned)),
    };
    create::<location::Entity>(db, row, Problems::default()).await
}
