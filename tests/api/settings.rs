//! Every setting's default is declared once, on its flag: a settings struct's
//! `Default` is what an empty command line gives it.

use clap::{CommandFactory, FromArgMatches};
use profiles_gateway::cli::Cli;
use profiles_gateway::db::PoolSettings;
use profiles_gateway::graphql::Limits;
use profiles_gateway::http::HttpLimits;
use profiles_gateway::http::serve::ConnectionLimits;
use profiles_gateway::service::events::webhooks::WebhookSettings;

#[test]
fn an_empty_command_line_gives_each_settings_default() {
    // As if no variable that sets a flag were set, whatever this process's environment holds.
    let command = Cli::command().mut_args(|arg| arg.env(None::<&str>));
    let matches = command.try_get_matches_from(["profiles-gateway"]).expect("an empty command line parses");
    let config = Cli::from_arg_matches(&matches).expect("the settings").config;
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.http, HttpLimits::default());
    assert_eq!(config.connections, ConnectionLimits::default());
    assert_eq!(config.webhooks, WebhookSettings::default());
    assert_eq!(config.pool, PoolSettings::default());
}

/// SQLite's memory is one budget for the process (`PROFILES_SQLITE_CACHE_MIB`): each
/// pooled connection's page cache is capped, and SQLite's soft heap limit holds all of
/// them together (docs/benchmarks.md, "Memory on SQLite").
#[tokio::test]
async fn sqlite_connections_share_one_memory_budget() {
    use sea_orm::{ConnectionTrait, Statement};
    if crate::helpers::on_postgres() {
        eprintln!("the SQLite memory budget is a SQLite setting");
        return;
    }
    let (url, _database) = crate::helpers::TestDatabase::create().await;
    let pool = PoolSettings::default();
    assert_eq!(pool.sqlite_cache_mib, 32);
    let db = profiles_gateway::db::connect(&url, pool).await.expect("a pool");
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}")))
                .await
                .expect("a pragma")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a number")
        }
    };
    assert_eq!(pragma("cache_size").await, -16 * 1024, "a connection's cache: 16 MiB at most");
    assert_eq!(pragma("soft_heap_limit").await, 32 * 1024 * 1024, "the process's SQLite heap: the budget");
}
