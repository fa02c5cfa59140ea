//! `feedmill watch`: the refresh loop, each source fetched when it is due, a line per run on stderr,
//! until SIGINT or SIGTERM. A signal during a run lets the run finish, then the loop exits and the
//! store is closed. `serve --watch` runs the same loop beside the server.

use feedmill::pipeline;
use feedmill::report::{RunReport, EXIT_FATAL, EXIT_OK};

use super::signal::{stop_on_signal, stopped};
use crate::cli::WatchArgs;

pub fn execute(args: WatchArgs, quiet: bool) -> anyhow::Result<u8> {
    super::memory::settle();
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let runtime = super::runtime()?;
    let how = super::Writing { wait: args.wait, quiet, adopt_config: args.adopt_config };
    let mut state = super::open_writer(&config, &runtime, &how)?;
    let stop = runtime.block_on(async { stop_on_signal() });
    let worker = state.worker();
    let mut changed = false;
    with_state!(&mut state, |store| runtime.block_on(pipeline::refresh_loop(
        &config,
        store,
        args.output.clone(),
        args.every,
        super::clock,
        stopped(stop.subscribe()),
        |now, report| {
            print_refresh(now, report, quiet);
            super::count_run(&worker, report);
            if super::config_changed(&worker) {
                changed = true;
                stop.send_replace(true);
            }
            super::memory::give_back();
        },
    )));
    drop(state);
    if !quiet {
        eprintln!("stopped");
    }
    Ok(if changed { EXIT_FATAL } else { EXIT_OK })
}

/// One refresh of the loop: its summary line (unless quiet), then its failures.
pub(super) fn print_refresh(now: chrono::DateTime<chrono::Utc>, report: &RunReport, quiet: bool) {
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
