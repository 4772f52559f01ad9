//! Writing profiles: create (with everything they own), update, soft delete,
//! restore and purge. Each is one transaction (see [`crate::service::write`]).

use chrono::NaiveDate;
use entity::profile;
use sea_orm::ActiveValue::{self, Set, Unchanged};
use sea_orm::{ActiveModelTrait, ConnectionTrait};
use uuid::Uuid;

use crate::domain::validate::{self, Path, Problems};
use crate::service::draft::{Columns, ProfileChanges};
use crate::service::error::Result;
use crate::service::error::{Unique, taken};
use crate::service::one_statement;
use crate::service::profiles::checks::{self, LocationRef};
use crate::service::profiles::create::{NewProfile, NewProfileChanges, insert_profiles};
use crate::service::profiles::keys::with_email_key;
use crate::service::runtime::Services;
use crate::service::write::Write;

/// A location change: keep it, clear it, or point at another.
pub(crate) type LocationChange = Option<Option<LocationRef>>;

/// A validated `createProfile` input.
pub(crate) struct ProfileCreate {
    pub new: NewProfileChanges,
    pub preferred_location: Option<LocationRef>,
    pub joined_location: Option<LocationRef>,
    /// Problems found without the database; reported with those found with it.
    pub problems: Problems,
}

/// A validated `updateProfile` input: the columns to change, and location changes.
pub(crate) struct ProfileUpdate {
    pub columns: ProfileChanges,
    pub preferred_location: LocationChange,
    pub joined_location: LocationChange,
    pub problems: Problems,
}

/// Paths of the values that unique indexes guard, for races caught only on write.
pub(crate) fn unique_fields(input: &Path) -> [(Unique, Path); 3] {
    [
        (Unique::ProfileEmail, input.key("email")),
        (Unique::ProfileMobilePhone, input.key("mobilePhone")),
        (Unique::Identity, input.key("identities")),
    ]
}

const PREFERRED: [&str; 2] = ["preferredLocationId", "preferredLocationExternalId"];
const JOINED: [&str; 2] = ["joinedLocationId", "joinedLocationExternalId"];

/// The path of the field a location was given by.
fn location_path(input: &Path, reference: &LocationRef, fields: [&str; 2]) -> Path {
    input.key(match reference {
        LocationRef::Id(_) => fields[0],
        LocationRef::ExternalId(_) => fields[1],
    })
}

/// TAKEN for each value of new profile `new` that another profile holds already: its
/// email, mobile phone and identities.
pub(crate) async fn new_values_free(
    db: &impl ConnectionTrait,
    new: &NewProfile,
    input: &Path,
    problems: &mut Problems,
) -> Result<()> {
    let p = &new.profile;
    if let Some(email) = &p.email {
        checks::email_free(db, email, None, &input.key("email"), problems).await?;
    }
    if let Some(phone) = &p.mobile_phone {
        checks::phone_free(db, phone, None, &input.key("mobilePhone"), problems).await?;
    }
    for (i, identity) in new.identities.iter().enumerate() {
        if let (ActiveValue::Set(handle), ActiveValue::Set(identifier)) = (&identity.handle, &identity.identifier) {
            let path = input.key("identities").index(i).key("identifier");
            checks::identity_free(db, handle, identifier, None, &path, problems).await?;
        }
    }
    Ok(())
}

/// The ids of the preferred and joined locations an input names (NOT_FOUND at the
/// field it named one by, when there is none).
pub(crate) async fn locations(
    db: &impl ConnectionTrait,
    preferred: &Option<LocationRef>,
    joined: &Option<LocationRef>,
    input: &Path,
    problems: &mut Problems,
) -> Result<[Option<i32>; 2]> {
    let mut ids = [None, None];
    for (id, (reference, fields)) in ids.iter_mut().zip([(preferred, PREFERRED), (joined, JOINED)]) {
        if let Some(reference) = reference {
            *id = checks::location(db, reference, &location_path(input, reference, fields), problems).await?;
        }
    }
    Ok(ids)
}

/// The checks `updateProfile` makes of changed `columns` of profile `current`: the
/// birth parts as they will be stored (changes merged over current values), the email
/// and mobile phone free. The tier is checked before the profile is locked.
pub(crate) async fn changed_columns_valid(
    db: &impl ConnectionTrait,
    columns: &profile::ActiveModel,
    current: &profile::Model,
    today: NaiveDate,
    input: &Path,
    problems: &mut Problems,
) -> Result<()> {
    let year = merged(&columns.birth_year, current.birth_year);
    let month = merged(&columns.birth_month, current.birth_month);
    let day = merged(&columns.birth_day, current.birth_day);
    validate::birth(problems, input, year, month, day, today);
    if let ActiveValue::Set(Some(email)) = &columns.email {
        checks::email_free(db, email, Some(current.id), &input.key("email"), problems).await?;
    }
    if let ActiveValue::Set(Some(phone)) = &columns.mobile_phone {
        checks::phone_free(db, phone, Some(current.id), &input.key("mobilePhone"), problems).await?;
    }
    Ok(())
}

pub(crate) async fn create(db: &Services, draft: ProfileCreate) -> Result<profile::Model> {
    let ProfileCreate { new, preferred_location, joined_location, mut problems } = draft;
    let mut new = new.into_new(Uuid::new_v4(), db.clock.now());
    let input = Path::root("input");
    let mut txn = Write::begin(db).await?;
    new_values_free(txn.conn(), &new, &input, &mut problems).await?;
    if let Some(tier) = &new.profile.tier_handle {
        checks::tier(txn.conn(), tier, &input.key("tierHandle"), &mut problems).await?;
    }
    let [preferred, joined] =
        locations(txn.conn(), &preferred_location, &joined_location, &input, &mut problems).await?;
    new.profile.preferred_location_id = preferred;
    new.profile.joined_location_id = joined;
    let statuses: Vec<(Path, String)> =
        new.statuses.iter().enumerate().map(|(i, h)| (input.key("statuses").index(i), h.clone())).collect();
    checks::statuses(txn.conn(), &statuses, &mut problems).await?;
    if !problems.is_empty() {
        return Err(problems.into_errors().into());
    }
    let model = new.profile.clone();
    insert_profiles(&mut txn, vec![new]).await.map_err(|err| taken(err, &unique_fields(&input)))?;
    txn.commit().await?;
    Ok(model)
}

/// The value a column will have: the change if there is one, else the current value.
fn merged<T: Clone + Into<sea_orm::Value>>(change: &ActiveValue<T>, current: T) -> T {
    match change {
        ActiveValue::Set(value) | ActiveValue::Unchanged(value) => value.clone(),
        ActiveValue::NotSet => current,
    }
}

pub(crate) async fn update(
    db: &Services,
    id: Uuid,
    expected_version: Option<i32>,
    draft: ProfileUpdate,
    today: NaiveDate,
) -> Result<profile::Model> {
    let ProfileUpdate { columns, preferred_location, joined_location, mut problems } = draft;
    let mut columns = columns.columns();
    if problems.is_empty() && preferred_location.is_none() && joined_location.is_none() {
        // Its own columns alone: one statement, where it can.
        if let Some(updated) = one_statement::update(db, id, expected_version, &columns).await? {
            return Ok(updated);
        }
    }
    let input = Path::root("input");
    let mut txn = Write::begin(db).await?;
    // The reference records it names are locked before the profile, the one lock
    // order: `deleteTier` and `deleteLocation` lock the record, then its profiles.
    if let ActiveValue::Set(Some(tier)) = &columns.tier_handle {
        checks::tier(txn.conn(), tier, &input.key("tierHandle"), &mut problems).await?;
    }
    for (change, fields, column) in [
        (&preferred_location, PREFERRED, &mut columns.preferred_location_id),
        (&joined_location, JOINED, &mut columns.joined_location_id),
    ] {
        match change {
            None => {}
            Some(None) => *column = Set(None),
            Some(Some(reference)) => {
                let path = location_path(&input, reference, fields);
                *column = Set(checks::location(txn.conn(), reference, &path, &mut problems).await?);
            }
        }
    }
    // Read and locked with all its context holds: the checks below and the change
    // event compare with this, and the write needs no other read.
    let current = txn.hold(id, expected_version, &Path::root("id")).await?;
    changed_columns_valid(txn.conn(), &columns, &current, today, &input, &mut problems).await?;
    if !problems.is_empty() {
        return Err(problems.into_errors().into());
    }
    with_email_key(&mut columns);
    // One statement: the columns, the version and `updatedAt`, the row returned.
    let updated = txn.change(id, columns).await.map_err(|err| taken(err, &unique_fields(&input)))?;
    txn.commit().await?;
    Ok(updated)
}

/// Writes the changed `columns` of profile `id` in one statement, with the key of the
/// email they change; the profile as stored.
pub(crate) async fn write_columns(
    db: &impl ConnectionTrait,
    id: Uuid,
    mut columns: profile::ActiveModel,
) -> std::result::Result<profile::Model, sea_orm::DbErr> {
    columns.id = Unchanged(id);
    with_email_key(&mut columns);
    columns.update(db).await
}

/// Soft delete: the profile becomes `DELETED`, hidden from reads, its unique values
/// still reserved; `restore` brings back the type it had.
pub(crate) async fn delete(db: &Services, id: Uuid) -> Result<profile::Model> {
    if let Some(deleted) = one_statement::delete(db, id).await? {
        return Ok(deleted);
    }
    let mut txn = Write::begin(db).await?;
    let deleted = txn.delete(id, &Path::root("id")).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Brings a deleted profile back; of concurrent restores of one profile exactly one
/// finds it deleted, the others get NOT_FOUND.
pub(crate) async fn restore(db: &Services, id: Uuid) -> Result<profile::Model> {
    let mut txn = Write::begin(db).await?;
    let restored = txn.restore(id, &Path::root("id")).await?;
    txn.commit().await?;
    Ok(restored)
}

/// Removes the profile and everything it owns (the foreign keys cascade), deleted or
/// not; its email, phone and identities are free again.
pub(crate) async fn purge(db: &Services, id: Uuid) -> Result<Uuid> {
    let mut txn = Write::begin(db).await?;
    txn.purge(id, &Path::root("id")).await?;
    txn.commit().await?;
    Ok(id)
}
