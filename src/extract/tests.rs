//! Extraction against the fixture sites in `tests/fixtures/sites/`: a golden JSON per page (next to
//! the fixtures, like the feed goldens), plus assertions that pin what matters whatever the goldens
//! say — exact titles, UTC dates, authors, and that no site noise reaches a title, date or body.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::*;
use crate::model::Text;

/// Fetch time of every test: Saturday 2024-11-23, 14:00 in Almaty (+05) — the day the fixture
/// pages' headers show.
const NOW: &str = "2024-11-23T09:00:00Z";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW).unwrap().to_utc()
}

fn cx<'a>(url: &'a Url, tz: &str, format: Option<&'a DateFormat>, locale: Option<Locale>) -> PageContext<'a> {
    PageContext { url, tz: tz.parse().unwrap(), now: now(), locale, date_locale: None, date_format: format }
}

fn golden<T: serde::Serialize>(name: &str, value: &T) {
    insta::with_settings!({
        snapshot_path => "../../tests/fixtures/sites/golden",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, value);
    });
}

fn field(s: &str) -> Option<Field> {
    Some(Field::parse(s).unwrap())
}

/// Strings of site chrome that must never reach a title, date or body.
const NOISE: &[&str] = &[
    "2534",
    "3 пікір",
    "Үздік материалдар",
    "Сенбі",
    "23 Қараша 2024",
    "Бөлісу",
    "Facebook",
    "Twitter",
    "WhatsApp",
    "Telegram",
    "Талқандалған",
    "Шоқанның",
    "1479",
    "Ерлан",
    "Абай Мауқараұлы",
    "Жаңалықтар",
    "Басты бет",
    "©",
    "adsbygoogle",
    "<script",
    "<style",
];

fn assert_clean(what: &str, text: &str, noise: &[&str]) {
    for n in noise {
        assert!(!text.contains(n), "{what} contains noise {n:?}:\n{text}");
    }
    // "пікір" alone is the comment counter's word; inside other words ("пікіріне") it is prose.
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    assert!(!words.contains(&"пікір"), "{what} contains the comment counter's word:\n{text}");
}

fn article_text(a: &Article) -> String {
    format!("{:?}\n{:?}\n{:?}\n{}", a.title, a.published, a.author, a.body_html.as_deref().unwrap_or_default())
}

fn title(e: &crate::model::RawEntry) -> &str {
    e.title.as_ref().map_or("", |t| t.value.as_str())
}

// ---------------------------------------------------------------------------------------------------
// abai: a Kazakh site without a feed, read by the worked example config of the report.
// ---------------------------------------------------------------------------------------------------

const ABAI_INDEX: &str = include_str!("../../tests/fixtures/sites/abai/index.html");
const ABAI_INDEX2: &str = include_str!("../../tests/fixtures/sites/abai/index2.html");
const ABAI_POST: &str = include_str!("../../tests/fixtures/sites/abai/post-95211.html");

/// The `[sources.html]` and `[sources.article]` tables proposed for `feeds.toml`, as the test reads
/// them; the lead's config owns the real definitions.
const ABAI_CONFIG: &str = r#"
[[sources]]
name = "abai"
url = "https://abai.kz/kz/news/index.html"
timezone = "Asia/Almaty"

[sources.html]
item = ".news-list .news-item"
title = "h3.news-title"
link = "h3.news-title a@href"
date = ".news-meta .date"
date_format = "%d %B, %Y сағат %H:%M"
locale = "kk"
summary = ".news-lead"
author = ".author"
image = ".news-thumb img"
next = ".pagination a.next"
pages = 2

[sources.article]
title = "h1.post-title"
date = ".post-meta .date"
body = ".post-body"
remove = [".adv-inline"]
"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestConfig {
    sources: Vec<TestSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSource {
    name: String,
    url: Url,
    timezone: String,
    html: TestHtml,
    article: TestArticle,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestHtml {
    item: String,
    title: Option<String>,
    link: Option<String>,
    date: Option<String>,
    date_format: Option<String>,
    locale: Option<String>,
    summary: Option<String>,
    author: Option<String>,
    image: Option<String>,
    next: Option<String>,
    pages: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestArticle {
    title: Option<String>,
    date: Option<String>,
    author: Option<String>,
    body: Option<String>,
    #[serde(default)]
    remove: Vec<String>,
}

fn opt_field(s: Option<&String>) -> Option<Field> {
    s.map(|s| Field::parse(s).unwrap())
}

fn abai_config() -> (TestSource, ListingRules, ArticleRules, Option<DateFormat>, Option<Locale>) {
    let mut config: TestConfig = toml::from_str(ABAI_CONFIG).unwrap();
    let source = config.sources.remove(0);
    let h = &source.html;
    let listing = ListingRules {
        item: parse_selector(&h.item).unwrap(),
        title: opt_field(h.title.as_ref()),
        link: opt_field(h.link.as_ref()),
        date: opt_field(h.date.as_ref()),
        summary: opt_field(h.summary.as_ref()),
        author: opt_field(h.author.as_ref()),
        image: opt_field(h.image.as_ref()),
        next: opt_field(h.next.as_ref()),
    };
    let a = &source.article;
    let article = ArticleRules {
        title: opt_field(a.title.as_ref()),
        date: opt_field(a.date.as_ref()),
        author: opt_field(a.author.as_ref()),
        body: opt_field(a.body.as_ref()),
        remove: a.remove.iter().map(|s| parse_selector(s).unwrap()).collect(),
    };
    let format = h.date_format.as_deref().map(|f| DateFormat::parse(f).unwrap());
    let locale = h.locale.as_deref().map(|l| l.parse().unwrap());
    (source, listing, article, format, locale)
}

#[test]
fn abai_worked_example_reads_two_listing_pages_and_an_article() {
    let (source, rules, article_rules, format, locale) = abai_config();
    assert_eq!((source.name.as_str(), source.html.pages), ("abai", Some(2)));
    let page1 = listing(ABAI_INDEX, &rules, &cx(&source.url, &source.timezone, format.as_ref(), locale));
    golden("abai-index", &page1);
    let got: Vec<(&str, Option<&str>, Option<&str>)> =
        page1.entries.iter().map(|e| (title(e), e.link.as_deref(), e.published.as_deref())).collect();
    assert_eq!(
        got,
        [
            (
                "Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты",
                Some("https://abai.kz/kz/news/post-95211.html"),
                Some("2019-07-11T06:20:00Z"),
            ),
            (
                "«Таласбек сыйлығы»: Талқандалған талғам...",
                Some("https://abai.kz/kz/news/post-95180.html"),
                Some("2019-07-10T12:05:00Z"),
            ),
            (
                "«Шығыс Түркістан мемлекеті бейбіт түрде жоғалды»",
                Some("https://abai.kz/kz/news/post-95102.html"),
                Some("2019-07-09T03:45:00Z"),
            ),
            // "2 сағат бұрын" does not fit the format; the lenient reader counts back from the fetch.
            ("Шоқанның әзіл-сықақтары", Some("https://abai.kz/kz/news/post-95250.html"), Some("2024-11-23T07:00:00Z")),
        ],
        "the pinned repeat of the lead story is dropped"
    );
    let authors: Vec<Option<&str>> =
        page1.entries.iter().map(|e| e.authors.first().and_then(|p| p.name.as_deref())).collect();
    assert_eq!(authors, [None, Some("Абай Мауқараұлы"), Some("Әлімжан Әшімұлы"), Some("Бағдат Ақылбеков")]);
    assert_eq!(page1.entries[0].image.as_deref(), Some("https://abai.kz/uploads/2019/07/baibek-kyzylorda.jpg"));
    assert_eq!(
        page1.entries[3].summary,
        Some(Text::html("Замандастарының естеліктерінде Шоқанның <b>өткір тілі</b> жиі аталады."))
    );
    assert_eq!(page1.entries[0].language.as_deref(), Some("kk"));
    assert!(page1.warnings.is_empty(), "{:?}", page1.warnings);
    for e in &page1.entries {
        assert_clean("listing title", title(e), &["2534", "пікір", "Сенбі"]);
    }

    let next = page1.next_page.expect("page 1 links to page 2");
    assert_eq!(next.as_str(), "https://abai.kz/kz/news/index2.html");
    let page2 = listing(ABAI_INDEX2, &rules, &cx(&next, &source.timezone, format.as_ref(), locale));
    golden("abai-index2", &page2);
    let got: Vec<(&str, Option<&str>)> = page2.entries.iter().map(|e| (title(e), e.link.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("Айтыс ақындары Алматыда бас қосады", Some("https://abai.kz/kz/news/post-94990.html")),
            ("Редакциядан хабарландыру", None),
        ],
        "an item with a title but no link is kept; one with neither is not"
    );
    assert_eq!(page2.next_page, None);
    assert_eq!(page2.warnings, ["item 3: no link and no title; skipped"]);

    let post_url = Url::parse(page1.entries[0].link.as_deref().unwrap()).unwrap();
    let post = article(ABAI_POST, &article_rules, &cx(&post_url, &source.timezone, format.as_ref(), locale));
    golden("abai-post-95211-selectors", &post);
    assert_abai_post(&post);
    assert_eq!(post.date_origin, Some(DateOrigin::Selector));
}

fn assert_abai_post(post: &Article) {
    assert_eq!(post.title.as_deref(), Some("Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты"));
    assert_eq!(post.published.map(|t| t.to_rfc3339()), Some("2019-07-11T06:20:00+00:00".to_owned()));
    assert_eq!(post.author, None, "the page names no author; the sidebar's authors are not this story's");
    assert_eq!(post.image.as_deref(), Some("https://abai.kz/uploads/2019/07/baibek-kyzylorda.jpg"));
    assert_clean("abai article", &article_text(post), NOISE);
    let body = post.body_html.as_deref().unwrap_or_default();
    assert_eq!(body.matches("<p>").count(), 23, "21 paragraphs from the seed, the link line, the signature:\n{body}");
    assert!(body.starts_with("<p>«Nur Otan» партиясы Төрағасының Бірінші орынбасары"), "{body}");
    assert!(body.contains("– Партияның қолдауымен енді ай сайын әр өңірде айтыс ұйымдастырылады."), "{body}");
    assert!(body.contains(r#" src="https://abai.kz/uploads/2019/07/baibek-youth.jpg""#), "{body}");
    assert!(body.contains(r#"<a href="https://abai.kz/kz/tag/nur-otan">"#), "{body}");
    assert!(body.ends_with("<p><strong>Abai.kz</strong></p>"), "{body}");
}

#[test]
fn abai_article_without_selectors_is_as_clean() {
    let url = Url::parse("https://abai.kz/kz/news/post-95211.html").unwrap();
    let post = article(ABAI_POST, &ArticleRules::default(), &cx(&url, "Asia/Almaty", None, None));
    golden("abai-post-95211-auto", &post);
    assert_abai_post(&post);
    assert_eq!(post.date_origin, Some(DateOrigin::Text));
    assert!(post.warnings.is_empty(), "{:?}", post.warnings);
}

#[test]
fn abai_listing_with_only_an_item_selector() {
    let url = Url::parse("https://abai.kz/kz/news/index.html").unwrap();
    let rules = ListingRules::new(parse_selector(".news-item").unwrap());
    let page = listing(ABAI_INDEX, &rules, &cx(&url, "Asia/Almaty", None, None));
    let (_, configured, _, format, locale) = abai_config();
    let full = listing(ABAI_INDEX, &configured, &cx(&url, "Asia/Almaty", format.as_ref(), locale));
    assert_eq!(page, full, "the guesses give what the worked example's selectors give");
}

// ---------------------------------------------------------------------------------------------------
// A Russian site in windows-1251.
// ---------------------------------------------------------------------------------------------------

#[test]
fn russian_cp1251_listing_and_article() {
    let index = crate::decode::decode(include_bytes!("../../tests/fixtures/sites/ru-cp1251/index.html"), None);
    assert_eq!(index.encoding, encoding_rs::WINDOWS_1251);
    let url = Url::parse("https://vestnik.example.kz/news/index.html").unwrap();
    let rules = ListingRules {
        title: field("a.news-feed__link"),
        date: field(".news-feed__date"),
        summary: field(".news-feed__text"),
        ..ListingRules::new(parse_selector("li.news-feed__item").unwrap())
    };
    let page = listing(&index.text, &rules, &cx(&url, "Asia/Almaty", None, Some(Locale::Ru)));
    golden("ru-cp1251-index", &page);
    let got: Vec<(&str, Option<&str>, Option<&str>)> =
        page.entries.iter().map(|e| (title(e), e.link.as_deref(), e.published.as_deref())).collect();
    assert_eq!(
        got,
        [
            (
                "Урожай зерна в Акмолинской области превысит прошлогодний",
                Some("https://vestnik.example.kz/news/zerno.html"),
                Some("2019-07-11T06:20:00Z"),
            ),
            (
                "В Астане открыли движение по новому мосту через Есиль",
                Some("https://vestnik.example.kz/news/2024/11/23/most.html"),
                Some("2024-11-23T07:00:00Z"),
            ),
            (
                "«Барыс» обыграл «Салават Юлаев» в овертайме",
                Some("https://vestnik.example.kz/news/2024/11/22/hokkey.html"),
                Some("2024-11-22T16:47:00Z"),
            ),
        ]
    );
    assert_eq!(page.next_page.map(String::from).as_deref(), Some("https://vestnik.example.kz/news/?page=2"));

    let post = crate::decode::decode(include_bytes!("../../tests/fixtures/sites/ru-cp1251/zerno.html"), None);
    let post_url = Url::parse("https://vestnik.example.kz/news/zerno.html").unwrap();
    let a = article(&post.text, &ArticleRules::default(), &cx(&post_url, "Asia/Almaty", None, Some(Locale::Ru)));
    golden("ru-cp1251-zerno", &a);
    assert_eq!(a.title.as_deref(), Some("Урожай зерна в Акмолинской области превысит прошлогодний"));
    assert_eq!(a.published.map(|t| t.to_rfc3339()), Some("2019-07-11T06:20:00+00:00".to_owned()));
    assert_eq!(a.author.as_deref(), Some("Ирина Ковалёва"));
    assert_eq!(a.image.as_deref(), Some("https://vestnik.example.kz/img/2019/07/kombain.jpg"));
    let ru_noise = [
        "Просмотров",
        "1234",
        "комментариев",
        "Поделиться",
        "ВКонтакте",
        "Читайте также",
        "ливень",
        "Суббота",
        "Степной вестник",
    ];
    assert_clean("ru article", &article_text(&a), &ru_noise);
    assert_eq!(a.body_html.as_deref().unwrap_or_default().matches("<p>").count(), 5);
}

// ---------------------------------------------------------------------------------------------------
// An English blog with structured data.
// ---------------------------------------------------------------------------------------------------

#[test]
fn english_blog_prefers_structured_data() {
    let url = Url::parse("https://fieldnotes.example.com/").unwrap();
    let html = include_str!("../../tests/fixtures/sites/blog-en/index.html");
    let page =
        listing(html, &ListingRules::new(parse_selector("article.post-card").unwrap()), &cx(&url, "UTC", None, None));
    golden("blog-en-index", &page);
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let got: Vec<Row<'_>> = page
        .entries
        .iter()
        .map(|e| {
            (title(e), e.link.as_deref(), e.published.as_deref(), e.authors.first().and_then(|p| p.name.as_deref()))
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "Counting saiga on the Betpak-Dala",
                Some("https://fieldnotes.example.com/post.html"),
                Some("2024-11-20T14:30:00Z"),
                Some("Jane Doe"),
            ),
            (
                "What the steppe fires left behind",
                Some("https://fieldnotes.example.com/2024/11/steppe-fires/"),
                Some("2024-11-02T00:00:00Z"),
                Some("Arman Seitkali"),
            ),
            (
                "Wild tulips of the Aksu-Zhabagly reserve",
                Some("https://fieldnotes.example.com/2024/10/tulips/"),
                Some("2024-10-15T12:00:00Z"),
                Some("Jane Doe"),
            ),
        ]
    );
    assert_eq!(page.entries[0].image.as_deref(), Some("https://fieldnotes.example.com/images/saiga-thumb.jpg"));
    assert_eq!(page.next_page.map(String::from).as_deref(), Some("https://fieldnotes.example.com/page/2/"));

    let post_url = Url::parse("https://fieldnotes.example.com/2024/11/saiga/").unwrap();
    let post = article(
        include_str!("../../tests/fixtures/sites/blog-en/post.html"),
        &ArticleRules::default(),
        &cx(&post_url, "UTC", None, None),
    );
    golden("blog-en-post", &post);
    assert_eq!(post.title.as_deref(), Some("Counting saiga on the Betpak-Dala"));
    assert_eq!(post.published.map(|t| t.to_rfc3339()), Some("2024-11-20T14:30:00+00:00".to_owned()));
    assert_eq!(post.date_origin, Some(DateOrigin::JsonLd));
    assert_eq!(post.author.as_deref(), Some("Jane Doe"));
    assert_eq!(post.image.as_deref(), Some("https://fieldnotes.example.com/images/saiga.jpg"));
    let body = post.body_html.as_deref().unwrap_or_default();
    assert!(body.contains(r#" src="https://fieldnotes.example.com/2024/11/saiga/images/saiga.jpg""#), "{body}");
    assert!(body.contains("<h2>What we found</h2>") && body.contains("<blockquote>"), "{body}");
    let en_noise =
        ["Share", "Related posts", "Wild tulips", "Golden eagles", "Tags:", "6 min read", "analytics", "Field Notes"];
    assert_clean("blog article", &article_text(&post), &en_noise);
}

#[test]
fn a_user_date_selector_wins_over_structured_data() {
    let url = Url::parse("https://fieldnotes.example.com/2024/11/saiga/").unwrap();
    let rules = ArticleRules { date: field(".related-posts time@datetime"), ..ArticleRules::default() };
    let post =
        article(include_str!("../../tests/fixtures/sites/blog-en/post.html"), &rules, &cx(&url, "UTC", None, None));
    assert_eq!(post.published.map(|t| t.to_rfc3339()), Some("2024-10-15T12:00:00+00:00".to_owned()));
    assert_eq!(post.date_origin, Some(DateOrigin::Selector));
    let rules = ArticleRules { date: field(".nowhere"), title: field("h5"), ..ArticleRules::default() };
    let post =
        article(include_str!("../../tests/fixtures/sites/blog-en/post.html"), &rules, &cx(&url, "UTC", None, None));
    assert_eq!(post.date_origin, Some(DateOrigin::JsonLd));
    assert_eq!(post.title.as_deref(), Some("Counting saiga on the Betpak-Dala"));
    assert_eq!(
        post.warnings,
        [
            r#"title selector "h5" found nothing; guessing instead"#,
            r#"date selector ".nowhere" found nothing; guessing instead"#
        ]
    );
}

#[test]
fn page_dates_are_read_in_the_html_lang_unless_the_source_names_a_locale() {
    let url = Url::parse("https://zeitung.example.de/2024/11/artikel").unwrap();
    let page = r#"<html lang="de"><head><title>Artikel</title></head><body><article><h1>Ein Artikel</h1>
        <p class="date">22. März 2024 um 10:00</p><p>Der Text des Artikels, lang genug, um ein Artikel zu sein.</p>
        </article></body></html>"#;
    let rules = ArticleRules { date: field(".date"), ..ArticleRules::default() };
    let post = article(page, &rules, &cx(&url, "Europe/Berlin", None, None));
    assert_eq!(post.published.map(|t| t.to_rfc3339()), Some("2024-03-22T09:00:00+00:00".to_owned()));
    // A source's locale wins over the page's claim: Turkish has no "März".
    let turkish = PageContext { date_locale: DateLocale::from_tag("tr"), ..cx(&url, "Europe/Berlin", None, None) };
    assert_eq!(article(page, &rules, &turkish).published, None);
}

// ---------------------------------------------------------------------------------------------------
// A summary-only feed: its entries get their text from the article page.
// ---------------------------------------------------------------------------------------------------

#[test]
fn summary_only_feed_gets_full_text() {
    let feed = include_str!("../../tests/fixtures/sites/summary-only/feed.xml");
    assert!(feed.contains("<description>A 20-qubit machine is open to students from January.</description>"));
    let url = Url::parse("https://qtr.example.kz/2024/11/quantum-lab/").unwrap();
    let html = include_str!("../../tests/fixtures/sites/summary-only/article-1.html");
    let a = article(html, &ArticleRules::default(), &cx(&url, "Asia/Almaty", None, None));
    golden("summary-only-article-1", &a);
    assert_eq!(a.title.as_deref(), Some("Almaty opens its first public quantum computing lab"));
    assert_eq!(a.published.map(|t| t.to_rfc3339()), Some("2024-11-22T05:15:00+00:00".to_owned()));
    assert_eq!(a.date_origin, Some(DateOrigin::Meta));
    assert_eq!(a.author.as_deref(), Some("Dana Nurlanova"));
    let body = a.body_html.as_deref().unwrap_or_default();
    assert_eq!(body.matches("<p>").count(), 3, "{body}");
    let noise = [
        "Share this",
        "Related",
        "Parliament",
        "7 comments",
        "1,204",
        "Great news",
        "Most read",
        "Subscribe",
        "Friday",
    ];
    assert_clean("summary-only article", &article_text(&a), &noise);
}

// ---------------------------------------------------------------------------------------------------
// Discovery.
// ---------------------------------------------------------------------------------------------------

#[test]
fn advertised_feeds_are_found_and_resolved() {
    let url = Url::parse("https://steppe-daily.example.net/index.html").unwrap();
    let found = discover(include_str!("../../tests/fixtures/sites/home/index.html"), &url);
    golden("home-discover", &found);
    let got: Vec<(&str, FeedKind, Option<&str>)> =
        found.iter().map(|a| (a.url.as_str(), a.kind, a.title.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("https://steppe-daily.example.net/feed/rss.xml", FeedKind::Rss, Some("Steppe Daily — all news")),
            ("https://steppe-daily.example.net/feed/atom.xml", FeedKind::Atom, Some("Steppe Daily (Atom)")),
            ("https://steppe-daily.example.net/news/feed.json", FeedKind::Json, Some("Steppe Daily (JSON Feed)")),
            ("https://steppe-daily.example.net/comments/feed/", FeedKind::Rss, Some("Comments")),
        ]
    );
    assert_eq!(discover(ABAI_INDEX, &url), []);
}

#[derive(Deserialize)]
struct SkeletonConfig {
    sources: Vec<SkeletonSource>,
}

#[derive(Deserialize)]
struct SkeletonSource {
    name: String,
    url: Url,
    html: TestHtml,
}

#[test]
fn skeleton_for_a_feedless_page_reads_it() {
    let url = Url::parse("https://abai.kz/kz/news/index.html").unwrap();
    let block = skeleton(ABAI_INDEX, &url, "abai");
    insta::with_settings!({
        snapshot_path => "../../tests/fixtures/sites/golden",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("abai-skeleton", block);
    });
    let config: SkeletonConfig = toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    let source = &config.sources[0];
    assert_eq!((source.name.as_str(), &source.url), ("abai", &url));
    let h = &source.html;
    let rules = ListingRules {
        item: parse_selector(&h.item).unwrap(),
        title: opt_field(h.title.as_ref()),
        link: opt_field(h.link.as_ref()),
        date: opt_field(h.date.as_ref()),
        summary: opt_field(h.summary.as_ref()),
        author: opt_field(h.author.as_ref()),
        image: opt_field(h.image.as_ref()),
        next: opt_field(h.next.as_ref()),
    };
    let guessed = listing(ABAI_INDEX, &rules, &cx(&url, "Asia/Almaty", None, None));
    let (_, configured, _, format, locale) = abai_config();
    let expected = listing(ABAI_INDEX, &configured, &cx(&url, "Asia/Almaty", format.as_ref(), locale));
    assert_eq!(guessed, expected, "the skeleton's guesses read the page as the worked example does:\n{block}");

    let blog = skeleton(include_str!("../../tests/fixtures/sites/blog-en/index.html"), &url, "blog");
    assert!(blog.contains("item = \"article.post-card\""), "{blog}");
    assert!(blog.contains("date = \"time@datetime\""), "{blog}");
}

#[test]
fn absurdly_deep_pages_are_refused_not_crashed_on() {
    let url = Url::parse("https://ex.kz/").unwrap();
    let page = |depth: usize| {
        let text = "Deep text that is long enough to count as a paragraph of a story, really.";
        format!("<html><body>{}<p>{text}</p>{}</body></html>", "<div>".repeat(depth), "</div>".repeat(depth))
    };
    let ok = article(&page(400), &ArticleRules::default(), &cx(&url, "UTC", None, None));
    assert!(ok.body_html.is_some_and(|b| b.contains("Deep text")));
    let deep = article(&page(600), &ArticleRules::default(), &cx(&url, "UTC", None, None));
    assert_eq!(deep.body_html, None);
    assert_eq!(deep.warnings, ["the page nests elements 603 deep (more than 512); not read"]);
    let rules = ListingRules::new(parse_selector("div").unwrap());
    assert_eq!(listing(&page(600), &rules, &cx(&url, "UTC", None, None)).entries, []);
    assert!(skeleton(&page(600), &url, "deep").contains("# Warning: the page nests elements"));
}
