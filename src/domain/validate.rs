//! Validation rules for input values: pure functions that report problems with the
//! path of the offending value, so that every problem of one input comes back at once.
//!
//! Limits (also in the schema's descriptions, via the constants):
//! names and titles 100 characters, email 254, URLs 2,048, other short text 200,
//! notes 1,000, list inputs 250 items, custom attribute values 10 KiB each.

use chrono::{Datelike, NaiveDate};

use super::phone::{self, Region};

/// Longest name, title or handle.
pub(crate) const MAX_NAME: usize = 100;
/// Longest email address (RFC 5321).
pub(crate) const MAX_EMAIL: usize = 254;
/// Longest URL.
pub(crate) const MAX_URL: usize = 2048;
/// Longest short text: address lines, company, identifiers.
pub(crate) const MAX_TEXT: usize = 200;
/// Longest free text: notes.
pub(crate) const MAX_NOTE: usize = 1000;
/// Most items of any list input.
pub(crate) const MAX_ITEMS: usize = 250;
/// Largest custom attribute value, as JSON text.
pub(crate) const MAX_ATTRIBUTE_BYTES: usize = 10 * 1024;
/// Earliest birth year accepted.
pub(crate) const MIN_BIRTH_YEAR: i32 = 1900;

/// What is wrong with a value (the GraphQL layer shows it as `UserErrorCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// The value has the wrong format or is out of range.
    Invalid,
    /// The value is missing or blank.
    Required,
    /// The value must be unique and is in use (also by a deleted profile).
    Taken,
    /// The id or handle refers to nothing.
    NotFound,
    /// The value is longer than allowed (text), or the list has too many items.
    TooLong,
    /// The record changed since the `expectedVersion` the caller read.
    VersionConflict,
    /// The record is in use and cannot be deleted.
    InUse,
    /// A merge names the survivor among its duplicates, or one duplicate twice.
    SameProfile,
    /// A merge names a soft-deleted profile; restore it first.
    ProfileDeleted,
    /// The profile was merged into another (a tombstone): use the survivor.
    AlreadyMerged,
    /// A merge's field source names a profile that is not in the merge, or a field
    /// that cannot come from it.
    FieldSourceInvalid,
    /// A merge names no duplicate, or more than 4.
    TooManyDuplicates,
}

/// A problem with an input, at a path into it. A mutation that reports any writes
/// nothing (the GraphQL layer shows it as `UserError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// Path to the value in the mutation's arguments, e.g.
    /// `["input", "addresses", "1", "postcode"]`.
    pub field: Option<Vec<String>>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

/// A path into the arguments: `Path::root("input").key("addresses").index(1)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    pub fn root(name: &str) -> Path {
        Path(vec![name.to_owned()])
    }

    pub fn key(&self, name: &str) -> Path {
        let mut path = self.0.clone();
        path.push(name.to_owned());
        Path(path)
    }

    pub(crate) fn index(&self, index: usize) -> Path {
        self.key(&index.to_string())
    }
}

/// The problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<UserError>);

impl Problems {
    pub(crate) fn add(&mut self, path: &Path, code: UserErrorCode, message: impl Into<String>) {
        self.0.push(UserError { field: Some(path.0.clone()), message: message.into(), code });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_errors(self) -> Vec<UserError> {
        self.0
    }

    /// Adds `other`'s problems after these.
    pub(crate) fn append(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    /// `Ok(value)` when nothing was found, else every problem.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<UserError>> {
        if self.0.is_empty() { Ok(value) } else { Err(self.0) }
    }
}

/// Whether `text` holds a control character (Unicode category Cc) other than tab, line
/// feed and carriage return. Text may not: NUL cannot be stored by PostgreSQL at all,
/// and the others are never part of a name, an address or a note.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The message for text with a control character.
pub(crate) const CONTROL_MESSAGE: &str = "must not contain control characters (other than tab and line breaks)";

/// Optional text: trimmed; blank becomes `None`; longer than `max` characters is
/// TOO_LONG; a control character (see [`has_control`]) is INVALID.
pub(crate) fn text(problems: &mut Problems, path: &Path, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        problems.add(path, UserErrorCode::TooLong, format!("must be at most {max} characters"));
    } else if has_control(value) {
        problems.add(path, UserErrorCode::Invalid, CONTROL_MESSAGE);
    }
    Some(value.to_owned())
}

/// Required text: like [`text`], but blank or missing is REQUIRED.
pub(crate) fn required(problems: &mut Problems, path: &Path, value: Option<&str>, max: usize) -> String {
    text(problems, path, value, max).unwrap_or_else(|| {
        problems.add(path, UserErrorCode::Required, "is required");
        String::new()
    })
}

/// An email address (syntax per RFC 5322, via `email_address`), stored as given.
pub(crate) fn email(problems: &mut Problems, path: &Path, value: Option<&str>) -> Option<String> {
    let value = text(problems, path, value, MAX_EMAIL)?;
    if !email_address::EmailAddress::is_valid(&value) || !value.contains('.') {
        problems.add(path, UserErrorCode::Invalid, "is not a valid email address");
    }
    Some(value)
}

/// A phone number in E.164 or national format; stored as E.164.
pub(crate) fn phone(problems: &mut Problems, path: &Path, value: Option<&str>, region: Region) -> Option<String> {
    let value = text(problems, path, value, MAX_NAME)?;
    match phone::normalize(&value, region) {
        Ok(e164) => Some(e164),
        Err(phone::InvalidPhone) => {
            problems.add(path, UserErrorCode::Invalid, "is not a valid phone number");
            Some(value)
        }
    }
}

/// An ISO 4217 currency code, stored upper-case.
pub(crate) fn currency(problems: &mut Problems, path: &Path, value: Option<&str>) -> Option<String> {
    let code = text(problems, path, value, 3 + 1)?.to_ascii_uppercase();
    if iso_currency::Currency::from_code(&code).is_none() {
        problems.add(path, UserErrorCode::Invalid, "is not an ISO 4217 currency code");
    }
    Some(code)
}

/// An absolute http or https URL.
pub(crate) fn http_url(problems: &mut Problems, path: &Path, value: Option<&str>) -> Option<String> {
    let value = text(problems, path, value, MAX_URL)?;
    let ok = url::Url::parse(&value).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
    if !ok {
        problems.add(path, UserErrorCode::Invalid, "must be an http or https URL");
    }
    Some(value)
}

/// The years a stored date or time falls in: those ISO 8601 writes with four digits,
/// which every client (and the planned read's JSON) parses, and both databases store
/// alike (PostgreSQL refuses some outside them, SQLite would store `+10000-01-01`).
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A stored time must fall in [`YEARS`]; INVALID otherwise.
pub(crate) fn instant(problems: &mut Problems, path: &Path, value: Option<&chrono::DateTime<chrono::Utc>>) {
    date(problems, path, value.map(chrono::DateTime::date_naive).as_ref());
}

/// A stored date must fall in [`YEARS`]; INVALID otherwise.
pub(crate) fn date(problems: &mut Problems, path: &Path, value: Option<&NaiveDate>) {
    if value.is_some_and(|v| !YEARS.contains(&v.year())) {
        problems.add(path, UserErrorCode::Invalid, "must be in the years 1 to 9999");
    }
}

/// A number in `range`, e.g. a latitude.
pub(crate) fn within(problems: &mut Problems, path: &Path, value: Option<f64>, range: std::ops::RangeInclusive<f64>) {
    if value.is_some_and(|v| !range.contains(&v)) {
        problems.add(path, UserErrorCode::Invalid, format!("must be between {} and {}", range.start(), range.end()));
    }
}

/// Birth year, month and day, each optional, seen together: the year between 1900 and
/// this year, the month 1–12, the day real for the month (29 February only in a leap
/// year or when the year is unknown). `parent` is the object holding the three fields.
pub(crate) fn birth(
    problems: &mut Problems,
    parent: &Path,
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    today: NaiveDate,
) {
    if let Some(year) = year.filter(|y| !(MIN_BIRTH_YEAR..=today.year()).contains(y)) {
        let message = format!("must be between {MIN_BIRTH_YEAR} and {}, not {year}", today.year());
        problems.add(&parent.key("birthYear"), UserErrorCode::Invalid, message);
    }
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        problems.add(&parent.key("birthMonth"), UserErrorCode::Invalid, "must be between 1 and 12");
        return;
    }
    let Some(day) = day else { return };
    // Without a month any day up to 31 may be real; with one, check it in the birth
    // year, or in a leap year when the year is unknown.
    let year = year.unwrap_or(2000);
    let real = match month {
        Some(month) => u32::try_from(day).ok().and_then(|d| NaiveDate::from_ymd_opt(year, month as u32, d)).is_some(),
        None => (1..=31).contains(&day),
    };
    if !real {
        problems.add(&parent.key("birthDay"), UserErrorCode::Invalid, "is not a day of that month");
    }
}

/// A list input of at most [`MAX_ITEMS`] items.
pub(crate) fn list_len(problems: &mut Problems, path: &Path, len: usize) -> bool {
    if len > MAX_ITEMS {
        problems.add(path, UserErrorCode::TooLong, format!("must have at most {MAX_ITEMS} items"));
        return false;
    }
    true
}

/// A tag or status handle, normalised as on write: non-blank, at most 100 characters,
/// letters, digits and `-_.:` only.
pub(crate) fn handle(problems: &mut Problems, path: &Path, raw: &str) -> String {
    let handle = super::tag::normalize_handle(raw);
    if handle.is_empty() {
        problems.add(path, UserErrorCode::Required, "is required");
    } else if handle.chars().count() > MAX_NAME {
        problems.add(path, UserErrorCode::TooLong, format!("must be at most {MAX_NAME} characters"));
    } else if !handle.chars().all(|c| c.is_alphanumeric() || "-_.:".contains(c)) {
        problems.add(path, UserErrorCode::Invalid, "may hold only letters, digits and - _ . :");
    }
    handle
}

/// A custom attribute namespace or handle: 1–64 of lower-case letters, digits, `-`
/// and `_`, starting with a letter or digit.
pub(crate) fn attribute_key(problems: &mut Problems, path: &Path, key: &str) {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        problems.add(
            path,
            UserErrorCode::Invalid,
            "must be 1–64 of a-z, 0-9, - and _, starting with a letter or digit",
        );
    }
}

/// A custom attribute value: any JSON of at most [`MAX_ATTRIBUTE_BYTES`].
pub(crate) fn attribute_value(problems: &mut Problems, path: &Path, value: &serde_json::Value) {
    if value.to_string().len() > MAX_ATTRIBUTE_BYTES {
        problems.add(path, UserErrorCode::TooLong, format!("must be at most {MAX_ATTRIBUTE_BYTES} bytes of JSON"));
    }
}

/// The whole custom attributes object: namespace → object of handle → JSON value.
pub(crate) fn custom_attributes(problems: &mut Problems, path: &Path, value: &serde_json::Value) {
    let Some(namespaces) = value.as_object() else {
        problems.add(path, UserErrorCode::Invalid, "must be an object of namespace → object of handle → value");
        return;
    };
    list_len(problems, path, namespaces.len());
    for (namespace, attributes) in namespaces {
        let at = path.key(namespace);
        attribute_key(problems, &at, namespace);
        let Some(attributes) = attributes.as_object() else {
            problems.add(&at, UserErrorCode::Invalid, "must be an object of handle → value");
            continue;
        };
        list_len(problems, &at, attributes.len());
        for (handle, value) in attributes {
            attribute_key(problems, &at.key(handle), handle);
            attribute_value(problems, &at.key(handle), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("a real date")
    }

    /// The codes and last path segments found by `check`.
    fn found(check: impl FnOnce(&mut Problems, &Path)) -> Vec<(String, UserErrorCode)> {
        let mut problems = Problems::default();
        check(&mut problems, &Path::root("input"));
        problems
            .into_errors()
            .into_iter()
            .map(|e| (e.field.and_then(|f| f.last().cloned()).unwrap_or_default(), e.code))
            .collect()
    }

    #[test]
    fn text_is_trimmed_blank_is_absent_and_long_is_too_long() {
        let mut problems = Problems::default();
        let path = Path::root("x");
        assert_eq!(text(&mut problems, &path, Some("  a b "), 5), Some("a b".to_owned()));
        assert_eq!(text(&mut problems, &path, Some("   "), 5), None);
        assert!(problems.is_empty());
        assert_eq!(
            found(|p, path| {
                text(p, path, Some("abcdef"), 5);
            }),
            vec![("input".into(), UserErrorCode::TooLong)]
        );
        assert_eq!(
            found(|p, path| {
                required(p, path, Some(" "), 5);
            }),
            vec![("input".into(), UserErrorCode::Required)]
        );
        assert_eq!(
            found(|p, path| {
                text(p, path, Some("ééééé"), 5);
            }),
            vec![],
            "characters, not bytes"
        );
    }

    #[test]
    fn emails_phones_currencies_and_urls() {
        let invalid = vec![("input".to_owned(), UserErrorCode::Invalid)];
        for bad in ["plainaddress", "a@b", "@example.com", "a b@example.com"] {
            assert_eq!(
                found(|p, path| {
                    email(p, path, Some(bad));
                }),
                invalid,
                "email {bad:?}"
            );
        }
        assert_eq!(
            found(|p, path| {
                email(p, path, Some("Example.User@Example.com"));
            }),
            vec![]
        );
        assert_eq!(
            found(|p, path| {
                phone(p, path, Some("12"), Region::default());
            }),
            invalid
        );
        let mut problems = Problems::default();
        assert_eq!(
            phone(&mut problems, &Path::root("x"), Some("0404 123 123"), Region::default()).as_deref(),
            Some("+61404123123")
        );
        assert_eq!(currency(&mut problems, &Path::root("x"), Some("aud")).as_deref(), Some("AUD"));
        assert!(problems.is_empty());
        for bad in ["AUX", "AUDD", "dollars"] {
            assert!(
                !found(|p, path| {
                    currency(p, path, Some(bad));
                })
                .is_empty(),
                "currency {bad:?}"
            );
        }
        for bad in ["ftp://example.com/a.png", "javascript:alert(1)", "example.com/a.png", "http://"] {
            assert_eq!(
                found(|p, path| {
                    http_url(p, path, Some(bad));
                }),
                invalid,
                "url {bad:?}"
            );
        }
        assert_eq!(
            found(|p, path| {
                http_url(p, path, Some("https://cdn.example.com/a.png"));
            }),
            vec![]
        );
    }

    #[test]
    fn birth_parts_are_checked_together() {
        // (year, month, day) → the field and code of each problem
        type Parts = (Option<i32>, Option<i32>, Option<i32>);
        let cases: [(Parts, Vec<(&str, UserErrorCode)>); 9] = [
            ((Some(1989), Some(1), Some(1)), vec![]),
            ((None, Some(2), Some(29)), vec![]),
            ((Some(2000), Some(2), Some(29)), vec![]),
            ((Some(1999), Some(2), Some(29)), vec![("birthDay", UserErrorCode::Invalid)]),
            ((None, Some(2), Some(31)), vec![("birthDay", UserErrorCode::Invalid)]),
            ((Some(1899), None, None), vec![("birthYear", UserErrorCode::Invalid)]),
            ((Some(2027), None, None), vec![("birthYear", UserErrorCode::Invalid)]),
            ((None, Some(13), Some(1)), vec![("birthMonth", UserErrorCode::Invalid)]),
            ((None, None, Some(32)), vec![("birthDay", UserErrorCode::Invalid)]),
        ];
        for ((year, month, day), expected) in cases {
            let expected: Vec<(String, UserErrorCode)> = expected.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
            assert_eq!(
                found(|p, path| birth(p, path, year, month, day, today())),
                expected,
                "{year:?}-{month:?}-{day:?}"
            );
        }
    }

    #[test]
    fn handles_and_attribute_keys() {
        let mut problems = Problems::default();
        assert_eq!(handle(&mut problems, &Path::root("x"), "  VIP  Customer "), "vip-customer");
        assert!(problems.is_empty());
        assert_eq!(
            found(|p, path| {
                handle(p, path, "  ");
            }),
            vec![("input".into(), UserErrorCode::Required)]
        );
        assert_eq!(
            found(|p, path| {
                handle(p, path, "a/b");
            }),
            vec![("input".into(), UserErrorCode::Invalid)]
        );
        assert_eq!(
            found(|p, path| {
                handle(p, path, &"x".repeat(101));
            }),
            vec![("input".into(), UserErrorCode::TooLong)]
        );
        for bad in ["", "Upper", "-lead", "sp ace", &"x".repeat(65)] {
            assert_eq!(found(|p, path| attribute_key(p, path, bad)).len(), 1, "key {bad:?}");
        }
        assert!(found(|p, path| attribute_key(p, path, "example-field_2")).is_empty());
    }

    #[test]
    fn custom_attributes_must_be_objects_of_objects_with_small_values() {
        let ok = serde_json::json!({ "custom": { "example-field": "test", "n": [1, 2] } });
        assert!(found(|p, path| custom_attributes(p, path, &ok)).is_empty());
        assert_eq!(found(|p, path| custom_attributes(p, path, &serde_json::json!([1]))).len(), 1);
        assert_eq!(found(|p, path| custom_attributes(p, path, &serde_json::json!({ "custom": 1 }))).len(), 1);
        let big = serde_json::json!({ "custom": { "big": "x".repeat(MAX_ATTRIBUTE_BYTES) } });
        assert_eq!(found(|p, path| custom_attributes(p, path, &big)), vec![("big".into(), UserErrorCode::TooLong)]);
    }

    #[test]
    fn lists_are_capped() {
        assert!(
            found(|p, path| {
                list_len(p, path, MAX_ITEMS);
            })
            .is_empty()
        );
        assert_eq!(
            found(|p, path| {
                list_len(p, path, MAX_ITEMS + 1);
            }),
            vec![("input".into(), UserErrorCode::TooLong)]
        );
    }
}
