//! The `feedmill` binary: parse the command line, call the library, map the outcome to an exit code.

mod cli;

/// `println!` that stops the command quietly when stdout is closed (`feedmill parse x | head`)
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            return Ok(EXIT_OK);
        }
    };
}

/// `print!` with the same rule as [`say!`].
macro_rules! say_raw {
    ($($arg:tt)*) => {
        if write!(std::io::stdout().lock(), $($arg)*).is_err() {
            return Ok(EXIT_OK);
        }
    };
}

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use feedmill::config::{Config, ConfigError};
use feedmill::fetch::{Fetched, Fetcher, Location, Validators};
use feedmill::normalize;
use feedmill::pipeline::{self, Reparse, RunOptions};
use feedmill::redact;
use feedmill::report::{self, counted, SourceReport, EXIT_FATAL, EXIT_OK};
use feedmill::serve;
use feedmill::store::{LockError, RunLock, Store};

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

fn execute(cli: Cli) -> anyhow::Result<u8> {
    let quiet = cli.verbosity.quiet;
    match cli.command {
        Command::Check { config } => check(&config.config, quiet),
        Command::Run { config, output, force, reparse, wait, summary } => {
            let Some(config) = load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
            let reparse = match reparse {
                None => Reparse::None,
                Some(names) if names.is_empty() => Reparse::All,
                Some(names) => Reparse::Named(names),
            };
            let unknown = reparse.unknown(&config);
            if !unknown.is_empty() {
                eprintln!("error: --reparse: no source named {}", unknown.join(", "));
                return Ok(EXIT_FATAL);
            }
            let _lock = lock_state(&config, wait, quiet)?;
            run(&config, output, force, reparse, quiet, summary)
        }
        Command::Watch { config, output, every, wait } => {
            let Some(config) = load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
            let _lock = lock_state(&config, wait, quiet)?;
            watch(&config, output, every, quiet)
        }
        Command::Serve { config, output, listen, watch, every, wait } => {
            let Some(config) = load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
            // Serving only reads; refreshing writes the state like `watch`.
            let _lock = if watch { Some(lock_state(&config, wait, quiet)?) } else { None };
            serve(&config, output, listen, watch.then_some(every), quiet)
        }
        Command::Status { config, json } => {
            let Some(config) = load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
            status(&config, json)
        }
        Command::Parse { input: Some(input), json, timezone, .. } => parse(&input, json, timezone),
        Command::Parse { source, config, json, .. } => {
            let Some(config) = load(&config, quiet)? else { return Ok(EXIT_FATAL) };
            parse_source(&config, source.as_deref().unwrap_or_default(), json)
        }
        Command::ImportOpml { file, config, dry_run } => import_opml(&file, &config.config, dry_run, quiet),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(shell, &mut Cli::command(), "feedmill", &mut std::io::stdout().lock());
            Ok(EXIT_OK)
        }
        Command::Discover { url } => discover(&url),
        Command::Explain { config, entry, json } => {
            let Some(config) = load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
            explain(&config, &entry, json)
        }
    }
}

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

fn import_opml(opml: &Path, config: &Path, dry_run: bool, quiet: bool) -> anyhow::Result<u8> {
    use feedmill::import::{import_file, ImportError};
    let imported = match import_file(opml, config, dry_run) {
        Ok(imported) => imported,
        Err(ImportError::Invalid(errors)) => {
            eprintln!("error: the config with the imported sources would not be valid; nothing written\n{errors}");
            return Ok(EXIT_FATAL);
        }
        Err(e) => return Err(e.into()),
    };
    if !quiet {
        for a in &imported.added {
            let cats = if a.categories.is_empty() { String::new() } else { format!(" [{}]", a.categories.join(", ")) };
            eprintln!("+ {} {}{cats}", a.name, redact::url(&a.url));
        }
        for (slug, title) in &imported.categories {
            eprintln!("+ category {slug} ({title})");
        }
        for (url, name) in &imported.present {
            eprintln!("= {}: already there as `{name}`", redact::url(url));
        }
    }
    for (url, why) in &imported.skipped {
        eprintln!("warning: {} skipped: {why}", redact::url(url));
    }
    if !quiet {
        let what = if dry_run { "would add" } else { "added" };
        eprintln!(
            "{}: {what} {} and {}; {} already there, {} skipped{}",
            config.display(),
            counted(imported.added.len(), "source", "sources"),
            counted(imported.categories.len(), "category", "categories"),
            imported.present.len(),
            imported.skipped.len(),
            if dry_run { " (dry run: nothing written)" } else { "" }
        );
    }
    if dry_run {
        say_raw!("{}", imported.text);
    }
    Ok(EXIT_OK)
}

fn check(path: &Path, quiet: bool) -> anyhow::Result<u8> {
    // `check` exists to show problems: its warnings are printed even with `-q`.
    let Some(config) = load(path, false)? else { return Ok(EXIT_FATAL) };
    if !quiet {
        say!(
            "{}: ok — {}, {}, output to {}",
            path.display(),
            counted(config.sources.len(), "source", "sources"),
            counted(config.categories.len(), "category", "categories"),
            config.output.dir.display()
        );
    }
    Ok(EXIT_OK)
}

/// The wall clock, read here and nowhere else: the library takes time as an argument.
#[allow(clippy::disallowed_methods)]
fn clock() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

static PROGRESS: OnceLock<ProgressBar> = OnceLock::new();

/// The run lock on the state database, for the commands that write it (`run`, `watch`): a second one
/// exits with the lock file and the holder's pid, or waits with `--wait`.
fn lock_state(config: &Config, wait: bool, quiet: bool) -> anyhow::Result<RunLock> {
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
    Ok(Store::open(&config.state_path, config.state_busy_timeout)?)
}

fn run(
    config: &Config,
    output: Option<PathBuf>,
    force: bool,
    reparse: Reparse,
    quiet: bool,
    summary: Option<cli::SummaryFormat>,
) -> anyhow::Result<u8> {
    let mut store = open_store(config)?;
    let show_progress = !quiet && std::io::stderr().is_terminal();
    if show_progress {
        let bar = ProgressBar::new(config.sources.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} sources {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let _ = PROGRESS.set(bar);
    }
    let opts = RunOptions {
        output_dir: output,
        now: clock(),
        force,
        reparse,
        default_interval: None,
        on_source_done: show_progress.then_some(progress_tick as fn(&SourceReport)),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(pipeline::run(config, &mut store, &opts));
    if let Some(bar) = PROGRESS.get() {
        bar.finish_and_clear();
    }
    if !quiet {
        eprintln!("{}", redact::text(&report.table()));
    } else {
        for s in &report.sources {
            if let Some(error) = s.error() {
                eprintln!("error: {}: {error}", s.name);
            }
        }
        if let Some(e) = &report.output_error {
            eprintln!("error: {e}");
        }
    }
    if summary == Some(cli::SummaryFormat::Json) {
        // A reader that went away does not change how the run went: the exit status still says it.
        let _ = writeln!(std::io::stdout().lock(), "{}", redact::text(&report.to_json()));
    }
    Ok(report.exit_code())
}

/// `watch`: the refresh loop, a line per run on stderr, until SIGINT or SIGTERM. A signal during a run
/// lets the run finish, then the loop exits and the store is closed.
fn watch(config: &Config, output: Option<PathBuf>, every: Duration, quiet: bool) -> anyhow::Result<u8> {
    let mut store = open_store(config)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let stop = stop_on_signal();
        pipeline::refresh_loop(config, &mut store, output, every, clock, stopped(stop), |now, report| {
            print_refresh(now, report, quiet);
        })
        .await?;
        if !quiet {
            eprintln!("stopped");
        }
        Ok(EXIT_OK)
    })
}

/// `serve`: the output folder over HTTP until SIGINT or SIGTERM; with `every`, the refresh loop beside
/// it. A signal stops accepting connections, lets the requests in flight and the refresh in progress
/// finish, then exits.
fn serve(
    config: &Config,
    output: Option<PathBuf>,
    listen: std::net::SocketAddr,
    every: Option<Duration>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let store = every.map(|_| open_store(config)).transpose()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = serve::Server::new(serve::Settings {
            root: output.clone().unwrap_or_else(|| config.output.dir.clone()),
            state_path: config.state_path.clone(),
            sources: config.sources.iter().map(|s| s.name.clone()).collect(),
            max_age: every.unwrap_or(serve::DEFAULT_MAX_AGE),
            refresh_every: every,
        });
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        if !quiet {
            eprintln!("listening on http://{}", listener.local_addr().context("no local address")?);
        }
        let stop = stop_on_signal();
        let serving = tokio::spawn(serve::serve(listener, Arc::clone(&server), stopped(stop.clone())));
        if let (Some(every), Some(mut store)) = (every, store) {
            let refreshed =
                pipeline::refresh_loop(config, &mut store, output, every, clock, stopped(stop), |now, report| {
                    print_refresh(now, report, quiet);
                    server.observe(now, report);
                })
                .await;
            if refreshed.is_err() {
                serving.abort();
            }
            refreshed?;
        }
        serving.await.context("the server stopped unexpectedly")?.context("the server failed")?;
        if !quiet {
            eprintln!("stopped");
        }
        Ok(EXIT_OK)
    })
}

/// One refresh of the loop: its summary line (unless quiet), then its failures.
fn print_refresh(now: chrono::DateTime<chrono::Utc>, report: &report::RunReport, quiet: bool) {
    if !quiet {
        eprintln!("{} {}", now.format("%Y-%m-%d %H:%M:%S"), report.summary_line());
    }
    for s in &report.sources {
        if let Some(error) = s.error() {
            eprintln!("error: {}: {error}", s.name);
        }
    }
    // Outputs that could not be written: the loop goes on (the next refresh may succeed), but says so.
    if let Some(e) = &report.output_error {
        eprintln!("error: {e}");
    }
    if !quiet {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
}

/// Turns `true` on the first SIGINT or SIGTERM. A channel rather than a one-shot notification: the
/// server and the refresh loop of `serve --watch` both wait on it.
fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}

/// Completes once `stop` is `true`.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens after it sent `true`.
    let _ = stop.wait_for(|s| *s).await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn explain(config: &Config, query: &str, json: bool) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let merged = pipeline::stories(config, &store)?;
    let filtered = store.find_filtered(query.trim())?;
    let explanation = report::explain(config, &merged, filtered, query);
    if json {
        say!("{}", explanation.to_json());
    } else if !explanation.is_empty() {
        say_raw!("{}", explanation.to_text());
    }
    if explanation.is_empty() {
        eprintln!("error: no stored entry has the id, link or guid {query:?}");
        return Ok(EXIT_FATAL);
    }
    Ok(EXIT_OK)
}

fn status(config: &Config, json: bool) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let states = store.sources()?;
    let counts = store.entry_counts()?;
    // Written by the last build; a store that never built outputs has collapsed nothing yet.
    let collapsed =
        store.meta(pipeline::COLLAPSED_KEY)?.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default();
    let filtered = store.filtered_counts()?;
    let rows = report::status_rows(&config.sources, &states, &counts, &collapsed, &filtered, clock());
    if json {
        say!("{}", report::status_json(&rows));
    } else {
        say_raw!("{}", report::status_table(&rows));
    }
    Ok(EXIT_OK)
}

fn progress_tick(source: &SourceReport) {
    if let Some(bar) = PROGRESS.get() {
        bar.set_message(source.name.clone());
        bar.inc(1);
    }
}

/// Fetches `input` once, unconditionally: the document and the URL it ended up at.
fn fetch_once(input: &str) -> anyhow::Result<(feedmill::fetch::Body, Option<url::Url>)> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    redact::register_url_secrets(input);
    let location = Location::parse(input, &cwd)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
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

fn discover(input: &str) -> anyhow::Result<u8> {
    let (body, doc_url) = fetch_once(input)?;
    let url = doc_url.with_context(|| format!("{}: cannot make a URL of it", redact::url(input)))?;
    let text = feedmill::decode::decode(&body.bytes, body.content_type.as_deref()).text;
    let name = url.host_str().unwrap_or("site").trim_start_matches("www.").replace('.', "-");
    // A feed already: say what it is and how to add it, rather than looking for what it advertises.
    let cx = normalize::Context {
        source: "discover",
        doc_url: Some(&url),
        timezone: chrono_tz::UTC,
        now: clock(),
        strip_tracking: true,
        locale: None,
    };
    if let Ok(u) = pipeline::understand(&body.bytes, body.content_type.as_deref(), Some(&url), &cx) {
        say!(
            "# {url} is a feed ({}, {}). Add it as a source:\n",
            pipeline::format_label(&u.raw),
            counted(u.raw.entries.len(), "entry", "entries")
        );
        say!("[[sources]]\nname = {}\nurl = {}", toml_string(&name), toml_string(url.as_str()));
        return Ok(EXIT_OK);
    }
    let found = feedmill::extract::discover(&text, &url);
    if found.is_empty() {
        say!("# {url} advertises no feed. A starting point for an html source; add it to feeds.toml and");
        say!("# check what its selectors find with `feedmill parse --source {name}`:\n");
        say_raw!("{}", feedmill::extract::skeleton(&text, &url, &name));
        return Ok(EXIT_OK);
    }
    for feed in found {
        let kind = format!("{:?}", feed.kind).to_lowercase();
        say!("{}\t{kind}\t{}", feed.url, feed.title.as_deref().unwrap_or("-"));
    }
    Ok(EXIT_OK)
}

/// A TOML basic string: quoted, with `"`, `\\` and control characters escaped.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// `parse --source NAME`: what a configured source yields, read as a run reads it, without the state.
fn parse_source(config: &Config, name: &str, json: bool) -> anyhow::Result<u8> {
    let Some(source) = config.sources.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!("no source is named `{name}` in the config (sources: {})", names.join(", "));
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let preview = runtime
        .block_on(pipeline::preview(config, source, clock()))
        .map_err(|e| anyhow::anyhow!("source `{name}`: {e}"))?;
    let pipeline::Preview { understood: u, discovered, identified, dropped } = preview;
    if let Some(feed) = &discovered {
        eprintln!("{}: the page advertises {feed}; read that", source.url);
    }
    let entries: Vec<_> = identified.entries.into_iter().map(|l| l.entry).collect();
    // For an html source, items without ids are the rule, not a warning (as in `run`).
    let downgraded =
        identified.downgraded.filter(|_| !matches!(source.kind, feedmill::config::SourceKind::Html { .. }));
    let warnings: Vec<&String> = u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&downgraded).collect();
    if json {
        let out = serde_json::json!({
            "source": source.name,
            "format": pipeline::format_label(&u.raw),
            "encoding": u.decoded_as,
            "title": u.normalized.title,
            "site_url": u.normalized.site_url,
            "warnings": warnings,
            "filtered": dropped.iter().map(|d| serde_json::json!({
                "guid": d.guid, "url": d.url, "title": d.title, "reason": d.reason,
            })).collect::<Vec<_>>(),
            "entries": entries,
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(EXIT_OK);
    }
    say!("source:   {}", source.name);
    say!("format:   {}", pipeline::format_label(&u.raw));
    say!("encoding: {}", u.decoded_as);
    say!("title:    {}", u.normalized.title.as_deref().unwrap_or("-"));
    say!("site:     {}", u.normalized.site_url.as_deref().unwrap_or("-"));
    say!(
        "entries:  {} ({} read, {} duplicates, {} filtered)",
        entries.len(),
        u.raw.entries.len(),
        identified.duplicates,
        dropped.len()
    );
    for w in warnings {
        say!("warning:  {w}");
    }
    for d in &dropped {
        say!("filtered: {} ({}): dropped by {}", d.title, d.url.as_deref().unwrap_or("no link"), d.reason);
    }
    print_entries(&entries)
}

fn parse(input: &str, json: bool, timezone: chrono_tz::Tz) -> anyhow::Result<u8> {
    let (body, doc_url) = fetch_once(input)?;
    let cx = normalize::Context {
        source: "parse",
        doc_url: doc_url.as_ref(),
        timezone,
        now: clock(),
        strip_tracking: true,
        locale: None,
    };
    let u = pipeline::understand(&body.bytes, body.content_type.as_deref(), doc_url.as_ref(), &cx)
        .with_context(|| format!("{input}: not a feed feedmill can read"))?;
    let identified = feedmill::dedup::identify("parse", u.normalized.candidates);
    let entries: Vec<_> = identified.entries.into_iter().map(|l| l.entry).collect();
    if json {
        let out = serde_json::json!({
            "format": pipeline::format_label(&u.raw),
            "encoding": u.decoded_as,
            "title": u.normalized.title,
            "site_url": u.normalized.site_url,
            "warnings": u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&identified.downgraded).collect::<Vec<_>>(),
            "entries": entries,
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(EXIT_OK);
    }
    say!("format:   {}", pipeline::format_label(&u.raw));
    say!("encoding: {}", u.decoded_as);
    say!("title:    {}", u.normalized.title.as_deref().unwrap_or("-"));
    say!("site:     {}", u.normalized.site_url.as_deref().unwrap_or("-"));
    say!("entries:  {} ({} read, {} duplicates)", entries.len(), u.raw.entries.len(), identified.duplicates);
    for w in u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&identified.downgraded) {
        say!("warning:  {w}");
    }
    print_entries(&entries)
}

/// Each entry of a `parse` listing: title, id, link, dates, authors, tags, enclosures, the text's start.
fn print_entries(entries: &[feedmill::model::Entry]) -> anyhow::Result<u8> {
    for e in entries {
        say!("");
        say!("- {}", e.title);
        say!("  id:        {}", e.id);
        say!("  url:       {}", e.url.as_deref().unwrap_or("-"));
        say!("  published: {}", e.published.map_or_else(|| "-".into(), |d| d.to_rfc3339()));
        if let Some(updated) = e.updated {
            say!("  updated:   {}", updated.to_rfc3339());
        }
        let authors: Vec<_> = e.authors.iter().filter_map(|a| a.name.as_deref().or(a.email.as_deref())).collect();
        if !authors.is_empty() {
            say!("  authors:   {}", authors.join(", "));
        }
        if !e.categories.is_empty() {
            say!("  tags:      {}", e.categories.join(", "));
        }
        for enc in &e.enclosures {
            say!("  enclosure: {} ({})", enc.url, enc.mime.as_deref().unwrap_or("?"));
        }
        let text = e
            .content_html
            .as_deref()
            .or(e.summary_html.as_deref())
            .map(normalize::text::html_to_text)
            .unwrap_or_default();
        if !text.is_empty() {
            say!("  text:      {}", normalize::text::truncate_words(&text, 160));
        }
    }
    Ok(EXIT_OK)
}
