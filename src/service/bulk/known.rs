//! The keys an import's row may have, in one place: those the profile input
//! reads, and those the import knows and ignores — the derived and read-only keys of
//! the reference platform's profile JSON, which is what an export writes. Any other
//! key is unknown: the import names it once in its summary. A row that gives no key
//! the import reads would be a blank profile, so it is refused instead (and a CSV
//! header without such a column stops the import before any write).

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::embedded;
use crate::service::events::context;
use crate::service::profiles::input::ProfileCreateInput;

/// Unknown keys an import names at most: a file with a new key on every row does
/// not grow its summary without bound.
pub(crate) const MAX_NAMED: usize = 50;

/// The keys a row gives a profile by: the input's, `external_id` (read beside it, a
/// new profile's primary identity) and a CSV's location names ([`embedded`]).
static READ: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| ProfileCreateInput::keys().chain(["external_id"]).chain(embedded::READS).collect());

/// Every key an import knows: the read ones, and the reference's others (the context's
/// keys, which a unit test compares with the reference document's, and those the
/// context leaves out) — the id and the stamps among them.
static KNOWN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let context = context::keys().iter().map(String::as_str);
    READ.iter().copied().chain(context).chain(context::LEFT_OUT.iter().copied()).collect()
});

/// Whether the import reads `key` into the profile.
pub(crate) fn reads(key: &str) -> bool {
    READ.contains(key)
}

/// Whether the import knows `key` (reads it, or ignores it on purpose).
pub(crate) fn is_known(key: &str) -> bool {
    KNOWN.contains(key)
}

/// Those of `keys` the import does not know, in their order.
pub(crate) fn unknown<'a>(keys: impl IntoIterator<Item = &'a String>) -> impl Iterator<Item = &'a String> {
    keys.into_iter().filter(|key| !is_known(key))
}

/// Why a row that gives no key the import reads is refused; `None` when it gives one.
pub(crate) fn nothing_read(row: &Map<String, Value>) -> Option<String> {
    if row.keys().any(|key| reads(key)) {
        return None;
    }
    let unknown: Vec<&str> = unknown(row.keys()).map(String::as_str).collect();
    Some(if unknown.is_empty() {
        "the row gives no field of a profile".to_owned()
    } else {
        format!("the row gives no field of a profile; unknown keys: {}", unknown.join(", "))
    })
}

/// Unknown keys seen, at most [`MAX_NAMED`] of them, each once, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnknownKeys {
    named: BTreeSet<String>,
    /// Whether more were seen than are named.
    more: bool,
}

impl UnknownKeys {
    /// Notes the unknown keys of `keys`.
    pub(crate) fn note<'a>(&mut self, keys: impl IntoIterator<Item = &'a String>) {
        for key in unknown(keys) {
            if self.named.len() < MAX_NAMED {
                self.named.insert(key.clone());
            } else if !self.named.contains(key) {
                self.more = true;
            }
        }
    }

    /// Notes those `other` noted.
    pub(crate) fn merge(&mut self, other: UnknownKeys) {
        self.more |= other.more;
        self.note(&other.named);
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }

    /// The keys, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.named.iter().map(String::as_str)
    }
}

/// `emial, first name` (and `…` when there were more).
impl std::fmt::Display for UnknownKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.names().collect();
        write!(f, "{}{}", names.join(", "), if self.more { ", …" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_keys_are_known_and_others_are_not() {
        for key in ["email", "first_name", "attributes", "external_id", "tags"] {
            assert!(reads(key), "{key}");
        }
        for key in ["id", "full_name", "tier", "joined_location", "address", "created_at", "reward_balance"] {
            assert!(is_known(key) && !reads(key), "{key}");
        }
        for key in ["emial", "Email", "First Name", ""] {
            assert!(!is_known(key), "{key}");
        }
        for column in super::super::export::FLAT {
            assert!(is_known(column), "the export's column `{column}` is known");
        }
    }

    #[test]
    fn a_row_of_unknown_or_ignored_keys_gives_nothing() {
        let row = |value: Value| value.as_object().cloned().unwrap_or_default();
        assert_eq!(nothing_read(&row(serde_json::json!({ "first_name": "Ann" }))), None);
        let refused = nothing_read(&row(serde_json::json!({ "emial": "a@example.com", "full_name": "A" })));
        assert_eq!(refused.as_deref(), Some("the row gives no field of a profile; unknown keys: emial"));
        assert!(nothing_read(&Map::new()).is_some());
    }

    #[test]
    fn unknown_keys_are_named_once_and_bounded() {
        let mut keys = UnknownKeys::default();
        let names: Vec<String> = (0..MAX_NAMED + 5).map(|n| format!("k{n:03}")).collect();
        keys.note(&names);
        keys.note(&names[..1]);
        assert_eq!(keys.names().count(), MAX_NAMED);
        assert!(keys.to_string().ends_with(", …"));
    }
}
