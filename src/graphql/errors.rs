//! Gives every GraphQL error an `extensions.code` (SPEC §4.2), and keeps internals out.
//!
//! Parse and validation failures get `GRAPHQL_PARSE_FAILED` and
//! `GRAPHQL_VALIDATION_FAILED`, except that a value of the wrong type (in the document
//! or in the variables) gets `BAD_USER_INPUT`, as does, during execution, an argument
//! that does not parse (a malformed UUID, say); any other error without a code did
//! not pass through `AppError`, so its text is logged and replaced. Internal errors
//! carry the request id, which is also in the log line of their detail.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::error::ErrorCode;
use crate::telemetry::RequestId;

/// The extension; it names the limits a query went over.
pub struct ErrorCodes {
    pub limits: super::Limits,
}

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension { limits: self.limits.clone() })
    }
}

struct ErrorCodesExtension {
    limits: super::Limits,
}

fn code_of(error: &ServerError) -> Option<&Value> {
    error.extensions.as_ref().and_then(|ext| ext.get("code"))
}

/// The `extensions.code` of an error, as text.
pub fn code(error: &ServerError) -> Option<&str> {
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
pub fn coded(message: impl Into<String>, code: &str) -> ServerError {
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

/// Gives an error that has no code the one its message calls for: BAD_USER_INPUT for a
/// value of the wrong type, OPERATION_RESOLUTION_FAILURE for an `operationName` the
/// document does not define; anything else was not foreseen, so its text is logged
/// and replaced, as INTERNAL_SERVER_ERROR.
fn assign_code(error: &mut ServerError) {
    if code_of(error).is_some() {
        return;
    }
    let code = if is_input_error(&error.message) {
        ErrorCode::BadUserInput.as_str()
    } else if error.message.starts_with("Unknown operation named") {
        "OPERATION_RESOLUTION_FAILURE"
    } else {
        tracing::error!(error = %error.message, path = ?error.path, "internal error without a code");
        error.message = "Internal server error.".to_owned();
        ErrorCode::InternalServerError.as_str()
    };
    set_code(error, code);
}

/// Makes sure every error of a response carries `extensions.code` — those from
/// resolvers, and those async-graphql raises before any extension sees them (an
/// unknown operation name) — and that internal ones carry the request id, which is
/// also in the log line of their detail. The one pass, made on the finished response.
pub fn ensure_codes(errors: &mut [ServerError], request_id: &RequestId) {
    for error in errors {
        assign_code(error);
        if code(error) == Some(ErrorCode::InternalServerError.as_str()) {
            error.extensions.get_or_insert_with(Default::default).set("requestId", request_id.0.as_str());
        }
    }
}

impl ErrorCodesExtension {
    /// The limit behind async-graphql's depth and complexity errors.
    fn limit_of(&self, message: &str) -> Option<String> {
        match message {
            "Query is nested too deep." => Some(format!("{} (PROFILES_MAX_DEPTH)", self.limits.max_depth)),
            "Query is too complex." => Some(format!("{} (PROFILES_MAX_COMPLEXITY)", self.limits.max_complexity)),
            _ => None,
        }
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut error| {
            // Limits checked while parsing (see `guard`) come with their own code; so
            // does the parser's own bound on nesting (selection sets, fragment chains).
            if code_of(&error).is_none() {
                let limit = error.message.starts_with("The recursion depth of the query");
                set_code(&mut error, if limit { "QUERY_TOO_COMPLEX" } else { "GRAPHQL_PARSE_FAILED" });
            }
            error
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for error in &mut errors {
                // A value of the wrong type is the caller's input, not the document.
                let code = if is_input_error(&error.message) {
                    "BAD_USER_INPUT"
                } else if let Some(limit) = self.limit_of(&error.message) {
                    error.message = format!("{} The limit is {limit}.", error.message);
                    "QUERY_TOO_COMPLEX"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                set_code(error, code);
            }
            errors
        })
    }
}
