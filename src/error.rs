//! The one error type of the service and its GraphQL form.
//!
//! Every error a client sees carries `extensions.code`. Internal errors are logged once,
//! here, inside the request's span (which carries its request id), and reach the client
//! as an opaque message: no SQL, table or driver text. Validation problems are not
//! errors at all: they are the `userErrors` of mutation payloads.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// The `extensions.code` values of GraphQL errors (SPEC §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    NotFound,
    Unauthenticated,
    Forbidden,
    ServiceUnavailable,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// Why a request failed. It deliberately has no `Display`: the only way to show one to
/// a client is the `From` below, which decides what may be shown.
#[derive(Debug)]
pub enum AppError {
    /// The caller sent a malformed value (a cursor, a page size): the message says which.
    BadUserInput(String),
    /// The database cannot be reached; worth retrying later.
    ServiceUnavailable,
    /// Anything else: a bug or an unexpected database failure. Logged, never shown.
    Internal(anyhow::Error),
}

/// Whether `err` means the database cannot be reached (rather than a bad statement):
/// no connection to be had, or one lost on the way.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => matches!(
            error.as_ref(),
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
        ),
        _ => false,
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            AppError::ServiceUnavailable
        } else {
            AppError::Internal(err.into())
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let (message, code) = match err {
            AppError::BadUserInput(message) => (message, ErrorCode::BadUserInput),
            AppError::ServiceUnavailable => {
                ("The database is unavailable; try again shortly.".to_owned(), ErrorCode::ServiceUnavailable)
            }
            AppError::Internal(detail) => {
                tracing::error!(error = ?detail, "internal error");
                ("Internal server error.".to_owned(), ErrorCode::InternalServerError)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
    }
}

/// `Result` of service functions.
pub type AppResult<T> = Result<T, AppError>;
