//! Reading an OPML subscription list: every outline with an `xmlUrl` is a feed, and the folders
//! (outlines without one) around it say where it was filed.
//!
//! Readers write OPML loosely: attribute names in any case (`xmlUrl`, `xmlurl`), HTML entities in
//! titles, `feed://` URLs, folders nested several deep, an outline without `text`. All of that is read;
//! only a document without `<opml>` or without a single feed is refused.
//!
//! feedmill's own export names each source and category in attributes of its namespace
//! ([`NAMESPACE`]: `feedmill:name`, `feedmill:category`, whatever prefix the document binds it to);
//! exports from before the namespace wrote `feedmillName` and `feedmillCategory`, which are read too.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::emit::opml::NAMESPACE;

/// One feed of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// `title`, else `text`, trimmed; `None` when both are missing or blank.
    pub title: Option<String>,
    /// `xmlUrl`, with a `feed:` scheme turned into the http(s) it stands for.
    pub xml_url: String,
    /// The source name feedmill's own export records (`feedmill:name`, formerly `feedmillName`).
    pub name_hint: Option<String>,
    /// Enclosing folders, outermost first.
    pub folders: Vec<Folder>,
}

/// A folder outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// `title`, else `text`; empty when both are missing.
    pub title: String,
    /// The category slug feedmill's own export records (`feedmill:category`, formerly `feedmillCategory`).
    pub slug_hint: Option<String>,
}

/// Why a document is not a subscription list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpmlError {
    #[error("not XML: {0}")]
    Xml(String),
    #[error("no <opml> element: not an OPML file")]
    NotOpml,
}

/// Every feed outline of `text`, in document order (a feed in two folders appears twice).
pub fn read(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.check_comments = false;
    config.allow_dangling_amp = true;

    let mut seen_opml = false;
    // The prefixes bound to feedmill's namespace (`feedmill:` in its own export); declared on `<opml>`.
    let mut prefixes: Vec<String> = Vec::new();
    // One entry per open outline: the folder it is, or `None` for a feed outline with children.
    let mut open: Vec<Option<Folder>> = Vec::new();
    let mut feeds = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| OpmlError::Xml(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if is(&e, b"opml") => {
                seen_opml = true;
                prefixes = namespace_prefixes(&e);
            }
            Event::Start(e) if is(&e, b"outline") => {
                let frame = match outline(&e, &open, &prefixes) {
                    Some(feed) => {
                        feeds.push(feed);
                        None
                    }
                    None => Some(folder(&e, &prefixes)),
                };
                open.push(frame);
            }
            Event::Empty(e) if is(&e, b"outline") => feeds.extend(outline(&e, &open, &prefixes)),
            Event::End(e) if e.local_name().as_ref().eq_ignore_ascii_case(b"outline") => {
                open.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_opml {
        return Err(OpmlError::NotOpml);
    }
    Ok(feeds)
}

fn is(e: &BytesStart, name: &[u8]) -> bool {
    e.local_name().as_ref().eq_ignore_ascii_case(name)
}

/// The prefixes `e` binds to feedmill's [`NAMESPACE`] (`xmlns:feedmill="…"`).
fn namespace_prefixes(e: &BytesStart) -> Vec<String> {
    let mut attrs = e.html_attributes();
    attrs.with_checks(false);
    attrs
        .flatten()
        .filter(|a| a.value.as_ref() == NAMESPACE.as_bytes())
        .filter_map(|a| a.key.as_ref().strip_prefix(b"xmlns:").map(|p| String::from_utf8_lossy(p).into_owned()))
        .collect()
}

/// One of feedmill's own attributes: `local` in its namespace, else the old un-namespaced `old` name.
fn own_attr(e: &BytesStart, prefixes: &[String], local: &str, old: &str) -> Option<String> {
    let namespaced = prefixes.iter().find_map(|p| exact_attr(e, &format!("{p}:{local}")));
    namespaced.or_else(|| attr(e, old)).filter(|v| !v.is_empty())
}

/// The feed an outline stands for, when it has an `xmlUrl`.
fn outline(e: &BytesStart, open: &[Option<Folder>], prefixes: &[String]) -> Option<OpmlFeed> {
    let url = attr(e, "xmlUrl").filter(|u| !u.is_empty())?;
    Some(OpmlFeed {
        title: attr(e, "title").filter(|t| !t.is_empty()).or_else(|| attr(e, "text").filter(|t| !t.is_empty())),
        xml_url: from_feed_scheme(&url),
        name_hint: own_attr(e, prefixes, "name", "feedmillName"),
        folders: open.iter().flatten().cloned().collect(),
    })
}

fn folder(e: &BytesStart, prefixes: &[String]) -> Folder {
    Folder {
        title: attr(e, "title").filter(|t| !t.is_empty()).or_else(|| attr(e, "text")).unwrap_or_default(),
        slug_hint: own_attr(e, prefixes, "category", "feedmillCategory"),
    }
}

/// An attribute's value, entities resolved (XML's and HTML's), whitespace trimmed; the name is matched
/// without regard to case.
fn attr(e: &BytesStart, name: &str) -> Option<String> {
    find_attr(e, |key| key.local_name().as_ref().eq_ignore_ascii_case(name.as_bytes()))
}

/// As [`attr`], for the attribute whose qualified name is exactly `qname` (`feedmill:name`).
fn exact_attr(e: &BytesStart, qname: &str) -> Option<String> {
    find_attr(e, |key| key.as_ref() == qname.as_bytes())
}

fn find_attr(e: &BytesStart, matches: impl Fn(quick_xml::name::QName) -> bool) -> Option<String> {
    let mut attrs = e.html_attributes();
    attrs.with_checks(false);
    let a = attrs.flatten().find(|a| matches(a.key))?;
    let value = a
        .normalized_value_with(quick_xml::XmlVersion::Implicit1_0, 1, |entity| {
            quick_xml::escape::resolve_xml_entity(entity).or_else(|| quick_xml::escape::resolve_html5_entity(entity))
        })
        .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned().into());
    Some(Cow::into_owned(value).trim().to_owned())
}

/// `feed://host/rss` → `http://host/rss`, `feed:https://host/rss` → `https://host/rss`: the old
/// "subscribe" scheme some readers still export.
fn from_feed_scheme(url: &str) -> String {
    let Some(rest) = url.strip_prefix("feed:").or_else(|| url.strip_prefix("FEED:")) else {
        return url.to_owned();
    };
    match rest.strip_prefix("//") {
        Some(host_and_path) => format!("http://{host_and_path}"),
        None => rest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_with_their_folders() {
        let text = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>subs</title></head><body>
  <outline text="Tech" title="Tech">
    <outline text="Rust &amp; friends">
      <outline type="rss" text="This Week" xmlUrl="https://this-week-in-rust.org/rss.xml"/>
    </outline>
    <outline type="rss" text="LWN" title="LWN.net" xmlURL="feed://lwn.net/headlines/rss"/>
  </outline>
  <outline text="Жаңалықтар &laquo;KZ&raquo;"><outline text="Abai" xmlurl="https://abai.kz/rss"></outline></outline>
  <outline type="rss" text="" xmlUrl="feed:https://top.example/feed" feedmillName="top"/>
  <outline text="Empty folder"/>
  <outline type="rss" text="no url"/>
</body></opml>"#;
        let feeds = read(text).unwrap();
        let summary: Vec<(Option<&str>, &str, Vec<&str>)> = feeds
            .iter()
            .map(|f| (f.title.as_deref(), f.xml_url.as_str(), f.folders.iter().map(|d| d.title.as_str()).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some("This Week"), "https://this-week-in-rust.org/rss.xml", vec!["Tech", "Rust & friends"]),
                (Some("LWN.net"), "http://lwn.net/headlines/rss", vec!["Tech"]),
                (Some("Abai"), "https://abai.kz/rss", vec!["Жаңалықтар «KZ»"]),
                (None, "https://top.example/feed", vec![]),
            ]
        );
        assert_eq!(feeds[3].name_hint.as_deref(), Some("top"));
    }

    /// feedmill's attributes are read in its namespace, under any prefix, and in their old form; a
    /// plain `name` attribute, or ours in another namespace, is no hint.
    #[test]
    fn own_attributes_in_the_namespace_or_the_old_form() {
        let text = r#"<opml version="2.0" xmlns:fm="https://github.com/feedmill/feedmill#opml" xmlns:x="urn:other"><body>
  <outline text="News" fm:category="news">
    <outline type="rss" text="A" xmlUrl="https://a.example/rss" fm:name="a-news"/>
    <outline type="rss" text="B" xmlUrl="https://b.example/rss" name="nope" x:name="nope"/>
  </outline>
  <outline text="Old" feedmillCategory="old"><outline text="C" xmlUrl="https://c.example/rss" feedmillName="c"/></outline>
</body></opml>"#;
        let feeds = read(text).unwrap();
        let hints: Vec<(Option<&str>, Option<&str>)> = feeds
            .iter()
            .map(|f| (f.name_hint.as_deref(), f.folders.first().and_then(|d| d.slug_hint.as_deref())))
            .collect();
        assert_eq!(hints, vec![(Some("a-news"), Some("news")), (None, Some("news")), (Some("c"), Some("old"))]);
    }

    #[test]
    fn a_document_that_is_not_opml_is_refused() {
        assert_eq!(read("<rss><channel/></rss>"), Err(OpmlError::NotOpml));
        assert!(read("").is_err());
    }
}
