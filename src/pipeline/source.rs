//! One source, one run: decide whether it is due, fetch it (conditionally), understand what came back,
//! and work out its new state — validators, schedule, failures, redirect evidence. Produces the report
//! row and the store update, its entries identified and signed (`pages`); how they meet the history
//! stored is decided later, when the source is recorded.
//!
//! A source whose config changed in a way that shapes its entries ([`shaping_digest`]), or that
//! `run --reparse` names, is read again whether or not its server has anything new: from the last body
//! kept in the state when there is one (no request; its schedule is left as it was), else fetched
//! without validators, so neither a 304 nor a byte-identical body can stand for it. Its entries are
//! normalized again rather than taken from the store (they were normalized under the old settings),
//! and a source that reads article pages fetches them again (their HTML is not kept).
//!
//! A 410 Gone is the one answer taken as final: the publisher says the feed is gone for good, so the
//! source is marked dead and not asked again while the config names the same URL (`run --force` asks
//! anyway, and a success revives it). Its stored entries are not touched: they stay published until
//! retention purges them, like those of any source that stopped listing them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use super::{format_label, pages, RunOptions};
use crate::config::{Source, SourceKind};
use crate::error::error_chain;
use crate::fetch::{Body, FetchErrorKind, FetchMeta, Fetched, Fetcher, Location, Validators};
use crate::filter::Filters;
use crate::model::RefreshHints;
use crate::report::{SourceReport, Status};
use crate::schedule::{self, Bounds, Signals};
use crate::store::{EntriesUpdate, Listings, RawBody, RedirectSeen, SourceState, SourceUpdate};

/// A permanent redirect is adopted once it has been seen this many times…
const REDIRECT_ADOPT_COUNT: u32 = 3;
/// …over at least this long, so a misconfigured server for an afternoon does not move a source for good.
const REDIRECT_ADOPT_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// What reading one source produced: its report row and what to remember.
pub(super) struct SourceResult {
    pub(super) report: SourceReport,
    pub(super) update: Option<SourceUpdate>,
}

/// What the run read from the store for every source before the tasks began; each source's task
/// picks what applies to it (its key and last body come with its own `SourceState`).
pub(super) struct Held<'a> {
    /// For a source that fetches article pages: the canonical URLs of its stored entries.
    pub(super) known: Option<&'a HashSet<String>>,
    /// The entries feeds listed at the last commit.
    pub(super) listings: Option<Arc<dyn Listings>>,
}

/// Runs every stage once. Never fails as a whole: problems end up in the report.
pub(super) async fn read_source(
    fetcher: &Fetcher,
    source: &Source,
    filters: &Filters,
    mut state: SourceState,
    held: Held<'_>,
    schedule: Bounds,
    opts: &RunOptions,
) -> SourceResult {
    let started = Instant::now();
    let now = opts.now;
    let mut report = SourceReport::new(&source.name, &source.url);
    let bounds = source.bounds(schedule);

    // A source whose configured URL changed starts over: old validators and redirects no longer apply.
    // It keeps its identity, and so the ids derived for its entries.
    if state.configured_url.as_deref().is_some_and(|u| u != source.url) {
        state = SourceState { source_key: state.source_key.take(), ..SourceState::default() };
    }
    let key = state.source_key.clone().unwrap_or_else(|| source.name.clone());
    let digest = shaping_digest(source, filters);
    // With no digest recorded (a store from before digests were), the source is taken to have been read
    // under the config it has now.
    let reread = opts.reparses(&source.name) || state.config_digest.as_ref().is_some_and(|d| *d != digest);
    let location = match state.url_in_use.as_deref().and_then(|u| Url::parse(u).ok()) {
        Some(url) if matches!(source.location, Location::Http(_)) => Location::Http(url),
        _ => source.location.clone(),
    };
    if !source.enabled {
        report.status = Status::Disabled;
        return SourceResult { report, update: None };
    }
    if let Some(since) = state.dead_since(&source.url).filter(|_| !opts.force) {
        report.status = Status::Dead { since };
        return SourceResult { report, update: None };
    }
    if !opts.force && !reread {
        let not_due = state.next_due(&source.url, opts.default_interval).filter(|next| *next > now);
        if let Some(next) = not_due {
            report.status = Status::Skipped { until: next };
            return SourceResult { report, update: None };
        }
        if schedule::skipped(now, &state.skip_hours, &state.skip_days) {
            report.status = Status::Skipped { until: now };
            return SourceResult { report, update: None };
        }
    }

    let kept = held.listings.clone();
    // Only a feed parsed before has entries to reuse, and only where they are what the feed normalizes
    // to: a source that fetches article pages stores their text instead, and one read again for its
    // new config must not find what the old one made.
    let listings = held.listings.filter(|_| state.body_hash.is_some() && !source.kind.fetches_articles() && !reread);
    let known = held.known.filter(|_| !reread);
    // A sitemap index's children whose `lastmod` has not moved since the index kept were read then.
    let previous = match (&source.kind, kept.as_deref()) {
        (crate::config::SourceKind::Sitemap { .. }, Some(l)) if !reread && state.body_hash.is_some() => {
            l.raw_body(&source.name).ok().flatten().and_then(|raw| raw.bytes())
        }
        _ => None,
    };
    let stored = pages::Remembered { key: &key, listings, known, previous };
    if reread {
        let body = kept.as_deref().and_then(|l| match l.raw_body(&source.name) {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!(source = %source.name, "cannot read the body kept: {}", error_chain(&e));
                None
            }
        });
        if let Some(body) = body.and_then(|raw| kept_body(&raw, &state.validators)) {
            tracing::info!(source = %source.name, "config changed: reading the body kept again");
            let mut filtered = None;
            let entries = match pages::read(fetcher, source, filters, body, &location, stored, now).await {
                Ok(read) => {
                    // No request was made: the schedule and the HTTP state stay as they were.
                    let entries = take_read(read, source, &mut report, &mut state, &mut filtered);
                    state.config_digest = Some(digest);
                    EntriesUpdate::Parsed(entries)
                }
                Err(error) => {
                    report.status = Status::Failed { error: error_chain(&error) };
                    EntriesUpdate::Unknown
                }
            };
            report.elapsed = started.elapsed();
            let update = SourceUpdate {
                name: source.name.clone(),
                configured_url: source.url.clone(),
                state,
                entries,
                filtered,
            };
            return SourceResult { report, update: Some(update) };
        }
        tracing::info!(source = %source.name, "config changed and no body kept: fetching it again");
    }
    state.last_fetch = Some(now);
    let mut entries = EntriesUpdate::Unknown;
    let mut filtered = None;
    // Read again for a new config, the source is asked for its whole body, which is parsed even if
    // it is the same as last time.
    let validators = if reread { Validators::default() } else { state.validators.clone() };
    let fetched = match (&source.kind, &location) {
        // A folder's listing is its body: an unchanged folder is "not modified" like a byte-identical feed.
        (SourceKind::Folder(rules), Location::File(dir)) => {
            crate::fetch::folder::fetch(dir, &format!("{}\t{}", rules.url_template, rules.date_from_mtime)).await
        }
        _ => fetcher.fetch_with(&location, &validators, &source.request).await,
    };
    match fetched {
        Err(e) => {
            report.http_status = match e.kind() {
                FetchErrorKind::Status { status } => Some(*status),
                _ => None,
            };
            let retry_after = match e.kind() {
                FetchErrorKind::RetryAfterTooLong { wait, .. } => Some(*wait),
                _ => None,
            };
            let message = error_chain(&e);
            state.failures += 1;
            if report.http_status == Some(410) {
                // The error already says `HTTP 410 Gone`: the status (`GONE`, then `dead`) says the rest.
                tracing::warn!(source = %source.name, "{message}; marked dead");
                state.gone_since = state.gone_since.or(Some(now));
                state.next_fetch = None;
                state.last_error = Some(message.clone());
                report.status = Status::Gone { error: message };
            } else {
                state.next_fetch =
                    Some(schedule::after_failure(now, state.failures, retry_after, bounds, fastrand::f64()));
                state.last_error = Some(message.clone());
                report.status = Status::Failed { error: message };
            }
        }
        Ok(Fetched::NotModified { validators, meta }) => {
            report.http_status = meta.status;
            report.status = Status::NotModified;
            state.validators = validators;
            note_redirect(&mut state, &meta, now);
            succeed(&mut state, now, signals(&meta, None), bounds);
            state.config_digest.get_or_insert(digest);
            entries = EntriesUpdate::Unchanged;
        }
        Ok(Fetched::Body(body)) => {
            report.http_status = body.meta.status;
            let hash = Sha256::digest(&body.bytes).to_vec();
            state.validators = body.validators.clone();
            note_redirect(&mut state, &body.meta, now);
            if !reread && state.body_hash.as_deref() == Some(hash.as_slice()) {
                // Same bytes as last time (a server without validators): nothing to parse.
                report.status = Status::NotModified;
                succeed(&mut state, now, signals(&body.meta, None), bounds);
                state.config_digest.get_or_insert(digest);
                entries = EntriesUpdate::Unchanged;
            } else {
                let meta = body.meta.clone();
                let raw = keep_body(&body).await;
                match pages::read(fetcher, source, filters, body, &location, stored, now).await {
                    Ok(read) => {
                        let hints = read.understood.raw.hints.clone();
                        entries =
                            EntriesUpdate::Parsed(take_read(read, source, &mut report, &mut state, &mut filtered));
                        state.body_hash = Some(hash);
                        state.config_digest = Some(digest);
                        state.raw = raw;
                        succeed(&mut state, now, signals(&meta, Some(&hints)), bounds);
                    }
                    Err(error) => {
                        // Redacted: messages name the page's or the feed's URL, and the source's own may be in them.
                        let error = error_chain(&error);
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
    let update =
        SourceUpdate { name: source.name.clone(), configured_url: source.url.clone(), state, entries, filtered };
    SourceResult { report, update: Some(update) }
}

/// Fills the report row and the source's state from a body read, and `filtered` with what the filters
/// dropped; returns its entries.
fn take_read(
    read: pages::Read,
    source: &Source,
    report: &mut SourceReport,
    state: &mut SourceState,
    filtered: &mut Option<Vec<crate::filter::Dropped>>,
) -> Vec<crate::dedup::Listed> {
    let pages::Read { understood: u, discovered, identified, dropped } = read;
    if let Some(feed) = discovered {
        tracing::info!(source = %source.name, feed = %crate::redact::url_of(&feed), "using the feed the page advertises");
        state.url_in_use = Some(feed.into());
    }
    report.format = Some(format_label(&u.raw));
    report.encoding = Some(u.decoded_as);
    report.entries = u.raw.entries.len();
    report.warnings = u.raw.warnings.into_iter().chain(u.normalized.warnings).collect();
    for w in &report.warnings {
        tracing::warn!(source = %source.name, "{w}");
    }
    if let Some(why) = identified.downgraded {
        tracing::info!(source = %source.name, "{why}");
        // Scraped items have no ids of their own: being known by link is normal for them.
        if !matches!(source.kind, SourceKind::Html { .. }) {
            report.warnings.push(why);
        }
    }
    report.duplicates = identified.duplicates;
    report.filtered = dropped.len();
    *filtered = Some(dropped);
    state.skip_hours = u.raw.hints.skip_hours;
    state.skip_days = u.raw.hints.skip_days;
    state.title = u.normalized.title;
    state.site_url = u.normalized.site_url;
    identified.entries
}

/// The body to keep for reading the source again, deflated on the blocking pool.
async fn keep_body(body: &Body) -> Option<RawBody> {
    let (bytes, content_type) = (body.bytes.clone(), body.content_type.clone());
    let url = body.meta.final_url.as_ref().map(Url::to_string);
    pages::blocking(move || RawBody::new(&bytes, content_type, url)).await.ok()
}

/// The body kept, as a fetch would hand it over; `None` when it cannot be read back.
fn kept_body(raw: &RawBody, validators: &Validators) -> Option<Body> {
    let bytes = raw.bytes()?;
    let final_url = raw.url.as_deref().and_then(|u| Url::parse(u).ok());
    let meta = FetchMeta {
        status: None,
        final_url,
        redirected_permanently: false,
        attempts: 0,
        elapsed: std::time::Duration::ZERO,
        cache_control_max_age: None,
        expires: None,
        date: None,
    };
    Some(Body { bytes, content_type: raw.content_type.clone(), validators: validators.clone(), meta })
}

/// What shapes a source's entries besides the bytes its server sends: every setting that changes what
/// is made of a body, and feedmill's version. When it differs from the one recorded with the source,
/// the source is read again (see the module's documentation). A new setting that shapes entries is
/// added here. Filters are read by their rules, not by where they are written (`sources[3]` moves when
/// sources are reordered).
pub(super) fn shaping_digest(source: &Source, global: &Filters) -> String {
    let shaping = format!(
        "{:?}|{:?}|{}|{:?}|{:?}|{:?}|{}|{:?}{:?}|{:?}{:?}|{}",
        source.kind,
        source.article,
        source.timezone.name(),
        source.date_format,
        source.locale,
        source.date_locale.map(crate::normalize::dates::DateLocale::code),
        source.strip_tracking,
        global.keep,
        global.block,
        source.filters.keep,
        source.filters.block,
        crate::emit::GENERATOR,
    );
    Sha256::digest(shaping.as_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn succeed(state: &mut SourceState, now: DateTime<Utc>, signals: Signals, bounds: schedule::Bounds) {
    state.last_success = Some(now);
    state.last_error = None;
    state.failures = 0;
    state.gone_since = None;
    state.next_fetch = schedule::after_success(now, signals, bounds);
}

fn signals(meta: &FetchMeta, hints: Option<&RefreshHints>) -> Signals {
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
fn note_redirect(state: &mut SourceState, meta: &FetchMeta, now: DateTime<Utc>) {
    let target = meta.final_url.as_ref().filter(|_| meta.redirected_permanently).map(Url::to_string);
    state.redirect = match (target, state.redirect.take()) {
        (Some(t), Some(seen)) if seen.target == t => Some(RedirectSeen { count: seen.count + 1, ..seen }),
        (Some(t), _) => Some(RedirectSeen { target: t, first_seen: now, count: 1 }),
        (None, _) => None,
    };
    if let Some(seen) = &state.redirect {
        if seen.count >= REDIRECT_ADOPT_COUNT && now - seen.first_seen >= REDIRECT_ADOPT_AFTER {
            tracing::info!(to = %crate::redact::url(&seen.target), "permanent redirect adopted");
            state.url_in_use = Some(seen.target.clone());
            state.redirect = None;
        }
    }
}

/// `rss 2.0`, `atom 1.0`, `json-feed 1.1`, `rdf`.
#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use FetchMeta;

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
    fn the_shaping_digest_follows_what_shapes_entries_and_nothing_else() {
        let digest = |source: &str| {
            let toml = format!("[categories.news]\n[[sources]]\n{source}");
            let config = crate::config::Config::parse(&toml, "feeds.toml", std::path::Path::new("/srv")).unwrap();
            shaping_digest(&config.sources[0], &config.filters)
        };
        let base = digest("name = \"abai\"\nurl = \"https://abai.kz/rss\"\n");
        // Name, URL, categories and schedule change no entry.
        let same =
            "name = \"abai-kz\"\nurl = \"https://abai.kz/feed\"\ncategories = [\"news\"]\nmin_interval = \"1h\"\n";
        assert_eq!(digest(same), base);
        for shaping in [
            "timezone = \"Asia/Almaty\"\n",
            "full_text = true\n",
            "[sources.html]\nitem = \".news-item\"\n",
            "[sources.html]\nitem = \".news-item\"\nlocale = \"kk\"\n",
            "full_text = true\n[sources.article]\nbody = \".post-body\"\n",
            "[[sources.filters.block]]\ntitle = [\"Жарнама*\"]\n",
        ] {
            assert_ne!(
                digest(&format!("name = \"abai\"\nurl = \"https://abai.kz/rss\"\n{shaping}")),
                base,
                "{shaping}"
            );
        }
        let toml = "[output]\nstrip_tracking = false\n[categories.news]\n[[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"\n";
        let config = crate::config::Config::parse(toml, "feeds.toml", std::path::Path::new("/srv")).unwrap();
        assert_ne!(shaping_digest(&config.sources[0], &config.filters), base, "[output] strip_tracking shapes links");
    }

    #[test]
    fn expires_is_measured_against_the_servers_date() {
        let mut meta = moved("https://a.example/", false);
        meta.expires = Some("Sat, 23 Nov 2024 11:00:00 GMT".into());
        meta.date = Some("Sat, 23 Nov 2024 10:30:00 GMT".into());
        assert_eq!(signals(&meta, None).expires, Some(std::time::Duration::from_secs(1800)));
    }
}
