//! `feedmill explain`: which copies of a story were merged, and by which layer (id, link, fingerprint,
//! near-duplicate score), for one entry named by its id, link or guid. It reads the state and merges
//! the stories as the last build did; it writes nothing.

use feedmill::pipeline;
use feedmill::report::{self, EXIT_FATAL, EXIT_OK};
use feedmill::store::Entries;

use crate::cli::ExplainArgs;

pub fn execute(args: ExplainArgs, quiet: bool) -> anyhow::Result<u8> {
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let query = &args.entry;
    let runtime = super::runtime()?;
    let state = super::open_state(&config, &runtime)?;
    let (merged, filtered) =
        with_state!(&state, |store| (pipeline::stories(&config, store)?, store.find_filtered(query.trim())?));
    let explanation = report::explain(&config, &merged, filtered, query);
    if args.json {
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
