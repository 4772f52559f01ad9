//! A row's JSON read as it is written: `serde_json::Value` keeps the last of two equal
//! keys of an object and drops the first without a word, so a row that gives
//! `"email"` twice would import one of them silently. Read here, such a row is
//! refused, naming the key.

use std::cell::RefCell;

use serde::Deserializer;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a line is not a row.
#[derive(Debug)]
pub(crate) enum NotARow {
    /// A key given twice in one object, at this path of the row (`["addresses", "0", "city"]`).
    Duplicate(Vec<String>),
    /// Not JSON.
    Syntax(serde_json::Error),
}

/// The JSON value of `text`, refusing an object that gives a key twice.
pub(crate) fn parse(text: &str) -> Result<Value, NotARow> {
    let duplicate = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_str(text);
    let value = Strict { duplicate: &duplicate }.deserialize(&mut reader).and_then(|value| {
        reader.end()?;
        Ok(value)
    });
    match (value, duplicate.into_inner()) {
        (_, Some(path)) => Err(NotARow::Duplicate(path)),
        (Ok(value), None) => Ok(value),
        (Err(error), None) => Err(NotARow::Syntax(error)),
    }
}

/// Reads a value, noting in `duplicate` the path of a key given twice. The path is
/// built only then, from the key up, as the error passes each enclosing object or
/// list: a row read without one costs no path.
#[derive(Clone, Copy)]
struct Strict<'a> {
    duplicate: &'a RefCell<Option<Vec<String>>>,
}

impl Strict<'_> {
    /// `error`, from within `part` of this value: part of the duplicate's path.
    fn within<E>(self, part: impl ToString, error: E) -> E {
        if let Some(path) = self.duplicate.borrow_mut().as_mut() {
            path.insert(0, part.to_string());
        }
        error
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON text holds no NaN or infinity.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = items.next_element_seed(self).map_err(|error| self.within(out.len(), error))? {
            out.push(item);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            let value = entries.next_value_seed(self).map_err(|error| self.within(&key, error))?;
            if out.contains_key(&key) {
                let message = format!("`{key}` is given twice");
                *self.duplicate.borrow_mut() = Some(vec![key]);
                return Err(A::Error::custom(message));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_named_by_its_path() {
        let path = |text: &str| match parse(text) {
            Err(NotARow::Duplicate(path)) => path,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(path(r#"{"email":"a@x.io","email":"b@x.io"}"#), ["email"]);
        assert_eq!(path(r#"{"addresses":[{"city":"A"},{"city":"B","city":"C"}]}"#), ["addresses", "1", "city"]);
    }

    #[test]
    fn json_without_duplicates_reads_as_serde_json_reads_it() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true],"b":{"c":{}},"d":18446744073709551615}"#;
        assert_eq!(parse(text).ok(), serde_json::from_str::<Value>(text).ok());
        assert!(matches!(parse("{\"a\":1} x"), Err(NotARow::Syntax(_))));
        assert!(matches!(parse("not json"), Err(NotARow::Syntax(_))));
    }
}
