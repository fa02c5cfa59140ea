//! The pipeline: runs the stages in order for one `feedmill run`.
//!
//! ```text
//! config ─▶ fetch ─▶ decode ─▶ parse ─▶ normalize ─▶ dedup ─▶ categorize ─▶ emit ─▶ output/
//! ```
//!
//! Concurrency lives in exactly one place: sources go through one `buffer_unordered(concurrency)`; each
//! source is fetched on the async runtime and then understood (decode + parse + normalize, pure CPU
//! work) on the blocking pool, so a large feed never stalls the fetches of the others. Everything after
//! that is sequential and deterministic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use url::Url;

use sha2::{Digest, Sha256};

use crate::config::{Config, Source, ALL};
use crate::decode::{self, Decoded};
use crate::dedup::{self, Story};
use crate::emit::{self, write::WriteOutcome, CategoryRef, FeedDoc, FeedUrls, SiteDoc, SourceRef};
use crate::fetch::{Body, FetchError, Fetched, Fetcher, Location};
use crate::model::{Entry, RawFeed};
use crate::normalize::{self, Normalized};
use crate::parse::{self, ParseError};
use crate::report::{error_chain, RunReport, SourceReport, Status};
use crate::schedule::{self, Signals};
use crate::store::{EntriesUpdate, RedirectSeen, SourceState, SourceUpdate, Store};

/// What the caller decides about a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides `[output] dir`.
    pub output_dir: Option<PathBuf>,
    /// The run's clock: first-seen time of new entries and "now" for relative dates and scheduling.
    pub now: DateTime<Utc>,
    /// Fetch every source, due or not.
    pub force: bool,
    /// For `watch`: a source with no schedule of its own is due this long after its last fetch (a
    /// single `run` leaves it `None`: such sources are always due).
    pub default_interval: Option<std::time::Duration>,
    /// Called once per source as it finishes (drives the progress bar).
    pub on_source_done: Option<fn(&SourceReport)>,
}

/// A permanent redirect is adopted once it has been seen this many times…
const REDIRECT_ADOPT_COUNT: u32 = 3;
/// …over at least this long, so a misconfigured server for an afternoon does not move a source for good.
const REDIRECT_ADOPT_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// A document understood: decoded, parsed and normalized.
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
    let Decoded { text, encoding, decided_by, .. } = decode::decode(bytes, content_type);
    tracing::debug!(source = cx.source, encoding = encoding.name(), by = %decided_by, "decoded");
    let raw = parse::parse(&text)?;
    let normalized = normalize::feed(&raw, &normalize::Context { doc_url, ..cx.clone() });
    Ok(Understood { decoded_as: format!("{} ({decided_by})", encoding.name()), raw, normalized })
}

/// What reading one source produced: its report row and what to remember.
struct SourceResult {
    report: SourceReport,
    update: Option<SourceUpdate>,
    normalized: Option<Normalized>,
}

/// Runs every stage once. Never fails as a whole: problems end up in the report.
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
    let fetcher = Fetcher::new(config.fetch.clone()).map_err(fatal)?;
    let states = store.sources().map_err(fatal)?;
    let results = read_all(&fetcher, config, &states, opts).await;
    let updates = identify_all(config, results, report);
    remember(config, store, opts, &updates, report)?;
    publish(config, store, opts, report)
}

/// Fetch → decode → parse → normalize every source, `concurrency` at a time; results in config order.
async fn read_all(
    fetcher: &Fetcher,
    config: &Config,
    states: &HashMap<String, SourceState>,
    opts: &RunOptions,
) -> Vec<SourceResult> {
    let mut results: Vec<(usize, SourceResult)> = stream::iter(config.sources.iter().enumerate())
        .map(|(i, source)| async move {
            let state = states.get(&source.name).cloned().unwrap_or_default();
            (i, read_source(fetcher, source, state, config, opts).await)
        })
        .buffer_unordered(config.concurrency)
        .inspect(|(_, r)| {
            if let Some(f) = opts.on_source_done {
                f(&r.report);
            }
        })
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Assigns ids (and drops in-feed duplicates) for every parsed source; fills the report's rows.
fn identify_all(config: &Config, results: Vec<SourceResult>, report: &mut RunReport) -> Vec<SourceUpdate> {
    let mut updates = Vec::new();
    for (source, result) in config.sources.iter().zip(results) {
        let mut row = result.report;
        let mut update = result.update;
        if let (Some(n), Some(u)) = (result.normalized, update.as_mut()) {
            let identified = dedup::identify(&source.name, n.candidates);
            if let Some(why) = &identified.downgraded {
                tracing::info!(source = %source.name, "{why}");
                row.warnings.push(why.clone());
            }
            row.duplicates = identified.duplicates;
            u.entries = EntriesUpdate::Parsed(identified.entries);
        }
        report.sources.push(row);
        updates.extend(update);
    }
    updates
}

/// Writes the run into the store (one transaction), then purges entries past the retention period.
fn remember(
    config: &Config,
    store: &mut Store,
    opts: &RunOptions,
    updates: &[SourceUpdate],
    report: &mut RunReport,
) -> Result<(), String> {
    let reconciled = store.record(opts.now, updates).map_err(fatal)?;
    let cutoff = opts.now - chrono::Duration::from_std(config.output.retention).unwrap_or(chrono::Duration::MAX);
    let purged = store.purge(cutoff, opts.now).map_err(fatal)?;
    if purged > 0 {
        tracing::info!("{purged} entries older than the retention period purged");
    }
    let counts = store.entry_counts().map_err(fatal)?;
    for row in &mut report.sources {
        row.new = reconciled.get(&row.name).map_or(0, |r| r.new);
        row.kept = counts.get(&row.name).copied().unwrap_or(0);
    }
    Ok(())
}

/// Builds the outputs from every stored entry: dedup across sources, categorize, emit, write.
fn publish(config: &Config, store: &Store, opts: &RunOptions, report: &mut RunReport) -> Result<(), String> {
    // Outputs are a function of the stored entries and the config: when neither changed since the last
    // build into this folder, there is nothing to render and nothing to compare.
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| config.output.dir.clone());
    let build_key = build_key(config, &out_dir, store.content_version().map_err(fatal)?);
    let meta_key = format!("outputs:{}", out_dir.display());
    if store.meta(&meta_key).map_err(fatal)?.as_deref() == Some(build_key.as_str())
        && out_dir.join("index.html").is_file()
    {
        report.outputs_current = true;
        return Ok(());
    }

    let position: HashMap<&str, usize> = config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let mut per_source: Vec<(usize, Vec<Entry>)> = (0..config.sources.len()).map(|i| (i, Vec::new())).collect();
    for s in store.entries(&names).map_err(fatal)? {
        if let Some(&i) = position.get(s.entry.source.as_str()) {
            per_source[i].1.push(s.entry);
        }
    }
    let (stories, folded) = dedup::merge(per_source);
    for (row, n) in report.sources.iter_mut().zip(folded) {
        row.duplicates += n;
    }
    if stories.is_empty() && report.sources.iter().all(SourceReport::failed) {
        // Writing now would replace whatever was published with empty feeds.
        tracing::error!("no source could be read and nothing is stored; outputs left as they were");
        return Ok(());
    }
    let states = store.sources().map_err(fatal)?;
    let feed_info: Vec<(Option<String>, Option<String>)> = config
        .sources
        .iter()
        .map(|s| states.get(&s.name).map(|st| (st.title.clone(), st.site_url.clone())).unwrap_or_default())
        .collect();
    write_outputs(config, &out_dir, &stories, &feed_info, report)?;
    if let Err(e) = store.set_meta(&meta_key, &build_key) {
        // Harmless: the next run rebuilds and finds every file unchanged.
        tracing::warn!("cannot record the output build: {}", error_chain(&e));
    }
    Ok(())
}

/// Identifies what an output folder holds: the config parts that shape outputs, the folder, the store's
/// content version and feedmill's version.
fn build_key(config: &Config, out_dir: &Path, content_version: u64) -> String {
    let sources: Vec<_> = config.sources.iter().map(|s| (&s.name, &s.url, &s.categories)).collect();
    let described = format!(
        "{:?}|{:?}|{:?}|{}|{content_version}|{}",
        config.output,
        config.categories,
        sources,
        out_dir.display(),
        emit::GENERATOR
    );
    let digest = Sha256::digest(described.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn read_source(
    fetcher: &Fetcher,
    source: &Source,
    mut state: SourceState,
    config: &Config,
    opts: &RunOptions,
) -> SourceResult {
    let started = Instant::now();
    let now = opts.now;
    let mut report = SourceReport::new(&source.name, &source.url);
    let bounds = source.bounds(config.schedule);

    // A source whose configured URL changed starts over: old validators and redirects no longer apply.
    if state.configured_url.as_deref().is_some_and(|u| u != source.url) {
        state = SourceState::default();
    }
    let location = match state.url_in_use.as_deref().and_then(|u| Url::parse(u).ok()) {
        Some(url) if matches!(source.location, Location::Http(_)) => Location::Http(url),
        _ => source.location.clone(),
    };
    if !opts.force {
        let default_due = || Some(state.last_fetch? + opts.default_interval?);
        let not_due = state.next_fetch.or_else(default_due).filter(|next| *next > now);
        if let Some(next) = not_due {
            report.status = Status::Skipped { until: next };
            return SourceResult { report, update: None, normalized: None };
        }
        if schedule::skipped(now, &state.skip_hours, &state.skip_days) {
            report.status = Status::Skipped { until: now };
            return SourceResult { report, update: None, normalized: None };
        }
    }

    state.last_fetch = Some(now);
    let mut normalized = None;
    let mut entries = EntriesUpdate::Unknown;
    match fetcher.fetch(&location, &state.validators).await {
        Err(e) => {
            report.http_status = match &e {
                FetchError::Status { status, .. } => Some(*status),
                _ => None,
            };
            let retry_after = match &e {
                FetchError::RetryAfterTooLong { wait, .. } => Some(*wait),
                _ => None,
            };
            let message = error_chain(&e);
            state.failures += 1;
            state.next_fetch = Some(schedule::after_failure(now, state.failures, retry_after, bounds, fastrand::f64()));
            state.last_error = Some(message.clone());
            report.status = Status::Failed { error: message };
        }
        Ok(Fetched::NotModified { validators, meta }) => {
            report.http_status = meta.status;
            report.status = Status::NotModified;
            state.validators = validators;
            note_redirect(&mut state, &meta, now);
            succeed(&mut state, now, signals(&meta, None), bounds);
            entries = EntriesUpdate::Unchanged;
        }
        Ok(Fetched::Body(body)) => {
            report.http_status = body.meta.status;
            let hash = Sha256::digest(&body.bytes).to_vec();
            state.validators = body.validators.clone();
            note_redirect(&mut state, &body.meta, now);
            if state.body_hash.as_deref() == Some(hash.as_slice()) {
                // Same bytes as last time (a server without validators): nothing to parse.
                report.status = Status::NotModified;
                succeed(&mut state, now, signals(&body.meta, None), bounds);
                entries = EntriesUpdate::Unchanged;
            } else {
                let doc_url = match &location {
                    Location::Http(url) => Some(body.meta.final_url.clone().unwrap_or_else(|| url.clone())),
                    Location::File(path) => Url::from_file_path(path).ok(),
                };
                let (name, tz, meta) = (source.name.clone(), source.timezone, body.meta.clone());
                let job = tokio::task::spawn_blocking(move || understand_body(&body, doc_url.as_ref(), &name, tz, now));
                let outcome = match job.await {
                    Ok(r) => r.map_err(|e| error_chain(&e)),
                    Err(e) => Err(format!("parser crashed: {e}")),
                };
                match outcome {
                    Ok(u) => {
                        report.format = Some(format_label(&u.raw));
                        report.encoding = Some(u.decoded_as);
                        report.entries = u.raw.entries.len();
                        report.warnings =
                            u.raw.warnings.into_iter().chain(u.normalized.warnings.iter().cloned()).collect();
                        for w in &report.warnings {
                            tracing::warn!(source = %source.name, "{w}");
                        }
                        let hints = &u.raw.hints;
                        state.skip_hours = hints.skip_hours.clone();
                        state.skip_days = hints.skip_days.clone();
                        state.title = u.normalized.title.clone();
                        state.site_url = u.normalized.site_url.clone();
                        state.body_hash = Some(hash);
                        succeed(&mut state, now, signals(&meta, Some(hints)), bounds);
                        normalized = Some(u.normalized);
                        // Filled in by `run` once ids are assigned.
                        entries = EntriesUpdate::Parsed(Vec::new());
                    }
                    Err(error) => {
                        state.failures += 1;
                        state.next_fetch =
                            Some(schedule::after_failure(now, state.failures, None, bounds, fastrand::f64()));
                        state.last_error = Some(error.clone());
                        report.status = Status::Failed { error };
                    }
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    let update = SourceUpdate { name: source.name.clone(), configured_url: source.url.clone(), state, entries };
    SourceResult { report, update: Some(update), normalized }
}

fn succeed(state: &mut SourceState, now: DateTime<Utc>, signals: Signals, bounds: schedule::Bounds) {
    state.last_success = Some(now);
    state.last_error = None;
    state.failures = 0;
    state.next_fetch = schedule::after_success(now, signals, bounds);
}

fn signals(meta: &crate::fetch::FetchMeta, hints: Option<&crate::model::RefreshHints>) -> Signals {
    let expires = meta.expires.as_deref().zip(meta.date.as_deref()).and_then(|(expires, date)| {
        let e = DateTime::parse_from_rfc2822(expires).ok()?;
        let d = DateTime::parse_from_rfc2822(date).ok()?;
        (e - d).to_std().ok()
    });
    Signals {
        ttl: hints.and_then(|h| h.ttl_minutes).map(|m| std::time::Duration::from_secs(u64::from(m) * 60)),
        syndication: hints.and_then(|h| schedule::syndication_interval(h.update_period.as_deref(), h.update_frequency)),
        max_age: meta.cache_control_max_age,
        expires,
    }
}

/// Records a permanent redirect and adopts its target once the evidence is consistent: the same target
/// seen `REDIRECT_ADOPT_COUNT` times over at least `REDIRECT_ADOPT_AFTER`. Anything else resets it.
fn note_redirect(state: &mut SourceState, meta: &crate::fetch::FetchMeta, now: DateTime<Utc>) {
    let target = meta.final_url.as_ref().filter(|_| meta.redirected_permanently).map(Url::to_string);
    state.redirect = match (target, state.redirect.take()) {
        (Some(t), Some(seen)) if seen.target == t => Some(RedirectSeen { count: seen.count + 1, ..seen }),
        (Some(t), _) => Some(RedirectSeen { target: t, first_seen: now, count: 1 }),
        (None, _) => None,
    };
    if let Some(seen) = &state.redirect {
        if seen.count >= REDIRECT_ADOPT_COUNT && now - seen.first_seen >= REDIRECT_ADOPT_AFTER {
            tracing::info!(to = %seen.target, "permanent redirect adopted");
            state.url_in_use = Some(seen.target.clone());
            state.redirect = None;
        }
    }
}

fn understand_body(
    body: &Body,
    doc_url: Option<&Url>,
    source: &str,
    timezone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Understood, ParseError> {
    let cx = normalize::Context { source, doc_url, timezone, now };
    understand(&body.bytes, body.content_type.as_deref(), doc_url, &cx)
}

/// `rss 2.0`, `atom 1.0`, `json-feed 1.1`, `rdf`.
pub fn format_label(raw: &RawFeed) -> String {
    let name = serde_json::to_value(raw.format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    match &raw.version {
        Some(v) => format!("{name} {v}"),
        None => name,
    }
}

fn write_outputs(
    config: &Config,
    out_dir: &Path,
    stories: &[Story],
    feed_info: &[(Option<String>, Option<String>)],
    report: &mut RunReport,
) -> Result<(), String> {
    let slugs: Vec<&str> = config.categories.iter().map(|c| c.slug.as_str()).collect();
    let feeds = crate::categorize::categorize(stories, &config.sources, &slugs, config.output.max_items);
    let mut write = |path: PathBuf, bytes: String| -> Result<(), String> {
        match emit::write::write_if_changed(&path, bytes.as_bytes()) {
            Ok(WriteOutcome::Written) => report.files_written += 1,
            Ok(WriteOutcome::Unchanged) => report.files_unchanged += 1,
            Err(e) => return Err(error_chain(&e)),
        }
        Ok(())
    };

    let mut categories = Vec::new();
    let mut newest = DateTime::<Utc>::UNIX_EPOCH;
    for (slug, entries) in &feeds {
        let (title, description) = match config.category(slug) {
            Some(c) => (c.title.as_str(), c.description.as_deref()),
            None => (config.output.title.as_str(), config.output.description.as_deref()),
        };
        let urls = config.output.base_url.as_ref().map(|base| FeedUrls {
            rss: join(base, &format!("{slug}/rss.xml")),
            atom: join(base, &format!("{slug}/atom.xml")),
            json: join(base, &format!("{slug}/feed.json")),
        });
        let id = match &urls {
            Some(u) => u.atom.clone(),
            None => format!("urn:feedmill:feed:{slug}"),
        };
        let updated = entries.iter().map(Entry::last_modified).max().unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        newest = newest.max(updated);
        let language = config.output.language.clone().or_else(|| common_language(entries));
        let doc = FeedDoc {
            slug,
            title,
            description,
            home_url: config.output.base_url.as_ref().map(Url::as_str),
            urls: urls.as_ref(),
            language: language.as_deref(),
            updated,
            id: &id,
            entries,
        };
        let dir = out_dir.join(slug);
        write(dir.join("rss.xml"), emit::rss::render(&doc))?;
        write(dir.join("atom.xml"), emit::atom::render(&doc))?;
        write(dir.join("feed.json"), emit::json_feed::render(&doc))?;

        let sources = config
            .sources
            .iter()
            .zip(feed_info)
            .filter(|(s, _)| slug == ALL || s.categories.iter().any(|c| c == slug))
            .map(|(s, (title, site))| SourceRef {
                name: s.name.clone(),
                title: title.clone(),
                feed_url: s.url.clone(),
                site_url: site.clone(),
            })
            .collect();
        categories.push(CategoryRef {
            slug: slug.clone(),
            title: title.to_owned(),
            description: description.map(str::to_owned),
            rss_path: format!("{slug}/rss.xml"),
            atom_path: format!("{slug}/atom.xml"),
            json_path: format!("{slug}/feed.json"),
            entry_count: entries.len(),
            sources,
        });
    }
    // `all` first, then the categories in slug order (the BTreeMap already sorted them).
    categories.sort_by_key(|c| c.slug != ALL);
    let site = SiteDoc {
        title: &config.output.title,
        description: config.output.description.as_deref(),
        categories: &categories,
        updated: newest,
    };
    write(out_dir.join("index.html"), emit::index_html::render(&site))?;
    write(out_dir.join("sources.opml"), emit::opml::render(&site))?;
    Ok(())
}

fn join(base: &Url, path: &str) -> String {
    base.join(path).map_or_else(|_| format!("{base}{path}"), String::from)
}

/// The language every entry shares, if they all state the same one.
fn common_language(entries: &[Entry]) -> Option<String> {
    let first = entries.first()?.language.as_ref()?;
    entries.iter().all(|e| e.language.as_ref() == Some(first)).then(|| first.clone())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::fetch::FetchMeta;

    fn moved(to: &str, permanent: bool) -> FetchMeta {
        FetchMeta {
            status: Some(200),
            final_url: Some(Url::parse(to).unwrap()),
            redirected_permanently: permanent,
            attempts: 1,
            elapsed: Default::default(),
            cache_control_max_age: None,
            expires: None,
            date: None,
        }
    }

    #[test]
    fn a_permanent_redirect_is_adopted_after_three_sightings_over_a_day() {
        let t = |h: i64| Utc.with_ymd_and_hms(2024, 11, 23, 0, 0, 0).unwrap() + chrono::Duration::hours(h);
        let mut state = SourceState::default();
        let to = "https://new.abai.kz/rss";
        for h in [0, 1, 2] {
            note_redirect(&mut state, &moved(to, true), t(h));
        }
        assert_eq!(state.url_in_use, None, "three sightings within two hours are not enough");
        note_redirect(&mut state, &moved(to, true), t(25));
        assert_eq!(state.url_in_use.as_deref(), Some(to));
        assert_eq!(state.redirect, None);
    }

    #[test]
    fn a_temporary_redirect_or_a_new_target_resets_the_evidence() {
        let t = |h: i64| Utc.with_ymd_and_hms(2024, 11, 23, 0, 0, 0).unwrap() + chrono::Duration::hours(h);
        let mut state = SourceState::default();
        note_redirect(&mut state, &moved("https://a.example/rss", true), t(0));
        note_redirect(&mut state, &moved("https://a.example/rss", true), t(10));
        note_redirect(&mut state, &moved("https://a.example/rss", false), t(20));
        assert_eq!(state.redirect, None);
        note_redirect(&mut state, &moved("https://a.example/rss", true), t(30));
        note_redirect(&mut state, &moved("https://b.example/rss", true), t(60));
        assert_eq!(state.redirect.as_ref().map(|r| (r.target.as_str(), r.count)), Some(("https://b.example/rss", 1)));
        assert_eq!(state.url_in_use, None);
    }

    #[test]
    fn expires_is_measured_against_the_servers_date() {
        let mut meta = moved("https://a.example/", false);
        meta.expires = Some("Sat, 23 Nov 2024 11:00:00 GMT".into());
        meta.date = Some("Sat, 23 Nov 2024 10:30:00 GMT".into());
        assert_eq!(signals(&meta, None).expires, Some(std::time::Duration::from_secs(1800)));
    }
}
