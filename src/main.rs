use clap::Parser;
use mimalloc::MiMalloc;
use profiles_gateway::{cli::Cli, run, telemetry};

/// mimalloc instead of glibc's allocator: a quarter of the server's CPU under read
/// load went to glibc's malloc and free (see the README's measurements).
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    run(cli).await
}
