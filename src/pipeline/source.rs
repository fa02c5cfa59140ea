//! One source, one run: decide whether it is due, fetch it (conditionally), understand what came back,
//! and work out its new state — validators, schedule, failures, redirect evidence. Produces the report
//! row and the store update; identity and history are decided later, for all sources together.
//!
//! A 410 Gone is the one answer taken as final: the publisher says the feed is gone for good, so the
//! source is marked dead and not asked again while the config names the same URL (`run --force` asks
//! anyway, and a success revives it). Its stored entries are not touched: they stay published until
//! retention purges them, like those of any source that stopped listing them.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use super::{format_label, pages, RunOptions};
use crate::config::{Source, SourceKind};
use crate::fetch::{FetchError, FetchMeta, Fetched, Fetcher, Location};
use crate::model::RefreshHints;
use crate::report::{error_chain, SourceReport, Status};
use crate::schedule::{self, Bounds, Signals};
use crate::store::{EntriesUpdate, RedirectSeen, SourceState, SourceUpdate};

const REDIRECT_ADOPT_COUNT: u32 = 3;
/// …over at least this long, so a misconfigured server for an afternoon does not move a source for good.
const REDIRECT_ADOPT_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// What reading one source produced: its report row and what to remember.
pub(super) struct SourceResult {
    pub(super) report: SourceReport,
    pub(super) update: Option<SourceUpdate>,
}

/// Runs every stage once. Never fails as a whole: problems end up in the report.
pub(super) async fn read_source(
    fetcher: &Fetcher,
    source: &Source,
    mut state: SourceState,
    stored: pages::Stored<'_>,
    schedule: Bounds,
    opts: &RunOptions,
) -> SourceResult {
    let started = Instant::now();
    let now = opts.now;
    let mut report = SourceReport::new(&source.name, &source.url);
    let bounds = source.bounds(schedule);

    // A source whose configured URL changed starts over: old validators and redirects no longer apply.
    if state.configured_url.as_deref().is_some_and(|u| u != source.url) {
        state = SourceState::default();
    }
    let location = match state.url_in_use.as_deref().and_then(|u| Url::parse(u).ok()) {
        Some(url) if matches!(source.location, Location::Http(_)) => Location::Http(url),
        _ => source.location.clone(),
    };
    if let Some(since) = state.dead_since(&source.url).filter(|_| !opts.force) {
        report.status = Status::Dead { since };
        return SourceResult { report, update: None };
    }
    if !opts.force {
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

    // Only a feed parsed before has entries to reuse, and only where they are what the feed normalizes
    // to: a source that fetches article pages stores their text instead.
    let listings = stored.listings.filter(|_| state.body_hash.is_some() && !source.kind.fetches_articles());
    let stored = pages::Stored { listings, ..stored };
    state.last_fetch = Some(now);
    let mut entries = EntriesUpdate::Unknown;
    let fetched = match (&source.kind, &location) {
        // A folder's listing is its body: an unchanged folder is "not modified" like a byte-identical feed.
        (SourceKind::Folder(rules), Location::File(dir)) => {
            crate::fetch::folder::fetch(dir, &format!("{}\t{}", rules.url_template, rules.date_from_mtime)).await
        }
        _ => fetcher.fetch(&location, &state.validators).await,
    };
    match fetched {
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
            if report.http_status == Some(410) {
                let message = format!("gone (HTTP 410): {message}");
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
                let meta = body.meta.clone();
                match pages::read(fetcher, source, body, &location, stored, now).await {
                    Ok(pages::Read { understood: u, discovered, identified }) => {
                        if let Some(feed) = discovered {
                            tracing::info!(source = %source.name, %feed, "using the feed the page advertises");
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
                            report.warnings.push(why);
                        }
                        report.duplicates = identified.duplicates;
                        let hints = &u.raw.hints;
                        state.skip_hours = hints.skip_hours.clone();
                        state.skip_days = hints.skip_days.clone();
                        state.title = u.normalized.title;
                        state.site_url = u.normalized.site_url;
                        state.body_hash = Some(hash);
                        succeed(&mut state, now, signals(&meta, Some(hints)), bounds);
                        entries = EntriesUpdate::Parsed(identified.entries);
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
    SourceResult { report, update: Some(update) }
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
            tracing::info!(to = %seen.target, "permanent redirect adopted");
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
    fn expires_is_measured_against_the_servers_date() {
        let mut meta = moved("https://a.example/", false);
        meta.expires = Some("Sat, 23 Nov 2024 11:00:00 GMT".into());
        meta.date = Some("Sat, 23 Nov 2024 10:30:00 GMT".into());
        assert_eq!(signals(&meta, None).expires, Some(std::time::Duration::from_secs(1800)));
    }
}
