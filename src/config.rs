//! Typed configuration, from flags or the environment (every setting is in the README).

use std::net::SocketAddr;

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

    /// Region (ISO 3166 code) that national phone numbers are read in.
    #[arg(long, env = "PROFILES_DEFAULT_REGION", default_value = "AU", global = true)]
    pub default_region: Region,

    /// Largest number of pooled database connections.
    #[arg(long, env = "PROFILES_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,
}
