//! The pipeline: runs the stages in order for one `feedmill run`.
//!
//! ```text
//! config ─▶ fetch ─▶ decode ─▶ parse ─▶ normalize ─▶ filter ─▶ dedup ─▶ categorize ─▶ emit ─▶ output/
//! ```
//!
//! Concurrency lives in exactly one place: each source is read in a task of its own, `concurrency` at a
//! time (`read_and_record`); it is fetched on the async runtime and then understood (decode + parse +
//! normalize, then identify and sign its entries: pure CPU work) on the blocking pool, one job per core
//! at a time, so parsing overlaps the fetches of the others without oversubscribing the CPU. The thread
//! that started the run records each source as its task ends: it only writes, since SQLite has one
//! writer and whatever else it did would hold up every source. Everything after that is sequential and
//! deterministic, the WebSub pings that end a run included (`announce`).

mod announce;
mod output;
mod pages;
mod refresh;
mod source;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use url::Url;

use crate::categorize::Feeds;
use crate::config::{Config, DedupMode, ALL};
use crate::decode::{self, Decoded};
use crate::dedup;
use crate::emit;
use crate::fetch::Fetcher;
use crate::model::{Entry, RawFeed};
use crate::normalize::{self, Normalized};
use crate::parse::{self, ParseError};
use crate::report::{error_chain, RunReport, SourceReport};
use crate::store::{Health, Listings, Reconciled, SourceState, Store, StoreError, StoredStory, StoryHead};
pub use refresh::refresh_loop;

/// What the caller decides about a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides `[output] dir`.
    pub output_dir: Option<PathBuf>,
    /// The run's clock: first-seen time of new entries and "now" for relative dates and scheduling.
    pub now: DateTime<Utc>,
    /// Fetch every source, due or not.
    pub force: bool,
    /// Sources to read again as if their config had changed (`run --reparse`).
    pub reparse: Reparse,
    /// For `watch`: a source with no schedule of its own is due this long after its last fetch (a
    /// single `run` leaves it `None`: such sources are always due).
    pub default_interval: Option<std::time::Duration>,
    /// Called once per source as it finishes (drives the progress bar).
    pub on_source_done: Option<fn(&SourceReport)>,
}

/// Which sources `run --reparse` reads again, whether their config changed or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reparse {
    #[default]
    None,
    All,
    /// By name; [`Reparse::unknown`] checks them against the config.
    Named(Vec<String>),
}

impl Reparse {
    /// The names given that no source of `config` has.
    pub fn unknown<'a>(&'a self, config: &Config) -> Vec<&'a str> {
        match self {
            Reparse::Named(names) => {
                names.iter().filter(|n| !config.sources.iter().any(|s| s.name == **n)).map(String::as_str).collect()
            }
            Reparse::None | Reparse::All => Vec::new(),
        }
    }
}

impl RunOptions {
    /// Whether the source `name` is to be read again (`run --reparse`).
    pub fn reparses(&self, name: &str) -> bool {
        match &self.reparse {
            Reparse::None => false,
            Reparse::All => true,
            Reparse::Named(names) => names.iter().any(|n| n == name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Understood {
    /// The encoding and why it was chosen: `windows-1251 (XML prolog)`.
    pub decoded_as: String,
    pub raw: RawFeed,
    pub normalized: Normalized,
}

/// Decode → parse → normalize one fetched document. Pure CPU work, shared by `run` and `parse`.
pub fn understand(
    bytes: &[u8],
    content_type: Option<&str>,
    doc_url: Option<&Url>,
    cx: &normalize::Context,
) -> Result<Understood, ParseError> {
    understand_reusing(bytes, content_type, doc_url, cx, |_| HashMap::new())
}

/// [`understand`], taking the entries `stored` knows by raw digest instead of normalizing them again
/// (`normalize::feed_reusing`).
pub fn understand_reusing(
    bytes: &[u8],
    content_type: Option<&str>,
    doc_url: Option<&Url>,
    cx: &normalize::Context,
    stored: impl FnOnce(&[normalize::RawDigest]) -> HashMap<normalize::RawDigest, Entry>,
) -> Result<Understood, ParseError> {
    let Decoded { text, encoding, decided_by, .. } = decode::decode(bytes, content_type);
    tracing::debug!(source = cx.source, encoding = encoding.name(), by = %decided_by, "decoded");
    let raw = parse::parse(&text)?;
    let normalized = normalize::feed_reusing(&raw, &normalize::Context { doc_url, ..cx.clone() }, stored);
    Ok(Understood { decoded_as: format!("{} ({decided_by})", encoding.name()), raw, normalized })
}

/// What reading one source produced: its report row and what to remember.
pub async fn run(config: &Config, store: &mut Store, opts: &RunOptions) -> RunReport {
    let mut report = RunReport::default();
    if let Err(e) = run_stages(config, store, opts, &mut report).await {
        report.output_error = Some(e);
    }
    report
}

/// An error that stops the run (the store or the output folder failed), as one line.
fn fatal(e: impl std::error::Error) -> String {
    error_chain(&e)
}

async fn run_stages(
    config: &Config,
    store: &mut Store,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<(), String> {
    let fetcher = Arc::new(Fetcher::new(config.fetch.clone()).map_err(fatal)?);
    // Before anything is read by name: a renamed source's state and entries move to its new name.
    let configured: Vec<(&str, &str)> = config.sources.iter().map(|s| (s.name.as_str(), s.url.as_str())).collect();
    store.identify_sources(&configured).map_err(fatal)?;
    let states = store.sources().map_err(fatal)?;
    tracing::debug!("{} sources' state read", states.len());
    // Pages already fetched for full text, so each is fetched once.
    let mut known = HashMap::new();
    for s in config.sources.iter().filter(|s| s.kind.fetches_articles()) {
        known.insert(s.name.clone(), Arc::new(store.known_urls(&s.name).map_err(fatal)?));
    }
    let shared = Shared {
        fetcher: fetcher.clone(),
        known,
        listings: store.listings().map(Arc::new),
        filters: Arc::new(config.filters.clone()),
    };
    let reconciled = read_and_record(&shared, config, store, states, opts, report).await?;
    remember(config, store, opts, &reconciled, report)?;
    let changed = publish(config, store, opts, report)?;
    announce::announce(&fetcher, config, store, changed, report).await;
    Ok(())
}

/// Fetch → decode → parse → normalize every source, `concurrency` at a time, and write each source into
/// the run's store transaction as it finishes, so only the sources in flight are held in memory. The
/// report's rows end up in config order.
///
/// Each source is read in a task of its own: recording is synchronous work on this thread, and the
/// sources in flight keep fetching and parsing meanwhile (polled by this thread, they would wait).
async fn read_and_record(
    shared: &Shared,
    config: &Config,
    store: &mut Store,
    mut states: HashMap<String, SourceState>,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<HashMap<String, Reconciled>, String> {
    let mut recorder = store.recorder(opts.now).map_err(fatal)?;
    let mut rows: Vec<(usize, SourceReport)> = Vec::with_capacity(config.sources.len());
    // Dropped by an early return, the set aborts the reads still in flight.
    let mut reading = JoinSet::new();
    let mut sources = config.sources.iter().enumerate();
    loop {
        while reading.len() < config.concurrency.max(1) {
            let Some((i, source)) = sources.next() else { break };
            // Taken, not copied: source names are unique, and 10,000 states cost to copy and to drop.
            let state = states.remove(&source.name).unwrap_or_default();
            let (fetcher, source, opts) = (shared.fetcher.clone(), source.clone(), opts.clone());
            let (known, listings) = (shared.known.get(&source.name).cloned(), shared.listings.clone());
            let (schedule, filters) = (config.schedule, shared.filters.clone());
            reading.spawn(async move {
                // The key and the previous body are the state's: `read_source` fills them in.
                let stored = pages::Remembered { key: "", known: known.as_deref(), listings, previous: None };
                (i, source::read_source(&fetcher, &source, &filters, state, stored, schedule, &opts).await)
            });
        }
        let Some(joined) = reading.join_next().await else { break };
        let (i, result) = match joined {
            Ok(read) => read,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => return Err(format!("reading a source stopped: {e}")),
            },
        };
        if let Some(f) = opts.on_source_done {
            f(&result.report);
        }
        if let Some(update) = result.update {
            recorder.add(update).map_err(fatal)?;
        }
        rows.push((i, result.report));
    }
    let reconciled = recorder.commit().map_err(fatal)?;
    tracing::debug!("{} sources read, {} parsed and recorded", rows.len(), reconciled.len());
    rows.sort_by_key(|(i, _)| *i);
    report.sources = rows.into_iter().map(|(_, row)| row).collect();
    Ok(reconciled)
}

/// What every source's task shares.
struct Shared {
    fetcher: Arc<Fetcher>,
    /// Per source that fetches article pages: the canonical URLs of its stored entries.
    known: HashMap<String, Arc<HashSet<String>>>,
    /// The entries the feeds listed at the last commit (none for a store in memory).
    listings: Option<Arc<Listings>>,
    /// `[filters]`, applied to every source.
    filters: Arc<crate::filter::Filters>,
}

/// Purges entries past the retention period; fills the report's entry counts.
fn remember(
    config: &Config,
    store: &mut Store,
    opts: &RunOptions,
    reconciled: &HashMap<String, Reconciled>,
    report: &mut RunReport,
) -> Result<(), String> {
    let cutoff = opts.now - chrono::Duration::from_std(config.output.retention).unwrap_or(chrono::Duration::MAX);
    let purged = store.purge(cutoff, opts.now).map_err(fatal)?;
    if purged > 0 {
        tracing::info!("{purged} entries older than the retention period purged");
    }
    let counts = store.entry_counts().map_err(fatal)?;
    tracing::debug!("retention applied, entries counted");
    for row in &mut report.sources {
        row.new = reconciled.get(&row.name).map_or(0, |r| r.new);
        row.kept = counts.get(&row.name).copied().unwrap_or(0);
    }
    Ok(())
}

/// Builds the outputs: merges the new entries into the kept stories, then for each feed reads its newest
/// stories and writes the files. Returns the public URLs of the feed files it changed (none without
/// `base_url`).
fn publish(
    config: &Config,
    store: &mut Store,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<Vec<String>, String> {
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let first_met = store.first_met_order(&names).map_err(fatal)?;
    let merged = store.update_stories(&modes_in_use(config), &first_met).map_err(fatal)?;
    tracing::debug!("{merged} entries merged into stories");

    // Outputs are a function of the stored entries and the config: when neither changed since the last
    // build into this folder, there is nothing to render and nothing to compare.
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| config.output.dir.clone());
    let health = store.health().map_err(fatal)?;
    let build_key = build_key(config, &out_dir, store.content_version().map_err(fatal)?, &health);
    let meta_key = format!("outputs:{}", out_dir.display());
    if store.meta(&meta_key).map_err(fatal)?.as_deref() == Some(build_key.as_str())
        && out_dir.join("index.html").is_file()
    {
        report.outputs_current = true;
        return Ok(Vec::new());
    }

    let states = store.sources().map_err(fatal)?;
    // Counted where every source meets every other: in `all`, merged by `[dedup]`.
    let folded = store.folded(&config.dedup).map_err(fatal)?;
    for row in &mut report.sources {
        row.duplicates += folded.get(&row.name).copied().unwrap_or(0);
    }
    let collapsed: HashMap<&str, usize> =
        names.iter().map(|name| (*name, folded.get(*name).copied().unwrap_or(0))).collect();
    if let Err(e) = store.set_meta(COLLAPSED_KEY, &serde_json::to_string(&collapsed).unwrap_or_default()) {
        tracing::warn!("cannot record the duplicates collapsed: {}", error_chain(&e));
    }
    let feeds = feeds(config, store).map_err(fatal)?;
    if feeds.get(ALL).is_none_or(Vec::is_empty) && report.sources.iter().all(SourceReport::failed) {
        // Writing now would replace whatever was published with empty feeds.
        tracing::error!("no source could be read and nothing is stored; outputs left as they were");
        return Ok(Vec::new());
    }
    tracing::debug!("{} feeds' stories read", feeds.len());
    let changed = output::write_outputs(config, &out_dir, &feeds, &states, report)?;
    tracing::debug!("outputs built: {} files written, {} unchanged", report.files_written, report.files_unchanged);
    if let Err(e) = store.set_meta(&meta_key, &build_key) {
        // Harmless: the next run rebuilds and finds every file unchanged.
        tracing::warn!("cannot record the output build: {}", error_chain(&e));
    }
    Ok(changed)
}

/// Meta key of the JSON map: source name → its stored entries folded into another source's story.
pub const COLLAPSED_KEY: &str = "duplicates_collapsed";

/// The dedup modes in use: `[dedup]`'s (for `all`), then each other one a category sets.
fn modes_in_use(config: &Config) -> Vec<DedupMode> {
    let mut modes = vec![config.dedup];
    for c in &config.categories {
        if !modes.contains(&c.dedup) {
            modes.push(c.dedup);
        }
    }
    modes
}

/// Each feed's entries (`all` and every category), newest first and cut to `max_items`. Per dedup mode,
/// the kept stories are walked newest first until the feeds using that mode are full; only the stories
/// chosen are read and assembled, so a build holds `max_items` stories per feed, whatever the store holds.
pub fn feeds(config: &Config, store: &Store) -> Result<BTreeMap<String, Vec<Entry>>, StoreError> {
    let positions: HashMap<&str, usize> =
        config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let mut out = BTreeMap::new();
    for mode in modes_in_use(config) {
        let slugs = std::iter::once(ALL)
            .filter(|_| config.dedup == mode)
            .chain(config.categories.iter().filter(|c| c.dedup == mode).map(|c| c.slug.as_str()));
        let mut chosen: Feeds<StoryHead> =
            Feeds::new(slugs, &config.sources, &config.categories, config.output.max_items);
        // Each story chosen is read and assembled once, however many feeds show it.
        let mut assembled: HashMap<StoryHead, Option<Entry>> = HashMap::new();
        let mut published = |head: &StoryHead| -> Result<Option<Entry>, StoreError> {
            if let Some(entry) = assembled.get(head) {
                return Ok(entry.clone());
            }
            let story = store
                .story(&mode, head, &positions)?
                .and_then(|StoredStory { copies, head }| dedup::assemble(copies, head));
            let entry = story.map(|s| s.entry);
            assembled.insert(head.clone(), entry.clone());
            Ok(entry)
        };
        store.stories_newest_first(&mode, |head, sources| {
            let sources: Vec<usize> = sources.iter().filter_map(|s| positions.get(s.as_str()).copied()).collect();
            // Rules match what the story publishes: its text as upgraded by richer copies.
            let entry = if chosen.needs_entry() { published(head)? } else { None };
            chosen.offer(head, &sources, entry.as_ref());
            Ok(!chosen.full())
        })?;
        for (slug, heads) in chosen.into_lists() {
            let mut entries = Vec::with_capacity(heads.len());
            for head in &heads {
                entries.extend(published(head)?);
            }
            out.insert(slug, entries);
        }
    }
    Ok(out)
}

/// The stored entries merged into stories under one dedup mode, all in memory, for `feedmill explain`.
#[derive(Debug)]
pub struct Merged {
    pub mode: DedupMode,
    pub stories: Vec<dedup::Story>,
}

/// Every stored entry of the configured sources, merged into stories once per dedup mode in use (first
/// by `[dedup]`), from scratch: what the kept stories hold, with every copy's entry, to explain them.
pub fn stories(config: &Config, store: &Store) -> Result<Vec<Merged>, StoreError> {
    let position: HashMap<&str, usize> = config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    // Merged in the order the run's merge uses (`publish`), so ties pick the copy it published; the
    // stories then name their sources by config position.
    let first_met = store.first_met_order(&names)?;
    let rank: HashMap<&str, usize> = first_met.iter().enumerate().map(|(r, name)| (*name, r)).collect();
    let config_position: Vec<usize> = first_met.iter().map(|name| position.get(name).copied().unwrap_or(0)).collect();
    let mut per_source: Vec<(usize, Vec<dedup::Signed>)> = (0..first_met.len()).map(|r| (r, Vec::new())).collect();
    for s in store.entries(&names)? {
        if let Some(&r) = rank.get(s.entry.source.as_str()) {
            per_source[r].1.push(dedup::Signed { entry: s.entry, signature: s.signature });
        }
    }
    let in_config_order = |mut stories: Vec<dedup::Story>| {
        for story in &mut stories {
            for s in &mut story.sources {
                *s = config_position.get(*s).copied().unwrap_or(*s);
            }
            if let Some(others) = story.sources.get_mut(1..) {
                others.sort_unstable();
            }
        }
        stories
    };
    let modes = modes_in_use(config);
    let last = modes.len() - 1;
    Ok(modes
        .into_iter()
        .enumerate()
        .map(|(n, mode)| {
            // The last mode takes the entries; the others merge a copy.
            let input = if n == last { std::mem::take(&mut per_source) } else { per_source.clone() };
            Merged { mode, stories: in_config_order(dedup::merge(input, &mode).0) }
        })
        .collect())
}

/// Identifies what an output folder holds: the config parts that shape outputs, the folder, the store's
/// content version and feedmill's version.
fn build_key(config: &Config, out_dir: &Path, content_version: u64, health: &HashMap<String, Health>) -> String {
    let sources: Vec<_> =
        config.sources.iter().map(|s| (&s.name, &s.url, &s.categories, &s.title, s.publish_url)).collect();
    // index.html shows each source's health. Only what it shows counts, and the last success by its day:
    // with the time of day, every fetch would rebuild every output.
    let health: Vec<_> = config.sources.iter().map(|s| health.get(&s.name)).collect();
    let described = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{content_version}|{health:?}|{}",
        config.output,
        config.dedup,
        config.categories,
        sources,
        out_dir.display(),
        emit::GENERATOR
    );
    let digest = Sha256::digest(described.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What one configured source yields now, read as a run reads it — autodiscovery, selectors, pages,
/// article pages, filters — but with no state: nothing is read from the store or written to it.
pub struct Preview {
    pub understood: Understood,
    /// The feed the configured page advertises, when it is a page.
    pub discovered: Option<Url>,
    /// The entries kept, ids assigned, in-feed duplicates dropped.
    pub identified: dedup::Identified,
    /// What the filters dropped, and why.
    pub dropped: Vec<crate::filter::Dropped>,
}

/// Fetches and reads `source` once, unconditionally, for `feedmill parse --source`.
pub async fn preview(config: &Config, source: &crate::config::Source, now: DateTime<Utc>) -> Result<Preview, String> {
    let fetcher = Fetcher::new(config.fetch.clone()).map_err(fatal)?;
    let body = match fetcher.fetch_with(&source.location, &crate::fetch::Validators::default(), &source.request).await {
        Ok(crate::fetch::Fetched::Body(body)) => body,
        Ok(crate::fetch::Fetched::NotModified { .. }) => {
            return Err(format!("{}: 304 Not Modified to an unconditional request", source.url))
        }
        Err(e) => return Err(fatal(e)),
    };
    // No state is read: ids derive from the source's name, as they would on a first run.
    let stored = pages::Remembered { key: &source.name, known: None, listings: None, previous: None };
    let read = pages::read(&fetcher, source, &config.filters, body, &source.location, stored, now).await?;
    Ok(Preview {
        understood: read.understood,
        discovered: read.discovered,
        identified: read.identified,
        dropped: read.dropped,
    })
}

pub fn format_label(raw: &RawFeed) -> String {
    let name = serde_json::to_value(raw.format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    match &raw.version {
        Some(v) => format!("{name} {v}"),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::{EntriesUpdate, SourceUpdate};

    fn entry(source: &str, id: &str, content: &str, first_seen: DateTime<Utc>) -> Entry {
        serde_json::from_value(serde_json::json!({
            "id": id, "source": source, "url": "https://origin.kz/news/aitys", "title": "Байбек айтыс туралы",
            "summary_html": null, "content_html": content, "authors": [], "categories": [],
            "published": "2019-07-11T06:20:00Z", "updated": null, "first_seen": first_seen,
            "language": "kk", "enclosures": [], "image": null, "via": []
        }))
        .unwrap()
    }

    fn update(source: &str, entries: Vec<Entry>) -> SourceUpdate {
        SourceUpdate {
            name: source.into(),
            configured_url: format!("https://{source}.kz/rss"),
            state: SourceState::default(),
            entries: EntriesUpdate::Parsed(entries.into_iter().map(dedup::Listed::from).collect()),
            filtered: None,
        }
    }

    #[test]
    fn rules_match_the_text_a_richer_copy_brought_to_the_published_one() {
        let toml = r#"
            [categories.aitys]
            [[categories.aitys.rules]]
            include = { content = "айтыскер*" }

            [[sources]]
            name = "abai"
            url = "https://abai.kz/rss"

            [[sources]]
            name = "qazaq"
            url = "https://qazaq.kz/rss"
        "#;
        let config = Config::parse(toml, "feeds.toml", Path::new("/srv/feeds")).unwrap();
        let names = ["abai", "qazaq"];
        let (first, later) = (
            Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 11, 23, 11, 0, 0).unwrap(),
        );
        let mut store = Store::in_memory().unwrap();
        store
            .record(first, &[update("abai", vec![entry("abai", "https://abai.kz/1", "<p>Қысқа хабар.</p>", first)])])
            .unwrap();
        store.update_stories(&modes_in_use(&config), &names).unwrap();
        assert!(feeds(&config, &store).unwrap()["aitys"].is_empty());

        let rich = "<p>Қысқа хабар. Облыстық айтыскерлер Қызылордада бас қосып, айтыс өнерін қайта жандандыру жолдарын талқылады.</p>";
        store.record(later, &[update("qazaq", vec![entry("qazaq", "https://qazaq.kz/1", rich, later)])]).unwrap();
        store.update_stories(&modes_in_use(&config), &names).unwrap();
        let feeds = feeds(&config, &store).unwrap();
        let shown = &feeds["aitys"];
        assert_eq!(shown.len(), 1, "{feeds:#?}");
        assert_eq!(shown[0].id, "https://abai.kz/1", "abai's copy stays published");
        assert_eq!(shown[0].content_html.as_deref(), Some(rich), "with qazaq's text");
        assert_eq!(feeds[ALL].len(), 1);
    }
}
