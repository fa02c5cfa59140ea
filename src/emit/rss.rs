//! RSS 2.0: one [`FeedDoc`] in, one `rss.xml` document out.
//!
//! RSS is the format most readers understand and the loosest, so the mapping fills every element a
//! validator calls required and uses the `atom`, `content` and `dc` namespaces for what RSS cannot say:
//!
//! | RSS | from |
//! |---|---|
//! | channel `title` | `doc.title` |
//! | channel `link` | `doc.home_url`, else `doc.urls.rss`, else the first entry's `url`; omitted when none is known (an empty feed without `base_url`): RSS wants the *site's* URL and an invented one (`about:blank`, a relative path) is worse than none |
//! | channel `description` | `doc.description`, else the title (it is required) |
//! | `language`, `generator`, `lastBuildDate` | `doc.language`, [`GENERATOR`], `doc.updated` |
//! | `atom:link rel="self"` | `doc.urls.rss`, when `base_url` is set |
//! | `atom:link rel="hub"` | `doc.hub`, when `[output] hub` is set (WebSub) |
//! | item `title`, `link` | `title`, `url` |
//! | `guid` | `id`; `isPermaLink="true"` only when the id *is* the entry's URL |
//! | `description` | `summary_html`, else `content_html` |
//! | `content:encoded` | `content_html` |
//! | `author` / `dc:creator` | when every author has an email: `<author>email (Name)</author>` each (RSS's `author` must hold an email); else `<dc:creator>` each, with the name (or email, or URL). Never a mix: readers, ours included, take `dc:creator` only when there is no `author`, so a mix loses the `dc:creator` ones |
//! | `category` | one per category |
//! | `pubDate` | `published`, else `updated`, else `first_seen`: readers need a date to sort by |
//! | `enclosure` | one per enclosure; `length="0"` and `type="application/octet-stream"` when unknown (both attributes are required) |
//! | `source` | the first `via` with a URL: `<source url="…">name</source>` (RSS allows one) |
//! | `atom:link rel="via"` | every `via` with a URL, as in Atom, so no other source is lost |
//!
//! Not written: `updated` (RSS has no item-level modified date), `language` and `image` per entry, and
//! enclosure durations. HTML goes into `description` and `content:encoded` as escaped text rather than
//! CDATA: escaping is always safe (a CDATA section breaks on `]]>` in the content and must then be split)
//! and every reader decodes it the same way.

use std::fmt::Write as _;

use super::fmt::{capacity_hint, element, push_attr, push_rfc822, push_text};
use super::{FeedDoc, GENERATOR};
use crate::model::{Entry, Person};

/// Renders `doc` as an RSS 2.0 document, ending in a newline.
pub fn render(doc: &FeedDoc) -> String {
    let mut out = String::with_capacity(capacity_hint(doc.entries));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n",
    );
    out.push_str("  <channel>\n");
    element(&mut out, "    ", "title", doc.title);
    let link = doc
        .home_url
        .or(doc.urls.map(|urls| urls.rss.as_str()))
        .or_else(|| doc.entries.iter().find_map(|e| e.url.as_deref()));
    if let Some(link) = link {
        element(&mut out, "    ", "link", link);
    }
    element(&mut out, "    ", "description", doc.description.unwrap_or(doc.title));
    if let Some(language) = doc.language {
        element(&mut out, "    ", "language", language);
    }
    element(&mut out, "    ", "generator", GENERATOR);
    out.push_str("    <lastBuildDate>");
    push_rfc822(&mut out, doc.updated);
    out.push_str("</lastBuildDate>\n");
    if let Some(urls) = doc.urls {
        out.push_str("    <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
        push_attr(&mut out, &urls.rss);
        out.push_str("\"/>\n");
    }
    if let Some(hub) = doc.hub {
        out.push_str("    <atom:link rel=\"hub\" href=\"");
        push_attr(&mut out, hub);
        out.push_str("\"/>\n");
    }
    for entry in doc.entries {
        item(&mut out, entry);
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}

fn item(out: &mut String, entry: &Entry) {
    out.push_str("    <item>\n");
    element(out, "      ", "title", &entry.title);
    if let Some(url) = &entry.url {
        element(out, "      ", "link", url);
    }
    let permalink = entry.url.as_deref() == Some(entry.id.as_str());
    out.push_str(if permalink { "      <guid isPermaLink=\"true\">" } else { "      <guid isPermaLink=\"false\">" });
    push_text(out, &entry.id);
    out.push_str("</guid>\n");
    if let Some(description) = entry.summary_html.as_deref().or(entry.content_html.as_deref()) {
        element(out, "      ", "description", description);
    }
    if let Some(content) = &entry.content_html {
        element(out, "      ", "content:encoded", content);
    }
    let all_have_email = entry.authors.iter().all(|p| p.email.is_some());
    for person in &entry.authors {
        author(out, person, all_have_email);
    }
    for category in &entry.categories {
        element(out, "      ", "category", category);
    }
    out.push_str("      <pubDate>");
    push_rfc822(out, entry.sort_date());
    out.push_str("</pubDate>\n");
    for enclosure in &entry.enclosures {
        out.push_str("      <enclosure url=\"");
        push_attr(out, &enclosure.url);
        out.push_str("\" length=\"");
        let _ = write!(out, "{}", enclosure.length.unwrap_or(0));
        out.push_str("\" type=\"");
        push_attr(out, enclosure.mime.as_deref().unwrap_or("application/octet-stream"));
        out.push_str("\"/>\n");
    }
    if let Some((via, url)) = entry.via.iter().find_map(|v| Some((v, v.url.as_deref()?))) {
        out.push_str("      <source url=\"");
        push_attr(out, url);
        out.push_str("\">");
        push_text(out, &via.source);
        out.push_str("</source>\n");
    }
    for via in &entry.via {
        if let Some(url) = &via.url {
            out.push_str("      <atom:link rel=\"via\" href=\"");
            push_attr(out, url);
            out.push_str("\" title=\"");
            push_attr(out, &via.source);
            out.push_str("\"/>\n");
        }
    }
    out.push_str("    </item>\n");
}

fn author(out: &mut String, person: &Person, as_author: bool) {
    match (&person.email, &person.name) {
        (Some(email), Some(name)) if as_author => {
            out.push_str("      <author>");
            push_text(out, email);
            out.push_str(" (");
            push_text(out, name);
            out.push_str(")</author>\n");
        }
        (Some(email), None) if as_author => element(out, "      ", "author", email),
        _ => {
            if let Some(name) = person.name.as_ref().or(person.email.as_ref()).or(person.url.as_ref()) {
                element(out, "      ", "dc:creator", name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{assert_well_formed, empty_doc, entries, rich_doc, unversioned, urls};

    #[test]
    fn rich_feed() {
        let (entries, urls) = (entries(), urls());
        let out = render(&rich_doc(&entries, &urls));
        assert_well_formed(&out);
        assert_eq!(out, render(&rich_doc(&entries, &urls)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("rss_basic", unversioned(&out));
        });
    }

    #[test]
    fn empty_feed_without_base_url() {
        let out = render(&empty_doc());
        assert_well_formed(&out);
        assert!(!out.contains("<link>") && !out.contains("atom:link"));
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("rss_empty", unversioned(&out));
        });
    }

    #[test]
    fn guid_is_permalink_only_when_it_is_the_url() {
        let (entries, urls) = (entries(), urls());
        let out = render(&rich_doc(&entries, &urls));
        assert!(out.contains("<guid isPermaLink=\"true\">https://abai.kz/post/1</guid>"));
        assert!(out.contains("<guid isPermaLink=\"false\">urn:feedmill:radio:7f3a</guid>"));
    }

    #[test]
    fn channel_link_falls_back_to_first_entry_url() {
        let entries = &entries()[1..];
        let doc = FeedDoc { entries, ..empty_doc() };
        let out = render(&doc);
        assert!(out.contains("    <link>https://radio.example.ru/episodes/12</link>\n"), "{out}");
    }
}
