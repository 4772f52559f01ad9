//! Events that hold their profile's state (see `events`, "States"): the row as the
//! change left it and the old values of the columns it set (`before`), as PostgreSQL
//! wrote them into JSON in the statement that made the change
//! (`service::one_statement`). Such an event waits for its context like a created one:
//! its row is the state's, its relations the profile's until they change. Its
//! `changed` is derived from the state alone, as a write derives it from what it held:
//! the keys in which the row with its old values and the row differ.

use chrono::NaiveDate;
use entity::profile;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::service::error::{Error, Result};
use crate::service::events::context;
use crate::service::profiles::read::Relations;

/// What the state column holds.
#[derive(Deserialize)]
struct Stored {
    row: Map<String, Value>,
    /// The set columns' values before the change; absent, every key counts as changed
    /// (a created event's state).
    before: Option<Map<String, Value>>,
}

fn decoded<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|error| Error::Invariant(format!("an event's state does not decode: {error}")))
}

/// The profile's row an event's `state` holds.
pub(crate) fn row(state: &Value) -> Result<profile::Model> {
    decoded(state.get("row").cloned().unwrap_or(Value::Null))
}

/// The `changed` of an event whose state is `state`, as of `day`.
pub(crate) fn changed(state: &Value, day: NaiveDate) -> Result<Vec<String>> {
    let Stored { row, before } = decoded(state.clone())?;
    let Some(before) = before else { return Ok(context::keys().to_vec()) };
    let after: profile::Model = decoded(Value::Object(row.clone()))?;
    let mut old = row;
    old.extend(before);
    let old: profile::Model = decoded(Value::Object(old))?;
    // Only the row changed: its keys are compared without relations.
    let none = Relations::default();
    Ok(context::changed(&context::of_parts(&old, &none, day), &context::of_parts(&after, &none, day)))
}
