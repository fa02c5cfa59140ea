//! JSON Feed 1.0 and 1.1 → [`RawFeed`].
//!
//! In: text that starts with `{`. Out: the feed, or `NotAFeed` when the JSON has no jsonfeed.org
//! `version`. The wire structs mirror the spec, but every field is read leniently: publishers write
//! ids as numbers, sizes as strings, `author` as an object (1.0) or `authors` as a list (1.1), and a
//! wrongly typed field must cost that field, not the feed. An item that is not an object is skipped
//! with a warning. Feed-level authors apply to items that name none, as the spec says. Items past
//! [`MAX_ENTRIES`] are skipped unbuilt (not even as JSON values) and counted in one warning.

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::warn::{Kind, Warnings};
use super::{empty_feed, ParseError, MAX_ENTRIES, MAX_VALUES_PER_ENTRY};
use crate::model::{Enclosure, FeedFormat, Person, RawEntry, RawFeed, Text};

const NO_VERSION: &str = "JSON without a 'version' of jsonfeed.org";

#[derive(Deserialize)]
struct WireFeed {
    #[serde(default, deserialize_with = "string")]
    version: Option<String>,
    #[serde(default, deserialize_with = "string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "string")]
    home_page_url: Option<String>,
    #[serde(default, deserialize_with = "string")]
    feed_url: Option<String>,
    #[serde(default, deserialize_with = "string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "string")]
    icon: Option<String>,
    #[serde(default, deserialize_with = "string")]
    favicon: Option<String>,
    #[serde(default, deserialize_with = "string")]
    language: Option<String>,
    #[serde(default, deserialize_with = "people")]
    author: Vec<Person>,
    #[serde(default, deserialize_with = "people")]
    authors: Vec<Person>,
    #[serde(default)]
    items: Items,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireItem {
    #[serde(deserialize_with = "string")]
    id: Option<String>,
    #[serde(deserialize_with = "string")]
    url: Option<String>,
    #[serde(deserialize_with = "string")]
    external_url: Option<String>,
    #[serde(deserialize_with = "string")]
    title: Option<String>,
    #[serde(deserialize_with = "string")]
    content_html: Option<String>,
    #[serde(deserialize_with = "string")]
    content_text: Option<String>,
    #[serde(deserialize_with = "string")]
    summary: Option<String>,
    #[serde(deserialize_with = "string")]
    image: Option<String>,
    #[serde(deserialize_with = "string")]
    banner_image: Option<String>,
    #[serde(deserialize_with = "string")]
    date_published: Option<String>,
    #[serde(deserialize_with = "string")]
    date_modified: Option<String>,
    #[serde(deserialize_with = "people")]
    author: Vec<Person>,
    #[serde(deserialize_with = "people")]
    authors: Vec<Person>,
    #[serde(deserialize_with = "strings")]
    tags: Vec<String>,
    #[serde(deserialize_with = "string")]
    language: Option<String>,
    #[serde(deserialize_with = "list")]
    attachments: Vec<Value>,
}

#[derive(Deserialize)]
struct WireAttachment {
    #[serde(default, deserialize_with = "string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "string")]
    mime_type: Option<String>,
    #[serde(default, deserialize_with = "number")]
    size_in_bytes: Option<u64>,
    #[serde(default, deserialize_with = "number")]
    duration_in_seconds: Option<u64>,
}

/// Only the version, for [`super::sniff()`]: other fields are skipped without being built.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default, deserialize_with = "string")]
    version: Option<String>,
}

pub(super) fn sniff(text: &str) -> Result<(), ParseError> {
    let doc: VersionOnly = from_json(text)?;
    version_of(doc.version.as_deref()).map(|_| ())
}

pub(super) fn parse(text: &str) -> Result<RawFeed, ParseError> {
    let wire: WireFeed = from_json(text)?;
    let mut warnings = Warnings::default();
    let version = version_of(wire.version.as_deref())?;
    if !matches!(version.as_str(), "1.0" | "1.1") {
        warnings.note(Kind::UnknownVersion, || (None, format!("unknown JSON Feed version {version}; read as 1.1")));
    }
    let feed_authors = if wire.authors.is_empty() { wire.author } else { wire.authors };
    let mut feed = empty_feed(FeedFormat::JsonFeed);
    feed.version = Some(version);
    feed.title = wire.title.map(Text::plain);
    feed.link = wire.home_page_url;
    feed.self_link = wire.feed_url;
    feed.description = wire.description.map(Text::plain);
    feed.language = wire.language;
    feed.image = wire.icon.or(wire.favicon);
    if wire.items.dropped > 0 {
        warnings.note_times(Kind::TooManyEntries, wire.items.dropped, || {
            (None, format!("more than {MAX_ENTRIES} items; only the first {MAX_ENTRIES} kept"))
        });
    }
    for (i, value) in wire.items.kept.into_iter().enumerate() {
        match WireItem::deserialize(value) {
            Ok(item) => {
                let (entry, capped) = item.into_entry(&feed_authors);
                if capped {
                    warnings.note(Kind::TooManyValues, || {
                        (None, format!("an item has more than {MAX_VALUES_PER_ENTRY} authors, tags or attachments; the rest dropped"))
                    });
                }
                feed.entries.push(entry);
            }
            Err(e) => warnings.note(Kind::SkippedEntry, || (None, format!("item {} skipped: {e}", i + 1))),
        }
    }
    feed.warnings = warnings.into_lines();
    Ok(feed)
}

impl WireItem {
    /// The entry, and whether a list in it was cut to [`MAX_VALUES_PER_ENTRY`].
    fn into_entry(mut self, feed_authors: &[Person]) -> (RawEntry, bool) {
        let mut authors = if !self.authors.is_empty() {
            self.authors
        } else if !self.author.is_empty() {
            self.author
        } else {
            feed_authors.to_vec()
        };
        let capped = [authors.len(), self.tags.len(), self.attachments.len()].iter().any(|&n| n > MAX_VALUES_PER_ENTRY);
        authors.truncate(MAX_VALUES_PER_ENTRY);
        self.tags.truncate(MAX_VALUES_PER_ENTRY);
        self.attachments.truncate(MAX_VALUES_PER_ENTRY);
        let enclosures = self
            .attachments
            .into_iter()
            .filter_map(|a| WireAttachment::deserialize(a).ok())
            .filter_map(|a| {
                Some(Enclosure {
                    url: a.url?,
                    mime: a.mime_type,
                    length: a.size_in_bytes.filter(|&n| n > 0),
                    duration_secs: a.duration_in_seconds,
                })
            })
            .collect();
        let entry = RawEntry {
            id: self.id,
            id_is_permalink: false,
            link: self.url.or(self.external_url),
            title: self.title.map(Text::plain),
            summary: self.summary.map(Text::plain),
            content: self.content_html.map(Text::html).or(self.content_text.map(Text::plain)),
            authors,
            categories: self.tags,
            published: self.date_published,
            updated: self.date_modified,
            language: self.language,
            enclosures,
            image: self.image.or(self.banner_image),
            base: None,
        };
        (entry, capped)
    }
}

/// The feed's `items`, read as [`list`] reads a list, except that only the first [`MAX_ENTRIES`] are
/// built: a million-item document must not become a million JSON values.
#[derive(Default)]
struct Items {
    kept: Vec<Value>,
    /// Items past the cap, skipped unbuilt.
    dropped: usize,
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemsVisitor)
    }
}

struct ItemsVisitor;

impl ItemsVisitor {
    fn one(value: Value) -> Items {
        Items { kept: vec![value], dropped: 0 }
    }
}

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = Items;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
        let mut items = Items::default();
        while items.kept.len() < MAX_ENTRIES {
            match seq.next_element::<Value>()? {
                Some(value) => items.kept.push(value),
                None => return Ok(items),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            items.dropped += 1;
        }
        Ok(items)
    }

    // A lone value counts as a list of one, as in `list`.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Self::one)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Items, E> {
        Ok(Self::one(Value::from(v)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Items, E> {
        Ok(Self::one(Value::from(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Items, E> {
        Ok(Self::one(Value::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Items, E> {
        Ok(Self::one(Value::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Items, E> {
        Ok(Self::one(Value::from(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Items, E> {
        Ok(Items::default())
    }
}

fn from_json<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, ParseError> {
    if !text.trim_start().starts_with('{') {
        return Err(ParseError::NotAFeed { found: NO_VERSION.to_owned() });
    }
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the variant carries those already.
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m).to_owned();
        ParseError::Json { line: e.line(), column: e.column(), message }
    })
}

/// `https://jsonfeed.org/version/1.1` → "1.1" (`…/version/1` → "1.0").
fn version_of(version: Option<&str>) -> Result<String, ParseError> {
    let tail = version.and_then(|v| {
        let v = v.trim();
        let v = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).unwrap_or(v);
        v.strip_prefix("jsonfeed.org/version/").or_else(|| v.strip_prefix("www.jsonfeed.org/version/"))
    });
    match tail.map(|t| t.trim_end_matches('/')) {
        Some("1") => Ok("1.0".to_owned()),
        Some(t) if !t.is_empty() => Ok(t.to_owned()),
        _ => Err(ParseError::NotAFeed { found: NO_VERSION.to_owned() }),
    }
}

/// A string field; numbers and booleans are written as text, anything else counts as absent.
fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else if t.len() == s.len() {
                Some(s)
            } else {
                Some(t.to_owned())
            }
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A non-negative whole number, also when written as a string or with a fraction.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64),
        _ => None,
    })
}

/// A list; a lone value counts as a list of one, anything else as empty.
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    })
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(list(d)?.into_iter().filter_map(|v| string(v).ok().flatten()).collect())
}

/// `author` (1.0, one object) or `authors` (1.1, a list): name, url (and avatar, which we drop).
fn people<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Person>, D::Error> {
    let field =
        |obj: &serde_json::Map<String, Value>, key: &str| obj.get(key).cloned().and_then(|v| string(v).ok().flatten());
    Ok(list(d)?
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(obj) => {
                let p = Person { name: field(&obj, "name"), email: None, url: field(&obj, "url") };
                (p.name.is_some() || p.url.is_some()).then_some(p)
            }
            Value::String(name) if !name.trim().is_empty() => {
                Some(Person { name: Some(name.trim().to_owned()), ..Person::default() })
            }
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_a_feed(text: &str) -> bool {
        matches!(parse(text), Err(ParseError::NotAFeed { .. }))
            && matches!(sniff(text), Err(ParseError::NotAFeed { .. }))
    }

    #[test]
    fn requires_a_jsonfeed_version() {
        assert!(not_a_feed(r#"{"name": "package.json", "version": "1.2.3"}"#));
        assert!(not_a_feed(r#"{"items": []}"#));
        assert!(not_a_feed(r#"[{"version": "https://jsonfeed.org/version/1"}]"#));
        assert!(sniff(r#"{"version": "https://jsonfeed.org/version/1", "items": [1, {"x": [true]}]}"#).is_ok());
    }

    #[test]
    fn reports_json_syntax_errors_with_position() {
        match parse("{\n  \"version\": \"https://jsonfeed.org/version/1.1\",\n  \"items\": [\n}") {
            Err(ParseError::Json { line, column, message }) => {
                assert_eq!((line, column), (4, 1));
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn reads_fields_leniently() {
        let doc = r#"{"version": "https://jsonfeed.org/version/1", "author": {"name": "Feed Author"},
            "items": [
              {"id": 42, "title": " t ", "tags": "one", "attachments": {"url": "a.mp3", "size_in_bytes": "0", "duration_in_seconds": 61.5}},
              "not an item",
              {"id": "x", "authors": [{"name": "A"}, {"avatar": "only.png"}], "content_text": "plain", "date_published": null}
            ]}"#;
        let f = parse(doc).expect("parses");
        assert_eq!(f.version.as_deref(), Some("1.0"));
        assert_eq!(f.entries.len(), 2);
        let (a, b) = (&f.entries[0], &f.entries[1]);
        assert_eq!((a.id.as_deref(), a.title.as_ref().map(|t| t.value.as_str())), (Some("42"), Some("t")));
        assert_eq!(a.categories, ["one"]);
        assert_eq!(
            a.enclosures,
            [Enclosure { url: "a.mp3".into(), mime: None, length: None, duration_secs: Some(61) }]
        );
        assert_eq!(a.authors[0].name.as_deref(), Some("Feed Author"));
        assert_eq!(b.authors.len(), 1);
        assert_eq!(b.content, Some(Text::plain("plain")));
        assert_eq!(b.published, None);
        assert_eq!(f.warnings.len(), 1);
        assert!(f.warnings[0].starts_with("item 2 skipped"), "{:?}", f.warnings);
    }
}
