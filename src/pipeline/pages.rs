//! Reading a source: what turns its fetched body into identified entries, whatever its kind. A feed is
//! parsed as it is; the rest of this module is for what is not simply a feed.
//!
//! - A feed source whose URL serves an HTML page that advertises a feed (`<link rel="alternate">`)
//!   reads that feed instead (autodiscovery); the caller remembers it as the URL in use.
//! - An `html` source's listing page is read with its selectors, following the `next` link for up to
//!   `pages` pages.
//! - A `folder` source's articles are read from disk (`fetch::folder`) and turned into entries
//!   (`parse::folder`); the body that reached here is only the folder's listing.
//! - A `sitemap` source's sitemap is read for its pages (`parse::sitemap`); an index's child sitemaps
//!   are fetched, newest first, at most `max_sitemaps` per run, nested indexes included; a child the
//!   index kept from the last run listed with the same `lastmod` is not fetched again.
//! - With `follow` (html, sitemap) or `full_text` (feeds), the page of every entry the store does not
//!   know yet is fetched and its text extracted — at most [`MAX_ARTICLES`] per source and run, through
//!   the shared fetcher so the per-host limit holds. Entries already stored keep the text fetched the
//!   first time (see `dedup::history`), so each page is fetched once.
//!
//! - The entries of a changed feed or listing page that the store holds from the same raw entry
//!   (`normalize::RawDigest`) are taken from the store instead of normalized again, read through
//!   [`Listings`] on the blocking pool. Not for sources that fetch article pages: their stored text is
//!   not what the feed or page normalizes to.
//!
//! HTML parsing is CPU work: it runs on the blocking pool, like feed parsing. What could not be read is
//! a [`ReadError`] naming the document; a page that failed among others (a listing's next page, a child
//! sitemap, an article page) is only a warning.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use url::Url;

use super::error::ReadError;
use super::{understand_reusing, Understood};
use crate::config::{FolderRules, SitemapRules, Source, SourceKind};
use crate::decode;
use crate::dedup::{self, Identified};
use crate::error::error_chain;
use crate::extract::{self, ListingRules, PageContext};
use crate::fetch::{self, Body, Fetched, Fetcher, Location, Validators};
use crate::filter::{self, Dropped, Filters};
use crate::model::{Entry, FeedFormat, Person, RawFeed, Text};
use crate::normalize::dates::DateLocale;
use crate::normalize::{self, html::sanitize, urls, Candidate, RawDigest};
use crate::parse::{folder, sitemap, ParseError};
use crate::store::Listings;

/// Article pages fetched per source and run, so a first run over a big archive stays polite.
pub const MAX_ARTICLES: usize = 100;

/// A source's body, understood, and its entries identified.
pub(super) struct Read {
    /// What was decoded, parsed and normalized; its candidates have moved into `identified`.
    pub understood: Understood,
    /// The feed a page advertised, when the configured URL was a page.
    pub discovered: Option<Url>,
    pub identified: Identified,
    /// The entries `[filters]` dropped before identification.
    pub dropped: Vec<Dropped>,
}

/// What the store knew of a source when the run began.
pub(super) struct Remembered<'a> {
    /// The source's stable key, assigned at first sight: the ids derived for its entries start with it,
    /// so they stay when the source is renamed.
    pub(super) key: &'a str,
    /// For a source that fetches article pages: the canonical URLs of its stored entries.
    pub(super) known: Option<&'a HashSet<String>>,
    /// The entries feeds listed at the last commit, to reuse those a changed feed still lists unchanged.
    pub(super) listings: Option<Arc<dyn Listings>>,
    /// For a sitemap source: the body read last time, to tell which child sitemaps changed since.
    pub(super) previous: Option<Vec<u8>>,
}

/// Decodes, parses and normalizes a source's body according to its kind, fetches article pages when
/// the source asks for full text, drops what the filters (`global`, then the source's) reject, then
/// identifies (and signs) the entries.
pub(super) async fn read(
    fetcher: &Fetcher,
    source: &Source,
    global: &Filters,
    body: Body,
    location: &Location,
    Remembered { key, known, listings, previous }: Remembered<'_>,
    now: DateTime<Utc>,
) -> Result<Read, ReadError> {
    let doc_url = match location {
        // Relative links resolve against it: the source's credentials must not end up in them.
        Location::Http(url) => Some(crate::redact::public_base(body.meta.final_url.as_ref().unwrap_or(url))),
        Location::File(path) => Url::from_file_path(path).ok(),
    };
    let (mut understood, discovered) = match &source.kind {
        SourceKind::Feed { .. } => read_feed(fetcher, source, body, doc_url, listings, now).await?,
        SourceKind::Html { listing, pages, .. } => {
            let url = doc_url.ok_or(ReadError::HtmlNeedsUrl)?;
            let first = FirstPage { listing, pages: *pages, body, url };
            (read_listing(fetcher, source, first, listings, now).await?, None)
        }
        SourceKind::Folder(rules) => {
            let Location::File(dir) = location else {
                return Err(ReadError::NeedsFolder);
            };
            let limit = fetcher.settings().max_body_bytes;
            (read_folder(source, rules, dir, limit, listings, now).await?, None)
        }
        SourceKind::Sitemap { rules, .. } => {
            let url = doc_url.ok_or(ReadError::SitemapNeedsUrl)?;
            (read_sitemap(fetcher, source, rules, body, previous, url, listings, now).await?, None)
        }
    };
    let normalized = &mut understood.normalized;
    // Before article pages are fetched: a dropped entry's page is not worth a request. Matching folds
    // every entry's text: CPU work, on the blocking pool, and only for a source with rules to apply.
    let mut dropped = Vec::new();
    if !(global.is_empty() && source.filters.is_empty()) {
        let (levels, candidates) =
            ([global.clone(), source.filters.clone()], std::mem::take(&mut normalized.candidates));
        let (kept, filtered) =
            blocking(move || filter::apply(&[&levels[0], &levels[1]], candidates, |c| &c.entry, |c| c.guid.clone()))
                .await?;
        (normalized.candidates, dropped) = (kept, filtered);
    }
    if source.kind.fetches_articles() {
        for c in &mut normalized.candidates {
            c.digest = None;
        }
        let warnings = fill_from_articles(fetcher, source, &mut normalized.candidates, known, now).await;
        normalized.warnings.extend(warnings);
        if matches!(source.kind, SourceKind::Sitemap { .. }) {
            // A page that gave no date of its own (or was not fetched) is dated by its `lastmod`.
            for c in normalized.candidates.iter_mut().filter(|c| c.entry.published.is_none()) {
                c.entry.published = c.entry.updated;
            }
        }
    }
    // Identifying and signing read each entry's text again: CPU work, done here beside the other
    // sources' rather than by the run's one writer.
    // By the source's key, not its name: a renamed source's derived ids stay.
    let (key, candidates) = (key.to_owned(), std::mem::take(&mut normalized.candidates));
    let identified = blocking(move || {
        let mut identified = dedup::identify(&key, candidates);
        identified.sign();
        identified
    })
    .await?;
    Ok(Read { understood, discovered, identified, dropped })
}

async fn read_feed(
    fetcher: &Fetcher,
    source: &Source,
    body: Body,
    doc_url: Option<Url>,
    listings: Option<Arc<dyn Listings>>,
    now: DateTime<Utc>,
) -> Result<(Understood, Option<Url>), ReadError> {
    let cx = Owned {
        source: source.name.clone(),
        tz: source.timezone,
        now,
        listings,
        strip_tracking: source.strip_tracking,
        locale: source.date_locale,
    };
    let first = blocking({
        let (cx, doc_url) = (cx.clone(), doc_url.clone());
        move || cx.understand(&body.bytes, body.content_type.as_deref(), doc_url.as_ref())
    })
    .await?;
    let (not_a_feed, page) = match first {
        Ok(understood) => return Ok((understood, None)),
        Err((e @ ParseError::NotAFeed { .. }, Some(page))) => (e, page),
        // Named like a fetch error (`URL: …`): "the document is empty" alone says not which document.
        Err((e, _)) => {
            let at = doc_url.as_ref().map_or_else(|| source.url.clone(), Url::to_string);
            return Err(ReadError::Parse { at, source: e });
        }
    };
    let is_html = matches!(&not_a_feed, ParseError::NotAFeed { found } if found == "an HTML page");
    let Some(page_url) = doc_url else {
        return Err(if is_html { ReadError::LocalPage } else { ReadError::Unreadable(not_a_feed) });
    };
    let advertised = extract::discover(&page, &page_url);
    let Some(feed) = advertised.into_iter().next().map(|a| a.url) else {
        // A document cut short (a lying Content-Length) or plain text is no page: say what it is.
        return Err(if is_html {
            ReadError::NoFeedAdvertised { page: page_url.to_string() }
        } else {
            ReadError::Parse { at: page_url.to_string(), source: not_a_feed }
        });
    };
    let body = match fetcher.fetch_with(&Location::Http(feed.clone()), &Validators::default(), &source.request).await {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::NotModified { .. }) => return Err(ReadError::NotModified { url: feed.to_string() }),
        Err(e) => return Err(ReadError::AdvertisedFetch { page: page_url.to_string(), source: Box::new(e) }),
    };
    let doc = crate::redact::public_base(body.meta.final_url.as_ref().unwrap_or(&feed));
    let (page, at) = (page_url.to_string(), feed.to_string());
    let understood = blocking(move || cx.understand(&body.bytes, body.content_type.as_deref(), Some(&doc)))
        .await?
        .map_err(|(source, _)| ReadError::AdvertisedParse { page, feed: at, source })?;
    Ok((understood, Some(feed)))
}

/// An html source's first listing page, with what reads it and the pages after it.
struct FirstPage<'a> {
    listing: &'a ListingRules,
    /// How many pages to read at most, following `next`.
    pages: usize,
    body: Body,
    url: Url,
}

async fn read_listing(
    fetcher: &Fetcher,
    source: &Source,
    FirstPage { listing, pages, body, url }: FirstPage<'_>,
    listings: Option<Arc<dyn Listings>>,
    now: DateTime<Utc>,
) -> Result<Understood, ReadError> {
    let mut raw = RawFeed { link: Some(url.to_string()), ..crate::parse::empty_feed(FeedFormat::Html) };
    let mut decoded_as = String::new();
    let (mut body, mut page_url) = (body, url.clone());
    for page in 1..=pages {
        let decoded = decode::decode(&body.bytes, body.content_type.as_deref());
        if page == 1 {
            decoded_as = format!("{} ({})", decoded.encoding.name(), decoded.decided_by);
        }
        let (rules, tz, format, locale, date_locale, at) = (
            listing.clone(),
            source.timezone,
            source.date_format.clone(),
            source.locale,
            source.date_locale,
            page_url.clone(),
        );
        let found = blocking(move || {
            let cx = PageContext { url: &at, tz, now, locale, date_locale, date_format: format.as_ref() };
            extract::listing(&decoded.text, &rules, &cx)
        })
        .await?;
        let seen: HashSet<Option<String>> = raw.entries.iter().map(|e| e.link.clone()).collect();
        raw.entries.extend(found.entries.into_iter().filter(|e| !seen.contains(&e.link)));
        raw.warnings.extend(found.warnings.into_iter().map(|w| format!("page {page}: {w}")));
        let Some(next) = found.next_page.filter(|_| page < pages) else { break };
        match fetcher.fetch_with(&Location::Http(next.clone()), &Validators::default(), &source.request).await {
            Ok(Fetched::Body(b)) => (body, page_url) = (b, next),
            Ok(Fetched::NotModified { .. }) => break,
            Err(e) => {
                raw.warnings.push(format!("page {}: {}", page + 1, error_chain(&e)));
                break;
            }
        }
    }
    if raw.entries.is_empty() {
        return Err(ReadError::NoStory { url: url.to_string() });
    }
    let (name, tz, strip_tracking, locale) =
        (source.name.clone(), source.timezone, source.strip_tracking, source.date_locale);
    let (raw, normalized) = blocking(move || {
        let cx = normalize::Context { source: &name, doc_url: Some(&url), timezone: tz, now, strip_tracking, locale };
        let normalized = normalize::feed_reusing(&raw, &cx, |d| stored_entries(listings.as_deref(), &name, d));
        (raw, normalized)
    })
    .await?;
    Ok(Understood { decoded_as, raw, normalized })
}

/// Reads a folder source's articles (the listing body only told that something changed) and normalizes
/// them, reusing the stored entries of files that did not change.
async fn read_folder(
    source: &Source,
    rules: &FolderRules,
    dir: &Path,
    limit: u64,
    listings: Option<Arc<dyn Listings>>,
    now: DateTime<Utc>,
) -> Result<Understood, ReadError> {
    let (rules, dir, name, tz, strip_tracking, locale) = (
        rules.clone(),
        dir.to_owned(),
        source.name.clone(),
        source.timezone,
        source.strip_tracking,
        source.date_locale,
    );
    blocking(move || {
        let files = fetch::folder::list(&dir)?;
        let (read, mut warnings) = fetch::folder::read(&dir, files, limit);
        let articles: Vec<folder::Article> = read
            .iter()
            .map(|(f, bytes)| folder::Article { path: &f.path, bytes, modified: f.modified_utc() })
            .collect();
        let mut raw = folder::folder(&articles, &rules, |d| normalize::reads_date(d, locale));
        warnings.append(&mut raw.warnings);
        raw.warnings = warnings;
        let cx = normalize::Context { source: &name, doc_url: None, timezone: tz, now, strip_tracking, locale };
        let normalized = normalize::feed_reusing(&raw, &cx, |d| stored_entries(listings.as_deref(), &name, d));
        Ok(Understood { decoded_as: "UTF-8".into(), raw, normalized })
    })
    .await?
}

/// Reads a sitemap source: its sitemap, or its index and the newest child sitemaps (each fetched once
/// per run, up to `max_sitemaps`), keeps the newest `max_urls` pages `url_include`/`url_exclude`
/// select, and normalizes them like a feed. A child the `previous` index listed with the same
/// `lastmod` is not fetched again: its pages were read then, and stay in the store.
#[allow(clippy::too_many_arguments)]
async fn read_sitemap(
    fetcher: &Fetcher,
    source: &Source,
    rules: &SitemapRules,
    body: Body,
    previous: Option<Vec<u8>>,
    url: Url,
    listings: Option<Arc<dyn Listings>>,
    now: DateTime<Utc>,
) -> Result<Understood, ReadError> {
    let limit = fetcher.settings().max_body_bytes;
    let first = parse_sitemap(body, limit, rules.clone())
        .await?
        .map_err(|e| ReadError::Sitemap { url: url.to_string(), source: e })?;
    let mut warnings: Vec<String> = first.warnings;
    let mut pages = first.urls;
    let mut skipped = first.skipped;
    let mut pending = first.children;
    let mut unchanged = 0;
    if let Some(previous) = previous.filter(|_| first.is_index) {
        let before =
            blocking(move || sitemap::read(&previous, limit, |_| false).map(|s| s.children).unwrap_or_default())
                .await?;
        let count = pending.len();
        pending.retain(|c| c.lastmod.is_none() || !before.contains(c));
        unchanged = count - pending.len();
        if unchanged > 0 {
            tracing::info!(source = %source.name, "{unchanged} child sitemaps unchanged since the last run");
        }
    }
    let mut fetched: HashSet<String> = HashSet::from([url.to_string()]);
    let mut sitemaps = 0;
    while sitemaps < rules.max_sitemaps {
        // Newest first across every index read so far; undated children in document order after them.
        pending
            .sort_by_key(|c| std::cmp::Reverse(c.lastmod.as_deref().and_then(sitemap::sort_key).unwrap_or(i64::MIN)));
        if pending.is_empty() {
            break;
        }
        let child = pending.remove(0);
        if !fetched.insert(child.loc.clone()) {
            continue;
        }
        let Some(child_url) = url.join(&child.loc).ok().filter(|u| matches!(u.scheme(), "http" | "https")) else {
            warnings.push(format!("child sitemap `{}`: not an http(s) URL; skipped", child.loc));
            continue;
        };
        sitemaps += 1;
        let body =
            match fetcher.fetch_with(&Location::Http(child_url.clone()), &Validators::default(), &source.request).await
            {
                Ok(Fetched::Body(b)) => b,
                Ok(Fetched::NotModified { .. }) => continue,
                Err(e) => {
                    warnings.push(format!("child sitemap: {}", error_chain(&e)));
                    continue;
                }
            };
        match parse_sitemap(body, limit, rules.clone()).await? {
            Ok(s) => {
                warnings.extend(s.warnings.into_iter().map(|w| format!("{child_url}: {w}")));
                pages.extend(s.urls);
                skipped += s.skipped;
                pending.extend(s.children);
            }
            Err(e) => warnings.push(format!("child sitemap {child_url}: {e}")),
        }
    }
    let left = pending.iter().filter(|c| !fetched.contains(&c.loc)).count();
    if left > 0 {
        tracing::info!(source = %source.name, "{left} child sitemaps left for later runs (max_sitemaps = {})", rules.max_sitemaps);
    }
    // Every child that changed may have been read already: nothing new is not a failure.
    if pages.is_empty() && unchanged == 0 {
        let url = url.to_string();
        return Err(if skipped > 0 { ReadError::NoPageSelected { url, skipped } } else { ReadError::NoPage { url } });
    }
    let (max, follow) = (rules.max_urls, source.kind.fetches_articles());
    let (name, tz, strip_tracking, locale) =
        (source.name.clone(), source.timezone, source.strip_tracking, source.date_locale);
    let (raw, normalized) = blocking(move || {
        let mut raw = sitemap::to_feed(sitemap::newest(pages, max), url.origin().ascii_serialization().into(), follow);
        raw.warnings = warnings;
        let cx = normalize::Context { source: &name, doc_url: Some(&url), timezone: tz, now, strip_tracking, locale };
        let normalized = normalize::feed_reusing(&raw, &cx, |d| stored_entries(listings.as_deref(), &name, d));
        (raw, normalized)
    })
    .await?;
    Ok(Understood { decoded_as: "UTF-8 (sitemap)".into(), raw, normalized })
}

/// Parses one sitemap file on the blocking pool, keeping the pages `rules` select.
async fn parse_sitemap(
    body: Body,
    limit: u64,
    rules: SitemapRules,
) -> Result<Result<sitemap::Sitemap, sitemap::SitemapError>, ReadError> {
    blocking(move || sitemap::read(&body.bytes, limit, |u| rules.selects(u))).await
}

/// Fetches the pages of entries the store does not know yet and takes their text (and, for html
/// sources, any title, date, author or image the listing lacked). Returns one warning per page that
/// could not be read.
async fn fill_from_articles(
    fetcher: &Fetcher,
    source: &Source,
    candidates: &mut [Candidate],
    known: Option<&HashSet<String>>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let targets: Vec<(usize, Url)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, Url::parse(c.entry.url.as_deref()?).ok()?)))
        .filter(|(_, url)| known.is_none_or(|k| !k.contains(&urls::canonical(url))))
        .take(MAX_ARTICLES)
        .collect();
    let per_host = fetcher.settings().per_host.max(1);
    let pages: Vec<(usize, Result<extract::Article, ReadError>)> = stream::iter(targets)
        .map(|(i, url)| async move { (i, fetch_article(fetcher, source, url, now).await) })
        .buffer_unordered(per_host)
        .collect()
        .await;
    let mut warnings = Vec::new();
    for (i, page) in pages {
        let entry = &mut candidates[i].entry;
        match page {
            Ok(article) => {
                let base = entry.url.as_deref().and_then(|u| Url::parse(u).ok());
                if let Some(body) = article.body_html.as_deref().and_then(|b| sanitize(b, base.as_ref())) {
                    entry.content_html = Some(body);
                }
                if entry.published.is_none() {
                    entry.published = article.published;
                }
                if entry.authors.is_empty() {
                    entry.authors.extend(article.author.map(|name| Person { name: Some(name), ..Person::default() }));
                }
                if entry.image.is_none() {
                    entry.image = article.image;
                }
                let listing_title_is_fallback = entry.url.as_deref() == Some(entry.title.as_str());
                if let (true, Some(title)) = (listing_title_is_fallback, article.title) {
                    entry.title = normalize::text::plain(&Text::plain(title));
                }
                warnings.extend(article.warnings);
            }
            Err(e) => warnings.push(format!("article page: {}", error_chain(&e))),
        }
    }
    warnings
}

async fn fetch_article(
    fetcher: &Fetcher,
    source: &Source,
    url: Url,
    now: DateTime<Utc>,
) -> Result<extract::Article, ReadError> {
    let body = match fetcher.fetch_with(&Location::Http(url.clone()), &Validators::default(), &source.request).await {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::NotModified { .. }) => return Err(ReadError::NotModified { url: url.to_string() }),
        Err(e) => return Err(e.into()),
    };
    let page_url = body.meta.final_url.clone().unwrap_or(url);
    let (rules, tz, format, locale, date_locale) =
        (source.article.clone(), source.timezone, source.date_format.clone(), source.locale, source.date_locale);
    blocking(move || {
        let text = decode::decode(&body.bytes, body.content_type.as_deref()).text;
        let cx = PageContext { url: &page_url, tz, now, locale, date_locale, date_format: format.as_ref() };
        extract::article(&text, &rules, &cx)
    })
    .await
}

/// What `understand` needs that outlives a borrow: for moving into the blocking pool.
#[derive(Clone)]
struct Owned {
    source: String,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    listings: Option<Arc<dyn Listings>>,
    strip_tracking: bool,
    locale: Option<DateLocale>,
}

impl Owned {
    /// Like [`understand`], but a page that is not a feed comes back with its decoded text, so the
    /// caller can look for the feed it advertises.
    fn understand(
        &self,
        bytes: &[u8],
        content_type: Option<&str>,
        doc_url: Option<&Url>,
    ) -> Result<Understood, (ParseError, Option<String>)> {
        let cx = normalize::Context {
            source: &self.source,
            doc_url,
            timezone: self.tz,
            now: self.now,
            strip_tracking: self.strip_tracking,
            locale: self.locale,
        };
        let stored = |digests: &[RawDigest]| stored_entries(self.listings.as_deref(), &self.source, digests);
        understand_reusing(bytes, content_type, doc_url, &cx, stored).map_err(|e| match e {
            ParseError::NotAFeed { .. } => (e, Some(decode::decode(bytes, content_type).text)),
            e => (e, None),
        })
    }
}

/// The stored entries of `source` that its feed listed with one of `digests`, for `normalize::feed_reusing`.
fn stored_entries(listings: Option<&dyn Listings>, source: &str, digests: &[RawDigest]) -> HashMap<RawDigest, Entry> {
    let Some(listings) = listings else { return HashMap::new() };
    listings.entries(source, digests).unwrap_or_else(|e| {
        // Only slower: every entry is normalized.
        tracing::warn!(source, "cannot read the entries stored: {}", error_chain(&e));
        HashMap::new()
    })
}

/// Runs CPU work (decode, parse, normalize, extract) on the blocking pool, at most one job per core at
/// a time: fetches keep flowing on the async runtime meanwhile, but dozens of finished downloads do not
/// all parse at once, which would only trade throughput for memory (every body and its tree held).
pub(super) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ReadError> {
    static WORKERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let workers = WORKERS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    });
    // The semaphore lives as long as the process and is never closed.
    let _permit = workers.acquire().await.map_err(ReadError::Stopped)?;
    tokio::task::spawn_blocking(f).await.map_err(ReadError::Crashed)
}
