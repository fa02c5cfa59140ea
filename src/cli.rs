//! Command-line definitions (clap derive). Only the shape of the interface lives here; each command's
//! `src/cmd/<name>.rs` maps it to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "feedmill",
    // The package version and, in a git checkout, the revision it was built from (build.rs).
    version = env!("FEEDMILL_VERSION"),
    about = "Aggregate RSS, Atom and JSON feeds into combined RSS 2.0, Atom 1.0 and JSON Feed files per category",
    long_about = "feedmill reads the sources listed in a feeds.toml, normalizes and deduplicates their entries, \
                  and writes output/<category>/{rss.xml,atom.xml,feed.json} for every category and for `all`, \
                  plus output/index.html and output/sources.opml.\n\n\
                  Exit status: 0 all good; 1 some sources failed (outputs written); 2 bad config, another run holds the state, \
                  the state database is locked, or the outputs could not be written. A run stopped by SIGINT ends by the signal \
                  (status 130 in a shell); the next run picks up from the state it left."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args)]
pub struct Verbosity {
    /// Print only errors: no progress bar, no summary table.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr: -v explains decisions (encodings, duplicates), -vv traces everything.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every source once and write the outputs (cron-friendly).
    Run(RunArgs),
    /// Keep running: fetch each source when it is due and rewrite what changed; stop with Ctrl-C or SIGTERM.
    Watch(WatchArgs),
    /// Serve the output folder over HTTP, with /metrics and /healthz; with --watch, refresh it too.
    Serve(ServeArgs),
    /// List the feeds a web page advertises; when it advertises none, print a kind = "html" config to start from.
    Discover(DiscoverArgs),
    /// Say which copies of a story feedmill merged, and by which layer (id, link, fingerprint, near-duplicate score).
    Explain(ExplainArgs),
    /// Show each source's state: last success, last error, failures in a row, next due, entries kept.
    Status(StatusArgs),
    /// Write a commented starter feeds.toml (a feed, a site without a feed, a folder of articles); never overwrites.
    Init(ConfigArg),
    /// Validate the config and print every problem; exit 2 if there are errors.
    Check(ConfigArg),
    /// Add the feeds of an OPML subscription list (another reader's export) to the config as sources,
    /// folders as categories, keeping the file's comments and layout.
    ImportOpml(ImportOpmlArgs),
    /// Print a shell completion script: `feedmill completions bash > /etc/bash_completion.d/feedmill`.
    Completions(CompletionsArgs),
    /// Show how feedmill understands one feed (a debugging aid): format, encoding, entries, warnings.
    /// With --source, what a configured source (feed or html) yields, selectors and filters applied;
    /// the state is neither read nor written.
    Parse(ParseArgs),
    /// Copy the state (`[state] path` or `[state] url`) into a new, empty one: a PostgreSQL database
    /// (postgresql://…) or a SQLite file; every id, history and tombstone kept.
    MigrateState(MigrateStateArgs),
}

// The arguments of each command. No doc comments on these structs: a command's help is its variant's doc
// comment above, and clap would take a struct's instead.

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write outputs here instead of `[output] dir`.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Fetch every source now, even those not due yet (their schedule, backoff, skipHours/skipDays).
    #[arg(long)]
    pub force: bool,
    /// Read these sources again (all of them without a name) as if their config had changed: from
    /// the last body kept, else fetched whole.
    #[arg(long, value_name = "NAME", num_args = 0..)]
    pub reparse: Option<Vec<String>>,
    /// When another `run` or `watch` is working on the same state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
    /// With a PostgreSQL state: make this config the one every worker runs (a worker started with
    /// another one says so and exits 2).
    #[arg(long)]
    pub adopt_config: bool,
    /// Also print the per-source report on stdout, for scripts (the table still goes to stderr).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub summary: Option<SummaryFormat>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write outputs here instead of `[output] dir`.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// How often to fetch sources that give no schedule of their own.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub every: std::time::Duration,
    /// When another `run` or `watch` is working on the same state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
    /// With a PostgreSQL state: make this config the one every worker runs (a worker started with
    /// another one says so and exits 2).
    #[arg(long)]
    pub adopt_config: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Serve this folder instead of `[output] dir` (and write there with --watch).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Address and port to listen on; port 0 picks a free one (the address is printed at startup).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Also run the refresh loop of `feedmill watch` in this process.
    #[arg(long)]
    pub watch: bool,
    /// With --watch: how often to fetch sources that give no schedule of their own. Also the files'
    /// Cache-Control max-age (300 s without --watch).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration, requires = "watch")]
    pub every: std::time::Duration,
    /// With --watch: when another `run` or `watch` is working on the same state, wait for it.
    #[arg(long, requires = "watch")]
    pub wait: bool,
    /// With --watch and a PostgreSQL state: make this config the one every worker runs.
    #[arg(long, requires = "watch")]
    pub adopt_config: bool,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The page's http(s) URL (or a local file).
    #[arg(value_name = "URL")]
    pub url: String,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// An entry's id or link, as written in the outputs or in a source's feed (its guid, its link with
    /// or without tracking parameters).
    #[arg(value_name = "ENTRY-ID|URL")]
    pub entry: String,
    /// Print the explanation as JSON (stable field names, see the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print the rows as JSON (stable field names, see the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportOpmlArgs {
    /// The OPML file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print the config as it would be on stdout; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// A file path or an http(s):// / file:// URL.
    #[arg(value_name = "FILE|URL", required_unless_present = "source", conflicts_with = "source")]
    pub input: Option<String>,
    /// A source of the config (-c) to read as a run would, by name.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The config file --source is read from.
    #[arg(short, long, value_name = "FILE", default_value = "feeds.toml", requires = "source")]
    pub config: PathBuf,
    /// Print the normalized entries as JSON instead of a readable listing.
    #[arg(long)]
    pub json: bool,
    /// Time zone for dates that carry none (IANA name).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub timezone: chrono_tz::Tz,
}

#[derive(Debug, Args)]
pub struct MigrateStateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The new state: a postgresql:// (or postgres://) URL, or a SQLite file; it must be empty.
    #[arg(long, value_name = "URL|FILE")]
    pub to: String,
    /// The environment variable holding the target database's password, when --to holds none.
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// A PEM file of CA certificates the target database's certificate is checked against, instead of
    /// the Mozilla roots (as `[state] ca_file`).
    #[arg(long, value_name = "FILE")]
    pub to_ca_file: Option<PathBuf>,
    /// When a `run` or `watch` holds the state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
}

/// `run --summary` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// One JSON object: `exit_code`, `sources[]`, file counts, `hub_pings`, `warnings` (see the README).
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The config file; relative paths inside it are resolved against its folder.
    #[arg(short, long, value_name = "FILE", default_value = "feeds.toml")]
    pub config: PathBuf,
}

/// The durations the config accepts (`90`, `30s`, `15m`, `1h`, `1d`), greater than zero.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = feedmill::config::parse_duration(s)?;
    if d.is_zero() {
        return Err("the interval must be greater than zero".into());
    }
    Ok(d)
}
