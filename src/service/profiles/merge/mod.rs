//! Merging duplicate profiles into a survivor (SPEC §9): one function, [`merge`], runs
//! the merge in a [`Write`] and commits it (`mergeProfiles`) or rolls it back
//! (`previewMerge`): the preview is the merge, undone.
//!
//! Locks: the reference records the profiles hold (shared), then every profile of the
//! merge in id order, then their waiting events (as each is held): the one lock order,
//! so crossing merges wait for each other rather than deadlock. The rules are in
//! [`rules`] (no I/O), the statements in [`apply`], the record in [`record`].

mod apply;
pub(crate) mod record;
pub(crate) mod rules;

use std::collections::{BTreeSet, HashMap};

use entity::enums::ProfileType;
use entity::{location, profile, profile_status, profile_tag, status, tag, tier};
use sea_orm::sea_query::{IntoCondition, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use self::record::MergeRecord;
use self::rules::{AttributeKey, FieldChoice, MergeField, Moves, SourceKey};
use crate::domain::validate::{Path, Problems, UserErrorCode};
use crate::service::error::{Error, Result};
use crate::service::profiles::read::{self, Planned, Selection};
use crate::service::runtime::Services;
use crate::service::write::Write;

/// Most duplicates one merge takes.
pub(crate) const MAX_DUPLICATES: usize = 4;

/// "Take this field from that profile."
#[derive(Clone, Debug)]
pub(crate) struct FieldSource {
    pub field: MergeField,
    pub profile_id: Uuid,
    /// The attribute, for `CUSTOM_ATTRIBUTE` (only there).
    pub custom_attribute: Option<AttributeKey>,
}

/// A merge as the caller asks for it.
#[derive(Clone, Debug)]
pub(crate) struct MergeInput {
    pub survivor_id: Uuid,
    pub duplicate_ids: Vec<Uuid>,
    pub field_sources: Vec<FieldSource>,
    /// `(id, version)`: the merge fails with VERSION_CONFLICT unless each matches.
    pub expected_versions: Vec<(Uuid, i32)>,
}

/// Commit the merge, or undo it once worked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Preview,
    Commit,
}

/// What a merge did (or, previewed, would do).
#[derive(Clone, Debug)]
pub(crate) struct Merged {
    /// The survivor after the merge, with everything it holds.
    pub survivor: Planned,
    /// The record (for a preview, the one it would write).
    pub record: MergeRecord,
    pub fields: Vec<FieldChoice>,
    pub moves: Moves,
    /// The version of each profile the merge read (survivor first).
    pub versions: Vec<(Uuid, i32)>,
}

/// The merge's result: done now, or done before (a repeated merge writes nothing).
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Merged(Box<Merged>),
    Repeated(MergeRecord),
}

fn input() -> Path {
    Path::root("input")
}

/// The problems of the input's shape, found without the database.
fn shape(merge: &MergeInput) -> Problems {
    let mut problems = Problems::default();
    let count = merge.duplicate_ids.len();
    if count == 0 || count > MAX_DUPLICATES {
        let message = format!("name 1 to {MAX_DUPLICATES} duplicates, not {count}");
        problems.add(&input().key("duplicateIds"), UserErrorCode::TooManyDuplicates, message);
    }
    let mut seen = BTreeSet::from([merge.survivor_id]);
    for (i, id) in merge.duplicate_ids.iter().enumerate() {
        if !seen.insert(*id) {
            let message = if *id == merge.survivor_id { "is the survivor" } else { "is named twice" };
            problems.add(&input().key("duplicateIds").index(i), UserErrorCode::SameProfile, message);
        }
    }
    let mut named = BTreeSet::new();
    for (i, source) in merge.field_sources.iter().enumerate() {
        let path = input().key("fieldSources").index(i);
        if !seen.contains(&source.profile_id) {
            let message = "is not a profile of this merge";
            problems.add(&path.key("profileId"), UserErrorCode::FieldSourceInvalid, message);
        }
        match (source.field, &source.custom_attribute) {
            (MergeField::CustomAttribute, None) => {
                let message = "name the attribute for CUSTOM_ATTRIBUTE";
                problems.add(&path.key("customAttribute"), UserErrorCode::FieldSourceInvalid, message);
            }
            (MergeField::CustomAttribute, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                let message = "is given only with CUSTOM_ATTRIBUTE";
                problems.add(&path.key("customAttribute"), UserErrorCode::FieldSourceInvalid, message);
            }
        }
        if !named.insert((source.field, source.custom_attribute.clone())) {
            problems.add(&path.key("field"), UserErrorCode::FieldSourceInvalid, "is named by an earlier source");
        }
    }
    for (i, (id, _)) in merge.expected_versions.iter().enumerate() {
        if !seen.contains(id) {
            let message = "is not a profile of this merge";
            problems.add(&input().key("expectedVersions").index(i).key("id"), UserErrorCode::Invalid, message);
        }
    }
    problems
}

/// The path at which the input names profile `at` (0: the survivor).
fn named_at(at: usize) -> Path {
    match at {
        0 => input().key("survivorId"),
        n => input().key("duplicateIds").index(n - 1),
    }
}

/// Locks, shared until commit, the reference records the profiles `ids` hold (tags,
/// statuses, tier, locations): before the profiles, the one lock order.
async fn lock_references(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    let of = |column: profile::Column| {
        Query::select()
            .column(column)
            .from(profile::Entity)
            .and_where(profile::Column::Id.is_in(ids.to_vec()))
            .to_owned()
    };
    let tag_ids = Query::select()
        .column(profile_tag::Column::TagId)
        .from(profile_tag::Entity)
        .and_where(profile_tag::Column::ProfileId.is_in(ids.to_vec()))
        .to_owned();
    share::<tag::Entity>(db, tag::Column::Id, tag::Column::Id.in_subquery(tag_ids)).await?;
    let status_ids = Query::select()
        .column(profile_status::Column::StatusId)
        .from(profile_status::Entity)
        .and_where(profile_status::Column::ProfileId.is_in(ids.to_vec()))
        .to_owned();
    share::<status::Entity>(db, status::Column::Id, status::Column::Id.in_subquery(status_ids)).await?;
    share::<tier::Entity>(db, tier::Column::Id, tier::Column::Handle.in_subquery(of(profile::Column::TierHandle)))
        .await?;
    let locations = Condition::any()
        .add(location::Column::Id.in_subquery(of(profile::Column::PreferredLocationId)))
        .add(location::Column::Id.in_subquery(of(profile::Column::JoinedLocationId)));
    share::<location::Entity>(db, location::Column::Id, locations).await
}

/// Locks the rows of a reference table that `condition` selects, shared until commit,
/// in the order of their integer `id`.
async fn share<E: EntityTrait>(db: &impl ConnectionTrait, id: E::Column, condition: impl IntoCondition) -> Result<()> {
    let _: Vec<i32> = E::find()
        .select_only()
        .column(id)
        .filter(condition)
        .order_by_asc(id)
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?;
    Ok(())
}

/// NOT_FOUND, ALREADY_MERGED or PROFILE_DELETED for each profile of the merge that
/// cannot take part, at the path that names it.
async fn standing(db: &impl ConnectionTrait, ids: &[Uuid], problems: &mut Problems) -> Result<()> {
    let rows: Vec<(Uuid, ProfileType, Option<Uuid>)> = profile::Entity::find()
        .select_only()
        .columns([profile::Column::Id, profile::Column::ProfileType, profile::Column::MergedInto])
        .filter(profile::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let found: HashMap<Uuid, (ProfileType, Option<Uuid>)> =
        rows.into_iter().map(|(id, kind, into)| (id, (kind, into))).collect();
    for (at, id) in ids.iter().enumerate() {
        match found.get(id) {
            None => problems.add(&named_at(at), UserErrorCode::NotFound, "no such profile"),
            Some((_, Some(survivor))) => {
                let message = format!("was merged into profile {survivor}");
                problems.add(&named_at(at), UserErrorCode::AlreadyMerged, message);
            }
            Some((ProfileType::Deleted, None)) => {
                problems.add(&named_at(at), UserErrorCode::ProfileDeleted, "is deleted; restore it first")
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Runs the merge `merge` and commits it, or (`Mode::Preview`) rolls it back. Every
/// problem comes back at once as user errors, and nothing is written; a merge that
/// already happened is [`Outcome::Repeated`] (a preview of one is ALREADY_MERGED).
pub(crate) async fn merge(db: &Services, merge: MergeInput, mode: Mode) -> Result<Outcome> {
    let problems = shape(&merge);
    if !problems.is_empty() {
        return Err(problems.into_errors().into());
    }
    let ids: Vec<Uuid> = std::iter::once(merge.survivor_id).chain(merge.duplicate_ids.iter().copied()).collect();
    let mut write = Write::begin(db).await?;
    lock_references(write.conn(), &ids).await?;
    write.lock(profile::Column::Id.is_in(ids.iter().copied())).await?;

    // Locked first: a repeat that waited for the merge it repeats sees its record.
    if let Some(done) = record::repeated(write.conn(), merge.survivor_id, &merge.duplicate_ids).await? {
        write.rollback().await?;
        if mode == Mode::Preview {
            let message = format!("these profiles were merged into the survivor already (merge {})", done.id);
            return Err(Error::user(&input().key("duplicateIds"), UserErrorCode::AlreadyMerged, message));
        }
        return Ok(Outcome::Repeated(done));
    }
    let mut problems = Problems::default();
    standing(write.conn(), &ids, &mut problems).await?;
    if !problems.is_empty() {
        write.rollback().await?;
        return Err(problems.into_errors().into());
    }
    let mut in_order: Vec<(Uuid, usize)> = ids.iter().enumerate().map(|(at, id)| (*id, at)).collect();
    in_order.sort();
    for (id, at) in in_order {
        write.hold(id, None, &named_at(at)).await?;
    }
    let profiles: Vec<Planned> = ids
        .iter()
        .map(|id| write.held(*id).cloned().ok_or_else(|| Error::Invariant(format!("profile {id} was not held"))))
        .collect::<Result<_>>()?;
    let versions: Vec<(Uuid, i32)> = profiles.iter().map(|p| (p.model.id, p.model.version)).collect();
    for (i, (id, expected)) in merge.expected_versions.iter().enumerate() {
        if let Some((_, version)) = versions.iter().find(|(held, _)| held == id).filter(|(_, v)| v != expected) {
            let message = format!("profile {id} is at version {version}, not {expected}; read it again");
            problems.add(
                &input().key("expectedVersions").index(i).key("version"),
                UserErrorCode::VersionConflict,
                message,
            );
        }
    }
    let refs: Vec<&Planned> = profiles.iter().collect();
    let mut sources: HashMap<SourceKey, usize> = HashMap::new();
    for (i, source) in merge.field_sources.iter().enumerate() {
        let Some(at) = ids.iter().position(|id| *id == source.profile_id) else { continue };
        let key = (source.field, source.custom_attribute.clone());
        if !rules::can_give(&refs, at, &key) {
            let path = input().key("fieldSources").index(i).key("profileId");
            problems.add(&path, UserErrorCode::FieldSourceInvalid, "this profile has no address");
        }
        sources.insert(key, at);
    }
    if !problems.is_empty() {
        write.rollback().await?;
        return Err(problems.into_errors().into());
    }

    let plan = rules::plan(&refs, &sources);
    let (fields, moves, released) = (plan.fields.clone(), plan.moves, plan.released.clone());
    apply::apply(&mut write, merge.survivor_id, &merge.duplicate_ids, plan).await?;
    let now = write.now();
    let record =
        record::insert(write.conn(), merge.survivor_id, &merge.duplicate_ids, &fields, moves, &released, now).await?;
    let survivor = read::by_id(write.conn(), merge.survivor_id, &Selection::everything())
        .await?
        .ok_or_else(|| Error::Invariant(format!("the survivor {} cannot be read back", merge.survivor_id)))?;
    match mode {
        Mode::Preview => write.rollback().await?,
        Mode::Commit => {
            write.commit().await?;
        }
    }
    Ok(Outcome::Merged(Box::new(Merged { survivor, record, fields, moves, versions })))
}
