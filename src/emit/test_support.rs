//! Shared inputs and checks for the emitters' tests: one rich feed (Kazakh and Russian text, markup and
//! a forbidden control character in text, authors with and without email, `via`, enclosures, an entry
//! with no dates and no URL), one empty feed, one site; and a strict XML well-formedness check.

use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::{
    CategoryRef, EntryRef, FeedDoc, FeedUrls, SiteDoc, SourceHealth, SourceIndex, SourceRef, GENERATOR_VERSION,
};
use crate::model::{Enclosure, Entry, Person, Via};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn person(name: Option<&str>, email: Option<&str>, url: Option<&str>) -> Person {
    Person { name: name.map(Into::into), email: email.map(Into::into), url: url.map(Into::into) }
}

/// Three entries, newest first, as categorize hands them over.
pub(crate) fn entries() -> Vec<Entry> {
    vec![
        Entry {
            id: "https://abai.kz/post/1".into(),
            source: "abai".into(),
            url: Some("https://abai.kz/post/1".into()),
            title: "Қазақстанда жаңа заң & <реформа> қабылданды".into(),
            summary_html: Some("<p>Парламент заңды <b>бірауыздан</b> қабылдады &amp; жариялады.</p>".into()),
            content_html: Some(
                "<p>Толық мәтін: <a href=\"https://abai.kz/post/1?a=1&amp;b=2\">сілтеме</a> \"дәйексөз\"</p>".into(),
            ),
            authors: vec![
                person(Some("Асқар Әлиев"), Some("askar@abai.kz"), None),
                person(Some("Мария Иванова"), None, Some("https://abai.kz/authors/maria")),
            ],
            categories: vec!["Саясат".into(), "law & order".into()],
            published: Some(at(2019, 7, 11, 6, 20)),
            updated: Some(at(2019, 7, 11, 9, 0)),
            first_seen: at(2019, 7, 11, 10, 0),
            language: Some("kk".into()),
            enclosures: vec![],
            image: None,
            via: vec![
                Via { source: "tengri".into(), url: Some("https://tengrinews.kz/news/42?utm=x&y=1".into()) },
                Via { source: "zakon".into(), url: None },
                Via { source: "kursiv \"kz\"".into(), url: Some("https://kursiv.kz/n/7".into()) },
            ],
        },
        Entry {
            id: "urn:feedmill:radio:7f3a".into(),
            source: "radio".into(),
            url: Some("https://radio.example.ru/episodes/12".into()),
            title: "Новости\u{1} дня: выпуск №12".into(),
            summary_html: None,
            content_html: Some("<p>Эфир от 10 июля. Ведущие: А &lt; Б</p>".into()),
            authors: vec![
                person(None, Some("host@radio.example.ru"), None),
                person(None, None, Some("https://radio.example.ru/")),
            ],
            categories: vec![],
            published: Some(at(2019, 7, 10, 18, 0)),
            updated: None,
            first_seen: at(2019, 7, 11, 10, 0),
            language: Some("ru".into()),
            enclosures: vec![
                Enclosure {
                    url: "https://cdn.example.ru/ep12.mp3".into(),
                    mime: Some("audio/mpeg".into()),
                    length: Some(12_345_678),
                    duration_secs: Some(3600),
                },
                Enclosure {
                    url: "https://cdn.example.ru/ep12.bin".into(),
                    mime: None,
                    length: None,
                    duration_secs: None,
                },
            ],
            image: Some("https://radio.example.ru/ep12.jpg".into()),
            via: vec![],
        },
        Entry {
            id: "urn:feedmill:notes:9c1e".into(),
            source: "notes".into(),
            url: None,
            title: "Ескерту без даты".into(),
            summary_html: Some("Short <i>note</i>\u{ffff} with no date".into()),
            content_html: None,
            authors: vec![],
            categories: vec![],
            published: None,
            updated: None,
            first_seen: at(2019, 7, 9, 12, 30),
            language: None,
            enclosures: vec![],
            image: None,
            via: vec![],
        },
    ]
}

pub(crate) fn urls() -> FeedUrls {
    FeedUrls {
        rss: "https://feeds.example.org/kz-news/rss.xml".into(),
        atom: "https://feeds.example.org/kz-news/atom.xml".into(),
        json: "https://feeds.example.org/kz-news/feed.json".into(),
    }
}

pub(crate) fn rich_doc<'a>(entries: &'a [Entry], urls: &'a FeedUrls) -> FeedDoc<'a> {
    FeedDoc {
        slug: "kz-news",
        title: "Kazakh news & \"more\"",
        description: Some("Жаңалықтар <Қазақстан>"),
        home_url: Some("https://feeds.example.org/"),
        urls: Some(urls),
        hub: Some("https://hub.example/"),
        language: Some("kk"),
        updated: at(2019, 7, 11, 9, 0),
        id: "https://feeds.example.org/kz-news/atom.xml",
        entries,
        sources: Some(&SOURCE_INDEX),
    }
}

/// [`sources`], for the feeds' RSS `<source>`.
static SOURCES: LazyLock<Vec<SourceRef>> = LazyLock::new(sources);
static SOURCE_INDEX: LazyLock<SourceIndex<'static>> =
    LazyLock::new(|| SOURCES.iter().map(|s| (s.name.as_str(), s)).collect());

/// An empty feed without `base_url`: no links known at all.
pub(crate) fn empty_doc() -> FeedDoc<'static> {
    FeedDoc {
        slug: "all",
        title: "All",
        description: None,
        home_url: None,
        urls: None,
        hub: None,
        language: None,
        updated: DateTime::<Utc>::UNIX_EPOCH,
        id: "urn:feedmill:feed:all",
        entries: &[],
        sources: None,
    }
}

fn source(name: &str, title: Option<&str>, feed_url: &str, site_url: Option<&str>, health: SourceHealth) -> SourceRef {
    SourceRef {
        name: name.into(),
        title: title.map(Into::into),
        feed_url: Some(feed_url.into()),
        site_url: site_url.map(Into::into),
        health,
    }
}

fn category(slug: &str, title: &str, description: Option<&str>, count: usize, sources: Vec<SourceRef>) -> CategoryRef {
    CategoryRef {
        slug: slug.into(),
        title: title.into(),
        description: description.map(Into::into),
        rss_path: format!("{slug}/rss.xml"),
        atom_path: format!("{slug}/atom.xml"),
        json_path: format!("{slug}/feed.json"),
        urls: None,
        entry_count: count,
        latest: Vec::new(),
        sources,
    }
}

/// The sources of [`categories`], in config order: healthy, failing after an earlier success (with a
/// long two-line error), failing from the start, and never fetched.
pub(crate) fn sources() -> Vec<SourceRef> {
    let ok = SourceHealth { last_success: Some(at(2019, 7, 11, 10, 0)), failures: 0, last_error: None };
    let error = format!(
        "https://tengrinews.kz/rss: HTTP 503 <Service Unavailable> & \"retry\"{}\nsecond line",
        " x".repeat(100)
    );
    let failing = SourceHealth { last_success: Some(at(2019, 7, 1, 8, 0)), failures: 3, last_error: Some(error) };
    let never = SourceHealth { last_success: None, failures: 1, last_error: Some("feeds/radio.xml: not found".into()) };
    vec![
        source("abai", Some("Abai.kz — әдеби портал"), "https://abai.kz/rss", Some("https://abai.kz/"), ok),
        source("tengri", None, "https://tengrinews.kz/rss?lang=kk&full=1", Some("javascript:alert(1)"), failing),
        source("radio", Some("radio"), "feeds/radio.xml", None, never),
        source(
            "notes",
            Some("Заметки <b>\u{1}\u{ffff}"),
            "file:///srv/notes.xml",
            Some("https://notes.example/"),
            SourceHealth::default(),
        ),
    ]
}

/// `all` (with one source in no other category), then two categories in slug order. `kz-news` has
/// absolute feed URLs and lists the three entries of [`entries`].
pub(crate) fn categories() -> Vec<CategoryRef> {
    let [abai, tengri, radio, notes] = <[SourceRef; 4]>::try_from(sources()).unwrap();
    let mut kz = category(
        "kz-news",
        "Kazakh news & more",
        Some("Жаңалықтар <Қазақстан>"),
        3,
        vec![abai.clone(), tengri.clone()],
    );
    kz.urls = Some(urls());
    kz.latest = entries()
        .into_iter()
        .map(|e| EntryRef { date: e.published.or(e.updated), title: e.title, url: e.url, source: e.source })
        .collect();
    kz.latest[1].url = Some("javascript:alert(2)".into());
    let mut all =
        category("all", "All", Some("The site's description, again"), 3, vec![abai, tengri, radio.clone(), notes]);
    all.latest = kz.latest.clone();
    vec![all, kz, category("ru-news", "Русские новости", None, 0, vec![radio])]
}

pub(crate) fn site<'a>(categories: &'a [CategoryRef], sources: &'a [SourceRef]) -> SiteDoc<'a> {
    SiteDoc {
        title: "Planet \"Steppe\" & friends",
        description: Some("Kazakh & Russian news <in one place>"),
        categories,
        updated: at(2019, 7, 11, 9, 0),
        language: None,
        sources,
    }
}

/// The output with feedmill's version replaced, so snapshots survive a version bump.
pub(crate) fn unversioned(out: &str) -> String {
    out.replace(GENERATOR_VERSION, "[version]")
}

/// Panics unless `xml` is a well-formed, namespace-correct XML 1.0 document: only allowed characters,
/// one root, balanced tags, known entity and character references, bound prefixes, a final newline.
pub(crate) fn assert_well_formed(xml: &str) {
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), "prolog");
    assert!(xml.ends_with(">\n"), "trailing newline");
    let bad = xml
        .chars()
        .find(|&c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..));
    assert_eq!(bad, None, "character XML 1.0 forbids");
    let mut reader = quick_xml::NsReader::from_str(xml);
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (ns, event.into_owned()),
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.buffer_position()),
        };
        assert!(!matches!(ns, ResolveResult::Unknown(_)), "unbound prefix in {event:?}");
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if depth == 0 {
                    roots += 1;
                }
                for attr in e.attributes() {
                    let attr = attr.unwrap_or_else(|err| panic!("bad attribute in {e:?}: {err}"));
                    attr.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .unwrap_or_else(|err| panic!("bad attribute value {attr:?}: {err}"));
                    let (attr_ns, _) = reader.resolver().resolve_attribute(attr.key);
                    assert!(!matches!(attr_ns, ResolveResult::Unknown(_)), "unbound prefix in {attr:?}");
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::GeneralRef(r) => {
                let known = matches!(&*r as &[u8], b"amp" | b"lt" | b"gt" | b"quot" | b"apos");
                assert!(known || r.resolve_char_ref().ok().flatten().is_some(), "unknown reference {r:?}");
            }
            Event::Eof => break,
            Event::Text(_) | Event::Decl(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((roots, depth), (1, 0), "one root, all tags closed");
}
