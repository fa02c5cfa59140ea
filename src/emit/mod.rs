//! Emit: the model → bytes, and the one place that writes files.
//!
//! Every emitter is a pure function from a document description to a `String`: no clock, no I/O, no
//! randomness, so the same input always gives byte-identical output (readers and caches rely on it, and
//! an unchanged file is then not rewritten). `write` alone touches the disk, atomically.
//!
//! Entries arrive already sorted (newest first, ties by id) and already cut to `max_items`; emitters
//! keep that order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::Entry;

pub mod atom;
mod fmt;
mod human;
pub mod index_html;
pub mod json_feed;
pub mod opml;
pub mod rss;
#[cfg(test)]
pub(crate) mod strict;
#[cfg(test)]
mod test_support;
pub mod write;

/// The name and version written into `<generator>` elements.
pub const GENERATOR: &str = concat!("feedmill ", env!("CARGO_PKG_VERSION"));

/// The two halves of [`GENERATOR`], for Atom's `<generator version="…">feedmill</generator>`.
pub const GENERATOR_NAME: &str = "feedmill";
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Absolute URLs of the three files of one output feed; known only when `[output] base_url` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedUrls {
    pub rss: String,
    pub atom: String,
    pub json: String,
}

/// One output feed (a category, or `all`).
#[derive(Debug, Clone)]
pub struct FeedDoc<'a> {
    /// Category slug: `all` or a configured slug; also the folder name under `output/`.
    pub slug: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// The site the feeds are published on (`[output] base_url`), used as the feed's home link.
    pub home_url: Option<&'a str>,
    /// Self links; `None` when no `base_url` is configured (then no self link is written).
    pub urls: Option<&'a FeedUrls>,
    /// The WebSub hub readers may subscribe at (`[output] hub`); set only together with `urls`, since a
    /// hub needs the self link as the topic.
    pub hub: Option<&'a str>,
    /// Feed-level language (BCP 47), when all sources agree or the config says so.
    pub language: Option<&'a str>,
    /// Feed-level `updated` / `lastBuildDate`: the newest `Entry::last_modified` of the entries, or the
    /// Unix epoch for an empty feed. Never the wall clock, so output stays byte-stable.
    pub updated: DateTime<Utc>,
    /// A stable feed id (Atom `<id>`): `base_url` + slug + `/atom.xml` when known, else `urn:feedmill:feed:<slug>`.
    pub id: &'a str,
    pub entries: &'a [Entry],
    /// Every configured source by name, for RSS `<source>` (a `via` source's feed URL and title);
    /// `None` when not known, and then no `<source>` is written.
    pub sources: Option<&'a SourceIndex<'a>>,
}

/// Sources by their configured name.
pub type SourceIndex<'a> = HashMap<&'a str, &'a SourceRef>;

/// One source as listed in `sources.opml` and `index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub name: String,
    /// The feed's title as read on this run, when known.
    pub title: Option<String>,
    /// The URL or path feedmill reads (`xmlUrl`), its secrets written `***`; `None` for a source with
    /// `publish_url = false`, which is then in no OPML outline and shows no URL.
    pub feed_url: Option<String>,
    /// The site's home page (`htmlUrl`), when the feed states one.
    pub site_url: Option<String>,
    /// How fetching it has been going, as the store remembers it after this run.
    pub health: SourceHealth,
}

/// A source's fetch health, shown on `index.html`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHealth {
    pub last_success: Option<DateTime<Utc>>,
    /// Failed fetches in a row; 0 when the last fetch worked (or none happened yet).
    pub failures: u32,
    /// The last failure's message; `None` once a fetch works again.
    pub last_error: Option<String>,
}

/// One entry as listed under its category on `index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    /// Plain text, as [`Entry::title`].
    pub title: String,
    /// The entry's page; from the feed, so untrusted.
    pub url: Option<String>,
    /// The source as a reader knows it: the feed's title when known, else the configured name.
    pub source: String,
    /// The entry's own date (published, else updated); `None` for an undated entry, which is shown
    /// without one rather than with the time feedmill first saw it.
    pub date: Option<DateTime<Utc>>,
}

/// One category as listed in `sources.opml` and `index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRef {
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    /// Paths of the three feeds relative to `output/` (`kz-news/rss.xml`, …), always with `/`.
    pub rss_path: String,
    pub atom_path: String,
    pub json_path: String,
    /// Absolute URLs of the three feeds, when `[output] base_url` is set.
    pub urls: Option<FeedUrls>,
    pub entry_count: usize,
    /// The newest entries (at most [`index_html::LATEST`]), newest first.
    pub latest: Vec<EntryRef>,
    /// Its sources in config order, for `sources.opml`'s folders (`index.html` lists every source once,
    /// from [`SiteDoc::sources`]).
    pub sources: Vec<SourceRef>,
}

/// `index.html` and `sources.opml` both describe the whole output.
#[derive(Debug, Clone)]
pub struct SiteDoc<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// `all` first, then categories in slug order.
    pub categories: &'a [CategoryRef],
    /// Newest entry date over all feeds (epoch when empty): the "updated" shown; never the wall clock.
    pub updated: DateTime<Utc>,
    /// `[output] language`: the `lang`, words and dates of `index.html` (see `emit::human`).
    pub language: Option<&'a str>,
    /// Every configured source, in config order, with its health.
    pub sources: &'a [SourceRef],
}
