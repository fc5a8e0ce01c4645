use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    switchyard::telemetry::init_tracing();
    switchyard::cli::run(switchyard::cli::Cli::parse()).await
}
