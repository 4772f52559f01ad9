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
    /// A concurrent write got in the way (a deadlock or serialization failure); the
    /// request changed nothing and may be sent again.
    Conflict,
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
            ErrorCode::Conflict => "CONFLICT",
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
    /// The database cannot be reached; worth retrying later. `lost` when a connection
    /// broke under a statement (a terminated backend, a reset): a read may be retried
    /// at once on a fresh connection.
    ServiceUnavailable { lost: bool },
    /// A concurrent write got in the way; nothing was written.
    Conflict,
    /// Anything else: a bug or an unexpected database failure. Logged, never shown.
    Internal(anyhow::Error),
}

/// Marks a GraphQL error caused by a connection lost under a statement (the error's
/// `source`, never shown): the HTTP layer retries such a read once.
#[derive(Debug)]
pub struct ConnectionLost;

/// What a database error means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbFault {
    /// No connection to be had (pool timeout, too many connections, shutting down).
    Unavailable,
    /// A connection broke under a statement.
    Lost,
    /// A deadlock or serialization failure between concurrent transactions.
    Conflict,
    /// A value the database cannot hold: text with NUL, a time out of its range.
    BadValue,
    /// A bug or an unexpected failure.
    Other,
}

/// Classifies a database error: by sqlx's kind, then by SQLSTATE (PostgreSQL) or
/// result code (SQLite).
pub fn classify(err: &DbErr) -> DbFault {
    use sea_orm::{RuntimeErr, sqlx};
    let error = match err {
        DbErr::ConnectionAcquire(_) => return DbFault::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => error.as_ref(),
        DbErr::Conn(_) => return DbFault::Unavailable,
        _ => return DbFault::Other,
    };
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => DbFault::Unavailable,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            DbFault::Lost
        }
        sqlx::Error::Database(database) => match database.code().as_deref().unwrap_or_default() {
            // PostgreSQL: connection exceptions, a terminated or restarting server.
            code if code.starts_with("08") => DbFault::Lost,
            "57P01" | "57P02" => DbFault::Lost,
            // Cannot connect now, too many connections, a read-only server after a
            // failover, a statement over the statement timeout.
            "57P03" | "53300" | "25006" | "57014" => DbFault::Unavailable,
            "40001" | "40P01" => DbFault::Conflict,
            "22021" | "22P05" | "22008" => DbFault::BadValue,
            // SQLite: busy or locked past the busy timeout.
            "5" | "6" | "517" => DbFault::Unavailable,
            _ => DbFault::Other,
        },
        _ => DbFault::Other,
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            fault @ (DbFault::Unavailable | DbFault::Lost) => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::ServiceUnavailable { lost: fault == DbFault::Lost }
            }
            DbFault::Conflict => {
                tracing::info!(error = %err, "write conflict");
                AppError::Conflict
            }
            // Input checks should have refused the value first; say so in the log.
            DbFault::BadValue => {
                tracing::warn!(error = %err, "a value the database cannot hold passed the checks");
                AppError::BadUserInput("a value is out of the range the database can hold".to_owned())
            }
            DbFault::Other => AppError::Internal(err.into()),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let mut source: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> = None;
        let (message, code) = match err {
            AppError::BadUserInput(message) => (message, ErrorCode::BadUserInput),
            AppError::ServiceUnavailable { lost } => {
                if lost {
                    source = Some(std::sync::Arc::new(ConnectionLost));
                }
                ("The database is unavailable; try again shortly.".to_owned(), ErrorCode::ServiceUnavailable)
            }
            AppError::Conflict => {
                ("A concurrent change got in the way; nothing was written. Try again.".to_owned(), ErrorCode::Conflict)
            }
            AppError::Internal(detail) => {
                tracing::error!(error = ?detail, "internal error");
                ("Internal server error.".to_owned(), ErrorCode::InternalServerError)
            }
        };
        let mut error = async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()));
        error.source = source;
        error
    }
}

/// `Result` of service functions.
pub type AppResult<T> = Result<T, AppError>;
