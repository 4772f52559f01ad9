//! The command line: `serve` (the default), `migrate`, `schema`, `token`, `seed`,
//! `import`, `export`, `email-collisions`.

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
    /// Create, list and revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Fill the database with realistic, deterministic demo data.
    Seed {
        /// How many profiles to create.
        #[arg(long, default_value_t = 100)]
        profiles: usize,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Import profiles from FILE or standard input: NDJSON in the reference platform's
    /// profile JSON, or CSV of the flat fields. Each row is matched by the first key it
    /// has and updated (only the fields it gives), or created; a row that changes
    /// nothing writes nothing. Exits 0 when every row landed, 2 when some failed (see
    /// the rejects file), 3 when the input cannot be read, 130 when interrupted.
    Import {
        /// Where to read; `-` for standard input.
        file: std::path::PathBuf,
        /// The input's form; by default CSV for a `.csv` file, NDJSON otherwise.
        #[arg(long, value_enum)]
        format: Option<crate::bulk::Format>,
        /// The keys rows are matched by, in the order they are tried.
        #[arg(long = "match", value_enum, value_delimiter = ',', default_values = ["id", "email", "mobile_phone", "external_id"])]
        keys: Vec<crate::service::bulk::row::ImportKey>,
        /// upsert: update matched profiles, create the rest; create-only; update-only.
        #[arg(long, value_enum, default_value = "upsert")]
        mode: crate::service::bulk::row::Mode,
        /// Where failed rows go, with their line and errors; by default FILE.rejects.ndjson.
        #[arg(long)]
        rejects: Option<std::path::PathBuf>,
        /// When standard error is not a terminal, how often a progress line is written
        /// (after the batch that passes it); `0s` writes one after every batch.
        #[arg(long, env = "PROFILES_PROGRESS_EVERY", default_value = "5s", value_parser = humantime::parse_duration)]
        progress_every: std::time::Duration,
    },
    /// Write every profile in the import format (NDJSON, or CSV of the flat fields),
    /// in id order, to FILE or standard output.
    Export {
        /// NDJSON: the reference platform's profile JSON, one a line; CSV: the flat fields.
        #[arg(long, value_enum, default_value = "ndjson")]
        format: crate::bulk::Format,
        /// Deleted profiles too.
        #[arg(long)]
        include_deleted: bool,
        /// Where to write; `-` or none for standard output.
        file: Option<std::path::PathBuf>,
    },
    /// Write out the context of every event that holds its profile's state (written by
    /// one-statement writes, `PROFILES_ONE_STATEMENT_WRITES`), so that a release before
    /// them (0.1.0) reads it: run it, with those writes switched off, before going back.
    SettleEvents,
    /// List the profiles whose emails share one key (the same address but for Unicode
    /// case or composition) from before the key existed: a line a key, with its
    /// profiles oldest first, `*` marking the one that holds the key. Merge them.
    EmailCollisions,
}

#[derive(Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// Create a token and print its secret, once: only a hash is stored.
    Create {
        /// What the token is for, e.g. the client's name.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: profiles:read, profiles:write, profiles:merge, admin.
        #[arg(long)]
        scopes: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token: requests carrying it are refused from now on.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: i32,
    },
}
