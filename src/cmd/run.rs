//! `feedmill run`: every due source once, then the outputs; the cron-friendly command. The summary table
//! goes to stderr (only errors with `-q`), `--summary json` puts the same report on stdout for scripts,
//! and the exit status is the report's: 0 all good, 1 some sources failed, 2 nothing could be done.

use std::io::{IsTerminal, Write as _};
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};

use feedmill::pipeline::{self, Reparse, RunOptions};
use feedmill::redact;
use feedmill::report::{SourceReport, EXIT_FATAL};

use crate::cli::{RunArgs, SummaryFormat};

/// The progress bar of a run on a terminal; a static because the pipeline reports each source through a
/// plain `fn`.
static PROGRESS: OnceLock<ProgressBar> = OnceLock::new();

pub fn execute(args: RunArgs, quiet: bool) -> anyhow::Result<u8> {
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let reparse = match args.reparse {
        None => Reparse::None,
        Some(names) if names.is_empty() => Reparse::All,
        Some(names) => Reparse::Named(names),
    };
    let unknown = reparse.unknown(&config);
    if !unknown.is_empty() {
        eprintln!("error: --reparse: no source named {}", unknown.join(", "));
        return Ok(EXIT_FATAL);
    }
    let runtime = super::runtime()?;
    let how = super::Writing { wait: args.wait, quiet, adopt_config: args.adopt_config };
    let mut state = super::open_writer(&config, &runtime, &how)?;
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
        output_dir: args.output,
        now: super::clock(),
        force: args.force,
        reparse,
        default_interval: None,
        on_source_done: show_progress.then_some(progress_tick as fn(&SourceReport)),
    };
    let report = with_state!(&mut state, |store| runtime.block_on(pipeline::run(&config, store, &opts)));
    super::count_run(&state.worker(), &report);
    drop(state);
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
    if args.summary == Some(SummaryFormat::Json) {
        // A reader that went away does not change how the run went: the exit status still says it.
        let _ = writeln!(std::io::stdout().lock(), "{}", redact::text(&report.to_json()));
    }
    Ok(report.exit_code())
}

fn progress_tick(source: &SourceReport) {
    if let Some(bar) = PROGRESS.get() {
        bar.set_message(source.name.clone());
        bar.inc(1);
    }
}
