//! The steps "read sources" and "record" (`record.rs`), interleaved: every source is read in a task of
//! its own, `concurrency` at a time, and written into the run's store transaction as its task ends, so
//! only the sources in flight are held in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::{record, source, RunError, RunOptions};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::report::{RunReport, SourceReport};
use crate::store::{Entries, Listings, Reconciled, Record, RunWrite, SourceState, SourceStates};

/// What every source's task shares.
struct Shared {
    fetcher: Arc<Fetcher>,
    /// Per source that fetches article pages: the canonical URLs of its stored entries.
    known: HashMap<String, Arc<HashSet<String>>>,
    /// The entries the feeds listed at the last commit (none for a store in memory).
    listings: Option<Arc<dyn Listings>>,
    /// `[filters]`, applied to every source.
    filters: Arc<crate::filter::Filters>,
}

/// Fetch → decode → parse → normalize every source and record it; returns, per source recorded, what
/// was new. The report's rows end up in config order.
///
/// Each source is read in a task of its own: recording is synchronous work on this thread, and the
/// sources in flight keep fetching and parsing meanwhile (polled by this thread, they would wait).
pub(super) async fn read_and_record<S: Record + SourceStates + Entries>(
    fetcher: &Arc<Fetcher>,
    config: &Config,
    store: &mut S,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<HashMap<String, Reconciled>, RunError> {
    // Before anything is read by name: a renamed source's state and entries move to its new name.
    let configured: Vec<(&str, &str)> = config.sources.iter().map(|s| (s.name.as_str(), s.url.as_str())).collect();
    store.identify_sources(&configured)?;
    let mut states = store.sources()?;
    tracing::debug!("{} sources' state read", states.len());
    // Pages already fetched for full text, so each is fetched once.
    let mut known = HashMap::new();
    for s in config.sources.iter().filter(|s| s.kind.fetches_articles()) {
        known.insert(s.name.clone(), Arc::new(store.known_urls(&s.name)?));
    }
    let shared = Shared {
        fetcher: fetcher.clone(),
        known,
        listings: store.listings(),
        filters: Arc::new(config.filters.clone()),
    };

    let mut recorder = record::begin(store, opts.now)?;
    let mut rows: Vec<(usize, SourceReport)> = Vec::with_capacity(config.sources.len());
    // Dropped by an early return, the set aborts the reads still in flight.
    let mut reading = JoinSet::new();
    let mut sources = config.sources.iter().enumerate();
    loop {
        while reading.len() < config.concurrency.max(1) {
            let Some((i, source)) = sources.next() else { break };
            // Taken, not copied: source names are unique, and 10,000 states cost to copy and to drop.
            let state: SourceState = states.remove(&source.name).unwrap_or_default();
            let (fetcher, source, opts) = (shared.fetcher.clone(), source.clone(), opts.clone());
            let (known, listings) = (shared.known.get(&source.name).cloned(), shared.listings.clone());
            let (schedule, filters) = (config.schedule, shared.filters.clone());
            reading.spawn(async move {
                let held = source::Held { known: known.as_deref(), listings };
                (i, source::read_source(&fetcher, &source, &filters, state, held, schedule, &opts).await)
            });
        }
        let Some(joined) = reading.join_next().await else { break };
        let (i, result) = match joined {
            Ok(read) => read,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => return Err(RunError::Stopped(e)),
            },
        };
        if let Some(f) = opts.on_source_done {
            f(&result.report);
        }
        if let Some(update) = result.update {
            record::record(&mut recorder, update, opts.now)?;
        }
        rows.push((i, result.report));
    }
    let reconciled = recorder.commit()?;
    tracing::debug!("{} sources read, {} parsed and recorded", rows.len(), reconciled.len());
    rows.sort_by_key(|(i, _)| *i);
    report.sources = rows.into_iter().map(|(_, row)| row).collect();
    Ok(reconciled)
}
