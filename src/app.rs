//! The HTTP application: state, routes, the GraphQL-over-HTTP protocol, serving.
//!
//! `/graphql` follows the GraphQL-over-HTTP specification: POST with
//! `application/json`, GET with query parameters (queries only: a mutation over GET is
//! 405), responses as `application/graphql-response+json` or `application/json` as
//! the `Accept` header asks (406 when it accepts neither). With
//! `application/graphql-response+json`, a request that fails before execution (it does
//! not parse or validate) is a 400; with `application/json` it is a 200, as the
//! specification requires. A browser asking for HTML gets GraphiQL.

use std::time::Duration;

use anyhow::Context as _;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::auth::{self, Caller};
use crate::config::{Config, Limits};
use crate::graphql::loaders::Loaders;
use crate::graphql::{AppSchema, RequestId, SchemaOptions, build_schema};

#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    /// Whether requests must carry a token.
    pub auth_required: bool,
    pub limits: Limits,
}

impl AppState {
    pub fn new(db: DatabaseConnection, options: SchemaOptions) -> Self {
        let limits = options.limits.clone();
        AppState { schema: build_schema(db.clone(), options), db, auth_required: false, limits }
    }

    /// The same, with tokens required.
    pub fn with_auth(mut self, required: bool) -> Self {
        self.auth_required = required;
        self
    }
}

pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout));
    let origins: Vec<HeaderValue> =
        limits.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
}

const REQUEST_ID: &str = "x-request-id";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUID.
fn request_id(headers: &HeaderMap) -> RequestId {
    let given = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()));
    RequestId(given.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
}

/// The response media type the `Accept` header asks for, or `None` when it accepts
/// neither GraphQL one. No header, or `*/*`, means `application/json`.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) else { return Some(JSON) };
    let types: Vec<&str> = accept.split(',').map(|t| t.split(';').next().unwrap_or_default().trim()).collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if types.iter().any(|t| matches!(*t, "application/json" | "application/*" | "*/*")) {
        Some(JSON)
    } else {
        None
    }
}

/// A response with a JSON error body, for requests that never reach GraphQL.
fn reject(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The caller of a request, or the 401 to answer it with.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    if !state.auth_required {
        return Ok(Caller::anyone());
    }
    let unauthenticated =
        || reject(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "a valid `Authorization: Bearer` token is required");
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(auth::bearer)
        .ok_or_else(unauthenticated)?;
    match crate::service::token::caller(&state.db, secret).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(unauthenticated()),
        Err(error) => {
            let error: async_graphql::Error = error.into();
            let code = error.extensions.as_ref().and_then(|e| e.get("code")).map(|c| c.to_string()).unwrap_or_default();
            Err(reject(StatusCode::SERVICE_UNAVAILABLE, code.trim_matches('"'), &error.message))
        }
    }
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    media: &'static str,
) -> Response {
    let id = request_id(headers);
    let caller = match authenticate(state, headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let span = tracing::info_span!("graphql", request_id = %id.0);
    let request = request.data(Loaders::new(&state.db)).data(id.clone()).data(caller);
    let response = state.schema.execute(request).instrument(span).await;
    // A request that failed before execution: no data, and errors without a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if media == GRAPHQL_RESPONSE && request_error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut body = serde_json::to_value(&response).unwrap_or_default();
    if request_error && let Some(body) = body.as_object_mut() {
        // Execution never began, so there is no `data` entry (GraphQL spec, "Response").
        body.remove("data");
    }
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if media == JSON { "application/json" } else { GRAPHQL_RESPONSE }),
    );
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        headers.insert(REQUEST_ID, value);
    }
    response
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message =
                format!("the body is larger than {} bytes (PROFILES_MAX_BODY_BYTES)", state.limits.max_body_bytes);
            return reject(StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST", &message);
        }
        Err(rejection) => return reject(rejection.status(), "BAD_REQUEST", &rejection.body_text()),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST", "send the request as `application/json`");
    }
    let Some(media) = negotiate(&headers) else {
        return reject(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_REQUEST",
            "accept `application/graphql-response+json` or `application/json`",
        );
    };
    match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) => execute(&state, &headers, request, media).await,
        Err(error) => {
            reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("the body is not a GraphQL request: {error}"))
        }
    }
}

/// Whether `query` selects a mutation (or subscription) operation.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else { return false };
    let operation = match (&document.operations, &request.operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    operation.is_some_and(|op| op.node.ty != OperationType::Query)
}

/// A browser asking for HTML gets GraphiQL; anything else is a GraphQL GET request.
async fn graphql_get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or_default();
    if accept.contains("text/html") && query.is_none() {
        return Html(GraphiQLSource::build().endpoint("/graphql").title("Profiles gateway").finish()).into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return reject(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_REQUEST",
            "accept `application/graphql-response+json` or `application/json`",
        );
    };
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()) {
        Ok(request) => request,
        Err(error) => {
            return reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("not a GraphQL GET request: {error}"));
        }
    };
    if is_mutation(&request) {
        return reject(StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", "mutations are sent with POST");
    }
    execute(&state, &headers, request, media).await
}

/// 200 when the database answers, 503 when it does not.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: &Config, db: DatabaseConnection) -> anyhow::Result<()> {
    let auth_required = auth::required(config.auth, config.listen).map_err(anyhow::Error::msg)?;
    if !auth_required {
        tracing::warn!(
            "API tokens are not required on {}: anyone who can reach it can read and write profiles",
            config.listen
        );
    }
    let options =
        SchemaOptions { region: config.default_region, limits: config.limits.clone(), ..SchemaOptions::default() };
    let app = router(AppState::new(db.clone(), options).with_auth(auth_required));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!("GraphiQL on http://{}/graphql", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    db.close().await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
