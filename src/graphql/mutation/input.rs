//! From GraphQL input values to validated column changes (the service's `Patch`es).
//!
//! An omitted field (`Undefined`) is left as it is (`Keep`); an explicit `null`
//! clears it (`Patch::Set(None)`), or is REQUIRED for a column that cannot be empty; a value
//! is validated, and each problem is recorded with its path.

use async_graphql::{ID, MaybeUndefined};

use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::error::Error as ServiceError;

/// A nullable column set from a value that needs no checking.
pub fn plain<T: Clone>(value: &MaybeUndefined<T>) -> Patch<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Set(None),
        MaybeUndefined::Value(value) => Patch::Set(Some(value.clone())),
    }
}

/// A nullable column set from a value that `check` validates (and may normalise).
pub fn checked<T, U>(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<T>,
    check: impl FnOnce(&mut Problems, &Path, &T) -> Option<U>,
) -> Patch<Option<U>> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Set(None),
        MaybeUndefined::Value(value) => Patch::Set(check(problems, path, value)),
    }
}

/// Optional text of at most `max` characters; blank clears it.
pub fn text(problems: &mut Problems, path: &Path, value: &MaybeUndefined<String>, max: usize) -> Patch<Option<String>> {
    checked(problems, path, value, |p, path, v| validate::text(p, path, Some(v), max))
}

/// A column that cannot be empty: `null` is REQUIRED.
pub fn required<T: Clone>(problems: &mut Problems, path: &Path, value: &MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => {
            problems.add(path, UserErrorCode::Required, "cannot be null");
            Patch::Keep
        }
        MaybeUndefined::Value(value) => Patch::Set(value.clone()),
    }
}

/// Required text of at most `max` characters: `null` or blank is REQUIRED.
pub fn required_text(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<String>,
    max: usize,
) -> Patch<String> {
    match required(problems, path, value) {
        Patch::Set(text) => Patch::Set(validate::required(problems, path, Some(&text), max)),
        other => other,
    }
}

/// An `Option` field of a create input, seen as an update of an empty record.
pub fn given<T>(value: Option<T>) -> MaybeUndefined<T> {
    value.map_or(MaybeUndefined::Null, MaybeUndefined::Value)
}

/// The integer behind an `ID` argument; anything else is BAD_USER_INPUT.
pub fn int_id<T: std::str::FromStr>(id: &ID, argument: &str) -> Result<T, ServiceError> {
    id.parse().map_err(|_| ServiceError::BadInput(format!("`{argument}` is not an id of this API")))
}

/// The integer behind an `ID` inside an input: anything else is INVALID at `path`.
pub fn int_id_in(problems: &mut Problems, path: &Path, id: &ID) -> Option<i32> {
    let parsed = id.parse().ok();
    if parsed.is_none() {
        problems.add(path, UserErrorCode::Invalid, "is not an id of this API");
    }
    parsed
}
