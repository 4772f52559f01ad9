//! From GraphQL input values to the service's plain inputs and column changes.
//!
//! An omitted field (`Undefined`) is left out of the plain input (`Field::Undefined`)
//! and an explicit `null` is `Field::Null`; the service's rules (`service::profiles::
//! input::field`) say what each becomes. The reference-data and webhook inputs use
//! those rules through the helpers here.

use async_graphql::{ID, MaybeUndefined};

use crate::domain::validate::{Path, Problems};
use crate::service::draft::Patch;
use crate::service::error::Error as ServiceError;
use crate::service::profiles::input::field::{self, Checks, Field};

impl<T> From<MaybeUndefined<T>> for Field<T> {
    fn from(value: MaybeUndefined<T>) -> Self {
        match value {
            MaybeUndefined::Undefined => Field::Undefined,
            MaybeUndefined::Null => Field::Null,
            MaybeUndefined::Value(value) => Field::Value(value),
        }
    }
}

/// A GraphQL value as a field of a plain input, converted on the way.
pub(crate) fn field<T, U: From<T>>(value: MaybeUndefined<T>) -> Field<U> {
    Field::from(value).map(U::from)
}

/// Runs one of the service's rules on a GraphQL value, adding its problems to
/// `problems`.
fn rule<T: Clone, R>(
    problems: &mut Problems,
    value: &MaybeUndefined<T>,
    rule: impl FnOnce(&mut Checks, &Field<T>) -> R,
) -> R {
    let mut checks = Checks::default();
    let out = rule(&mut checks, &Field::from(value.clone()));
    problems.append(checks.finish());
    out
}

/// A nullable column set from a value that needs no checking.
pub(crate) fn plain<T: Clone>(value: &MaybeUndefined<T>) -> Patch<Option<T>> {
    rule(&mut Problems::default(), value, |c, v| field::plain(c, &Path::root("input"), v))
}

/// Optional text of at most `max` characters; blank clears it.
pub(crate) fn text(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<String>,
    max: usize,
) -> Patch<Option<String>> {
    rule(problems, value, |c, v| field::text(c, path, v, max))
}

/// A column that cannot be empty: `null` is REQUIRED.
pub(crate) fn required<T: Clone>(problems: &mut Problems, path: &Path, value: &MaybeUndefined<T>) -> Patch<T> {
    rule(problems, value, |c, v| field::required(c, path, v))
}

/// Required text of at most `max` characters: `null` or blank is REQUIRED.
pub(crate) fn required_text(
    problems: &mut Problems,
    path: &Path,
    value: &MaybeUndefined<String>,
    max: usize,
) -> Patch<String> {
    rule(problems, value, |c, v| field::required_text(c, path, v, max))
}

/// An `Option` field of a create input, seen as an update of an empty record.
pub(crate) fn given<T>(value: Option<T>) -> MaybeUndefined<T> {
    value.map_or(MaybeUndefined::Null, MaybeUndefined::Value)
}

/// The integer behind an `ID` argument; anything else is BAD_USER_INPUT.
pub(crate) fn int_id<T: std::str::FromStr>(id: &ID, argument: &str) -> Result<T, ServiceError> {
    id.parse().map_err(|_| ServiceError::BadInput(format!("`{argument}` is not an id of this API")))
}
