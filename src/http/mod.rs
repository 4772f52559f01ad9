//! HTTP: the routes, their state and limits, the GraphQL-over-HTTP protocol
//! ([`graphql`]), who is calling ([`auth`]), and accepting connections ([`serve`]).

pub(crate) mod auth;
mod caching;
pub(crate) mod graphql;
mod operation;
pub mod prometheus;
pub mod serve;
pub(crate) mod subscription;

pub use subscription::{Places, WebSocketLimits};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::graphql::{AppSchema, SchemaOptions, build_schema};
use crate::telemetry;

/// Limits on what a request may send and how long it may take (the README's
/// security section).
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "PROFILES_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Longest a request may take (408 beyond).
    #[arg(long, env = "PROFILES_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Origins allowed to call from a browser (CORS), comma-separated; none by default.
    #[arg(long, env = "PROFILES_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Addresses of reverse proxies in front of the service, comma-separated: each
    /// stands for many clients, so per-client bounds do not apply to it.
    #[arg(long, env = "PROFILES_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// How WebSocket (subscription) connections are bounded.
    #[command(flatten)]
    pub websockets: WebSocketLimits,
}

impl Default for HttpLimits {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    /// Whether requests must carry a token.
    pub auth_required: bool,
    /// Limits on what a request may send and how long it may take.
    pub http: HttpLimits,
    /// Admits documents within the limits, and keeps those it admitted (`graphql::documents`).
    pub documents: Arc<crate::graphql::documents::Documents>,
    /// Which documents may run, and those persisted (`graphql::persisted`).
    pub persisted: Arc<crate::graphql::persisted::Persisted>,
    /// Requests slower than this are logged at warn.
    pub slow_request: Duration,
    /// Operation names with a metrics series of their own.
    pub operation_labels: Arc<telemetry::OperationLabels>,
    /// The process's metrics, rendered at `/metrics` on the metrics listener.
    pub metrics: PrometheusHandle,
    /// How many requests are being served now (tests wait on it).
    pub in_flight: Arc<watch::Sender<usize>>,
    /// The database, the clock and the notifier of committed events, which services
    /// and the delivery worker run with.
    pub services: crate::service::runtime::Services,
    /// The places of WebSocket connections, waiting for `connection_init` or admitted.
    pub websockets: Arc<Places>,
}

impl AppState {
    /// State over `db` with the schema `options` describe, default HTTP limits, no
    /// tokens required, and metrics kept by `metrics` ([`telemetry::install_metrics`]).
    /// Its services (and their notifier) are made here, on `options.clock`.
    pub fn new(db: DatabaseConnection, options: SchemaOptions, metrics: PrometheusHandle) -> Self {
        let services =
            crate::service::runtime::Services::new(db.clone(), options.clock.clone()).with_writes(options.writes);
        AppState {
            documents: Arc::new(crate::graphql::documents::Documents::new(options.limits.clone())),
            persisted: Arc::new(crate::graphql::persisted::Persisted::new(&Default::default())),
            schema: build_schema(services.clone(), options),
            services,
            db,
            auth_required: false,
            websockets: Arc::new(Places::new(&WebSocketLimits::default(), &[])),
            http: HttpLimits::default(),
            slow_request: Duration::from_secs(1),
            operation_labels: Default::default(),
            metrics,
            in_flight: Arc::new(watch::Sender::new(0)),
        }
    }

    /// The same, with these HTTP limits.
    pub fn with_http(mut self, http: HttpLimits) -> Self {
        self.websockets = Arc::new(Places::new(&http.websockets, &http.trusted_proxies));
        self.http = http;
        self
    }

    /// The same, running the documents `settings` allow: loads the manifest, if any
    /// (an error names what is wrong with it).
    pub async fn with_documents(
        mut self,
        settings: &crate::graphql::persisted::DocumentSettings,
    ) -> Result<Self, String> {
        let persisted = crate::graphql::persisted::Persisted::new(settings);
        persisted.reload(&self.documents).await?;
        self.persisted = Arc::new(persisted);
        Ok(self)
    }

    /// The same, with tokens required.
    pub fn with_auth(mut self, required: bool) -> Self {
        self.auth_required = required;
        self
    }
}

/// The main router: GraphQL, GraphiQL and the health checks. `/metrics` is not among
/// them: it has a listener of its own ([`prometheus`]).
pub fn router(state: AppState) -> Router {
    let limits = state.http.clone();
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route(&format!("{}/{{file}}", crate::graphiql::ASSETS), get(crate::graphiql::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/readyz", get(readyz))
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(state.slow_request, telemetry::observe))
        .layer(middleware::from_fn_with_state(state.in_flight.clone(), count_in_flight))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout));
    let origins: Vec<HeaderValue> =
        limits.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT, header::IF_NONE_MATCH])
                .expose_headers([header::ETAG])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
}

/// A response with a JSON error body, for requests that never reach GraphQL.
pub(crate) fn reject(status: StatusCode, code: &str, message: &str) -> Response {
    metrics::counter!("graphql_errors_total", "code" => code.to_owned()).increment(1);
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    caching::no_store(response)
}

/// Counts the request as in flight while it is being served (also when dropped).
async fn count_in_flight(
    State(in_flight): State<Arc<watch::Sender<usize>>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    struct Leaving(Arc<watch::Sender<usize>>);
    impl Drop for Leaving {
        fn drop(&mut self) {
            self.0.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
    in_flight.send_modify(|n| *n += 1);
    let _leaving = Leaving(in_flight);
    next.run(request).await
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
