//! The driver: one file per subcommand, each with an `execute` that takes the command's arguments (from
//! `cli`), calls the library, prints what the user asked for and returns the exit status. `main` only
//! parses the command line, sets up logging and hands the command to its `execute`.
//!
//! It lives in the binary crate, not the library, because everything here is about the command line:
//! stdout and stderr, a progress bar, exit statuses, signals and the wall clock. The library prints
//! nothing (it logs, and returns reports) and takes the clock as an argument, so tests drive it without a
//! terminal; keeping the terminal's concerns here keeps them out of it. The helpers below are the ones
//! several commands share: reading the config, locking and opening the state, the clock, fetching one
//! document.

/// `println!` that stops the command quietly when stdout is closed (`feedmill parse x | head`)
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        if { use std::io::Write as _; writeln!(std::io::stdout().lock(), $($arg)*) }.is_err() {
            return Ok(feedmill::report::EXIT_OK);
        }
    };
}

/// `print!` with the same rule as [`say!`].
macro_rules! say_raw {
    ($($arg:tt)*) => {
        if { use std::io::Write as _; write!(std::io::stdout().lock(), $($arg)*) }.is_err() {
            return Ok(feedmill::report::EXIT_OK);
        }
    };
}

pub mod check;
pub mod completions;
pub mod discover;
pub mod explain;
pub mod import_opml;
pub mod init;
mod memory;
pub mod migrate_state;
pub mod parse;
pub mod run;
pub mod serve;
mod signal;
pub mod status;
pub mod watch;

use std::path::Path;

use anyhow::Context as _;

use feedmill::config::{Config, ConfigError};
use feedmill::fetch::{Body, Fetched, Fetcher, Location, Validators};
use feedmill::redact;
use feedmill::store::{LockError, RunLock, Store};

/// Reads the config, printing its problems (warnings only without `-q`: a cron job would mail them on
/// every run); `None` when it has errors.
fn load(path: &Path, quiet: bool) -> anyhow::Result<Option<Config>> {
    match Config::from_file(path) {
        Ok(config) => {
            if !quiet && !config.warnings.is_empty() {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                for w in &config.warnings {
                    eprint!("{}", w.render(&path.display().to_string(), &text));
                }
            }
            Ok(Some(config))
        }
        Err(ConfigError::Invalid(errors)) => {
            eprintln!("{errors}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The wall clock, read here and nowhere else: the library takes time as an argument.
#[allow(clippy::disallowed_methods)]
fn clock() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// The run lock on the state database, for the commands that write it (`run`, `watch`): a second one
/// exits with the lock file and the holder's pid, or waits with `--wait`.
fn lock_state(config: &Config, wait: bool, quiet: bool) -> anyhow::Result<RunLock> {
    sqlite_state(config)?;
    match RunLock::try_acquire(&config.state_path) {
        Err(LockError::Held { path, pid }) if wait => {
            if !quiet {
                let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                eprintln!("waiting for the feedmill{holder} that holds {}", path.display());
            }
            Ok(RunLock::acquire_waiting(&config.state_path)?)
        }
        locked => Ok(locked?),
    }
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    sqlite_state(config)?;
    Ok(Store::open(&config.state_path, config.state_busy_timeout)?)
}

/// Refuses a PostgreSQL state until every storage trait runs on it (#21, `PG-STATUS.md`): using the
/// SQLite file instead would split the state without a word.
fn sqlite_state(config: &Config) -> anyhow::Result<()> {
    match &config.state_url {
        Some(url) => anyhow::bail!("state database {}: PostgreSQL is not supported by this feedmill yet", url.shown()),
        None => Ok(()),
    }
}

/// The async runtime of one command: the library's fetches and the server are async, the driver is not.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// Fetches `input` once, unconditionally (`parse`, `discover`): the document and the URL it ended up at.
fn fetch_once(input: &str) -> anyhow::Result<(Body, Option<url::Url>)> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    redact::register_url_secrets(input);
    let location = Location::parse(input, &cwd)?;
    let runtime = runtime()?;
    let fetcher = Fetcher::new(Default::default())?;
    let Fetched::Body(body) = runtime.block_on(fetcher.fetch(&location, &Validators::default()))? else {
        anyhow::bail!("{}: server answered 304 Not Modified to an unconditional request", redact::url(input));
    };
    let doc_url = match &location {
        // Printed, and the base of every link printed: without the URL's credentials.
        Location::Http(url) => Some(redact::public_base(body.meta.final_url.as_ref().unwrap_or(url))),
        Location::File(path) => url::Url::from_file_path(path).ok(),
    };
    Ok((body, doc_url))
}
