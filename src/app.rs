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
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::auth::{self, Caller};
use crate::config::{Config, Limits};
use crate::error::AppError;
use crate::graphql::loaders::Loaders;
use crate::graphql::{AppSchema, RequestId, SchemaOptions, build_schema};
use crate::telemetry::{self, OperationName};

#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    /// Whether requests must carry a token.
    pub auth_required: bool,
    pub limits: Limits,
    /// Requests slower than this are logged at warn.
    pub slow_request: Duration,
    /// Operation names with a metrics series of their own.
    pub operation_labels: std::sync::Arc<telemetry::OperationLabels>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, options: SchemaOptions) -> Self {
        let limits = options.limits.clone();
        let slow_request = Duration::from_secs(1);
        AppState {
            schema: build_schema(db.clone(), options),
            db,
            auth_required: false,
            limits,
            slow_request,
            operation_labels: Default::default(),
        }
    }

    /// The same, with tokens required.
    pub fn with_auth(mut self, required: bool) -> Self {
        self.auth_required = required;
        self
    }
}

pub fn router(state: AppState) -> Router {
    // Installed now, so that nothing recorded before the first scrape is lost.
    telemetry::metrics();
    let limits = state.limits.clone();
    let metrics = Router::new().route("/metrics", get(telemetry::scrape)).with_state(state.db.clone());
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route(&format!("{}/{{file}}", crate::graphiql::ASSETS), get(crate::graphiql::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/readyz", get(readyz))
        .with_state(state.clone())
        .merge(metrics)
        .layer(middleware::from_fn_with_state(state.slow_request, telemetry::observe))
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

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

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
    metrics::counter!("graphql_errors_total", "code" => code.to_owned()).increment(1);
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
        Err(AppError::ServiceUnavailable { .. }) => Err(reject(
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

/// How a request arrived: a GET may only run queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    id: RequestId,
    mut request: async_graphql::Request,
    media: &'static str,
    via: Via,
) -> Response {
    // The caller first: nothing of an unauthenticated request is parsed.
    let caller = match authenticate(state, headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let started = std::time::Instant::now();
    // Then the bound on nesting, before anything recursive reads the document.
    let (kind, name, mut response) = match crate::graphql::nesting::check(&request.query, &request.variables) {
        Err(error) => ("unknown", "unparsed".to_owned(), async_graphql::Response::from_errors(vec![error])),
        Ok(()) => {
            let (kind, name) = operation(&mut request, &state.limits);
            if via == Via::Get && !matches!(kind, "query" | "unknown") {
                return reject(StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", "mutations are sent with POST");
            }
            let span = tracing::info_span!("graphql", operation = %name, r#type = kind);
            let response = run(state, request, kind, &id, &caller).instrument(span).await;
            (kind, name, response)
        }
    };
    // A request that failed before execution: no data, and errors without a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    crate::graphql::errors::ensure_codes(&mut response.errors);
    let codes = response.errors.iter().filter_map(|e| crate::graphql::errors::code(e).map(str::to_owned));
    let label = state.operation_labels.label(&name, !request_error);
    telemetry::record_operation(label, kind, started.elapsed(), codes);
    let mut http = if request_error {
        request_errors(media, response.errors)
    } else {
        // Serialised as it is, so that fields keep the order of the selection.
        with_media(StatusCode::OK, serde_json::to_vec(&response).unwrap_or_default(), media)
    };
    http.extensions_mut().insert(OperationName(name));
    http
}

/// Executes a request whose nesting was checked, with the per-request data, and puts
/// the fields of its result in selection order. A read that lost its database
/// connection runs once more on a fresh one; a write does not (it may have committed).
async fn run(
    state: &AppState,
    mut request: async_graphql::Request,
    kind: &str,
    id: &RequestId,
    caller: &Caller,
) -> async_graphql::Response {
    // The document async-graphql parsed (once: it reuses the one cached on the request).
    let document = request.parsed_query().ok().cloned();
    let operation_name = request.operation_name.clone();
    let retry = (kind == "query").then(|| (request.query.clone(), request.variables.clone()));
    let data =
        |request: async_graphql::Request| request.data(Loaders::new(&state.db)).data(id.clone()).data(caller.clone());
    let mut response = state.schema.execute(data(request)).await;
    if let Some((query, variables)) = retry
        && response.errors.iter().any(|e| e.source::<crate::error::ConnectionLost>().is_some())
    {
        tracing::warn!("a read lost its database connection; running it once more");
        metrics::counter!("graphql_read_retries_total").increment(1);
        let mut again = async_graphql::Request::new(query).variables(variables);
        again.operation_name = operation_name.clone();
        response = state.schema.execute(data(again)).await;
    }
    if let Some(document) = &document {
        crate::graphql::order::restore(&mut response.data, document, operation_name.as_deref());
    }
    response
}

/// The answer to a request that failed before execution began: no `data` entry (GraphQL
/// spec, "Response"), and 400 when the client accepts `application/graphql-response+json`.
fn request_errors(media: &'static str, errors: Vec<async_graphql::ServerError>) -> Response {
    #[derive(serde::Serialize)]
    struct Errors {
        errors: Vec<async_graphql::ServerError>,
    }
    let status = if media == GRAPHQL_RESPONSE { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    with_media(status, serde_json::to_vec(&Errors { errors }).unwrap_or_default(), media)
}

fn with_media(status: StatusCode, body: Vec<u8>, media: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response
}

async fn graphql_post(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
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
        Ok(request) => execute(&state, &headers, id, request, media, Via::Post).await,
        Err(error) => {
            reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("the body is not a GraphQL request: {error}"))
        }
    }
}

/// The type (`query`, `mutation`) and name of the operation a request selects, for
/// logs and metrics; `anonymous` for an unnamed one, `unparsed` when it does not parse.
/// The parsed document stays cached on the request, and execution reuses it. A query
/// over the size limit is not parsed here: the guard refuses it before parsing.
fn operation(request: &mut async_graphql::Request, limits: &Limits) -> (&'static str, String) {
    let operation_name = request.operation_name.clone();
    if request.query.len() > limits.max_query_bytes {
        return ("unknown", "unparsed".to_owned());
    }
    let Ok(document) = request.parsed_query() else { return ("unknown", "unparsed".to_owned()) };
    let (name, operation) = match (&document.operations, &operation_name) {
        (DocumentOperations::Single(operation), _) => (None, Some(operation)),
        (DocumentOperations::Multiple(operations), Some(name)) => (Some(name.clone()), operations.get(name.as_str())),
        (DocumentOperations::Multiple(operations), None) => {
            let first = operations.iter().next();
            (first.map(|(name, _)| name.to_string()), first.map(|(_, op)| op))
        }
    };
    let kind = match operation.map(|op| op.node.ty) {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    (kind, name.or(operation_name).unwrap_or_else(|| "anonymous".to_owned()))
}

/// A browser asking for HTML gets GraphiQL; anything else is a GraphQL GET request.
async fn graphql_get(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or_default();
    if accept.contains("text/html") && query.is_none() {
        return crate::graphiql::page();
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
    execute(&state, &headers, id, request, media, Via::Get).await
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
    let mut state = AppState::new(db.clone(), options).with_auth(auth_required);
    state.slow_request = config.slow_request;
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!("GraphiQL on http://{}/graphql", listener.local_addr()?);
    // On a signal the server stops accepting and lets in-flight requests finish; after
    // the grace period whatever is left is dropped.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let signalled = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let server = crate::server::serve(listener, app, config.connections, stopped.clone());
    let grace = config.shutdown_grace;
    tokio::select! {
        () = server => {},
        () = async { signalled(stopped).await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "grace period over: dropping the requests still in flight");
        }
    }
    db.close().await?;
    tracing::info!("stopped");
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
