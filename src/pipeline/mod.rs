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
mod error;
mod output;
mod pages;
mod read;
mod record;
mod refresh;
mod select;
mod source;
mod stories;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::Config;
use crate::decode::{self, Decoded};
use crate::dedup;
use crate::error::error_chain;
use crate::fetch::Fetcher;
use crate::model::{Entry, RawFeed};
use crate::normalize::{self, Normalized};
use crate::parse::{self, ParseError};
use crate::report::{RunReport, SourceReport};
use crate::store::{Backend, Entries, Reconciled};
pub use error::{PreviewError, ReadError, RunError};
#[cfg(test)]
pub(crate) use record::Steps;
pub use refresh::refresh_loop;
pub use select::feeds;
pub use stories::stories;

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

/// One fetched document, decoded, parsed and normalized.
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

/// Runs every step of one `feedmill run`. The report says what happened, an error that stopped the run
/// included.
pub async fn run(config: &Config, store: &mut impl Backend, opts: &RunOptions) -> RunReport {
    let mut report = RunReport::default();
    if let Err(e) = steps(config, store, opts, &mut report).await {
        report.output_error = Some(error_chain(&e));
    }
    report
}

/// The steps of a run, in order; only reading is concurrent inside. A step that fails stops the run: the
/// steps after it, the announcement included, do not run.
async fn steps(
    config: &Config,
    store: &mut impl Backend,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<(), RunError> {
    let fetcher = Arc::new(Fetcher::new(config.fetch.clone())?);
    let reconciled = read::read_and_record(&fetcher, config, store, opts, report).await?;
    retain(config, store, opts, &reconciled, report)?;
    stories::merge_stories(config, store)?;
    let changed = {
        // Held from comparing the build key to storing the files: a publisher waiting here then finds
        // the build made (same key) or builds what it recorded meanwhile.
        let mut lock = store.lock_publish()?;
        match select::select(config, store, opts, report)? {
            Some(build) => output::write(config, store, &mut lock, build, report)?,
            None => Vec::new(),
        }
    };
    announce::announce(&fetcher, config, store, changed, report).await;
    Ok(())
}

/// The step "retain": purges entries past the retention period; fills the report's entry counts.
fn retain(
    config: &Config,
    store: &mut impl Entries,
    opts: &RunOptions,
    reconciled: &HashMap<String, Reconciled>,
    report: &mut RunReport,
) -> Result<(), RunError> {
    let cutoff = opts.now - chrono::Duration::from_std(config.output.retention).unwrap_or(chrono::Duration::MAX);
    let purged = store.purge(cutoff, opts.now)?;
    if purged > 0 {
        tracing::info!("{purged} entries older than the retention period purged");
    }
    let counts = store.entry_counts()?;
    tracing::debug!("retention applied, entries counted");
    for row in &mut report.sources {
        row.new = reconciled.get(&row.name).map_or(0, |r| r.new);
        row.kept = counts.get(&row.name).copied().unwrap_or(0);
    }
    Ok(())
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
pub async fn preview(
    config: &Config,
    source: &crate::config::Source,
    now: DateTime<Utc>,
) -> Result<Preview, PreviewError> {
    let fetcher = Fetcher::new(config.fetch.clone())?;
    let fetched = fetcher.fetch_with(&source.location, &crate::fetch::Validators::default(), &source.request).await?;
    let body = match fetched {
        crate::fetch::Fetched::Body(body) => body,
        crate::fetch::Fetched::NotModified { .. } => {
            return Err(PreviewError::NotModified { url: crate::redact::url(&source.url) })
        }
    };
    // No state is read: ids derive from the source's name, as they would on a first run.
    let stored = pages::Remembered { key: &source.name, known: None, listings: None, previous: None };
    let read = pages::read(&fetcher, source, &config.filters, body, &source.location, stored, now)
        .await
        .map_err(PreviewError::Read)?;
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

    #[tokio::test]
    async fn a_preview_that_cannot_fetch_says_why_with_every_cause() {
        let dir = tempfile::tempdir().unwrap();
        let toml = "[[sources]]\nname = \"abai\"\nurl = \"gone.xml\"\n";
        let config = Config::parse(toml, "feeds.toml", dir.path()).unwrap();
        let now = Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap();
        let Err(e) = preview(&config, &config.sources[0], now).await else { panic!("a missing file was read") };
        assert!(matches!(e, PreviewError::Fetch(_)), "{e:?}");
        let shown = e.to_string();
        let io = std::fs::read(dir.path().join("gone.xml")).unwrap_err().to_string();
        assert!(shown.contains("gone.xml: cannot read") && shown.ends_with(&io), "{shown}");
    }
}
