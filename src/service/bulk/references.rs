//! The reference records a wave's rows name by natural key (integer ids never link
//! across databases), found in this database or — when a row embeds a missing one whole
//! — created, in the wave's transaction. Tiers, statuses and tags are found by handle;
//! locations by `external_id`, else by a `name` exactly one location has. An existing
//! record is kept as it is, never overwritten; one that a row describes differently is
//! named in the import's [`Kept`] list.
//!
//! Creating is insert-if-missing (`ON CONFLICT DO NOTHING` on the unique handle or
//! external id), so two imports racing to create one record both find it afterwards.
//! A location without an external id has no unique key: on PostgreSQL, creating one by
//! name first takes a transaction-scoped advisory lock, so two imports cannot both
//! create it (SQLite's writers take turns anyway).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{location, status, tag, tier};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    QueryFilter,
};

use super::row::{ImportRow, LocationGiven, RankedGiven};
use crate::domain::tag::normalize_handle;
use crate::domain::validate::{Problems, UserErrorCode};
use crate::service::error::Result;
use crate::service::profiles::checks::LocationRef;

/// The reference records rows described otherwise than this database has them, each
/// named once (`tier `gold``): kept as they are, never overwritten.
pub(crate) type Kept = BTreeSet<String>;

/// Finds (or creates) the reference records `rows` name and points each row's draft
/// at this database's locations. Returns the problems of the rows that name what
/// cannot be found, by index: they fail, and write nothing of their own.
pub(super) async fn settle(
    db: &DatabaseTransaction,
    rows: &mut [(usize, &mut ImportRow)],
    now: DateTime<Utc>,
    kept: &mut Kept,
) -> Result<BTreeMap<usize, Problems>> {
    let tiers: Vec<&RankedGiven> = rows.iter().filter_map(|(_, row)| row.references.tier.as_ref()).collect();
    ranked::<tier::Entity>(db, &tiers, now, kept).await?;
    let statuses: Vec<&RankedGiven> = rows.iter().flat_map(|(_, row)| &row.references.statuses).collect();
    ranked::<status::Entity>(db, &statuses, now, kept).await?;
    tags(db, rows, kept).await?;
    locations(db, rows, now, kept).await
}

/// Tiers and statuses: records with a unique handle, a name and a rank.
trait Ranked: EntityTrait<ActiveModel: ActiveModelTrait<Entity = Self> + Send> {
    /// What one is called in the kept list.
    const NOUN: &'static str;
    fn handle() -> Self::Column;
    fn new(given: &RankedGiven, now: DateTime<Utc>) -> Self::ActiveModel;
    /// Its handle, name and rank.
    fn describes(model: &Self::Model) -> (&str, &str, i32);
}

macro_rules! ranked {
    ($entity:ident, $noun:literal) => {
        impl Ranked for $entity::Entity {
            const NOUN: &'static str = $noun;
            fn handle() -> $entity::Column {
                $entity::Column::Handle
            }
            fn new(given: &RankedGiven, now: DateTime<Utc>) -> $entity::ActiveModel {
                $entity::ActiveModel {
                    handle: Set(given.handle.clone()),
                    name: Set(given.name.clone()),
                    rank: Set(given.rank),
                    created_at: Set(given.stamp.created_at.unwrap_or(now)),
                    updated_at: Set(given.stamp.updated_at.unwrap_or(now)),
                    ..Default::default()
                }
            }
            fn describes(model: &$entity::Model) -> (&str, &str, i32) {
                (&model.handle, &model.name, model.rank)
            }
        }
    };
}
ranked!(tier, "tier");
ranked!(status, "status");

/// Creates the `given` records no record has the handle of (the first row's wins), and
/// names the existing ones a row describes otherwise.
async fn ranked<E: Ranked>(
    db: &DatabaseTransaction,
    given: &[&RankedGiven],
    now: DateTime<Utc>,
    kept: &mut Kept,
) -> Result<()> {
    if given.is_empty() {
        return Ok(());
    }
    let mut first: BTreeMap<&str, &RankedGiven> = BTreeMap::new();
    for record in given {
        first.entry(record.handle.as_str()).or_insert(record);
    }
    E::insert_many(first.values().map(|record| E::new(record, now)))
        .on_conflict(OnConflict::column(E::handle()).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    for model in E::find().filter(E::handle().is_in(first.keys().copied())).all(db).await? {
        let (handle, name, rank) = E::describes(&model);
        if given.iter().any(|g| g.handle == handle && (g.name != name || g.rank != rank)) {
            kept.insert(format!("{} `{handle}`", E::NOUN));
        }
    }
    Ok(())
}

/// Names the existing tags a row gives another name (tags are created as they are
/// attached, as the mutations create them).
async fn tags(db: &DatabaseTransaction, rows: &[(usize, &mut ImportRow)], kept: &mut Kept) -> Result<()> {
    let named: BTreeSet<(String, &str)> = rows
        .iter()
        .flat_map(|(_, row)| &row.tags)
        .filter(|tag| tag.named)
        .map(|tag| (normalize_handle(&tag.handle), tag.name.trim()))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let handles: BTreeSet<&str> = named.iter().map(|(handle, _)| handle.as_str()).collect();
    for existing in tag::Entity::find().filter(tag::Column::Handle.is_in(handles)).all(db).await? {
        if named.iter().any(|(handle, name)| *handle == existing.handle && *name != existing.name) {
            kept.insert(format!("tag `{}`", existing.handle));
        }
    }
    Ok(())
}

/// Points each row's draft at the locations it names, made first when embedded whole
/// and missing; the problems of rows whose locations cannot be found, by index.
async fn locations(
    db: &DatabaseTransaction,
    rows: &mut [(usize, &mut ImportRow)],
    now: DateTime<Utc>,
    kept: &mut Kept,
) -> Result<BTreeMap<usize, Problems>> {
    let given: Vec<&LocationGiven> = rows
        .iter()
        .flat_map(|(_, row)| [&row.references.preferred_location, &row.references.joined_location])
        .flatten()
        .collect();
    let mut failed = BTreeMap::new();
    if given.is_empty() {
        return Ok(failed);
    }
    let mut found = find(db, &given).await?;
    if create_missing(db, &given, &found, now).await? {
        found = find(db, &given).await?;
    }
    for (index, row) in rows.iter_mut() {
        let mut problems = Problems::default();
        let (references, draft) = (&row.references, &mut row.draft);
        for (given, slot) in [
            (&references.preferred_location, &mut draft.preferred_location),
            (&references.joined_location, &mut draft.joined_location),
        ] {
            let Some(given) = given else { continue };
            if let Some(location) = named(&found, given, &mut problems) {
                if given.whole && describes_otherwise(given, location) {
                    kept.insert(format!("location `{}`", location.external_id.as_ref().unwrap_or(&location.name)));
                }
                *slot = Some(LocationRef::Id(location.id));
            }
        }
        if !problems.is_empty() {
            failed.insert(*index, problems);
        }
    }
    Ok(failed)
}

/// The locations any of `given` names, by external id or (for those without) by name.
async fn find(db: &DatabaseTransaction, given: &[&LocationGiven]) -> Result<Vec<location::Model>> {
    let external_ids: BTreeSet<&str> = given.iter().filter_map(|g| g.external_id.as_deref()).collect();
    let names: BTreeSet<&str> =
        given.iter().filter(|g| g.external_id.is_none()).filter_map(|g| g.name.as_deref()).collect();
    let mut any = Condition::any();
    if !external_ids.is_empty() {
        any = any.add(location::Column::ExternalId.is_in(external_ids));
    }
    if !names.is_empty() {
        any = any.add(location::Column::Name.is_in(names));
    }
    Ok(location::Entity::find().filter(any).all(db).await?)
}

/// Creates the locations embedded whole that `found` lacks (the first row's wins);
/// whether it created any.
async fn create_missing(
    db: &DatabaseTransaction,
    given: &[&LocationGiven],
    found: &[location::Model],
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut by_external_id: BTreeMap<&str, &LocationGiven> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, &LocationGiven> = BTreeMap::new();
    for g in given.iter().filter(|g| g.whole) {
        match (g.external_id.as_deref(), g.name.as_deref()) {
            (Some(id), _) if !found.iter().any(|l| l.external_id.as_deref() == Some(id)) => {
                by_external_id.entry(id).or_insert(g);
            }
            (None, Some(name)) if !found.iter().any(|l| l.name == name) => {
                by_name.entry(name).or_insert(g);
            }
            _ => {}
        }
    }
    if by_external_id.is_empty() && by_name.is_empty() {
        return Ok(false);
    }
    if !by_external_id.is_empty() {
        location::Entity::insert_many(by_external_id.values().map(|g| new_location(g, now)))
            .on_conflict(OnConflict::column(location::Column::ExternalId).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    if !by_name.is_empty() {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            // Held until the wave commits: another import creating a location by name
            // waits here, then finds this one's.
            db.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('profiles-gateway: location by name'))")
                .await?;
            let named = location::Entity::find().filter(location::Column::Name.is_in(by_name.keys().copied()));
            for location in named.all(db).await? {
                by_name.remove(location.name.as_str());
            }
        }
        if !by_name.is_empty() {
            location::Entity::insert_many(by_name.values().map(|g| new_location(g, now)))
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(true)
}

fn new_location(given: &LocationGiven, now: DateTime<Utc>) -> location::ActiveModel {
    location::ActiveModel {
        name: Set(given.name.clone().unwrap_or_default()),
        external_id: Set(given.external_id.clone()),
        external_code: Set(given.external_code.clone()),
        created_at: Set(given.stamp.created_at.unwrap_or(now)),
        updated_at: Set(given.stamp.updated_at.unwrap_or(now)),
        ..Default::default()
    }
}

/// The location `given` names among `found`: the one with its external id, else the
/// one location with its name (NOT_FOUND when none, INVALID when several share it).
fn named<'a>(
    found: &'a [location::Model],
    given: &LocationGiven,
    problems: &mut Problems,
) -> Option<&'a location::Model> {
    if let Some(id) = &given.external_id {
        let location = found.iter().find(|l| l.external_id.as_ref() == Some(id));
        if location.is_none() {
            let message = format!("no location has the external id `{id}`");
            problems.add(&given.external_id_path, UserErrorCode::NotFound, message);
        }
        return location;
    }
    let name = given.name.as_deref().unwrap_or_default();
    match found.iter().filter(|l| l.name == name).collect::<Vec<_>>().as_slice() {
        [location] => Some(location),
        [] => {
            problems.add(&given.name_path, UserErrorCode::NotFound, format!("no location is named `{name}`"));
            None
        }
        many => {
            let message = format!("{} locations are named `{name}`: name it by its `external_id`", many.len());
            problems.add(&given.name_path, UserErrorCode::Invalid, message);
            None
        }
    }
}

/// Whether a row's whole location differs from the record it names.
fn describes_otherwise(given: &LocationGiven, location: &location::Model) -> bool {
    given.name.as_deref() != Some(location.name.as_str())
        || given.external_id != location.external_id
        || given.external_code != location.external_code
}
