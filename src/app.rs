//! The composition root: builds the pieces (metrics, schema, state, router) from the
//! configuration, serves them, and stops on a signal.

use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::graphql::SchemaOptions;
use crate::http::serve::{ConnectionLimits, Server};
use crate::http::{AppState, router};
use crate::service::events::delivery::Worker;
use crate::service::events::webhooks::WebhookSettings;
use crate::{auth, telemetry};

/// The application state `config` describes, over `db`, with the process's metrics.
pub(crate) fn state(config: &Config, db: DatabaseConnection) -> anyhow::Result<AppState> {
    let auth_required = auth::required(config.auth, config.listen).map_err(anyhow::Error::msg)?;
    if !auth_required {
        tracing::warn!(
            "API tokens are not required on {}: anyone who can reach it can read and write profiles",
            config.listen
        );
    }
    let options = SchemaOptions {
        region: config.default_region,
        limits: config.limits.clone(),
        webhooks: webhooks(config),
        writes: config.writes,
        ..SchemaOptions::default()
    };
    let mut state = AppState::new(db, options, telemetry::install_metrics())
        .with_auth(auth_required)
        .with_http(config.http.clone());
    state.slow_request = config.slow_request;
    Ok(state)
}

/// The webhook settings, loopback targets allowed only while the service itself
/// listens on loopback (development and tests), as `PROFILES_AUTH=auto` decides.
fn webhooks(config: &Config) -> WebhookSettings {
    WebhookSettings { loopback: auth::on_loopback(config.listen), ..config.webhooks.clone() }
}

/// Serves until Ctrl-C or SIGTERM.
pub(crate) async fn serve(config: &Config, db: DatabaseConnection) -> anyhow::Result<()> {
    crate::service::profiles::collisions::warn_of_email_collisions(&db).await?;
    let state = state(config, db.clone())?
        .with_documents(&config.documents)
        .await
        .map_err(|error| anyhow::anyhow!("persisted documents (PROFILES_DOCUMENT_MANIFEST): {error}"))?;
    crate::service::one_statement::decide(&state.services).await?;
    if config.documents.documents == crate::graphql::persisted::DocumentMode::Hybrid && !state.auth_required {
        tracing::warn!("PROFILES_DOCUMENTS=hybrid without tokens: every caller counts as admin and may send any text");
    }
    let reloads = tokio::spawn(reload_on_hangup(state.clone(), hangups()));
    let metrics = serve_metrics(config, &state).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!("GraphiQL on http://{}/graphql", listener.local_addr()?);
    let settings = Serving { connections: config.connections, grace: config.shutdown_grace };
    let worker = Worker::start(state.services.clone(), webhooks(config));
    serve_until(state, listener, settings, shutdown_signal()).await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    reloads.abort();
    // Deliveries in flight finish (each within the webhook timeout) and are recorded.
    worker.stop().await;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` on `PROFILES_METRICS_LISTEN` (unless `off`) until aborted, with
/// the main listener's connection limits.
async fn serve_metrics(config: &Config, state: &AppState) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(address) = config.metrics_listen.0 else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
    let router = crate::http::prometheus::router(state.services.clone(), state.metrics.clone());
    let server = Server::new(listener, router, config.connections);
    // Never told to stop (the sender lives as long as the task): aborted once the main
    // server has drained.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    Ok(Some(tokio::spawn(async move {
        server.run(stopped).await;
        drop(stop);
    })))
}

/// How connections are served and how long a shutdown waits for them.
#[derive(Clone, Copy, Debug)]
pub struct Serving {
    pub connections: ConnectionLimits,
    /// How long in-flight requests may run once `shutdown` has come.
    pub grace: std::time::Duration,
}

/// Serves `state` on `listener` until `shutdown` completes (a signal, or whatever a
/// test passes), then stops accepting and lets in-flight requests finish for up to
/// the grace period; what is left after it is dropped.
pub async fn serve_until(
    state: AppState,
    listener: tokio::net::TcpListener,
    settings: Serving,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let mut signalled = stopped.clone();
    let server = Server::new(listener, router(state), settings.connections).run(stopped);
    tokio::select! {
        () = server => {},
        () = async { let _ = signalled.wait_for(|stop| *stop).await; tokio::time::sleep(settings.grace).await } => {
            tracing::warn!(grace = ?settings.grace, "grace period over: dropping the requests still in flight");
        }
    }
}

/// SIGHUP, listened for from now on (so that one sent as soon as the server listens
/// does not end the process); `None` where it cannot be.
#[cfg(unix)]
fn hangups() -> Option<tokio::signal::unix::Signal> {
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    if hangups.is_err() {
        tracing::warn!("cannot listen for SIGHUP: the documents' manifest is read only at start");
    }
    hangups.ok()
}

#[cfg(not(unix))]
fn hangups() -> Option<()> {
    None
}

/// Reads the persisted documents' manifest again on each SIGHUP: a manifest with a
/// document that fails its checks is not taken, and the one in use stays.
#[cfg(unix)]
async fn reload_on_hangup(state: AppState, hangups: Option<tokio::signal::unix::Signal>) {
    let Some(mut hangup) = hangups else { return };
    while hangup.recv().await.is_some() {
        match state.persisted.reload(&state.documents).await {
            Ok(documents) => {
                metrics::counter!("graphql_document_manifest_reloads_total", "outcome" => "loaded").increment(1);
                tracing::info!(documents, "reloaded the persisted documents' manifest");
            }
            Err(error) => {
                metrics::counter!("graphql_document_manifest_reloads_total", "outcome" => "refused").increment(1);
                tracing::error!(%error, "the persisted documents' manifest was not reloaded; the one in use stays");
            }
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_hangup(_: AppState, _: Option<()>) {}

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
