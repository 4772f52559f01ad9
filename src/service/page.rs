//! Keyset pagination: page arguments, opaque cursors and the window they select.
//!
//! A cursor encodes the sort key of a row and its id, never an offset, so it stays
//! valid while rows are inserted or deleted, and page 1,000 costs what page 1 costs.

use crate::service::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Page size when neither `first` nor `last` is given.
pub(crate) const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest `first` or `last` accepted.
pub(crate) const MAX_PAGE_SIZE: u64 = 250;

/// The Relay arguments as the client sent them.
#[derive(Clone, Debug, Default)]
pub(crate) struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Which end of the ordered list a page is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `first`: the rows just after `after` (or from the start).
    Forward,
    /// `last`: the rows just before `before` (or up to the end).
    Backward,
}

/// A validated request for one page.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    pub size: u64,
    pub direction: Direction,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

/// A page size as argument `name` gives it: 0 to [`MAX_PAGE_SIZE`].
pub(crate) fn size(name: &str, value: i32) -> Result<u64> {
    u64::try_from(value)
        .ok()
        .filter(|size| *size <= MAX_PAGE_SIZE)
        .ok_or_else(|| Error::BadInput(format!("`{name}` must be between 0 and {MAX_PAGE_SIZE}")))
}

impl PageArgs {
    /// Checks sizes and decodes cursors for an order named `order`.
    pub(crate) fn window(&self, order: &str) -> Result<Window> {
        let (size, direction) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(Error::BadInput("give `first` or `last`, not both".to_owned()));
            }
            (Some(first), None) => (size("first", first)?, Direction::Forward),
            (None, Some(last)) => (size("last", last)?, Direction::Backward),
            (None, None) => (DEFAULT_PAGE_SIZE, Direction::Forward),
        };
        let decode = |name: &str, cursor: &Option<String>| {
            cursor.as_deref().map(|text| Cursor::decode(text, order, name)).transpose()
        };
        Ok(Window { size, direction, after: decode("after", &self.after)?, before: decode("before", &self.before)? })
    }
}

/// The position of a row in one order: the order's name, the part of the list the row
/// is in, its sort values, its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "o")]
    pub order: String,
    #[serde(rename = "s", default)]
    pub segment: usize,
    #[serde(rename = "v")]
    pub value: serde_json::Value,
    pub id: Uuid,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        #[allow(clippy::expect_used, reason = "a struct of strings, numbers and a JSON value always serialises")]
        let json = serde_json::to_vec(self).expect("a cursor serialises");
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a cursor made for `order`; anything else is `BAD_USER_INPUT` naming the
    /// argument, including a cursor of another order.
    fn decode(text: &str, order: &str, argument: &str) -> Result<Cursor> {
        let bad = || Error::BadInput(format!("`{argument}` is not a cursor of this list"));
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.order != order {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// An opaque cursor for a position in a list numbered by `kind` (the feed's `seq`,
/// a delivery's id).
pub(crate) fn numbered_cursor(kind: &str, n: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{n}"))
}

/// The number behind a [`numbered_cursor`] of `kind`; BAD_USER_INPUT for anything else.
pub(crate) fn decode_numbered_cursor(kind: &str, text: &str) -> Result<i64> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(kind)?.strip_prefix(':')?.parse().ok())
        .ok_or_else(|| Error::BadInput("`after` is not a cursor of this list".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs { first, last, ..PageArgs::default() }
    }

    #[test]
    fn sizes_default_to_twenty_and_stop_at_250() {
        assert_eq!(args(None, None).window("o").expect("default").size, 20);
        assert_eq!(args(Some(250), None).window("o").expect("max").size, 250);
        assert_eq!(args(None, Some(0)).window("o").expect("zero").direction, Direction::Backward);
        for (first, last) in [(Some(251), None), (Some(-1), None), (None, Some(251)), (Some(1), Some(1))] {
            assert!(matches!(args(first, last).window("o"), Err(Error::BadInput(_))), "first {first:?} last {last:?}");
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage_and_other_orders() {
        let cursor = Cursor { order: "a".into(), segment: 1, value: serde_json::json!(["x"]), id: Uuid::new_v4() };
        let after = PageArgs { after: Some(cursor.encode()), ..PageArgs::default() };
        assert_eq!(after.window("a").expect("own order").after, Some(cursor));
        assert!(after.window("b").is_err(), "a cursor of another order");
        for garbage in ["", "!!!", "e30", "bm90IGpzb24"] {
            let args = PageArgs { before: Some(garbage.into()), ..PageArgs::default() };
            assert!(args.window("a").is_err(), "cursor {garbage:?}");
        }
    }
}
