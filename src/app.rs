//! The HTTP application: state, routes, and serving with graceful shutdown.

use anyhow::Context as _;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tracing::Instrument;

use crate::config::Config;
use crate::graphql::loaders::Loaders;
use crate::graphql::{AppSchema, RequestId, SchemaOptions, build_schema};

#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
}

impl AppState {
    pub fn new(db: DatabaseConnection, options: SchemaOptions) -> Self {
        AppState { schema: build_schema(db.clone(), options), db }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

const REQUEST_ID: &str = "x-request-id";

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUID.
fn request_id(headers: &HeaderMap) -> RequestId {
    let given = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()));
    RequestId(given.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
}

async fn execute(state: &AppState, headers: &HeaderMap, request: GraphQLRequest) -> Response {
    let id = request_id(headers);
    let span = tracing::info_span!("graphql", request_id = %id.0);
    let request = request.into_inner().data(Loaders::new(&state.db)).data(id.clone());
    let response: GraphQLResponse = state.schema.execute(request).instrument(span).await.into();
    let mut response = response.into_response();
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    execute(&state, &headers, request).await
}

/// A browser asking for HTML gets GraphiQL; anything else is a GraphQL GET request.
async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return Html(GraphiQLSource::build().endpoint("/graphql").title("Profiles gateway").finish()).into_response();
    }
    match GraphQLRequest::from_request(request, &state).await {
        Ok(graphql) => execute(&state, &headers, graphql).await,
        Err(rejection) => rejection.into_response(),
    }
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

/// Connects, migrates and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: &Config, db: DatabaseConnection) -> anyhow::Result<()> {
    let options = SchemaOptions { region: config.default_region, ..SchemaOptions::default() };
    let app = router(AppState::new(db.clone(), options));
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
