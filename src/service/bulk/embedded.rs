//! The reference records a row names by natural key (integer ids never link across
//! databases), read from the row: the embedded `tier`, `statuses[]`,
//! `preferred_location` and `joined_location` objects, as the export writes them, and a
//! CSV's bare `preferred_location_name` and `joined_location_name`. What they name is
//! found (or created) in the database by [`references`](super::references).
//!
//! Integer ids — `joined_location_id`, an embedded object's `id` — are never read: a
//! database's own ids mean nothing in another one, and linking by them would join a
//! profile to whatever record has that id there.

use serde_json::{Map, Value};

use super::row::{LocationGiven, RankedGiven, References, Stamp};
use crate::domain::tag::normalize_handle;
use crate::domain::validate::{self, MAX_NAME, Path, Problems, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::profiles::checks::LocationRef;
use crate::service::profiles::lifecycle::ProfileCreate;

/// The reference records `row` names beyond the handles `draft` holds, with the
/// embedded tier's handle put into `draft` (a row may give only the object).
pub(super) fn references(row: &Map<String, Value>, draft: &mut ProfileCreate, problems: &mut Problems) -> References {
    let input = Path::root("input");
    References {
        tier: tier(row, &mut draft.new.profile.tier_handle, &input.key("tier"), problems),
        statuses: statuses(row, &input.key("statuses"), problems),
        preferred_location: location(row, Slot::PREFERRED, &mut draft.preferred_location, problems),
        joined_location: location(row, Slot::JOINED, &mut draft.joined_location, problems),
    }
}

/// The embedded `tier`: its handle is the row's `tier_handle` (the two must agree), and
/// it is whole when it gives a name and a rank too.
fn tier(
    row: &Map<String, Value>,
    tier_handle: &mut Patch<Option<String>>,
    path: &Path,
    problems: &mut Problems,
) -> Option<RankedGiven> {
    let tier = match row.get("tier")? {
        Value::Null => return None,
        Value::Object(tier) => tier,
        _ => {
            problems.add(path, UserErrorCode::Invalid, "is an object with a `handle`");
            return None;
        }
    };
    let at = path.key("handle");
    let handle = validate::required(problems, &at, tier.get("handle").and_then(Value::as_str), MAX_NAME);
    if handle.is_empty() {
        return None;
    }
    match tier_handle {
        Patch::Keep => *tier_handle = Patch::Set(Some(handle.clone())),
        Patch::Set(Some(given)) if *given == handle => {}
        Patch::Set(_) => {
            problems.add(&at, UserErrorCode::Invalid, "differs from the row's `tier_handle`");
            return None;
        }
    }
    ranked(tier, handle, path, problems)
}

/// The statuses embedded whole (the handles of all of them are the draft's already).
fn statuses(row: &Map<String, Value>, path: &Path, problems: &mut Problems) -> Vec<RankedGiven> {
    let Some(Value::Array(items)) = row.get("statuses") else { return Vec::new() };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let status = item.as_object()?;
            let handle = normalize_handle(status.get("handle")?.as_str()?);
            ranked(status, handle, &path.index(i), problems)
        })
        .collect()
}

/// A tier's or status's whole record: `None` when the object gives only its handle (a
/// key, which must name an existing record).
fn ranked(object: &Map<String, Value>, handle: String, path: &Path, problems: &mut Problems) -> Option<RankedGiven> {
    let name = object.get("name").and_then(Value::as_str)?;
    let rank = object.get("rank")?;
    let name = validate::required(problems, &path.key("name"), Some(name), MAX_NAME);
    let rank = match rank {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    let Some(rank) = rank else {
        problems.add(&path.key("rank"), UserErrorCode::Invalid, "is a whole number");
        return None;
    };
    let stamp = Stamp::of_object(object, problems, path);
    Some(RankedGiven { handle, name, rank, stamp })
}

/// Where a row gives one of a profile's two locations.
struct Slot {
    /// The embedded object's key, and its path's name.
    object: (&'static str, &'static str),
    /// A bare name's key (a CSV's column), and its path's name.
    name: (&'static str, &'static str),
    /// The bare external id's key, for the message when both are given.
    external_id: &'static str,
    /// The integer id's key (another database's, so it links nothing), and its path's name.
    id: (&'static str, &'static str),
}

impl Slot {
    const PREFERRED: Slot = Slot {
        object: ("preferred_location", "preferredLocation"),
        name: ("preferred_location_name", "preferredLocationName"),
        external_id: "preferred_location_external_id",
        id: ("preferred_location_id", "preferredLocationId"),
    };
    const JOINED: Slot = Slot {
        object: ("joined_location", "joinedLocation"),
        name: ("joined_location_name", "joinedLocationName"),
        external_id: "joined_location_external_id",
        id: ("joined_location_id", "joinedLocationId"),
    };
}

/// The bare keys read here beside the input's fields: a CSV's location name columns.
pub(super) const READS: [&str; 2] = [Slot::PREFERRED.name.0, Slot::JOINED.name.0];

/// Text however a row gives it (an external id may be a number).
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A location the row names by an embedded object or by a bare name. A bare external
/// id stays the draft's (`reference`), found as the mutations find it; an object takes
/// its place, and a bare name is read only when neither is given.
fn location(
    row: &Map<String, Value>,
    slot: Slot,
    reference: &mut Option<LocationRef>,
    problems: &mut Problems,
) -> Option<LocationGiven> {
    let input = Path::root("input");
    let path = input.key(slot.object.1);
    match row.get(slot.object.0) {
        None | Some(Value::Null) => {}
        Some(Value::Object(object)) => {
            if reference.take().is_some() {
                let message = format!("give this or `{}`, not both", slot.external_id);
                problems.add(&path, UserErrorCode::Invalid, message);
                return None;
            }
            return embedded_location(object, &path, problems);
        }
        Some(_) => {
            problems.add(&path, UserErrorCode::Invalid, "is an object with an `external_id` or a `name`");
            return None;
        }
    }
    if reference.is_some() {
        return None;
    }
    let at = input.key(slot.name.1);
    let name = validate::text(problems, &at, row.get(slot.name.0).and_then(Value::as_str), MAX_NAME);
    if name.is_none() && row.get(slot.id.0).is_some_and(|id| !id.is_null()) {
        // Another database's id links nothing, and dropping it would lose the location.
        let message =
            format!("an id from another database links nothing: give `{}` or `{}`", slot.external_id, slot.name.0);
        problems.add(&input.key(slot.id.1), UserErrorCode::Invalid, message);
    }
    let name = name?;
    Some(LocationGiven {
        external_id: None,
        name: Some(name),
        external_code: None,
        whole: false,
        stamp: Default::default(),
        external_id_path: at.clone(),
        name_path: at,
    })
}

/// An embedded location: found by its `external_id`, else by its `name`; whole (made
/// when missing) when it gives its name and says what its external id and code are.
fn embedded_location(object: &Map<String, Value>, path: &Path, problems: &mut Problems) -> Option<LocationGiven> {
    let (external_id_path, name_path) = (path.key("externalId"), path.key("name"));
    let mut text = |key: &str, at: &Path| validate::text(problems, at, text_of(object.get(key)).as_deref(), MAX_NAME);
    let external_id = text("external_id", &external_id_path);
    let name = text("name", &name_path);
    let external_code = text("external_code", &path.key("externalCode"));
    if external_id.is_none() && name.is_none() {
        problems.add(&name_path, UserErrorCode::Required, "give the location's `external_id` or `name`");
        return None;
    }
    let whole = name.is_some() && object.contains_key("external_id") && object.contains_key("external_code");
    let stamp = Stamp::of_object(object, problems, path);
    Some(LocationGiven { external_id, name, external_code, whole, stamp, external_id_path, name_path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(row: Value) -> (References, ProfileCreate, Problems) {
        let mut draft = ProfileCreate {
            new: Default::default(),
            preferred_location: None,
            joined_location: None,
            problems: Problems::default(),
        };
        let mut problems = Problems::default();
        let row = row.as_object().cloned().unwrap_or_default();
        (references(&row, &mut draft, &mut problems), draft, problems)
    }

    #[test]
    fn a_whole_tier_gives_its_record_and_its_handle() {
        let (refs, draft, problems) =
            read(json!({ "tier": { "id": 7, "handle": "gold", "name": "Gold", "rank": "3" } }));
        assert!(problems.is_empty());
        assert_eq!(draft.new.profile.tier_handle, Patch::Set(Some("gold".into())));
        assert_eq!(refs.tier.map(|t| (t.handle, t.name, t.rank)), Some(("gold".into(), "Gold".into(), 3)));
        let (refs, draft, _) = read(json!({ "tier": { "handle": "gold" } }));
        assert!(refs.tier.is_none(), "a bare handle is a key, not a record");
        assert_eq!(draft.new.profile.tier_handle, Patch::Set(Some("gold".into())));
    }

    #[test]
    fn locations_are_read_by_natural_key_never_by_id() {
        let (refs, draft, problems) = read(json!({
            "joined_location_id": 1,
            "joined_location": { "id": 1, "name": "North Store", "external_id": null, "external_code": "N" },
            "preferred_location": { "id": 2, "external_id": 42 },
        }));
        assert!(problems.is_empty());
        assert_eq!(draft.joined_location, None);
        let joined = refs.joined_location.expect("the joined location");
        assert_eq!((joined.name.as_deref(), joined.external_id, joined.whole), (Some("North Store"), None, true));
        let preferred = refs.preferred_location.expect("the preferred location");
        assert_eq!((preferred.external_id.as_deref(), preferred.whole), (Some("42"), false));
        let (_, _, problems) = read(json!({ "joined_location": { "id": 1 } }));
        assert!(!problems.is_empty(), "an object with no natural key names nothing");
    }
}
