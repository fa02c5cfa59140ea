//! The driver: one file per subcommand, each with an `execute` that takes the command's arguments (from
//! `cli`), calls the library, prints what the user asked for and returns the exit status. `main` only
//! parses the command line, sets up logging and hands the command to its `execute`.
//!
//! It lives in the binary crate, not the library, because everything here is about the command line:
//! stdout and stderr, a progress bar, exit statuses, signals and the wall clock. The library prints
//! nothing (it logs, and returns reports) and takes the clock as an argument, so tests drive it without a
//! terminal; keeping the terminal's concerns here keeps them out of it. The helpers below are the ones
//! several commands share: reading the config, opening the state (either backend, [`State`]), the clock, fetching one
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

/// Runs `$body` with `$s` bound to the store inside `$state` (a `&mut State` or `&State`), whichever
/// backend it is: the steps are generic over the storage traits, so each arm is compiled for its own.
macro_rules! with_state {
    ($state:expr, |$s:ident| $body:expr) => {
        match $state {
            $crate::cmd::State::Sqlite { store: $s, .. } => $body,
            $crate::cmd::State::Postgres { store: $s, .. } => $body,
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
use feedmill::store::postgres::{self, PgStore};
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

/// The state a command works on, opened by [`open_state`] or [`open_writer`]; commands reach the
/// store inside through `with_state!`.
pub(crate) enum State {
    /// The SQLite file, with the run lock when the command writes it.
    Sqlite { store: Store, _lock: Option<RunLock> },
    /// A PostgreSQL database shared by several workers, with the worker this process registered as
    /// when it writes.
    Postgres { store: PgStore, _worker: Option<Registered> },
}

/// A registered worker (#21), retired when the command ends: its leases given back, its row gone
/// from `status`. A worker killed instead leaves both until its leases expire.
pub(crate) struct Registered {
    store: PgStore,
    id: String,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if let Err(e) = postgres::retire(&self.store, &self.id) {
            tracing::warn!("worker {}: cannot give its leases back: {}", self.id, feedmill::error::error_chain(&e));
        }
    }
}

impl State {
    /// The worker this process registered as, to count its runs ([`count_run`]); `None` on SQLite.
    fn worker(&self) -> Option<(PgStore, String)> {
        match self {
            State::Postgres { _worker: Some(w), .. } => Some((w.store.clone(), w.id.clone())),
            _ => None,
        }
    }
}

/// Adds a run's figures to the worker's counters (`workers.counters`), which every `serve` shows in
/// `/metrics`. A failure to count is only logged: the run itself went as reported.
fn count_run(worker: &Option<(PgStore, String)>, report: &feedmill::report::RunReport) {
    use feedmill::report::Status;
    let Some((store, id)) = worker else { return };
    let read = report
        .sources
        .iter()
        .filter(|s| !matches!(s.status, Status::Skipped { .. } | Status::Disabled | Status::Dead { .. }));
    let failed = report.sources.iter().filter(|s| s.error().is_some()).count();
    let new: usize = report.sources.iter().map(|s| s.new).sum();
    let counts = [
        ("runs", 1),
        ("sources_read", read.count() as u64),
        ("sources_failed", failed as u64),
        ("entries_new", new as u64),
    ];
    if let Err(e) = postgres::count(store, id, &counts) {
        tracing::warn!("worker {id}: cannot count its run: {}", feedmill::error::error_chain(&e));
    }
}

/// After a run of a long-running worker: whether the workers' config changed under it (another worker
/// adopted a new one), said on stderr; the caller then stops and exits 2, as a worker started with
/// another config does. A state that cannot be read now is not a change.
fn config_changed(worker: &Option<(PgStore, String)>) -> bool {
    let Some((store, _)) = worker else { return false };
    match store.config_changed() {
        Ok(Some(e)) => {
            eprintln!("error: {}", feedmill::error::error_chain(&e));
            true
        }
        Ok(None) | Err(_) => false,
    }
}

/// Opens the state to read it (`status`, `explain`, `serve`): no lock, no worker.
fn open_state(config: &Config, runtime: &tokio::runtime::Runtime) -> anyhow::Result<State> {
    Ok(match &config.state_url {
        None => State::Sqlite { store: Store::open(&config.state_path, config.state_busy_timeout)?, _lock: None },
        Some(url) => State::Postgres { store: PgStore::open(url, runtime.handle().clone())?, _worker: None },
    })
}

/// How a command that writes the state starts.
pub(crate) struct Writing {
    /// SQLite: wait for the run lock another process holds instead of exiting.
    pub wait: bool,
    pub quiet: bool,
    /// PostgreSQL: make this config the one every worker runs.
    pub adopt_config: bool,
}

/// Opens the state to write it (`run`, `watch`, `serve --watch`). SQLite: under the run lock (a second
/// writer exits with the lock file and the holder's pid, or waits with `--wait`). PostgreSQL: any
/// number of workers share the state; this one checks it runs the config the others run, then
/// registers and starts its heartbeat.
fn open_writer(config: &Config, runtime: &tokio::runtime::Runtime, how: &Writing) -> anyhow::Result<State> {
    let Some(url) = &config.state_url else {
        let lock = match RunLock::try_acquire(&config.state_path) {
            Err(LockError::Held { path, pid }) if how.wait => {
                if !how.quiet {
                    let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                    eprintln!("waiting for the feedmill{holder} that holds {}", path.display());
                }
                RunLock::acquire_waiting(&config.state_path)?
            }
            locked => locked?,
        };
        let store = Store::open(&config.state_path, config.state_busy_timeout)?;
        return Ok(State::Sqlite { store, _lock: Some(lock) });
    };
    let mut store = PgStore::open(url, runtime.handle().clone())?;
    let stored = store.config_digest(&config.digest, how.adopt_config)?;
    if stored != config.digest {
        anyhow::bail!(
            "state database {}: the workers sharing it run another config (digest {}…, this one's is {}…): \
             start every worker with the same feeds.toml, or this one with --adopt-config to make its config theirs",
            url.shown(),
            &stored[..stored.len().min(12)],
            &config.digest[..config.digest.len().min(12)],
        );
    }
    let worker = postgres::Worker::this_process(config.fetch.per_host, config.state_lease, &config.digest, clock());
    let id = worker.id.clone();
    let heartbeat = store.register(worker)?;
    if !how.quiet {
        eprintln!("worker {id} on {}", url.shown());
    }
    let registered = Registered { store: store.clone(), id, heartbeat };
    Ok(State::Postgres { store, _worker: Some(registered) })
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
