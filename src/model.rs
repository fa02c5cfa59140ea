//! The common model every stage speaks.
//!
//! Two layers, on purpose:
//!
//! * [`RawFeed`] / [`RawEntry`] are what a format module (`parse/`) found in one document: strings as
//!   written (dates unparsed, URLs possibly relative, titles possibly holding markup). Each format's wire
//!   quirks stop at its adapter; nothing downstream knows whether an entry came from RSS or Atom.
//! * [`Entry`] is the normalized entry (`normalize/`): absolute URLs, plain-text NFC title, sanitized
//!   HTML, UTC dates. Dedup, categorize and emit only ever see this type.
//!
//! Field-by-field mapping (input → model → output) is documented on [`Entry`].

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Most entries kept from one document. Feeds list newest first, so the kept ones are the newest;
/// real feeds carry tens to a few thousand. Here because parse, normalize (whose `html` sources
/// bypass the parser) and the folder listing in fetch all stop at it.
pub const MAX_ENTRIES: usize = 10_000;

/// Whether two category terms name the same thing: case and surrounding space do not count. Here
/// because parse and normalize both fold categories with it.
pub fn same_term(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

/// The format a document was sniffed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedFormat {
    /// RSS 0.90 (RDF-based, Netscape), 0.91, 0.92, 0.93, 0.94, 2.0, or `<rss>` with no version.
    Rss,
    /// RSS 1.0 (`<rdf:RDF>`), also RSS 0.90 which shares its shape.
    Rdf,
    /// Atom 0.3 or 1.0.
    Atom,
    /// JSON Feed 1.0 or 1.1.
    JsonFeed,
    /// A web page read with selectors (`kind = "html"` sources).
    Html,
    /// A local folder of Markdown and HTML articles (`kind = "folder"` sources).
    Folder,
    /// A sitemap or sitemap index, plain, Google News or image (`kind = "sitemap"` sources).
    Sitemap,
}

/// Whether a piece of text is plain text or HTML. XHTML is serialized to HTML by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    Text,
    Html,
}

/// A piece of text as found in the document, with what the format says it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Text {
    pub kind: TextKind,
    pub value: String,
    /// The `xml:base` declared on the text's own element (`<content xml:base="…">`), already combined
    /// with the enclosing ones; relative URLs in the value resolve against it rather than the entry's
    /// base. `None` when the element declares none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

impl Text {
    pub fn plain(value: impl Into<String>) -> Self {
        Text { kind: TextKind::Text, value: value.into(), base: None }
    }
    pub fn html(value: impl Into<String>) -> Self {
        Text { kind: TextKind::Html, value: value.into(), base: None }
    }
    /// The same text, read against `base` (see [`Text::base`]).
    pub fn with_base(self, base: Option<String>) -> Self {
        Text { base, ..self }
    }
}

/// An author or contributor. At least one of the fields is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Person {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A media file attached to an entry (RSS `<enclosure>`, Atom `link rel="enclosure"`, `media:content`,
/// JSON Feed `attachments`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Enclosure {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Size in bytes, when the source states one (0 and garbage are dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Play time in seconds (`itunes:duration`, `media:content duration`, JSON `duration_in_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

/// A document as a format module understood it: nothing normalized yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawFeed {
    pub format: FeedFormat,
    /// The version the document claims or shows: "2.0", "0.91", "1.0", "0.3", "1.1"; `None` when absent.
    pub version: Option<String>,
    pub title: Option<Text>,
    /// The site's home page (RSS `<link>`, Atom `link rel="alternate"`, JSON `home_page_url`).
    pub link: Option<String>,
    /// The feed's own URL if it states one (`atom:link rel="self"`, JSON `feed_url`).
    pub self_link: Option<String>,
    pub description: Option<Text>,
    pub language: Option<String>,
    /// Logo / image / icon URL.
    pub image: Option<String>,
    /// The `xml:base` in effect on the root element, if any (may itself be relative to the document URL).
    pub base: Option<String>,
    /// What the feed says about how often to fetch it.
    #[serde(skip_serializing_if = "RefreshHints::is_empty")]
    pub hints: RefreshHints,
    /// Entries in document order.
    pub entries: Vec<RawEntry>,
    /// Everything the lenient parser had to forgive, one human-readable line each
    /// ("line 12: bare '&' treated as text", "document ends inside `<item>`: 1 entry recovered").
    pub warnings: Vec<String>,
}

/// A feed's own refresh schedule (RSS `<ttl>`, `<skipHours>`, `<skipDays>`, the RSS 1.0 syndication
/// module `sy:updatePeriod` / `sy:updateFrequency`), read by the scheduler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshHints {
    /// Minutes the feed may be cached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_minutes: Option<u32>,
    /// `hourly`, `daily`, `weekly`, `monthly` or `yearly`, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_period: Option<String>,
    /// Updates per period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_frequency: Option<u32>,
    /// GMT hours (0–23) in which the feed asks not to be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_hours: Vec<u8>,
    /// English day names on which the feed asks not to be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_days: Vec<String>,
}

impl RefreshHints {
    pub fn is_empty(&self) -> bool {
        *self == RefreshHints::default()
    }
}

/// One entry as found in the document.
#[derive(Debug, Clone, Default, PartialEq, Hash, Serialize)]
pub struct RawEntry {
    /// RSS `<guid>`, RDF `rdf:about`, Atom `<id>`, JSON `id`.
    pub id: Option<String>,
    /// RSS `guid isPermaLink` (default true in RSS 2.0 when a guid is present); false for other formats.
    pub id_is_permalink: bool,
    /// The entry's web page: RSS `<link>` (or a permalink guid), Atom `link rel="alternate"` (or a link
    /// with no rel; else an `id` that is an http(s) URL), JSON `url`.
    pub link: Option<String>,
    /// RSS / Atom `<title>`, else `dc:title`, else `media:title` (YouTube puts titles there too), else
    /// `itunes:title`.
    pub title: Option<Text>,
    /// RSS `<description>`, Atom `<summary>`, JSON `summary`; else `dc:description`, `itunes:summary`,
    /// `media:description` (also inside `media:group`), `itunes:subtitle`.
    pub summary: Option<Text>,
    /// RSS `content:encoded`, else `xhtml:body`, `<body>`, `<fullitem>`; Atom `<content>`; JSON
    /// `content_html` (or `content_text` as Text). Inline SVG / MathML is replaced by its text alternative.
    pub content: Option<Text>,
    /// RSS `<author>` / `dc:creator` / `itunes:author`, Atom `<author>`, JSON `authors`/`author`.
    pub authors: Vec<Person>,
    /// RSS `<category>`, Atom `category@term` (or `@label` when it has no term), JSON `tags`; then
    /// `dc:subject`, `media:category`, `atom:category` in RSS, and `itunes:keywords` / `media:keywords`
    /// split at commas, in document order. Normalize drops repeats, ignoring case.
    pub categories: Vec<String>,
    /// Raw date string as written: RSS `pubDate` / `dc:date`, Atom `published` (0.3 `issued`), JSON
    /// `date_published`.
    pub published: Option<String>,
    /// Raw date string: Atom `updated` (0.3 `modified`), JSON `date_modified`, RSS `atom:updated`/`dc:modified`.
    pub updated: Option<String>,
    pub language: Option<String>,
    /// RSS `<enclosure>`, Atom `link rel="enclosure"`, `media:content` (also inside `media:group`), JSON
    /// `attachments`; one per URL.
    pub enclosures: Vec<Enclosure>,
    /// `media:thumbnail`, `itunes:image`, JSON `image`.
    pub image: Option<String>,
    /// The `xml:base` in effect on this entry (already combined with enclosing bases, may still be
    /// relative to the document URL). URLs in this entry, including those inside HTML content, are
    /// relative to it.
    pub base: Option<String>,
}

/// A source that carried the same story as the entry it is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Via {
    /// The configured source name.
    pub source: String,
    /// That source's link to the story, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A normalized entry: the unit dedup, categorize and emit work on.
///
/// | field | RSS 2.0 in | Atom in | JSON Feed in | out (RSS / Atom / JSON Feed) |
/// |---|---|---|---|---|
/// | `id` | `guid`, else link | `id` | `id` | `guid` / `id` / `id` |
/// | `url` | `link`, permalink `guid` | `link rel=alternate`, else an http(s) `id` | `url` | `link` / `link rel=alternate` / `url` |
/// | `title` | `title`, `dc:title`, `media:title`, `itunes:title` | `title`, `media:title` | `title` | `title` (all three) |
/// | `summary_html` | `description`, `itunes:summary`, `media:description`, `itunes:subtitle` | `summary`, `media:description` | `summary` | `description` / `summary type=html` / `summary` |
/// | `content_html` | `content:encoded`, `xhtml:body`, `body`, `fullitem` | `content` | `content_html` | `content:encoded` / `content type=html` / `content_html` |
/// | `authors` | `author`, `dc:creator` | `author` | `authors` | `author` or `dc:creator` / `author` / `authors` |
/// | `categories` | `category`, `dc:subject`, `media:category`, `itunes:keywords`, `media:keywords` | `category term` (else `label`), same extensions | `tags` | `category` / `category term` / `tags` |
/// | `image` | `media:thumbnail`, `itunes:image` | `media:thumbnail` | `image` | `media:thumbnail` / `media:thumbnail` / `image` |
/// | `published` | `pubDate`, `dc:date` | `published` | `date_published` | `pubDate` / `published` / `date_published` (else `updated`'s date in RSS and JSON; an undated entry gets none) |
/// | `updated` | `atom:updated` | `updated` | `date_modified` | — / `updated` / `date_modified` |
/// | `enclosures` | `enclosure`, `media:content` | `link rel=enclosure`, `media:content` | `attachments` | first `enclosure`, then `media:content` / `link rel=enclosure` / `attachments` |
/// | `via` | — | — | — | `source` (the via source's feed URL and title) and `atom:link rel=via` / `link rel=via` / `_feedmill.via` |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Entry {
    /// Stable identifier written to every output: the source's own id when it is an absolute URI and the
    /// source's ids are trustworthy, else the entry's canonical link, else a `urn:feedmill:` id derived
    /// from the source name and the entry's identity key. Never changes for a published entry.
    pub id: String,
    /// The configured name of the source the entry came from.
    pub source: String,
    /// Absolute URL of the entry's page, without tracking parameters (`utm_*`, `fbclid`, …) unless
    /// `[output] strip_tracking = false`.
    pub url: Option<String>,
    /// Plain text, entities decoded, tags stripped, whitespace collapsed, NFC. Never empty: falls back to
    /// the first sentence of the text (cut near 80 characters at a word, with an ellipsis), then to the URL,
    /// then to the first enclosure's URL, then the image's.
    pub title: String,
    /// Sanitized HTML with absolute URLs.
    pub summary_html: Option<String>,
    /// Sanitized HTML with absolute URLs.
    pub content_html: Option<String>,
    pub authors: Vec<Person>,
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// When feedmill first saw this entry (the run's start time in a single run).
    pub first_seen: DateTime<Utc>,
    pub language: Option<String>,
    /// Absolute URLs, otherwise as the source wrote them (signed or counted media URLs must stay intact).
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
    /// Other sources that carried the same story, in config order.
    pub via: Vec<Via>,
}

impl Entry {
    /// The date an entry sorts by: published, else updated, else first seen.
    pub fn sort_date(&self) -> DateTime<Utc> {
        self.published.or(self.updated).unwrap_or(self.first_seen)
    }

    /// The date an entry was last changed, for Atom `updated` and feed-level `updated`.
    pub fn last_modified(&self) -> DateTime<Utc> {
        self.updated.or(self.published).unwrap_or(self.first_seen)
    }
}
