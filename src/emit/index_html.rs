//! `index.html`: a [`SiteDoc`] in, the human-readable front page of the output folder out.
//!
//! One self-contained HTML5 file so it works from any static host or straight from disk: inline CSS
//! only, the system's own fonts, no JavaScript and no external assets (a Content-Security-Policy in the
//! page forbids both, so a bug in escaping still could not run a script), light and dark by
//! `prefers-color-scheme`, one column that fits a phone. It shows the site's title and description;
//! per category its title, its three feeds (links, and their addresses as text to copy: absolute when
//! `[output] base_url` is set) and its newest [`LATEST`] entries; then every source with its health.
//! The `<head>` carries one `<link rel="alternate">` per feed so readers pointed at the site find every
//! feed on their own. Links are relative, as the output folder may be served under any prefix.
//!
//! Words and dates follow `[output] language` (see `emit/human.rs`); dates are absolute, in UTC, with
//! a machine-readable `<time datetime>`; an undated entry shows none. Entry links, titles and source site URLs come from the feeds,
//! so they are untrusted: only `http(s)` URLs become links (a `javascript:` URL would otherwise run on
//! click), and everything is escaped.

use chrono::{DateTime, Utc};

use super::fmt::{element, push_attr, push_rfc3339, push_text, web_url};
use super::human::{Lang, Words};
use super::{CategoryRef, EntryRef, SiteDoc, SourceRef, GENERATOR};
use crate::config::ALL;

/// Entries listed per category; the feeds themselves hold the rest.
pub const LATEST: usize = 10;

/// The id of the sources section: it has a `.`, which no category slug may have, so it never clashes
/// with a category's id.
const SOURCES_ID: &str = "feedmill.sources";

/// A failure message is cut to this many characters on the page; the full text is its tooltip.
const ERROR_CHARS: usize = 160;

/// Nothing may load or run: the page is complete as it is.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1c1d21;--bg:#fff;--muted:#5d6068;--line:#dfe1e6;--card:#f4f5f7;\
--link:#0b57d0;--ok:#137333;--bad:#b3261e}\
@media (prefers-color-scheme:dark){:root{--fg:#e4e5e9;--bg:#121317;--muted:#a1a4ad;--line:#2c2e35;\
--card:#1c1e23;--link:#8ab4f8;--ok:#81c995;--bad:#f2968f}}\
*{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\
body{margin:0 auto;max-width:48rem;padding:0 1rem;background:var(--bg);color:var(--fg);\
font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",Ubuntu,Cantarell,\"Helvetica Neue\",Arial,sans-serif;\
overflow-wrap:anywhere}\
a{color:var(--link);text-underline-offset:.15em}\
header{padding:2rem 0 1rem}\
h1{font-size:1.9rem;line-height:1.2;margin:0 0 .5rem}\
h2{font-size:1.35rem;line-height:1.3;margin:0 0 .25rem}\
p{margin:.25rem 0}\
.meta{color:var(--muted);font-size:.875rem}\
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem;padding:0;margin:1rem 0 0}\
nav a{display:block;padding:.2rem .75rem;border:1px solid var(--line);border-radius:999px;text-decoration:none;font-size:.875rem}\
section{border-top:1px solid var(--line);padding:1.5rem 0}\
.feeds{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.35rem .75rem;align-items:baseline;\
margin:.75rem 0 1rem;padding:.75rem 1rem;background:var(--card);border-radius:.5rem;font-size:.875rem}\
.feeds dt{font-weight:600;white-space:nowrap}\
.feeds dd{margin:0}\
code{font:.85em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;user-select:all}\
ol,ul.sources{list-style:none;padding:0;margin:0}\
ol li,.sources li{padding:.6rem 0;border-bottom:1px solid var(--line)}\
ol li:last-child,.sources li:last-child{border-bottom:0}\
ol a{font-weight:600;text-decoration:none}\
ol a:hover,ol a:focus{text-decoration:underline}\
.badge{display:inline-block;margin-right:.4rem;padding:0 .5rem;border:1px solid;border-radius:999px;font-size:.75rem;\
font-weight:600;vertical-align:.1em}\
.ok{color:var(--ok)}\
.bad{color:var(--bad)}\
.err{color:var(--bad);font-size:.875rem}\
footer{border-top:1px solid var(--line);padding:1rem 0 2rem;color:var(--muted);font-size:.875rem}";

/// The three feeds of a category: path, absolute URL when known, MIME type, label.
fn feeds(category: &CategoryRef) -> [(&str, Option<&str>, &'static str, &'static str); 3] {
    let urls = category.urls.as_ref();
    [
        (&category.rss_path, urls.map(|u| u.rss.as_str()), "application/rss+xml", "RSS"),
        (&category.atom_path, urls.map(|u| u.atom.as_str()), "application/atom+xml", "Atom"),
        (&category.json_path, urls.map(|u| u.json.as_str()), "application/feed+json", "JSON Feed"),
    ]
}

/// The heading of a category on the page.
fn heading<'a>(category: &'a CategoryRef, words: &'a Words) -> &'a str {
    if category.slug == ALL {
        words.all_entries
    } else {
        &category.title
    }
}

/// Renders `site` as an HTML5 page, ending in a newline.
pub fn render(site: &SiteDoc) -> String {
    let lang = Lang::from_tag(site.language);
    let words = lang.words();
    let mut out = String::with_capacity(8192 + site.categories.len() * 4096 + site.sources.len() * 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    push_attr(&mut out, lang.code());
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    out.push_str(CSP);
    out.push_str("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    element(&mut out, "", "title", site.title);
    if let Some(description) = site.description {
        out.push_str("<meta name=\"description\" content=\"");
        push_attr(&mut out, description);
        out.push_str("\">\n");
    }
    out.push_str("<meta name=\"generator\" content=\"");
    push_attr(&mut out, GENERATOR);
    out.push_str("\">\n");
    // An empty icon, so a browser does not ask the host for /favicon.ico.
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    for category in site.categories {
        for (path, _, mime, label) in feeds(category) {
            out.push_str("<link rel=\"alternate\" type=\"");
            out.push_str(mime);
            out.push_str("\" href=\"");
            push_attr(&mut out, path);
            out.push_str("\" title=\"");
            push_attr(&mut out, &category.title);
            out.push_str(" (");
            out.push_str(label);
            out.push_str(")\">\n");
        }
    }
    out.push_str("<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n");
    element(&mut out, "", "h1", site.title);
    if let Some(description) = site.description {
        element(&mut out, "", "p", description);
    }
    if site.updated > DateTime::<Utc>::UNIX_EPOCH {
        out.push_str("<p class=\"meta\">");
        push_text(&mut out, words.newest_entry);
        out.push_str(": ");
        time(&mut out, site.updated, &lang.day_time(site.updated));
        out.push_str("</p>\n");
    }
    nav(&mut out, site, words);
    out.push_str("</header>\n<main>\n");
    for category in site.categories {
        section(&mut out, category, lang);
    }
    sources(&mut out, site.sources, lang);
    out.push_str("</main>\n<footer><p>");
    push_text(&mut out, words.times_in_utc);
    out.push(' ');
    push_text(&mut out, words.made_by);
    out.push(' ');
    push_text(&mut out, GENERATOR);
    out.push_str(".</p></footer>\n</body>\n</html>\n");
    out
}

/// A `<p class="meta">` line.
fn meta(out: &mut String, text: &str) {
    out.push_str("<p class=\"meta\">");
    push_text(out, text);
    out.push_str("</p>\n");
}

/// `<time datetime="…">shown</time>`.
fn time(out: &mut String, dt: DateTime<Utc>, shown: &str) {
    out.push_str("<time datetime=\"");
    push_rfc3339(out, dt);
    out.push_str("\">");
    push_text(out, shown);
    out.push_str("</time>");
}

/// Links to every section, for a page that may run long.
fn nav(out: &mut String, site: &SiteDoc, words: &Words) {
    out.push_str("<nav aria-label=\"");
    push_attr(out, words.contents);
    out.push_str("\"><ul>\n");
    let targets = site.categories.iter().map(|c| (c.slug.as_str(), heading(c, words)));
    let sources = (!site.sources.is_empty()).then_some((SOURCES_ID, words.sources));
    for (id, text) in targets.chain(sources) {
        out.push_str("<li><a href=\"#");
        push_attr(out, id);
        out.push_str("\">");
        push_text(out, text);
        out.push_str("</a></li>\n");
    }
    out.push_str("</ul></nav>\n");
}

fn section(out: &mut String, category: &CategoryRef, lang: Lang) {
    let words = lang.words();
    out.push_str("<section id=\"");
    push_attr(out, &category.slug);
    out.push_str("\">\n");
    element(out, "", "h2", heading(category, words));
    // `all` has the site's description, which the page's header already shows.
    if let Some(description) = category.description.as_ref().filter(|_| category.slug != ALL) {
        element(out, "", "p", description);
    }
    if category.entry_count > 0 {
        meta(out, &lang.entries(category.entry_count));
    }
    out.push_str("<dl class=\"feeds\" aria-label=\"");
    push_attr(out, words.feeds);
    out.push_str("\">\n");
    for (path, url, mime, label) in feeds(category) {
        out.push_str("<dt><a href=\"");
        push_attr(out, path);
        out.push_str("\" type=\"");
        out.push_str(mime);
        out.push_str("\">");
        out.push_str(label);
        out.push_str("</a></dt><dd><code>");
        push_text(out, url.unwrap_or(path));
        out.push_str("</code></dd>\n");
    }
    out.push_str("</dl>\n");
    if category.latest.is_empty() {
        meta(out, words.no_entries);
    } else {
        out.push_str("<ol>\n");
        for entry in &category.latest {
            entry_item(out, entry, lang);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

fn entry_item(out: &mut String, entry: &EntryRef, lang: Lang) {
    out.push_str("<li>");
    link_or_text(out, entry.url.as_deref(), &entry.title);
    out.push_str("<br><span class=\"meta\">");
    push_text(out, &entry.source);
    // An undated entry shows no date: the time feedmill first saw it is not the story's.
    if let Some(date) = entry.date {
        out.push_str(" · ");
        time(out, date, &lang.day_time(date));
    }
    out.push_str("</span></li>\n");
}

/// A link when `url` is a web URL, else the text alone.
fn link_or_text(out: &mut String, url: Option<&str>, text: &str) {
    match url.and_then(web_url) {
        Some(url) => {
            out.push_str("<a href=\"");
            push_attr(out, url);
            out.push_str("\">");
            push_text(out, text);
            out.push_str("</a>");
        }
        None => push_text(out, text),
    }
}

fn sources(out: &mut String, sources: &[SourceRef], lang: Lang) {
    if sources.is_empty() {
        return;
    }
    let words = lang.words();
    out.push_str("<section id=\"");
    out.push_str(SOURCES_ID);
    out.push_str("\">\n");
    element(out, "", "h2", words.sources);
    out.push_str("<ul class=\"sources\">\n");
    for source in sources {
        source_item(out, source, lang);
    }
    out.push_str("</ul>\n</section>\n");
}

fn source_item(out: &mut String, source: &SourceRef, lang: Lang) {
    let words = lang.words();
    let health = &source.health;
    let (class, status) = match (health.failures, health.last_success) {
        (1.., _) => ("badge bad", words.failing),
        (0, Some(_)) => ("badge ok", words.ok),
        (0, None) => ("badge", words.not_checked),
    };
    out.push_str("<li><p><span class=\"");
    out.push_str(class);
    out.push_str("\">");
    push_text(out, status);
    out.push_str("</span>");
    let title = source.title.as_deref().filter(|t| !t.trim().is_empty());
    link_or_text(out, source.site_url.as_deref(), title.unwrap_or(&source.name));
    if title.is_some_and(|t| t != source.name) {
        out.push_str(" <span class=\"meta\">");
        push_text(out, &source.name);
        out.push_str("</span>");
    }
    out.push_str("</p>\n");
    if let Some(feed_url) = &source.feed_url {
        out.push_str("<p><code>");
        push_text(out, feed_url);
        out.push_str("</code></p>\n");
    }
    if health.failures > 0 || health.last_success.is_some() {
        out.push_str("<p class=\"meta\">");
        push_text(out, words.last_success);
        out.push_str(": ");
        match health.last_success {
            // The day only: the page is rebuilt when content or health changes, not on every fetch,
            // so a time of day would soon be stale (see `pipeline::build_key`).
            Some(t) => time(out, t, &lang.day(t)),
            None => push_text(out, words.never),
        }
        out.push_str("</p>\n");
    }
    if let Some(error) = health.last_error.as_deref().filter(|_| health.failures > 0) {
        // Errors usually start with the URL, which is shown just above.
        let shown = short(
            source
                .feed_url
                .as_deref()
                .and_then(|url| error.strip_prefix(url))
                .and_then(|e| e.strip_prefix(": "))
                .unwrap_or(error),
        );
        out.push_str("<p class=\"err\"");
        if shown != error {
            out.push_str(" title=\"");
            push_attr(out, error);
            out.push('"');
        }
        out.push('>');
        push_text(out, &shown);
        out.push_str("</p>\n");
    }
    out.push_str("</li>\n");
}

/// The first line of `error`, cut to [`ERROR_CHARS`] characters.
fn short(error: &str) -> String {
    let line = error.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{categories, site, sources, unversioned};

    fn page(language: Option<&str>) -> String {
        let (categories, sources) = (categories(), sources());
        render(&SiteDoc { language, ..site(&categories, &sources) })
    }

    #[test]
    fn site_page() {
        let out = page(None);
        assert_eq!(out, page(None), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("index_html_basic", unversioned(&out));
        });
    }

    #[test]
    fn site_page_in_kazakh() {
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("index_html_kk", unversioned(&page(Some("kk-KZ"))));
        });
    }

    #[test]
    fn dates_follow_the_language() {
        let en = page(None);
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("<time datetime=\"2019-07-11T06:20:00Z\">11 July 2019, 06:20</time>"), "{en}");
        assert!(en.contains("<time datetime=\"2019-07-01T08:00:00Z\">1 July 2019</time>"));
        let ru = page(Some("ru"));
        assert!(ru.contains("<html lang=\"ru\">"));
        assert!(ru.contains(">11 июля 2019, 06:20</time>") && ru.contains("Источники"));
        let kk = page(Some("kk"));
        assert!(kk.contains(">11 шілде 2019, 06:20</time>") && kk.contains("Дереккөздер"));
    }

    #[test]
    fn any_language_has_its_dates_and_known_ones_their_words() {
        // (tag, a dated entry, the day of the last fetch, a label)
        let cases = [
            ("de-DE", "11. Juli 2019, 06:20", "1. Juli 2019", "<h2>Quellen</h2>"),
            ("fr", "11 juillet 2019, 06:20", "1 juillet 2019", "<h2>Sources</h2>"),
            ("tr", "11 Temmuz 2019 06:20", "1 Temmuz 2019", "<h2>Kaynaklar</h2>"),
            ("zh", "2019年7月11日 06:20", "2019年7月1日", "<h2>来源</h2>"),
            ("uk", "11 липня 2019\u{202f}р., 06:20", "1 липня 2019\u{202f}р.", "<h2>Джерела</h2>"),
            ("uz-Cyrl", "11 июл, 2019 06:20", "1 июл, 2019", "<h2>Манбалар</h2>"),
            // CLDR's dates, English words.
            ("pl", "11 lipca 2019 06:20", "1 lipca 2019", "<h2>Sources</h2>"),
        ];
        for (tag, entry, day, label) in cases {
            let out = page(Some(tag));
            assert!(out.contains(&format!("<html lang=\"{tag}\">")), "{tag}");
            assert!(out.contains(&format!("<time datetime=\"2019-07-11T06:20:00Z\">{entry}</time>")), "{tag}: {out}");
            assert!(out.contains(&format!("<time datetime=\"2019-07-01T08:00:00Z\">{day}</time>")), "{tag}: {out}");
            assert!(out.contains(label), "{tag}");
        }
        assert!(page(Some("tr")).contains("Saatler UTC olarak verilmiştir."));
        assert!(page(Some("\"><b>")).contains("<html lang=\"&quot;&gt;&lt;b&gt;\">"), "the tag is escaped");
    }

    #[test]
    fn feeds_show_absolute_urls_when_known_and_link_relative() {
        let out = page(None);
        assert!(!out.contains("again"), "`all` does not repeat the site's description");
        assert!(out.contains(
            "<dt><a href=\"kz-news/rss.xml\" type=\"application/rss+xml\">RSS</a></dt><dd><code>https://feeds.example.org/kz-news/rss.xml</code></dd>"
        ));
        assert!(out.contains("<dd><code>ru-news/feed.json</code></dd>"));
    }

    #[test]
    fn autodiscovery_links_and_no_unsafe_links() {
        let out = page(None);
        assert_eq!(out.matches("<link rel=\"alternate\"").count(), 9);
        assert!(out.contains("type=\"application/feed+json\" href=\"ru-news/feed.json\""));
        assert!(!out.contains("javascript:"));
        assert!(!out.contains("<script") && !out.contains('\u{1}') && !out.contains('\u{ffff}'));
        assert!(out.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
        // Titles from feeds are text, never markup.
        assert!(out.contains("Қазақстанда жаңа заң &amp; &lt;реформа&gt; қабылданды</a>"));
        assert!(out.contains("Новости дня: выпуск №12<br>"), "an unsafe link becomes plain text");
    }

    #[test]
    fn source_health() {
        let out = page(None);
        assert!(
            out.contains("<span class=\"badge ok\">OK</span><a href=\"https://abai.kz/\">Abai.kz — әдеби портал</a>")
        );
        assert!(out.contains("<span class=\"badge bad\">Failing</span>tengri</p>"));
        assert!(out.contains("Last successful fetch: never"));
        assert!(out.contains("<span class=\"badge\">Not checked yet</span>"));
        assert!(
            out.contains("<p class=\"err\" title=\"feeds/radio.xml: not found\">not found</p>"),
            "URL not repeated"
        );
        // The error is cut and kept to its first line; the tooltip has it all.
        let shown = out.split("<p class=\"err\"").nth(1).unwrap().split("\">").nth(1).unwrap();
        assert!(shown.starts_with("https://tengrinews.kz/rss: HTTP 503 &lt;Service Unavailable&gt; &amp; \"retry\""));
        assert!(shown.contains("x x…</p>") && !shown.contains("second"), "{shown}");
        assert!(out.contains("&#10;second line\">"));
    }

    #[test]
    fn a_source_without_a_published_url_shows_none() {
        let categories = categories();
        let mut sources = sources();
        sources[0].feed_url = None;
        let out = render(&site(&categories, &sources));
        assert!(!out.contains("<code>https://abai.kz/rss</code>"), "{out}");
        assert!(out.contains("Abai.kz — әдеби портал</a>"), "still listed by title");
        assert!(out.contains("<code>https://tengrinews.kz/rss?lang=kk&amp;full=1</code>"));
    }

    #[test]
    fn short_errors() {
        assert_eq!(short("  boom \nmore"), "boom");
        let long = "ә".repeat(ERROR_CHARS + 1);
        assert_eq!(short(&long).chars().count(), ERROR_CHARS + 1);
        assert!(short(&long).ends_with('…'));
        assert_eq!(short(&"ә".repeat(ERROR_CHARS)), "ә".repeat(ERROR_CHARS));
        assert_eq!(short(""), "");
    }

    #[test]
    fn empty_site_shows_no_date() {
        let out = render(&SiteDoc {
            title: "t",
            description: None,
            categories: &[],
            updated: DateTime::UNIX_EPOCH,
            language: None,
            sources: &[],
        });
        assert!(!out.contains("<time"));
        assert!(!out.contains(SOURCES_ID));
        assert!(out.ends_with("</html>\n"));
    }
}
