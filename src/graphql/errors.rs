//! Gives every GraphQL error an `extensions.code`, and keeps internals out.
//!
//! Parse and validation failures get `GRAPHQL_PARSE_FAILED` and
//! `GRAPHQL_VALIDATION_FAILED`, except that a value of the wrong type (in the document
//! or in the variables) gets `BAD_USER_INPUT`, as does, during execution, an argument
//! that does not parse (a malformed UUID, say); any other error without a code did
//! not pass through [`service::error::Error`](crate::service::error::Error)'s conversion
//! below, so its text is logged and replaced. Internal errors
//! carry the request id, which is also in the log line of their detail.

use async_graphql::{ErrorExtensions, ServerError, Value};

use crate::service::error::Error;
use crate::telemetry::RequestId;

/// The `extensions.code` values of GraphQL errors (the README's Errors table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
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
    pub(crate) fn as_str(self) -> &'static str {
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

/// Marks a GraphQL error caused by a connection lost under a statement (the error's
/// `source`, never shown): the HTTP layer retries such a read once.
#[derive(Debug)]
pub(crate) struct ConnectionLost;

/// What resolvers fail with: a GraphQL error that already carries its code. It has no
/// `Display`, so async-graphql's blanket `From<impl Display>` (which would send any
/// error's text without a code) never applies: a service error reaches a client only
/// through the coded conversion below, and `?` does it.
#[derive(Debug)]
pub(crate) struct ResolverError(async_graphql::Error);

/// `Result` of resolvers.
pub(crate) type Result<T, E = ResolverError> = std::result::Result<T, E>;

impl From<async_graphql::Error> for ResolverError {
    fn from(error: async_graphql::Error) -> Self {
        ResolverError(error)
    }
}

impl From<ResolverError> for async_graphql::Error {
    fn from(error: ResolverError) -> Self {
        error.0
    }
}

impl From<Error> for ResolverError {
    fn from(error: Error) -> Self {
        ResolverError(graphql_error(error))
    }
}

/// A service error as a GraphQL error with its code. Internal errors are logged once,
/// here, inside the request's span (which carries its request id), and reach the
/// client as an opaque message: no SQL, table or driver text. User errors reach a
/// GraphQL error only where no payload can carry them (`mutation::respond` puts them
/// in `userErrors`): the first one's message, as BAD_USER_INPUT.
pub(crate) fn graphql_error(err: Error) -> async_graphql::Error {
    {
        let mut source: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> = None;
        let (message, code) = match err {
            Error::BadInput(message) => (message, ErrorCode::BadUserInput),
            Error::User(errors) => {
                let message = errors.first().map_or_else(|| "invalid input".to_owned(), |e| e.message.clone());
                (message, ErrorCode::BadUserInput)
            }
            Error::NotFound(message) => (message, ErrorCode::NotFound),
            Error::Unavailable { lost } => {
                if lost {
                    source = Some(std::sync::Arc::new(ConnectionLost));
                }
                ("The database is unavailable; try again shortly.".to_owned(), ErrorCode::ServiceUnavailable)
            }
            Error::Conflict => {
                ("A concurrent change got in the way; nothing was written. Try again.".to_owned(), ErrorCode::Conflict)
            }
            detail @ (Error::Invariant(_) | Error::Database(_)) => {
                tracing::error!(error = ?detail, "internal error");
                ("Internal server error.".to_owned(), ErrorCode::InternalServerError)
            }
        };
        let mut error = async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()));
        error.source = source;
        error
    }
}

fn code_of(error: &ServerError) -> Option<&Value> {
    error.extensions.as_ref().and_then(|ext| ext.get("code"))
}

/// The `extensions.code` of an error, as text.
pub(crate) fn code(error: &ServerError) -> Option<&str> {
    match code_of(error) {
        Some(Value::String(code)) => Some(code),
        _ => None,
    }
}

fn set_code(error: &mut ServerError, code: &str) {
    error.extensions.get_or_insert_with(Default::default).set("code", code);
}

/// An error with `message` and `extensions.code`, for refusals made outside resolvers
/// (limits, scopes, nesting).
pub(crate) fn coded(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    error
}

/// How async-graphql words the errors of values that do not fit their type: arguments
/// and variables that do not parse (`Failed to parse "UUID": …`), values of the wrong
/// JSON type (`Expected input type "UUID", found 1.`), the same inside an input object
/// (`… (occurred while parsing "ProfileCreateInput")`), and required variables that
/// were not given. The hostile-input tests send a wrong type to every argument of every
/// root field, so a new wording fails them rather than passing as INTERNAL.
fn is_input_error(message: &str) -> bool {
    ["Failed to parse", "Expected input type", "Invalid value for argument", "Variable "]
        .iter()
        .any(|start| message.starts_with(start))
        || message.contains("(occurred while parsing \"")
}

/// The limit behind async-graphql's depth and complexity errors.
fn limit_of(limits: &super::Limits, message: &str) -> Option<String> {
    match message {
        "Query is nested too deep." => Some(format!("{} (PROFILES_MAX_DEPTH)", limits.max_depth)),
        "Query is too complex." => Some(format!("{} (PROFILES_MAX_COMPLEXITY)", limits.max_complexity)),
        _ => None,
    }
}

/// Gives an error that has no code the one its message calls for. A value of the
/// wrong type is BAD_USER_INPUT (the caller's input, not the document); an
/// `operationName` the document does not define, OPERATION_RESOLUTION_FAILURE; the
/// depth and complexity limits and async-graphql's bound on fragment recursion,
/// QUERY_TOO_COMPLEX. Any other error without a path failed validation, before any
/// field ran (parse errors and the limits of `guard` come with codes): it is
/// GRAPHQL_VALIDATION_FAILED. An error with a path came from a field and did not pass
/// through `ServiceError`: it was not foreseen, so its text is logged and replaced, as
/// INTERNAL_SERVER_ERROR.
fn assign_code(error: &mut ServerError, limits: &super::Limits) {
    if code_of(error).is_some() {
        return;
    }
    let code = if is_input_error(&error.message) {
        ErrorCode::BadUserInput.as_str()
    } else if error.message.starts_with("Unknown operation named") {
        "OPERATION_RESOLUTION_FAILURE"
    } else if let Some(limit) = limit_of(limits, &error.message) {
        error.message = format!("{} The limit is {limit}.", error.message);
        "QUERY_TOO_COMPLEX"
    } else if error.message.starts_with("The recursion depth of the query") {
        "QUERY_TOO_COMPLEX"
    } else if error.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        tracing::error!(error = %error.message, path = ?error.path, "internal error without a code");
        error.message = "Internal server error.".to_owned();
        ErrorCode::InternalServerError.as_str()
    };
    set_code(error, code);
}

/// Makes sure every error of a response carries `extensions.code`, and that internal
/// ones carry the request id, which is also in the log line of their detail. The one
/// pass, made on the finished response.
pub(crate) fn ensure_codes(errors: &mut [ServerError], request_id: &RequestId, limits: &super::Limits) {
    for error in errors {
        assign_code(error, limits);
        if code(error) == Some(ErrorCode::InternalServerError.as_str()) {
            error.extensions.get_or_insert_with(Default::default).set("requestId", request_id.0.as_str());
        }
    }
}
