//! Feeds for sites that have none. HTML pages (already decoded to UTF-8) and their URLs in; feed
//! entries, article text and subscription suggestions out. Pure: no fetching, no clock (the fetch time
//! arrives in [`PageContext`]), no configuration files — the lead's pipeline does those and calls:
//!
//! * [`listing`] on a section or archive page: one [`RawEntry`] per story block the source's `item`
//!   selector matches, plus the next page's URL for pagination;
//! * [`article`] on a story's own page: title, date, author, image and the body's HTML, by the
//!   source's selectors where given and by readability where not, with site noise (view counters,
//!   comment counts, share buttons, "best materials" sidebars, the header's date of the day) removed;
//! * [`discover`] on a home page: the feeds it advertises; and [`skeleton`] when it advertises none: a
//!   commented `feeds.toml` block with guessed selectors.
//!
//! Entries leave in the shape a feed parser gives (`RawEntry`), so normalize, dedup and emit treat
//! a scraped site like any feed. Dates are the exception that is resolved here already: only here is
//! the page's own `date_format` known, so `published` is RFC 3339 UTC when it could be read, and the
//! text as written otherwise (normalize tries it again and reports it).
//!
//! Date precedence on article pages is documented in `dates.rs`: the user's selector, then JSON-LD
//! `datePublished`, then `<meta>` tags, then `<time datetime>`, then visible text outside the chrome.

mod article;
mod dates;
mod discover;
mod listing;
mod meta;
mod noise;
mod selectors;
mod serialize;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use scraper::Selector;
use serde::Serialize;
use url::Url;

pub use self::article::article;
pub use self::dates::DateOrigin;
pub use self::discover::{discover, robots_sitemaps, sitemap_skeleton, skeleton, Advertised, FeedKind};
pub use self::listing::listing;
pub use self::selectors::{parse_selector, Field, SelectorError};
use crate::model::RawEntry;
pub use crate::normalize::dates::{DateFormat, DateLocale, FormatError, Locale};

/// How to read a listing page (`[sources.html]` in `feeds.toml`). Only `item` is required; every
/// other field is guessed inside the item when left out (see `listing.rs`).
#[derive(Debug, Clone)]
pub struct ListingRules {
    /// One story in the list.
    pub item: Selector,
    pub title: Option<Field>,
    /// Without an `@attribute`, the `href` of the matched link (or of the link inside or around it).
    pub link: Option<Field>,
    pub date: Option<Field>,
    /// HTML of the matched element; with an `@attribute`, that attribute's text.
    pub summary: Option<Field>,
    pub author: Option<Field>,
    /// Without an `@attribute`, the source of the matched image (or of the first image inside it),
    /// lazy-loading attributes included.
    pub image: Option<Field>,
    /// The link to the next listing page; default: `rel="next"`.
    pub next: Option<Field>,
}

impl ListingRules {
    /// Rules with only the item selector; every field guessed.
    pub fn new(item: Selector) -> ListingRules {
        ListingRules { item, title: None, link: None, date: None, summary: None, author: None, image: None, next: None }
    }
}

/// How to read an article page (`[sources.article]`). All optional: an empty set reads any page.
#[derive(Debug, Clone, Default)]
pub struct ArticleRules {
    pub title: Option<Field>,
    pub date: Option<Field>,
    pub author: Option<Field>,
    /// The story's text; every match is taken, in page order. Noise inside it is still removed.
    pub body: Option<Field>,
    /// Elements to cut from the body, on top of the built-in noise rules.
    pub remove: Vec<Selector>,
}

/// Where and when a page was fetched, and how its source writes dates. One per source and run; the
/// date settings serve its listing and article pages alike.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// The page's URL after redirects: the base for its relative links.
    pub url: &'a Url,
    /// The source's zone, for dates written without one.
    pub tz: chrono_tz::Tz,
    /// Fetch time: the anchor of relative dates ("2 сағат бұрын") and of dates without a year.
    pub now: DateTime<Utc>,
    /// Restricts the month names `date_format` reads; `None` reads kk, ru and en.
    pub locale: Option<Locale>,
    /// The source's `locale`: the language the lenient reader reads dates in, before `<html lang>`.
    pub date_locale: Option<DateLocale>,
    /// Tried before the lenient reader on every date of the page.
    pub date_format: Option<&'a DateFormat>,
}

/// What a listing page gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    /// In page order, each link once.
    pub entries: Vec<RawEntry>,
    /// Absolute; never the page itself.
    pub next_page: Option<Url>,
    /// Items skipped and dates not understood, one line each.
    pub warnings: Vec<String>,
}

/// What an article page gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    /// Plain text.
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// Which source of the precedence the date came from, for `feedmill parse` and logs.
    pub date_origin: Option<DateOrigin>,
    /// Several authors are joined with ", ".
    pub author: Option<String>,
    /// The story's HTML: absolute URLs, no scripts or styles, not yet sanitized.
    pub body_html: Option<String>,
    /// Absolute URL of the lead image.
    pub image: Option<String>,
    pub warnings: Vec<String>,
}
