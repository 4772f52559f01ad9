//! profiles-gateway: a GraphQL service over customer profiles.
//!
//! Start at [`run`], which the binary calls; the request path is
//! `app` → `graphql` → `service` → `entity`, with the rules in `domain`.

pub mod app; // the composition root: state from configuration, serving, shutdown
pub mod auth; // API tokens and scopes
pub mod bulk; // import and export, NDJSON and CSV
pub mod cli; // the command line
pub mod config; // settings from flags and environment
pub mod db; // connecting, migrating
pub mod domain; // pure rules: phones, birthdays, names, tag handles
pub mod graphiql; // the GraphiQL page and its embedded assets
pub mod graphql; // schema, resolvers, loaders
pub mod http; // routes, GraphQL over HTTP, authentication, connections
pub mod seed; // deterministic demo data
pub mod service; // reads and writes, one file per noun
pub mod settings; // settings' defaults, from their flags
pub mod telemetry; // logging

use std::process::ExitCode;

use cli::{Cli, Command, TokenCommand};

async fn connect(config: &config::Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    db::connect_with_retry(&config.database_url, config.pool, config.db_connect_wait).await
}

/// Runs the command the CLI names; what the process exits with.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    let done = match cli.command.unwrap_or(Command::Serve) {
        Command::Import { file, format, keys, mode, rejects, progress_every } => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            let csv = file.extension().is_some_and(|e| e == "csv");
            let options = bulk::ImportOptions {
                format: format.unwrap_or(if csv { bulk::Format::Csv } else { bulk::Format::Ndjson }),
                mode,
                keys,
                region: config.default_region,
                batch: bulk::IMPORT_BATCH,
            };
            let services = service::runtime::Services::new(db, service::clock::Clock::system());
            return bulk::import_command(&services, &file, rejects, &options, progress_every).await;
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = connect(&config).await?;
            match db::migrate(&db).await? {
                0 => eprintln!("The database is up to date: no migration was pending."),
                1 => eprintln!("Applied 1 migration."),
                applied => eprintln!("Applied {applied} migrations."),
            }
            Ok(())
        }
        Command::Serve => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            app::serve(&config, db).await
        }
        Command::Token { action } => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            token(&service::runtime::Services::new(db, service::clock::Clock::system()), action).await
        }
        Command::Seed { profiles, seed } => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            seed::seed(&service::runtime::Services::new(db, service::clock::Clock::system()), profiles, seed).await
        }
        Command::Export { format, include_deleted, file } => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            let page = service::bulk::export::PAGE;
            let db = service::runtime::Services::new(db, service::clock::Clock::system());
            let written = match file.as_deref().filter(|path| *path != std::path::Path::new("-")) {
                Some(path) => {
                    let out = std::fs::File::create(path)
                        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
                    bulk::export(&db, format, include_deleted, page, out).await?
                }
                None => bulk::export(&db, format, include_deleted, page, std::io::stdout()).await?,
            };
            eprintln!("Exported {written} profiles.");
            Ok(())
        }
        Command::SettleEvents => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            let written = service::events::deferred::write_out(&db).await?;
            eprintln!("Wrote out the context of {written} events.");
            Ok(())
        }
        Command::EmailCollisions => {
            let db = connect(&config).await?;
            db::migrate(&db).await?;
            email_collisions(&db).await
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// Prints each group of profiles sharing an email key: the key, then its profiles
/// oldest first, the holder of the key marked `*`, tab-separated.
async fn email_collisions(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let collisions = service::profiles::collisions::email_collisions(db).await?;
    if collisions.is_empty() {
        eprintln!("No email collisions.");
        return Ok(());
    }
    eprintln!("{} email keys are shared; merge each group (* holds the key):", collisions.len());
    for collision in collisions {
        let profiles = collision.profiles.iter().map(|id| {
            let mark = if collision.holder == Some(*id) { "*" } else { "" };
            format!("{mark}{id}")
        });
        println!("{}\t{}", collision.key, profiles.collect::<Vec<_>>().join("\t"));
    }
    Ok(())
}

async fn token(db: &service::runtime::Services, action: TokenCommand) -> anyhow::Result<()> {
    match action {
        TokenCommand::Create { name, scopes } => {
            let scopes = auth::parse_scopes(&scopes).map_err(anyhow::Error::msg)?;
            let (token, secret) = service::token::create(db, &name, &scopes).await?;
            eprintln!("Token {} `{}` with scopes {}. Its secret, shown this once:", token.id, token.name, token.scopes);
            println!("{secret}");
        }
        TokenCommand::List => {
            println!("{:>4}  {:<24} {:<36} {:<25} revoked", "id", "name", "scopes", "created");
            for token in service::token::list(db).await? {
                let revoked = token.revoked_at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339());
                println!(
                    "{:>4}  {:<24} {:<36} {:<25} {revoked}",
                    token.id,
                    token.name,
                    token.scopes,
                    token.created_at.to_rfc3339()
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if !service::token::revoke(db, id).await? {
                anyhow::bail!("no live token has id {id}");
            }
            eprintln!("Token {id} revoked.");
        }
    }
    Ok(())
}
