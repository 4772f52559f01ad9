//! The profile inputs as plain values, and the rules that turn them into what the
//! service writes: `createProfile`'s and `updateProfile`'s (from the GraphQL layer,
//! which converts its input types one to one) and an import's rows (read with serde,
//! leniently, from the reference platform's profile JSON).
//!
//! Every problem is recorded with its path under `input` (`["input", "addresses",
//! "0", "postcode"]`), so that all of an input's problems come back at once.

pub(crate) mod field;
pub(crate) mod owned;
pub(crate) mod preferences;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{Gender, ProfileType};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::phone::Region;
use crate::domain::validate::{self, MAX_NAME, MAX_TEXT, Path, Problems, UserErrorCode};
use crate::service::draft::{AppearanceChanges, CommsChanges, Patch, ProfileChanges};
use crate::service::profiles::checks::LocationRef;
use crate::service::profiles::create::NewProfileChanges;
use crate::service::profiles::lifecycle::{LocationChange, ProfileCreate, ProfileUpdate};
use field::{Checks, Field, Handles, Read, Unread, checked, int_id_in, plain, required, text};
use owned::{AddressInput, IdentityInput, ProfileDateInput, address_list, date_list, identity_list};
use preferences::{AppearanceInput, CommsInput};

/// The profile's own fields, shared by the create and the update input. An omitted
/// field is kept (on create: takes its default) and `null` clears it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileFields {
    pub title: Field<String>,
    pub first_name: Field<String>,
    pub last_name: Field<String>,
    pub email: Field<String>,
    pub gender: Field<Gender>,
    pub currency: Field<String>,
    /// Defaults to now on create; cannot be null.
    pub joined_at: Field<DateTime<Utc>>,
    pub mobile_phone: Field<String>,
    pub secondary_phone: Field<String>,
    pub birth_year: Field<i32>,
    pub birth_month: Field<i32>,
    pub birth_day: Field<i32>,
    pub company: Field<String>,
    pub occupation: Field<String>,
    pub avatar_url: Field<String>,
    pub tier_handle: Field<String>,
    /// A location by id or by external id, not both. An id is never read from an
    /// import's row: another database's integer id links nothing; a row names
    /// its locations by external id, name or embedded object (`service::bulk::embedded`).
    #[serde(skip_deserializing)]
    pub preferred_location_id: Field<String>,
    pub preferred_location_external_id: Field<String>,
    #[serde(skip_deserializing)]
    pub joined_location_id: Field<String>,
    pub joined_location_external_id: Field<String>,
    /// Not `DELETED` (that is `deleteProfile`); cannot be null.
    pub profile_type: Field<ProfileType>,
    /// Replaces the whole object; `null` clears it.
    pub custom_attributes: Field<Value>,
}

/// A location given by id or by external id (not both); `null` in either clears it.
fn location(
    checks: &mut Checks,
    input: &Path,
    id: &Field<String>,
    external_id: &Field<String>,
    fields: [&str; 2],
) -> LocationChange {
    // A value that could not be read is reported, and otherwise taken as left out.
    for (field, given) in [(fields[0], id), (fields[1], external_id)] {
        if let Field::Unread(unread) = given {
            checks.unread(&input.key(field), unread);
        }
    }
    match (id, external_id) {
        (Field::Value(_), Field::Value(_)) => {
            checks.problems.add(
                &input.key(fields[1]),
                UserErrorCode::Invalid,
                format!("give `{}` or this, not both", fields[0]),
            );
            None
        }
        (Field::Value(id), _) => {
            int_id_in(&mut checks.problems, &input.key(fields[0]), id).map(|id| Some(LocationRef::Id(id)))
        }
        (_, Field::Value(external)) => Some(
            validate::text(&mut checks.problems, &input.key(fields[1]), Some(external), MAX_NAME)
                .map(LocationRef::ExternalId),
        ),
        (Field::Null, _) | (_, Field::Null) => Some(None),
        _ => None,
    }
}

impl ProfileFields {
    /// The profile columns these fields change, and the location changes.
    fn changes(
        &self,
        checks: &mut Checks,
        input: &Path,
        region: Region,
    ) -> (ProfileChanges, LocationChange, LocationChange) {
        let c = checks;
        let at = |field: &str| input.key(field);
        let phone = |p: &mut Problems, path: &Path, v: &String| validate::phone(p, path, Some(v), region);
        validate::instant(&mut c.problems, &at("joinedAt"), self.joined_at.value());
        // In the order of the input's fields, so that errors come in that order.
        let columns = ProfileChanges {
            title: text(c, &at("title"), &self.title, MAX_NAME),
            first_name: text(c, &at("firstName"), &self.first_name, MAX_NAME),
            last_name: text(c, &at("lastName"), &self.last_name, MAX_NAME),
            email: checked(c, &at("email"), &self.email, |p, path, v| validate::email(p, path, Some(v))),
            gender: plain(c, &at("gender"), &self.gender),
            currency: checked(c, &at("currency"), &self.currency, |p, path, v| validate::currency(p, path, Some(v))),
            joined_at: required(c, &at("joinedAt"), &self.joined_at),
            mobile_phone: checked(c, &at("mobilePhone"), &self.mobile_phone, phone),
            secondary_phone: checked(c, &at("secondaryPhone"), &self.secondary_phone, phone),
            birth_year: plain(c, &at("birthYear"), &self.birth_year),
            birth_month: plain(c, &at("birthMonth"), &self.birth_month),
            birth_day: plain(c, &at("birthDay"), &self.birth_day),
            company: text(c, &at("company"), &self.company, MAX_TEXT),
            occupation: text(c, &at("occupation"), &self.occupation, MAX_TEXT),
            avatar_url: checked(c, &at("avatarUrl"), &self.avatar_url, |p, path, v| {
                validate::http_url(p, path, Some(v))
            }),
            tier_handle: text(c, &at("tierHandle"), &self.tier_handle, MAX_NAME),
            ..Default::default()
        };
        let preferred = location(
            c,
            input,
            &self.preferred_location_id,
            &self.preferred_location_external_id,
            ["preferredLocationId", "preferredLocationExternalId"],
        );
        let joined = location(
            c,
            input,
            &self.joined_location_id,
            &self.joined_location_external_id,
            ["joinedLocationId", "joinedLocationExternalId"],
        );
        let mut profile_type = required(c, &at("profileType"), &self.profile_type);
        if profile_type == Patch::Set(ProfileType::Deleted) {
            c.problems.add(&at("profileType"), UserErrorCode::Invalid, "use deleteProfile to delete a profile");
            profile_type = Patch::Keep;
        }
        let custom_attributes = match checked(c, &at("customAttributes"), &self.custom_attributes, |p, path, value| {
            validate::custom_attributes(p, path, value);
            Some(value.clone())
        }) {
            Patch::Keep => Patch::Keep,
            // `null` clears them: no attributes is the empty object.
            Patch::Set(value) => Patch::Set(value.unwrap_or_else(|| serde_json::json!({}))),
        };
        let columns = ProfileChanges { profile_type, custom_attributes, ..columns };
        (columns, preferred, joined)
    }
}

/// What a profile's row keeps under `attributes` in the reference platform's JSON.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Attributes {
    pub dates: Field<Vec<ProfileDateInput>>,
    pub comms: Field<CommsInput>,
    pub appearance: Field<AppearanceInput>,
}

/// `attributes` that is no object holds none of these: it is ignored.
impl Read for Attributes {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        Ok(Some(field::object(value).ok().flatten().unwrap_or_default()))
    }
}

/// A new profile with everything it owns, as `createProfile` takes it and as an
/// import's row gives it (keys it does not know, derived or read-only, are ignored).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileCreateInput {
    #[serde(flatten)]
    pub fields: ProfileFields,
    /// At most 250. The first is the default unless one says `is_default`.
    pub addresses: Field<Vec<AddressInput>>,
    /// Tag handles (at most 250); unknown tags are created.
    pub tags: Field<Handles>,
    /// Status handles (at most 250); each must be defined.
    pub statuses: Field<Handles>,
    /// At most 250; at most one primary.
    pub identities: Field<Vec<IdentityInput>>,
    /// Important dates, communication preferences and appearance.
    pub attributes: Field<Attributes>,
}

/// Which of a profile's lists an input gives: on an import's update, each one given
/// replaces the profile's, and the others are kept.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Given {
    pub addresses: bool,
    pub dates: bool,
    pub identities: bool,
    pub tags: bool,
    pub statuses: bool,
}

/// Handles of a list input, validated and normalised, with the list capped.
pub(crate) fn handles(problems: &mut Problems, path: &Path, raw: &[String]) -> Vec<String> {
    if !validate::list_len(problems, path, raw.len()) {
        return Vec::new();
    }
    raw.iter().enumerate().map(|(i, handle)| validate::handle(problems, &path.index(i), handle)).collect()
}

/// The items of a list field: left out, `null` or unread are none (an unread one is
/// reported).
fn items<T: Default>(checks: &mut Checks, path: &Path, value: Field<T>) -> T {
    match value {
        Field::Value(items) => items,
        Field::Unread(unread) => {
            checks.unread(path, &unread);
            T::default()
        }
        Field::Undefined | Field::Null => T::default(),
    }
}

impl ProfileCreateInput {
    /// The keys of a row this input reads: the profile's own fields (told by serde's
    /// derive) and the lists and `attributes` beside them (written out, since the
    /// flattened fields keep the derive from telling them; a unit test checks both).
    pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
        const OWNED: [&str; 5] = ["addresses", "tags", "statuses", "identities", "attributes"];
        field::field_names::<ProfileFields>().iter().copied().chain(OWNED)
    }

    /// Which of a profile's lists the input gives (`null` included).
    pub(crate) fn gives(&self) -> Given {
        Given {
            addresses: self.addresses.is_given(),
            dates: self.attributes.value().is_some_and(|a| a.dates.is_given()),
            identities: self.identities.is_given(),
            tags: self.tags.is_given(),
            statuses: self.statuses.is_given(),
        }
    }

    /// The new profile, with every problem of the input found without the database.
    pub(crate) fn validate(self, region: Region, today: NaiveDate) -> ProfileCreate {
        let mut checks = Checks::default();
        let c = &mut checks;
        let input = Path::root("input");
        let (changes, preferred_location, joined_location) = self.fields.changes(c, &input, region);
        let f = &self.fields;
        validate::birth(
            &mut c.problems,
            &input,
            f.birth_year.value().copied(),
            f.birth_month.value().copied(),
            f.birth_day.value().copied(),
            today,
        );
        let attributes = items(c, &input.key("attributes"), self.attributes);
        // Tags keep the handles as given: an auto-created tag is named after them.
        let tags = items(c, &input.key("tags"), self.tags).0;
        handles(&mut c.problems, &input.key("tags"), &tags);
        let statuses = items(c, &input.key("statuses"), self.statuses).0;
        let statuses = handles(&mut c.problems, &input.key("statuses"), &statuses);
        let addresses = items(c, &input.key("addresses"), self.addresses);
        let addresses = address_list(c, &input.key("addresses"), addresses);
        let dates = items(c, &input.key("dates"), attributes.dates);
        let dates = date_list(c, &input.key("dates"), dates);
        let identities = items(c, &input.key("identities"), self.identities);
        let identities = identity_list(c, &input.key("identities"), identities);
        let mut comms = CommsChanges::default();
        match attributes.comms {
            Field::Value(input) => input.apply(c, &Path::root("input").key("comms"), &mut comms),
            Field::Unread(unread) => c.unread(&input.key("comms"), &unread),
            Field::Undefined | Field::Null => {}
        }
        let mut appearance = AppearanceChanges::default();
        match attributes.appearance {
            Field::Value(input) => input.apply(c, &Path::root("input").key("appearance"), &mut appearance),
            Field::Unread(unread) => c.unread(&input.key("appearance"), &unread),
            Field::Undefined | Field::Null => {}
        }
        let new =
            NewProfileChanges { profile: changes, addresses, dates, identities, tags, statuses, comms, appearance };
        ProfileCreate {
            new,
            preferred_location: preferred_location.flatten(),
            joined_location: joined_location.flatten(),
            problems: checks.finish(),
        }
    }
}

/// Changes to a profile's own fields (what it owns has inputs of its own).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileUpdateInput {
    #[serde(flatten)]
    pub fields: ProfileFields,
}

impl ProfileUpdateInput {
    /// The columns `updateProfile` changes, with every problem found without the
    /// database.
    pub(crate) fn validate(self, region: Region) -> ProfileUpdate {
        let mut checks = Checks::default();
        let (columns, preferred_location, joined_location) =
            self.fields.changes(&mut checks, &Path::root("input"), region);
        ProfileUpdate { columns, preferred_location, joined_location, problems: checks.finish() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the input reads `key`: a row giving it `null` is not the empty input.
    fn reads(key: &str) -> bool {
        let row = serde_json::json!({ key: null });
        let input = ProfileCreateInput::deserialize(&row).unwrap_or_default();
        format!("{input:?}") != format!("{:?}", ProfileCreateInput::default())
    }

    #[test]
    fn the_keys_are_those_the_input_reads() {
        let keys: Vec<&str> = ProfileCreateInput::keys().collect();
        assert!(keys.len() > 20 && keys.contains(&"first_name") && keys.contains(&"attributes"), "{keys:?}");
        for key in &keys {
            assert!(reads(key), "`{key}` is listed but not read");
        }
        for key in ["full_name", "address", "tier", "emial", "id", "external_id", "created_at"] {
            assert!(!reads(key) && !keys.contains(&key), "`{key}` is read but not listed");
        }
    }
}
