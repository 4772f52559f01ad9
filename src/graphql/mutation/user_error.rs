//! `UserError` and `UserErrorCode`: the GraphQL form of the domain's input problems.

use async_graphql::{Enum, SimpleObject};

use crate::domain::validate;

/// What is wrong with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "validate::UserErrorCode")]
pub(crate) enum UserErrorCode {
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

/// A problem with the input of a mutation. A mutation that reports any writes nothing.
#[derive(Clone, Debug, PartialEq, Eq, SimpleObject)]
pub(crate) struct UserError {
    /// Path to the value in the mutation's arguments, e.g.
    /// `["input", "addresses", "1", "postcode"]`.
    pub field: Option<Vec<String>>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

impl From<validate::UserError> for UserError {
    fn from(error: validate::UserError) -> Self {
        UserError { field: error.field, message: error.message, code: error.code.into() }
    }
}
