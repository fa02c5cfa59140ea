//! Atom 1.0 (RFC 4287): one [`FeedDoc`] in, one `atom.xml` document out.
//!
//! Atom is the strict one: the output must pass a validator, so each rule of the RFC that the model
//! does not already guarantee is met here.
//!
//! | Atom | from |
//! |---|---|
//! | feed `id`, `title`, `subtitle` | `doc.id`, `doc.title`, `doc.description` |
//! | feed `xml:lang` | `doc.language` |
//! | feed `updated` | `doc.updated` |
//! | `generator` | `feedmill` with `version` |
//! | `link rel="self"` / `rel="alternate"` | `doc.urls.atom` / `doc.home_url`, each when known |
//! | `link rel="hub"` | `doc.hub`, when `[output] hub` is set (WebSub) |
//! | entry `id`, `title type="text"` | `id`, `title` |
//! | `link rel="alternate"` | `url` |
//! | `link rel="via"` | each `via` with a URL (that copy's *article* URL), `title` = the source's name |
//! | `published` | `published`, when known (optional in Atom): never invented |
//! | `updated` | [`Entry::last_modified`] (required): `updated`, else `published`, else, for an undated entry, the time feedmill first saw it |
//! | `author` | each author (`name`, else the email, else the URL, as `name` is required); when the entry has none, the source's name, so every entry has an author and no feed-level author is needed |
//! | `category term` | each category |
//! | `summary type="html"`, `content type="html"` | `summary_html`, `content_html` (see below) |
//! | `link rel="enclosure"` | every enclosure, with `type` and `length` when known; URLs as the source gave them |
//! | entry `xml:lang` | `language` |
//! | `media:thumbnail` | `image`, the feed declaring the Media RSS namespace only when an entry has one |
//!
//! Summary and content: `content` is `content_html`, `summary` is `summary_html`. An entry with neither
//! content nor a URL would break RFC 4287 §4.1.1.1 (no `content` requires a `rel="alternate"` link), so
//! its summary is written as its content instead, or its title as text content when it has no summary
//! either. HTML is written as escaped text, not CDATA, as in RSS. Enclosure durations have no Atom
//! element and are not written.

use super::fmt::{capacity_hint, element, push_attr, push_rfc3339, push_text};
use super::{FeedDoc, GENERATOR_NAME, GENERATOR_VERSION};
use crate::model::{Entry, Person};

/// Renders `doc` as an Atom 1.0 document, ending in a newline.
pub fn render(doc: &FeedDoc) -> String {
    let mut out = String::with_capacity(capacity_hint(doc.entries));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"");
    if doc.entries.iter().any(|e| e.image.is_some()) {
        out.push_str(" xmlns:media=\"http://search.yahoo.com/mrss/\"");
    }
    if let Some(language) = doc.language {
        out.push_str(" xml:lang=\"");
        push_attr(&mut out, language);
        out.push('"');
    }
    out.push_str(">\n");
    element(&mut out, "  ", "id", doc.id);
    out.push_str("  <title type=\"text\">");
    push_text(&mut out, doc.title);
    out.push_str("</title>\n");
    if let Some(description) = doc.description {
        out.push_str("  <subtitle type=\"text\">");
        push_text(&mut out, description);
        out.push_str("</subtitle>\n");
    }
    out.push_str("  <updated>");
    push_rfc3339(&mut out, doc.updated);
    out.push_str("</updated>\n");
    out.push_str("  <generator version=\"");
    push_attr(&mut out, GENERATOR_VERSION);
    out.push_str("\">");
    push_text(&mut out, GENERATOR_NAME);
    out.push_str("</generator>\n");
    if let Some(urls) = doc.urls {
        link(&mut out, "  ", "self", &urls.atom, Some("application/atom+xml"), None);
    }
    if let Some(hub) = doc.hub {
        link(&mut out, "  ", "hub", hub, None, None);
    }
    if let Some(home) = doc.home_url {
        link(&mut out, "  ", "alternate", home, Some("text/html"), None);
    }
    for entry in doc.entries {
        write_entry(&mut out, entry);
    }
    out.push_str("</feed>\n");
    out
}

fn write_entry(out: &mut String, entry: &Entry) {
    out.push_str("  <entry");
    if let Some(language) = &entry.language {
        out.push_str(" xml:lang=\"");
        push_attr(out, language);
        out.push('"');
    }
    out.push_str(">\n");
    element(out, "    ", "id", &entry.id);
    out.push_str("    <title type=\"text\">");
    push_text(out, &entry.title);
    out.push_str("</title>\n");
    if let Some(url) = &entry.url {
        // No `type`: an entry's page may be a PDF or a video as well as HTML.
        link(out, "    ", "alternate", url, None, None);
    }
    for via in &entry.via {
        if let Some(url) = &via.url {
            out.push_str("    <link rel=\"via\" href=\"");
            push_attr(out, url);
            out.push_str("\" title=\"");
            push_attr(out, &via.source);
            out.push_str("\"/>\n");
        }
    }
    for enclosure in &entry.enclosures {
        link(out, "    ", "enclosure", &enclosure.url, enclosure.mime.as_deref(), enclosure.length);
    }
    // Atom has no element for it; Media RSS's is the one readers know (and an entry may have nothing else
    // to show).
    if let Some(image) = &entry.image {
        out.push_str("    <media:thumbnail url=\"");
        push_attr(out, image);
        out.push_str("\"/>\n");
    }
    if let Some(published) = entry.published {
        out.push_str("    <published>");
        push_rfc3339(out, published);
        out.push_str("</published>\n");
    }
    out.push_str("    <updated>");
    push_rfc3339(out, entry.last_modified());
    out.push_str("</updated>\n");
    let mut wrote_author = false;
    for person in &entry.authors {
        wrote_author |= author(out, person);
    }
    if !wrote_author {
        out.push_str("    <author>\n");
        element(out, "      ", "name", &entry.source);
        out.push_str("    </author>\n");
    }
    for category in &entry.categories {
        out.push_str("    <category term=\"");
        push_attr(out, category);
        out.push_str("\"/>\n");
    }
    match (&entry.content_html, &entry.summary_html, &entry.url) {
        (Some(content), summary, _) => {
            if let Some(summary) = summary {
                html_element(out, "summary", summary);
            }
            html_element(out, "content", content);
        }
        (None, Some(summary), Some(_)) => html_element(out, "summary", summary),
        (None, Some(summary), None) => html_element(out, "content", summary),
        (None, None, Some(_)) => {}
        (None, None, None) => {
            out.push_str("    <content type=\"text\">");
            push_text(out, &entry.title);
            out.push_str("</content>\n");
        }
    }
    out.push_str("  </entry>\n");
}

/// Writes one `<author>`; returns false (writing nothing) for a person with no field set.
fn author(out: &mut String, person: &Person) -> bool {
    let Some(name) = person.name.as_ref().or(person.email.as_ref()).or(person.url.as_ref()) else {
        return false;
    };
    out.push_str("    <author>\n");
    element(out, "      ", "name", name);
    if let Some(email) = &person.email {
        element(out, "      ", "email", email);
    }
    if let Some(url) = &person.url {
        element(out, "      ", "uri", url);
    }
    out.push_str("    </author>\n");
    true
}

fn html_element(out: &mut String, name: &str, html: &str) {
    out.push_str("    <");
    out.push_str(name);
    out.push_str(" type=\"html\">");
    push_text(out, html);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn link(out: &mut String, indent: &str, rel: &str, href: &str, mime: Option<&str>, length: Option<u64>) {
    out.push_str(indent);
    out.push_str("<link rel=\"");
    out.push_str(rel);
    out.push_str("\" href=\"");
    push_attr(out, href);
    out.push('"');
    if let Some(mime) = mime {
        out.push_str(" type=\"");
        push_attr(out, mime);
        out.push('"');
    }
    if let Some(length) = length {
        out.push_str(" length=\"");
        out.push_str(&length.to_string());
        out.push('"');
    }
    out.push_str("/>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{assert_well_formed, empty_doc, entries, rich_doc, unversioned, urls};

    /// Renders `doc` and has the document pass the strict checks: XML well-formedness and the `atom`
    /// crate's reader.
    fn checked(doc: &FeedDoc) -> String {
        let out = render(doc);
        assert_well_formed(&out);
        crate::emit::strict::assert_atom(&out);
        out
    }

    #[test]
    fn rich_feed() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        assert_eq!(out, checked(&rich_doc(&entries, &urls)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("atom_basic", unversioned(&out));
        });
    }

    #[test]
    fn empty_feed_without_base_url() {
        let out = checked(&empty_doc());
        assert!(!out.contains("<link"));
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("atom_empty", unversioned(&out));
        });
    }

    /// RFC 4287: every entry has an author, and one with no alternate link has content.
    #[test]
    fn every_entry_meets_the_rfc() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        for entry in out.split("<entry").skip(1) {
            assert!(entry.contains("<author>"), "{entry}");
            assert!(entry.contains("<link rel=\"alternate\"") || entry.contains("<content"), "{entry}");
        }
        let mut bare = entries[2].clone();
        bare.summary_html = None;
        let doc = FeedDoc { entries: std::slice::from_ref(&bare), ..empty_doc() };
        assert!(checked(&doc).contains("<content type=\"text\">Ескерту без даты</content>"));
    }
}
