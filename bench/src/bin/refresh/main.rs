//! Refresh macro benchmark: the real `feedmill run` against N local feeds, beside a bare client.
//!
//! A multi-threaded loopback server (`server.rs`) serves N generated feeds of 50 entries (~50 KB; all
//! six corpus formats in turn, a quarter gzipped, ETag and Last-Modified on all). Each round measures,
//! as separate processes so wall time, CPU time (user + system) and peak RSS belong to one client:
//!
//! 1. the bare client (reqwest, same concurrency) fetching every URL: the fetch ceiling;
//!    1'. the bare client again, sending the validators, so every answer is a 304;
//! 2. `feedmill run` with an empty store (cold);
//! 3. `feedmill run` again: every source answers 304;
//! 4. `feedmill run` after 1% of the feeds got one new post: it should rewrite only the outputs of the
//!    changed sources' category and `all`, and cost about as much as (3).
//!
//! It also times quick-xml's raw event loop over every body on one thread, so (2) can be compared with
//! "bare fetch + raw parse". Figures are medians over the rounds; the requests each phase caused come
//! from the server's counters.
//!
//!     cargo build --release -p feedmill
//!     cargo run --release -p feedmill-bench --bin refresh -- --sources 1000
//!     cargo run --release -p feedmill-bench --bin refresh -- --sources 10000 --rounds 1
//!
//! `refresh serve DIR` instead only serves the corpus, with new posts at a steady pace, for the soak of
//! a long-running `feedmill watch` (`bench/soak.sh`, `soak.rs`).

mod child;
mod server;
mod soak;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, ensure, Context as _};
use clap::{Parser, Subcommand};
use feedmill_bench::{FeedSpec, Format, TYPICAL_HTML_BYTES};

use child::Usage;
use server::{Doc, Served, Site};

#[derive(Debug, Parser)]
#[command(about = "Refresh macro benchmark: `feedmill run` cold, all-304 and 1%-changed against a bare client")]
struct Args {
    #[command(subcommand)]
    helper: Option<Helper>,
    /// Feeds to serve (each source is one feed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..))]
    sources: u64,
    /// Entries per feed.
    #[arg(long, default_value_t = 50)]
    entries: usize,
    /// Requests in flight, for feedmill (`concurrency` and `per_host`) and the bare client alike.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// Times the whole sequence is run; the figures are medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// The feedmill binary [default: `feedmill` next to this program, where `cargo build --release -p
    /// feedmill` puts it].
    #[arg(long)]
    feedmill: Option<PathBuf>,
    /// Also append each round's figures to FILE, one tab-separated line per phase: phase (bare,
    /// bare-304, cold, all-304, changed), wall s, CPU s, peak RSS KiB, exit code. `bench/compare.sh`
    /// reads them.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Helper {
    /// Serve the corpus for a soak (`bench/soak.sh`) or several workers (`bench/workers.sh`): writes
    /// DIR/feeds.toml, then DIR/addr, and gives 1% of the feeds a new post every 20 s until killed.
    Serve(soak::Serve),
    /// Bare client: GET every URL of LIST (lines of `url[\tetag\tlast-modified]`).
    #[command(hide = true)]
    Fetch { list: PathBuf, concurrency: usize },
    /// Run a command and print its wall time, CPU time and peak RSS.
    #[command(hide = true)]
    Measure {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<OsString>,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.helper {
        Some(Helper::Fetch { list, concurrency }) => child::fetch(list, *concurrency),
        Some(Helper::Measure { command }) => child::measure(command),
        Some(Helper::Serve(serve)) => soak::serve(serve),
        None => bench(&args),
    }
}

/// One measured client run and what the server saw during it.
#[derive(Debug, Clone, Copy)]
struct Phase {
    usage: Usage,
    served: Served,
}

#[derive(Debug)]
struct Round {
    raw_parse: Duration,
    bare: Phase,
    bare_304: Phase,
    cold: Phase,
    unchanged: Phase,
    changed: Phase,
    /// Output files (4) replaced, relative to the output folder.
    rewritten: Vec<String>,
    /// Output files (3) replaced; should be none.
    rewritten_unchanged: Vec<String>,
}

/// The feeds whose source gets a new post before (4): 1%, all in category `c07`.
fn changes(index: usize) -> bool {
    index % 100 == 7
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let feedmill = args.feedmill.clone().unwrap_or_else(|| me.with_file_name("feedmill"));
    ensure!(feedmill.is_file(), "{} not found: build it with `cargo build --release -p feedmill`", feedmill.display());

    eprintln!("generating {} feeds…", args.sources);
    let site = Arc::new(Site::new(generate(args.sources, args.entries)));
    let docs = site.docs();
    let total: usize = docs.iter().map(|d| d.body.len()).sum();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let addr = runtime.block_on(server::listen(Arc::clone(&site)))?;

    let work = tempfile::tempdir()?;
    let base = format!("http://{addr}");
    let config = work.path().join("feeds.toml");
    write(&config, &feeds_toml(std::slice::from_ref(&base), &docs, args.concurrency, args.concurrency))?;
    let urls = work.path().join("urls.txt");
    write(&urls, &docs.iter().enumerate().map(|(i, d)| format!("{base}{}\n", d.path(i))).collect::<String>())?;

    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        eprintln!("round {round}/{}…", args.rounds);
        rounds.push(run_round(&site, &me, &feedmill, work.path(), &base, args.concurrency)?);
    }

    println!(
        "\nrefresh: {} sources × {} entries ({} formats in turn, {:.1} KB on average, {} gzipped), \
         concurrency {}, {} round(s), medians",
        docs.len(),
        args.entries,
        Format::ALL.len(),
        total as f64 / docs.len() as f64 / 1e3,
        docs.iter().filter(|d| d.is_gzipped()).count(),
        args.concurrency,
        rounds.len()
    );
    report(&rounds);
    if let Some(path) = &args.record {
        record(path, &rounds)?;
    }
    Ok(())
}

/// Appends the rounds to `path` for a script to read (see `Args::record`).
fn record(path: &Path, rounds: &[Round]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut lines = String::new();
    for r in rounds {
        for (name, p) in [
            ("bare", r.bare),
            ("bare-304", r.bare_304),
            ("cold", r.cold),
            ("all-304", r.unchanged),
            ("changed", r.changed),
        ] {
            let u = p.usage;
            let _ = writeln!(
                lines,
                "{name}\t{:.4}\t{:.4}\t{}\t{}",
                u.wall.as_secs_f64(),
                u.cpu.as_secs_f64(),
                u.max_rss_kb,
                u.exit_code
            );
        }
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// Source `i` serves feed `i`: formats in turn, a quarter gzipped.
fn generate(sources: u64, entries: usize) -> Vec<Doc> {
    let spec = |i: u64| FeedSpec::new(Format::ALL[i as usize % Format::ALL.len()], i, entries, TYPICAL_HTML_BYTES);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..sources)
                        .step_by(threads as usize)
                        .map(|i| (i, Doc::new(spec(i), i % 4 == 0)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut docs: Vec<(u64, Doc)> =
            workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect();
        docs.sort_by_key(|(i, _)| *i);
        docs.into_iter().map(|(_, d)| d).collect()
    })
}

/// The config of `docs`: source `i` is served from `bases[i % bases.len()]`.
fn feeds_toml(bases: &[String], docs: &[Arc<Doc>], concurrency: u64, per_host: u64) -> String {
    let mut out = format!(
        "[output]\ndir = \"out\"\nmax_items = 100\n\n[fetch]\nconcurrency = {concurrency}\nper_host = {per_host}\n\n"
    );
    for (i, doc) in docs.iter().enumerate() {
        let _ = writeln!(
            out,
            "[[sources]]\nname = \"s{i}\"\nurl = \"{}{}\"\ncategories = [\"c{:02}\"]\n",
            bases[i % bases.len()],
            doc.path(i),
            i % 20
        );
    }
    out
}

fn run_round(
    site: &Site,
    me: &Path,
    feedmill: &Path,
    work: &Path,
    base: &str,
    concurrency: u64,
) -> anyhow::Result<Round> {
    let docs = site.docs();
    let started = Instant::now();
    let events: usize = docs.iter().map(|d| feedmill_bench::raw_scan(&d.body)).sum();
    let raw_parse = started.elapsed();
    ensure!(events > docs.len(), "the raw loop read nothing");

    let fetch = |list: &Path| {
        let args = [OsString::from("fetch"), list.into(), concurrency.to_string().into()];
        measured(site, me, me, &args)
    };
    let bare = fetch(&work.join("urls.txt"))?;
    let conditional = work.join("validators.txt");
    let lines: String = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (etag, date) = d.validators();
            format!("{base}{}\t{etag}\t{date}\n", d.path(i))
        })
        .collect();
    write(&conditional, &lines)?;
    let bare_304 = fetch(&conditional)?;

    for dir in [".feedmill", "out"] {
        let path = work.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let run = [OsString::from("-q"), "run".into(), "-c".into(), work.join("feeds.toml").into()];
    let cold = measured(site, me, feedmill, &run)?;
    let out = work.join("out");
    let before = files(&out)?;
    let unchanged = measured(site, me, feedmill, &run)?;
    let rewritten_unchanged = replaced(&before, &files(&out)?);

    for (i, doc) in docs.iter().enumerate().filter(|(i, _)| changes(*i)) {
        site.replace(i, Doc::new(doc.spec.next_revision(), doc.is_gzipped()));
    }
    let before = files(&out)?;
    let changed = measured(site, me, feedmill, &run)?;
    let rewritten = replaced(&before, &files(&out)?);

    let n = docs.len() as u64;
    let n_changed = (0..docs.len()).filter(|i| changes(*i)).count() as u64;
    for (name, phase, full) in
        [("(1)", bare, n), ("(1')", bare_304, 0), ("(2)", cold, n), ("(3)", unchanged, 0), ("(4)", changed, n_changed)]
    {
        let s = phase.served;
        if phase.usage.exit_code != 0 || s.requests != n || s.full != full || s.not_modified != n - full {
            eprintln!(
                "warning: {name} exited {} after {} requests ({} full, {} not modified); expected {n} ({full} full)",
                phase.usage.exit_code, s.requests, s.full, s.not_modified
            );
        }
    }
    Ok(Round { raw_parse, bare, bare_304, cold, unchanged, changed, rewritten, rewritten_unchanged })
}

/// Runs `program args` under a fresh `measure` wrapper and counts what the server answered meanwhile.
fn measured(site: &Site, me: &Path, program: &Path, args: &[OsString]) -> anyhow::Result<Phase> {
    let before = site.served();
    let output = Command::new(me)
        .arg("measure")
        .arg("--")
        .arg(program)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", me.display()))?;
    let served = site.served() - before;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(usage) = stdout.lines().last().and_then(Usage::parse) else {
        bail!("measuring {} failed: {stdout}", program.display());
    };
    Ok(Phase { usage, served })
}

/// Every file under `dir` with what changes when it is replaced (write-then-rename gives a new inode).
fn files(dir: &Path) -> anyhow::Result<BTreeMap<String, (u64, SystemTime)>> {
    use std::os::unix::fs::MetadataExt as _;
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("cannot list {}", folder.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let name = entry.path().strip_prefix(dir).unwrap_or(&entry.path()).display().to_string();
                found.insert(name, (meta.ino(), meta.modified()?));
            }
        }
    }
    Ok(found)
}

fn replaced(before: &BTreeMap<String, (u64, SystemTime)>, after: &BTreeMap<String, (u64, SystemTime)>) -> Vec<String> {
    after.iter().filter(|(name, now)| before.get(*name) != Some(now)).map(|(name, _)| name.clone()).collect()
}

/// Generated inputs only; the guardrail against `fs::write` is about feedmill's outputs.
#[allow(clippy::disallowed_methods)]
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Which phase of a round a report row is about.
type Pick = fn(&Round) -> Phase;

fn report(rounds: &[Round]) {
    let phase = |pick: Pick| -> (Duration, Duration, f64, Served) {
        let phases: Vec<Phase> = rounds.iter().map(pick).collect();
        (
            median(phases.iter().map(|p| p.usage.wall)),
            median(phases.iter().map(|p| p.usage.cpu)),
            median(phases.iter().map(|p| p.usage.max_rss_kb)) as f64 / 1024.0,
            phases[phases.len() / 2].served,
        )
    };
    println!(
        "{:<34} {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>8}",
        "", "wall s", "CPU s", "RSS MiB", "requests", "200", "304", "MB sent"
    );
    let rows: [(&str, Pick); 5] = [
        ("(1)  bare reqwest fetch", |r| r.bare),
        ("(1') bare reqwest, all 304", |r| r.bare_304),
        ("(2)  feedmill run, cold", |r| r.cold),
        ("(3)  feedmill run, all 304", |r| r.unchanged),
        ("(4)  feedmill run, 1% changed", |r| r.changed),
    ];
    let mut walls = Vec::new();
    for (name, pick) in rows {
        let (wall, cpu, rss, s) = phase(pick);
        walls.push(wall.as_secs_f64());
        println!(
            "{name:<34} {:>8.2} {:>8.2} {:>9.1} {:>9} {:>7} {:>7} {:>8.1}",
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            rss,
            s.requests,
            s.full,
            s.not_modified,
            s.bytes as f64 / 1e6
        );
    }
    let raw = median(rounds.iter().map(|r| r.raw_parse)).as_secs_f64();
    println!("raw quick-xml loop over every body, one thread: {raw:.2} s");
    let [bare, bare_304, cold, unchanged, changed] = walls[..] else { return };
    println!("ratios (wall time):");
    println!("  (2)/(1)               {:>6.2}", cold / bare);
    println!("  (2)/((1) + raw loop)  {:>6.2}   target ≤ 1.5", cold / (bare + raw));
    println!("  (3)/(1')              {:>6.2}   target ≤ 1.5", unchanged / bare_304);
    println!("  (4)/(3)               {:>6.2}   target: close to 1", changed / unchanged);
    if let Some(last) = rounds.last() {
        println!("(3) rewrote {} files: {}", last.rewritten_unchanged.len(), last.rewritten_unchanged.join(" "));
        println!("(4) rewrote {} files: {}", last.rewritten.len(), last.rewritten.join(" "));
    }
}

fn median<T: Ord + Copy>(values: impl Iterator<Item = T>) -> T {
    let mut values: Vec<T> = values.collect();
    values.sort();
    values[values.len() / 2]
}
