//! Import (SPEC §8): rows in the reference platform's profile JSON, read as
//! `ProfileCreateInput` and validated by its own rules, then matched and written by
//! `service::import`. `importProfiles`, `upsertProfile` and the `import` command all go
//! through [`import`].
//!
//! A row's snake_case keys are the input's camelCase fields; its values are coerced to
//! the field's type as the schema declares it (numbers and booleans given as strings,
//! times as `"2021-01-27 00:00:00"` in UTC, enums in lower case); `attributes.comms`,
//! `attributes.appearance` and `attributes.dates` are the input's `comms`,
//! `appearance` and `dates`; tags and statuses may be objects with a `handle`. Derived,
//! read-only and unknown keys are ignored. Problems are reported at the row's own
//! paths (`["addresses", "0", "postcode"]`).

use std::sync::LazyLock;

use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Context, Enum, InputType, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::profile::ProfileCreateInput;
use super::{UserError, db};
use crate::domain::phone::Region;
use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::error::{AppError, AppResult};
use crate::graphql::guard::Scoped;
use crate::graphql::query::ProfileKey;
use crate::graphql::types::profile::Profile;
use crate::service::bulk::import as service;
use crate::service::bulk::import::{Given, ImportRow, Mode, Outcome, Stamp, Stamps, Status, TagGiven};
use crate::service::draft::Patch;
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::runtime::Services;

/// Rows `importProfiles` takes at once.
pub const MAX_ROWS: usize = 1_000;

/// What an import does with the profiles its rows match and with the rest.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[graphql(remote = "crate::service::bulk::import::Mode")]
pub enum ImportMode {
    /// Update a matched profile, create the rest.
    #[default]
    Upsert,
    /// Create; a row that matches a profile fails with TAKEN.
    CreateOnly,
    /// Update; a row that matches none fails with NOT_FOUND.
    UpdateOnly,
}

/// A value a row is matched to an existing profile by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ImportKey {
    /// The profile's `id`.
    Id,
    /// The `email`, compared case-insensitively.
    Email,
    /// The `mobile_phone`, compared in E.164.
    MobilePhone,
    /// The `external_id`: the identifier of the primary identity.
    ExternalId,
}

/// The keys rows are matched by unless told otherwise, in the order they are tried.
pub const DEFAULT_KEYS: [ImportKey; 4] =
    [ImportKey::Id, ImportKey::Email, ImportKey::MobilePhone, ImportKey::ExternalId];

/// What became of a row.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::bulk::import::Status")]
pub enum ImportStatus {
    /// A new profile.
    Created,
    /// A matched profile, changed.
    Updated,
    /// A matched profile that already held the row's values: nothing was written.
    Unchanged,
    /// Nothing was written; `userErrors` says why.
    Failed,
}

/// The outcome of one row of `importProfiles`.
#[derive(SimpleObject)]
pub struct ImportRowResult {
    /// The row's position in `rows`, from 0.
    pub index: i32,
    /// What became of the row.
    pub status: ImportStatus,
    /// The profile after the row; null when it failed.
    pub profile: Option<Profile>,
    /// Why the row failed, at paths into `rows`.
    pub user_errors: Vec<UserError>,
}

/// The result of `importProfiles`: one result a row, and the counts.
#[derive(SimpleObject)]
pub struct ImportProfilesPayload {
    /// One result a row, in the order of `rows`.
    pub results: Vec<ImportRowResult>,
    /// Rows that created a profile.
    pub created: i32,
    /// Rows that changed a profile.
    pub updated: i32,
    /// Rows that matched a profile holding their values already.
    pub unchanged: i32,
    /// Rows that wrote nothing because of their `userErrors`.
    pub failed: i32,
}

/// The result of `upsertProfile`.
#[derive(SimpleObject)]
pub struct UpsertProfilePayload {
    /// CREATED, UPDATED, UNCHANGED or FAILED.
    pub status: ImportStatus,
    /// The profile after the mutation; null when it failed.
    pub profile: Option<Profile>,
    /// Problems with the input. When there are any, nothing was written.
    pub user_errors: Vec<UserError>,
}

/// The types of `ProfileCreateInput` and of everything it holds, as the schema has them.
static TYPES: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = Registry::default();
    ProfileCreateInput::create_type_info(&mut registry);
    registry
});

/// `address_line_1` → `addressLine1`, as async-graphql names fields.
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for (i, part) in snake.split('_').enumerate() {
        let mut chars = part.chars();
        match chars.next() {
            Some(first) if i > 0 => {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
            _ => out.push_str(part),
        }
    }
    out
}

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

/// A time as a row gives it: RFC 3339, `2021-01-27 00:00:00` (UTC) or a date.
fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()))
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
        })
}

/// The value of a row, coerced to GraphQL input type `ty` (a type reference such as
/// `[AddressInput!]`); problems at `path`. `None` leaves the field out.
fn coerce(ty: &str, value: &Value, path: &Path, problems: &mut Problems) -> Option<Value> {
    let bad = |problems: &mut Problems, message: &str| {
        problems.add(path, UserErrorCode::Invalid, message);
        None
    };
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => {
            if value.is_null() {
                problems.add(path, UserErrorCode::Required, "is required");
                return None;
            }
            coerce(inner, value, path, problems)
        }
        MetaTypeName::List(inner) => match value {
            Value::Null => Some(Value::Null),
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| coerce(inner, item, &path.index(i), problems))
                    .collect(),
            )),
            _ => bad(problems, "must be a list"),
        },
        MetaTypeName::Named(_) if value.is_null() => Some(Value::Null),
        MetaTypeName::Named(name) => match TYPES.types.get(name) {
            Some(MetaType::InputObject { input_fields, .. }) => {
                let Value::Object(object) = value else { return bad(problems, "must be an object") };
                let mut out = Map::new();
                for (key, value) in object {
                    let field = camel(key);
                    if let Some(meta) = input_fields.get(&field)
                        && let Some(value) = coerce(&meta.ty, value, &path.key(&field), problems)
                    {
                        out.insert(field, value);
                    }
                }
                Some(Value::Object(out))
            }
            Some(MetaType::Enum { enum_values, .. }) => {
                let text = value.as_str().map(|s| s.trim().to_uppercase()).unwrap_or_default();
                if enum_values.contains_key(&text) {
                    Some(Value::String(text))
                } else {
                    let names: Vec<String> = enum_values.keys().map(|k| k.to_lowercase()).collect();
                    bad(problems, &format!("must be one of {}", names.join(", ")))
                }
            }
            _ => scalar(name, value).or_else(|| bad(problems, &format!("is not a valid {name}"))),
        },
    }
}

/// A scalar of a row as GraphQL scalar `name` takes it; `None` when it cannot be one.
fn scalar(name: &str, value: &Value) -> Option<Value> {
    let text = match value {
        Value::String(text) => Some(text.trim()),
        _ => None,
    };
    match name {
        "Int" => match value {
            Value::Number(n) => n.as_i64().map(Value::from),
            _ if text == Some("") => Some(Value::Null),
            _ => text?.parse::<i64>().ok().map(Value::from),
        },
        "Float" => match value {
            Value::Number(n) => n.as_f64().map(Value::from),
            _ if text == Some("") => Some(Value::Null),
            _ => text?.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from),
        },
        "Boolean" => match (value, text) {
            (Value::Bool(b), _) => Some(Value::Bool(*b)),
            (Value::Number(n), _) => n.as_i64().filter(|n| *n == 0 || *n == 1).map(|n| Value::Bool(n == 1)),
            (_, Some("true" | "1")) => Some(Value::Bool(true)),
            (_, Some("false" | "0")) => Some(Value::Bool(false)),
            _ => None,
        },
        "String" | "ID" => match value {
            Value::String(_) => Some(value.clone()),
            Value::Number(n) => Some(Value::String(n.to_string())),
            Value::Bool(b) => Some(Value::String(b.to_string())),
            _ => None,
        },
        "DateTime" => instant(text?).map(|t| Value::String(t.to_rfc3339())),
        "Date" => instant(text?).map(|t| Value::String(t.date_naive().to_string())),
        _ => Some(value.clone()),
    }
}

/// A record's `created_at` and `updated_at`, when the row gives them.
fn stamp_of(value: &Value) -> Stamp {
    value.as_object().map(stamp_of_map).unwrap_or_default()
}

fn stamp_of_map(object: &Map<String, Value>) -> Stamp {
    let at = |key: &str| object.get(key).and_then(Value::as_str).and_then(instant);
    Stamp { created_at: at("created_at"), updated_at: at("updated_at") }
}

/// The stamps of each record of a list.
fn stamps_of(value: Option<&Value>) -> Vec<Stamp> {
    value.and_then(Value::as_array).map(|items| items.iter().map(stamp_of).collect()).unwrap_or_default()
}

/// Tag or status handles given as strings or as objects with a `handle`.
fn handles(value: &Value, path: &Path, problems: &mut Problems) -> Option<Value> {
    let Value::Array(items) = value else {
        if value.is_null() {
            return Some(Value::Array(Vec::new()));
        }
        problems.add(path, UserErrorCode::Invalid, "must be a list");
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.get("handle").unwrap_or(item) {
            Value::String(handle) => out.push(Value::String(handle.clone())),
            _ => problems.add(&path.index(i), UserErrorCode::Invalid, "must be a handle or an object with one"),
        }
    }
    Some(Value::Array(out))
}

/// The row's fields as `ProfileCreateInput` takes them, with what the row gives.
fn input_of(row: &Map<String, Value>, problems: &mut Problems) -> (Map<String, Value>, Given) {
    let input = Path::root("input");
    let Some(MetaType::InputObject { input_fields, .. }) = TYPES.types.get("ProfileCreateInput") else {
        return (Map::new(), Given::default());
    };
    let mut fields: Vec<(String, &Value)> = Vec::new();
    for (key, value) in row {
        match key.as_str() {
            "attributes" => {
                for part in ["comms", "appearance", "dates"] {
                    if let Some(value) = value.get(part) {
                        fields.push((part.to_owned(), value));
                    }
                }
            }
            // Matched by, or kept as stamps; `address` is derived from `addresses`.
            "id" | "external_id" | "created_at" | "updated_at" | "address" => {}
            _ => fields.push((camel(key), value)),
        }
    }
    let mut out = Map::new();
    let mut given = Given::default();
    for (field, value) in fields {
        let Some(meta) = input_fields.get(&field) else { continue };
        let path = input.key(&field);
        let coerced = match field.as_str() {
            "tags" | "statuses" => handles(value, &path, problems),
            _ => coerce(&meta.ty, value, &path, problems),
        };
        match field.as_str() {
            "addresses" => given.addresses = true,
            "dates" => given.dates = true,
            "identities" => given.identities = true,
            "tags" => given.tags = true,
            "statuses" => given.statuses = true,
            _ => {}
        }
        if let Some(value) = coerced {
            out.insert(field, value);
        }
    }
    (out, given)
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

/// One row of an import, read and validated: what `service::import` takes.
pub fn read_row(
    row: &Value,
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> std::result::Result<ImportRow, Vec<validate::UserError>> {
    let mut problems = Problems::default();
    let input = Path::root("input");
    let Value::Object(row) = row else {
        problems.add(&input, UserErrorCode::Invalid, "a row is a JSON object");
        return Err(problems.into_errors());
    };
    let id = match row.get("id") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_str().and_then(|id| Uuid::parse_str(id.trim()).ok()) {
            Some(id) => Some(id),
            None => {
                problems.add(&input.key("id"), UserErrorCode::Invalid, "is not a UUID");
                None
            }
        },
    };
    let external_id = match row.get("external_id").and_then(|v| scalar("String", v)) {
        Some(Value::String(text)) if validate::has_control(&text) => {
            problems.add(&input.key("externalId"), UserErrorCode::Invalid, validate::CONTROL_MESSAGE);
            None
        }
        Some(Value::String(text)) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => None,
    };
    let (fields, given) = input_of(row, &mut problems);
    let parsed =
        ProfileCreateInput::parse(Some(async_graphql::Value::from_json(Value::Object(fields)).unwrap_or_default()));
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            problems.add(&input, UserErrorCode::Invalid, err.into_server_error(Default::default()).message);
            return Err(problems.into_errors());
        }
    };
    let mut draft = parsed.draft(region, today);
    if !problems.is_empty() || !draft.problems.is_empty() {
        let mut errors = problems.into_errors();
        errors.extend(std::mem::take(&mut draft.problems).into_errors());
        return Err(errors);
    }
    let attributes = row.get("attributes");
    let stamps = Stamps {
        profile: stamp_of_map(row),
        addresses: stamps_of(row.get("addresses")),
        dates: stamps_of(attributes.and_then(|a| a.get("dates"))),
        identities: stamps_of(row.get("identities")),
        comms: attributes.and_then(|a| a.get("comms")).map(stamp_of).unwrap_or_default(),
        appearance: attributes.and_then(|a| a.get("appearance")).map(stamp_of).unwrap_or_default(),
    };
    let tags = row
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let handle = tag.get("handle")?.as_str()?.to_owned();
            let name = tag.get("name").and_then(Value::as_str).unwrap_or(&handle).to_owned();
            Some(TagGiven { handle, name, stamp: stamp_of(tag) })
        })
        .collect();
    let mut row = ImportRow { key: None, id, draft, given, stamps, tags, external_id: external_id.clone() };
    row.key = key_of(keys, id, external_id, &row);
    Ok(row)
}

/// A user error at the row's own path.
fn at_row(error: validate::UserError) -> validate::UserError {
    validate::UserError { field: error.field.map(row_path), ..error }
}

/// Reads and validates `rows` (each a row, or the problems found reading it), matching
/// by `keys` in order: the part of an import that needs no database, which the `import`
/// command runs on a thread of its own while the batch before is written.
pub fn prepare(
    rows: &[std::result::Result<Value, Vec<validate::UserError>>],
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> Vec<std::result::Result<ImportRow, Vec<validate::UserError>>> {
    rows.iter()
        .map(|row| match row {
            Ok(row) => read_row(row, keys, region, today),
            Err(errors) => Err(errors.clone()),
        })
        .collect()
}

/// Writes rows [`prepare`] read, in `mode`; problems are reported at paths into each
/// row.
pub async fn write(
    db: &Services,
    rows: Vec<std::result::Result<ImportRow, Vec<validate::UserError>>>,
    mode: Mode,
) -> AppResult<Vec<Outcome>> {
    // Boxed: an import is a deep future, and a resolver's frame holds its callee's
    // state inline (over 100 KB of stack in a debug build).
    let mut outcomes = Box::pin(service::import(db, rows, mode)).await?;
    for outcome in &mut outcomes {
        outcome.errors = std::mem::take(&mut outcome.errors).into_iter().map(at_row).collect();
    }
    Ok(outcomes)
}

/// Imports `rows` in `mode`: [`prepare`], then [`write`].
pub async fn import(
    db: &Services,
    rows: &[std::result::Result<Value, Vec<validate::UserError>>],
    mode: Mode,
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> AppResult<Vec<Outcome>> {
    write(db, prepare(rows, keys, region, today), mode).await
}

/// A user error as the rejects file holds it: `{field, code, message}`.
pub fn error_json(error: &validate::UserError) -> Value {
    let code = UserError::from(error.clone()).code.to_value().to_string();
    serde_json::json!({ "field": error.field, "code": code, "message": error.message })
}

#[derive(Default)]
pub struct ImportMutation;

/// Importing many profiles at once, and upserting one.
#[Object(guard = "Scoped::MUTATION")]
impl ImportMutation {
    /// Imports up to 1,000 profiles in the reference platform's profile JSON (SPEC §8),
    /// as the `import` command does: each row is matched by the first of `matchOn` it
    /// has, then updated (only the fields it gives), created, or left UNCHANGED when it
    /// holds the profile's values already; each row lands or fails alone.
    #[graphql(requires_scopes = "profiles:write")]
    async fn import_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rows: profile JSON objects, snake_case.")] rows: Vec<Value>,
        #[graphql(
            desc = "What to do with matched and unmatched rows (null: UPSERT).",
            default_with = "Some(ImportMode::Upsert)"
        )]
        mode: Option<ImportMode>,
        #[graphql(desc = "The keys rows are matched by, in order; by default id, email, mobile phone, external id.")]
        match_on: Option<Vec<ImportKey>>,
    ) -> Result<ImportProfilesPayload> {
        if rows.len() > MAX_ROWS {
            return Err(AppError::BadUserInput(format!("`rows` holds at most {MAX_ROWS} rows")).into());
        }
        let keys = match_on.unwrap_or_else(|| DEFAULT_KEYS.to_vec());
        let rows: Vec<_> = rows.into_iter().map(Ok).collect();
        let mode = mode.unwrap_or_default().into();
        let outcomes =
            import(db(ctx)?, &rows, mode, &keys, super::profile::region(ctx), super::profile::today(ctx)).await?;
        let count = |status: Status| outcomes.iter().filter(|o| o.status == status).count() as i32;
        Ok(ImportProfilesPayload {
            created: count(Status::Created),
            updated: count(Status::Updated),
            unchanged: count(Status::Unchanged),
            failed: count(Status::Failed),
            results: outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| ImportRowResult {
                    index: index as i32,
                    status: outcome.status.into(),
                    profile: outcome.profile.map(Profile::from),
                    user_errors: outcome
                        .errors
                        .into_iter()
                        .map(|e| {
                            let field = e.field.map(|f| {
                                let mut path = vec!["rows".to_owned(), index.to_string()];
                                path.extend(f);
                                path
                            });
                            UserError::from(validate::UserError { field, ..e })
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// Updates the profile `key` names with `input` (only the fields it gives; a list
    /// it gives replaces the profile's), or creates it from `input` when there is none,
    /// with the key's value when `input` does not give it (an external id becomes the
    /// primary identity in the system `external`). A profile that already holds
    /// `input`'s values is left UNCHANGED.
    #[graphql(requires_scopes = "profiles:write")]
    async fn upsert_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key: email, mobile phone, external id or identity.")] key: ProfileKey,
        #[graphql(desc = "The profile.")] input: ProfileCreateInput,
    ) -> Result<UpsertProfilePayload> {
        let region = super::profile::region(ctx);
        let key = key.into_key(region)?;
        // A new profile made from an external id holds it as its primary identity.
        let external_id = match &key {
            Key::ExternalId(id) => Some(id.clone()),
            _ => None,
        };
        let given = Given {
            addresses: input.addresses.is_some(),
            dates: input.dates.is_some(),
            identities: input.identities.is_some(),
            tags: input.tags.is_some(),
            statuses: input.statuses.is_some(),
        };
        let mut draft = input.draft(region, super::profile::today(ctx));
        let outcome = if draft.problems.is_empty() {
            let row = ImportRow {
                key: Some(key),
                id: None,
                draft,
                given,
                stamps: Stamps::default(),
                tags: Vec::new(),
                external_id,
            };
            Box::pin(service::import(db(ctx)?, vec![Ok(row)], Mode::Upsert)).await?.pop()
        } else {
            Some(Outcome {
                status: Status::Failed,
                profile: None,
                errors: std::mem::take(&mut draft.problems).into_errors(),
            })
        };
        let outcome =
            outcome.ok_or_else(|| AppError::Internal(anyhow::anyhow!("an import of one row gave no outcome")))?;
        Ok(UpsertProfilePayload {
            status: outcome.status.into(),
            profile: outcome.profile.map(Profile::from),
            user_errors: outcome.errors.into_iter().map(UserError::from).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_between_the_row_and_the_input() {
        for (row, input) in [
            ("address_line_1", "addressLine1"),
            ("mobile_phone", "mobilePhone"),
            ("preferred_location_id", "preferredLocationId"),
            ("size_formal_jacket_length", "sizeFormalJacketLength"),
            ("email", "email"),
        ] {
            assert_eq!(camel(row), input);
            assert_eq!(snake(input), row);
        }
        let path = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(row_path(path(&["input", "comms", "emailPromo"])), path(&["attributes", "comms", "email_promo"]));
        assert_eq!(row_path(path(&["input", "addresses", "1", "postcode"])), path(&["addresses", "1", "postcode"]));
    }

    #[test]
    fn reference_values_become_input_values() {
        let mut problems = Problems::default();
        let path = Path::root("input");
        assert_eq!(coerce("Int", &Value::from("1989"), &path, &mut problems), Some(Value::from(1989)));
        assert_eq!(coerce("Int", &Value::from(""), &path, &mut problems), Some(Value::Null));
        assert_eq!(
            coerce("DateTime", &Value::from("2021-01-27 00:00:00"), &path, &mut problems),
            Some(Value::from("2021-01-27T00:00:00+00:00"))
        );
        assert_eq!(
            coerce("Date", &Value::from("2020-05-13 00:00:00"), &path, &mut problems),
            Some(Value::from("2020-05-13"))
        );
        assert_eq!(coerce("Gender", &Value::from("male"), &path, &mut problems), Some(Value::from("MALE")));
        assert_eq!(coerce("Boolean", &Value::from("true"), &path, &mut problems), Some(Value::Bool(true)));
        assert!(problems.is_empty());
        assert_eq!(coerce("Int", &Value::from("twelve"), &path, &mut problems), None);
        assert_eq!(coerce("Gender", &Value::from("robot"), &path, &mut problems), None);
        assert_eq!(problems.into_errors().len(), 2);
    }
}
