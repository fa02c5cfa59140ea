//! RSS 2.0: one [`FeedDoc`] in, one `rss.xml` document out.
//!
//! RSS is the format most readers understand and the loosest, so the mapping fills every element a
//! validator calls required and uses the `atom`, `content`, `dc` and (when needed) `media` namespaces for
//! what RSS cannot say:
//!
//! | RSS | from |
//! |---|---|
//! | channel `title` | `doc.title` |
//! | channel `link` | `doc.home_url`, else `doc.urls.rss`, else the first entry's `url`; omitted when none is known (no `base_url`, and no entry with a URL): RSS wants the *site's* URL and an invented one (`about:blank`, a relative path) is worse than none |
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
//! | `pubDate` | `published`, else `updated`; none for an undated entry (its first-seen time is not its date, and would sort it to the top of every reader) |
//! | `enclosure` | the first enclosure (RSS 2.0 allows one per item); `length="0"` and `type="application/octet-stream"` when unknown (both attributes are required) |
//! | `media:content` | every further enclosure, with `type`, `fileSize` and `duration` when known; the channel declares the Media RSS namespace only when an item uses it |
//! | `media:thumbnail` | `image` (an entry may have nothing else to show) |
//! | `source` | the first `via` whose source has a public http(s) feed URL: `<source url="FEED URL">feed title, else name</source>`, as RSS 2.0 defines it (the *channel* the item came from; RSS allows one). Needs `doc.sources` |
//! | `atom:link rel="via"` | every `via` with a URL (that copy's *article* URL, which is what "via" means), as in Atom, so no other source is lost |
//!
//! Enclosure URLs are written as the source gave them (resolved to absolute, nothing stripped):
//! podcast URLs are often signed or counted. Not written: `updated` (RSS has no item-level modified
//! date), `language` per entry, and the first enclosure's duration. HTML goes into
//! `description` and `content:encoded` as escaped text rather than CDATA: escaping is always safe (a
//! CDATA section breaks on `]]>` in the content and must then be split) and every reader decodes it the
//! same way.

use std::fmt::Write as _;

use super::fmt::{capacity_hint, element, push_attr, push_rfc822, push_text};
use super::{FeedDoc, SourceIndex, GENERATOR};
use crate::model::{Entry, Person};

/// The Media RSS namespace, for the enclosures after the first.
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// Renders `doc` as an RSS 2.0 document, ending in a newline.
pub fn render(doc: &FeedDoc) -> String {
    let mut out = String::with_capacity(capacity_hint(doc.entries));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
    );
    if doc.entries.iter().any(|e| e.enclosures.len() > 1 || e.image.is_some()) {
        out.push_str(" xmlns:media=\"");
        out.push_str(MEDIA_NS);
        out.push('"');
    }
    out.push_str(">\n");
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
        item(&mut out, entry, doc.sources);
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}

fn item(out: &mut String, entry: &Entry, sources: Option<&SourceIndex>) {
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
    if let Some(date) = entry.published.or(entry.updated) {
        out.push_str("      <pubDate>");
        push_rfc822(out, date);
        out.push_str("</pubDate>\n");
    }
    let mut enclosures = entry.enclosures.iter();
    if let Some(enclosure) = enclosures.next() {
        out.push_str("      <enclosure url=\"");
        push_attr(out, &enclosure.url);
        out.push_str("\" length=\"");
        let _ = write!(out, "{}", enclosure.length.unwrap_or(0));
        out.push_str("\" type=\"");
        push_attr(out, enclosure.mime.as_deref().unwrap_or("application/octet-stream"));
        out.push_str("\"/>\n");
    }
    for enclosure in enclosures {
        out.push_str("      <media:content url=\"");
        push_attr(out, &enclosure.url);
        out.push('"');
        if let Some(mime) = &enclosure.mime {
            out.push_str(" type=\"");
            push_attr(out, mime);
            out.push('"');
        }
        if let Some(length) = enclosure.length {
            let _ = write!(out, " fileSize=\"{length}\"");
        }
        if let Some(duration) = enclosure.duration_secs {
            let _ = write!(out, " duration=\"{duration}\"");
        }
        out.push_str("/>\n");
    }
    if let Some(image) = &entry.image {
        out.push_str("      <media:thumbnail url=\"");
        push_attr(out, image);
        out.push_str("\"/>\n");
    }
    if let Some((feed_url, title)) = sources.and_then(|sources| channel_source(entry, sources)) {
        out.push_str("      <source url=\"");
        push_attr(out, feed_url);
        out.push_str("\">");
        push_text(out, title);
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

/// The feed URL and title of the first `via` source that has a published http(s) feed URL: what RSS's
/// `<source>` names (a path or `file:` URL is no channel a reader could subscribe to). `feed_url` comes
/// redacted, and is `None` for a source with `publish_url = false`.
fn channel_source<'a>(entry: &Entry, sources: &SourceIndex<'a>) -> Option<(&'a str, &'a str)> {
    entry.via.iter().find_map(|via| {
        let source = sources.get(via.source.as_str())?;
        let url = source.feed_url.as_deref()?;
        let public = url.starts_with("https://") || url.starts_with("http://");
        public.then(|| (url, source.title.as_deref().unwrap_or(&source.name)))
    })
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

    /// Renders `doc` and has the document pass the strict checks: XML well-formedness and the `rss`
    /// crate's reader.
    fn checked(doc: &FeedDoc) -> String {
        let out = render(doc);
        assert_well_formed(&out);
        crate::emit::strict::assert_rss(&out);
        out
    }

    #[test]
    fn rich_feed() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        assert_eq!(out, checked(&rich_doc(&entries, &urls)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("rss_basic", unversioned(&out));
        });
    }

    #[test]
    fn empty_feed_without_base_url() {
        let out = checked(&empty_doc());
        assert!(!out.contains("<link>") && !out.contains("atom:link"));
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("rss_empty", unversioned(&out));
        });
    }

    #[test]
    fn guid_is_permalink_only_when_it_is_the_url() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        assert!(out.contains("<guid isPermaLink=\"true\">https://abai.kz/post/1</guid>"));
        assert!(out.contains("<guid isPermaLink=\"false\">urn:feedmill:radio:7f3a</guid>"));
    }

    #[test]
    fn one_enclosure_then_media_content_and_the_namespace_only_when_used() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        let item = out.split("<item>").nth(2).unwrap();
        assert_eq!(item.matches("<enclosure ").count(), 1, "{item}");
        assert!(item
            .contains("<enclosure url=\"https://cdn.example.ru/ep12.mp3\" length=\"12345678\" type=\"audio/mpeg\"/>"));
        assert!(item.contains("<media:content url=\"https://cdn.example.ru/ep12.bin\"/>"), "{item}");
        assert!(out.contains(" xmlns:media=\"http://search.yahoo.com/mrss/\""));
        assert!(item.contains("<media:thumbnail url=\"https://radio.example.ru/ep12.jpg\"/>"), "{item}");
        let one = &entries[1..2];
        let single = Entry { enclosures: one[0].enclosures[..1].to_vec(), image: None, ..one[0].clone() };
        let out = checked(&FeedDoc { entries: std::slice::from_ref(&single), ..empty_doc() });
        assert!(!out.contains("xmlns:media") && !out.contains("media:content"), "{out}");
    }

    #[test]
    fn an_undated_entry_has_no_pub_date() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        let items: Vec<&str> = out.split("<item>").skip(1).collect();
        assert!(items[0].contains("<pubDate>Thu, 11 Jul 2019 06:20:00 +0000</pubDate>"));
        assert!(!items[2].contains("<pubDate>"), "{}", items[2]);
        let only_updated = Entry { published: None, ..entries[0].clone() };
        let out = checked(&FeedDoc { entries: std::slice::from_ref(&only_updated), ..empty_doc() });
        assert!(out.contains("<pubDate>Thu, 11 Jul 2019 09:00:00 +0000</pubDate>"), "{out}");
    }

    /// `<source>` names the other copy's channel (feed URL and title), never an article; a source whose
    /// URL is not published gives none; `atom:link rel="via"` keeps the article URLs.
    #[test]
    fn source_names_the_channel_without_credentials() {
        let (entries, urls) = (entries(), urls());
        let out = checked(&rich_doc(&entries, &urls));
        assert!(out.contains("<source url=\"https://tengrinews.kz/rss?lang=kk&amp;full=1\">tengri</source>"), "{out}");
        assert!(out.contains("<atom:link rel=\"via\" href=\"https://tengrinews.kz/news/42?utm=x&amp;y=1\""));
        assert_eq!(out.matches("<source ").count(), 1);

        let secret = crate::emit::SourceRef {
            name: "tengri".into(),
            title: Some("Tengri News".into()),
            feed_url: Some("https://tengrinews.kz/rss".into()),
            site_url: None,
            health: Default::default(),
        };
        let index: SourceIndex = [("tengri", &secret)].into_iter().collect();
        let out = checked(&FeedDoc { entries: &entries[..1], sources: Some(&index), ..empty_doc() });
        assert!(out.contains("<source url=\"https://tengrinews.kz/rss\">Tengri News</source>"), "{out}");

        let private = crate::emit::SourceRef { feed_url: None, ..secret.clone() };
        let index: SourceIndex = [("tengri", &private)].into_iter().collect();
        let out = checked(&FeedDoc { entries: &entries[..1], sources: Some(&index), ..empty_doc() });
        assert!(!out.contains("<source"), "publish_url = false: {out}");

        let local = crate::emit::SourceRef { feed_url: Some("feeds/tengri.xml".into()), ..secret };
        let index: SourceIndex = [("tengri", &local)].into_iter().collect();
        let out = checked(&FeedDoc { entries: &entries[..1], sources: Some(&index), ..empty_doc() });
        assert!(!out.contains("<source"), "a path is no channel: {out}");
    }

    #[test]
    fn channel_link_falls_back_to_first_entry_url() {
        let entries = &entries()[1..];
        let doc = FeedDoc { entries, ..empty_doc() };
        let out = checked(&doc);
        assert!(out.contains("    <link>https://radio.example.ru/episodes/12</link>\n"), "{out}");
    }
}
