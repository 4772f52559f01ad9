//! Logs and metrics.
//!
//! Logs go through `tracing`, filtered by `RUST_LOG` (default `info`), for people
//! (`PROFILES_LOG_FORMAT=pretty`, the default) or machines (`json`). Every request gets
//! a span with its request id (the caller's `x-request-id`, or a new UUID, returned in
//! the response header), and one line when it ends: route, status, duration and, for
//! GraphQL, the operation's name; requests slower than `PROFILES_SLOW_REQUEST` are
//! logged at warn.
//!
//! Metrics are Prometheus text at `/metrics` (`metrics` + `metrics-exporter-prometheus`):
//! - `http_requests_total`, `http_request_duration_seconds` by route, method, status;
//! - `graphql_operations_total`, `graphql_operation_duration_seconds` by operation
//!   name and type; `graphql_errors_total` by code; `graphql_read_retries_total`,
//!   reads run again after losing their database connection;
//!
//! Label values are bounded, since every new value is a series held for the life of
//! the process: an operation is labelled with its name only once its document
//! validated (else `invalid`), cut to 64 characters, and only the first 200 distinct
//! names get a series of their own; later ones share `other`. A background thread
//! folds histogram samples into their buckets every 5 s, so memory stays flat whether
//! or not anything scrapes `/metrics`.
//! - `db_statements_total` (by outcome), `db_statement_duration_seconds`;
//! - `db_pool_connections` by state (`in_use`, `idle`), read when scraped.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// The id of the request being served: from `x-request-id`, or made.
#[derive(Clone, Debug)]
pub(crate) struct RequestId(pub String);

/// How logs are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// For people reading a terminal.
    #[default]
    Pretty,
    /// One JSON object a line, for log collectors.
    Json,
}

/// Installs the process's logger, writing to standard error. What it logs is what
/// `RUST_LOG` asks for; without it, `info` for the server and only warnings and errors
/// for the other commands (`command_line`), whose output is for people. Colour only on
/// a terminal, and never with `NO_COLOR` set.
pub fn init(format: LogFormat, command_line: bool) {
    use std::io::IsTerminal;
    let default = if command_line { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(format == LogFormat::Pretty && std::io::stderr().is_terminal() && !no_color);
    // A second call (tests) finds a subscriber already set; that is fine.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

/// A duration in milliseconds to the microsecond, for logs: `21.358`, not
/// `21.358265000000003`.
fn milliseconds(elapsed: Duration) -> f64 {
    elapsed.as_micros() as f64 / 1000.0
}

/// How often histogram samples are folded into buckets when nothing scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// Longest operation name used as a label value.
const MAX_LABEL_CHARS: usize = 64;
/// Most distinct operation names with a series of their own.
const MAX_OPERATION_NAMES: usize = 200;

/// Installs the process's Prometheus recorder (once; later calls return the same
/// handle), with its upkeep thread.
pub fn install_metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &seconds)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed: keep a handle that records nothing.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            // `install_recorder` starts no upkeep: without it, samples pile up until a
            // scrape, and the histograms' memory grows with them. A plain thread needs no runtime to be running.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".to_owned()).spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start the metrics upkeep thread");
            }
            handle
        })
        .clone()
}

/// The operation names already given a series of their own (at most 200).
#[derive(Debug, Default)]
pub struct OperationLabels {
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl OperationLabels {
    /// The label value for an operation name: `invalid` for a document that did not
    /// validate, the name cut to 64 characters, or `other` once 200 names are known.
    pub(crate) fn label(&self, name: &str, validated: bool) -> String {
        if !validated {
            return "invalid".to_owned();
        }
        let name: String = name.chars().take(MAX_LABEL_CHARS).collect();
        let Ok(mut known) = self.known.lock() else { return "other".to_owned() };
        if known.contains(&name) {
            name
        } else if known.len() < MAX_OPERATION_NAMES {
            known.insert(name.clone());
            name
        } else {
            "other".to_owned()
        }
    }
}

/// Records one SQL statement (SeaORM's metric callback calls this).
pub fn record_statement(info: &sea_orm::metric::Info<'_>) {
    let outcome = if info.failed { "failed" } else { "ok" };
    metrics::counter!("db_statements_total", "outcome" => outcome).increment(1);
    metrics::histogram!("db_statement_duration_seconds").record(info.elapsed.as_secs_f64());
}

/// Records one GraphQL operation and its errors; `name` is a bounded label
/// ([`OperationLabels::label`]).
pub(crate) fn record_operation(
    name: String,
    kind: &'static str,
    elapsed: Duration,
    codes: impl Iterator<Item = String>,
) {
    let labels = [("operation", name), ("type", kind.to_owned())];
    metrics::counter!("graphql_operations_total", &labels).increment(1);
    metrics::histogram!("graphql_operation_duration_seconds", &labels).record(elapsed.as_secs_f64());
    for code in codes {
        metrics::counter!("graphql_errors_total", "code" => code).increment(1);
    }
}

/// The name of the GraphQL operation a response answered, for the request's log line.
#[derive(Clone, Debug)]
pub(crate) struct OperationName(pub String);

/// Wraps every request: request id, span, metrics, one log line.
pub(crate) async fn observe(State(slow): State<Duration>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |path| path.as_str()).to_owned();
    let method = request.method().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16().to_string();
    let operation = response.extensions().get::<OperationName>().map(|o| o.0.clone());
    let labels = [("route", route.clone()), ("method", method), ("status", status.clone())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let _entered = span.enter();
    let (ms, operation) = (milliseconds(elapsed), operation.unwrap_or_default());
    if elapsed >= slow {
        tracing::warn!(%status, duration_ms = ms, %operation, "slow request");
    } else if route != "/healthz" && route != "/metrics" {
        tracing::info!(%status, duration_ms = ms, %operation, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `/metrics`: the Prometheus text, with the pool's gauges read now.
pub(crate) async fn scrape(State((db, metrics)): State<(DatabaseConnection, PrometheusHandle)>) -> impl IntoResponse {
    let pool = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        _ => None,
    };
    if let Some((size, idle)) = pool {
        let idle = idle as f64;
        metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
        metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(size) - idle);
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics.render())
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_are_logged_to_the_microsecond() {
        let elapsed = std::time::Duration::from_nanos(21_358_265_123);
        assert_eq!(super::milliseconds(elapsed).to_string(), "21358.265");
        assert_eq!(super::milliseconds(std::time::Duration::from_micros(21_358)).to_string(), "21.358");
    }
}
