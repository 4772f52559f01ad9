//! Addresses, important dates and identities: their inputs (also nested in
//! `createProfile`) and their own create/update/delete mutations.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::enums::RecurringSchedule;
use entity::scalars::{Date, StringList};
use entity::{address, identity, profile_date};
use uuid::Uuid;

use super::input::{checked, given, int_id, plain, required, required_text, text};
use super::{db, payload, respond};
use crate::domain::validate::{self, MAX_NAME, MAX_NOTE, MAX_TEXT, Path, Problems, UserErrorCode};
use crate::graphql::types::profile::Profile;
use crate::service::draft::{AddressChanges, DateChanges, IdentityChanges, Patch};
use crate::service::profiles::address::AddressDraft;
use crate::service::profiles::{address as addresses, dates, identity as identities, owned};

/// Longest postcode.
const MAX_POSTCODE: usize = 20;

payload!(AddressPayload, "The result of an address mutation.",
    address: address::Model => "The address after the mutation.",
    profile: Profile => "The profile the address belongs to, after the mutation.");
payload!(DeleteAddressPayload, "The result of `deleteAddress`.",
    deleted_id: ID => "Id of the address that was deleted.",
    profile: Profile => "The profile the address belonged to, after the mutation.");
payload!(ProfileDatePayload, "The result of an important-date mutation.",
    profile_date: profile_date::Model => "The date after the mutation.",
    profile: Profile => "The profile the date belongs to, after the mutation.");
payload!(DeleteProfileDatePayload, "The result of `deleteProfileDate`.",
    deleted_id: ID => "Id of the date that was deleted.",
    profile: Profile => "The profile the date belonged to, after the mutation.");
payload!(IdentityPayload, "The result of an identity mutation.",
    identity: identity::Model => "The identity after the mutation.",
    profile: Profile => "The profile the identity belongs to, after the mutation.");
payload!(DeleteIdentityPayload, "The result of `deleteIdentity`.",
    deleted_id: ID => "Id of the identity that was deleted.",
    profile: Profile => "The profile the identity belonged to, after the mutation.");

/// A new postal address.
#[derive(InputObject, Clone)]
pub struct AddressInput {
    /// First line of the street address (required, at most 200 characters).
    pub address_line_1: String,
    /// Second line (at most 200 characters).
    pub address_line_2: Option<String>,
    /// Third line (at most 200 characters).
    pub address_line_3: Option<String>,
    /// Company at this address (at most 200 characters).
    pub company: Option<String>,
    /// Latitude, −90 to 90.
    pub latitude: Option<f64>,
    /// Longitude, −180 to 180.
    pub longitude: Option<f64>,
    /// City or suburb (required, at most 100 characters).
    pub city: String,
    /// Postcode (required, at most 20 characters).
    pub postcode: String,
    /// State or region (at most 100 characters).
    pub state: Option<String>,
    /// Country (required, at most 100 characters).
    pub country: String,
    /// Delivery notes (at most 1,000 characters).
    pub notes: Option<String>,
    /// Reference in another system (at most 100 characters).
    pub external_id: Option<String>,
    /// Make this the profile's default address (the first address always is).
    pub is_default: Option<bool>,
}

/// Changes to an address: an omitted field is left as it is, `null` clears it (and is
/// REQUIRED for line 1, city, postcode and country).
#[derive(InputObject, Default)]
pub struct AddressUpdateInput {
    /// First line of the street address (at most 200 characters).
    pub address_line_1: MaybeUndefined<String>,
    /// Second line (at most 200 characters).
    pub address_line_2: MaybeUndefined<String>,
    /// Third line (at most 200 characters).
    pub address_line_3: MaybeUndefined<String>,
    /// Company at this address (at most 200 characters).
    pub company: MaybeUndefined<String>,
    /// Latitude, −90 to 90.
    pub latitude: MaybeUndefined<f64>,
    /// Longitude, −180 to 180.
    pub longitude: MaybeUndefined<f64>,
    /// City or suburb (at most 100 characters).
    pub city: MaybeUndefined<String>,
    /// Postcode (at most 20 characters).
    pub postcode: MaybeUndefined<String>,
    /// State or region (at most 100 characters).
    pub state: MaybeUndefined<String>,
    /// Country (at most 100 characters).
    pub country: MaybeUndefined<String>,
    /// Delivery notes (at most 1,000 characters).
    pub notes: MaybeUndefined<String>,
    /// Reference in another system (at most 100 characters).
    pub external_id: MaybeUndefined<String>,
    /// `true` makes this the default address; `false` on the default passes the default
    /// to the oldest other address (ignored on a profile's only address).
    pub is_default: Option<bool>,
}

impl From<AddressInput> for AddressUpdateInput {
    fn from(a: AddressInput) -> Self {
        AddressUpdateInput {
            address_line_1: MaybeUndefined::Value(a.address_line_1),
            address_line_2: given(a.address_line_2),
            address_line_3: given(a.address_line_3),
            company: given(a.company),
            latitude: given(a.latitude),
            longitude: given(a.longitude),
            city: MaybeUndefined::Value(a.city),
            postcode: MaybeUndefined::Value(a.postcode),
            state: given(a.state),
            country: MaybeUndefined::Value(a.country),
            notes: given(a.notes),
            external_id: given(a.external_id),
            is_default: a.is_default,
        }
    }
}

fn coordinate(range: std::ops::RangeInclusive<f64>) -> impl Fn(&mut Problems, &Path, &f64) -> Option<f64> {
    move |problems, path, value| {
        validate::within(problems, path, Some(*value), range.clone());
        Some(*value)
    }
}

impl AddressUpdateInput {
    fn draft(&self, problems: &mut Problems, path: &Path) -> (AddressChanges, Option<bool>) {
        let at = |field: &str| path.key(field);
        let columns = AddressChanges {
            address_line_1: required_text(problems, &at("addressLine1"), &self.address_line_1, MAX_TEXT),
            address_line_2: text(problems, &at("addressLine2"), &self.address_line_2, MAX_TEXT),
            address_line_3: text(problems, &at("addressLine3"), &self.address_line_3, MAX_TEXT),
            company: text(problems, &at("company"), &self.company, MAX_TEXT),
            latitude: checked(problems, &at("latitude"), &self.latitude, coordinate(-90.0..=90.0)),
            longitude: checked(problems, &at("longitude"), &self.longitude, coordinate(-180.0..=180.0)),
            city: required_text(problems, &at("city"), &self.city, MAX_NAME),
            postcode: required_text(problems, &at("postcode"), &self.postcode, MAX_POSTCODE),
            state: text(problems, &at("state"), &self.state, MAX_NAME),
            country: required_text(problems, &at("country"), &self.country, MAX_NAME),
            notes: text(problems, &at("notes"), &self.notes, MAX_NOTE),
            external_id: text(problems, &at("externalId"), &self.external_id, MAX_NAME),
            ..Default::default()
        };
        (columns, self.is_default)
    }
}

/// The addresses of a new profile: exactly one default (the one marked, else the first).
pub fn address_list(problems: &mut Problems, path: &Path, inputs: Vec<AddressInput>) -> Vec<AddressChanges> {
    if !validate::list_len(problems, path, inputs.len()) {
        return Vec::new();
    }
    let marked: Vec<usize> =
        inputs.iter().enumerate().filter(|(_, a)| a.is_default == Some(true)).map(|(i, _)| i).collect();
    for extra in marked.iter().skip(1) {
        problems.add(
            &path.index(*extra).key("isDefault"),
            UserErrorCode::Invalid,
            "only one address can be the default",
        );
    }
    let default = marked.first().copied().unwrap_or(0);
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let (mut columns, _) = AddressUpdateInput::from(input).draft(problems, &path.index(i));
            columns.is_default = Patch::Set(i == default);
            columns
        })
        .collect()
}

/// A new important date.
#[derive(InputObject, Clone)]
pub struct ProfileDateInput {
    /// The date (required).
    pub date: Date,
    /// Whether it recurs; false by default.
    pub is_recurring: Option<bool>,
    /// How often it recurs; only with `isRecurring: true`.
    pub recurring_schedule: Option<RecurringSchedule>,
    /// Display name (at most 100 characters).
    pub name: Option<String>,
    /// Stable key of the kind of date, e.g. `anniversary` (at most 100 characters).
    pub handle: Option<String>,
    /// Who it concerns, e.g. `wife` (at most 100 characters).
    pub relationship: Option<String>,
    /// What it is (at most 200 characters).
    pub description: Option<String>,
    /// Extra labels (at most 250, each at most 100 characters).
    pub meta: Option<Vec<String>>,
    /// A note (at most 1,000 characters).
    pub note: Option<String>,
}

/// Changes to an important date: an omitted field is left as it is, `null` clears it
/// (and is REQUIRED for `date` and `isRecurring`).
#[derive(InputObject, Default)]
pub struct ProfileDateUpdateInput {
    /// The date.
    pub date: MaybeUndefined<Date>,
    /// Whether it recurs.
    pub is_recurring: MaybeUndefined<bool>,
    /// How often it recurs; only with `isRecurring: true`.
    pub recurring_schedule: MaybeUndefined<RecurringSchedule>,
    /// Display name (at most 100 characters).
    pub name: MaybeUndefined<String>,
    /// Stable key of the kind of date (at most 100 characters).
    pub handle: MaybeUndefined<String>,
    /// Who it concerns (at most 100 characters).
    pub relationship: MaybeUndefined<String>,
    /// What it is (at most 200 characters).
    pub description: MaybeUndefined<String>,
    /// Extra labels (at most 250, each at most 100 characters); `null` empties them.
    pub meta: MaybeUndefined<Vec<String>>,
    /// A note (at most 1,000 characters).
    pub note: MaybeUndefined<String>,
}

impl From<ProfileDateInput> for ProfileDateUpdateInput {
    fn from(d: ProfileDateInput) -> Self {
        ProfileDateUpdateInput {
            date: MaybeUndefined::Value(d.date),
            is_recurring: MaybeUndefined::Value(d.is_recurring.unwrap_or(false)),
            recurring_schedule: given(d.recurring_schedule),
            name: given(d.name),
            handle: given(d.handle),
            relationship: given(d.relationship),
            description: given(d.description),
            meta: MaybeUndefined::Value(d.meta.unwrap_or_default()),
            note: given(d.note),
        }
    }
}

impl ProfileDateUpdateInput {
    fn columns(&self, problems: &mut Problems, path: &Path) -> DateChanges {
        let at = |field: &str| path.key(field);
        if matches!(self.recurring_schedule, MaybeUndefined::Value(_))
            && self.is_recurring == MaybeUndefined::Value(false)
        {
            problems.add(&at("recurringSchedule"), UserErrorCode::Invalid, "a schedule needs `isRecurring: true`");
        }
        let meta = match &self.meta {
            MaybeUndefined::Undefined => Patch::Keep,
            MaybeUndefined::Null => Patch::Set(StringList::default()),
            MaybeUndefined::Value(items) => {
                validate::list_len(problems, &at("meta"), items.len());
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| validate::required(problems, &at("meta").index(i), Some(item), MAX_NAME))
                    .collect();
                Patch::Set(StringList(items))
            }
        };
        DateChanges {
            date: match &self.date {
                MaybeUndefined::Value(Date(date)) => Patch::Set(*date),
                MaybeUndefined::Undefined => Patch::Keep,
                MaybeUndefined::Null => {
                    problems.add(&at("date"), UserErrorCode::Required, "cannot be null");
                    Patch::Keep
                }
            },
            is_recurring: required(problems, &at("isRecurring"), &self.is_recurring),
            recurring_schedule: plain(&self.recurring_schedule),
            name: text(problems, &at("name"), &self.name, MAX_NAME),
            handle: text(problems, &at("handle"), &self.handle, MAX_NAME),
            relationship: text(problems, &at("relationship"), &self.relationship, MAX_NAME),
            description: text(problems, &at("description"), &self.description, MAX_TEXT),
            meta,
            note: text(problems, &at("note"), &self.note, MAX_NOTE),
        }
    }
}

/// The dates of a new profile.
pub fn date_list(problems: &mut Problems, path: &Path, inputs: Vec<ProfileDateInput>) -> Vec<DateChanges> {
    if !validate::list_len(problems, path, inputs.len()) {
        return Vec::new();
    }
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| ProfileDateUpdateInput::from(input).columns(problems, &path.index(i)))
        .collect()
}

/// A new identity in another system.
#[derive(InputObject, Clone)]
pub struct IdentityInput {
    /// The other system, e.g. `shopify` (required, at most 100 characters).
    pub handle: String,
    /// The profile's id there (required, at most 200 characters). `(handle,
    /// identifier)` is unique across all profiles.
    pub identifier: String,
    /// Make this the primary identity (its identifier becomes the profile's
    /// `externalId`); the old primary stops being one. False by default.
    pub is_primary: Option<bool>,
    /// Whether the identity is in use; true by default.
    pub is_active: Option<bool>,
}

/// Changes to an identity: an omitted field is left as it is; none can be null.
#[derive(InputObject, Default)]
pub struct IdentityUpdateInput {
    /// The other system (at most 100 characters).
    pub handle: MaybeUndefined<String>,
    /// The profile's id there (at most 200 characters).
    pub identifier: MaybeUndefined<String>,
    /// Make this the primary identity (the old primary stops being one), or not.
    pub is_primary: MaybeUndefined<bool>,
    /// Whether the identity is in use.
    pub is_active: MaybeUndefined<bool>,
}

impl From<IdentityInput> for IdentityUpdateInput {
    fn from(i: IdentityInput) -> Self {
        IdentityUpdateInput {
            handle: MaybeUndefined::Value(i.handle),
            identifier: MaybeUndefined::Value(i.identifier),
            is_primary: MaybeUndefined::Value(i.is_primary.unwrap_or(false)),
            is_active: MaybeUndefined::Value(i.is_active.unwrap_or(true)),
        }
    }
}

impl IdentityUpdateInput {
    fn columns(&self, problems: &mut Problems, path: &Path) -> IdentityChanges {
        IdentityChanges {
            handle: required_text(problems, &path.key("handle"), &self.handle, MAX_NAME),
            identifier: required_text(problems, &path.key("identifier"), &self.identifier, MAX_TEXT),
            is_primary: required(problems, &path.key("isPrimary"), &self.is_primary),
            is_active: required(problems, &path.key("isActive"), &self.is_active),
        }
    }
}

/// The identities of a new profile: at most one primary, no pair given twice.
pub fn identity_list(problems: &mut Problems, path: &Path, inputs: Vec<IdentityInput>) -> Vec<IdentityChanges> {
    if !validate::list_len(problems, path, inputs.len()) {
        return Vec::new();
    }
    let mut seen = std::collections::HashSet::new();
    let mut primary = false;
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let at = path.index(i);
            if input.is_primary == Some(true) {
                if primary {
                    problems.add(&at.key("isPrimary"), UserErrorCode::Invalid, "only one identity can be primary");
                }
                primary = true;
            }
            if !seen.insert((input.handle.trim().to_owned(), input.identifier.trim().to_owned())) {
                problems.add(&at.key("identifier"), UserErrorCode::Taken, "this identity is given twice");
            }
            IdentityUpdateInput::from(input).columns(problems, &at)
        })
        .collect()
}

#[derive(Default)]
pub struct OwnedMutation;

/// Mutations of addresses, important dates and identities.
#[Object(guard = "Scoped::MUTATION")]
impl OwnedMutation {
    /// Adds an address to a profile. The profile's first address becomes its default;
    /// `isDefault: true` makes this one the default instead of the old one.
    #[graphql(requires_scopes = "profiles:write")]
    async fn create_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The address.")] input: AddressInput,
    ) -> Result<AddressPayload> {
        let mut problems = Problems::default();
        let (columns, make_default) = AddressUpdateInput::from(input).draft(&mut problems, &Path::root("input"));
        let result = addresses::create(db(ctx)?, profile_id, AddressDraft { columns, make_default, problems }).await;
        respond(result, |(address, profile)| AddressPayload {
            address: Some(address),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Changes an address.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: AddressUpdateInput,
    ) -> Result<AddressPayload> {
        let id = int_id(&id, "id")?;
        let mut problems = Problems::default();
        let (columns, make_default) = input.draft(&mut problems, &Path::root("input"));
        let result = addresses::update(db(ctx)?, id, AddressDraft { columns, make_default, problems }).await;
        respond(result, |(address, profile)| AddressPayload {
            address: Some(address),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Deletes an address. When it was the default, the oldest address left becomes it.
    #[graphql(requires_scopes = "profiles:write")]
    async fn delete_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address's id.")] id: ID,
    ) -> Result<DeleteAddressPayload> {
        let result = addresses::delete(db(ctx)?, int_id(&id, "id")?).await;
        respond(result, |(id, profile)| DeleteAddressPayload {
            deleted_id: Some(id.into()),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Adds an important date to a profile.
    #[graphql(requires_scopes = "profiles:write")]
    async fn create_profile_date(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The date.")] input: ProfileDateInput,
    ) -> Result<ProfileDatePayload> {
        let mut problems = Problems::default();
        let columns = ProfileDateUpdateInput::from(input).columns(&mut problems, &Path::root("input"));
        respond(dates::create(db(ctx)?, profile_id, columns, problems).await, |(date, profile)| ProfileDatePayload {
            profile_date: Some(date),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Changes an important date.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_profile_date(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The date's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: ProfileDateUpdateInput,
    ) -> Result<ProfileDatePayload> {
        let id = int_id(&id, "id")?;
        let mut problems = Problems::default();
        let columns = input.columns(&mut problems, &Path::root("input"));
        respond(dates::update(db(ctx)?, id, columns, problems).await, |(date, profile)| ProfileDatePayload {
            profile_date: Some(date),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Deletes an important date.
    #[graphql(requires_scopes = "profiles:write")]
    async fn delete_profile_date(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The date's id.")] id: ID,
    ) -> Result<DeleteProfileDatePayload> {
        let result = owned::delete::<profile_date::Entity>(db(ctx)?, int_id(&id, "id")?).await;
        respond(result, |(id, profile)| DeleteProfileDatePayload {
            deleted_id: Some(id.into()),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Adds an identity in another system to a profile. `(handle, identifier)` must be
    /// unused (TAKEN); `isPrimary: true` demotes the profile's old primary identity.
    #[graphql(requires_scopes = "profiles:write")]
    async fn create_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The identity.")] input: IdentityInput,
    ) -> Result<IdentityPayload> {
        let mut problems = Problems::default();
        let columns = IdentityUpdateInput::from(input).columns(&mut problems, &Path::root("input"));
        respond(identities::create(db(ctx)?, profile_id, columns, problems).await, |(identity, profile)| {
            IdentityPayload { identity: Some(identity), profile: Some(profile.into()), user_errors: Vec::new() }
        })
    }

    /// Changes an identity.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The identity's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: IdentityUpdateInput,
    ) -> Result<IdentityPayload> {
        let id = int_id(&id, "id")?;
        let mut problems = Problems::default();
        let columns = input.columns(&mut problems, &Path::root("input"));
        respond(identities::update(db(ctx)?, id, columns, problems).await, |(identity, profile)| IdentityPayload {
            identity: Some(identity),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }

    /// Deletes an identity.
    #[graphql(requires_scopes = "profiles:write")]
    async fn delete_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The identity's id.")] id: ID,
    ) -> Result<DeleteIdentityPayload> {
        let result = owned::delete::<identity::Entity>(db(ctx)?, int_id(&id, "id")?).await;
        respond(result, |(id, profile)| DeleteIdentityPayload {
            deleted_id: Some(id.into()),
            profile: Some(profile.into()),
            user_errors: Vec::new(),
        })
    }
}
