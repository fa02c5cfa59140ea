//! `feedmill status`: each source's state as the store knows it (last success, last error, failures in
//! a row, next due, entries kept), as a table or as JSON with the field names the README promises. It
//! only reads the state, so it needs no run lock.

use feedmill::report::{self, EXIT_FATAL, EXIT_OK};
use feedmill::store::{Entries, Outputs, SourceStates};

use crate::cli::StatusArgs;

pub fn execute(args: StatusArgs, quiet: bool) -> anyhow::Result<u8> {
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let store = super::open_store(&config)?;
    let states = store.sources()?;
    let counts = store.entry_counts()?;
    // Written by the last build; a store that never built outputs has folded nothing yet.
    let folded = store.last_folded()?.unwrap_or_default();
    let filtered = store.filtered_counts()?;
    let rows = report::status_rows(&config.sources, &states, &counts, &folded, &filtered, super::clock());
    if args.json {
        say!("{}", report::status_json(&rows));
    } else {
        say_raw!("{}", report::status_table(&rows));
    }
    Ok(EXIT_OK)
}
