//! The refresh loop behind `feedmill watch` and `feedmill serve --watch`: a run whenever some source is
//! due, until the stop future completes.
//!
//! The stop future is only looked at between runs: a stop requested during a run lets that run finish
//! (its writes are atomic and its store transaction commits or not at all), then the loop returns. What
//! each run did goes to the caller's `on_report`, which prints it (`watch`) or counts it (`serve`). The
//! clock reaches the loop as an argument, like every other part of the library.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{run, Reparse, RunOptions};
use crate::config::Config;
use crate::report::RunReport;
use crate::store::{Backend, SourceStates, StoreError};

/// How soon the loop tries again after the state could not be read.
const RETRY: Duration = Duration::from_secs(5);

/// Runs the pipeline whenever a source is due, at least every `every`, until `stop` completes. It does
/// not fail: what a run could not do is in its report, and a state it cannot read is tried again.
pub async fn refresh_loop(
    config: &Config,
    store: &mut impl Backend,
    output_dir: Option<PathBuf>,
    every: Duration,
    clock: fn() -> DateTime<Utc>,
    stop: impl Future<Output = ()>,
    mut on_report: impl FnMut(DateTime<Utc>, &RunReport),
) {
    tokio::pin!(stop);
    loop {
        let opts = RunOptions {
            output_dir: output_dir.clone(),
            now: clock(),
            force: false,
            reparse: Reparse::None,
            default_interval: Some(every),
            on_source_done: None,
        };
        let report = run(config, store, &opts).await;
        on_report(opts.now, &report);
        // A state that cannot be read now (a database restarting) is tried again soon rather than
        // ending the loop: the next run reports what still fails.
        let mut wait = next_wake(config, store, every, clock()).unwrap_or_else(|e| {
            tracing::warn!("cannot read when sources are due: {}", crate::error::error_chain(&e));
            RETRY
        });
        // A run that stopped before its outputs were written (a database restarting, a full disk)
        // leaves what it recorded unpublished: try again soon, not when the next source is due.
        if report.output_error.is_some() {
            wait = wait.min(RETRY);
        }
        let wait = wait.min(every);
        tracing::debug!(?wait, "sleeping until the next source is due");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut stop => return,
        }
    }
}

/// How long until the earliest source is due, between 1 s and `every`, plus up to 10% jitter so many
/// feedmills started together do not hit servers in step.
fn next_wake(
    config: &Config,
    store: &impl SourceStates,
    every: Duration,
    now: DateTime<Utc>,
) -> Result<Duration, StoreError> {
    let states = store.sources()?;
    let next = config
        .sources
        .iter()
        // A dead source (410 Gone) is never due again, and a disabled one is never fetched: neither wakes
        // the loop.
        .filter(|s| s.enabled)
        .filter_map(|s| states.get(&s.name)?.next_due(&s.url, Some(every)))
        .min();
    let wait =
        next.map_or(every, |n| (n - now).to_std().unwrap_or(Duration::ZERO)).clamp(Duration::from_secs(1), every);
    Ok(wait.mul_f64(1.0 + fastrand::f64() / 10.0))
}
