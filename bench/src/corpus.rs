//! The feeds: a [`FeedSpec`] → the bytes a site would serve.
//!
//! A site publishes an endless, numbered series of posts; a feed is a window on its newest `entries`.
//! Post `n` of a site is always the same text (its seed is the site and `n`), so raising `revision` by
//! one is exactly what a real feed does between two fetches: one new post on top, the oldest one gone.
//! Post `n` is dated `n` hours after 2024-03-01 (plus a per-site offset), so a newer revision's post is
//! the newest entry anywhere, and every date lies before [`crate::bench_now`].

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use url::Url;

use crate::text::{self, escape, Lang, Rng};

/// The formats the corpus writes, each in the shape its common producers give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// WordPress-style RSS 2.0: escaped HTML in `description`, CDATA HTML in `content:encoded`.
    Rss2,
    /// Atom 1.0 with escaped `type="html"` content.
    AtomHtml,
    /// Atom 1.0 with inline `type="xhtml"` content.
    AtomXhtml,
    /// RSS 1.0 (RDF) with `dc:` dates and `content:encoded`.
    Rss1,
    /// JSON Feed 1.1, pretty-printed.
    JsonFeed,
    /// Russian RSS 2.0 encoded in windows-1251, labelled only in the XML prolog.
    Rss2Windows1251,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Rss2, Format::AtomHtml, Format::AtomXhtml, Format::Rss1, Format::JsonFeed, Format::Rss2Windows1251];

    pub fn name(self) -> &'static str {
        match self {
            Format::Rss2 => "rss2",
            Format::AtomHtml => "atom-html",
            Format::AtomXhtml => "atom-xhtml",
            Format::Rss1 => "rss1",
            Format::JsonFeed => "json-feed",
            Format::Rss2Windows1251 => "rss2-cp1251",
        }
    }

    /// What a server sends with it (no charset: the cp1251 feed relies on its prolog, as most do).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss2 | Format::Rss2Windows1251 => "application/rss+xml",
            Format::AtomHtml | Format::AtomXhtml => "application/atom+xml",
            Format::Rss1 => "application/rdf+xml",
            Format::JsonFeed => "application/feed+json",
        }
    }

    pub fn extension(self) -> &'static str {
        if self == Format::JsonFeed {
            "json"
        } else {
            "xml"
        }
    }
}

/// The issue's three sizes as (entries, HTML bytes per entry): about 10 KB, 250 KB and 5 MB of RSS.
/// Bigger feeds carry longer bodies, as full-content feeds do.
pub const SIZES: [(usize, usize); 3] = [(10, 150), (100, 1_800), (1_000, 4_200)];

/// HTML bytes per entry that make a 50-entry feed about 50 KB: the refresh benchmark's feeds.
pub const TYPICAL_HTML_BYTES: usize = 100;

/// Which feed to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSpec {
    pub format: Format,
    /// Seeds the site's language, name, URLs and text.
    pub site: u64,
    pub entries: usize,
    /// Approximate length of each entry's HTML body.
    pub html_bytes: usize,
    /// How many posts the site has published since revision 0.
    pub revision: u64,
}

/// One post, before it is written in a format.
struct Post {
    n: u64,
    title: String,
    link: String,
    author: String,
    categories: Vec<&'static str>,
    published: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
    summary: String,
    html: String,
}

/// 2024-03-01T00:00:00Z.
const FIRST_POST: i64 = 1_709_251_200;

const CATEGORIES: &[&str] = &["Саясат", "Экономика", "Қоғам", "Общество", "Спорт", "Culture", "Tech", "Аймақ"];
const AUTHORS: &[&str] = &["Айгерим Нурланова", "Ержан Сейткали", "Мария Иванова", "Dana Abenova", "admin"];
const CITIES: &[&str] = &["Almaty", "Astana", "Shymkent", "Aktobe", "Karaganda", "Taraz", "Pavlodar", "Oral"];

impl FeedSpec {
    pub fn new(format: Format, site: u64, entries: usize, html_bytes: usize) -> FeedSpec {
        FeedSpec { format, site, entries, html_bytes, revision: 0 }
    }

    /// The same feed after one more post.
    pub fn next_revision(self) -> FeedSpec {
        FeedSpec { revision: self.revision + 1, ..self }
    }

    fn lang(&self) -> Lang {
        match (self.format, self.site % 3) {
            (Format::Rss2Windows1251, _) | (_, 1) => Lang::Russian,
            (_, 0) => Lang::Kazakh,
            _ => Lang::English,
        }
    }

    fn home(&self) -> String {
        let tld = match self.lang() {
            Lang::Kazakh => "kz",
            Lang::Russian => "ru",
            Lang::English => "com",
        };
        format!("https://site{}.example.{tld}/", self.site)
    }

    /// Where the feed says it lives; relative URLs in it resolve against this.
    pub fn feed_url(&self) -> Url {
        let home = self.home();
        Url::parse(&format!("{home}feed.{}", self.format.extension())).expect("generated URLs are valid")
    }

    /// The newest post's date: a server's `Last-Modified` for this revision.
    pub fn updated(&self) -> DateTime<Utc> {
        self.date(self.newest()).with_timezone(&Utc)
    }

    fn newest(&self) -> u64 {
        self.revision + self.entries as u64 - 1
    }

    fn date(&self, n: u64) -> DateTime<FixedOffset> {
        let zone = if self.lang() == Lang::English { 0 } else { 5 * 3600 };
        let offset = FixedOffset::east_opt(zone).expect("offsets under a day are valid");
        let at = FIRST_POST + n as i64 * 3600 + (self.site % 3600) as i64;
        DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&offset)
    }

    fn post(&self, n: u64) -> Post {
        let lang = self.lang();
        let mut rng = Rng::new(self.site.wrapping_mul(0x1000_0000_01B3) ^ n);
        let title = text::title(&mut rng, lang);
        let summary = text::sentence(&mut rng, lang);
        let xhtml = self.format == Format::AtomXhtml;
        let html = text::html_body(&mut rng, lang, n, self.html_bytes, xhtml);
        let categories = (0..1 + rng.below(3)).map(|_| rng.pick(CATEGORIES)).collect();
        let published = self.date(n);
        let updated = published + chrono::Duration::minutes(rng.below(600) as i64);
        let link = format!("{}2024/{:02}/post-{n}.html", self.home(), 3 + n / 720);
        Post { n, title, link, author: rng.pick(AUTHORS).to_owned(), categories, published, updated, summary, html }
    }

    /// Posts newest first, as feeds list them.
    fn posts(&self) -> impl Iterator<Item = Post> + '_ {
        (self.revision..=self.newest()).rev().map(|n| self.post(n))
    }

    fn site_title(&self) -> String {
        let city = CITIES[self.site as usize % CITIES.len()];
        match self.lang() {
            Lang::Kazakh => format!("{city} ақпарат агенттігі №{}", self.site),
            Lang::Russian => format!("Новости {city} — выпуск {}", self.site),
            Lang::English => format!("{city} Notes & Letters #{}", self.site),
        }
    }

    /// The feed's bytes.
    pub fn generate(&self) -> Vec<u8> {
        match self.format {
            Format::Rss2 => self.rss2("UTF-8").into_bytes(),
            Format::Rss2Windows1251 => {
                let text = self.rss2("windows-1251");
                encoding_rs::WINDOWS_1251.encode(&text).0.into_owned()
            }
            Format::AtomHtml | Format::AtomXhtml => self.atom().into_bytes(),
            Format::Rss1 => self.rss1().into_bytes(),
            Format::JsonFeed => self.json_feed(),
        }
    }

    fn rss2(&self, encoding: &str) -> String {
        let home = self.home();
        let mut out = String::with_capacity(self.entries * (self.html_bytes + 1500) + 1024);
        let _ = write!(
            out,
            r#"<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:media="http://search.yahoo.com/mrss/">
<channel>
	<title>{title}</title>
	<atom:link href="{home}feed/" rel="self" type="application/rss+xml" />
	<link>{home}</link>
	<description>{title}</description>
	<lastBuildDate>{updated}</lastBuildDate>
	<language>{lang}</language>
	<generator>https://wordpress.org/?v=6.4.3</generator>
	<image><url>{home}logo.png</url><title>{title}</title><link>{home}</link></image>
"#,
            title = escape(&self.site_title()),
            updated = self.date(self.newest()).to_rfc2822(),
            lang = self.lang().code(),
        );
        for p in self.posts() {
            let _ = write!(
                out,
                r#"	<item>
		<title>{title}</title>
		<link>{link}</link>
		<dc:creator><![CDATA[{author}]]></dc:creator>
		<pubDate>{date}</pubDate>
"#,
                title = escape(&p.title),
                link = p.link,
                author = p.author,
                date = p.published.to_rfc2822(),
            );
            for c in &p.categories {
                let _ = writeln!(out, "\t\t<category><![CDATA[{c}]]></category>");
            }
            let _ = write!(
                out,
                r#"		<guid isPermaLink="false">{home}?p={n}</guid>
		<description>{summary}</description>
		<content:encoded><![CDATA[{html}]]></content:encoded>
"#,
                n = p.n,
                summary = escape(&format!("<p>{}</p>", escape(&p.summary))),
                html = p.html,
            );
            if p.n % 7 == 0 {
                let _ = writeln!(
                    out,
                    r#"		<enclosure url="{home}media/{}.mp3" length="{}" type="audio/mpeg" />"#,
                    p.n,
                    1_000_000 + p.n * 977
                );
            }
            if p.n % 3 == 0 {
                let _ = writeln!(out, r#"		<media:thumbnail url="{home}thumbs/{}.jpg" />"#, p.n);
            }
            out.push_str("\t</item>\n");
        }
        out.push_str("</channel>\n</rss>\n");
        out
    }

    fn atom(&self) -> String {
        let home = self.home();
        let xhtml = self.format == Format::AtomXhtml;
        let mut out = String::with_capacity(self.entries * (self.html_bytes + 1500) + 1024);
        let _ = write!(
            out,
            r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">
  <title type="text">{title}</title>
  <subtitle>{title}</subtitle>
  <link rel="alternate" type="text/html" href="{home}"/>
  <link rel="self" type="application/atom+xml" href="{self_url}"/>
  <id>{home}</id>
  <updated>{updated}</updated>
  <generator uri="https://gohugo.io/" version="0.121">Hugo</generator>
"#,
            lang = self.lang().code(),
            title = escape(&self.site_title()),
            self_url = self.feed_url(),
            updated = self.date(self.newest()).to_rfc3339(),
        );
        for p in self.posts() {
            let _ = write!(
                out,
                r#"  <entry>
    <title type="html">{title}</title>
    <link rel="alternate" type="text/html" href="{link}"/>
    <id>tag:site{site}.example,2024:post-{n}</id>
    <published>{published}</published>
    <updated>{updated}</updated>
    <author><name>{author}</name><uri>{home}authors/{n_author}</uri></author>
"#,
                title = escape(&escape(&p.title)),
                link = p.link,
                site = self.site,
                n = p.n,
                published = p.published.to_rfc3339(),
                updated = p.updated.to_rfc3339(),
                author = escape(&p.author),
                n_author = p.n % 5,
            );
            for c in &p.categories {
                let _ = writeln!(out, r#"    <category term="{}"/>"#, escape(c));
            }
            let _ = writeln!(out, r#"    <summary type="text">{}</summary>"#, escape(&p.summary));
            if xhtml {
                let _ = writeln!(
                    out,
                    r#"    <content type="xhtml" xml:base="{home}"><div xmlns="http://www.w3.org/1999/xhtml">{}</div></content>"#,
                    p.html
                );
            } else {
                let _ = writeln!(out, r#"    <content type="html" xml:base="{home}">{}</content>"#, escape(&p.html));
            }
            out.push_str("  </entry>\n");
        }
        out.push_str("</feed>\n");
        out
    }

    fn rss1(&self) -> String {
        let home = self.home();
        let posts: Vec<Post> = self.posts().collect();
        let mut out = String::with_capacity(self.entries * (self.html_bytes + 1500) + 1024);
        let _ = write!(
            out,
            r#"<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel rdf:about="{self_url}">
  <title>{title}</title>
  <link>{home}</link>
  <description>{title}</description>
  <dc:language>{lang}</dc:language>
  <dc:date>{updated}</dc:date>
  <items>
    <rdf:Seq>
"#,
            self_url = self.feed_url(),
            title = escape(&self.site_title()),
            lang = self.lang().code(),
            updated = self.date(self.newest()).to_rfc3339(),
        );
        for p in &posts {
            let _ = writeln!(out, r#"      <rdf:li rdf:resource="{}"/>"#, p.link);
        }
        out.push_str("    </rdf:Seq>\n  </items>\n</channel>\n");
        for p in &posts {
            let _ = write!(
                out,
                r#"<item rdf:about="{link}">
  <title>{title}</title>
  <link>{link}</link>
  <description>{summary}</description>
  <content:encoded><![CDATA[{html}]]></content:encoded>
  <dc:creator>{author}</dc:creator>
  <dc:date>{date}</dc:date>
  <dc:subject>{subject}</dc:subject>
</item>
"#,
                link = p.link,
                title = escape(&p.title),
                summary = escape(&p.summary),
                html = p.html,
                author = escape(&p.author),
                date = p.published.to_rfc3339(),
                subject = escape(p.categories[0]),
            );
        }
        out.push_str("</rdf:RDF>\n");
        out
    }

    fn json_feed(&self) -> Vec<u8> {
        let home = self.home();
        let items: Vec<serde_json::Value> = self
            .posts()
            .map(|p| {
                let mut item = json!({
                    "id": format!("{home}?p={}", p.n),
                    "url": p.link,
                    "title": p.title,
                    "summary": p.summary,
                    "content_html": p.html,
                    "date_published": p.published.to_rfc3339(),
                    "date_modified": p.updated.to_rfc3339(),
                    "authors": [{ "name": p.author, "url": format!("{home}authors/{}", p.n % 5) }],
                    "tags": p.categories,
                });
                if p.n % 3 == 0 {
                    item["image"] = json!(format!("{home}thumbs/{}.jpg", p.n));
                }
                if p.n % 7 == 0 {
                    item["attachments"] = json!([{
                        "url": format!("{home}media/{}.mp3", p.n),
                        "mime_type": "audio/mpeg",
                        "size_in_bytes": 1_000_000 + p.n * 977,
                    }]);
                }
                item
            })
            .collect();
        let feed = json!({
            "title": self.site_title(),
            "home_page_url": home,
            "feed_url": self.feed_url().as_str(),
            "description": self.site_title(),
            "language": self.lang().code(),
            "authors": [{ "name": AUTHORS[self.site as usize % AUTHORS.len()] }],
            "items": items,
        });
        // `version` first, as publishers write it (serde_json would sort it last): feedparser-rs 0.6 looks
        // for it in the first MiB of a larger document only.
        let body = serde_json::to_vec_pretty(&feed).unwrap_or_default();
        let mut out = br#"{
  "version": "https://jsonfeed.org/version/1.1","#
            .to_vec();
        out.extend_from_slice(body.get(1..).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_spec_same_bytes() {
        for format in Format::ALL {
            let spec = FeedSpec::new(format, 7, 5, 800);
            assert_eq!(spec.generate(), spec.generate(), "{}", format.name());
        }
    }

    #[test]
    fn a_new_revision_adds_one_post_on_top() {
        let spec = FeedSpec::new(Format::Rss2, 4, 3, 300);
        let before = String::from_utf8(spec.generate()).unwrap();
        let after = String::from_utf8(spec.next_revision().generate()).unwrap();
        assert!(after.contains("post-3.html") && !before.contains("post-3.html"));
        assert!(!after.contains("post-0.html") && before.contains("post-0.html"));
        assert!(spec.next_revision().updated() > spec.updated());
    }

    #[test]
    fn sizes_span_ten_kilobytes_to_five_megabytes() {
        let (small, large) = (SIZES[0], SIZES[2]);
        let small = FeedSpec::new(Format::Rss2, 0, small.0, small.1).generate().len();
        let large = FeedSpec::new(Format::Rss2, 0, large.0, large.1).generate().len();
        assert!((8_000..20_000).contains(&small), "{small}");
        assert!((4_000_000..6_500_000).contains(&large), "{large}");
        let typical = FeedSpec::new(Format::Rss2, 0, 50, TYPICAL_HTML_BYTES).generate().len();
        assert!((35_000..70_000).contains(&typical), "{typical}");
    }

    #[test]
    fn windows_1251_feed_is_not_utf8() {
        let bytes = FeedSpec::new(Format::Rss2Windows1251, 1, 3, 300).generate();
        assert!(std::str::from_utf8(&bytes).is_err());
        assert!(bytes.starts_with(br#"<?xml version="1.0" encoding="windows-1251"?>"#));
    }
}
