//! The event context: a profile as the reference platform hands it to
//! webhooks — its snake_case keys, the derived fields, the relations — built from the
//! same values and the same derivations the GraphQL API reads.
//!
//! Left out, because the service does not hold them: `reward_balance`,
//! `point_balance`, `combined_balance_dollars` and `aggregations`.

use chrono::NaiveDate;
use entity::{address, appearance, comms, identity, location, profile, profile_date, status, tag, tier};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{birthday, person, phone};
use crate::service::error::Result;
use crate::service::profiles::read::{self, Planned, Relations, Selection};

/// Keys that move with the calendar or with every write, not with what a write
/// changed; `changed` leaves them out.
const NOT_COMPARED: &[&str] = &["updated_at", "birth_days", "birth_days_past", "next_birthday"];

/// Whether the profile counts as complete (`isCompleted`, `is_completed`).
pub(crate) fn is_completed(m: &profile::Model) -> bool {
    person::is_completed(&person::Completeness {
        first_name: m.first_name.as_deref(),
        last_name: m.last_name.as_deref(),
        email: m.email.as_deref(),
        mobile_phone: m.mobile_phone.as_deref(),
        birth_date: birthday::birth_date(m.birth_year, m.birth_month, m.birth_day),
    })
}

#[derive(Serialize)]
struct Attributes<'a> {
    comms: Option<&'a comms::Model>,
    appearance: Option<&'a appearance::Model>,
    dates: &'a [profile_date::Model],
}

/// The context's shape, key for key as the reference document lists them.
#[derive(Serialize)]
struct Context<'a> {
    id: Uuid,
    external_id: Option<&'a str>,
    title: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    full_name: Option<String>,
    email: Option<&'a str>,
    gender: Option<entity::enums::Gender>,
    currency: Option<&'a str>,
    joined_at: chrono::DateTime<chrono::Utc>,
    mobile_phone: Option<&'a str>,
    mobile_phone_country: Option<u16>,
    mobile_phone_national: Option<String>,
    mobile_phone_national_prefix: Option<String>,
    mobile_phone_e164: Option<String>,
    secondary_phone: Option<&'a str>,
    birth_year: Option<i32>,
    birth_month: Option<i32>,
    birth_day: Option<i32>,
    company: Option<&'a str>,
    occupation: Option<&'a str>,
    avatar_url: Option<&'a str>,
    preferred_location_id: Option<i32>,
    joined_location_id: Option<i32>,
    joined_location: Option<&'a location::Model>,
    preferred_location: Option<&'a location::Model>,
    tier_handle: Option<&'a str>,
    tier: Option<&'a tier::Model>,
    birth_date: Option<NaiveDate>,
    birth_days: Option<i64>,
    birth_days_past: Option<i64>,
    next_birthday: Option<NaiveDate>,
    is_completed: bool,
    identities: &'a [identity::Model],
    tags: &'a [tag::Model],
    flattened_tags: Vec<&'a str>,
    flattened_statuses: Vec<&'a str>,
    attributes: Attributes<'a>,
    statuses: &'a [status::Model],
    custom_attributes: &'a Value,
    address: Option<&'a address::Model>,
    addresses: &'a [address::Model],
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    profile_type: entity::enums::ProfileType,
}

/// The context of a profile read with [`Selection::everything`], as of `today` (UTC).
///
/// Every field of `Context` serialises (no maps with non-string keys, no failing
/// serialiser), and a struct comes out as an object: anything else is a bug.
pub(crate) fn of(planned: &Planned, today: NaiveDate) -> Map<String, Value> {
    of_parts(&planned.model, &planned.relations, today)
}

/// [`of`] a profile's row and its relations, read apart.
#[allow(clippy::expect_used, reason = "`Context` is a struct of serialisable fields")]
pub(crate) fn of_parts(model: &profile::Model, relations: &Relations, today: NaiveDate) -> Map<String, Value> {
    match serde_json::to_value(context(model, relations, today)).expect("a context serialises") {
        Value::Object(map) => map,
        other => unreachable!("a struct serialises to an object, not {other}"),
    }
}

/// The context [`of`] gives, as JSON text, written straight from the profile (no
/// [`Value`] in between: a new profile's event needs nothing else).
pub(crate) fn text(planned: &Planned, today: NaiveDate) -> String {
    text_of_parts(&planned.model, &planned.relations, today)
}

/// [`text`] of a profile's row and its relations, read apart.
#[allow(clippy::expect_used, reason = "`Context` is a struct of serialisable fields")]
pub(crate) fn text_of_parts(model: &profile::Model, relations: &Relations, today: NaiveDate) -> String {
    serde_json::to_string(&context(model, relations, today)).expect("a context serialises")
}

/// Every key of a context, in the order [`of`]'s map has them.
pub(crate) fn keys() -> &'static [String] {
    static KEYS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        all_keys(&of(&Planned { model: profile::Model::default(), relations: Default::default() }, NaiveDate::MIN))
    });
    &KEYS
}

fn context<'a>(m: &'a profile::Model, r: &'a Relations, today: NaiveDate) -> Context<'a> {
    let addresses = r.addresses.as_deref().unwrap_or_default();
    let identities = r.identities.as_deref().unwrap_or_default();
    let tags = r.tags.as_deref().unwrap_or_default();
    let statuses = r.statuses.as_deref().unwrap_or_default();
    let phone = m.mobile_phone.as_deref().and_then(phone::parts);
    Context {
        id: m.id,
        external_id: identities.iter().find(|i| i.is_primary).map(|i| i.identifier.as_str()),
        title: m.title.as_deref(),
        first_name: m.first_name.as_deref(),
        last_name: m.last_name.as_deref(),
        full_name: person::full_name(m.first_name.as_deref(), m.last_name.as_deref()),
        email: m.email.as_deref(),
        gender: m.gender,
        currency: m.currency.as_deref(),
        joined_at: m.joined_at,
        mobile_phone: m.mobile_phone.as_deref(),
        mobile_phone_country: phone.as_ref().map(|p| p.country_code),
        mobile_phone_national: phone.as_ref().map(|p| p.national.clone()),
        mobile_phone_national_prefix: phone.as_ref().map(|p| p.national_prefix.clone()),
        mobile_phone_e164: phone.map(|p| p.e164),
        secondary_phone: m.secondary_phone.as_deref(),
        birth_year: m.birth_year,
        birth_month: m.birth_month,
        birth_day: m.birth_day,
        company: m.company.as_deref(),
        occupation: m.occupation.as_deref(),
        avatar_url: m.avatar_url.as_deref(),
        preferred_location_id: m.preferred_location_id,
        joined_location_id: m.joined_location_id,
        joined_location: r.joined_location.as_ref().and_then(Option::as_ref),
        preferred_location: r.preferred_location.as_ref().and_then(Option::as_ref),
        tier_handle: m.tier_handle.as_deref(),
        tier: r.tier.as_ref().and_then(Option::as_ref),
        birth_date: birthday::birth_date(m.birth_year, m.birth_month, m.birth_day),
        birth_days: birthday::days_until(m.birth_month, m.birth_day, today),
        birth_days_past: birthday::days_since(m.birth_month, m.birth_day, today),
        next_birthday: birthday::next_birthday(m.birth_month, m.birth_day, today),
        is_completed: is_completed(m),
        identities,
        tags,
        flattened_tags: tags.iter().map(|t| t.handle.as_str()).collect(),
        flattened_statuses: statuses.iter().map(|s| s.handle.as_str()).collect(),
        attributes: Attributes {
            comms: r.comms.as_ref().and_then(Option::as_ref),
            appearance: r.appearance.as_ref().and_then(Option::as_ref),
            dates: r.dates.as_deref().unwrap_or_default(),
        },
        statuses,
        custom_attributes: &m.custom_attributes,
        address: addresses.iter().find(|a| a.is_default),
        addresses,
        created_at: m.created_at,
        updated_at: m.updated_at,
        profile_type: m.profile_type,
    }
}

/// The profiles with `ids` (deleted ones too), with all a context holds, in one
/// statement (none for no ids).
pub(crate) async fn read(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Planned>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = profile::Entity::find().filter(profile::Column::Id.is_in(ids.iter().copied()));
    read::rows(db, query, &Selection::everything()).await
}

/// The top-level keys whose value differs between `before` and `after`, in
/// alphabetical order (the order of the context's keys); keys that move with the calendar or with every write are left out.
pub(crate) fn changed(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    after
        .iter()
        .filter(|(key, value)| !NOT_COMPARED.contains(&key.as_str()) && before.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect()
}

/// [`changed`] between two rows of one profile whose relations did not change: their
/// keys compared without relations, as of `today`.
pub(crate) fn row_changed(before: &profile::Model, after: &profile::Model, today: NaiveDate) -> Vec<String> {
    let none = Relations::default();
    changed(&of_parts(before, &none, today), &of_parts(after, &none, today))
}

/// Every key of a context, for `profile.created` (and for a change to a profile whose
/// earlier context is unknown).
pub(crate) fn all_keys(context: &Map<String, Value>) -> Vec<String> {
    context.keys().cloned().collect()
}

/// The reference's keys the context does not have (the service holds no balances or
/// aggregations); the README lists them, and an import knows them and ignores them.
pub(crate) const LEFT_OUT: &[&str] = &["reward_balance", "point_balance", "combined_balance_dollars", "aggregations"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level keys of the reference's "Event Context" document (a copy of the
    /// platform's profile model, `docs/reference`; not strict JSON: it has comments and a missing colon).
    fn reference_keys() -> Vec<String> {
        let text = include_str!("../../../docs/reference/profile-properties.txt");
        let start = text.find("Event Context").map(|at| &text[at..]).unwrap_or_default();
        let mut keys = Vec::new();
        let mut depth = 0;
        for line in start.lines().skip(2) {
            let line = line.trim();
            if depth == 1
                && let Some(rest) = line.strip_prefix('"')
                && let Some(end) = rest.find('"')
            {
                keys.push(rest[..end].to_owned());
            }
            depth += line.matches(['{', '[']).count();
            depth -= line.matches(['}', ']']).count().min(depth);
            if depth == 0 && line.starts_with('}') {
                break;
            }
        }
        keys
    }

    #[test]
    fn the_context_has_the_reference_keys_but_the_ones_left_out() {
        let mut reference: Vec<String> = reference_keys();
        assert!(reference.len() > 40, "the reference document was read: {reference:?}");
        reference.retain(|key| !LEFT_OUT.contains(&key.as_str()));
        reference.sort();
        reference.dedup();
        let planned = Planned { model: profile::Model::default(), relations: Default::default() };
        let mut ours: Vec<String> = all_keys(&of(&planned, NaiveDate::default()));
        ours.sort();
        assert_eq!(ours, reference);
        assert_eq!(keys(), ours);
    }

    #[test]
    fn the_text_is_the_context() {
        let model = profile::Model { email: Some("a@b.example".into()), birth_month: Some(2), ..Default::default() };
        let planned = Planned { model, relations: Default::default() };
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let parsed: Value = serde_json::from_str(&text(&planned, today)).unwrap_or_default();
        assert_eq!(parsed, Value::Object(of(&planned, today)));
    }

    #[test]
    fn changed_names_the_keys_that_differ_but_not_the_calendar_ones() {
        let before = of(&Planned { model: profile::Model::default(), relations: Default::default() }, NaiveDate::MIN);
        let mut model = profile::Model { email: Some("a@b.example".into()), ..Default::default() };
        model.updated_at = chrono::Utc::now();
        let after = of(&Planned { model, relations: Default::default() }, NaiveDate::MAX);
        assert_eq!(changed(&before, &after), vec!["email".to_owned()]);
        assert!(changed(&after, &after).is_empty());
    }
}
