//! Events that hold their profile's state (see `events`, "States"): the row as the
//! change left it, the old values of the columns it set (`before`) and the relations,
//! as PostgreSQL wrote them into JSON in the statement that made the change
//! (`service::one_statement`). Reading such an event derives its context and `changed`
//! from them, exactly as a write derives them from what it held: the context of the
//! row with the relations, as of the event's day; `changed`, the keys in which the row
//! with its old values and the row differ.

use chrono::NaiveDate;
use entity::{address, appearance, comms, identity, location, profile, profile_date, status, tag, tier};
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
    relations: StoredRelations,
}

/// The relations as `read::relations_object` writes them: a list is `null` when empty.
#[derive(Deserialize)]
struct StoredRelations {
    addresses: Option<Vec<address::Model>>,
    dates: Option<Vec<profile_date::Model>>,
    identities: Option<Vec<identity::Model>>,
    tags: Option<Vec<tag::Model>>,
    statuses: Option<Vec<status::Model>>,
    comms: Option<comms::Model>,
    appearance: Option<appearance::Model>,
    tier: Option<tier::Model>,
    preferred_location: Option<location::Model>,
    joined_location: Option<location::Model>,
}

impl From<StoredRelations> for Relations {
    fn from(r: StoredRelations) -> Relations {
        Relations {
            addresses: Some(r.addresses.unwrap_or_default()),
            dates: Some(r.dates.unwrap_or_default()),
            identities: Some(r.identities.unwrap_or_default()),
            tags: Some(r.tags.unwrap_or_default()),
            statuses: Some(r.statuses.unwrap_or_default()),
            comms: Some(r.comms),
            appearance: Some(r.appearance),
            tier: Some(r.tier),
            preferred_location: Some(r.preferred_location),
            joined_location: Some(r.joined_location),
        }
    }
}

fn decoded<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|error| Error::Invariant(format!("an event's state does not decode: {error}")))
}

/// The context (`data`) and `changed` of an event whose state is `state`, as of `day`.
pub(crate) fn derive(state: Value, day: NaiveDate) -> Result<(Value, Vec<String>)> {
    let Stored { row, before, relations } = decoded(state)?;
    // The row with its old values, only when there are old values.
    let old = before.map(|before| {
        let mut old = row.clone();
        old.extend(before);
        old
    });
    let after: profile::Model = decoded(Value::Object(row))?;
    let data = context::of_parts(&after, &relations.into(), day);
    let changed = match old {
        None => context::keys().to_vec(),
        Some(old) => {
            let old: profile::Model = decoded(Value::Object(old))?;
            // Only the row changed.
            context::row_changed(&old, &after, day)
        }
    };
    Ok((Value::Object(data), changed))
}
