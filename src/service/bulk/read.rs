//! Reading an import's rows, in the reference platform's profile JSON, into
//! the profile input ([`ProfileCreateInput`]) with serde, then validating them by its
//! rules: what an import needs no database for.
//!
//! A row's keys are the input's fields, snake_case; its values are read leniently
//! (numbers and booleans given as strings, times as `"2021-01-27 00:00:00"` in UTC,
//! enums in lower case); `attributes.comms`, `attributes.appearance` and
//! `attributes.dates` are the input's `comms`, `appearance` and `dates`; tags and
//! statuses may be objects with a `handle`. Derived, read-only and unknown keys are
//! ignored, but a row that gives no key the input reads is refused ([`known`]). The
//! stamps (`created_at`, `updated_at`, in the years 1 to 9999) and tags' names are
//! read from the row beside it, and the reference records it names by natural key by
//! [`embedded`](super::embedded). Problems are reported at the row's own paths
//! (`["addresses", "0", "postcode"]`).

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::embedded;
use super::known;
use super::row::{ImportKey, ImportRow, Stamp, Stamps, TagGiven};
use crate::domain::phone::Region;
use crate::domain::validate::{self, Path, Problems, UserError, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::profiles::input::ProfileCreateInput;
use crate::service::profiles::keys::ProfileKey as Key;

/// `addressLine1` → `address_line_1`: a field's name as the row spells it.
fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    let mut previous: Option<char> = None;
    for c in camel.chars() {
        let boundary = c.is_uppercase() || (c.is_ascii_digit() && previous.is_some_and(char::is_alphabetic));
        if boundary && previous.is_some() {
            out.push('_');
        }
        out.extend(c.to_lowercase());
        previous = Some(c);
    }
    out
}

/// The path of a problem as the row spells it: `["input", "comms", "emailPromo"]` →
/// `["attributes", "comms", "email_promo"]`.
fn row_path(field: Vec<String>) -> Vec<String> {
    let mut parts = field.into_iter().skip(1).map(|part| snake(&part)).peekable();
    let mut out = Vec::new();
    if parts.peek().is_some_and(|first| matches!(first.as_str(), "comms" | "appearance" | "dates")) {
        out.push("attributes".to_owned());
    }
    out.extend(parts);
    out
}

/// A user error at the row's own path.
pub(crate) fn at_row(error: UserError) -> UserError {
    UserError { field: error.field.map(row_path), ..error }
}

/// A record's `created_at` and `updated_at`, when the row gives them; one that is no
/// time in the years 1 to 9999 is a problem at its path under `record`.
fn stamp_of(value: &Value, problems: &mut Problems, record: &Path) -> Stamp {
    value.as_object().map(|object| Stamp::of_object(object, problems, record)).unwrap_or_default()
}

/// The stamps of each record of a list at `list`.
fn stamps_of(value: Option<&Value>, problems: &mut Problems, list: &Path) -> Vec<Stamp> {
    let items = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    items.iter().enumerate().map(|(i, item)| stamp_of(item, problems, &list.index(i))).collect()
}

/// The key a row is matched by: the first of `keys` it has a value for.
fn key_of(keys: &[ImportKey], id: Option<Uuid>, external_id: Option<String>, row: &ImportRow) -> Option<Key> {
    let p = &row.draft.new.profile;
    keys.iter().find_map(|key| match key {
        ImportKey::Id => id.map(Key::Id),
        ImportKey::Email => match &p.email {
            Patch::Set(Some(email)) => Some(Key::Email(email.clone())),
            _ => None,
        },
        ImportKey::MobilePhone => match &p.mobile_phone {
            Patch::Set(Some(phone)) => Some(Key::MobilePhone(phone.clone())),
            _ => None,
        },
        ImportKey::ExternalId => external_id.clone().map(Key::ExternalId),
    })
}

/// The row's `external_id`, as text however given (numbers too); `None` when blank.
fn external_id_of(row: &Map<String, Value>, problems: &mut Problems, input: &Path) -> Option<String> {
    let text = match row.get("external_id")? {
        Value::String(text) => text.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    if validate::has_control(&text) {
        problems.add(&input.key("externalId"), UserErrorCode::Invalid, validate::CONTROL_MESSAGE);
        return None;
    }
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// The stamps a row gives its profile and records, and the tags it gives as objects;
/// stamps that are no times are problems.
fn stamps_and_tags(object: &Map<String, Value>, problems: &mut Problems, input: &Path) -> (Stamps, Vec<TagGiven>) {
    let attributes = object.get("attributes");
    let record = |key: &str| attributes.and_then(|a| a.get(key));
    let stamps = Stamps {
        profile: Stamp::of_object(object, problems, input),
        addresses: stamps_of(object.get("addresses"), problems, &input.key("addresses")),
        dates: stamps_of(record("dates"), problems, &input.key("dates")),
        identities: stamps_of(object.get("identities"), problems, &input.key("identities")),
        comms: record("comms").map(|c| stamp_of(c, problems, &input.key("comms"))).unwrap_or_default(),
        appearance: record("appearance").map(|a| stamp_of(a, problems, &input.key("appearance"))).unwrap_or_default(),
    };
    let tags = object.get("tags").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let tags = tags
        .iter()
        .enumerate()
        .filter_map(|(i, tag)| {
            let handle = tag.get("handle")?.as_str()?.to_owned();
            let named = tag.get("name").and_then(Value::as_str);
            let name = named.unwrap_or(&handle).to_owned();
            let stamp = stamp_of(tag, problems, &input.key("tags").index(i));
            Some(TagGiven { handle, name, named: named.is_some(), stamp })
        })
        .collect();
    (stamps, tags)
}

/// One row of an import, read and validated: what the import writes.
pub(crate) fn read_row(
    row: &Value,
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> Result<ImportRow, Vec<UserError>> {
    let mut problems = Problems::default();
    let input = Path::root("input");
    let Value::Object(object) = row else {
        problems.add(&input, UserErrorCode::Invalid, "a row is a JSON object");
        return Err(problems.into_errors());
    };
    // A row of unknown (or only derived) keys would be a blank profile.
    if let Some(message) = known::nothing_read(object) {
        problems.add(&input, UserErrorCode::Invalid, message);
        return Err(problems.into_errors());
    }
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_str().and_then(|id| Uuid::parse_str(id.trim()).ok()) {
            Some(id) => Some(id),
            None => {
                problems.add(&input.key("id"), UserErrorCode::Invalid, "is not a UUID");
                None
            }
        },
    };
    let external_id = external_id_of(object, &mut problems, &input);
    // Every field reads itself and keeps what it could not read for `validate`.
    let parsed = match ProfileCreateInput::deserialize(row) {
        Ok(parsed) => parsed,
        Err(error) => {
            problems.add(&input, UserErrorCode::Invalid, error.to_string());
            return Err(problems.into_errors());
        }
    };
    let given = parsed.gives();
    let mut draft = parsed.validate(region, today);
    let (stamps, tags) = stamps_and_tags(object, &mut draft.problems, &input);
    let references = embedded::references(object, &mut draft, &mut problems);
    if !problems.is_empty() || !draft.problems.is_empty() {
        problems.append(std::mem::take(&mut draft.problems));
        return Err(problems.into_errors());
    }
    let mut row = ImportRow { key: None, id, draft, given, stamps, tags, references, external_id: external_id.clone() };
    row.key = key_of(keys, id, external_id, &row);
    Ok(row)
}

/// Reads and validates `rows` (each a row, or the problems found reading it), matching
/// by `keys` in order: the part of an import that needs no database, which the `import`
/// command runs on a thread of its own while the batch before is written.
pub(crate) fn prepare(
    rows: &[Result<Value, Vec<UserError>>],
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> Vec<Result<ImportRow, Vec<UserError>>> {
    rows.iter()
        .map(|row| match row {
            Ok(row) => read_row(row, keys, region, today),
            Err(errors) => Err(errors.clone()),
        })
        .collect()
}

/// A code's name, as the API spells it (`NOT_FOUND`).
fn code_name(code: UserErrorCode) -> &'static str {
    match code {
        UserErrorCode::Invalid => "INVALID",
        UserErrorCode::Required => "REQUIRED",
        UserErrorCode::Taken => "TAKEN",
        UserErrorCode::NotFound => "NOT_FOUND",
        UserErrorCode::TooLong => "TOO_LONG",
        UserErrorCode::VersionConflict => "VERSION_CONFLICT",
        UserErrorCode::InUse => "IN_USE",
        UserErrorCode::SameProfile => "SAME_PROFILE",
        UserErrorCode::ProfileDeleted => "PROFILE_DELETED",
        UserErrorCode::AlreadyMerged => "ALREADY_MERGED",
        UserErrorCode::FieldSourceInvalid => "FIELD_SOURCE_INVALID",
        UserErrorCode::TooManyDuplicates => "TOO_MANY_DUPLICATES",
    }
}

/// A user error as the rejects file holds it: `{field, code, message}`.
pub(crate) fn error_json(error: &UserError) -> Value {
    serde_json::json!({ "field": error.field, "code": code_name(error.code), "message": error.message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_go_to_the_row_s_own_paths() {
        for (input, row) in [
            ("addressLine1", "address_line_1"),
            ("mobilePhone", "mobile_phone"),
            ("preferredLocationId", "preferred_location_id"),
            ("sizeFormalJacketLength", "size_formal_jacket_length"),
            ("email", "email"),
        ] {
            assert_eq!(snake(input), row);
        }
        let path = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(row_path(path(&["input", "comms", "emailPromo"])), path(&["attributes", "comms", "email_promo"]));
        assert_eq!(row_path(path(&["input", "addresses", "1", "postcode"])), path(&["addresses", "1", "postcode"]));
    }

    #[test]
    fn a_row_is_read_leniently_and_its_problems_come_in_the_row_s_order() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let row = serde_json::json!({ "gender": "robot", "birth_year": "nineteen", "unknown": 1 });
        let errors = read_row(&row, &[], Region::default(), today).err().unwrap_or_default();
        let fields: Vec<_> = errors.into_iter().filter_map(|e| e.field).collect();
        assert_eq!(fields, vec![vec!["input", "birthYear"], vec!["input", "gender"]]);
        let row = serde_json::json!({ "birth_year": "1989", "gender": "male", "joined_at": "2021-01-27 00:00:00",
            "attributes": { "comms": { "email_promo": "true" } }, "tags": [{ "handle": "vip" }] });
        assert!(read_row(&row, &[], Region::default(), today).is_ok());
    }
}
