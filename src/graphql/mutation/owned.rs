//! Addresses, important dates and identities: their inputs (also nested in
//! `createProfile`), converted one to one into the service's plain inputs (which hold
//! the rules), and their own create/update/delete mutations.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::enums::RecurringSchedule;
use entity::scalars::Date;
use entity::{address, identity, profile_date};
use uuid::Uuid;

use super::input::int_id;
use super::{db, payload, respond};
use crate::graphql::types::profile::Profile;
use crate::service::profiles::input::owned as plain;
use crate::service::profiles::{address as addresses, dates, identity as identities, owned};

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
pub(crate) struct AddressInput {
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
pub(crate) struct AddressUpdateInput {
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

/// One to one: the service's input holds the rules.
impl From<AddressInput> for plain::AddressInput {
    fn from(a: AddressInput) -> Self {
        plain::AddressInput {
            address_line_1: Some(a.address_line_1).into(),
            address_line_2: a.address_line_2.into(),
            address_line_3: a.address_line_3.into(),
            company: a.company.into(),
            latitude: a.latitude.into(),
            longitude: a.longitude.into(),
            city: Some(a.city).into(),
            postcode: Some(a.postcode).into(),
            state: a.state.into(),
            country: Some(a.country).into(),
            notes: a.notes.into(),
            external_id: a.external_id.into(),
            is_default: a.is_default.into(),
        }
    }
}

impl From<AddressUpdateInput> for plain::AddressUpdateInput {
    fn from(a: AddressUpdateInput) -> Self {
        plain::AddressUpdateInput {
            address_line_1: a.address_line_1.into(),
            address_line_2: a.address_line_2.into(),
            address_line_3: a.address_line_3.into(),
            company: a.company.into(),
            latitude: a.latitude.into(),
            longitude: a.longitude.into(),
            city: a.city.into(),
            postcode: a.postcode.into(),
            state: a.state.into(),
            country: a.country.into(),
            notes: a.notes.into(),
            external_id: a.external_id.into(),
            is_default: a.is_default.into(),
        }
    }
}

/// A new important date.
#[derive(InputObject, Clone)]
pub(crate) struct ProfileDateInput {
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
pub(crate) struct ProfileDateUpdateInput {
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

impl From<ProfileDateInput> for plain::ProfileDateInput {
    fn from(d: ProfileDateInput) -> Self {
        plain::ProfileDateInput {
            date: Some(d.date).into(),
            is_recurring: d.is_recurring.into(),
            recurring_schedule: d.recurring_schedule.into(),
            name: d.name.into(),
            handle: d.handle.into(),
            relationship: d.relationship.into(),
            description: d.description.into(),
            meta: d.meta.into(),
            note: d.note.into(),
        }
    }
}

impl From<ProfileDateUpdateInput> for plain::ProfileDateUpdateInput {
    fn from(d: ProfileDateUpdateInput) -> Self {
        plain::ProfileDateUpdateInput {
            date: d.date.into(),
            is_recurring: d.is_recurring.into(),
            recurring_schedule: d.recurring_schedule.into(),
            name: d.name.into(),
            handle: d.handle.into(),
            relationship: d.relationship.into(),
            description: d.description.into(),
            meta: d.meta.into(),
            note: d.note.into(),
        }
    }
}

/// A new identity in another system.
#[derive(InputObject, Clone)]
pub(crate) struct IdentityInput {
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
pub(crate) struct IdentityUpdateInput {
    /// The other system (at most 100 characters).
    pub handle: MaybeUndefined<String>,
    /// The profile's id there (at most 200 characters).
    pub identifier: MaybeUndefined<String>,
    /// Make this the primary identity (the old primary stops being one), or not.
    pub is_primary: MaybeUndefined<bool>,
    /// Whether the identity is in use.
    pub is_active: MaybeUndefined<bool>,
}

impl From<IdentityInput> for plain::IdentityInput {
    fn from(i: IdentityInput) -> Self {
        plain::IdentityInput {
            handle: Some(i.handle).into(),
            identifier: Some(i.identifier).into(),
            is_primary: i.is_primary.into(),
            is_active: i.is_active.into(),
        }
    }
}

impl From<IdentityUpdateInput> for plain::IdentityUpdateInput {
    fn from(i: IdentityUpdateInput) -> Self {
        plain::IdentityUpdateInput {
            handle: i.handle.into(),
            identifier: i.identifier.into(),
            is_primary: i.is_primary.into(),
            is_active: i.is_active.into(),
        }
    }
}

#[derive(Default)]
pub(crate) struct OwnedMutation;

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
        let draft = plain::AddressUpdateInput::from(plain::AddressInput::from(input)).validate();
        let result = addresses::create(db(ctx)?, profile_id, draft).await;
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
        let draft = plain::AddressUpdateInput::from(input).validate();
        let result = addresses::update(db(ctx)?, id, draft).await;
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
        let (columns, problems) = plain::ProfileDateUpdateInput::from(plain::ProfileDateInput::from(input)).validate();
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
        let (columns, problems) = plain::ProfileDateUpdateInput::from(input).validate();
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
        let (columns, problems) = plain::IdentityUpdateInput::from(plain::IdentityInput::from(input)).validate();
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
        let (columns, problems) = plain::IdentityUpdateInput::from(input).validate();
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
