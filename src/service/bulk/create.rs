//! An import's new profiles: checked against the reference data a wave names, given
//! the key they were looked for by, stamped as their rows say, and inserted a wave at
//! a time (one at a time only when that fails).

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use entity::{address, appearance, comms, identity, profile_date, status, tag, tier};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::row::{EXTERNAL, Given, ImportRow, Outcome, Stamp, Stamps, Status, TagGiven};
use crate::domain::tag::normalize_handle;
use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::error::taken;
use crate::service::error::{Error, Result};
use crate::service::profiles::checks;
use crate::service::profiles::create::{NewProfile, NewProfileChanges, insert_rows};
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::profiles::lifecycle::{self, ProfileCreate};
use crate::service::write::Write;

/// The stamps a row gives, over those a new record was given.
fn stamp<A: ActiveModelTrait>(
    row: &mut A,
    stamp: Stamp,
    created: <A::Entity as EntityTrait>::Column,
    updated: <A::Entity as EntityTrait>::Column,
) {
    if let Some(at) = stamp.created_at {
        row.set(created, at.into());
    }
    if let Some(at) = stamp.updated_at {
        row.set(updated, at.into());
    }
}

/// A new profile with what it owns, from a validated row, stamped as the row says.
pub(super) fn new_profile(new: NewProfileChanges, id: Uuid, stamps: &Stamps, now: DateTime<Utc>) -> NewProfile {
    let mut new = new.into_new(id, now);
    new.profile.created_at = stamps.profile.created_at.unwrap_or(new.profile.created_at);
    new.profile.updated_at = stamps.profile.updated_at.unwrap_or(new.profile.updated_at);
    for (row, s) in new.addresses.iter_mut().zip(&stamps.addresses) {
        stamp(row, *s, address::Column::CreatedAt, address::Column::UpdatedAt);
    }
    for (row, s) in new.dates.iter_mut().zip(&stamps.dates) {
        stamp(row, *s, profile_date::Column::CreatedAt, profile_date::Column::UpdatedAt);
    }
    for (row, s) in new.identities.iter_mut().zip(&stamps.identities) {
        stamp(row, *s, identity::Column::CreatedAt, identity::Column::UpdatedAt);
    }
    stamp(&mut new.comms, stamps.comms, comms::Column::CreatedAt, comms::Column::UpdatedAt);
    stamp(&mut new.appearance, stamps.appearance, appearance::Column::CreatedAt, appearance::Column::UpdatedAt);
    new
}

/// Creates the tags rows give as objects that do not exist yet, with their names and
/// stamps (those given as handles are made when attached, named as given).
pub(super) async fn create_tags(db: &impl ConnectionTrait, tags: &[&TagGiven], now: DateTime<Utc>) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut seen = BTreeSet::new();
    let rows: Vec<tag::ActiveModel> = tags
        .iter()
        .filter(|t| seen.insert(normalize_handle(&t.handle)))
        .map(|t| tag::ActiveModel {
            handle: Set(normalize_handle(&t.handle)),
            name: Set(t.name.trim().to_owned()),
            created_at: Set(t.stamp.created_at.unwrap_or(now)),
            updated_at: Set(t.stamp.updated_at.unwrap_or(now)),
            ..Default::default()
        })
        .collect();
    tag::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(tag::Column::Handle).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A failed write as a row's outcome; a failure that is not the row's fault stops the
/// import.
pub(super) fn failed(err: Error) -> Result<Outcome> {
    let err = match err {
        Error::Database(err) => taken(err, &lifecycle::unique_fields(&Path::root("input"))),
        // The profile went away while the import ran: the row's outcome, not the import's.
        Error::NotFound(message) => Error::user(&Path::root("input"), UserErrorCode::NotFound, message),
        err => err,
    };
    match err {
        Error::User(errors) => Ok(Outcome::failed(errors)),
        err => Err(err),
    }
}

/// Reference data a wave's rows name, found in one statement per kind.
struct Known {
    statuses: BTreeSet<String>,
    tiers: BTreeSet<String>,
}

impl Known {
    async fn of<'a>(db: &impl ConnectionTrait, rows: impl Iterator<Item = &'a ProfileCreate> + Clone) -> Result<Known> {
        let statuses = rows.clone().flat_map(|d| d.new.statuses.iter().map(String::as_str));
        let tiers = rows.filter_map(|d| match &d.new.profile.tier_handle {
            Patch::Set(Some(handle)) => Some(handle.as_str()),
            _ => None,
        });
        Ok(Known {
            statuses: checks::known::<status::Entity>(db, status::Column::Handle, statuses).await?,
            tiers: checks::known::<tier::Entity>(db, tier::Column::Handle, tiers).await?,
        })
    }

    /// NOT_FOUND for each status and tier of `draft` that does not exist.
    fn check(&self, draft: &ProfileCreate, problems: &mut Problems) {
        let input = Path::root("input");
        if let Patch::Set(Some(handle)) = &draft.new.profile.tier_handle {
            checks::unknown_tier(&self.tiers, handle, &input.key("tierHandle"), problems);
        }
        let statuses: Vec<(Path, String)> =
            draft.new.statuses.iter().enumerate().map(|(i, h)| (input.key("statuses").index(i), h.clone())).collect();
        checks::unknown_statuses(&self.statuses, &statuses, problems);
    }
}

/// What a new profile holds of the key it was looked for by, when its row does not
/// give it: the email or mobile phone (checked as the mutations check them), the
/// identity; and an `external_id` becomes its primary identity in the system
/// [`EXTERNAL`].
fn holds_key(
    draft: &mut ProfileCreate,
    key: Option<&Key>,
    external_id: Option<String>,
    given: Given,
    problems: &mut Problems,
) {
    let p = &mut draft.new.profile;
    let identity = |handle: &str, identifier: &str, is_primary: bool| crate::service::draft::IdentityChanges {
        handle: Patch::Set(handle.to_owned()),
        identifier: Patch::Set(identifier.trim().to_owned()),
        is_primary: Patch::Set(is_primary),
        is_active: Patch::Set(true),
    };
    match key {
        Some(Key::Email(email)) if p.email == Patch::Keep => {
            p.email = Patch::Set(validate::email(problems, &Path::root("key").key("email"), Some(email)));
        }
        Some(Key::MobilePhone(phone)) if p.mobile_phone == Patch::Keep => {
            p.mobile_phone = Patch::Set(Some(phone.clone()))
        }
        Some(Key::Identity { handle, identifier }) if !given.identities => {
            let at = Path::root("key").key("identity");
            let handle = validate::text(problems, &at.key("handle"), Some(handle), validate::MAX_NAME);
            let identifier = validate::text(problems, &at.key("identifier"), Some(identifier), validate::MAX_TEXT);
            if let (Some(handle), Some(identifier)) = (handle, identifier) {
                draft.new.identities.push(identity(&handle, &identifier, false));
            }
        }
        _ => {}
    }
    if let Some(identifier) = external_id.filter(|_| !given.identities) {
        draft.new.identities.push(identity(EXTERNAL, &identifier, true));
    }
}

/// Creates the wave's new profiles: all in one statement per table when it can, else
/// one at a time so that a failing one fails alone.
pub(super) async fn create_all(
    write: &mut Write,
    rows: Vec<(usize, ImportRow)>,
    outcomes: &mut [Option<Outcome>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let known = Known::of(write.conn(), rows.iter().map(|(_, row)| &row.draft)).await?;
    let mut ready: Vec<(usize, NewProfile)> = Vec::with_capacity(rows.len());
    let mut tags: Vec<TagGiven> = Vec::new();
    for (index, row) in rows {
        let ImportRow { id, mut draft, stamps, tags: given_tags, given, external_id, key, .. } = row;
        let mut problems = std::mem::take(&mut draft.problems);
        holds_key(&mut draft, key.as_ref(), external_id, given, &mut problems);
        known.check(&draft, &mut problems);
        let [preferred, joined] = lifecycle::locations(
            write.conn(),
            &draft.preferred_location,
            &draft.joined_location,
            &Path::root("input"),
            &mut problems,
        )
        .await?;
        if !problems.is_empty() {
            outcomes[index] = Some(Outcome::failed(problems.into_errors()));
            continue;
        }
        let mut new = new_profile(draft.new, id.unwrap_or_else(Uuid::new_v4), &stamps, write.now());
        new.profile.preferred_location_id = preferred.or(new.profile.preferred_location_id);
        new.profile.joined_location_id = joined.or(new.profile.joined_location_id);
        tags.extend(given_tags);
        ready.push((index, new));
    }
    create_tags(write.conn(), &tags.iter().collect::<Vec<_>>(), write.now()).await?;
    let now = write.now();
    let mut savepoint = write.savepoint().await?;
    let all: Vec<NewProfile> = ready.iter().map(|(_, new)| new.clone()).collect();
    match insert_rows(savepoint.conn(), all, now).await {
        Ok(()) => {
            savepoint.created(ready.iter().map(|(_, new)| (new.profile.id, new.profile.version)));
            savepoint.release().await?;
            for (index, new) in ready {
                outcomes[index] =
                    Some(Outcome { status: Status::Created, profile: Some(new.profile), errors: Vec::new() });
            }
        }
        Err(Error::Database(err)) if err.sql_err().is_some() => {
            savepoint.rollback().await?;
            for (index, new) in ready {
                outcomes[index] = Some(create_one(write, new).await?);
            }
        }
        Err(err) => return Err(err),
    }
    Ok(())
}

/// Creates one profile in a savepoint, after checking its unique values.
async fn create_one(write: &mut Write, new: NewProfile) -> Result<Outcome> {
    let mut problems = Problems::default();
    let db = write.conn();
    lifecycle::new_values_free(db, &new, &Path::root("input"), &mut problems).await?;
    if !problems.is_empty() {
        return Ok(Outcome::failed(problems.into_errors()));
    }
    let now = write.now();
    let mut savepoint = write.savepoint().await?;
    let profile = new.profile.clone();
    match insert_rows(savepoint.conn(), vec![new], now).await {
        Ok(()) => {
            savepoint.created([(profile.id, profile.version)]);
            savepoint.release().await?;
            Ok(Outcome { status: Status::Created, profile: Some(profile), errors: Vec::new() })
        }
        Err(err) => {
            savepoint.rollback().await?;
            failed(err)
        }
    }
}
