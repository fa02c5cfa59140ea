//! JSON Feed 1.1: one [`FeedDoc`] in, one `feed.json` document out.
//!
//! Built from borrowing `Serialize` structs (no copies of the entry text) and written by `serde_json`,
//! pretty-printed with two-space indentation and a trailing newline. Absent values are left out rather
//! than written as `null`, as the spec asks.
//!
//! | JSON Feed | from |
//! |---|---|
//! | `title`, `description`, `language` | `doc.title`, `doc.description`, `doc.language` |
//! | `home_page_url`, `feed_url` | `doc.home_url`, `doc.urls.json` |
//! | `hubs` | `[{"type": "WebSub", "url": doc.hub}]`, when `[output] hub` is set |
//! | item `id`, `url`, `title` | `id`, `url`, `title` |
//! | `content_html` | `content_html`, else `summary_html`; when neither, `content_text: ""` (one of the two is required) |
//! | `summary` | `summary_html` as plain text (the spec's `summary` is plain text) |
//! | `date_published` | `published`, else `updated`; left out for an undated entry, as `pubDate` in RSS (its first-seen time is not its date) |
//! | `date_modified` | `updated`, when known |
//! | `authors` | `{name, url}`; `url` is the person's URL, else `mailto:` + email (the spec has no email field) |
//! | `tags`, `image`, `language` | `categories`, `image`, `language` |
//! | `attachments` | `{url, mime_type, size_in_bytes, duration_in_seconds}`; `mime_type` is required: `application/octet-stream` when unknown |
//! | `_feedmill` | `{"source": source, "via": [{source, url}]}`: an extension object, as the spec allows for keys starting with `_`; a via `url` is that copy's *article* URL |
//!
//! The characters XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF) are dropped
//! here too, by the formatter that writes every string (`Clean`). JSON could carry them escaped
//! (`\u0001`), but they are junk in any text, a reader that turns the feed into HTML or XML chokes on
//! them, and the three output formats should say the same thing.

use std::borrow::Cow;
use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::fmt::{strip_forbidden, Rfc3339};
use super::FeedDoc;
use crate::model::{Entry, Person, Via};
use crate::normalize::text::html_to_text;

/// Renders `doc` as a JSON Feed 1.1 document, ending in a newline.
pub fn render(doc: &FeedDoc) -> String {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: doc.title,
        home_page_url: doc.home_url,
        feed_url: doc.urls.map(|urls| urls.json.as_str()),
        description: doc.description,
        language: doc.language,
        hubs: doc.hub.map(|url| [Hub { kind: "WebSub", url }]),
        items: doc.entries.iter().map(Item::new).collect(),
    };
    let mut out = Vec::with_capacity(super::fmt::capacity_hint(doc.entries));
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Clean(PrettyFormatter::new()));
    // Every value here is a string, number, sequence or struct with string keys, which serde_json
    // always serializes, into a `Vec` that cannot fail to grow, as UTF-8 (the formatter only drops
    // whole characters); an error would be a bug in this file, not a property of the input.
    feed.serialize(&mut serializer).expect("JSON Feed structs always serialize");
    let mut out = String::from_utf8(out).expect("serde_json writes UTF-8");
    out.push('\n');
    out
}

/// serde_json's pretty printer, writing nothing for the characters XML 1.0 forbids. Control
/// characters reach a formatter only as escapes, U+FFFE and U+FFFF only inside plain fragments.
struct Clean(PrettyFormatter<'static>);

impl Formatter for Clean {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(['\u{fffe}', '\u{ffff}']) {
            w.write_all(&rest.as_bytes()[..at])?;
            // Both are three bytes in UTF-8.
            rest = &rest[at + 3..];
        }
        w.write_all(rest.as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, w: &mut W, escape: CharEscape) -> io::Result<()> {
        match escape {
            // Tab, LF and CR arrive as their own variants and are kept.
            CharEscape::Backspace | CharEscape::FormFeed | CharEscape::AsciiControl(_) => Ok(()),
            escape => self.0.write_char_escape(w, escape),
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hubs: Option<[Hub<'a>; 1]>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
    #[serde(rename = "_feedmill")]
    extension: Extension<'a>,
}

#[derive(Serialize)]
struct Author<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
}

#[derive(Serialize)]
struct Extension<'a> {
    source: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    via: &'a [Via],
}

fn is_empty<T>(slice: &&[T]) -> bool {
    slice.is_empty()
}

impl<'a> Item<'a> {
    fn new(entry: &'a Entry) -> Self {
        let content_html = entry.content_html.as_deref().or(entry.summary_html.as_deref());
        Item {
            id: &entry.id,
            url: entry.url.as_deref(),
            title: &entry.title,
            content_html,
            content_text: content_html.is_none().then_some(""),
            summary: entry
                .summary_html
                .as_deref()
                .map(|html| html_to_text(&strip_forbidden(html)))
                .filter(|text| !text.is_empty()),
            date_published: entry.published.or(entry.updated).map(Rfc3339),
            date_modified: entry.updated.map(Rfc3339),
            authors: entry.authors.iter().filter_map(Author::new).collect(),
            tags: &entry.categories,
            image: entry.image.as_deref(),
            language: entry.language.as_deref(),
            attachments: entry
                .enclosures
                .iter()
                .map(|enclosure| Attachment {
                    url: &enclosure.url,
                    mime_type: enclosure.mime.as_deref().unwrap_or("application/octet-stream"),
                    size_in_bytes: enclosure.length,
                    duration_in_seconds: enclosure.duration_secs,
                })
                .collect(),
            extension: Extension { source: &entry.source, via: &entry.via },
        }
    }
}

impl<'a> Author<'a> {
    /// `None` for a person with nothing JSON Feed can hold (the spec needs a name or a URL).
    fn new(person: &'a Person) -> Option<Self> {
        let url = match (&person.url, &person.email) {
            (Some(url), _) => Some(Cow::Borrowed(url.as_str())),
            (None, Some(email)) => Some(Cow::Owned(format!("mailto:{email}"))),
            (None, None) => None,
        };
        let name = person.name.as_deref();
        (name.is_some() || url.is_some()).then_some(Author { name, url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{empty_doc, entries, rich_doc, unversioned, urls};

    #[test]
    fn rich_feed() {
        let (entries, urls) = (entries(), urls());
        let out = render(&rich_doc(&entries, &urls));
        assert!(out.ends_with("}\n"));
        assert_eq!(out, render(&rich_doc(&entries, &urls)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("json_feed_basic", unversioned(&out));
        });
    }

    #[test]
    fn parses_back_with_the_fields() {
        let (entries, urls) = (entries(), urls());
        let value: serde_json::Value = serde_json::from_str(&render(&rich_doc(&entries, &urls))).unwrap();
        assert_eq!(value["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(value["feed_url"], "https://feeds.example.org/kz-news/feed.json");
        let items = value["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["summary"], "Парламент заңды бірауыздан қабылдады & жариялады.");
        assert_eq!(items[0]["date_modified"], "2019-07-11T09:00:00Z");
        assert_eq!(items[0]["_feedmill"]["via"][1], serde_json::json!({ "source": "zakon" }));
        assert_eq!(items[1]["authors"][0], serde_json::json!({ "url": "mailto:host@radio.example.ru" }));
        assert_eq!(items[1]["attachments"][1]["mime_type"], "application/octet-stream");
        assert!(items[2].get("date_published").is_none(), "an undated entry gets no date: {}", items[2]);
        for item in items {
            assert!(item["content_html"].is_string() || item["content_text"].is_string(), "{item}");
        }
    }

    #[test]
    fn empty_feed_without_base_url() {
        let out = render(&empty_doc());
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("json_feed_empty", unversioned(&out));
        });
    }
}
