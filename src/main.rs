use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use switchyard::cli::{Cli, Command};

/// After `serve` has stopped within its shutdown grace, blocking-pool work still running (a DNS
/// lookup of an abandoned call, a script past its deadline) may hold the process this long at
/// most; it is abandoned with the process.
const BLOCKING_POOL_GRACE: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    switchyard::telemetry::init_tracing();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        restore_default_sigpipe();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    let code = runtime.block_on(switchyard::cli::run(cli));
    runtime.shutdown_timeout(BLOCKING_POOL_GRACE);
    code
}

/// Rust ignores SIGPIPE, so a command whose output is piped into `head` would panic on the
/// closed pipe; the CLI commands end quietly instead, as Unix tools do. `serve` keeps SIGPIPE
/// ignored: a client that hangs up must cost one connection, not the process.
fn restore_default_sigpipe() {
    // SAFETY: called once at start, before any thread is spawned; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
