//! The `feedmill` binary: parse the command line, set up logging, hand the command to its `execute` in
//! `cmd/`, map the outcome to an exit code and print a fatal error's chain once.

mod cli;
mod cmd;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;

use feedmill::redact;
use feedmill::report::EXIT_FATAL;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.verbosity);
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A chain may quote a URL given on the command line, or one a library put in its error.
            eprintln!("error: {}", redact::text(&format!("{e:#}")));
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// Logs go to stderr, each line through the redacting writer; `-q`, `-v`, `-vv` or `FEEDMILL_LOG` pick
/// how much.
fn init_logging(v: &cli::Verbosity) {
    let filter = match (v.quiet, v.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,feedmill=debug",
        (false, _) => "debug,feedmill=trace",
    };
    let from_env = tracing_subscriber::EnvFilter::try_from_env("FEEDMILL_LOG").ok();
    // Debug lines carry the seconds since start, to see where a run's time goes; warnings do not need it.
    let timed = from_env.is_some() || v.verbose > 0;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(from_env.unwrap_or_else(|| filter.into()))
        // Every line redacted: `-vv` prints libraries' messages too, and they know nothing of secrets.
        .with_writer(|| redact::RedactingWriter(std::io::stderr()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if timed {
        builder.with_timer(tracing_subscriber::fmt::time::uptime()).init();
    } else {
        builder.without_time().init();
    }
}

/// The exit status of one command: 0 all good, 1 some sources failed, 2 nothing could be done (an
/// `Err` is 2 as well, printed by `main`).
fn execute(cli: Cli) -> anyhow::Result<u8> {
    let quiet = cli.verbosity.quiet;
    match cli.command {
        Command::Run(args) => cmd::run::execute(args, quiet),
        Command::Watch(args) => cmd::watch::execute(args, quiet),
        Command::Serve(args) => cmd::serve::execute(args, quiet),
        Command::Status(args) => cmd::status::execute(args, quiet),
        Command::Explain(args) => cmd::explain::execute(args, quiet),
        Command::Check(args) => cmd::check::execute(args, quiet),
        Command::Init(args) => cmd::init::execute(args, quiet),
        Command::Parse(args) => cmd::parse::execute(args, quiet),
        Command::Discover(args) => cmd::discover::execute(args),
        Command::ImportOpml(args) => cmd::import_opml::execute(args, quiet),
        Command::Completions(args) => cmd::completions::execute(args),
        Command::MigrateState(args) => cmd::migrate_state::execute(args, quiet),
    }
}
