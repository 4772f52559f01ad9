//! Typed configuration, from flags or the environment (every setting is in the README).

use std::net::SocketAddr;
use std::time::Duration;

use crate::domain::phone::Region;

/// Settings shared by every subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://profiles.db?mode=rwc", global = true)]
    pub database_url: String,

    /// Address and port the server listens on.
    #[arg(long, env = "PROFILES_LISTEN", default_value = "127.0.0.1:8000", global = true)]
    pub listen: SocketAddr,

    /// Where `/metrics` is served, on a listener of its own: `off` for nowhere. Loopback
    /// by default, since Prometheus scrapes without a token.
    #[arg(long, env = "PROFILES_METRICS_LISTEN", default_value = "127.0.0.1:9464", global = true)]
    pub metrics_listen: crate::http::prometheus::MetricsListen,

    /// Region (ISO 3166 code) that national phone numbers are read in.
    #[arg(long, env = "PROFILES_DEFAULT_REGION", default_value = "AU", global = true)]
    pub default_region: Region,

    /// The database pool: its size and its patience.
    #[command(flatten)]
    pub pool: crate::db::PoolSettings,

    /// How long to keep retrying a database that is down at start.
    #[arg(long, env = "PROFILES_DB_CONNECT_WAIT", default_value = "60s", value_parser = humantime::parse_duration, global = true)]
    pub db_connect_wait: Duration,

    /// Whether requests need an API token (`auto`: on a non-loopback address).
    #[arg(long, env = "PROFILES_AUTH", value_enum, default_value_t = crate::auth::AuthMode::Auto, global = true)]
    pub auth: crate::auth::AuthMode,

    /// How logs are written: `pretty` for people, `json` for machines.
    #[arg(long, env = "PROFILES_LOG_FORMAT", value_enum, default_value_t = crate::telemetry::LogFormat::Pretty, global = true)]
    pub log_format: crate::telemetry::LogFormat,

    /// Requests slower than this are logged at warn.
    #[arg(long, env = "PROFILES_SLOW_REQUEST", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub slow_request: Duration,

    /// How long in-flight requests may run after SIGTERM or Ctrl-C.
    #[arg(long, env = "PROFILES_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_grace: Duration,

    #[command(flatten)]
    pub limits: crate::graphql::Limits,

    #[command(flatten)]
    pub http: crate::http::HttpLimits,

    #[command(flatten)]
    pub connections: crate::http::serve::ConnectionLimits,

    #[command(flatten)]
    pub webhooks: crate::service::events::webhooks::WebhookSettings,

    #[command(flatten)]
    pub writes: crate::service::runtime::WriteSettings,

    #[command(flatten)]
    pub documents: crate::graphql::persisted::DocumentSettings,
}
