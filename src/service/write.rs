//! What every write shares: its transaction, the split between user errors and
//! failures, and the profile's version.
//!
//! A mutation runs in one transaction: [`begin`], then [`touch_profile`] for the
//! profile it changes (which also checks `expectedVersion`), then its own statements,
//! then commit. `touch_profile` is the one place every change to a profile passes
//! through, inside that transaction: the place to record change events.

use entity::enums::ProfileType;
use entity::profile;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::validate::{Path, UserError, UserErrorCode};
use crate::error::AppError;

/// Why a write did not happen: the caller's input (reported as `userErrors`), or a
/// failure (reported as a GraphQL error).
#[derive(Debug)]
pub enum WriteError {
    User(Vec<UserError>),
    App(AppError),
}

pub type WriteResult<T> = Result<T, WriteError>;

impl From<DbErr> for WriteError {
    fn from(err: DbErr) -> Self {
        WriteError::App(err.into())
    }
}

impl From<AppError> for WriteError {
    fn from(err: AppError) -> Self {
        WriteError::App(err)
    }
}

impl From<Vec<UserError>> for WriteError {
    fn from(errors: Vec<UserError>) -> Self {
        WriteError::User(errors)
    }
}

/// One user error as a `WriteError`.
pub fn user_error(path: &Path, code: UserErrorCode, message: impl Into<String>) -> WriteError {
    let mut problems = crate::domain::validate::Problems::default();
    problems.add(path, code, message);
    WriteError::User(problems.into_errors())
}

/// Starts the transaction of one mutation. On SQLite it is `BEGIN IMMEDIATE`: a
/// transaction that reads before it writes would otherwise fail, rather than wait,
/// when another writer holds the lock. PostgreSQL ignores the option.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Records a change to profile `id`: `version` + 1 and `updatedAt` now, in one
/// statement, so that the version check cannot race. Fails with NOT_FOUND at `path`
/// when there is no such (visible) profile, and with VERSION_CONFLICT when
/// `expected_version` is given and is not the stored version.
pub async fn touch_profile(
    txn: &DatabaseTransaction,
    id: Uuid,
    expected_version: Option<i32>,
    path: &Path,
) -> WriteResult<profile::Model> {
    let mut update = profile::Entity::update_many()
        .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
        .col_expr(profile::Column::UpdatedAt, Expr::val(crate::db::now()))
        .filter(profile::Column::Id.eq(id))
        .filter(profile::Column::ProfileType.ne(ProfileType::Deleted));
    if let Some(version) = expected_version {
        update = update.filter(profile::Column::Version.eq(version));
    }
    if let Some(profile) = update.exec_with_returning(txn).await?.into_iter().next() {
        return Ok(profile);
    }
    let exists = profile::Entity::find_by_id(id).filter(super::profile::visible()).one(txn).await?.is_some();
    Err(match (exists, expected_version) {
        (true, Some(version)) => user_error(
            &Path::root("expectedVersion"),
            UserErrorCode::VersionConflict,
            format!("the profile changed since version {version}; read it again"),
        ),
        _ => user_error(path, UserErrorCode::NotFound, "no such profile"),
    })
}

/// Bumps the version of every visible profile `filter` selects (e.g. those holding a
/// tag about to be deleted).
pub async fn touch_profiles(txn: &impl ConnectionTrait, filter: sea_orm::Condition) -> Result<(), DbErr> {
    profile::Entity::update_many()
        .col_expr(profile::Column::Version, Expr::col(profile::Column::Version).add(1))
        .col_expr(profile::Column::UpdatedAt, Expr::val(crate::db::now()))
        .filter(filter)
        .filter(super::profile::visible())
        .exec(txn)
        .await?;
    Ok(())
}

/// A unique violation as TAKEN at the path of the first `(needle, path)` whose needle
/// the database's message names (an index or column name); anything else unchanged.
/// Catches the races that checks made before writing cannot.
pub fn taken(err: DbErr, fields: &[(&str, Path)]) -> WriteError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err()
        && let Some((_, path)) = fields.iter().find(|(needle, _)| message.contains(needle))
    {
        return user_error(path, UserErrorCode::Taken, "is already in use");
    }
    err.into()
}
