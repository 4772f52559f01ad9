use clap::Parser;
use profiles_gateway::{cli::Cli, run, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    run(cli).await
}
