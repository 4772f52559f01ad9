//! The one error type of the service layer: what went wrong, in the words a caller
//! acts on. A leaf: it knows the domain's user errors and the database's errors, and
//! nothing of GraphQL (`graphql::errors` turns an [`Error`] into a coded GraphQL error
//! or a payload's `userErrors`).
//!
//! Database errors are classified once, here ([`From<DbErr>`]): a connection that
//! cannot be had or broke is [`Error::Unavailable`], a deadlock or serialization
//! failure [`Error::Conflict`], a value the database cannot hold [`Error::BadInput`];
//! anything else stays [`Error::Database`] and is logged, never shown.

use sea_orm::{DbErr, RuntimeErr, sqlx};

use crate::domain::validate::{Path, Problems, UserError, UserErrorCode};

/// Why a service call did not do what was asked.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input is wrong: each problem with its path and code. Nothing was
    /// written. Mutations report these as `userErrors`.
    #[error("{} problem(s) with the input", .0.len())]
    User(Vec<UserError>),
    /// A malformed argument outside a mutation's input (a cursor, a page size, a key),
    /// or a value the database cannot hold: the message says which.
    #[error("bad input: {0}")]
    BadInput(String),
    /// What the call names is not there, or went away while the call ran (a concurrent
    /// delete): the message says what.
    #[error("not found: {0}")]
    NotFound(String),
    /// A concurrent write got in the way (a deadlock, a serialization failure);
    /// nothing was written and the call may be made again.
    #[error("a concurrent write got in the way")]
    Conflict,
    /// The database cannot be reached; worth retrying later. `lost` when a connection
    /// broke under a statement: a read may be retried at once on a fresh connection.
    #[error("the database is unavailable")]
    Unavailable { lost: bool },
    /// Something the code guarantees did not hold: a bug. Logged, never shown.
    #[error("invariant broken: {0}")]
    Invariant(String),
    /// An unexpected database failure. Logged, never shown.
    #[error(transparent)]
    Database(DbErr),
}

/// `Result` of service functions.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One user error at `path`.
    pub(crate) fn user(path: &Path, code: UserErrorCode, message: impl Into<String>) -> Error {
        let mut problems = Problems::default();
        problems.add(path, code, message);
        Error::User(problems.into_errors())
    }
}

impl From<Vec<UserError>> for Error {
    fn from(errors: Vec<UserError>) -> Self {
        Error::User(errors)
    }
}

/// What a database error means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
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

/// The driver's error under a sea-orm error, if it came from the driver.
fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => Some(error.as_ref()),
        _ => None,
    }
}

/// Classifies a database error: by sqlx's kind, then by SQLSTATE (PostgreSQL) or
/// result code (SQLite).
fn classify(err: &DbErr) -> Fault {
    let error = match (err, sqlx_error(err)) {
        (DbErr::ConnectionAcquire(_), _) => return Fault::Unavailable,
        (_, Some(error)) => error,
        (DbErr::Conn(_), None) => return Fault::Unavailable,
        _ => return Fault::Other,
    };
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Fault::Unavailable,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => Fault::Lost,
        sqlx::Error::Database(database) => match database.code().as_deref().unwrap_or_default() {
            // PostgreSQL: connection exceptions, a terminated or restarting server.
            code if code.starts_with("08") => Fault::Lost,
            "57P01" | "57P02" => Fault::Lost,
            // Cannot connect now, too many connections, a read-only server after a
            // failover, a statement over the statement timeout.
            "57P03" | "53300" | "25006" | "57014" => Fault::Unavailable,
            "40001" | "40P01" => Fault::Conflict,
            "22021" | "22P05" | "22008" => Fault::BadValue,
            // SQLite: busy or locked past the busy timeout.
            "5" | "6" | "517" => Fault::Unavailable,
            _ => Fault::Other,
        },
        _ => Fault::Other,
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            fault @ (Fault::Unavailable | Fault::Lost) => {
                tracing::warn!(error = %err, "database unavailable");
                Error::Unavailable { lost: fault == Fault::Lost }
            }
            Fault::Conflict => {
                tracing::info!(error = %err, "write conflict");
                Error::Conflict
            }
            // Input checks should have refused the value first; say so in the log.
            Fault::BadValue => {
                tracing::warn!(error = %err, "a value the database cannot hold passed the checks");
                Error::BadInput("a value is out of the range the database can hold".to_owned())
            }
            Fault::Other => Error::Database(err),
        }
    }
}

/// A unique index or constraint a write can run into, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unique {
    /// `ux_profile_email_key`: one profile per email key.
    ProfileEmail,
    /// `profile.mobile_phone`.
    ProfileMobilePhone,
    /// `ix_identity_handle_identifier`: one identity per system and identifier.
    Identity,
    TagHandle,
    StatusHandle,
    TierHandle,
    LocationExternalId,
}

impl Unique {
    /// The constraint's name on PostgreSQL (an index's own name, or the name
    /// PostgreSQL gives a column's UNIQUE), and what SQLite's error names instead: the
    /// index for an expression index, else the `table.column` list.
    const fn names(self) -> (&'static str, &'static str) {
        match self {
            Unique::ProfileEmail => ("ux_profile_email_key", "profile.email_key"),
            Unique::ProfileMobilePhone => ("profile_mobile_phone_key", "profile.mobile_phone"),
            Unique::Identity => ("ix_identity_handle_identifier", "identity.handle, identity.identifier"),
            Unique::TagHandle => ("tag_handle_key", "tag.handle"),
            Unique::StatusHandle => ("status_handle_key", "status.handle"),
            Unique::TierHandle => ("tier_handle_key", "tier.handle"),
            Unique::LocationExternalId => ("location_external_id_key", "location.external_id"),
        }
    }

    /// Whether `err` is a violation of this constraint. PostgreSQL names the
    /// constraint in the error's own field; SQLite only in its message, which sqlx does
    /// not parse: "UNIQUE constraint failed: " and then the names, compared whole.
    pub(crate) fn violated_by(self, err: &DbErr) -> bool {
        let Some(sqlx::Error::Database(database)) = sqlx_error(err) else { return false };
        if !database.is_unique_violation() {
            return false;
        }
        let (postgres, sqlite) = self.names();
        match database.constraint() {
            Some(name) => name == postgres,
            None => database.message().strip_prefix("UNIQUE constraint failed: ") == Some(sqlite),
        }
    }
}

/// A unique violation as TAKEN at the path of the first `(constraint, path)` it
/// violates; anything else as [`From<DbErr>`] makes it. Catches the races that the
/// checks made before writing cannot.
pub fn taken(err: impl Into<Error>, fields: &[(Unique, Path)]) -> Error {
    let err = err.into();
    let Error::Database(database) = &err else { return err };
    match fields.iter().find(|(unique, _)| unique.violated_by(database)) {
        Some((_, path)) => Error::user(path, UserErrorCode::Taken, "is already in use"),
        None => err,
    }
}
