//! An import's updates: what a row changes of the profile it matched (only the
//! values that differ; nothing makes it `UNCHANGED`), checked as `updateProfile`
//! checks, then written in a savepoint.

use std::collections::BTreeSet;

use entity::{
    address, appearance, comms, identity, profile, profile_date, profile_status, profile_tag, status, tag, tier,
};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IdenStatic, Iterable, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::create::{create_tags, failed, new_profile};
use super::row::{ImportRow, Outcome, Status, TagGiven};
use crate::domain::tag::normalize_handle;
use crate::domain::validate::{Path, Problems, UserErrorCode};
use crate::service::draft::Columns;
use crate::service::error::{Error, Result};
use crate::service::profiles::checks;
use crate::service::profiles::create::{NewProfile, attach_statuses, attach_tags};
use crate::service::profiles::lifecycle::{self, ProfileCreate};
use crate::service::profiles::read::Planned;
use crate::service::write::Write;

/// Whether a column is the record's own bookkeeping rather than its data.
fn bookkeeping(column: &str) -> bool {
    matches!(column, "id" | "profile_id" | "created_at" | "updated_at" | "version")
}

/// `changes` with only the columns whose value differs from `current`'s.
fn differing<A: ActiveModelTrait>(mut changes: A, current: &<A::Entity as EntityTrait>::Model) -> A {
    for column in <<A::Entity as EntityTrait>::Column as Iterable>::iter() {
        if let Set(value) = changes.get(column)
            && (bookkeeping(column.as_str()) || current.get(column) == value)
        {
            changes.not_set(column);
        }
    }
    changes
}

/// Whether `new` rows (columns not set take their defaults) hold what `current` rows
/// hold, in order, bookkeeping aside.
fn same_rows<A>(new: &[A], current: &[<A::Entity as EntityTrait>::Model]) -> bool
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::Model: Default,
{
    let blank = <A::Entity as EntityTrait>::Model::default();
    new.len() == current.len()
        && new.iter().zip(current).all(|(new, current)| {
            <<A::Entity as EntityTrait>::Column as Iterable>::iter().all(|column| {
                let value = match new.get(column) {
                    Set(value) | Unchanged(value) => value,
                    NotSet => blank.get(column),
                };
                bookkeeping(column.as_str()) || current.get(column) == value
            })
        })
}

/// What an update changes of a matched profile: the row's values that differ from it.
pub(super) struct Update<'a> {
    pub(super) current: &'a Planned,
    new: NewProfile,
    columns: profile::ActiveModel,
    statuses: Vec<String>,
    given_tags: Vec<TagGiven>,
    addresses: bool,
    dates: bool,
    identities: bool,
    tags: bool,
    statuses_changed: bool,
    comms: comms::ActiveModel,
    appearance: appearance::ActiveModel,
    problems: Problems,
}

/// What a row does to the profile it matched.
pub(super) enum RowChange<'a> {
    /// Nothing: the row is `UNCHANGED`.
    Unchanged,
    Update(Box<Update<'a>>),
}

/// What the row changes of the matched profile `current`. Reads, never writes.
pub(super) async fn changes<'a>(write: &Write, row: ImportRow, current: &'a Planned) -> Result<RowChange<'a>> {
    let ImportRow { draft, given, stamps, tags: given_tags, .. } = row;
    let ProfileCreate { new, preferred_location, joined_location, mut problems } = draft;
    let id = current.model.id;
    let r = &current.relations;
    let input = Path::root("input");
    let db = write.conn();

    let mut columns = differing(new.profile.clone().columns(), &current.model);
    let [preferred, joined] =
        lifecycle::locations(db, &preferred_location, &joined_location, &input, &mut problems).await?;
    if preferred_location.is_some() && preferred != current.model.preferred_location_id {
        columns.preferred_location_id = Set(preferred);
    }
    if joined_location.is_some() && joined != current.model.joined_location_id {
        columns.joined_location_id = Set(joined);
    }
    let statuses = new.statuses.clone();
    let new = new_profile(new, id, &stamps, write.now());
    let handles = |list: &[String]| list.iter().map(|h| normalize_handle(h)).collect::<BTreeSet<_>>();
    let addresses = given.addresses && !same_rows(&new.addresses, r.addresses.as_deref().unwrap_or_default());
    let dates = given.dates && !same_rows(&new.dates, r.dates.as_deref().unwrap_or_default());
    let identities = given.identities && !same_rows(&new.identities, r.identities.as_deref().unwrap_or_default());
    let current_tags: BTreeSet<String> = r.tags.iter().flatten().map(|t| t.handle.clone()).collect();
    let tags = given.tags && handles(&new.tags) != current_tags;
    let current_statuses: BTreeSet<String> = r.statuses.iter().flatten().map(|s| s.handle.clone()).collect();
    let statuses_changed = given.statuses && statuses.iter().cloned().collect::<BTreeSet<_>>() != current_statuses;
    let comms = match r.comms.as_ref().and_then(Option::as_ref) {
        Some(current) => differing(new.comms.clone(), current),
        None => new.comms.clone(),
    };
    let appearance = match r.appearance.as_ref().and_then(Option::as_ref) {
        Some(current) => differing(new.appearance.clone(), current),
        None => new.appearance.clone(),
    };
    let changed = columns.is_changed()
        || addresses
        || dates
        || identities
        || tags
        || statuses_changed
        || comms.is_changed()
        || appearance.is_changed();
    if !changed && problems.is_empty() {
        return Ok(RowChange::Unchanged);
    }
    Ok(RowChange::Update(Box::new(Update {
        current,
        new,
        columns,
        statuses,
        given_tags,
        addresses,
        dates,
        identities,
        tags,
        statuses_changed,
        comms,
        appearance,
        problems,
    })))
}

/// The statuses and tiers a wave's updates name that exist, read as they are locked.
pub(super) struct Known {
    statuses: BTreeSet<String>,
    tiers: BTreeSet<String>,
}

/// Locks what the wave's `updates` will link or check, before any of their profiles:
/// the existing tags for update, statuses and tiers to share, each kind in handle
/// order, as a write of one profile does (see `create::lock_tags`). Tags that do not
/// exist yet are made when their row is written.
pub(super) async fn lock_references(db: &DatabaseTransaction, updates: &[&Update<'_>]) -> Result<Known> {
    let tags: BTreeSet<String> =
        updates.iter().filter(|u| u.tags).flat_map(|u| u.new.tags.iter().map(|h| normalize_handle(h))).collect();
    if !tags.is_empty() {
        let _: Vec<i32> = tag::Entity::find()
            .select_only()
            .column(tag::Column::Id)
            .filter(tag::Column::Handle.is_in(tags))
            .order_by_asc(tag::Column::Handle)
            .lock_exclusive()
            .into_tuple()
            .all(db)
            .await?;
    }
    let statuses = updates.iter().filter(|u| u.statuses_changed).flat_map(|u| u.statuses.iter().map(String::as_str));
    let statuses = checks::known::<status::Entity>(db, status::Column::Handle, statuses).await?;
    let tiers = updates.iter().filter_map(|u| match &u.columns.tier_handle {
        Set(Some(handle)) => Some(handle.as_str()),
        _ => None,
    });
    let tiers = checks::known::<tier::Entity>(db, tier::Column::Handle, tiers).await?;
    Ok(Known { statuses, tiers })
}

/// Makes `update` in a savepoint, after the checks `updateProfile` makes on what
/// changes. The profile's deferred events must be settled already: [`run_wave`]
/// settles the wave's at once.
pub(super) async fn update_one(write: &mut Write, update: Box<Update<'_>>, known: &Known) -> Result<Outcome> {
    let mut u = *update;
    let id = u.current.model.id;
    let input = Path::root("input");
    let db = write.conn();

    // The checks `updateProfile` makes, on what changes.
    let now = write.now();
    let today = now.date_naive();
    lifecycle::changed_columns_valid(db, &u.columns, &u.current.model, today, &input, &mut u.problems).await?;
    // Against what the wave found as it locked them, before its profiles.
    if let Set(Some(tier)) = &u.columns.tier_handle {
        checks::unknown_tier(&known.tiers, tier, &input.key("tierHandle"), &mut u.problems);
    }
    if u.statuses_changed {
        let paths: Vec<(Path, String)> =
            u.statuses.iter().enumerate().map(|(i, h)| (input.key("statuses").index(i), h.clone())).collect();
        checks::unknown_statuses(&known.statuses, &paths, &mut u.problems);
    }
    if u.identities {
        for (i, identity) in u.new.identities.iter().enumerate() {
            if let (Set(handle), Set(identifier)) = (&identity.handle, &identity.identifier) {
                let path = input.key("identities").index(i).key("identifier");
                // Its own identities are replaced: only another profile's is taken.
                let other = identity::Entity::find()
                    .filter(identity::Column::Handle.eq(handle.as_str()))
                    .filter(identity::Column::Identifier.eq(identifier.as_str()))
                    .filter(identity::Column::ProfileId.ne(id))
                    .one(db)
                    .await?;
                if other.is_some() {
                    let message = format!("another identity is `{handle}` `{identifier}`");
                    u.problems.add(&path, UserErrorCode::Taken, message);
                }
            }
        }
    }
    if !u.problems.is_empty() {
        return Ok(Outcome::failed(u.problems.into_errors()));
    }
    if u.tags {
        let objects: Vec<&TagGiven> = u.given_tags.iter().collect();
        create_tags(db, &objects, now).await?;
    }

    let mut savepoint = write.savepoint().await?;
    let written = async {
        let mut bumped = savepoint
            .touch(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("profile {id} was deleted during the import")))?;
        let db = savepoint.conn();
        if u.columns.is_changed() {
            bumped = lifecycle::write_columns(db, id, u.columns).await?;
        }
        if u.addresses {
            replace(db, address::Column::ProfileId, id, u.new.addresses).await?;
        }
        if u.dates {
            replace(db, profile_date::Column::ProfileId, id, u.new.dates).await?;
        }
        if u.identities {
            replace(db, identity::Column::ProfileId, id, u.new.identities).await?;
        }
        if u.tags {
            profile_tag::Entity::delete_many().filter(profile_tag::Column::ProfileId.eq(id)).exec(db).await?;
            let wanted: Vec<(Uuid, String)> = u.new.tags.iter().map(|h| (id, h.clone())).collect();
            attach_tags(db, &wanted, now).await?;
        }
        if u.statuses_changed {
            profile_status::Entity::delete_many().filter(profile_status::Column::ProfileId.eq(id)).exec(db).await?;
            let wanted: Vec<(Uuid, String)> = u.statuses.iter().map(|h| (id, h.clone())).collect();
            attach_statuses(db, &wanted, now).await?;
        }
        if u.comms.is_changed() {
            comms::ActiveModel { profile_id: Unchanged(id), updated_at: Set(now), ..u.comms }.update(db).await?;
        }
        if u.appearance.is_changed() {
            appearance::ActiveModel { profile_id: Unchanged(id), updated_at: Set(now), ..u.appearance }
                .update(db)
                .await?;
        }
        Ok::<_, Error>(bumped)
    }
    .await;
    match written {
        Ok(profile) => {
            savepoint.release().await?;
            Ok(Outcome { status: Status::Updated, profile: Some(profile), errors: Vec::new() })
        }
        Err(err) => {
            savepoint.rollback().await?;
            failed(err)
        }
    }
}

/// Replaces the records of profile `id` in `E` by `rows`.
async fn replace<A>(
    db: &DatabaseTransaction,
    owner: <A::Entity as EntityTrait>::Column,
    id: Uuid,
    rows: Vec<A>,
) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    A::Entity::delete_many().filter(owner.eq(id)).exec(db).await?;
    let rows: Vec<A> = rows
        .into_iter()
        .map(|mut row| {
            row.set(owner, id.into());
            row
        })
        .collect();
    if !rows.is_empty() {
        A::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::profile;

    #[test]
    fn only_columns_that_differ_stay_set() {
        let current = profile::Model { first_name: Some("Ann".into()), ..Default::default() };
        let changes = profile::ActiveModel {
            first_name: Set(Some("Ann".into())),
            last_name: Set(Some("Lee".into())),
            ..Default::default()
        };
        let left = differing(changes, &current);
        assert_eq!(left.first_name, NotSet);
        assert_eq!(left.last_name, Set(Some("Lee".into())));
    }
}
