//! Strict third-party readers for what feedmill writes: every RSS and Atom document a test emits is
//! read back by the `rss` and `atom_syndication` crates, and a document either rejects fails the test.
//!
//! feedmill's own parser is lenient on purpose (it recovers what a broken feed still holds), so reading
//! our output back with it proves little about the readers that are not. These two crates stop at the
//! first malformed tag or bare `&`, like many readers do. Both let a few things through that XML 1.0 or
//! the specifications forbid, so this module checks those too: forbidden characters, undeclared
//! entities and unbound namespace prefixes, RSS 2.0's required elements and the `rss` crate's `validation` (RFC 822 dates, URLs, MIME
//! types, enclosure lengths), and RFC 4287's RFC 3339 dates, ids, authors and content rules.
//!
//! Used by the emitters' unit tests (`emit::strict`) and by the integration tests, which include this
//! file by path and check every `rss.xml` and `atom.xml` a test project holds after each command (see
//! `tests/integration/util.rs`). It names no other module of the crate, so it compiles in both.

// The unit tests use the `assert_*` half and the integration tests the file half.
#![allow(dead_code)]

use std::path::Path;

use rss::validation::Validate;

/// Checks one RSS 2.0 document; the error says what is wrong.
pub fn check_rss(xml: &str) -> Result<(), String> {
    let channel = rss::Channel::read_from(xml.as_bytes()).map_err(|e| format!("rss crate rejects it: {e}"))?;
    xml_rules(xml, false)?;
    if channel.title().trim().is_empty() {
        return Err("channel without a title".into());
    }
    if channel.description().trim().is_empty() {
        return Err("channel without a description".into());
    }
    for (i, item) in channel.items().iter().enumerate() {
        if item.title().is_none() && item.description().is_none() {
            return Err(format!("item {i} has neither title nor description"));
        }
    }
    let mut checked = channel.clone();
    // Allowance 1: RSS 2.0 requires the channel `link`, but feedmill omits it when it knows no URL at all
    // (no `base_url` and no entry with a URL, see `emit/rss.rs`): an invented one would be worse. When
    // the document holds any URL the channel link could have been, it must be there.
    if checked.link().is_empty() {
        let self_link = channel.extensions().get("atom").is_some_and(|atom| atom.contains_key("link"));
        if self_link || checked.items().iter().any(|item| item.link().is_some()) {
            return Err("channel without a link although the document knows a URL".into());
        }
        checked.set_link("https://link.invalid/");
    }
    // Allowance 2: `length="0"` for an enclosure of unknown size is what the RSS Advisory Board's
    // best practices ask for; the crate's validation wants a positive length.
    for item in checked.items_mut() {
        if let Some(enclosure) = item.enclosure.as_mut().filter(|e| e.length() == "0") {
            enclosure.set_length("1");
        }
    }
    checked.validate().map_err(|e| format!("rss crate validation: {e}"))
}

/// Checks one Atom 1.0 document; the error says what is wrong.
pub fn check_atom(xml: &str) -> Result<(), String> {
    let feed =
        atom_syndication::Feed::read_from(xml.as_bytes()).map_err(|e| format!("atom_syndication rejects it: {e}"))?;
    xml_rules(xml, true)?;
    iri("feed id", feed.id())?;
    for link in feed.links() {
        iri("feed link", link.href())?;
    }
    // RFC 4287 §4.1.1: a feed without an author needs one in every entry.
    let feed_author = !feed.authors().is_empty();
    for (i, entry) in feed.entries().iter().enumerate() {
        let at = |what: &str| format!("entry {i} ({}): {what}", entry.id());
        iri(&at("id"), entry.id())?;
        if !feed_author && entry.authors().is_empty() {
            return Err(at("no author, and the feed has none"));
        }
        if entry.authors().iter().any(|a| a.name().trim().is_empty()) {
            return Err(at("an author without a name"));
        }
        for link in entry.links() {
            iri(&at("link"), link.href())?;
        }
        // §4.1.1.1: an entry without content has an alternate link.
        let alternate = entry.links().iter().any(|l| l.rel() == "alternate");
        if entry.content().is_none() && !alternate {
            return Err(at("neither content nor an alternate link"));
        }
        if let Some(content) = entry.content() {
            if content.src().is_some() && entry.summary().is_none() {
                return Err(at("content by src needs a summary"));
            }
        }
    }
    Ok(())
}

/// What both crates let through and XML 1.0 (with namespaces) forbids: a character outside its `Char`
/// production, an entity reference that is neither predefined nor a character reference (`&nbsp;` has
/// no DTD here), and a prefix no `xmlns:` binds. With `rfc3339`, also RFC 4287 §3.3: `updated` and
/// `published` are RFC 3339 timestamps, which the `atom_syndication` crate reads leniently (an RFC 822
/// date passes).
fn xml_rules(xml: &str, rfc3339: bool) -> Result<(), String> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let forbidden =
        |c: char| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    if let Some(c) = xml.chars().find(|&c| forbidden(c)) {
        return Err(format!("character {c:?}, which XML 1.0 forbids"));
    }
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut date = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| format!("XML: {e}"))?;
        if let ResolveResult::Unknown(prefix) = ns {
            return Err(format!("unbound prefix {:?}", String::from_utf8_lossy(&prefix)));
        }
        match event {
            Event::Start(e) | Event::Empty(e) => {
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| format!("attribute: {err}"))?;
                    if let (ResolveResult::Unknown(prefix), _) = reader.resolver().resolve_attribute(attr.key) {
                        return Err(format!("unbound prefix {:?}", String::from_utf8_lossy(&prefix)));
                    }
                }
                date = rfc3339 && matches!(e.local_name().as_ref(), b"updated" | b"published");
            }
            Event::Text(t) if date => {
                let text = String::from_utf8_lossy(&t);
                chrono::DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|e| format!("date {text:?} is not RFC 3339: {e}"))?;
            }
            Event::GeneralRef(r) => {
                let predefined = matches!(&*r as &[u8], b"amp" | b"lt" | b"gt" | b"quot" | b"apos");
                if !predefined && !matches!(r.resolve_char_ref(), Ok(Some(_))) {
                    return Err(format!("undeclared entity &{};", String::from_utf8_lossy(&r)));
                }
            }
            Event::End(_) => date = false,
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Atom ids and link targets are IRIs; feedmill writes absolute ones only.
fn iri(what: &str, value: &str) -> Result<(), String> {
    url::Url::parse(value).map(drop).map_err(|e| format!("{what} {value:?} is no absolute IRI: {e}"))
}

/// Checks `path` with the reader its file name calls for (`rss.xml`, `atom.xml`); other files pass.
fn check_file(path: &Path) -> Result<(), String> {
    let check = match path.file_name().and_then(|n| n.to_str()) {
        Some("rss.xml") => check_rss,
        Some("atom.xml") => check_atom,
        _ => return Ok(()),
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    check(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks every `rss.xml` and `atom.xml` under `dir`, returning how many were read.
pub fn check_tree(dir: &Path) -> Result<usize, String> {
    let mut checked = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(items) = std::fs::read_dir(&dir) else { continue };
        for item in items.flatten() {
            let path = item.path();
            match item.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && matches!(item.file_name().to_str(), Some("rss.xml" | "atom.xml")) => {
                    check_file(&path)?;
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    Ok(checked)
}

/// Panics with the document when a strict reader rejects this RSS.
#[track_caller]
pub fn assert_rss(xml: &str) {
    if let Err(e) = check_rss(xml) {
        panic!("{e}\n--- document\n{xml}");
    }
}

/// Panics with the document when a strict reader rejects this Atom.
#[track_caller]
pub fn assert_atom(xml: &str) {
    if let Err(e) = check_atom(xml) {
        panic!("{e}\n--- document\n{xml}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss(channel_link: &str, item: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>{channel_link}\
             <description>D</description><item>{item}</item></channel></rss>\n"
        )
    }

    fn atom(entry: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
             <id>urn:x:feed</id><title>T</title><updated>2019-07-11T09:00:00Z</updated><entry>{entry}</entry></feed>\n"
        )
    }

    const LINK: &str = "<link>https://example.org/</link>";
    const ENTRY: &str = "<id>urn:x:1</id><title>E</title><updated>2019-07-11T09:00:00Z</updated>\
                         <author><name>A</name></author><link rel=\"alternate\" href=\"https://example.org/1\"/>";

    #[test]
    fn rss_rejects_what_a_strict_reader_or_the_spec_would() {
        assert_eq!(
            check_rss(&rss(LINK, "<title>ok</title><pubDate>Thu, 11 Jul 2019 06:20:00 +0000</pubDate>")),
            Ok(())
        );
        for (link, item) in [
            (LINK, "<title>a bare & ampersand</title>"),
            (LINK, "<title>an HTML entity: &nbsp;</title>"),
            (LINK, "<title>a control character: \u{1}</title>"),
            (LINK, "<title>x</title><media:thumbnail url=\"https://e.org/a.jpg\"/>"),
            (LINK, "<title>x</title><guid dc:x=\"1\">a</guid>"),
            (LINK, "<title>x</title></item><item>"),
            (LINK, "<title>x</title><pubDate>2019-07-11T06:20:00Z</pubDate>"),
            (LINK, "<title>x</title><enclosure url=\"https://e.org/a.mp3\" length=\"-1\" type=\"audio/mpeg\"/>"),
            (LINK, "<title>x</title><enclosure url=\"https://e.org/a.mp3\" length=\"1\" type=\"audio\"/>"),
            ("", "<title>x</title><link>https://example.org/1</link>"),
            ("<link>/relative</link>", "<title>x</title>"),
        ] {
            let doc = rss(link, item);
            assert!(check_rss(&doc).is_err(), "accepted: {doc}");
        }
    }

    #[test]
    fn rss_allowances_are_narrow() {
        let unknown_size = "<title>x</title><enclosure url=\"https://e.org/a.mp3\" length=\"0\" type=\"audio/mpeg\"/>";
        assert_eq!(check_rss(&rss(LINK, unknown_size)), Ok(()));
        assert_eq!(check_rss(&rss("", "<title>no URL known anywhere</title>")), Ok(()));
    }

    #[test]
    fn atom_rejects_what_a_strict_reader_or_the_rfc_would() {
        assert_eq!(check_atom(&atom(ENTRY)), Ok(()));
        for entry in [
            ENTRY.replace("2019-07-11T09:00:00Z", "Thu, 11 Jul 2019 09:00:00 +0000"),
            ENTRY.replace("<author><name>A</name></author>", ""),
            ENTRY.replace("<name>A</name>", "<name> </name>"),
            ENTRY.replace("<link rel=\"alternate\" href=\"https://example.org/1\"/>", ""),
            ENTRY.replace("urn:x:1", "1"),
            ENTRY.replace("<title>E</title>", "<title>E &nbsp;</title>"),
        ] {
            let doc = atom(&entry);
            assert!(check_atom(&doc).is_err(), "accepted: {doc}");
        }
    }
}
