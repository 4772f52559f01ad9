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
