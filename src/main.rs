use clap::Parser;
use mimalloc::MiMalloc;
use profiles_gateway::cli::{Cli, Command};
use profiles_gateway::{run, telemetry};

/// mimalloc instead of glibc's allocator: a quarter of the server's CPU under read
/// load went to glibc's malloc and free (see the README's measurements).
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    telemetry::init(cli.config.log_format, !serving);
    run(cli).await
}
