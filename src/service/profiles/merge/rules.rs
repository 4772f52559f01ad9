//! The rules of a merge (SPEC §9), without the database: from the profiles as the merge
//! found them (the survivor first, then the duplicates in the order the input names
//! them) and the field sources, what the survivor becomes and what moves to it. One
//! code path for the preview and the merge.
//!
//! - A scalar (and the default address, and each custom attribute and appearance key)
//!   is the survivor's, or where that is null the first non-null of the duplicates,
//!   unless a field source names a profile (even for a null value).
//! - Email and mobile phone follow that rule; every value not kept is released.
//! - `joinedAt` is the earliest.
//! - Exact duplicate addresses and dates collapse into the first of them; identities
//!   all move, primary only when the survivor had none (the first duplicate's then).
//! - Tags and statuses are the union.
//! - Comms: opt-outs and bounces are OR-ed, the rest by the scalar rule.

use std::collections::{BTreeSet, HashMap};

use entity::{address, appearance, comms, identity, profile, profile_date};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::service::profiles::read::Planned;

/// A field a merge chooses a value of, and a field source may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MergeField {
    Title,
    FirstName,
    LastName,
    Email,
    Gender,
    Currency,
    MobilePhone,
    SecondaryPhone,
    BirthDate,
    Company,
    Occupation,
    AvatarUrl,
    Tier,
    PreferredLocation,
    JoinedLocation,
    DefaultAddress,
    CustomAttribute,
}

/// The stored scalars, in the order the merge lists them.
const SCALARS: [MergeField; 15] = [
    MergeField::Title,
    MergeField::FirstName,
    MergeField::LastName,
    MergeField::Email,
    MergeField::Gender,
    MergeField::Currency,
    MergeField::MobilePhone,
    MergeField::SecondaryPhone,
    MergeField::BirthDate,
    MergeField::Company,
    MergeField::Occupation,
    MergeField::AvatarUrl,
    MergeField::Tier,
    MergeField::PreferredLocation,
    MergeField::JoinedLocation,
];

/// A custom attribute: its namespace and handle.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttributeKey {
    pub namespace: String,
    pub handle: String,
}

/// Which field a field source is about: a field, or one custom attribute.
pub(crate) type SourceKey = (MergeField, Option<AttributeKey>);

/// Another profile's value of a field, which the merge did not keep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alternative {
    pub profile_id: Uuid,
    pub value: Value,
}

/// The value a merge chose for a field, and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChoice {
    pub field: MergeField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_attribute: Option<AttributeKey>,
    /// The value (JSON: text, a number, `{year, month, day}` for the birth date, the
    /// address for the default address); null when no profile has one.
    pub value: Value,
    pub from_profile_id: Uuid,
    /// The other profiles' non-null values that differ from it.
    pub alternatives: Vec<Alternative>,
}

/// What moved to the survivor (after exact duplicates collapsed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moves {
    pub addresses: i32,
    pub identities: i32,
    pub dates: i32,
    pub tags: i32,
    pub statuses: i32,
}

/// A unique value a merge freed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    /// `email` or `mobilePhone`.
    pub field: String,
    pub profile_id: Uuid,
    pub value: String,
}

/// What a merge does, worked out before any statement.
pub(crate) struct Plan {
    /// The survivor's columns that change.
    pub columns: profile::ActiveModel,
    pub fields: Vec<FieldChoice>,
    pub released: Vec<Released>,
    pub moves: Moves,
    /// The address that is the survivor's default afterwards.
    pub default_address: Option<i32>,
    /// Duplicates' addresses and dates that collapse into one the survivor keeps.
    pub dropped_addresses: Vec<i32>,
    pub dropped_dates: Vec<i32>,
    /// The duplicate identity that becomes the survivor's primary (it had none).
    pub primary_identity: Option<i32>,
    /// Tag and status ids the survivor gains.
    pub new_tags: Vec<i32>,
    pub new_statuses: Vec<i32>,
    /// The survivor's comms and appearance, when they change.
    pub comms: Option<comms::Model>,
    pub appearance: Option<appearance::Model>,
}

/// The profile a value comes from: the one a source names, else the first with a
/// non-null value (the survivor first), else the survivor.
fn pick(values: &[Value], source: Option<usize>) -> usize {
    source.unwrap_or_else(|| values.iter().position(|v| !v.is_null()).unwrap_or(0))
}

/// The choice of field `key` among `values` (one per profile, in `ids` order).
fn choice(key: &SourceKey, ids: &[Uuid], values: Vec<Value>, source: Option<usize>) -> (usize, FieldChoice) {
    let at = pick(&values, source);
    let value = values[at].clone();
    let alternatives = ids
        .iter()
        .zip(&values)
        .enumerate()
        .filter(|(i, (_, v))| *i != at && !v.is_null() && **v != value)
        .map(|(_, (id, v))| Alternative { profile_id: *id, value: v.clone() })
        .collect();
    let field =
        FieldChoice { field: key.0, custom_attribute: key.1.clone(), value, from_profile_id: ids[at], alternatives };
    (at, field)
}

/// A scalar's value in a profile, as the merge shows it.
fn scalar(field: MergeField, m: &profile::Model) -> Value {
    match field {
        MergeField::Title => json!(m.title),
        MergeField::FirstName => json!(m.first_name),
        MergeField::LastName => json!(m.last_name),
        MergeField::Email => json!(m.email),
        MergeField::Gender => json!(m.gender),
        MergeField::Currency => json!(m.currency),
        MergeField::MobilePhone => json!(m.mobile_phone),
        MergeField::SecondaryPhone => json!(m.secondary_phone),
        MergeField::BirthDate => match (m.birth_year, m.birth_month, m.birth_day) {
            (None, None, None) => Value::Null,
            (year, month, day) => json!({ "year": year, "month": month, "day": day }),
        },
        MergeField::Company => json!(m.company),
        MergeField::Occupation => json!(m.occupation),
        MergeField::AvatarUrl => json!(m.avatar_url),
        MergeField::Tier => json!(m.tier_handle),
        MergeField::PreferredLocation => json!(m.preferred_location_id),
        MergeField::JoinedLocation => json!(m.joined_location_id),
        MergeField::DefaultAddress | MergeField::CustomAttribute => Value::Null,
    }
}

/// Copies scalar `field` of `from` onto `columns` when it differs from `survivor`'s.
fn take(field: MergeField, from: &profile::Model, survivor: &profile::Model, c: &mut profile::ActiveModel) {
    macro_rules! copy {
        ($($column:ident),+) => {{$(
            if from.$column != survivor.$column {
                c.$column = Set(from.$column.clone());
            }
        )+}};
    }
    match field {
        MergeField::Title => copy!(title),
        MergeField::FirstName => copy!(first_name),
        MergeField::LastName => copy!(last_name),
        MergeField::Email => copy!(email),
        MergeField::Gender => copy!(gender),
        MergeField::Currency => copy!(currency),
        MergeField::MobilePhone => copy!(mobile_phone),
        MergeField::SecondaryPhone => copy!(secondary_phone),
        MergeField::BirthDate => copy!(birth_year, birth_month, birth_day),
        MergeField::Company => copy!(company),
        MergeField::Occupation => copy!(occupation),
        MergeField::AvatarUrl => copy!(avatar_url),
        MergeField::Tier => copy!(tier_handle),
        MergeField::PreferredLocation => copy!(preferred_location_id),
        MergeField::JoinedLocation => copy!(joined_location_id),
        MergeField::DefaultAddress | MergeField::CustomAttribute => {}
    }
}

/// A record as JSON without the keys that are not its content.
fn content(record: &impl Serialize, bookkeeping: &[&str]) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        for key in bookkeeping {
            map.remove(*key);
        }
    }
    value
}

const RECORD_KEYS: [&str; 5] = ["id", "profile_id", "is_default", "created_at", "updated_at"];

/// Of owned records (the survivor's first), those that repeat an earlier one's content:
/// each with the id of the one it collapses into. Returns the kept count of the
/// duplicates' records, and the dropped ones.
fn collapse<T: Serialize>(survivor: &[T], duplicates: &[&[T]], id: impl Fn(&T) -> i32) -> (i32, HashMap<i32, i32>) {
    let mut kept: Vec<(Value, i32)> = survivor.iter().map(|r| (content(r, &RECORD_KEYS), id(r))).collect();
    let mut moved = 0;
    let mut dropped = HashMap::new();
    for record in duplicates.iter().flat_map(|records| records.iter()) {
        let value = content(record, &RECORD_KEYS);
        match kept.iter().find(|(other, _)| *other == value) {
            Some((_, into)) => {
                dropped.insert(id(record), *into);
            }
            None => {
                kept.push((value, id(record)));
                moved += 1;
            }
        }
    }
    (moved, dropped)
}

/// A one-row record (comms, appearance) merged key by key: the survivor's value, or
/// where it is null the first non-null of the duplicates; `or` keys are OR-ed.
fn per_key<T: Serialize + for<'de> Deserialize<'de> + PartialEq>(
    rows: &[Option<&T>],
    or: impl Fn(&str) -> bool,
) -> Option<T> {
    let survivor = rows.first().copied().flatten()?;
    let maps: Vec<Map<String, Value>> = rows
        .iter()
        .map(|row| match row.map(|r| serde_json::to_value(r).unwrap_or(Value::Null)) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        })
        .collect();
    let mut merged = maps[0].clone();
    for (key, value) in merged.iter_mut() {
        if matches!(key.as_str(), "profile_id" | "created_at" | "updated_at") {
            continue;
        }
        let values: Vec<Value> = maps.iter().map(|m| m.get(key).cloned().unwrap_or(Value::Null)).collect();
        *value = if or(key) {
            Value::Bool(values.iter().any(|v| v.as_bool() == Some(true)))
        } else {
            values[pick(&values, None)].clone()
        };
    }
    let merged: T = serde_json::from_value(Value::Object(merged)).ok()?;
    (merged != *survivor).then_some(merged)
}

/// The keys of custom attributes across profiles, the survivor's first, then those a
/// source names though no profile has them (in order: each gets a null value, which
/// removes nothing).
fn attribute_keys(profiles: &[&Planned], sources: &HashMap<SourceKey, usize>) -> Vec<AttributeKey> {
    let mut keys = Vec::new();
    let mut seen = BTreeSet::new();
    for p in profiles {
        for (namespace, handles) in p.model.custom_attributes.as_object().into_iter().flatten() {
            for handle in handles.as_object().into_iter().flatten().map(|(h, _)| h) {
                let key = AttributeKey { namespace: namespace.clone(), handle: handle.clone() };
                if seen.insert(key.clone()) {
                    keys.push(key);
                }
            }
        }
    }
    let named: BTreeSet<&AttributeKey> = sources
        .keys()
        .filter_map(|(field, name)| name.as_ref().filter(|_| *field == MergeField::CustomAttribute))
        .filter(|name| !seen.contains(*name))
        .collect();
    keys.extend(named.into_iter().cloned());
    keys
}

fn attribute(p: &Planned, key: &AttributeKey) -> Value {
    p.model.custom_attributes.get(&key.namespace).and_then(|h| h.get(&key.handle)).cloned().unwrap_or(Value::Null)
}

fn addresses(p: &Planned) -> &[address::Model] {
    p.relations.addresses.as_deref().unwrap_or_default()
}

fn dates(p: &Planned) -> &[profile_date::Model] {
    p.relations.dates.as_deref().unwrap_or_default()
}

fn identities(p: &Planned) -> &[identity::Model] {
    p.relations.identities.as_deref().unwrap_or_default()
}

/// The default address of a profile (its first, should none be marked).
fn default_address(p: &Planned) -> Option<&address::Model> {
    let all = addresses(p);
    all.iter().find(|a| a.is_default).or_else(|| all.first())
}

/// Works out the merge of `profiles` (the survivor first, then the duplicates in input
/// order, each read with everything), taking each field a source names from the
/// profile at that index.
pub(crate) fn plan(profiles: &[&Planned], sources: &HashMap<SourceKey, usize>) -> Plan {
    let survivor = &profiles[0].model;
    let ids: Vec<Uuid> = profiles.iter().map(|p| p.model.id).collect();
    let mut columns = profile::ActiveModel::default();
    let mut fields = Vec::new();
    let mut released = Vec::new();
    for field in SCALARS {
        let key = (field, None);
        let values = profiles.iter().map(|p| scalar(field, &p.model)).collect();
        let (at, chosen) = choice(&key, &ids, values, sources.get(&key).copied());
        take(field, &profiles[at].model, survivor, &mut columns);
        let unique = match field {
            MergeField::Email => Some("email"),
            MergeField::MobilePhone => Some("mobilePhone"),
            _ => None,
        };
        if let Some(name) = unique {
            for (i, p) in profiles.iter().enumerate() {
                if let Some(value) = scalar(field, &p.model).as_str().filter(|_| i != at) {
                    released.push(Released { field: name.to_owned(), profile_id: p.model.id, value: value.to_owned() });
                }
            }
        }
        fields.push(chosen);
    }
    if let Some(earliest) = profiles.iter().map(|p| p.model.joined_at).min().filter(|at| *at != survivor.joined_at) {
        columns.joined_at = Set(earliest);
    }

    // The default address, by the scalar rule over each profile's default.
    let key = (MergeField::DefaultAddress, None);
    let values =
        profiles.iter().map(|p| default_address(p).map_or(Value::Null, |a| content(a, &RECORD_KEYS))).collect();
    let (at, chosen) = choice(&key, &ids, values, sources.get(&key).copied());
    let mut default = default_address(profiles[at]).map(|a| a.id);
    fields.push(chosen);

    // Custom attributes, key by key.
    let mut attributes = Map::new();
    for name in attribute_keys(profiles, sources) {
        let key = (MergeField::CustomAttribute, Some(name.clone()));
        let values = profiles.iter().map(|p| attribute(p, &name)).collect();
        let (_, chosen) = choice(&key, &ids, values, sources.get(&key).copied());
        if !chosen.value.is_null() {
            let namespace = attributes.entry(name.namespace.clone()).or_insert_with(|| json!({}));
            if let Some(handles) = namespace.as_object_mut() {
                handles.insert(name.handle.clone(), chosen.value.clone());
            }
        }
        fields.push(chosen);
    }
    let attributes = Value::Object(attributes);
    if attributes != survivor.custom_attributes {
        columns.custom_attributes = Set(attributes);
    }

    let duplicates = &profiles[1..];
    let dup_addresses: Vec<&[address::Model]> = duplicates.iter().map(|p| addresses(p)).collect();
    let (moved_addresses, dropped_addresses) =
        collapse(addresses(profiles[0]), &dup_addresses, |a: &address::Model| a.id);
    if let Some(into) = default.and_then(|id| dropped_addresses.get(&id)) {
        default = Some(*into);
    }
    let dup_dates: Vec<&[profile_date::Model]> = duplicates.iter().map(|p| dates(p)).collect();
    let (moved_dates, dropped_dates) = collapse(dates(profiles[0]), &dup_dates, |d: &profile_date::Model| d.id);

    let primary_identity = if identities(profiles[0]).iter().any(|i| i.is_primary) {
        None
    } else {
        duplicates.iter().flat_map(|p| identities(p)).find(|i| i.is_primary).map(|i| i.id)
    };
    let moved_identities = duplicates.iter().map(|p| identities(p).len()).sum::<usize>();

    let union = |ids_of: &dyn Fn(&Planned) -> Vec<i32>| -> Vec<i32> {
        let held: BTreeSet<i32> = ids_of(profiles[0]).into_iter().collect();
        let gained: BTreeSet<i32> = duplicates.iter().flat_map(|p| ids_of(p)).filter(|id| !held.contains(id)).collect();
        gained.into_iter().collect()
    };
    let new_tags = union(&|p| p.relations.tags.iter().flatten().map(|t| t.id).collect());
    let new_statuses = union(&|p| p.relations.statuses.iter().flatten().map(|s| s.id).collect());

    let contacts: Vec<Option<&comms::Model>> =
        profiles.iter().map(|p| p.relations.comms.as_ref().and_then(Option::as_ref)).collect();
    let comms = per_key(&contacts, |key| key.ends_with("_optout") || key.ends_with("_bounced"));
    let looks: Vec<Option<&appearance::Model>> =
        profiles.iter().map(|p| p.relations.appearance.as_ref().and_then(Option::as_ref)).collect();
    let appearance = per_key(&looks, |_| false);

    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    Plan {
        columns,
        fields,
        released,
        moves: Moves {
            addresses: moved_addresses,
            identities: count(moved_identities),
            dates: moved_dates,
            tags: count(new_tags.len()),
            statuses: count(new_statuses.len()),
        },
        default_address: default,
        dropped_addresses: dropped_addresses.into_keys().collect(),
        dropped_dates: dropped_dates.into_keys().collect(),
        primary_identity,
        new_tags,
        new_statuses,
        comms,
        appearance,
    }
}

/// The fields a source may name in a merge of `profiles`: whether profile `at` can
/// give `key` (a default address needs an address).
pub(crate) fn can_give(profiles: &[&Planned], at: usize, key: &SourceKey) -> bool {
    key.0 != MergeField::DefaultAddress || default_address(profiles[at]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::profiles::read::Relations;

    fn planned(model: profile::Model, comms: Option<comms::Model>) -> Planned {
        let relations = Relations { comms: Some(comms), ..Relations::default() };
        Planned { model: profile::Model { id: Uuid::new_v4(), ..model }, relations }
    }

    fn set<T: Clone + Into<sea_orm::Value>>(value: &sea_orm::ActiveValue<T>) -> Option<T> {
        match value {
            sea_orm::ActiveValue::Set(v) => Some(v.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_scalar_is_the_survivors_else_the_first_duplicates_unless_a_source_names_one() {
        let s = planned(
            profile::Model { last_name: Some("S".into()), company: Some("Acme".into()), ..Default::default() },
            None,
        );
        let a = planned(
            profile::Model { first_name: Some("A".into()), last_name: Some("L".into()), ..Default::default() },
            None,
        );
        let b = planned(profile::Model { first_name: Some("B".into()), ..Default::default() }, None);
        // The company from `b`, which has none: a null taken on purpose.
        let sources = HashMap::from([((MergeField::Company, None), 2)]);
        let plan = plan(&[&s, &a, &b], &sources);
        assert_eq!(set(&plan.columns.first_name), Some(Some("A".to_owned())), "the first duplicate's");
        assert_eq!(set(&plan.columns.last_name), None, "the survivor's stays");
        assert_eq!(set(&plan.columns.company), Some(None), "the source's null");
        let first = plan.fields.iter().find(|f| f.field == MergeField::FirstName).expect("listed");
        assert_eq!((first.from_profile_id, first.alternatives.len()), (a.model.id, 1));
    }

    #[test]
    fn a_birth_date_moves_whole_and_every_email_and_phone_not_kept_is_released() {
        let s = profile::Model {
            birth_month: Some(2),
            email: Some("s@example.com".into()),
            mobile_phone: Some("+61400000001".into()),
            ..Default::default()
        };
        let d = profile::Model {
            birth_year: Some(1990),
            birth_month: Some(3),
            birth_day: Some(4),
            email: Some("d@example.com".into()),
            mobile_phone: Some("+61400000002".into()),
            ..Default::default()
        };
        let (s, d) = (planned(s, None), planned(d, None));
        let kept = plan(&[&s, &d], &HashMap::new());
        assert_eq!((set(&kept.columns.birth_year), set(&kept.columns.birth_day)), (None, None), "never mixed");
        let sources = HashMap::from([((MergeField::BirthDate, None), 1), ((MergeField::MobilePhone, None), 1)]);
        let taken = plan(&[&s, &d], &sources);
        let birth = (set(&taken.columns.birth_year), set(&taken.columns.birth_month), set(&taken.columns.birth_day));
        assert_eq!(birth, (Some(Some(1990)), Some(Some(3)), Some(Some(4))));
        let released: Vec<(&str, Uuid, &str)> =
            taken.released.iter().map(|r| (r.field.as_str(), r.profile_id, r.value.as_str())).collect();
        assert_eq!(released, vec![("email", d.model.id, "d@example.com"), ("mobilePhone", s.model.id, "+61400000001")]);
    }

    #[test]
    fn opt_outs_and_bounces_are_ored_and_the_rest_of_comms_is_the_survivors() {
        let ours = comms::Model { email_promo: true, ..Default::default() };
        let theirs = comms::Model { sms_bounced: true, post_optout: true, email_promo: false, ..Default::default() };
        let s = planned(profile::Model::default(), Some(ours));
        let d = planned(profile::Model::default(), Some(theirs));
        let merged = plan(&[&s, &d], &HashMap::new()).comms.expect("comms change");
        assert!(merged.sms_bounced && merged.post_optout && merged.email_promo);
        assert!(!merged.email_optout);
    }

    #[test]
    fn custom_attributes_merge_key_by_key() {
        let s = profile::Model { custom_attributes: json!({ "a": { "x": 1 } }), ..Default::default() };
        let d = profile::Model {
            custom_attributes: json!({ "a": { "x": 2, "y": 3 }, "b": { "z": 4 } }),
            ..Default::default()
        };
        let (s, d) = (planned(s, None), planned(d, None));
        let key = AttributeKey { namespace: "a".into(), handle: "x".into() };
        let sources = HashMap::from([((MergeField::CustomAttribute, Some(key)), 1)]);
        let merged = set(&plan(&[&s, &d], &sources).columns.custom_attributes);
        assert_eq!(merged, Some(json!({ "a": { "x": 2, "y": 3 }, "b": { "z": 4 } })));
        let merged = set(&plan(&[&s, &d], &HashMap::new()).columns.custom_attributes);
        assert_eq!(merged, Some(json!({ "a": { "x": 1, "y": 3 }, "b": { "z": 4 } })));
    }
}
