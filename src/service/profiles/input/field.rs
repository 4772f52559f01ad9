//! One value of a plain input as given: left out, `null`, a value, or something that
//! could not be read as one; how each is read leniently from JSON; and the checks
//! that turn a given value into a column change (`Patch`), recording each problem
//! with its path.
//!
//! The GraphQL layer hands over values it has already parsed, so only a row read
//! with serde (an import) can hold an unread value. Such a value is reported before
//! any rule's problem, in the order the row was read, as async-graphql reports a
//! value it cannot parse before the resolver runs.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use entity::enums::{Gender, ProfileType, RecurringSchedule, VerificationState};
use entity::scalars::Date;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::service::draft::Patch;

/// One field of an input.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Field<T> {
    /// Left out: on an update the column is kept.
    #[default]
    Undefined,
    /// `null`: the column is cleared (or REQUIRED when it cannot be empty).
    Null,
    Value(T),
    /// Given, but not as a value of the field's type (only from a row).
    Unread(Vec<Unread>),
}

/// `None` is left out, as an omitted GraphQL argument is.
impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Field::Undefined, Field::Value)
    }
}

impl<T> Field<T> {
    pub(crate) fn value(&self) -> Option<&T> {
        match self {
            Field::Value(value) => Some(value),
            _ => None,
        }
    }

    /// Whether the input gives the field at all (`null` included).
    pub(crate) fn is_given(&self) -> bool {
        !matches!(self, Field::Undefined)
    }

    /// The field of a new record: left out is `null`.
    pub(crate) fn or_null(self) -> Self {
        match self {
            Field::Undefined => Field::Null,
            other => other,
        }
    }

    /// The field of a new record with a default: left out or `null` is `default`.
    pub(crate) fn or(self, default: T) -> Self {
        match self {
            Field::Undefined | Field::Null => Field::Value(default),
            other => other,
        }
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Undefined => Field::Undefined,
            Field::Null => Field::Null,
            Field::Value(value) => Field::Value(f(value)),
            Field::Unread(unread) => Field::Unread(unread),
        }
    }
}

/// Why a given value could not be read, at `at` below the field (an item of a list).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Unread {
    /// When it was read: rows are read key by key, so this orders the problems as the
    /// row gives its keys, whatever the order of the struct's fields.
    seq: u64,
    at: Vec<String>,
    code: UserErrorCode,
    message: String,
}

static READ: AtomicU64 = AtomicU64::new(0);

impl Unread {
    fn new(code: UserErrorCode, message: impl Into<String>) -> Vec<Unread> {
        let seq = READ.fetch_add(1, Ordering::Relaxed);
        vec![Unread { seq, at: Vec::new(), code, message: message.into() }]
    }

    fn invalid(message: impl Into<String>) -> Vec<Unread> {
        Unread::new(UserErrorCode::Invalid, message)
    }
}

/// A value of a field's type read from JSON, leniently as rows give them: numbers and
/// booleans as strings, times as `2021-01-27 00:00:00` (UTC), enums in any case.
/// `Ok(None)` reads as `null`.
pub(crate) trait Read: Sized {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>>;
}

impl<'de, T: Read> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Field::Null,
            value => match T::read(value) {
                Ok(Some(value)) => Field::Value(value),
                Ok(None) => Field::Null,
                Err(unread) => Field::Unread(unread),
            },
        })
    }
}

/// The trimmed text of a string value.
fn text_of(value: &Value) -> Option<&str> {
    value.as_str().map(str::trim)
}

impl Read for String {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        match value {
            Value::String(text) => Ok(Some(text)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(Unread::invalid("is not a valid String")),
        }
    }
}

impl Read for i32 {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let number = match &value {
            Value::Number(n) => n.as_i64(),
            _ if text_of(&value) == Some("") => return Ok(None),
            _ => text_of(&value).and_then(|t| t.parse::<i64>().ok()),
        };
        number.and_then(|n| i32::try_from(n).ok()).map(Some).ok_or_else(|| Unread::invalid("is not a valid Int"))
    }
}

impl Read for f64 {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let number = match &value {
            Value::Number(n) => n.as_f64(),
            _ if text_of(&value) == Some("") => return Ok(None),
            _ => text_of(&value).and_then(|t| t.parse::<f64>().ok()).filter(|f| f.is_finite()),
        };
        number.map(Some).ok_or_else(|| Unread::invalid("is not a valid Float"))
    }
}

impl Read for bool {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let flag = match (&value, text_of(&value)) {
            (Value::Bool(b), _) => Some(*b),
            (Value::Number(n), _) => n.as_i64().filter(|n| *n == 0 || *n == 1).map(|n| n == 1),
            (_, Some("true" | "1")) => Some(true),
            (_, Some("false" | "0")) => Some(false),
            _ => None,
        };
        flag.map(Some).ok_or_else(|| Unread::invalid("is not a valid Boolean"))
    }
}

/// A time as a row gives it: RFC 3339, `2021-01-27 00:00:00` (UTC) or a date.
pub(crate) fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()))
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
        })
}

impl Read for DateTime<Utc> {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        text_of(&value).and_then(instant).map(Some).ok_or_else(|| Unread::invalid("is not a valid DateTime"))
    }
}

impl Read for Date {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let date = text_of(&value).and_then(instant).map(|t| Date(t.date_naive()));
        date.map(Some).ok_or_else(|| Unread::invalid("is not a valid Date"))
    }
}

/// Any JSON (custom attributes).
impl Read for Value {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        Ok(Some(value))
    }
}

/// Enums by their serde names (snake_case), in any case.
macro_rules! read_enums {
    ($($enum:ty),*) => {$(
        impl Read for $enum {
            fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
                let name = text_of(&value).unwrap_or_default().to_lowercase();
                serde_json::from_value(Value::String(name)).map(Some).map_err(|_| {
                    use sea_orm::Iterable;
                    let names: Vec<String> = <$enum>::iter()
                        .filter_map(|v| serde_json::to_value(v).ok()?.as_str().map(str::to_owned))
                        .collect();
                    Unread::invalid(format!("must be one of {}", names.join(", ")))
                })
            }
        }
    )*};
}

read_enums!(Gender, ProfileType, RecurringSchedule, VerificationState);

/// A list: each item read, problems at its index; a `null` item is REQUIRED.
impl<T: Read> Read for Vec<T> {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let Value::Array(items) = value else { return Err(Unread::invalid("must be a list")) };
        let mut out = Vec::with_capacity(items.len());
        let mut unread = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let read = match item {
                Value::Null => Err(Unread::new(UserErrorCode::Required, "is required")),
                item => T::read(item),
            };
            match read {
                Ok(Some(item)) => out.push(item),
                Ok(None) => {}
                Err(problems) => unread.extend(problems.into_iter().map(|mut u| {
                    u.at.insert(0, i.to_string());
                    u
                })),
            }
        }
        if unread.is_empty() { Ok(Some(out)) } else { Err(unread) }
    }
}

/// An input object, read by its serde derive: its fields read themselves, and keys
/// it does not have are ignored.
macro_rules! read_objects {
    ($($object:ty),*) => {$(
        impl $crate::service::profiles::input::field::Read for $object {
            fn read(
                value: serde_json::Value,
            ) -> Result<Option<Self>, Vec<$crate::service::profiles::input::field::Unread>> {
                $crate::service::profiles::input::field::object(value)
            }
        }
    )*};
}
pub(crate) use read_objects;

/// An input object from a JSON object; anything else is INVALID.
pub(crate) fn object<T: serde::de::DeserializeOwned>(value: Value) -> Result<Option<T>, Vec<Unread>> {
    if !value.is_object() {
        return Err(Unread::invalid("must be an object"));
    }
    serde_json::from_value(value).map(Some).map_err(|error| Unread::invalid(error.to_string()))
}

/// The names serde's derive gives a struct's fields, which are the keys it reads: the
/// derive hands them to the deserializer, and this one only asks for them. (A struct
/// with a flattened field is read as a map and tells none.)
pub(crate) fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor, value};

    struct Ask<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Ask<'_> {
        type Error = value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("only a struct's field names are asked for"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Error::custom("only a struct's field names are asked for"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut names: &'static [&'static str] = &[];
    // The error is the one `Ask` gives once it has the names.
    let _ = T::deserialize(Ask(&mut names));
    names
}

/// Tag or status handles, given as strings or as objects with a `handle`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Handles(pub Vec<String>);

impl Read for Handles {
    fn read(value: Value) -> Result<Option<Self>, Vec<Unread>> {
        let Value::Array(items) = value else { return Err(Unread::invalid("must be a list")) };
        let mut out = Vec::with_capacity(items.len());
        let mut unread = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item.get("handle").unwrap_or(&item) {
                Value::String(handle) => out.push(handle.clone()),
                _ => {
                    unread.extend(Unread::invalid("must be a handle or an object with one").into_iter().map(|mut u| {
                        u.at.push(i.to_string());
                        u
                    }))
                }
            }
        }
        if unread.is_empty() { Ok(Some(Handles(out))) } else { Err(unread) }
    }
}

/// The problems of one input as it is checked: those of values that could not be read,
/// and those the rules find.
#[derive(Default)]
pub(crate) struct Checks {
    pub problems: Problems,
    unread: Vec<(u64, Path, UserErrorCode, String)>,
}

impl Checks {
    /// Records the values of the field at `path` that could not be read.
    pub(crate) fn unread(&mut self, path: &Path, unread: &[Unread]) {
        for u in unread {
            let at = u.at.iter().fold(path.clone(), |path, part| path.key(part));
            self.unread.push((u.seq, at, u.code, u.message.clone()));
        }
    }

    /// Every problem: the unread values first, in the order they were read.
    pub(crate) fn finish(mut self) -> Problems {
        self.unread.sort_by_key(|(seq, ..)| *seq);
        let mut problems = Problems::default();
        for (_, path, code, message) in self.unread {
            problems.add(&path, code, message);
        }
        problems.append(self.problems);
        problems
    }
}

/// A nullable column set from a value that needs no checking.
pub(crate) fn plain<T: Clone>(checks: &mut Checks, path: &Path, value: &Field<T>) -> Patch<Option<T>> {
    checked(checks, path, value, |_, _, value| Some(value.clone()))
}

/// A nullable column set from a value that `check` validates (and may normalise).
pub(crate) fn checked<T, U>(
    checks: &mut Checks,
    path: &Path,
    value: &Field<T>,
    check: impl FnOnce(&mut Problems, &Path, &T) -> Option<U>,
) -> Patch<Option<U>> {
    match value {
        Field::Undefined => Patch::Keep,
        Field::Null => Patch::Set(None),
        Field::Value(value) => Patch::Set(check(&mut checks.problems, path, value)),
        Field::Unread(unread) => {
            checks.unread(path, unread);
            Patch::Keep
        }
    }
}

/// Optional text of at most `max` characters; blank clears it.
pub(crate) fn text(checks: &mut Checks, path: &Path, value: &Field<String>, max: usize) -> Patch<Option<String>> {
    checked(checks, path, value, |p, path, v| validate::text(p, path, Some(v), max))
}

/// A column that cannot be empty: `null` is REQUIRED.
pub(crate) fn required<T: Clone>(checks: &mut Checks, path: &Path, value: &Field<T>) -> Patch<T> {
    match value {
        Field::Undefined => Patch::Keep,
        Field::Null => {
            checks.problems.add(path, UserErrorCode::Required, "cannot be null");
            Patch::Keep
        }
        Field::Value(value) => Patch::Set(value.clone()),
        Field::Unread(unread) => {
            checks.unread(path, unread);
            Patch::Keep
        }
    }
}

/// Required text of at most `max` characters: `null` or blank is REQUIRED.
pub(crate) fn required_text(checks: &mut Checks, path: &Path, value: &Field<String>, max: usize) -> Patch<String> {
    match required(checks, path, value) {
        Patch::Set(text) => Patch::Set(validate::required(&mut checks.problems, path, Some(&text), max)),
        other => other,
    }
}

/// A flag or choice that is set when given and otherwise left as it is.
pub(crate) fn optional<T: Clone>(checks: &mut Checks, path: &Path, value: &Field<T>) -> Option<T> {
    match value {
        Field::Value(value) => Some(value.clone()),
        Field::Unread(unread) => {
            checks.unread(path, unread);
            None
        }
        Field::Undefined | Field::Null => None,
    }
}

/// The integer behind an id inside an input: anything else is INVALID at `path`.
pub(crate) fn int_id_in(problems: &mut Problems, path: &Path, id: &str) -> Option<i32> {
    let parsed = id.parse().ok();
    if parsed.is_none() {
        problems.add(path, UserErrorCode::Invalid, "is not an id of this API");
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: Read>(value: Value) -> Field<T> {
        serde_json::from_value(value).unwrap_or_default()
    }

    #[test]
    fn reference_values_become_input_values() {
        assert_eq!(read::<i32>(Value::from("1989")), Field::Value(1989));
        assert_eq!(read::<i32>(Value::from("")), Field::Null);
        let time = "2021-01-27T00:00:00Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(read::<DateTime<Utc>>(Value::from("2021-01-27 00:00:00")).value(), time.as_ref());
        let date = NaiveDate::from_ymd_opt(2020, 5, 13).map(Date);
        assert_eq!(read::<Date>(Value::from("2020-05-13 00:00:00")).value(), date.as_ref());
        assert_eq!(read::<Gender>(Value::from("male")), Field::Value(Gender::Male));
        assert_eq!(read::<bool>(Value::from("true")), Field::Value(true));
        assert!(matches!(read::<i32>(Value::from("twelve")), Field::Unread(_)));
        assert!(matches!(read::<Gender>(Value::from("robot")), Field::Unread(_)));
    }

    #[test]
    fn unread_values_come_first_in_the_order_they_were_read() {
        let mut checks = Checks::default();
        let [first, second] = [read::<i32>(Value::from("x")), read::<i32>(Value::from("y"))];
        checks.problems.add(&Path::root("rule"), UserErrorCode::Invalid, "a rule");
        plain(&mut checks, &Path::root("second"), &second);
        plain(&mut checks, &Path::root("first"), &first);
        let fields: Vec<_> = checks.finish().into_errors().into_iter().filter_map(|e| e.field).collect();
        assert_eq!(fields, vec![vec!["first".to_owned()], vec!["second".to_owned()], vec!["rule".to_owned()]]);
    }
}
