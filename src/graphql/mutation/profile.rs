//! Profile mutations: create (with everything it owns), update, delete, restore, purge.
//! Their inputs convert one to one into the service's plain inputs, which hold the
//! rules (`service::profiles::input`).

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{Gender, ProfileType};
use uuid::Uuid;

use super::input::field;
use super::owned::{AddressInput, IdentityInput, ProfileDateInput};
use super::preferences::{AppearanceInput, CommsInput};
use super::{ProfilePayload, db, payload, profile_payload, respond};
use crate::domain::phone::Region;
use crate::graphql::Clock;
use crate::service::profiles::input::field::Field;
use crate::service::profiles::input::{self as plain, Attributes};
use crate::service::profiles::lifecycle;

payload!(PurgeProfilePayload, "The result of `purgeProfile`.", purged_profile_id: Uuid => "Id of the profile that was removed.");

/// The profile's own fields, shared by `ProfileCreateInput` and `ProfileUpdateInput`.
/// On update an omitted field is left as it is and `null` clears it.
#[derive(InputObject, Default)]
#[graphql(name = "ProfileFieldsInput")]
pub(crate) struct ProfileFields {
    /// Salutation, e.g. `Mr` (at most 100 characters).
    pub title: MaybeUndefined<String>,
    /// First name (at most 100 characters).
    pub first_name: MaybeUndefined<String>,
    /// Last name (at most 100 characters).
    pub last_name: MaybeUndefined<String>,
    /// Email address (at most 254 characters), stored as given. Unique among profiles,
    /// deleted ones included, compared case-insensitively.
    pub email: MaybeUndefined<String>,
    /// Gender.
    pub gender: MaybeUndefined<Gender>,
    /// Default currency: an ISO 4217 code such as `AUD`, stored upper-case.
    pub currency: MaybeUndefined<String>,
    /// When the customer joined (UTC). Defaults to now on create; cannot be null.
    pub joined_at: MaybeUndefined<DateTime<Utc>>,
    /// Mobile phone, in E.164 (`+61404123123`) or in national format read in the
    /// service's default region (`0404 123 123`); stored as E.164. Unique among profiles.
    pub mobile_phone: MaybeUndefined<String>,
    /// Secondary phone, in E.164 or national format; stored as E.164.
    pub secondary_phone: MaybeUndefined<String>,
    /// Year of birth, 1900 to this year.
    pub birth_year: MaybeUndefined<i32>,
    /// Month of birth, 1–12.
    pub birth_month: MaybeUndefined<i32>,
    /// Day of birth, real for the month: 29 February only in a leap or unknown year.
    pub birth_day: MaybeUndefined<i32>,
    /// Company (at most 200 characters).
    pub company: MaybeUndefined<String>,
    /// Occupation (at most 200 characters).
    pub occupation: MaybeUndefined<String>,
    /// URL of the avatar image: http or https, at most 2,048 characters.
    pub avatar_url: MaybeUndefined<String>,
    /// Handle of an existing loyalty tier.
    pub tier_handle: MaybeUndefined<String>,
    /// Id of the preferred location. Give this or `preferredLocationExternalId`.
    pub preferred_location_id: MaybeUndefined<ID>,
    /// External id of the preferred location. Give this or `preferredLocationId`.
    pub preferred_location_external_id: MaybeUndefined<String>,
    /// Id of the location the customer joined at. Give this or `joinedLocationExternalId`.
    pub joined_location_id: MaybeUndefined<ID>,
    /// External id of the joined location. Give this or `joinedLocationId`.
    pub joined_location_external_id: MaybeUndefined<String>,
    /// The kind of profile; `ACTIVE` by default. Not `DELETED` (use `deleteProfile`);
    /// cannot be null.
    pub profile_type: MaybeUndefined<ProfileType>,
    /// Custom attributes: an object of namespace → object of handle → JSON value.
    /// Namespaces and handles are 1–64 of a-z, 0-9, `-` and `_`; each value at most
    /// 10 KiB of JSON. On update a given object replaces the whole one (see
    /// `setCustomAttributes` for single values) and `null` clears it.
    pub custom_attributes: MaybeUndefined<serde_json::Value>,
}

/// One to one: the service's input holds the rules.
impl From<ProfileFields> for plain::ProfileFields {
    fn from(f: ProfileFields) -> Self {
        plain::ProfileFields {
            title: f.title.into(),
            first_name: f.first_name.into(),
            last_name: f.last_name.into(),
            email: f.email.into(),
            gender: f.gender.into(),
            currency: f.currency.into(),
            joined_at: f.joined_at.into(),
            mobile_phone: f.mobile_phone.into(),
            secondary_phone: f.secondary_phone.into(),
            birth_year: f.birth_year.into(),
            birth_month: f.birth_month.into(),
            birth_day: f.birth_day.into(),
            company: f.company.into(),
            occupation: f.occupation.into(),
            avatar_url: f.avatar_url.into(),
            tier_handle: f.tier_handle.into(),
            preferred_location_id: field(f.preferred_location_id),
            preferred_location_external_id: f.preferred_location_external_id.into(),
            joined_location_id: field(f.joined_location_id),
            joined_location_external_id: f.joined_location_external_id.into(),
            profile_type: f.profile_type.into(),
            custom_attributes: f.custom_attributes.into(),
        }
    }
}

/// A new profile with everything it owns. Every problem of the input is reported at
/// once; when there is any, nothing is written.
#[derive(InputObject, Default)]
pub(crate) struct ProfileCreateInput {
    #[graphql(flatten)]
    pub fields: ProfileFields,
    /// Addresses (at most 250). The first is the default unless one says `isDefault: true`.
    pub addresses: Option<Vec<AddressInput>>,
    /// Important dates (at most 250).
    pub dates: Option<Vec<ProfileDateInput>>,
    /// Tag handles (at most 250), normalised; unknown tags are created.
    pub tags: Option<Vec<String>>,
    /// Status handles (at most 250), normalised; each must be defined.
    pub statuses: Option<Vec<String>>,
    /// Identities in other systems (at most 250); at most one primary.
    pub identities: Option<Vec<IdentityInput>>,
    /// Communication preferences; omitted flags take their defaults.
    pub comms: Option<CommsInput>,
    /// Appearance and sizes.
    pub appearance: Option<AppearanceInput>,
}

/// Changes to a profile's own fields: an omitted field is left as it is, `null` clears
/// it. What a profile owns has mutations of its own (`createAddress`, `addTags`, …).
#[derive(InputObject, Default)]
pub(crate) struct ProfileUpdateInput {
    #[graphql(flatten)]
    pub fields: ProfileFields,
}

/// A list of a create input: left out is `Undefined` (an import's upsert keeps the
/// profile's list then).
fn list<T, U: From<T>>(items: Option<Vec<T>>) -> Field<Vec<U>> {
    Field::from(items).map(|items| items.into_iter().map(U::from).collect())
}

impl From<ProfileCreateInput> for plain::ProfileCreateInput {
    fn from(input: ProfileCreateInput) -> Self {
        plain::ProfileCreateInput {
            fields: input.fields.into(),
            addresses: list(input.addresses),
            tags: Field::from(input.tags).map(plain::field::Handles),
            statuses: Field::from(input.statuses).map(plain::field::Handles),
            identities: list(input.identities),
            attributes: Field::Value(Attributes {
                dates: list(input.dates),
                comms: Field::from(input.comms.map(Into::into)),
                appearance: Field::from(input.appearance.map(Into::into)),
            }),
        }
    }
}

impl From<ProfileUpdateInput> for plain::ProfileUpdateInput {
    fn from(input: ProfileUpdateInput) -> Self {
        plain::ProfileUpdateInput { fields: input.fields.into() }
    }
}

pub(super) fn today(ctx: &Context<'_>) -> NaiveDate {
    ctx.data_opt::<Clock>().cloned().unwrap_or_default().today()
}

pub(super) fn region(ctx: &Context<'_>) -> Region {
    ctx.data_opt::<Region>().copied().unwrap_or_default()
}

#[derive(Default)]
pub(crate) struct ProfileMutation;

/// Profile mutations.
#[Object(guard = "Scoped::MUTATION")]
impl ProfileMutation {
    /// Creates a profile with everything it owns, in one transaction.
    #[graphql(requires_scopes = "profiles:write")]
    async fn create_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new profile.")] input: ProfileCreateInput,
    ) -> Result<ProfilePayload> {
        let draft = plain::ProfileCreateInput::from(input).validate(region(ctx), today(ctx));
        respond(lifecycle::create(db(ctx)?, draft).await, profile_payload)
    }

    /// Changes a profile's own fields: an omitted field is left as it is, `null` clears
    /// it. With `expectedVersion`, fails with VERSION_CONFLICT (writing nothing) unless
    /// the profile is still at that version. Every update adds one to `version`.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
        #[graphql(desc = "The changes.")] input: ProfileUpdateInput,
        #[graphql(desc = "The `version` the changes were made against.")] expected_version: Option<i32>,
    ) -> Result<ProfilePayload> {
        let draft = plain::ProfileUpdateInput::from(input).validate(region(ctx));
        respond(lifecycle::update(db(ctx)?, id, expected_version, draft, today(ctx)).await, profile_payload)
    }

    /// Soft-deletes a profile: its type becomes `DELETED` and it is hidden from every
    /// read; its email, phone and identities stay reserved. `restoreProfile` undoes it.
    #[graphql(requires_scopes = "profiles:write")]
    async fn delete_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
    ) -> Result<ProfilePayload> {
        respond(lifecycle::delete(db(ctx)?, id).await, profile_payload)
    }

    /// Brings back a soft-deleted profile with the type it had before.
    #[graphql(requires_scopes = "profiles:write")]
    async fn restore_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
    ) -> Result<ProfilePayload> {
        respond(lifecycle::restore(db(ctx)?, id).await, profile_payload)
    }

    /// Removes a profile, deleted or not, and everything it owns, for good. Its email,
    /// phone and identities are free again.
    #[graphql(requires_scopes = "profiles:write")]
    async fn purge_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
    ) -> Result<PurgeProfilePayload> {
        respond(lifecycle::purge(db(ctx)?, id).await, |id| PurgeProfilePayload {
            purged_profile_id: Some(id),
            user_errors: Vec::new(),
        })
    }
}
