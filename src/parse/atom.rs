//! Atom 1.0 and 0.3 → [`RawFeed`].
//!
//! In: a reader positioned before `<feed>`. Out: the feed, one entry per `<entry>`. The two versions
//! share a shape and differ in names (0.3's `issued`/`modified`/`created`, `tagline`, `url` in a
//! person) and in how content is typed: 1.0 says `type="text|html|xhtml"` (or a MIME type); 0.3 says
//! a MIME type plus `mode="escaped|xml|base64"`. Both are mapped by [`content_kind`] onto three ways
//! to read an element: as text, as HTML text, or as inline XHTML that is serialized back to HTML
//! while streaming (no DOM), dropping Atom's wrapping `<div>`. Feed-level authors apply to entries
//! that name none, as the Atom spec says.

use crate::model::{Person, RawEntry, RawFeed, Text};

use super::ext::{self, Alternate, EntryExt, FeedExt};
use super::warn::Kind;
use super::xml::{Element, Node, Ns, XmlReader};
use super::{empty_feed, entry_cap_reached, push_capped, set_first};
use crate::model::FeedFormat;

pub(super) fn parse(x: &mut XmlReader<'_>) -> RawFeed {
    let mut feed = empty_feed(FeedFormat::Atom);
    let root = loop {
        match x.next() {
            Node::Start(root) => break root,
            Node::End => {}
            Node::Eof => return feed,
        }
    };
    feed.base = x.base().map(str::to_owned);
    feed.language = x.lang().map(str::to_owned);
    let version_attr = x.attr(&root, b"version");
    feed.version = match root.ns {
        Ns::Atom => Some("1.0".to_owned()),
        Ns::Atom03 => Some(version_attr.unwrap_or_else(|| "0.3".to_owned())),
        _ => version_attr,
    };
    let atom03 = root.ns == Ns::Atom03 || feed.version.as_deref() == Some("0.3");

    let mut authors = Vec::new();
    let mut alternate = Alternate::default();
    let (mut logo, mut icon) = (None, None);
    let mut fext = FeedExt::default();
    loop {
        match x.next() {
            Node::Start(el) if is_core(el.ns) => match el.local() {
                b"title" => set_first(&mut feed.title, text_construct(x, &el, atom03)),
                b"subtitle" | b"tagline" => set_first(&mut feed.description, text_construct(x, &el, atom03)),
                b"link" => {
                    let link = ext::read_link(x, &el);
                    match link.rel.as_str() {
                        "self" => set_first(&mut feed.self_link, link.href),
                        "alternate" => alternate.offer(link),
                        _ => {}
                    }
                }
                b"logo" => set_first(&mut logo, x.text()),
                b"icon" => set_first(&mut icon, x.text()),
                b"author" => {
                    let person = read_person(x);
                    push_capped(x, &mut authors, person);
                }
                b"entry" if entry_cap_reached(x, &feed.entries) => {}
                b"entry" => {
                    let (entry, complete) = read_entry(x, &el, atom03);
                    keep_entry(x, &mut feed.entries, entry, complete);
                }
                _ => x.skip(),
            },
            Node::Start(el) => {
                if !ext::feed_element(x, &el, &mut fext) {
                    x.skip();
                }
            }
            Node::End | Node::Eof => break,
        }
    }
    feed.link = alternate.into_url();
    feed.image = logo.or(icon);
    fext.fill(&mut feed);
    if !authors.is_empty() {
        for entry in feed.entries.iter_mut().filter(|e| e.authors.is_empty()) {
            entry.authors.clone_from(&authors);
        }
    }
    feed
}

/// Atom's own elements; a feed that forgot its namespace declaration still counts.
fn is_core(ns: Ns) -> bool {
    matches!(ns, Ns::Atom | Ns::Atom03 | Ns::None)
}

fn keep_entry(x: &mut XmlReader<'_>, entries: &mut Vec<RawEntry>, entry: RawEntry, complete: bool) {
    if complete {
        entries.push(entry);
    } else if entry.title.is_some() || entry.link.is_some() {
        x.warn(Kind::PartialEntry, || "the last <entry> is cut off; kept it (it has a title or link)".into());
        entries.push(entry);
    } else {
        x.warn(Kind::PartialEntry, || "the last <entry> is cut off before its title or link; dropped it".into());
    }
}

/// Returns the entry and whether its end tag was seen.
fn read_entry(x: &mut XmlReader<'_>, el: &Element<'_>, atom03: bool) -> (RawEntry, bool) {
    let mut entry =
        RawEntry { language: x.attr(el, b"xml:lang"), base: x.base().map(str::to_owned), ..RawEntry::default() };
    let mut alternate = Alternate::default();
    let mut created = None;
    let mut ext = EntryExt::default();
    let complete = loop {
        match x.next() {
            Node::Start(child) if is_core(child.ns) => match child.local() {
                b"id" => set_first(&mut entry.id, x.text()),
                b"title" => set_first(&mut entry.title, text_construct(x, &child, atom03)),
                b"summary" => set_first(&mut entry.summary, text_construct(x, &child, atom03)),
                b"content" => set_first(&mut entry.content, text_construct(x, &child, atom03)),
                b"link" => {
                    let link = ext::read_link(x, &child);
                    match link.rel.as_str() {
                        "alternate" => alternate.offer(link),
                        "enclosure" => {
                            if let Some(enclosure) = link.into_enclosure() {
                                ext::add_enclosure(x, &mut entry.enclosures, enclosure);
                            }
                        }
                        _ => {}
                    }
                }
                b"author" => {
                    let person = read_person(x);
                    push_capped(x, &mut entry.authors, person);
                }
                b"category" => {
                    let [term, label] = x.attrs(&child, [b"term", b"label"]);
                    push_capped(x, &mut entry.categories, term.or(label));
                    x.skip();
                }
                b"published" | b"issued" => set_first(&mut entry.published, x.text()),
                b"created" => set_first(&mut created, x.text()),
                b"updated" | b"modified" => set_first(&mut entry.updated, x.text()),
                _ => x.skip(),
            },
            Node::Start(child) => {
                if !ext::entry_element(x, &child, &mut ext) {
                    x.skip();
                }
            }
            Node::End => break true,
            Node::Eof => break false,
        }
    };
    entry.link = alternate.into_url();
    set_first(&mut entry.published, created);
    ext.fill(&mut entry);
    // An id that is a web address is, for want of an alternate link, the entry's page (as feedparser has it).
    let web_id = entry.id.as_deref().map(str::trim).filter(|id| {
        let lower = id.get(..8).unwrap_or(id).to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    });
    set_first(&mut entry.link, web_id.map(str::to_owned));
    (entry, complete)
}

/// `<author>` (or `<contributor>`): name, email, uri (0.3: url).
fn read_person(x: &mut XmlReader<'_>) -> Option<Person> {
    let mut p = Person::default();
    loop {
        match x.next() {
            Node::Start(el) if is_core(el.ns) => match el.local() {
                b"name" => set_first(&mut p.name, x.text()),
                b"email" => set_first(&mut p.email, x.text()),
                b"uri" | b"url" => set_first(&mut p.url, x.text()),
                _ => x.skip(),
            },
            Node::Start(_) => x.skip(),
            Node::End | Node::Eof => break,
        }
    }
    (p.name.is_some() || p.email.is_some() || p.url.is_some()).then_some(p)
}

/// How an Atom text construct or content element is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentKind {
    Text,
    Html,
    /// Inline XML markup, serialized to HTML.
    Xhtml,
    /// Base64 (0.3 `mode="base64"`, or a 1.0 content of a non-text MIME type).
    Base64 {
        html: bool,
    },
}

/// Maps `type` (1.0 keyword or MIME type) and 0.3's `mode` onto a [`ContentKind`].
fn content_kind(ty: Option<&str>, mode: Option<&str>, atom03: bool) -> ContentKind {
    let ty = ty.map(str::to_ascii_lowercase);
    let ty = ty.as_deref().unwrap_or(if atom03 { "text/plain" } else { "text" });
    let html = matches!(ty, "html" | "text/html");
    let xml = matches!(ty, "xhtml" | "application/xhtml+xml") || ty.ends_with("+xml") || ty.ends_with("/xml");
    match mode.map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => ContentKind::Base64 { html },
        Some("escaped") => {
            if html {
                ContentKind::Html
            } else {
                ContentKind::Text
            }
        }
        // 0.3's default mode is "xml": inline markup, unless the type says plain text.
        _ if atom03 && (html || xml) => ContentKind::Xhtml,
        _ if html => ContentKind::Html,
        _ if xml => ContentKind::Xhtml,
        _ if ty == "text" || ty.starts_with("text/") => ContentKind::Text,
        _ => ContentKind::Base64 { html: false },
    }
}

fn text_construct(x: &mut XmlReader<'_>, el: &Element<'_>, atom03: bool) -> Option<Text> {
    let base = super::own_base(x);
    read_text_construct(x, el, atom03).map(|t| t.with_base(base))
}

fn read_text_construct(x: &mut XmlReader<'_>, el: &Element<'_>, atom03: bool) -> Option<Text> {
    let [ty, mode] = x.attrs(el, [b"type", b"mode"]);
    match content_kind(ty.as_deref(), mode.as_deref(), atom03) {
        ContentKind::Text => x.content(false).map(|(v, markup)| if markup { Text::html(v) } else { Text::plain(v) }),
        ContentKind::Html => x.content(false).map(|(v, _)| Text::html(v)),
        ContentKind::Xhtml => x.content(true).map(|(v, _)| Text::html(v)),
        ContentKind::Base64 { html } => {
            let decoded = x.text().and_then(|b64| decode_base64(&b64)).and_then(|bytes| String::from_utf8(bytes).ok());
            decoded.map(|v| if html { Text::html(v) } else { Text::plain(v) })
        }
    }
}

/// Standard base64, whitespace ignored; `None` on anything else (binary content is not text).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TextKind;
    use crate::parse::parse;

    #[test]
    fn maps_types_and_modes() {
        use ContentKind::*;
        assert_eq!(content_kind(None, None, false), Text);
        assert_eq!(content_kind(Some("HTML"), None, false), Html);
        assert_eq!(content_kind(Some("xhtml"), None, false), Xhtml);
        assert_eq!(content_kind(Some("image/png"), None, false), Base64 { html: false });
        assert_eq!(content_kind(None, None, true), Text);
        assert_eq!(content_kind(Some("text/html"), Some("escaped"), true), Html);
        assert_eq!(content_kind(Some("text/html"), None, true), Xhtml);
        assert_eq!(content_kind(Some("application/xhtml+xml"), Some("xml"), true), Xhtml);
        assert_eq!(content_kind(Some("text/html"), Some("base64"), true), Base64 { html: true });
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(decode_base64("PGI+aGk8L2I+").as_deref(), Some(&b"<b>hi</b>"[..]));
        assert_eq!(decode_base64("aGk=\n").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("a*b"), None);
    }

    #[test]
    fn prefers_the_html_alternate_link_and_keeps_enclosures() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>
            <link rel="alternate" type="application/pdf" href="/a.pdf"/>
            <link href="/a.html"/>
            <link rel="alternate" type="text/html" href="/b.html"/>
            <link rel="enclosure" type="audio/mpeg" length="0" href="/a.mp3"/>
            <link rel="http://www.iana.org/assignments/relation/replies" href="/c"/></entry></feed>"#;
        let e = &parse(doc).expect("parses").entries[0];
        assert_eq!(e.link.as_deref(), Some("/a.html"));
        assert_eq!(e.enclosures.len(), 1);
        assert_eq!((e.enclosures[0].url.as_str(), e.enclosures[0].length), ("/a.mp3", None));
    }

    #[test]
    fn feed_authors_apply_to_entries_without_their_own() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><author><name>F</name></author>
            <entry><title>a</title></entry><entry><title>b</title><author><name>E</name></author></entry></feed>"#;
        let f = parse(doc).expect("parses");
        let names: Vec<_> = f.entries.iter().map(|e| e.authors[0].name.as_deref()).collect();
        assert_eq!(names, [Some("F"), Some("E")]);
    }

    #[test]
    fn text_type_with_markup_children_becomes_html() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A <b>bold</b> move</title></feed>"#;
        let t = parse(doc).expect("parses").title.expect("title");
        assert_eq!((t.kind, t.value.as_str()), (TextKind::Html, "A <b>bold</b> move"));
    }
}
