//! `RawFeed` → `Entry`: titles, URLs, dates, fallbacks, field caps and reuse of stored entries.

use super::*;
use crate::model::{FeedFormat, Text};

fn cx(doc: &Url) -> Context<'_> {
    Context {
        source: "abai",
        doc_url: Some(doc),
        timezone: chrono_tz::Asia::Almaty,
        now: DateTime::parse_from_rfc3339("2024-11-23T10:00:00Z").unwrap().with_timezone(&Utc),
        strip_tracking: true,
        locale: None,
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
        title: Some(Text::plain("  Бауыржан Байбек &laquo;Nur Otan&raquo;-ның айтысты қайта қолға алатынын айтты ")),
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
fn an_entry_with_only_an_enclosure_or_image_is_kept_and_titled_by_its_file() {
    let doc = Url::parse("https://radio.example.kz/archive/rss").unwrap();
    let enclosure = Enclosure { url: "/a/1968.mp3".into(), ..Enclosure::default() };
    let entries = vec![
        RawEntry { enclosures: vec![enclosure], ..RawEntry::default() },
        RawEntry { image: Some("photos/1970.jpg".into()), ..RawEntry::default() },
        RawEntry { categories: vec!["only a category".into()], ..RawEntry::default() },
        RawEntry { content: Some(Text::html("<p><img src=\"/p.jpg?a=1&amp;b=2\"></p>")), ..RawEntry::default() },
        RawEntry { summary: Some(Text::html("<p> <script>x()</script></p>")), ..RawEntry::default() },
    ];
    let n = feed(&feed_with(entries), &cx(&doc));
    let titles: Vec<&str> = n.candidates.iter().map(|c| c.entry.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "https://radio.example.kz/a/1968.mp3",
            "https://radio.example.kz/archive/photos/1970.jpg",
            "https://radio.example.kz/p.jpg?a=1&b=2"
        ]
    );
    assert_eq!(n.candidates[0].entry.enclosures[0].url, "https://radio.example.kz/a/1968.mp3");
    assert_eq!(
        n.warnings,
        [
            "entry #3: no title, link, text, enclosure or image; skipped",
            "entry #5: no title, link, text, enclosure or image; skipped"
        ]
    );
}

#[test]
fn categories_are_deduplicated_ignoring_case_and_keep_their_first_spelling() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let raw = RawEntry {
        title: Some(Text::plain("t")),
        categories: vec![
            "Саясат".into(),
            "News".into(),
            " САЯСАТ ".into(),
            "news".into(),
            "Law &amp; order".into(),
            "law & ORDER".into(),
        ],
        ..RawEntry::default()
    };
    let n = feed(&feed_with(vec![raw]), &cx(&doc));
    assert_eq!(n.candidates[0].entry.categories, ["Саясат", "News", "Law & order"]);
}

#[test]
fn a_text_resolves_against_its_own_base_and_the_others_against_the_entry() {
    let doc = Url::parse("https://ex.org/feed").unwrap();
    let raw = RawEntry {
        title: Some(Text::plain("t")),
        base: Some("/entries/".into()),
        summary: Some(Text::html("<a href=\"s.html\">s</a>")),
        content: Some(
            Text::html("<img src=\"tent.jpg\"><a href=\"../maps/\">m</a>")
                .with_base(Some("https://media.ex.org/photos/".into())),
        ),
        ..RawEntry::default()
    };
    let n = feed(&feed_with(vec![raw]), &cx(&doc));
    let e = &n.candidates[0].entry;
    assert_eq!(
        e.summary_html.as_deref(),
        Some("<a href=\"https://ex.org/entries/s.html\" rel=\"noopener noreferrer\">s</a>")
    );
    assert_eq!(
        e.content_html.as_deref(),
        Some("<img src=\"https://media.ex.org/photos/tent.jpg\"><a href=\"https://media.ex.org/maps/\" rel=\"noopener noreferrer\">m</a>")
    );
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

#[test]
fn oversized_fields_are_cut_or_dropped_with_one_warning_per_kind() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let long_url = format!("https://abai.kz/{}", "a".repeat(MAX_URL_BYTES));
    let big = |i: usize| RawEntry {
        id: Some(format!("urn:x:{}", "9".repeat(MAX_URL_BYTES))),
        link: Some(long_url.clone()),
        title: Some(Text::plain(format!("Entry {i} {}", "сөз ".repeat(2000)))),
        content: Some(Text::html(format!("<p>{}</p><p class=\"never-closed", "word ".repeat(MAX_HTML_BYTES / 5)))),
        authors: vec![Person {
            name: Some("Ә".repeat(1000)),
            email: Some(format!("{}@ex.kz", "a".repeat(300))),
            url: Some(long_url.clone()),
        }],
        categories: vec!["к".repeat(1000)],
        published: Some(format!("2019-07-11 {}", "x".repeat(MAX_DATE_BYTES))),
        ..RawEntry::default()
    };
    let n = feed(&feed_with(vec![big(1), big(2)]), &cx(&doc));
    assert_eq!(n.candidates.len(), 2);
    let c = &n.candidates[0];
    assert_eq!(c.guid, None, "an id that long is dropped, not cut");
    let e = &c.entry;
    assert_eq!(e.url, None);
    assert!(e.title.len() <= MAX_TITLE_BYTES && e.title.starts_with("Entry 1 сөз") && e.title.ends_with('…'));
    let content = e.content_html.as_deref().unwrap();
    assert!(content.len() <= MAX_HTML_BYTES + 64, "{}", content.len());
    assert!(content.starts_with("<p>word") && content.ends_with("</p>") && !content.contains("never"));
    assert_eq!(e.authors.len(), 1);
    let author = &e.authors[0];
    assert!(author.name.as_ref().is_some_and(|n| n.len() <= MAX_LABEL_BYTES && n.ends_with('…')));
    assert_eq!((author.email.as_deref(), author.url.as_deref()), (None, None));
    assert!(e.categories[0].len() <= MAX_LABEL_BYTES);
    assert_eq!(e.published, None);
    let w = &n.warnings;
    for expected in [
        "title longer than 2048 bytes cut (2 times, first in entry #1)",
        "summary or content longer than 1048576 bytes of HTML cut (2 times, first in entry #1)",
        "author name or category longer than 256 bytes cut (4 times, first in entry #1)",
        "link or id longer than 8192 bytes dropped (2 times, first in entry #1)",
    ] {
        assert!(w.iter().any(|l| l == expected), "{expected}: {w:#?}");
    }
    assert!(w.iter().any(|l| l.starts_with("entry #2: published date") && l.contains("too long")), "{w:#?}");
    assert_eq!(w.len(), 6, "{w:#?}");
}

#[test]
fn entries_past_the_cap_are_not_normalized() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let max = crate::model::MAX_ENTRIES;
    let raw = (0..=max).map(|i| RawEntry { title: Some(Text::plain(i.to_string())), ..RawEntry::default() });
    let n = feed(&feed_with(raw.collect()), &cx(&doc));
    assert_eq!(n.candidates.len(), max);
    assert_eq!(n.warnings, [format!("{} entries; only the first {max} kept", max + 1)]);
}

#[test]
fn html_is_cut_before_a_split_tag() {
    assert_eq!(text::html_prefix("<p>ab</p><a href=\"x\">", 12), "<p>ab</p>");
    assert_eq!(text::html_prefix("<p>ab</p>", 5), "<p>ab");
    assert_eq!(text::html_prefix("<p>ab</p>", 2), "");
    assert_eq!(text::html_prefix("ҚҚ", 3), "Қ");
}

fn story(n: u32, title: &str, published: &str) -> RawEntry {
    RawEntry {
        id: Some(format!("https://abai.kz/post/{n}")),
        link: Some(format!("/post/{n}")),
        title: Some(Text::plain(title)),
        content: Some(Text::html(format!("<p>Мақала мәтіні нөмір {n}: айтыс туралы.</p>"))),
        published: Some(published.into()),
        ..RawEntry::default()
    }
}

#[test]
fn a_stored_entry_is_reused_by_its_raw_digest_and_the_others_are_normalized() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let raw = feed_with(vec![
        story(2, "Екінші", "11 Шілде, 2019 сағат 12:20"),
        story(1, "Бірінші", "10 Шілде, 2019 сағат 09:00"),
    ]);
    let fresh = feed(&raw, &cx(&doc));
    let digests: Vec<RawDigest> = fresh.candidates.iter().map(|c| c.digest.unwrap()).collect();
    assert_ne!(digests[0], digests[1]);
    assert_eq!(feed(&raw, &cx(&doc)).candidates[1].digest, Some(digests[1]), "the same input, the same digest");

    // The store knows entry 1 (as an earlier run left it, id and all) and something else.
    let mut stored = fresh.candidates[1].entry.clone();
    stored.id = "https://abai.kz/post/1".into();
    stored.title = "Бірінші (as stored)".into();
    let mut asked = Vec::new();
    let reused = feed_reusing(&raw, &cx(&doc), |d| {
        asked = d.to_vec();
        HashMap::from([(digests[1], stored.clone()), ([7; 16], stored.clone())])
    });
    assert_eq!(asked, digests);
    let titles: Vec<&str> = reused.candidates.iter().map(|c| c.entry.title.as_str()).collect();
    assert_eq!(titles, ["Екінші", "Бірінші (as stored)"], "entry 1 is the stored one, entry 2 normalized");
    let c = &reused.candidates[1];
    assert_eq!((c.entry.id.as_str(), c.guid.as_deref()), ("", Some("https://abai.kz/post/1")));
    assert_eq!(c.digest, Some(digests[1]));
}

/// Links and an id that is the link lose their tracking parameters; other ids and enclosure URLs
/// (often signed or counted) are kept as written; `strip_tracking = false` keeps everything.
#[test]
fn tracking_parameters_leave_links_and_ids_that_are_links_only() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let tracked = "https://abai.kz/post/1?utm_source=rss&id=7&fbclid=x#c";
    let enclosure = "https://cdn.abai.kz/a.mp3?utm_source=rss&sig=1";
    let entries = vec![
        RawEntry {
            title: Some(Text::plain("Бірінші")),
            id: Some(tracked.into()),
            link: Some(tracked.into()),
            enclosures: vec![Enclosure { url: enclosure.into(), ..Enclosure::default() }],
            ..RawEntry::default()
        },
        RawEntry {
            title: Some(Text::plain("Екінші")),
            id: Some("https://abai.kz/?p=2&utm_source=rss".into()),
            link: Some("https://abai.kz/post/2?utm_medium=x".into()),
            ..RawEntry::default()
        },
    ];
    let n = feed(&feed_with(entries.clone()), &cx(&doc));
    let first = &n.candidates[0];
    assert_eq!(first.entry.url.as_deref(), Some("https://abai.kz/post/1?id=7#c"));
    assert_eq!(first.guid.as_deref(), Some("https://abai.kz/post/1?id=7#c"));
    assert_eq!(first.entry.enclosures[0].url, enclosure);
    let second = &n.candidates[1];
    assert_eq!(second.entry.url.as_deref(), Some("https://abai.kz/post/2"));
    assert_eq!(second.guid.as_deref(), Some("https://abai.kz/?p=2&utm_source=rss"), "an id that is not the link");

    let verbatim = Context { strip_tracking: false, ..cx(&doc) };
    let n = feed(&feed_with(entries), &verbatim);
    assert_eq!(n.candidates[0].entry.url.as_deref(), Some(tracked));
    assert_eq!(n.candidates[0].guid.as_deref(), Some(tracked));
}

#[test]
fn the_digest_covers_what_normalizing_depends_on() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    let digest = |raw: &RawFeed, cx: &Context| feed(raw, cx).candidates[0].digest.unwrap();
    let raw = feed_with(vec![story(1, "Бірінші", "10 Шілде, 2019 сағат 09:00")]);
    let base = digest(&raw, &cx(&doc));

    let mut edited = raw.clone();
    edited.entries[0].content = Some(Text::html("<p>Мақала мәтіні нөмір 1: айтыс туралы!</p>"));
    let mut as_text = raw.clone();
    as_text.entries[0].content.as_mut().unwrap().kind = TextKind::Text;
    let mut language = raw.clone();
    language.language = Some("ru".into());
    let elsewhere = Url::parse("https://m.abai.kz/rss").unwrap();
    let moscow = Context { timezone: chrono_tz::Europe::Moscow, ..cx(&doc) };
    let verbatim = Context { strip_tracking: false, ..cx(&doc) };
    for (what, other) in [
        ("an edited text", digest(&edited, &cx(&doc))),
        ("a text read as plain text", digest(&as_text, &cx(&doc))),
        ("the feed's language", digest(&language, &cx(&doc))),
        ("the document's URL (relative links)", digest(&raw, &cx(&elsewhere))),
        ("the source's zone (zoneless dates)", digest(&raw, &moscow)),
        ("keeping tracking parameters", digest(&raw, &verbatim)),
    ] {
        assert_ne!(other, base, "{what} changes the digest");
    }
    let later = Context { now: cx(&doc).now + chrono::Duration::days(30), ..cx(&doc) };
    assert_eq!(digest(&raw, &later), base, "the run's clock does not");
}

#[test]
fn a_stored_entry_that_lost_a_date_is_normalized_again() {
    let doc = Url::parse("https://abai.kz/rss").unwrap();
    // Two days ahead of the run: taken for a clock mistake, and dropped.
    let raw = feed_with(vec![story(1, "Бірінші", "2024-11-25T10:00:00Z")]);
    let first = feed(&raw, &cx(&doc)).candidates.remove(0);
    assert_eq!(first.entry.published, None);

    let later = Context { now: cx(&doc).now + chrono::Duration::days(3), ..cx(&doc) };
    let mut stored = first.entry.clone();
    stored.title = "as stored".into();
    let again = feed_reusing(&raw, &later, |_| HashMap::from([(first.digest.unwrap(), stored)]));
    let e = &again.candidates[0].entry;
    assert_eq!(e.title, "Бірінші", "normalized again, not reused");
    assert_eq!(e.published.map(|d| d.to_rfc3339()).as_deref(), Some("2024-11-25T10:00:00+00:00"));
}

#[test]
fn dates_are_read_in_the_source_locale_else_the_declared_language() {
    let doc = Url::parse("https://example.de/rss").unwrap();
    let raw = |published: &str| RawEntry {
        link: Some("/a".into()),
        title: Some(Text::plain("Titel")),
        published: Some(published.into()),
        ..RawEntry::default()
    };
    let german = RawFeed { language: Some("de-DE".into()), ..feed_with(vec![raw("22. November 2023 um 10:00")]) };
    let n = feed(&german, &cx(&doc));
    // Almaty is +06 in 2023.
    assert_eq!(n.candidates[0].entry.published.map(|d| d.to_rfc3339()).as_deref(), Some("2023-11-22T04:00:00+00:00"));
    // The feed claims Kazakh; the source knows better.
    let turkish = feed_with(vec![raw("3 saat önce")]);
    assert!(feed(&turkish, &cx(&doc)).candidates[0].entry.published.is_none(), "not read as Kazakh");
    let locale = dates::DateLocale::from_tag("tr");
    let n = feed(&turkish, &Context { locale, ..cx(&doc) });
    assert_eq!(n.candidates[0].entry.published.map(|d| d.to_rfc3339()).as_deref(), Some("2024-11-23T07:00:00+00:00"));
}

#[test]
fn with_nothing_declared_dates_are_read_in_the_detected_language_but_never_guess_day_or_month() {
    let doc = Url::parse("https://example.org/rss").unwrap();
    let raw = |title: &str, text: &str, published: &str| RawEntry {
        link: Some("/a".into()),
        title: Some(Text::plain(title)),
        summary: Some(Text::plain(text)),
        published: Some(published.into()),
        ..RawEntry::default()
    };
    let german = RawFeed {
        language: None,
        ..feed_with(vec![raw(
            "Die Regierung beschließt neue Regeln für den Wohnungsbau",
            "Nach langen Verhandlungen haben sich die Koalitionspartner am Mittwoch auf ein Gesetz geeinigt, \
             das den Bau von Wohnungen in den Städten beschleunigen soll.",
            "3. März 2024 10:00",
        )])
    };
    let e = &feed(&german, &cx(&doc)).candidates[0].entry;
    assert_eq!(e.language.as_deref(), Some("de"), "the text is German");
    // The test context's zone is Almaty: +05 since Kazakhstan's one zone of 1 March 2024, +06 before.
    assert_eq!(
        e.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-03-03T05:00:00+00:00"),
        "März read as German"
    );

    let english = |language: Option<&str>| RawFeed {
        language: language.map(str::to_owned),
        ..feed_with(vec![raw(
            "The council approves a new plan for the city centre",
            "After a long debate the members of the council agreed on Tuesday to a plan that will change \
             the streets and squares of the old town over the next five years.",
            "01/02/2024 10:00",
        )])
    };
    let e = &feed(&english(None), &cx(&doc)).candidates[0].entry;
    assert_eq!(e.language.as_deref(), Some("en"));
    assert!(e.published.is_none(), "English text does not say whether the day or the month comes first");
    let e = &feed(&english(Some("en-US")), &cx(&doc)).candidates[0].entry;
    assert_eq!(
        e.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-01-02T04:00:00+00:00"),
        "declared: month first"
    );
}
