//! Profile mutations: create (with everything it owns), update, delete, restore, purge.

use crate::graphql::guard::Scoped;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{Gender, ProfileType};
use uuid::Uuid;

use super::input::{checked, int_id_in, plain, required, text};
use super::owned::{AddressInput, IdentityInput, ProfileDateInput, address_list, date_list, identity_list};
use super::preferences::{AppearanceInput, CommsInput};
use super::{ProfilePayload, db, payload, profile_payload, respond};
use crate::domain::phone::Region;
use crate::domain::validate::{self, MAX_NAME, MAX_TEXT, Path, Problems, UserErrorCode};
use crate::graphql::Clock;
use crate::service::draft::{AppearanceChanges, CommsChanges, Patch, ProfileChanges};
use crate::service::profiles::checks::LocationRef;
use crate::service::profiles::create::NewProfileChanges;
use crate::service::profiles::lifecycle::{self, LocationChange, ProfileCreate, ProfileUpdate};

payload!(PurgeProfilePayload, "The result of `purgeProfile`.", purged_profile_id: Uuid => "Id of the profile that was removed.");

/// The profile's own fields, shared by `ProfileCreateInput` and `ProfileUpdateInput`.
/// On update an omitted field is left as it is and `null` clears it.
#[derive(InputObject, Default)]
#[graphql(name = "ProfileFieldsInput")]
pub struct ProfileFields {
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

/// A location given by id or by external id (not both); `null` in either clears it.
fn location(
    problems: &mut Problems,
    input: &Path,
    id: &MaybeUndefined<ID>,
    external_id: &MaybeUndefined<String>,
    fields: [&str; 2],
) -> LocationChange {
    match (id, external_id) {
        (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => None,
        (MaybeUndefined::Value(_), MaybeUndefined::Value(_)) => {
            problems.add(
                &input.key(fields[1]),
                UserErrorCode::Invalid,
                format!("give `{}` or this, not both", fields[0]),
            );
            None
        }
        (MaybeUndefined::Value(id), _) => {
            int_id_in(problems, &input.key(fields[0]), id).map(|id| Some(LocationRef::Id(id)))
        }
        (_, MaybeUndefined::Value(external)) => {
            Some(validate::text(problems, &input.key(fields[1]), Some(external), MAX_NAME).map(LocationRef::ExternalId))
        }
        _ => Some(None),
    }
}

impl ProfileFields {
    /// The profile columns these fields change, and the location changes.
    fn changes(
        &self,
        problems: &mut Problems,
        input: &Path,
        region: Region,
    ) -> (ProfileChanges, LocationChange, LocationChange) {
        let at = |field: &str| input.key(field);
        let phone = |p: &mut Problems, path: &Path, v: &String| validate::phone(p, path, Some(v), region);
        validate::instant(problems, &at("joinedAt"), self.joined_at.value());
        // In the order of the input's fields, so that errors come in that order.
        let columns = ProfileChanges {
            title: text(problems, &at("title"), &self.title, MAX_NAME),
            first_name: text(problems, &at("firstName"), &self.first_name, MAX_NAME),
            last_name: text(problems, &at("lastName"), &self.last_name, MAX_NAME),
            email: checked(problems, &at("email"), &self.email, |p, path, v| validate::email(p, path, Some(v))),
            gender: plain(&self.gender),
            currency: checked(problems, &at("currency"), &self.currency, |p, path, v| {
                validate::currency(p, path, Some(v))
            }),
            joined_at: required(problems, &at("joinedAt"), &self.joined_at),
            mobile_phone: checked(problems, &at("mobilePhone"), &self.mobile_phone, phone),
            secondary_phone: checked(problems, &at("secondaryPhone"), &self.secondary_phone, phone),
            birth_year: plain(&self.birth_year),
            birth_month: plain(&self.birth_month),
            birth_day: plain(&self.birth_day),
            company: text(problems, &at("company"), &self.company, MAX_TEXT),
            occupation: text(problems, &at("occupation"), &self.occupation, MAX_TEXT),
            avatar_url: checked(problems, &at("avatarUrl"), &self.avatar_url, |p, path, v| {
                validate::http_url(p, path, Some(v))
            }),
            tier_handle: text(problems, &at("tierHandle"), &self.tier_handle, MAX_NAME),
            ..Default::default()
        };
        let preferred = location(
            problems,
            input,
            &self.preferred_location_id,
            &self.preferred_location_external_id,
            ["preferredLocationId", "preferredLocationExternalId"],
        );
        let joined = location(
            problems,
            input,
            &self.joined_location_id,
            &self.joined_location_external_id,
            ["joinedLocationId", "joinedLocationExternalId"],
        );
        let mut profile_type = required(problems, &at("profileType"), &self.profile_type);
        if profile_type == Patch::Set(ProfileType::Deleted) {
            problems.add(&at("profileType"), UserErrorCode::Invalid, "use deleteProfile to delete a profile");
            profile_type = Patch::Keep;
        }
        let custom_attributes = match &self.custom_attributes {
            MaybeUndefined::Undefined => Patch::Keep,
            MaybeUndefined::Null => Patch::Set(serde_json::json!({})),
            MaybeUndefined::Value(value) => {
                validate::custom_attributes(problems, &at("customAttributes"), value);
                Patch::Set(value.clone())
            }
        };
        let columns = ProfileChanges { profile_type, custom_attributes, ..columns };
        (columns, preferred, joined)
    }
}

/// A new profile with everything it owns. Every problem of the input is reported at
/// once; when there is any, nothing is written.
#[derive(InputObject, Default)]
pub struct ProfileCreateInput {
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
pub struct ProfileUpdateInput {
    #[graphql(flatten)]
    pub fields: ProfileFields,
}

/// Handles of a list input, validated and normalised, with the list capped.
pub fn handles(problems: &mut Problems, path: &Path, raw: &[String]) -> Vec<String> {
    if !validate::list_len(problems, path, raw.len()) {
        return Vec::new();
    }
    raw.iter().enumerate().map(|(i, handle)| validate::handle(problems, &path.index(i), handle)).collect()
}

impl ProfileCreateInput {
    pub(super) fn draft(self, region: Region, today: NaiveDate) -> ProfileCreate {
        let mut problems = Problems::default();
        let input = Path::root("input");
        let (changes, preferred_location, joined_location) = self.fields.changes(&mut problems, &input, region);
        let f = &self.fields;
        validate::birth(
            &mut problems,
            &input,
            f.birth_year.value().copied(),
            f.birth_month.value().copied(),
            f.birth_day.value().copied(),
            today,
        );
        let tags = self.tags.unwrap_or_default();
        handles(&mut problems, &input.key("tags"), &tags);
        let statuses = handles(&mut problems, &input.key("statuses"), &self.statuses.unwrap_or_default());
        let addresses = address_list(&mut problems, &input.key("addresses"), self.addresses.unwrap_or_default());
        let dates = date_list(&mut problems, &input.key("dates"), self.dates.unwrap_or_default());
        let identities = identity_list(&mut problems, &input.key("identities"), self.identities.unwrap_or_default());
        let mut comms = CommsChanges::default();
        if let Some(input) = &self.comms {
            input.apply(&mut problems, &Path::root("input").key("comms"), &mut comms);
        }
        let mut appearance = AppearanceChanges::default();
        if let Some(input) = &self.appearance {
            input.apply(&mut problems, &Path::root("input").key("appearance"), &mut appearance);
        }
        let new =
            NewProfileChanges { profile: changes, addresses, dates, identities, tags, statuses, comms, appearance };
        ProfileCreate {
            new,
            preferred_location: preferred_location.flatten(),
            joined_location: joined_location.flatten(),
            problems,
        }
    }
}

pub(super) fn today(ctx: &Context<'_>) -> NaiveDate {
    ctx.data_opt::<Clock>().cloned().unwrap_or_default().today()
}

pub(super) fn region(ctx: &Context<'_>) -> Region {
    ctx.data_opt::<Region>().copied().unwrap_or_default()
}

#[derive(Default)]
pub struct ProfileMutation;

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
        let draft = input.draft(region(ctx), today(ctx));
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
        let mut problems = Problems::default();
        let (columns, preferred_location, joined_location) =
            input.fields.changes(&mut problems, &Path::root("input"), region(ctx));
        let draft = ProfileUpdate { columns, preferred_location, joined_location, problems };
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
