//! From GraphQL input values to validated column changes.
//!
//! An omitted field (`Undefined`) is left as it is (`NotSet`); an explicit `null`
//! clears it (`Set(None)`), or is REQUIRED for a column that cannot be empty; a value
//! is validated, and each problem is recorded with its path.

use async_graphql::{ID, MaybeUndefined};
use sea_orm::ActiveValue::{self, NotSet, Set};
use sea_orm::{ActiveModelTrait, EntityTrait, Iterable};

use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::error::AppError;

/// A nullable column set from a value that needs no checking.
pub fn plain<T: Clone + Into<sea_orm::Value>>(value: &MaybeUndefined<T>) -> ActiveValue<Option<T>>
where
    Option<T>: Into<sea_orm::Value>,
{
    match value {
        MaybeUndefined::Undefined => NotSet,
        MaybeUndefined::Null => Set(None),
        MaybeUndefined::Value(value) => Set(Some(value.clone())),
    }
}

/// A nullable column set from a value that `check` validates (and may normalise).
pub fn checked<T, U>(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<T>,
    check: impl FnOnce(&mut Problems, &Path, &T) -> Option<U>,
) -> ActiveValue<Option<U>>
where
    Option<U>: Into<sea_orm::Value>,
{
    match value {
        MaybeUndefined::Undefined => NotSet,
        MaybeUndefined::Null => Set(None),
        MaybeUndefined::Value(value) => Set(check(problems, path, value)),
    }
}

/// Optional text of at most `max` characters; blank clears it.
pub fn text(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<String>,
    max: usize,
) -> ActiveValue<Option<String>> {
    checked(problems, path, value, |p, path, v| validate::text(p, path, Some(v), max))
}

/// A column that cannot be empty: `null` is REQUIRED.
pub fn required<T: Clone + Into<sea_orm::Value>>(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<T>,
) -> ActiveValue<T> {
    match value {
        MaybeUndefined::Undefined => NotSet,
        MaybeUndefined::Null => {
            problems.add(path, UserErrorCode::Required, "cannot be null");
            NotSet
        }
        MaybeUndefined::Value(value) => Set(value.clone()),
    }
}

/// Required text of at most `max` characters: `null` or blank is REQUIRED.
pub fn required_text(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<String>,
    max: usize,
) -> ActiveValue<String> {
    match required(problems, path, value) {
        Set(text) => Set(validate::required(problems, path, Some(&text), max)),
        other => other,
    }
}

/// An `Option` field of a create input, seen as an update of an empty record.
pub fn given<T>(value: Option<T>) -> MaybeUndefined<T> {
    value.map_or(MaybeUndefined::Null, MaybeUndefined::Value)
}

/// The integer behind an `ID` argument; anything else is BAD_USER_INPUT.
pub fn int_id(id: &ID, argument: &str) -> Result<i32, AppError> {
    id.parse().map_err(|_| AppError::BadUserInput(format!("`{argument}` is not an id of this API")))
}

/// The integer behind an `ID` inside an input: anything else is INVALID at `path`.
pub fn int_id_in(problems: &mut Problems, path: &Path, id: &ID) -> Option<i32> {
    let parsed = id.parse().ok();
    if parsed.is_none() {
        problems.add(path, UserErrorCode::Invalid, "is not an id of this API");
    }
    parsed
}

/// `changes` applied over `base`: every column `changes` sets replaces `base`'s.
pub fn overlay<A: ActiveModelTrait>(mut base: A, changes: &A) -> A {
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if let Set(value) = changes.get(column) {
            base.set(column, value);
        }
    }
    base
}
