//! Sitemaps: a site's list of its own pages (sitemaps.org), read as a feed for `kind = "sitemap"`
//! sources.
//!
//! In: the bytes of a `<urlset>` or a `<sitemapindex>`, possibly gzipped (`.xml.gz` files are gzip
//! *content*, served without `Content-Encoding`, so the fetch stage hands them over compressed). Out:
//! a [`Sitemap`] with the pages (`<url>`) or the child sitemaps (`<sitemap>`) it lists, and, through
//! [`newest`] and [`to_feed`], the common [`RawFeed`] model, so normalize, dedup and emit treat a
//! sitemap like any feed.
//!
//! Three dialects share the `<url>` element and are read together: plain (`loc`, `lastmod`), Google
//! News (`news:title`, `news:publication_date`, `news:language`, `news:publication/news:name`,
//! `news:keywords`) and image (`image:image/image:loc`, the first one becomes the entry's image).
//! Elements are matched by local name and parent, whatever prefix a site binds the namespaces to.
//!
//! A site-wide sitemap lists 50,000 URLs in 50 MB: the document is read as a stream of events (never a
//! tree), gzipped content is inflated while it is read and stops at the body cap (a small gzip bomb
//! must not become gigabytes), and the caller's `keep` filter (a source's [`SitemapRules`], its
//! `[sources.sitemap]` table) drops unwanted URLs before they are stored. Leniency as in the feed
//! parsers: a document cut short keeps every URL read before the break, with a warning.

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::model::{FeedFormat, RawEntry, RawFeed, Text};

/// Why a document yielded no sitemap.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SitemapError {
    #[error("not a sitemap: the document starts with <{found}>, not <urlset> or <sitemapindex>")]
    NotASitemap { found: String },
    #[error("not a sitemap: no root element")]
    Empty,
    #[error("the sitemap inflates to more than {limit} bytes (the body cap)")]
    TooBig { limit: u64 },
    #[error("the sitemap is not XML: {0}")]
    Xml(String),
}

/// What one sitemap file lists.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sitemap {
    /// `<sitemapindex>`: the file lists other sitemaps, not pages.
    pub is_index: bool,
    /// The pages `keep` accepted, in document order.
    pub urls: Vec<PageUrl>,
    /// Pages `keep` refused.
    pub skipped: usize,
    /// An index's child sitemaps, in document order.
    pub children: Vec<Child>,
    pub warnings: Vec<String>,
}

/// One `<url>`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageUrl {
    pub loc: String,
    pub lastmod: Option<String>,
    /// `news:title`.
    pub title: Option<String>,
    /// `news:publication_date`.
    pub published: Option<String>,
    /// `news:publication/news:language`.
    pub language: Option<String>,
    /// `news:publication/news:name`.
    pub publication: Option<String>,
    /// `news:keywords`, split at commas.
    pub keywords: Vec<String>,
    /// The first `image:image/image:loc`.
    pub image: Option<String>,
}

/// One `<sitemap>` of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub loc: String,
    pub lastmod: Option<String>,
}

/// `[sources.sitemap]`: which pages of a sitemap become entries, and how many per run.
#[derive(Debug, Clone)]
pub struct SitemapRules {
    /// A page is kept when its URL matches one of these (every page when empty)…
    pub include: Vec<regex::Regex>,
    /// …and none of these.
    pub exclude: Vec<regex::Regex>,
    /// The newest pages kept per run.
    pub max_urls: usize,
    /// Child sitemaps of an index fetched per run, newest first.
    pub max_sitemaps: usize,
}

impl SitemapRules {
    /// Default `max_urls`: a news sitemap holds at most 1,000 URLs, and a site-wide one's newest
    /// thousand cover any refresh interval.
    pub const MAX_URLS: usize = 1000;
    /// Default `max_sitemaps`.
    pub const MAX_SITEMAPS: usize = 10;

    /// Whether the page at `url` becomes an entry.
    pub fn selects(&self, url: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(url)))
            && !self.exclude.iter().any(|r| r.is_match(url))
    }
}

impl Default for SitemapRules {
    fn default() -> Self {
        SitemapRules {
            include: Vec::new(),
            exclude: Vec::new(),
            max_urls: Self::MAX_URLS,
            max_sitemaps: Self::MAX_SITEMAPS,
        }
    }
}

/// Reads a sitemap or sitemap index from `bytes`, gunzipping them first when they are gzip content;
/// `limit` caps the inflated size. Only the `<url>`s whose `loc` passes `keep` are stored.
pub fn read(bytes: &[u8], limit: u64, keep: impl FnMut(&str) -> bool) -> Result<Sitemap, SitemapError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let inflated = Capped { inner: flate2::read::MultiGzDecoder::new(bytes), left: limit, hit: false };
        let mut reader = BufReader::new(inflated);
        let sitemap = read_from(&mut reader, keep);
        if reader.get_ref().hit {
            return Err(SitemapError::TooBig { limit });
        }
        return sitemap;
    }
    read_from(bytes, keep)
}

/// A reader that fails once more than `left` bytes came through.
struct Capped<R> {
    inner: R,
    left: u64,
    hit: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.hit = true;
            return Err(std::io::Error::other("over the body cap"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Which field the text being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Loc,
    Lastmod,
    Title,
    Published,
    Language,
    Publication,
    Keywords,
    ImageLoc,
}

fn read_from<R: BufRead>(input: R, mut keep: impl FnMut(&str) -> bool) -> Result<Sitemap, SitemapError> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.check_comments = false;
    config.allow_dangling_amp = true;
    config.trim_text(false);

    let mut sitemap = Sitemap::default();
    let mut buf = Vec::new();
    // Local names of the open elements, lowercased.
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut root_seen = false;
    let mut page: Option<PageUrl> = None;
    let mut child: Option<Child> = None;
    let mut field: Option<Field> = None;
    let mut text = String::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) if root_seen => {
                let at = reader.buffer_position();
                sitemap.warnings.push(format!("byte {at}: {e}; the URLs read before it are kept"));
                break;
            }
            Err(e) => return Err(SitemapError::Xml(e.to_string())),
        };
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if !root_seen => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                match name.as_slice() {
                    b"urlset" => {}
                    b"sitemapindex" => sitemap.is_index = true,
                    _ => return Err(SitemapError::NotASitemap { found: String::from_utf8_lossy(&name).into_owned() }),
                }
                root_seen = true;
                if is_start {
                    open.push(name);
                }
            }
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                let parent = open.last().map(Vec::as_slice);
                match (parent, name.as_slice()) {
                    (_, b"url") if !sitemap.is_index => page = Some(PageUrl::default()),
                    (_, b"sitemap") if sitemap.is_index => child = Some(Child { loc: String::new(), lastmod: None }),
                    _ => {}
                }
                field = match (parent, name.as_slice()) {
                    (Some(b"url" | b"sitemap"), b"loc") => Some(Field::Loc),
                    (Some(b"url" | b"sitemap"), b"lastmod") => Some(Field::Lastmod),
                    (Some(b"news"), b"title") => Some(Field::Title),
                    (Some(b"news"), b"publication_date") => Some(Field::Published),
                    (Some(b"news"), b"keywords") => Some(Field::Keywords),
                    (Some(b"publication"), b"language") => Some(Field::Language),
                    (Some(b"publication"), b"name") => Some(Field::Publication),
                    (Some(b"image"), b"loc") => Some(Field::ImageLoc),
                    _ => None,
                };
                text.clear();
                open.push(name);
            }
            Event::Text(t) if field.is_some() => text.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::CData(t) if field.is_some() => text.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::GeneralRef(r) if field.is_some() => {
                let name = String::from_utf8_lossy(&r).into_owned();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => match quick_xml::escape::resolve_xml_entity(&name)
                        .or_else(|| quick_xml::escape::resolve_html5_entity(&name))
                    {
                        Some(s) => text.push_str(s),
                        None => text.push_str(&format!("&{name};")),
                    },
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if let Some(f) = field.take() {
                    let value = text.trim().to_owned();
                    text.clear();
                    if !value.is_empty() {
                        set(f, value, page.as_mut(), child.as_mut());
                    }
                }
                match name.as_slice() {
                    b"url" => {
                        if let Some(p) = page.take().filter(|p| !p.loc.is_empty()) {
                            if keep(&p.loc) {
                                sitemap.urls.push(p);
                            } else {
                                sitemap.skipped += 1;
                            }
                        }
                    }
                    b"sitemap" => sitemap.children.extend(child.take().filter(|c| !c.loc.is_empty())),
                    _ => {}
                }
                // Unmatched ends are allowed: pop up to the element that ends, if it is open.
                if let Some(at) = open.iter().rposition(|n| *n == name) {
                    open.truncate(at);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(SitemapError::Empty);
    }
    if page.is_some_and(|p| !p.loc.is_empty()) || child.is_some_and(|c| !c.loc.is_empty()) {
        sitemap.warnings.push("the document ends inside an entry; that entry is dropped".into());
    }
    Ok(sitemap)
}

fn set(field: Field, value: String, page: Option<&mut PageUrl>, child: Option<&mut Child>) {
    if let Some(c) = child {
        match field {
            Field::Loc => c.loc = value,
            Field::Lastmod => c.lastmod = Some(value),
            _ => {}
        }
        return;
    }
    let Some(p) = page else { return };
    match field {
        Field::Loc => p.loc = value,
        Field::Lastmod => p.lastmod = Some(value),
        Field::Title => p.title = Some(value),
        Field::Published => p.published = Some(value),
        Field::Language => p.language = Some(value),
        Field::Publication => p.publication = Some(value),
        Field::Keywords => {
            p.keywords = value.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect();
        }
        Field::ImageLoc => {
            p.image.get_or_insert(value);
        }
    }
}

/// A W3C datetime (the sitemap protocol's format: `2024-11-18`, `2024-11-18T09:00+05:00`,
/// `2024-11-18T09:00:00Z`) as seconds since the epoch, for ordering only: normalize reads the text
/// itself, with the source's time zone for a date without one.
pub fn sort_key(date: &str) -> Option<i64> {
    let date = date.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(date) {
        return Some(d.timestamp());
    }
    if let Ok(d) = DateTime::parse_from_str(date, "%Y-%m-%dT%H:%M%:z") {
        return Some(d.timestamp());
    }
    let zoned = date.trim_end_matches('Z');
    if let Ok(d) = NaiveDateTime::parse_from_str(zoned, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(d.and_utc().timestamp());
    }
    let day = date.get(..10).unwrap_or(date);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
}

/// The page's date for ordering: its news publication date, else its `lastmod`.
fn page_key(p: &PageUrl) -> Option<i64> {
    p.published.as_deref().and_then(sort_key).or_else(|| p.lastmod.as_deref().and_then(sort_key))
}

/// Keeps the `max` newest pages, newest first; pages without a date follow the dated ones in document
/// order. A URL listed twice (a news sitemap and a monthly one often both list today's articles) is
/// kept once, each field taken from the first listing that has it.
pub fn newest(pages: Vec<PageUrl>, max: usize) -> Vec<PageUrl> {
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut merged: Vec<PageUrl> = Vec::with_capacity(pages.len());
    for p in pages {
        let Some(&i) = at.get(&p.loc) else {
            at.insert(p.loc.clone(), merged.len());
            merged.push(p);
            continue;
        };
        let m = &mut merged[i];
        for (mine, theirs) in [
            (&mut m.lastmod, p.lastmod),
            (&mut m.title, p.title),
            (&mut m.published, p.published),
            (&mut m.language, p.language),
            (&mut m.publication, p.publication),
            (&mut m.image, p.image),
        ] {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        if m.keywords.is_empty() {
            m.keywords = p.keywords;
        }
    }
    // A stable sort: undated pages keep the order their sitemap gave them.
    merged.sort_by_key(|p| std::cmp::Reverse(page_key(p).unwrap_or(i64::MIN)));
    merged.truncate(max);
    merged
}

/// The feed the pages make. A page without `news:title` gets no title here: normalize then shows its
/// URL, as feed readers do, and `follow` replaces it with the article page's headline. Without a news
/// date, `lastmod` is the page's date, unless `follow` reads the page's own date first (`lastmod` moves
/// with every edit).
pub fn to_feed(pages: Vec<PageUrl>, link: Option<String>, follow: bool) -> RawFeed {
    let mut feed = RawFeed { link, ..super::empty_feed(FeedFormat::Sitemap) };
    feed.title = pages.iter().find_map(|p| p.publication.clone()).map(Text::plain);
    feed.language = pages.iter().find_map(|p| p.language.clone());
    feed.entries = pages
        .into_iter()
        .map(|p| RawEntry {
            link: Some(p.loc),
            title: p.title.map(Text::plain),
            published: p.published.or_else(|| p.lastmod.clone().filter(|_| !follow)),
            updated: p.lastmod,
            language: p.language,
            categories: p.keywords,
            image: p.image,
            ..RawEntry::default()
        })
        .collect();
    feed
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://dala.kz/kk/news/2024/11/18/astana-metro</loc>
    <lastmod>2024-11-18T10:05:00+05:00</lastmod>
    <news:news>
      <news:publication><news:name>Dala Ақпарат</news:name><news:language>kk</news:language></news:publication>
      <news:publication_date>2024-11-18T09:30:00+05:00</news:publication_date>
      <news:title>Астанада жеңіл рельсті көлік &amp; метро: сынақ басталды</news:title>
      <news:keywords>Астана, көлік,  LRT</news:keywords>
    </news:news>
    <image:image><image:loc>https://dala.kz/img/lrt.jpg</image:loc></image:image>
    <image:image><image:loc>https://dala.kz/img/lrt-2.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://dala.kz/ru/news/2024/11/18/tarify</loc>
    <news:news>
      <news:publication><news:name>Dala Ақпарат</news:name><news:language>ru</news:language></news:publication>
      <news:publication_date>2024-11-18T11:00:00+05:00</news:publication_date>
      <news:title><![CDATA[Тарифы на воду в Алматы <не> изменятся]]></news:title>
    </news:news>
  </url>
</urlset>"#;

    fn all(bytes: &[u8]) -> Sitemap {
        read(bytes, 1 << 20, |_| true).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_google_news_sitemap_gives_titles_dates_languages_and_images() {
        let s = all(NEWS.as_bytes());
        assert!(!s.is_index);
        assert_eq!(s.urls.len(), 2);
        let lrt = &s.urls[0];
        assert_eq!(lrt.title.as_deref(), Some("Астанада жеңіл рельсті көлік & метро: сынақ басталды"));
        assert_eq!(lrt.published.as_deref(), Some("2024-11-18T09:30:00+05:00"));
        assert_eq!(lrt.language.as_deref(), Some("kk"));
        assert_eq!(lrt.publication.as_deref(), Some("Dala Ақпарат"));
        assert_eq!(lrt.keywords, ["Астана", "көлік", "LRT"]);
        assert_eq!(lrt.image.as_deref(), Some("https://dala.kz/img/lrt.jpg"), "the first image");
        assert_eq!(s.urls[1].title.as_deref(), Some("Тарифы на воду в Алматы <не> изменятся"));
        let feed = to_feed(newest(s.urls, 10), None, false);
        assert_eq!(feed.title.map(|t| t.value).as_deref(), Some("Dala Ақпарат"));
        assert_eq!(feed.entries[0].link.as_deref(), Some("https://dala.kz/ru/news/2024/11/18/tarify"), "newest first");
        assert_eq!(feed.entries[1].updated.as_deref(), Some("2024-11-18T10:05:00+05:00"));
    }

    #[test]
    fn an_index_lists_its_children() {
        let index = "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
            <sitemap><loc>https://x.kz/s1.xml.gz</loc><lastmod>2024-11-01</lastmod></sitemap>\
            <sitemap><loc> https://x.kz/s2.xml </loc></sitemap></sitemapindex>";
        let s = all(index.as_bytes());
        assert!(s.is_index && s.urls.is_empty());
        assert_eq!(
            s.children,
            [
                Child { loc: "https://x.kz/s1.xml.gz".into(), lastmod: Some("2024-11-01".into()) },
                Child { loc: "https://x.kz/s2.xml".into(), lastmod: None }
            ]
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap_or_default();
        e.finish().unwrap_or_default()
    }

    #[test]
    fn gzip_content_is_inflated_within_the_cap() {
        assert_eq!(all(&gzip(NEWS.as_bytes())).urls.len(), 2);
        let mut bomb = String::from("<urlset>");
        bomb.push_str(&"<!-- padding -->".repeat(200_000));
        bomb.push_str("</urlset>");
        let err = read(&gzip(bomb.as_bytes()), 1 << 20, |_| true).err();
        assert!(matches!(err, Some(SitemapError::TooBig { limit: 1_048_576 })), "{err:?}");
    }

    #[test]
    fn plain_pages_are_filtered_and_the_newest_kept() {
        let doc = "<urlset><url><loc>https://x.kz/about</loc></url>\
            <url><loc>https://x.kz/news/old</loc><lastmod>2024-01-02</lastmod></url>\
            <url><loc>https://x.kz/news/new</loc><lastmod>2024-11-02T08:00Z</lastmod></url>\
            <url><loc>https://x.kz/news/mid</loc><lastmod>2024-06-02T08:00:00+05:00</lastmod></url></urlset>";
        let s = read(doc.as_bytes(), 1 << 20, |u| u.contains("/news/")).unwrap_or_default();
        assert_eq!(s.skipped, 1);
        let kept: Vec<_> = newest(s.urls, 2).into_iter().map(|p| p.loc).collect();
        assert_eq!(kept, ["https://x.kz/news/new", "https://x.kz/news/mid"]);
        let twice = vec![
            PageUrl { loc: "https://x.kz/a".into(), lastmod: Some("2024-11-18T10:05Z".into()), ..PageUrl::default() },
            PageUrl { loc: "https://x.kz/a".into(), title: Some("Headline".into()), ..PageUrl::default() },
        ];
        let once = newest(twice, 10);
        assert_eq!(once.len(), 1);
        assert_eq!(
            (once[0].title.as_deref(), once[0].lastmod.as_deref()),
            (Some("Headline"), Some("2024-11-18T10:05Z"))
        );
    }

    #[test]
    fn a_page_or_a_feed_is_not_a_sitemap_and_a_cut_document_keeps_what_was_read() {
        let err = read(b"<!DOCTYPE html><html><body>404</body></html>", 1024, |_| true).err();
        assert!(matches!(&err, Some(SitemapError::NotASitemap { found }) if found == "html"), "{err:?}");
        assert!(matches!(read(b"", 1024, |_| true), Err(SitemapError::Empty)));
        let cut = "<urlset><url><loc>https://x.kz/a</loc></url><url><loc>https://x.kz/b</lo";
        let s = all(cut.as_bytes());
        assert_eq!(s.urls.len(), 1);
        assert!(!s.warnings.is_empty());
    }

    #[test]
    fn w3c_dates_order_pages() {
        assert_eq!(sort_key("2024-11-18"), sort_key("2024-11-18T00:00:00Z"));
        assert_eq!(sort_key("2024-11-18T09:00+05:00"), sort_key("2024-11-18T04:00:00Z"));
        assert!(sort_key("yesterday").is_none());
    }
}
