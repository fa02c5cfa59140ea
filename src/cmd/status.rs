//! `feedmill status`: each source's state as the store knows it (last success, last error, failures in
//! a row, next due, entries kept), as a table or as JSON with the field names the README promises. It
//! only reads the state, so it needs no run lock. With a PostgreSQL state, the workers sharing it too.

use feedmill::report::{self, WorkerStatus, EXIT_FATAL, EXIT_OK};
use feedmill::store::postgres;
use feedmill::store::{Entries, Outputs, SourceStates};

use crate::cli::StatusArgs;

pub fn execute(args: StatusArgs, quiet: bool) -> anyhow::Result<u8> {
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let runtime = super::runtime()?;
    let state = super::open_state(&config, &runtime)?;
    let (states, counts, folded, filtered) = with_state!(&state, |store| (
        store.sources()?,
        store.entry_counts()?,
        // Written by the last build; a store that never built outputs has folded nothing yet.
        store.last_folded()?.unwrap_or_default(),
        store.filtered_counts()?,
    ));
    let now = super::clock();
    let rows = report::status_rows(&config.sources, &states, &counts, &folded, &filtered, now);
    let workers = match &state {
        super::State::Postgres { store, .. } => Some(
            postgres::workers(store)?
                .into_iter()
                .map(|worker| WorkerStatus {
                    alive: now - worker.heartbeat < chrono::Duration::from_std(config.state_lease).unwrap_or_default(),
                    worker,
                })
                .collect::<Vec<_>>(),
        ),
        super::State::Sqlite { .. } => None,
    };
    if args.json {
        say!("{}", report::status_json(&rows, workers.as_deref()));
    } else {
        say_raw!("{}", report::status_table(&rows));
        if let Some(workers) = &workers {
            say_raw!("\n{}", report::workers_table(workers));
        }
    }
    Ok(EXIT_OK)
}
