//! Who is calling: the bearer token of a request, checked before anything of the
//! request is parsed.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::{AppState, reject};
use crate::auth::{self, Caller};
use crate::graphql::errors::ErrorCode;
use crate::service::error::Error as ServiceError;

/// The caller of a request, or the 401 to answer it with.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    if !state.auth_required {
        return Ok(Caller::anyone());
    }
    let unauthenticated = || {
        reject(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated.as_str(),
            "a valid `Authorization: Bearer` token is required",
        )
    };
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(auth::bearer)
        .ok_or_else(unauthenticated)?;
    match crate::service::token::caller(&state.db, secret).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(unauthenticated()),
        Err(ServiceError::Unavailable { .. }) => Err(reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "the database is unavailable; try again shortly",
        )),
        Err(error) => {
            tracing::error!(?error, "token lookup failed");
            Err(reject(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "Internal server error."))
        }
    }
}
