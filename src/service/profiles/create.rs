//! Creating profiles with everything they own: one statement per table for a whole
//! batch, tags made on the way, statuses linked by handle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::enums::ProfileType;
use entity::{address, appearance, comms, identity, profile, profile_date, profile_status, profile_tag, status, tag};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::tag::normalize_handle;
use crate::service::draft::{
    AddressChanges, AppearanceChanges, Columns, CommsChanges, DateChanges, IdentityChanges, ProfileChanges,
};
use crate::service::error::{Error, Result};
use crate::service::profiles::keys::with_email_key;
use crate::service::runtime::Services;
use crate::service::write::Write;

/// A profile with nothing but what every profile has: created now, `ACTIVE`, version 1.
pub fn blank(id: Uuid, now: DateTime<Utc>) -> profile::Model {
    profile::Model {
        id,
        title: None,
        first_name: None,
        last_name: None,
        email: None,
        email_key: None,
        email_base_key: None,
        gender: None,
        currency: None,
        joined_at: now,
        mobile_phone: None,
        secondary_phone: None,
        birth_year: None,
        birth_month: None,
        birth_day: None,
        company: None,
        occupation: None,
        avatar_url: None,
        preferred_location_id: None,
        joined_location_id: None,
        tier_handle: None,
        profile_type: ProfileType::Active,
        type_before_delete: None,
        custom_attributes: serde_json::json!({}),
        created_at: now,
        updated_at: now,
        version: 1,
        merged_into: None,
    }
}

/// A profile to create with everything it owns. Owned rows get their `profile_id`
/// from `profile`; the caller sets every other column it wants written.
#[derive(Clone, Debug)]
pub struct NewProfile {
    pub profile: profile::Model,
    pub addresses: Vec<address::ActiveModel>,
    pub dates: Vec<profile_date::ActiveModel>,
    pub identities: Vec<identity::ActiveModel>,
    /// Tag handles as given; normalised here, unknown ones created.
    pub tags: Vec<String>,
    /// Status handles; each must exist.
    pub statuses: Vec<String>,
    /// Columns of `comms` to set; the rest take their defaults.
    pub comms: comms::ActiveModel,
    /// Columns of `appearance` to set.
    pub appearance: appearance::ActiveModel,
}

/// A new profile as validated input: its columns and what it owns, as changes.
#[derive(Default)]
pub(crate) struct NewProfileChanges {
    pub profile: ProfileChanges,
    /// Exactly one marked default (the input layer decides which).
    pub addresses: Vec<AddressChanges>,
    pub dates: Vec<DateChanges>,
    pub identities: Vec<IdentityChanges>,
    /// Tag handles as given; normalised here, unknown ones created.
    pub tags: Vec<String>,
    /// Status handles; each must exist.
    pub statuses: Vec<String>,
    /// Columns of `comms` to set; the rest take their defaults.
    pub comms: CommsChanges,
    /// Columns of `appearance` to set.
    pub appearance: AppearanceChanges,
}

impl NewProfileChanges {
    /// The rows of new profile `id`, stamped `now`: a blank profile with these changes
    /// over it, and what it owns. Addresses created together keep their order through
    /// `createdAt`, a microsecond apart.
    pub(crate) fn into_new(self, id: Uuid, now: DateTime<Utc>) -> NewProfile {
        use sea_orm::ActiveValue::Set;
        use sea_orm::{IntoActiveModel, TryIntoModel};
        let base = blank(id, now);
        let mut columns = base.clone().into_active_model();
        let changes = self.profile.columns();
        for column in <profile::Column as sea_orm::Iterable>::iter() {
            if let Set(value) = sea_orm::ActiveModelTrait::get(&changes, column) {
                sea_orm::ActiveModelTrait::set(&mut columns, column, value);
            }
        }
        let profile = columns.try_into_model().unwrap_or(base);
        let addresses = self
            .addresses
            .into_iter()
            .enumerate()
            .map(|(i, address)| address::ActiveModel {
                created_at: Set(now + chrono::Duration::microseconds(i as i64)),
                updated_at: Set(now),
                ..address.columns()
            })
            .collect();
        let dates = self
            .dates
            .into_iter()
            .map(|date| profile_date::ActiveModel { created_at: Set(now), updated_at: Set(now), ..date.columns() })
            .collect();
        let identities = self
            .identities
            .into_iter()
            .map(|identity| identity::ActiveModel { created_at: Set(now), updated_at: Set(now), ..identity.columns() })
            .collect();
        NewProfile {
            profile,
            addresses,
            dates,
            identities,
            tags: self.tags,
            statuses: self.statuses,
            comms: comms::ActiveModel { created_at: Set(now), updated_at: Set(now), ..self.comms.columns() },
            appearance: appearance::ActiveModel {
                created_at: Set(now),
                updated_at: Set(now),
                ..self.appearance.columns()
            },
        }
    }
}

/// Creates `profiles` and all they own, one statement per table (per run of rows
/// setting the same columns), in one transaction.
pub async fn create_many(db: &Services, profiles: Vec<NewProfile>) -> Result<Vec<Uuid>> {
    let mut txn = Write::begin(db).await?;
    let ids = insert_profiles(&mut txn, profiles).await?;
    txn.commit().await?;
    Ok(ids)
}

/// Inserts `profiles` and all they own with one statement per table, recording each
/// as created.
pub(crate) async fn insert_profiles(write: &mut Write, profiles: Vec<NewProfile>) -> Result<Vec<Uuid>> {
    let created: Vec<(Uuid, i32)> = profiles.iter().map(|p| (p.profile.id, p.profile.version)).collect();
    insert_rows(write.conn(), profiles, write.now()).await?;
    let ids = created.iter().map(|(id, _)| *id).collect();
    write.created(created);
    Ok(ids)
}

/// Inserts `profiles` and all they own with one statement per table, on `db` (a
/// write's transaction or a savepoint in it); the caller records them. Each profile's
/// email key is derived here from its email, whoever built the row.
pub(crate) async fn insert_rows(
    db: &impl ConnectionTrait,
    profiles: Vec<NewProfile>,
    now: DateTime<Utc>,
) -> Result<()> {
    use sea_orm::{ActiveValue::Set, IntoActiveModel};

    let mut rows = Rows::default();
    let mut tags = Vec::new();
    let mut statuses = Vec::new();
    for new in profiles {
        let id = new.profile.id;
        let mut profile = new.profile.into_active_model();
        with_email_key(&mut profile);
        rows.profiles.push(profile);
        rows.addresses.extend(new.addresses.into_iter().map(|mut a| {
            a.profile_id = Set(id);
            a
        }));
        rows.dates.extend(new.dates.into_iter().map(|mut d| {
            d.profile_id = Set(id);
            d
        }));
        rows.identities.extend(new.identities.into_iter().map(|mut i| {
            i.profile_id = Set(id);
            i
        }));
        rows.comms.push(comms::ActiveModel { profile_id: Set(id), ..new.comms });
        rows.appearance.push(appearance::ActiveModel { profile_id: Set(id), ..new.appearance });
        tags.extend(new.tags.into_iter().map(|handle| (id, handle)));
        statuses.extend(new.statuses.into_iter().map(|handle| (id, handle)));
    }
    rows.insert(db).await?;
    attach_tags(db, &tags, now).await?;
    attach_statuses(db, &statuses, now).await
}

/// Rows of one batch, by table.
#[derive(Default)]
struct Rows {
    profiles: Vec<profile::ActiveModel>,
    addresses: Vec<address::ActiveModel>,
    dates: Vec<profile_date::ActiveModel>,
    identities: Vec<identity::ActiveModel>,
    comms: Vec<comms::ActiveModel>,
    appearance: Vec<appearance::ActiveModel>,
}

impl Rows {
    async fn insert(self, db: &impl ConnectionTrait) -> Result<()> {
        // Profiles first: every other table refers to them.
        insert_all(db, self.profiles).await?;
        insert_all(db, self.addresses).await?;
        insert_all(db, self.dates).await?;
        insert_all(db, self.identities).await?;
        insert_all(db, self.comms).await?;
        insert_all(db, self.appearance).await
    }
}

/// Values one statement binds at most: below SQLite's limit (32,766) and PostgreSQL's
/// (65,535).
const MAX_BOUND: usize = 30_000;

/// Inserts `rows` in order, one statement for each run of rows that set the same
/// columns (one statement when all do and they fit in [`MAX_BOUND`] values; none for
/// an empty list). In one statement a column one row leaves out would be written as
/// NULL for it rather than take its default.
async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::Iterable;
    let shape = |row: &A| -> Vec<bool> {
        <<A::Entity as EntityTrait>::Column as Iterable>::iter().map(|c| !row.is_not_set(c)).collect()
    };
    let mut run: Vec<A> = Vec::new();
    let mut run_shape = Vec::new();
    for row in rows {
        let this = shape(&row);
        let full = (run.len() + 1) * this.iter().filter(|set| **set).count() > MAX_BOUND;
        if !run.is_empty() && (this != run_shape || full) {
            A::Entity::insert_many(std::mem::take(&mut run)).exec_without_returning(db).await?;
        }
        run_shape = this;
        run.push(row);
    }
    if !run.is_empty() {
        A::Entity::insert_many(run).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Attaches tags by handle, creating the unknown ones (named as given, trimmed).
pub(crate) async fn attach_tags(
    db: &impl ConnectionTrait,
    wanted: &[(Uuid, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    use sea_orm::ActiveValue::Set;
    if wanted.is_empty() {
        return Ok(());
    }
    let ids = lock_tags(db, wanted.iter().map(|(_, raw)| raw.as_str()), now).await?;
    let pairs: BTreeSet<(Uuid, i32)> =
        wanted.iter().filter_map(|(profile, raw)| Some((*profile, *ids.get(&normalize_handle(raw))?))).collect();
    let links = pairs.into_iter().map(|(profile_id, tag_id)| profile_tag::ActiveModel {
        profile_id: Set(profile_id),
        tag_id: Set(tag_id),
        created_at: Set(now),
    });
    profile_tag::Entity::insert_many(links)
        .on_conflict(
            OnConflict::columns([profile_tag::Column::ProfileId, profile_tag::Column::TagId]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The ids of the tags `raw` handles name (normalised), by handle: the unknown ones
/// created (named as given, trimmed), every one locked until commit.
///
/// Tags are locked before the profiles they are attached to, in handle order: the
/// order every write takes them (`deleteTag` locks its tag, then its holders), so two
/// writes never wait for each other in a circle. An existing tag is "updated" to
/// itself: that returns its id and, on PostgreSQL, locks its row until commit, so a
/// concurrent `deleteTag` (which locks it too) either finishes first, and the tag is
/// made anew here, or waits for this write and then detaches what it attached.
/// Reading the ids in a second statement would race with it.
pub(crate) async fn lock_tags<'a>(
    db: &impl ConnectionTrait,
    raw: impl IntoIterator<Item = &'a str>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i32>> {
    use sea_orm::ActiveValue::Set;
    // Sorted: concurrent writers lock tags in one order.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for raw in raw {
        names.entry(normalize_handle(raw)).or_insert_with(|| raw.trim().to_owned());
    }
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let new_tags = names.iter().map(|(handle, name)| tag::ActiveModel {
        handle: Set(handle.clone()),
        name: Set(name.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    Ok(tag::Entity::insert_many(new_tags)
        .on_conflict(OnConflict::column(tag::Column::Handle).update_column(tag::Column::Handle).to_owned())
        .exec_with_returning(db)
        .await?
        .into_iter()
        .map(|tag| (tag.handle, tag.id))
        .collect())
}

/// Attaches existing statuses by handle. Callers check the handles first: an unknown
/// one here is a bug, and fails the whole batch.
pub(crate) async fn attach_statuses(
    db: &impl ConnectionTrait,
    wanted: &[(Uuid, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    use sea_orm::ActiveValue::Set;
    if wanted.is_empty() {
        return Ok(());
    }
    let handles: BTreeSet<&str> = wanted.iter().map(|(_, handle)| handle.as_str()).collect();
    let ids: HashMap<String, i32> = status::Entity::find()
        .filter(status::Column::Handle.is_in(handles.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|status| (status.handle, status.id))
        .collect();
    let mut pairs = BTreeSet::new();
    for (profile, handle) in wanted {
        let id = ids
            .get(handle)
            .ok_or_else(|| Error::Invariant(format!("status `{handle}` was not checked before it was linked")))?;
        pairs.insert((*profile, *id));
    }
    let links = pairs.into_iter().map(|(profile_id, status_id)| profile_status::ActiveModel {
        profile_id: Set(profile_id),
        status_id: Set(status_id),
        created_at: Set(now),
    });
    profile_status::Entity::insert_many(links)
        .on_conflict(
            OnConflict::columns([profile_status::Column::ProfileId, profile_status::Column::StatusId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
