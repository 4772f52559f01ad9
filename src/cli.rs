//! The command line: `serve` (the default), `migrate`, `schema`, `seed`.

use clap::{Parser, Subcommand};

use crate::config::Config;

/// GraphQL service over customer profiles.
#[derive(Parser, Debug)]
#[command(name = "profiles-gateway", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Apply migrations, then serve GraphQL (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL), as committed in `schema.graphql`.
    Schema,
    /// Fill the database with realistic, deterministic demo data.
    Seed {
        /// How many profiles to create.
        #[arg(long, default_value_t = 100)]
        profiles: usize,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}
