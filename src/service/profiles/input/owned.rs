//! The inputs of addresses, important dates and identities (new ones, nested in a new
//! profile or on their own, and changes to one), and their rules.

use std::collections::HashSet;

use entity::enums::RecurringSchedule;
use entity::scalars::{Date, StringList};
use serde::Deserialize;

use super::field::{Checks, Field, checked, optional, plain, read_objects, required, required_text, text};
use crate::domain::validate::{self, MAX_NAME, MAX_NOTE, MAX_TEXT, Path, Problems, UserErrorCode};
use crate::service::draft::{AddressChanges, DateChanges, IdentityChanges, Patch};
use crate::service::profiles::address::AddressDraft;

/// Longest postcode.
const MAX_POSTCODE: usize = 20;

/// A new postal address: line 1, city, postcode and country are required.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AddressInput {
    pub address_line_1: Field<String>,
    pub address_line_2: Field<String>,
    pub address_line_3: Field<String>,
    pub company: Field<String>,
    pub latitude: Field<f64>,
    pub longitude: Field<f64>,
    pub city: Field<String>,
    pub postcode: Field<String>,
    pub state: Field<String>,
    pub country: Field<String>,
    pub notes: Field<String>,
    pub external_id: Field<String>,
    /// Make this the profile's default address (the first address always is).
    pub is_default: Field<bool>,
}

/// Changes to an address: an omitted field is kept, `null` clears it (and is REQUIRED
/// for line 1, city, postcode and country).
#[derive(Clone, Debug, Default)]
pub(crate) struct AddressUpdateInput {
    pub address_line_1: Field<String>,
    pub address_line_2: Field<String>,
    pub address_line_3: Field<String>,
    pub company: Field<String>,
    pub latitude: Field<f64>,
    pub longitude: Field<f64>,
    pub city: Field<String>,
    pub postcode: Field<String>,
    pub state: Field<String>,
    pub country: Field<String>,
    pub notes: Field<String>,
    pub external_id: Field<String>,
    /// `true` makes this the default address; `false` on the default passes it on.
    pub is_default: Field<bool>,
}

/// A new address is an update of an empty one: what it leaves out is `null`.
impl From<AddressInput> for AddressUpdateInput {
    fn from(a: AddressInput) -> Self {
        AddressUpdateInput {
            address_line_1: a.address_line_1.or_null(),
            address_line_2: a.address_line_2.or_null(),
            address_line_3: a.address_line_3.or_null(),
            company: a.company.or_null(),
            latitude: a.latitude.or_null(),
            longitude: a.longitude.or_null(),
            city: a.city.or_null(),
            postcode: a.postcode.or_null(),
            state: a.state.or_null(),
            country: a.country.or_null(),
            notes: a.notes.or_null(),
            external_id: a.external_id.or_null(),
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
    fn columns(&self, checks: &mut Checks, path: &Path) -> (AddressChanges, Option<bool>) {
        let c = checks;
        let at = |field: &str| path.key(field);
        let columns = AddressChanges {
            address_line_1: required_text(c, &at("addressLine1"), &self.address_line_1, MAX_TEXT),
            address_line_2: text(c, &at("addressLine2"), &self.address_line_2, MAX_TEXT),
            address_line_3: text(c, &at("addressLine3"), &self.address_line_3, MAX_TEXT),
            company: text(c, &at("company"), &self.company, MAX_TEXT),
            latitude: checked(c, &at("latitude"), &self.latitude, coordinate(-90.0..=90.0)),
            longitude: checked(c, &at("longitude"), &self.longitude, coordinate(-180.0..=180.0)),
            city: required_text(c, &at("city"), &self.city, MAX_NAME),
            postcode: required_text(c, &at("postcode"), &self.postcode, MAX_POSTCODE),
            state: text(c, &at("state"), &self.state, MAX_NAME),
            country: required_text(c, &at("country"), &self.country, MAX_NAME),
            notes: text(c, &at("notes"), &self.notes, MAX_NOTE),
            external_id: text(c, &at("externalId"), &self.external_id, MAX_NAME),
            ..Default::default()
        };
        (columns, optional(c, &at("isDefault"), &self.is_default))
    }

    /// The address change `createAddress` or `updateAddress` makes.
    pub(crate) fn validate(&self) -> AddressDraft {
        let mut checks = Checks::default();
        let (columns, make_default) = self.columns(&mut checks, &Path::root("input"));
        AddressDraft { columns, make_default, problems: checks.finish() }
    }
}

/// The addresses of a new profile: exactly one default (the one marked, else the first).
pub(crate) fn address_list(checks: &mut Checks, path: &Path, inputs: Vec<AddressInput>) -> Vec<AddressChanges> {
    if !validate::list_len(&mut checks.problems, path, inputs.len()) {
        return Vec::new();
    }
    let marked: Vec<usize> =
        inputs.iter().enumerate().filter(|(_, a)| a.is_default.value() == Some(&true)).map(|(i, _)| i).collect();
    for extra in marked.iter().skip(1) {
        checks.problems.add(
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
            let (mut columns, _) = AddressUpdateInput::from(input).columns(checks, &path.index(i));
            columns.is_default = Patch::Set(i == default);
            columns
        })
        .collect()
}

/// A new important date: `date` is required; not recurring unless it says so.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileDateInput {
    pub date: Field<Date>,
    pub is_recurring: Field<bool>,
    pub recurring_schedule: Field<RecurringSchedule>,
    pub name: Field<String>,
    pub handle: Field<String>,
    pub relationship: Field<String>,
    pub description: Field<String>,
    pub meta: Field<Vec<String>>,
    pub note: Field<String>,
}

/// Changes to an important date: an omitted field is kept, `null` clears it (and is
/// REQUIRED for `date` and `isRecurring`; `meta` becomes empty).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProfileDateUpdateInput {
    pub date: Field<Date>,
    pub is_recurring: Field<bool>,
    pub recurring_schedule: Field<RecurringSchedule>,
    pub name: Field<String>,
    pub handle: Field<String>,
    pub relationship: Field<String>,
    pub description: Field<String>,
    pub meta: Field<Vec<String>>,
    pub note: Field<String>,
}

/// A new date is an update of an empty one: not recurring and without labels unless
/// it says so; what else it leaves out is `null`.
impl From<ProfileDateInput> for ProfileDateUpdateInput {
    fn from(d: ProfileDateInput) -> Self {
        ProfileDateUpdateInput {
            date: d.date.or_null(),
            is_recurring: d.is_recurring.or(false),
            recurring_schedule: d.recurring_schedule.or_null(),
            name: d.name.or_null(),
            handle: d.handle.or_null(),
            relationship: d.relationship.or_null(),
            description: d.description.or_null(),
            meta: d.meta.or(Vec::new()),
            note: d.note.or_null(),
        }
    }
}

impl ProfileDateUpdateInput {
    fn columns(&self, checks: &mut Checks, path: &Path) -> DateChanges {
        let c = checks;
        let at = |field: &str| path.key(field);
        if matches!(self.recurring_schedule, Field::Value(_)) && self.is_recurring == Field::Value(false) {
            c.problems.add(&at("recurringSchedule"), UserErrorCode::Invalid, "a schedule needs `isRecurring: true`");
        }
        let meta = match checked(c, &at("meta"), &self.meta, |problems, path, items| {
            validate::list_len(problems, path, items.len());
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| validate::required(problems, &path.index(i), Some(item), MAX_NAME))
                .collect();
            Some(StringList(items))
        }) {
            Patch::Set(items) => Patch::Set(items.unwrap_or_default()),
            Patch::Keep => Patch::Keep,
        };
        DateChanges {
            date: match required(c, &at("date"), &self.date) {
                Patch::Set(Date(date)) => {
                    validate::date(&mut c.problems, &at("date"), Some(&date));
                    Patch::Set(date)
                }
                Patch::Keep => Patch::Keep,
            },
            is_recurring: required(c, &at("isRecurring"), &self.is_recurring),
            recurring_schedule: plain(c, &at("recurringSchedule"), &self.recurring_schedule),
            name: text(c, &at("name"), &self.name, MAX_NAME),
            handle: text(c, &at("handle"), &self.handle, MAX_NAME),
            relationship: text(c, &at("relationship"), &self.relationship, MAX_NAME),
            description: text(c, &at("description"), &self.description, MAX_TEXT),
            meta,
            note: text(c, &at("note"), &self.note, MAX_NOTE),
        }
    }

    /// The date change `createProfileDate` or `updateProfileDate` makes.
    pub(crate) fn validate(&self) -> (DateChanges, Problems) {
        let mut checks = Checks::default();
        let columns = self.columns(&mut checks, &Path::root("input"));
        (columns, checks.finish())
    }
}

/// The dates of a new profile.
pub(crate) fn date_list(checks: &mut Checks, path: &Path, inputs: Vec<ProfileDateInput>) -> Vec<DateChanges> {
    if !validate::list_len(&mut checks.problems, path, inputs.len()) {
        return Vec::new();
    }
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| ProfileDateUpdateInput::from(input).columns(checks, &path.index(i)))
        .collect()
}

/// A new identity in another system: `handle` and `identifier` are required; not
/// primary and active unless it says otherwise.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdentityInput {
    pub handle: Field<String>,
    pub identifier: Field<String>,
    pub is_primary: Field<bool>,
    pub is_active: Field<bool>,
}

/// Changes to an identity: an omitted field is kept; none can be null.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdentityUpdateInput {
    pub handle: Field<String>,
    pub identifier: Field<String>,
    pub is_primary: Field<bool>,
    pub is_active: Field<bool>,
}

impl From<IdentityInput> for IdentityUpdateInput {
    fn from(i: IdentityInput) -> Self {
        IdentityUpdateInput {
            handle: i.handle.or_null(),
            identifier: i.identifier.or_null(),
            is_primary: i.is_primary.or(false),
            is_active: i.is_active.or(true),
        }
    }
}

impl IdentityUpdateInput {
    fn columns(&self, checks: &mut Checks, path: &Path) -> IdentityChanges {
        IdentityChanges {
            handle: required_text(checks, &path.key("handle"), &self.handle, MAX_NAME),
            identifier: required_text(checks, &path.key("identifier"), &self.identifier, MAX_TEXT),
            is_primary: required(checks, &path.key("isPrimary"), &self.is_primary),
            is_active: required(checks, &path.key("isActive"), &self.is_active),
        }
    }

    /// The identity change `createIdentity` or `updateIdentity` makes.
    pub(crate) fn validate(&self) -> (IdentityChanges, Problems) {
        let mut checks = Checks::default();
        let columns = self.columns(&mut checks, &Path::root("input"));
        (columns, checks.finish())
    }
}

/// The identities of a new profile: at most one primary, no pair given twice.
pub(crate) fn identity_list(checks: &mut Checks, path: &Path, inputs: Vec<IdentityInput>) -> Vec<IdentityChanges> {
    if !validate::list_len(&mut checks.problems, path, inputs.len()) {
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut primary = false;
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let at = path.index(i);
            if input.is_primary.value() == Some(&true) {
                if primary {
                    checks.problems.add(
                        &at.key("isPrimary"),
                        UserErrorCode::Invalid,
                        "only one identity can be primary",
                    );
                }
                primary = true;
            }
            if let (Some(handle), Some(identifier)) = (input.handle.value(), input.identifier.value())
                && !seen.insert((handle.trim().to_owned(), identifier.trim().to_owned()))
            {
                checks.problems.add(&at.key("identifier"), UserErrorCode::Taken, "this identity is given twice");
            }
            IdentityUpdateInput::from(input).columns(checks, &at)
        })
        .collect()
}

read_objects!(AddressInput, ProfileDateInput, IdentityInput);
