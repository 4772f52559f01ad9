//! Typed configuration, from flags or the environment (every setting is in the README).

use std::net::SocketAddr;
use std::time::Duration;

use crate::domain::phone::Region;

/// Whether requests must carry an API token.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// Required on a non-loopback address; off on a loopback one (with a warning).
    #[default]
    Auto,
    /// Always required.
    Required,
    /// Never required; refused on a non-loopback address.
    Off,
}

/// Settings shared by every subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://profiles.db?mode=rwc", global = true)]
    pub database_url: String,

    /// Address and port the server listens on.
    #[arg(long, env = "PROFILES_LISTEN", default_value = "127.0.0.1:8000", global = true)]
    pub listen: SocketAddr,

    /// Region (ISO 3166 code) that national phone numbers are read in.
    #[arg(long, env = "PROFILES_DEFAULT_REGION", default_value = "AU", global = true)]
    pub default_region: Region,

    /// Largest number of pooled database connections.
    #[arg(long, env = "PROFILES_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before SERVICE_UNAVAILABLE.
    #[arg(long, env = "PROFILES_DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = humantime::parse_duration, global = true)]
    pub db_acquire_timeout: Duration,

    /// Longest a PostgreSQL statement may run.
    #[arg(long, env = "PROFILES_DB_STATEMENT_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub db_statement_timeout: Duration,

    /// How long to keep retrying a database that is down at start.
    #[arg(long, env = "PROFILES_DB_CONNECT_WAIT", default_value = "60s", value_parser = humantime::parse_duration, global = true)]
    pub db_connect_wait: Duration,

    /// Whether requests need an API token (`auto`: on a non-loopback address).
    #[arg(long, env = "PROFILES_AUTH", value_enum, default_value_t = AuthMode::Auto, global = true)]
    pub auth: AuthMode,

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
    pub limits: Limits,

    #[command(flatten)]
    pub connections: crate::server::ConnectionLimits,
}

/// Limits on what one request may ask (the README's security section).
#[derive(clap::Args, Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of a query's selections.
    #[arg(long, env = "PROFILES_MAX_DEPTH", default_value_t = 16, global = true)]
    pub max_depth: usize,

    /// Largest query complexity: one per field, list fields times their page size.
    #[arg(long, env = "PROFILES_MAX_COMPLEXITY", default_value_t = 100_000, global = true)]
    pub max_complexity: usize,

    /// Most fields at the root of an operation.
    #[arg(long, env = "PROFILES_MAX_ROOT_FIELDS", default_value_t = 20, global = true)]
    pub max_root_fields: usize,

    /// Most aliases in a document.
    #[arg(long, env = "PROFILES_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,

    /// Largest query document, in bytes.
    #[arg(long, env = "PROFILES_MAX_QUERY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_query_bytes: usize,

    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "PROFILES_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Longest a request may take (408 beyond).
    #[arg(long, env = "PROFILES_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Origins allowed to call from a browser (CORS), comma-separated; none by default.
    #[arg(long, env = "PROFILES_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Whether the schema can be introspected (GraphiQL needs it).
    #[arg(long, env = "PROFILES_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_complexity: 100_000,
            max_root_fields: 20,
            max_aliases: 30,
            max_query_bytes: 64 * 1024,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            introspection: true,
        }
    }
}
