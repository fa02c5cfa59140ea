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
use crate::store::{
    Candidate, ClaimAsk, Claimed, Entries, Leases, Listings, Reconciled, Record, RunWrite, SourceState, SourceStates,
};

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
    // Leased sources come with their state read under the lease instead.
    let mut states = if store.leases().is_some() { HashMap::new() } else { store.sources()? };
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

    let leases = store.leases();
    let mut queue = match &leases {
        None => Queue::All(config.sources.iter().enumerate()),
        Some(leases) => Queue::Leased(Box::new(Leased::new(leases.clone(), config, opts))),
    };
    let mut recorder = record::begin(store, opts.now)?;
    let mut rows: Vec<(usize, SourceReport)> = Vec::with_capacity(config.sources.len());
    // Dropped by an early return, the set aborts the reads still in flight.
    let mut reading = JoinSet::new();
    loop {
        while reading.len() < config.concurrency.max(1) {
            let Some((i, source, state)) = queue.next(&mut states, reading.len())? else { break };
            let (fetcher, source, opts) = (shared.fetcher.clone(), source.clone(), opts.clone());
            let (known, listings) = (shared.known.get(&source.name).cloned(), shared.listings.clone());
            let (schedule, filters) = (config.schedule, shared.filters.clone());
            reading.spawn(async move {
                let held = source::Held { known: known.as_deref(), listings };
                (i, source::read_source(&fetcher, &source, &filters, state, held, schedule, &opts).await)
            });
        }
        let Some(joined) = reading.join_next().await else {
            match queue.wait() {
                Some(pause) => {
                    tokio::time::sleep(pause).await;
                    continue;
                }
                None => break,
            }
        };
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
        let name = result.report.name.clone();
        let recorded = result.update.is_some();
        if let Some(update) = result.update {
            record::record(&mut recorder, update, opts.now)?;
        }
        queue.done(name, recorded)?;
        rows.push((i, result.report));
    }
    let reconciled = recorder.commit()?;
    tracing::debug!("{} sources read, {} parsed and recorded", rows.len(), reconciled.len());
    rows.sort_by_key(|(i, _)| *i);
    report.sources = rows.into_iter().map(|(_, row)| row).collect();
    Ok(reconciled)
}

/// Which source a run reads next.
enum Queue<'c> {
    /// The state's one writer: every configured source, in config order.
    All(std::iter::Enumerate<std::slice::Iter<'c, crate::config::Source>>),
    /// One of several workers: the sources it leases, a batch at a time.
    Leased(Box<Leased<'c>>),
}

/// The sources a worker claims, and what it already did in this run.
struct Leased<'c> {
    leases: Arc<dyn Leases>,
    config: &'c Config,
    opts: &'c RunOptions,
    /// Config index by name.
    index: HashMap<&'c str, usize>,
    candidates: Vec<Candidate>,
    reparse: Vec<String>,
    /// This run's id for the claims ([`ClaimAsk::run`]).
    run: String,
    /// Claimed and not yet released: given back if the run stops early.
    holding: HashSet<String>,
    claimed: std::collections::VecDeque<(String, SourceState)>,
    /// The last claim found nothing, and nothing was released since: no use asking again yet.
    dry: bool,
    /// Due sources the last claim left to other workers' hosts (`per_host`).
    held_back: u64,
    /// The last claim got less than it asked because of `per_host`: the next waits until half the
    /// reads are done, rather than asking after each (a claim a source, all of them queued on the
    /// claim's lock, when several workers share one busy host).
    starved: bool,
    /// How long to wait next when nothing is in flight and `per_host` holds everything back.
    pause: std::time::Duration,
}

/// How long a worker with nothing to read first waits before asking again for the sources the
/// `per_host` limit held back (other workers are reading from those hosts); doubled at each empty
/// claim, up to [`HELD_BACK_MAX`].
const HELD_BACK_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);
const HELD_BACK_MAX: std::time::Duration = std::time::Duration::from_secs(3);

impl<'c> Leased<'c> {
    fn new(leases: Arc<dyn Leases>, config: &'c Config, opts: &'c RunOptions) -> Self {
        let candidates = config
            .sources
            .iter()
            .filter(|s| s.enabled)
            .map(|s| Candidate {
                name: s.name.clone(),
                url: s.url.clone(),
                digest: source::shaping_digest(s, &config.filters),
            })
            .collect();
        let reparse = config.sources.iter().filter(|s| opts.reparses(&s.name)).map(|s| s.name.clone()).collect();
        Leased {
            leases,
            config,
            opts,
            index: config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect(),
            candidates,
            reparse,
            run: run_id(opts.now),
            holding: HashSet::new(),
            claimed: Default::default(),
            dry: false,
            held_back: 0,
            starved: false,
            pause: HELD_BACK_PAUSE,
        }
    }

    /// The next leased source, claiming a batch when none is left: four times the reads that fit, as
    /// every claim waits on the one before (any worker's) and costs about as much whatever its size;
    /// only the reads that fit while `per_host` holds sources back, as a lease held in the queue counts
    /// against the host's limit without reading from it.
    fn next(&mut self, in_flight: usize) -> Result<Option<(usize, &'c crate::config::Source, SourceState)>, RunError> {
        let room = self.config.concurrency.max(1);
        if self.claimed.is_empty() && !self.dry && (!self.starved || in_flight <= room / 2) {
            let ask = ClaimAsk {
                candidates: &self.candidates,
                run: &self.run,
                batch: (if self.starved { room } else { room * 4 }).saturating_sub(in_flight).max(1),
                now: self.opts.now,
                force: self.opts.force,
                reparse: &self.reparse,
                default_interval: self.opts.default_interval,
            };
            let asked = ask.batch;
            let started = std::time::Instant::now();
            let Claimed { sources, held_back } = self.leases.claim(&ask)?;
            tracing::debug!(
                "claimed {} sources in {:?} ({held_back} held back by per_host)",
                sources.len(),
                started.elapsed()
            );
            self.dry = sources.is_empty();
            self.held_back = held_back;
            self.starved = held_back > 0 && sources.len() < asked;
            if !sources.is_empty() {
                self.pause = HELD_BACK_PAUSE;
            }
            self.holding.extend(sources.iter().map(|(name, _)| name.clone()));
            self.claimed.extend(sources);
        }
        while let Some((name, state)) = self.claimed.pop_front() {
            match self.index.get(name.as_str()) {
                Some(&i) => return Ok(Some((i, &self.config.sources[i], state))),
                // Not among the candidates (the claim only offers configured ones): give it back.
                None => {
                    self.holding.remove(&name);
                    self.leases.release(&[name])?;
                }
            }
        }
        Ok(None)
    }
}

/// An id no other run of this process shares (the worker's id tells processes apart): the run's clock,
/// and a count, as two runs may share a clock.
fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}.{n}", now.timestamp_micros())
}

impl Drop for Leased<'_> {
    /// The run's reading is over: a run that stopped early (a write failed, the database went away)
    /// gives back the sources it still holds, so other workers need not wait for the leases to
    /// expire; if the database cannot be told, they expire (the heartbeat no longer renews them).
    /// Then the run leaves its round.
    fn drop(&mut self) {
        if !self.holding.is_empty() {
            let names: Vec<String> = self.holding.drain().collect();
            if let Err(e) = self.leases.release(&names) {
                tracing::warn!("cannot give back {} leases: {}", names.len(), crate::error::error_chain(&e));
            }
        }
        // Left open, the round would take in a run another worker starts tomorrow, which would then
        // read nothing this run read. If the database cannot be told, the round closes at this
        // worker's next run, or once its heartbeat stops.
        if let Err(e) = self.leases.end_run(&self.run) {
            tracing::warn!("cannot end the run's round: {}", crate::error::error_chain(&e));
        }
    }
}

impl<'c> Queue<'c> {
    fn next(
        &mut self,
        states: &mut HashMap<String, SourceState>,
        in_flight: usize,
    ) -> Result<Option<(usize, &'c crate::config::Source, SourceState)>, RunError> {
        match self {
            Queue::All(sources) => Ok(sources.next().map(|(i, source)| {
                // Taken, not copied: source names are unique, and 10,000 states cost to copy and to drop.
                (i, source, states.remove(&source.name).unwrap_or_default())
            })),
            Queue::Leased(leased) => leased.next(in_flight),
        }
    }

    /// A source was read, and `recorded` or not. Either way another worker may take it now: each
    /// source is its own transaction on a shared state, and recording it gave its lease back.
    fn done(&mut self, name: String, recorded: bool) -> Result<(), RunError> {
        if let Queue::Leased(leased) = self {
            leased.holding.remove(&name);
            match recorded {
                true => leased.leases.recorded(&name),
                false => leased.leases.release(std::slice::from_ref(&name))?,
            }
            leased.dry = false;
        }
        Ok(())
    }

    /// With nothing in flight and nothing queued: how long to wait before asking again, or `None`
    /// when the run is over (every due source read here or by another worker).
    fn wait(&mut self) -> Option<std::time::Duration> {
        match self {
            Queue::Leased(leased) if leased.held_back > 0 => {
                leased.dry = false;
                let pause = leased.pause;
                leased.pause = (pause * 2).min(HELD_BACK_MAX);
                Some(pause)
            }
            Queue::Leased(leased) if leased.dry => None,
            Queue::Leased(_) => Some(std::time::Duration::ZERO),
            Queue::All(_) => None,
        }
    }
}
