//! profiles-gateway: a GraphQL service over customer profiles.
//!
//! Start at [`run`], which the binary calls; the request path is
//! `app` → `graphql` → `service` → `entity`, with the rules in `domain`.

pub mod app; // HTTP: routes, per-request data, serving
pub mod cli; // the command line
pub mod config; // settings from flags and environment
pub mod db; // connecting, migrating, the write clock
pub mod domain; // pure rules: phones, birthdays, names, tag handles
pub mod error; // the one error type and its GraphQL form
pub mod graphql; // schema, resolvers, loaders
pub mod seed; // deterministic demo data
pub mod service; // reads and writes, one file per noun
pub mod telemetry; // logging

use cli::{Cli, Command};

/// Runs the command the CLI names.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect(&config.database_url, config.db_max_connections).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            let db = db::connect(&config.database_url, config.db_max_connections).await?;
            db::migrate(&db).await?;
            app::serve(&config, db).await
        }
        Command::Seed { profiles, seed } => {
            let db = db::connect(&config.database_url, config.db_max_connections).await?;
            db::migrate(&db).await?;
            seed::seed(&db, profiles, seed).await
        }
    }
}
