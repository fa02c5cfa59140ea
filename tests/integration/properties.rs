//! Property tests (proptest): whatever entries feedmill writes, its own parser and normalizer read
//! back, field by field, from each of the three feed formats; the strict `rss` and `atom_syndication`
//! readers accept every RSS and Atom document drawn.
//!
//! Entries are drawn with titles, names and HTML in Latin, Kazakh and Russian Cyrillic, Hebrew and
//! Arabic (right to left) and emoji, with `& < > " '` among the words, and with the characters XML 1.0
//! forbids (C0 controls other than tab/LF/CR, U+FFFE, U+FFFF) sprinkled in. The emitters must strip
//! those, so what comes back is the entry without them. What each format can carry differs (RSS has no
//! `updated` and no author URL, JSON Feed no author email and only a plain-text `summary`); the
//! expectations below spell those differences out rather than skip the field.

use chrono::{DateTime, SubsecRound, Utc};
use proptest::prelude::*;
use url::Url;

use feedmill::emit::{atom, json_feed, rss, FeedDoc};
use feedmill::model::{Entry, Person};
use feedmill::normalize::{self, html, text};
use feedmill::pipeline;

const SOURCE: &str = "props";

/// Characters XML 1.0 forbids (a sample of the ranges, ends included). Lone surrogates cannot exist
/// in a Rust string, so they need no test.
const FORBIDDEN: &[char] =
    &['\u{0}', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{e}', '\u{10}', '\u{1b}', '\u{1f}', '\u{fffe}', '\u{ffff}'];

const EMOJI: &[&str] = &["😀", "🚀", "🇰🇿", "❤\u{fe0f}", "👍🏽", "🐎"];
/// Standalone "words" that need escaping but must not look like markup or an entity to the title
/// normalizer (`<` followed by a space is text; no `;`, so no `&name;`).
const PUNCT: &[&str] = &["&", "<", ">", "\"", "'", "—", "«", "»", "AT&T", "1<2"];

/// A piece of text as the entry holds it (`noisy`, with forbidden characters) and as it must come
/// back (`clean`).
#[derive(Debug, Clone, Default)]
struct Noisy {
    noisy: String,
    clean: String,
}

impl Noisy {
    fn push(&mut self, other: &Noisy) {
        self.noisy.push_str(&other.noisy);
        self.clean.push_str(&other.clean);
    }

    fn push_both(&mut self, s: &str) {
        self.noisy.push_str(s);
        self.clean.push_str(s);
    }
}

fn letter() -> impl Strategy<Value = String> {
    let ranges = prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => prop::char::range('A', 'Z'),
        1 => prop::char::range('0', '9'),
        4 => prop::char::range('а', 'я'),
        2 => prop::sample::select(vec!['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і', 'Қ', 'Ә', 'ё']),
        1 => prop::char::range('א', 'ת'),
        1 => prop::char::range('ا', 'ي'),
    ];
    prop_oneof![9 => ranges.prop_map(String::from), 1 => prop::sample::select(EMOJI).prop_map(String::from)]
}

/// One word: letters with, now and then, a forbidden character between them.
fn word() -> impl Strategy<Value = Noisy> {
    let piece = (letter(), prop::option::weighted(0.15, prop::sample::select(FORBIDDEN)));
    let letters = prop::collection::vec(piece, 1..8).prop_map(|pieces| {
        let mut w = Noisy::default();
        for (l, bad) in pieces {
            w.push_both(&l);
            if let Some(c) = bad {
                w.noisy.push(c);
            }
        }
        w
    });
    prop_oneof![
        8 => letters,
        1 => prop::sample::select(PUNCT).prop_map(|p| Noisy { noisy: p.into(), clean: p.into() }),
    ]
}

/// Words joined by single spaces: already in the form the normalizer gives a title.
fn words(n: std::ops::Range<usize>) -> impl Strategy<Value = Noisy> {
    prop::collection::vec(word(), n).prop_map(|ws| {
        let mut out = Noisy::default();
        for (i, w) in ws.iter().enumerate() {
            if i > 0 {
                out.push_both(" ");
            }
            out.push(w);
        }
        out
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn escaped(t: Noisy) -> Noisy {
    Noisy { noisy: escape(&t.noisy), clean: escape(&t.clean) }
}

/// Simple HTML: paragraphs of escaped text, bold, italics, links and line breaks.
fn html_body() -> impl Strategy<Value = Noisy> {
    let inline = prop_oneof![
        4 => words(1..6).prop_map(escaped),
        1 => words(1..3).prop_map(|t| wrap("<b>", escaped(t), "</b>")),
        1 => words(1..3).prop_map(|t| wrap("<i>", escaped(t), "</i>")),
        1 => (0u32..1000, words(1..3)).prop_map(|(n, t)| {
            wrap(&format!("<a href=\"https://example.org/page/{n}?a=1&amp;b=2\">"), escaped(t), "</a>")
        }),
        1 => Just(Noisy { noisy: "<br>".into(), clean: "<br>".into() }),
    ];
    let paragraph = prop::collection::vec(inline, 1..4).prop_map(|parts| {
        let mut p = Noisy::default();
        p.push_both("<p>");
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                p.push_both(" ");
            }
            p.push(part);
        }
        p.push_both("</p>");
        p
    });
    prop::collection::vec(paragraph, 1..4).prop_map(|ps| {
        let mut out = Noisy::default();
        for p in &ps {
            out.push(p);
        }
        out
    })
}

fn wrap(open: &str, inner: Noisy, close: &str) -> Noisy {
    let mut out = Noisy::default();
    out.push_both(open);
    out.push(&inner);
    out.push_both(close);
    out
}

/// A moment between 1970 and 2100, with a sub-second part that the formats do not carry.
fn date() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).expect("in range"))
}

/// An entry as the emitters receive it, and the clean texts it must come back with.
#[derive(Debug, Clone)]
struct Case {
    entry: Entry,
    title: String,
    summary: Option<String>,
    content: Option<String>,
    authors: Vec<Person>,
    categories: Vec<String>,
}

#[derive(Debug, Clone)]
struct Author {
    name: Noisy,
    email: bool,
    url: bool,
}

fn author() -> impl Strategy<Value = Author> {
    (words(1..3), any::<bool>(), any::<bool>()).prop_map(|(name, email, url)| Author { name, email, url })
}

fn case(index: usize) -> impl Strategy<Value = Case> {
    let texts = (words(1..8), prop::option::of(html_body()), prop::option::of(html_body()));
    let people = (prop::collection::vec(author(), 0..3), prop::collection::vec(words(1..3), 0..3));
    let dates = (prop::option::of(date()), prop::option::of(date()), date());
    let link = (any::<bool>(), any::<bool>(), words(1..3));
    (texts, people, dates, link).prop_map(
        move |((title, summary, content), (authors, categories), (published, updated, first_seen), link)| {
            let (has_url, id_is_url, slug) = link;
            // The path holds Cyrillic and emoji too: the URL is kept in the percent-encoded form
            // `url` gives it, as normalize leaves it.
            let url = has_url.then(|| {
                let raw = format!("https://example.org/news/{index}/{}", slug.clean.replace(' ', "-"));
                Url::parse(&raw).map(String::from).unwrap_or_else(|_| format!("https://example.org/news/{index}"))
            });
            let id = match &url {
                Some(url) if id_is_url => url.clone(),
                _ => format!("urn:uuid:00000000-0000-4000-8000-{index:012}"),
            };
            // A number keeps two drawn names from being one person to the normalizer's dedup.
            let person = |i: usize, a: &Author, name: &str| Person {
                name: Some(format!("{name} {i}")),
                email: a.email.then(|| format!("author{i}@example.org")),
                url: a.url.then(|| format!("https://example.org/people/{i}")),
            };
            let people: Vec<Person> = authors.iter().enumerate().map(|(i, a)| person(i, a, &a.name.noisy)).collect();
            let clean_people = authors.iter().enumerate().map(|(i, a)| person(i, a, &a.name.clean)).collect();
            let mut clean_categories: Vec<String> = Vec::new();
            for c in &categories {
                if !clean_categories.contains(&c.clean) {
                    clean_categories.push(c.clean.clone());
                }
            }
            // The noisy forms of two equal clean categories may differ; keep one noisy form per clean one.
            let mut noisy_categories = Vec::new();
            for c in &clean_categories {
                let noisy = categories.iter().find(|n| &n.clean == c).map_or(c.clone(), |n| n.noisy.clone());
                noisy_categories.push(noisy);
            }
            let entry = Entry {
                id,
                source: SOURCE.into(),
                url,
                title: title.noisy,
                summary_html: summary.as_ref().map(|s| s.noisy.clone()),
                content_html: content.as_ref().map(|c| c.noisy.clone()),
                authors: people,
                categories: noisy_categories,
                published,
                updated,
                first_seen,
                language: None,
                enclosures: vec![],
                image: None,
                via: vec![],
            };
            Case {
                entry,
                title: title.clean,
                summary: summary.map(|s| s.clean),
                content: content.map(|c| c.clean),
                authors: clean_people,
                categories: clean_categories,
            }
        },
    )
}

fn cases() -> impl Strategy<Value = Vec<Case>> {
    (1usize..4).prop_flat_map(|n| (0..n).map(case).collect::<Vec<_>>())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Rss,
    Atom,
    Json,
}

fn render(format: Format, entries: &[Entry]) -> String {
    let doc = FeedDoc {
        slug: "all",
        title: "Property feed",
        description: None,
        home_url: Some("https://example.org/"),
        urls: None,
        hub: None,
        language: None,
        updated: DateTime::<Utc>::UNIX_EPOCH,
        id: "urn:feedmill:feed:all",
        entries,
        sources: None,
    };
    match format {
        Format::Rss => rss::render(&doc),
        Format::Atom => atom::render(&doc),
        Format::Json => json_feed::render(&doc),
    }
}

fn has_forbidden(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.chars().any(|c| FORBIDDEN.contains(&c)),
        serde_json::Value::Array(items) => items.iter().any(has_forbidden),
        serde_json::Value::Object(map) => map.values().any(has_forbidden),
        _ => false,
    }
}

fn secs(d: DateTime<Utc>) -> DateTime<Utc> {
    d.trunc_subsecs(0)
}

/// Renders `cases` in `format`, reads the document back and checks every entry field by field.
fn round_trip(format: Format, cases: &[Case]) -> Result<(), TestCaseError> {
    let entries: Vec<Entry> = cases.iter().map(|c| c.entry.clone()).collect();
    let out = render(format, &entries);
    if let Some(bad) = out.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(TestCaseError::fail(format!("{format:?} emitted forbidden {bad:?}")));
    }
    let strict = match format {
        Format::Rss => crate::strict::check_rss(&out),
        Format::Atom => crate::strict::check_atom(&out),
        Format::Json => Ok(()),
    };
    if let Err(e) = strict {
        return Err(TestCaseError::fail(format!("{format:?}: {e}\n{out}")));
    }
    if format == Format::Json {
        // JSON could carry them escaped (`\u0001`, `\b`): look inside the strings too.
        let value: serde_json::Value = serde_json::from_str(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!has_forbidden(&value), "JSON Feed carries a forbidden character: {}", out);
    }
    let doc_url = Url::parse("https://example.org/feed").expect("valid");
    let cx = normalize::Context {
        source: SOURCE,
        doc_url: Some(&doc_url),
        timezone: chrono_tz::UTC,
        now: DateTime::parse_from_rfc3339("2199-01-01T00:00:00Z").expect("valid").with_timezone(&Utc),
        strip_tracking: true,
        locale: None,
    };
    let u = pipeline::understand(out.as_bytes(), None, Some(&doc_url), &cx)
        .map_err(|e| TestCaseError::fail(format!("{format:?}: {e}\n{out}")))?;
    prop_assert!(u.raw.warnings.is_empty(), "{:?}: our own output needed forgiving: {:?}", format, u.raw.warnings);
    prop_assert_eq!(u.normalized.candidates.len(), cases.len());
    for (case, back) in cases.iter().zip(&u.normalized.candidates) {
        let (e, b) = (&case.entry, &back.entry);
        prop_assert_eq!(back.guid.as_deref(), Some(e.id.as_str()), "{:?} id", format);
        prop_assert_eq!(&b.url, &e.url, "{:?} url", format);
        prop_assert_eq!(&b.title, &case.title, "{:?} title", format);

        // Which field an emitter writes where depends on what the entry holds; what comes back is
        // that, sanitized (and gone when nothing visible is left).
        let sanitized = |h: Option<&String>| h.and_then(|h| html::sanitize(h, Some(&doc_url)));
        let (summary, content) = (sanitized(case.summary.as_ref()), sanitized(case.content.as_ref()));
        let (want_summary, want_content) = match format {
            Format::Rss => (sanitized(case.summary.as_ref().or(case.content.as_ref())), content.clone()),
            Format::Atom => match (&e.content_html, &e.summary_html, &e.url) {
                (Some(_), _, _) | (None, _, Some(_)) => (summary.clone(), content.clone()),
                // No content and no link: RFC 4287 wants content, so the summary becomes it ...
                (None, Some(_), None) => (None, summary.clone()),
                // ... or, without a summary either, the title as text content (escaped by normalize).
                (None, None, None) => (None, Some(escape(&case.title).replace('"', "&quot;"))),
            },
            Format::Json => (summary.clone(), sanitized(case.content.as_ref().or(case.summary.as_ref()))),
        };
        if format == Format::Json {
            // JSON Feed's `summary` is plain text: compare the text.
            let plain = |h: &Option<String>| h.as_deref().map(text::html_to_text).filter(|t| !t.is_empty());
            prop_assert_eq!(plain(&b.summary_html), plain(&want_summary), "{:?} summary", format);
        } else {
            prop_assert_eq!(&b.summary_html, &want_summary, "{:?} summary", format);
        }
        prop_assert_eq!(&b.content_html, &want_content, "{:?} content", format);

        let (published, updated) = match format {
            Format::Rss => (e.published.or(e.updated), None),
            Format::Atom => (e.published, Some(e.last_modified())),
            Format::Json => (e.published.or(e.updated), e.updated),
        };
        prop_assert_eq!(b.published, published.map(secs), "{:?} published", format);
        prop_assert_eq!(b.updated, updated.map(secs), "{:?} updated", format);

        let want_authors: Vec<Person> = match format {
            // RSS's `author` holds an email; authors are written there only when all have one, else
            // as `dc:creator` names.
            Format::Rss if case.authors.iter().all(|p| p.email.is_some()) => {
                case.authors.iter().map(|p| Person { url: None, ..p.clone() }).collect()
            }
            Format::Rss => case.authors.iter().map(|p| Person { name: p.name.clone(), ..Person::default() }).collect(),
            Format::Atom if case.authors.is_empty() => {
                vec![Person { name: Some(SOURCE.into()), email: None, url: None }]
            }
            Format::Atom => case.authors.clone(),
            Format::Json => case.authors.iter().map(|p| Person { email: None, ..p.clone() }).collect(),
        };
        prop_assert_eq!(&b.authors, &want_authors, "{:?} authors", format);
        prop_assert_eq!(&b.categories, &case.categories, "{:?} categories", format);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn entries_survive_rss(cases in cases()) {
        round_trip(Format::Rss, &cases)?;
    }

    #[test]
    fn entries_survive_atom(cases in cases()) {
        round_trip(Format::Atom, &cases)?;
    }

    #[test]
    fn entries_survive_json_feed(cases in cases()) {
        round_trip(Format::Json, &cases)?;
    }
}
