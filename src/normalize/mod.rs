//! Normalize: a [`RawFeed`] as the parser found it → entries that keep the model's invariants.
//!
//! In: the raw feed, the document's URL and the source's settings (its zone for zoneless dates, the
//! run's clock). Out: [`Entry`] values with absolute URLs, plain-text NFC titles, sanitized HTML and UTC
//! dates, plus one warning line per thing that had to be dropped or guessed. Identity (the entry's `id`)
//! is decided by `dedup::identify`, which sees all of a source's entries at once.
//!
//! A date that cannot be parsed is never replaced by "now": the entry keeps `published = None` and sorts
//! by its first-seen time; a date more than a day in the future is a clock or zone mistake and is
//! dropped the same way.

pub mod dates;
pub mod html;
pub mod language;
pub mod text;
pub mod urls;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::model::{Enclosure, Entry, Person, RawEntry, RawFeed, TextKind};

/// What normalization needs to know about the source and the run.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The configured source name.
    pub source: &'a str,
    /// Where the document was read from (after redirects); relative URLs resolve against it.
    pub doc_url: Option<&'a Url>,
    pub timezone: Tz,
    /// The run's start: first-seen time of new entries, and "now" for relative dates.
    pub now: DateTime<Utc>,
}

/// An entry before identity is decided: the source's own id travels beside it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The source's id (guid, Atom id, JSON id) as written, trimmed; `None` when blank.
    pub guid: Option<String>,
    /// `entry.id` is empty until `dedup::identify` assigns it.
    pub entry: Entry,
}

/// A normalized feed.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub candidates: Vec<Candidate>,
    pub warnings: Vec<String>,
}

/// Longest a fallback title made from an entry's text may be.
const FALLBACK_TITLE_CHARS: usize = 80;
/// How far in the future a date may be before it is treated as wrong.
const FUTURE_SLACK: chrono::Duration = chrono::Duration::hours(24);

pub fn feed(raw: &RawFeed, cx: &Context) -> Normalized {
    let feed_base = urls::effective_base(cx.doc_url, raw.base.as_deref());
    let mut warnings = Vec::new();
    let feed_language = raw.language.as_deref().and_then(language);
    let candidates = raw
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| entry(e, i, feed_base.as_ref(), feed_language.as_deref(), cx, &mut warnings))
        .collect();
    Normalized {
        title: raw.title.as_ref().map(text::plain).filter(|t| !t.is_empty()),
        site_url: raw.link.as_deref().and_then(|l| urls::resolve(feed_base.as_ref(), l)).map(String::from),
        candidates,
        warnings,
    }
}

fn entry(
    raw: &RawEntry,
    index: usize,
    feed_base: Option<&Url>,
    feed_language: Option<&str>,
    cx: &Context,
    warnings: &mut Vec<String>,
) -> Option<Candidate> {
    let base = match raw.base.as_deref() {
        Some(b) => urls::effective_base(feed_base, Some(b)),
        None => feed_base.cloned(),
    };
    let base = base.as_ref();
    let guid = raw.id.as_deref().map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned);
    let url = raw
        .link
        .as_deref()
        .and_then(|l| urls::resolve(base, l))
        .or_else(|| guid.as_deref().filter(|_| raw.id_is_permalink).and_then(|g| urls::resolve(base, g)));

    let sanitize = |t: &crate::model::Text| match t.kind {
        TextKind::Html => html::sanitize(&t.value, base),
        // Plain text becomes HTML by escaping, with line breaks kept as paragraphs of one line each.
        TextKind::Text => {
            let escaped = escape_html(t.value.trim());
            (!escaped.is_empty()).then(|| escaped.replace('\n', "<br>"))
        }
    };
    let summary_html = raw.summary.as_ref().and_then(sanitize);
    let content_html = raw.content.as_ref().and_then(sanitize);

    let mut title = raw.title.as_ref().map(text::plain).unwrap_or_default();
    if title.is_empty() {
        let body = content_html.as_deref().or(summary_html.as_deref()).map(text::html_to_text).unwrap_or_default();
        title = text::truncate_words(&body, FALLBACK_TITLE_CHARS).into_owned();
    }
    if title.is_empty() {
        title = url.as_ref().map(Url::to_string).unwrap_or_default();
    }
    if title.is_empty() {
        warnings.push(format!("entry #{}: no title, link or text; skipped", index + 1));
        return None;
    }

    let published = date(raw.published.as_deref(), "published", index, cx, warnings);
    let updated = date(raw.updated.as_deref(), "updated", index, cx, warnings);

    let authors = raw
        .authors
        .iter()
        .filter_map(|p| {
            let person = Person {
                name: p.name.as_deref().map(text::html_to_text).filter(|n| !n.is_empty()),
                email: p.email.as_deref().map(str::trim).filter(|e| e.contains('@')).map(str::to_owned),
                url: p.url.as_deref().and_then(|u| urls::resolve(base, u)).map(String::from),
            };
            (person != Person::default()).then_some(person)
        })
        .fold(Vec::new(), |mut acc, p| {
            if !acc.contains(&p) {
                acc.push(p);
            }
            acc
        });

    let mut categories: Vec<String> = Vec::new();
    for c in &raw.categories {
        let c = text::html_to_text(c);
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }

    let enclosures = raw
        .enclosures
        .iter()
        .filter_map(|e| {
            let url = urls::resolve(base, &e.url)?;
            Some(Enclosure {
                url: url.into(),
                mime: e.mime.as_deref().map(str::trim).filter(|m| m.contains('/')).map(str::to_ascii_lowercase),
                length: e.length.filter(|l| *l > 0),
                duration_secs: e.duration_secs,
            })
        })
        .collect();

    let mut entry = Entry {
        id: String::new(),
        source: cx.source.to_owned(),
        url: url.map(String::from),
        title,
        summary_html,
        content_html,
        authors,
        categories,
        published,
        updated,
        first_seen: cx.now,
        language: raw.language.as_deref().and_then(language).or_else(|| feed_language.map(str::to_owned)),
        enclosures,
        image: raw.image.as_deref().and_then(|i| urls::resolve(base, i)).map(String::from),
        via: Vec::new(),
    };
    // Feeds declare one language for everything they publish; the text says what each entry is in.
    let body = entry.content_html.as_deref().or(entry.summary_html.as_deref()).unwrap_or_default();
    let body = text::html_to_text(text::html_start(body, language::SAMPLE_CHARS));
    entry.language = language::of_entry(&entry, &body);
    Some(Candidate { guid, entry })
}

fn date(
    raw: Option<&str>,
    what: &str,
    index: usize,
    cx: &Context,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    let date_cx = dates::DateContext { tz: cx.timezone, now: cx.now };
    match dates::parse_date(raw, &date_cx) {
        Ok(d) if d > cx.now + FUTURE_SLACK => {
            warnings.push(format!("entry #{}: {what} date {raw:?} is in the future; using first-seen time", index + 1));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            warnings.push(format!("entry #{}: unrecognized {what} date {raw:?}; using first-seen time", index + 1));
            None
        }
    }
}

/// A BCP 47-ish language tag, lowercased, `_` → `-` (`ru_RU` → `ru-ru`); junk dropped.
fn language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    let ok = !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(tag)
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FeedFormat, Text};

    fn cx(doc: &Url) -> Context<'_> {
        Context {
            source: "abai",
            doc_url: Some(doc),
            timezone: chrono_tz::Asia::Almaty,
            now: DateTime::parse_from_rfc3339("2024-11-23T10:00:00Z").unwrap().with_timezone(&Utc),
        }
    }

    fn feed_with(entries: Vec<RawEntry>) -> RawFeed {
        RawFeed {
            format: FeedFormat::Rss,
            version: Some("2.0".into()),
            title: Some(Text::plain("Abai.kz")),
            link: Some("/".into()),
            self_link: None,
            description: None,
            language: Some("kk_KZ".into()),
            image: None,
            base: None,
            hints: Default::default(),
            entries,
            warnings: vec![],
        }
    }

    #[test]
    fn builds_an_entry_with_every_invariant() {
        let doc = Url::parse("https://abai.kz/rss").unwrap();
        let raw = RawEntry {
            id: Some(" 95211 ".into()),
            link: Some("/post/95211".into()),
            title: Some(Text::plain(
                "  Бауыржан Байбек &laquo;Nur Otan&raquo;-ның айтысты қайта қолға алатынын айтты ",
            )),
            summary: Some(Text::html("<p>Сапар <script>x()</script><img src=\"/i.jpg\"></p>")),
            authors: vec![Person { name: Some("Abai.kz".into()), email: None, url: None }],
            categories: vec!["Саясат".into(), "Саясат".into()],
            published: Some("11 Шілде, 2019 сағат 12:20".into()),
            updated: Some("not a date".into()),
            ..RawEntry::default()
        };
        let n = feed(&feed_with(vec![raw]), &cx(&doc));
        assert_eq!(n.site_url.as_deref(), Some("https://abai.kz/"));
        let c = &n.candidates[0];
        assert_eq!(c.guid.as_deref(), Some("95211"));
        let e = &c.entry;
        assert_eq!(e.url.as_deref(), Some("https://abai.kz/post/95211"));
        assert_eq!(e.title, "Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты");
        assert_eq!(e.summary_html.as_deref(), Some("<p>Сапар <img src=\"https://abai.kz/i.jpg\"></p>"));
        assert_eq!(e.categories, vec!["Саясат"]);
        assert_eq!(e.published.unwrap().to_rfc3339(), "2019-07-11T06:20:00+00:00");
        assert_eq!(e.updated, None);
        assert_eq!(e.language.as_deref(), Some("kk"), "detected from the Kazakh text");
        assert_eq!(n.warnings, vec!["entry #1: unrecognized updated date \"not a date\"; using first-seen time"]);
    }

    #[test]
    fn title_falls_back_to_text_then_url_and_future_dates_are_dropped() {
        let doc = Url::parse("https://abai.kz/rss").unwrap();
        let entries = vec![
            RawEntry { summary: Some(Text::plain("Сөз соңында партия Төрағасының Бірінші орынбасары жастарды масылдыққа бой алдырмай, көздеген мақсатқа жету")), ..RawEntry::default() },
            RawEntry { link: Some("https://abai.kz/post/2".into()), published: Some("2030-01-01T00:00:00Z".into()), ..RawEntry::default() },
            RawEntry::default(),
        ];
        let n = feed(&feed_with(entries), &cx(&doc));
        assert_eq!(n.candidates.len(), 2);
        assert_eq!(
            n.candidates[0].entry.title,
            "Сөз соңында партия Төрағасының Бірінші орынбасары жастарды масылдыққа бой…"
        );
        assert_eq!(n.candidates[1].entry.title, "https://abai.kz/post/2");
        assert_eq!(n.candidates[1].entry.published, None);
        assert_eq!(n.warnings.len(), 2, "{:?}", n.warnings);
    }

    #[test]
    fn permalink_guid_is_the_link_when_there_is_no_link() {
        let doc = Url::parse("https://abai.kz/rss").unwrap();
        let raw = RawEntry {
            id: Some("https://abai.kz/post/7".into()),
            id_is_permalink: true,
            title: Some(Text::plain("t")),
            ..RawEntry::default()
        };
        let n = feed(&feed_with(vec![raw]), &cx(&doc));
        assert_eq!(n.candidates[0].entry.url.as_deref(), Some("https://abai.kz/post/7"));
    }
}
