//! Finding a page's publication date: a parsed page in, one instant (and where it came from) out.
//! Reading a date string is not done here: every string goes to `crate::normalize::dates`, with the
//! source's `date_format` first when it has one.
//!
//! Precedence, strongest first (a source found but unreadable hands over to the next, with a warning):
//!
//! 1. the user's `date` selector — they looked at the page, we guessed;
//! 2. JSON-LD `datePublished` of the story object;
//! 3. `<meta>` tags: `article:published_time`, then the other names in `meta::PUBLISHED_META`,
//!    then an `itemprop="datePublished"` element;
//! 4. the first `<time datetime>` outside the site chrome;
//! 5. visible text outside the chrome: first elements named like dates (`date`, `time`, `meta`, …),
//!    then short texts following the `h1`.
//!
//! Structured sources (2–4) beat text because they are written for machines, with zones, and because
//! page text is where the noise is: the header's `Сенбі, 23 Қараша 2024` is today's date, not the
//! story's. Chrome is excluded from 4 and 5, and, as a second guard, a text date that falls on the
//! fetch day at exactly midnight (a date with no time of day that is today) is not believed: that is
//! the shape of a header date, and a story from today loses nothing by it, since an entry without a
//! date sorts by its first-seen time, which is today.

use std::collections::HashSet;

use chrono::{DateTime, NaiveTime, Utc};
use ego_tree::NodeId;
use scraper::ElementRef;
use serde::Serialize;

use super::meta::PageMeta;
use super::selectors::{name_tokens, static_selector, text_of, text_within};
use super::PageContext;
use crate::normalize::dates::{parse_date, parse_date_with_format, DateContext};

/// Where an article's date was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrigin {
    Selector,
    JsonLd,
    Meta,
    TimeElement,
    Text,
}

/// Class/id words of elements that hold a date line.
const DATE_WORDS: &[&str] =
    &["date", "time", "datetime", "published", "pubdate", "posted", "meta", "info", "byline", "dateline", "timestamp"];

/// Class/id words of a listing item's date; narrower than [`DATE_WORDS`], since an item's `meta` or
/// `info` line also holds counters and authors.
const ITEM_DATE_WORDS: &[&str] = &["date", "time", "datetime", "published", "pubdate", "posted", "timestamp"];

/// How far past the `h1` unnamed short texts are tried, in elements.
const AFTER_H1: usize = 40;

/// Texts longer than this are prose, not a date line.
const DATE_LINE_CHARS: usize = 100;

/// Reads one date string in the page's context: the source's `date_format` first, then the lenient
/// reader (a structured ISO date does not fit a `%d %B` format and must still be read).
pub(crate) fn read_date(raw: &str, cx: &PageContext<'_>) -> Option<DateTime<Utc>> {
    let dcx = date_context(cx);
    cx.date_format
        .and_then(|format| parse_date_with_format(raw, format, cx.locale, &dcx).ok())
        .or_else(|| parse_date(raw, &dcx).ok())
}

pub(crate) fn date_context(cx: &PageContext<'_>) -> DateContext {
    DateContext { tz: cx.tz, now: cx.now, locale: cx.date_locale }
}

/// Steps 2–5 of the module's precedence.
pub(crate) fn page_date(
    root: ElementRef<'_>,
    meta: &PageMeta,
    chrome: &HashSet<NodeId>,
    cx: &PageContext<'_>,
    warnings: &mut Vec<String>,
) -> Option<(DateTime<Utc>, DateOrigin)> {
    let mut structured = |raw: Option<&String>, origin: DateOrigin, what: &str| {
        let raw = raw?;
        let at = read_date(raw, cx);
        if at.is_none() {
            warnings.push(format!("{what} {raw:?} is not a date; looking further"));
        }
        at.map(|at| (at, origin))
    };
    if let Some(found) = structured(meta.json_ld_published.as_ref(), DateOrigin::JsonLd, "JSON-LD datePublished")
        .or_else(|| structured(meta.meta_published.as_ref(), DateOrigin::Meta, "meta published time"))
    {
        return Some(found);
    }
    let visible = visible_elements(root, chrome);
    let time = visible.iter().filter(|el| el.value().name() == "time").find_map(|el| {
        let raw = el.attr("datetime").map(str::to_owned).unwrap_or_else(|| text_of(*el));
        read_date(&raw, cx)
    });
    if let Some(at) = time {
        return Some((at, DateOrigin::TimeElement));
    }
    let text_date = |el: &ElementRef<'_>| {
        let text = text_within(*el, DATE_LINE_CHARS)?;
        read_date(&text, cx).filter(|at| !is_bare_today(*at, cx))
    };
    let named = visible
        .iter()
        .filter(|el| name_tokens(**el).iter().any(|t| DATE_WORDS.contains(&t.as_str())))
        .find_map(text_date);
    let after_h1 = || {
        let h1 = visible.iter().position(|el| el.value().name() == "h1")?;
        visible[h1 + 1..].iter().take(AFTER_H1).find_map(text_date)
    };
    named.or_else(after_h1).map(|at| (at, DateOrigin::Text))
}

/// A listing item's date text when no selector names it: `<time datetime>`, `itemprop=datePublished`,
/// then the first element named like a date.
pub(crate) fn item_date_text(item: ElementRef<'_>) -> Option<String> {
    let structured = ["time[datetime]", "[itemprop=datePublished]"].iter().find_map(|css| {
        let el = item.select(&static_selector(css)?).next()?;
        el.attr("datetime").or_else(|| el.attr("content")).map(str::to_owned).or_else(|| Some(text_of(el)))
    });
    structured.or_else(|| {
        item.descendent_elements()
            .filter(|el| name_tokens(*el).iter().any(|t| ITEM_DATE_WORDS.contains(&t.as_str())))
            .find_map(|el| text_within(el, DATE_LINE_CHARS))
    })
}

/// Elements outside the chrome, in document order.
fn visible_elements<'a>(root: ElementRef<'a>, chrome: &HashSet<NodeId>) -> Vec<ElementRef<'a>> {
    fn walk<'a>(el: ElementRef<'a>, chrome: &HashSet<NodeId>, out: &mut Vec<ElementRef<'a>>) {
        for child in el.child_elements() {
            if !chrome.contains(&child.id()) {
                out.push(child);
                walk(child, chrome, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, chrome, &mut out);
    out
}

/// Midnight of the fetch day in the source's zone: what a header's "today" line reads as.
fn is_bare_today(at: DateTime<Utc>, cx: &PageContext<'_>) -> bool {
    let local = at.with_timezone(&cx.tz);
    local.date_naive() == cx.now.with_timezone(&cx.tz).date_naive() && local.time() == NaiveTime::MIN
}

#[cfg(test)]
mod tests {
    use scraper::Html;
    use url::Url;

    use super::*;
    use crate::extract::noise::chrome;

    /// Saturday 2024-11-23, 14:00 in Almaty (+05).
    fn date_of(html: &str) -> Option<(String, DateOrigin)> {
        let url = Url::parse("https://ex.kz/a").unwrap();
        let now = DateTime::parse_from_rfc3339("2024-11-23T09:00:00Z").unwrap().to_utc();
        let cx = PageContext {
            url: &url,
            tz: chrono_tz::Asia::Almaty,
            now,
            locale: None,
            date_locale: None,
            date_format: None,
        };
        let doc = Html::parse_document(html);
        let meta = PageMeta::read(&doc);
        let chrome = chrome(doc.root_element());
        page_date(doc.root_element(), &meta, &chrome, &cx, &mut Vec::new()).map(|(at, o)| (at.to_rfc3339(), o))
    }

    #[test]
    fn structured_sources_beat_text() {
        let page = |head: &str, body: &str| format!("<html><head>{head}</head><body><h1>T</h1>{body}</body></html>");
        let ld = r#"<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2019-07-11T12:20:00+06:00"}</script>"#;
        let og = r#"<meta property="article:published_time" content="2019-07-12T00:00:00Z">"#;
        let time = r#"<time datetime="2019-07-13T00:00:00Z">13 July</time>"#;
        let text = r#"<div class="date">14 Шілде, 2019 сағат 12:20</div>"#;
        let all = format!("{time}{text}");
        assert_eq!(
            date_of(&page(&format!("{ld}{og}"), &all)),
            Some(("2019-07-11T06:20:00+00:00".into(), DateOrigin::JsonLd))
        );
        assert_eq!(date_of(&page(og, &all)), Some(("2019-07-12T00:00:00+00:00".into(), DateOrigin::Meta)));
        assert_eq!(date_of(&page("", &all)), Some(("2019-07-13T00:00:00+00:00".into(), DateOrigin::TimeElement)));
        assert_eq!(date_of(&page("", text)), Some(("2019-07-14T06:20:00+00:00".into(), DateOrigin::Text)));
    }

    #[test]
    fn header_dates_are_not_the_story_date() {
        // In chrome: skipped by position.
        let html = r#"<div class="header-top"><span class="date">Сенбі, 23 Қараша 2024</span></div>
            <h1>T</h1><div class="post-meta">2534 3 пікір 11 Шілде, 2019 сағат 12:20</div>"#;
        assert_eq!(date_of(html), Some(("2019-07-11T06:20:00+00:00".into(), DateOrigin::Text)));
        // Not recognisable as chrome, but today at midnight: skipped by shape.
        let html = r#"<div class="x"><span class="date">Сенбі, 23 Қараша 2024</span></div><h1>T</h1><p>No date.</p>"#;
        assert_eq!(date_of(html), None);
        // Today with a time of day is a real date.
        let html = r#"<h1>T</h1><span class="date">2 сағат бұрын</span>"#;
        assert_eq!(date_of(html), Some(("2024-11-23T07:00:00+00:00".into(), DateOrigin::Text)));
    }

    #[test]
    fn unreadable_structured_dates_hand_over() {
        let url = Url::parse("https://ex.kz/a").unwrap();
        let now = DateTime::parse_from_rfc3339("2024-11-23T09:00:00Z").unwrap().to_utc();
        let cx = PageContext { url: &url, tz: chrono_tz::UTC, now, locale: None, date_locale: None, date_format: None };
        let doc = Html::parse_document(
            r#"<meta property="article:published_time" content="soon"><h1>T</h1><time datetime="2019-07-11">x</time>"#,
        );
        let mut warnings = Vec::new();
        let found = page_date(doc.root_element(), &PageMeta::read(&doc), &HashSet::new(), &cx, &mut warnings);
        assert_eq!(found.map(|f| f.1), Some(DateOrigin::TimeElement));
        assert_eq!(warnings, [r#"meta published time "soon" is not a date; looking further"#]);
    }
}
