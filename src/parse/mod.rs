//! Parse: decoded document text → [`RawFeed`], whatever the format.
//!
//! In: the text the decode stage produced (UTF-8, perhaps still starting with a BOM; an XML prolog's
//! `encoding` is ignored because decoding already happened). Out: a [`RawFeed`] holding what the
//! document says, as written: dates unparsed, URLs possibly relative with the `xml:base` in effect,
//! titles and bodies as [`Text`](crate::model::Text) marked plain or HTML. Normalizing is the next
//! stage's job; this one extracts faithfully and forgives.
//!
//! Shape, as in Miniflux: detect ([`sniff()`]) from content only, dispatch to one module per format
//! (`rss.rs` also reads RDF/RSS 1.0 and 0.90, which differ only in where items sit; `atom.rs`;
//! `json_feed.rs`), and let each module's adapter build the common model. The XML formats share a
//! lenient reader (`xml.rs`, with `lexical.rs` for entities and repairs and `ext.rs` for the
//! namespaced extensions RSS and Atom feeds both carry). Leniency follows feedparser: a bare `&`, an
//! HTML entity, a mismatched end tag, a cut-off document or a stray `<` costs a warning, not the feed.
//! [`ParseError::Xml`] is returned only when nothing at all could be recovered.
//!
//! Limits, because a document is input someone else controls (the fetch stage already caps its size,
//! 20 MiB by default, and normalize caps each field's length): at most [`MAX_ENTRIES`] entries are
//! kept per document, and later ones are skipped without being built, with one warning that counts
//! them; at most [`MAX_VALUES_PER_ENTRY`] authors, categories and enclosures are kept per entry (merging
//! them is quadratic); elements nested deeper than `xml::MAX_DEPTH` are skipped. Entities declared
//! in a DTD are never expanded (see `xml.rs`), so a billion-laughs document costs its own size and no
//! more. JSON nesting is bounded by serde_json's own recursion limit (128).

mod atom;
mod ext;
pub mod folder;
mod front_matter;
mod json_feed;
mod lexical;
mod rss;
pub mod sitemap;
mod sniff;
mod warn;
mod xml;

use crate::model::{FeedFormat, RawEntry, RawFeed, MAX_ENTRIES};
use sniff::Detected;
use warn::{Kind, Warnings};
use xml::XmlReader;

/// Most authors, categories and enclosures kept per entry, each; real entries have a handful.
pub const MAX_VALUES_PER_ENTRY: usize = 100;

/// Why a document yielded no feed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("the document is empty")]
    Empty,
    /// A document that is not a feed at all: `found` says what it is instead ("an HTML page",
    /// "a `<svg>` document", "JSON without a 'version' of jsonfeed.org").
    #[error("not a feed: the document is {found}")]
    NotAFeed { found: String },
    /// XML so broken that not even a title or one entry could be read from it.
    #[error("unreadable XML at line {line}: {message}")]
    Xml { line: usize, message: String },
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json { line: usize, column: usize, message: String },
}

/// Parses a feed of any supported format; the format is sniffed from the content.
pub fn parse(text: &str) -> Result<RawFeed, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match sniff::detect(text)? {
        Detected::Json => json_feed::parse(text),
        Detected::Xml { format, start, junk } => parse_xml(text, format, start, junk),
    }
}

/// Says which format a document is, from its content only (never from a URL or Content-Type).
pub fn sniff(text: &str) -> Result<FeedFormat, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match sniff::detect(text)? {
        Detected::Json => json_feed::sniff(text).map(|()| FeedFormat::JsonFeed),
        Detected::Xml { format, .. } => Ok(format),
    }
}

fn parse_xml(text: &str, format: FeedFormat, start: usize, junk: bool) -> Result<RawFeed, ParseError> {
    let mut warnings = Warnings::default();
    let first_line = lexical::line_at(text, start);
    if junk {
        warnings.note(Kind::JunkBeforeRoot, || (Some(1), format!("{start} bytes of text before the XML skipped")));
    }
    let doc = &text[start..];
    let scan = lexical::scan(doc);
    let cleaned = scan.control.then(|| lexical::strip_invalid_chars(doc));
    if let Some((_, repair)) = &cleaned {
        warnings.note_times(Kind::InvalidChars, repair.count, || {
            (
                Some(first_line - 1 + lexical::line_at(doc, repair.first_offset)),
                "control characters XML forbids removed".into(),
            )
        });
    }
    let doc = cleaned.as_ref().map_or(doc, |(fixed, _)| fixed.as_str());

    let (mut feed, mut outcome) = read_xml(doc, format, first_line, scan.cr, false, warnings.clone());
    if outcome.needs_repair {
        // Rare: a `<` that starts no tag. Escape every such `<` and read the document again; the
        // first attempt's output is dropped because it lost everything after that `<`.
        let (fixed, repair) = lexical::escape_stray_lt(doc);
        warnings.note_times(Kind::StrayLessThan, repair.count, || {
            (
                Some(first_line - 1 + lexical::line_at(doc, repair.first_offset)),
                "'<' that starts no tag read as text".into(),
            )
        });
        (feed, outcome) = read_xml(&fixed, format, first_line, scan.cr, true, warnings);
    }
    let recovered = feed.title.is_some() || feed.link.is_some() || !feed.entries.is_empty();
    if let (Some((line, message)), false) = (outcome.broken, recovered) {
        return Err(ParseError::Xml { line, message });
    }
    feed.warnings = outcome.warnings.into_lines();
    Ok(feed)
}

fn read_xml(
    doc: &str,
    format: FeedFormat,
    first_line: usize,
    has_cr: bool,
    repaired: bool,
    warnings: Warnings,
) -> (RawFeed, xml::Outcome) {
    let mut x = XmlReader::new(doc, first_line, has_cr, repaired, warnings);
    let feed = match format {
        FeedFormat::Atom => atom::parse(&mut x),
        _ => rss::parse(&mut x, format),
    };
    (feed, x.finish())
}

/// A feed with nothing in it yet, for the format modules to fill.
pub(crate) fn empty_feed(format: FeedFormat) -> RawFeed {
    RawFeed {
        format,
        version: None,
        title: None,
        link: None,
        self_link: None,
        description: None,
        language: None,
        image: None,
        base: None,
        hints: Default::default(),
        entries: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Whether `entries` is full; if so, skips the entry element just opened and counts it in a warning.
fn entry_cap_reached(x: &mut XmlReader<'_>, entries: &[RawEntry]) -> bool {
    if entries.len() < MAX_ENTRIES {
        return false;
    }
    x.warn(Kind::TooManyEntries, || format!("more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} kept"));
    x.skip();
    true
}

/// Appends `values` to `list` up to [`MAX_VALUES_PER_ENTRY`]; the rest are dropped with a warning.
fn push_capped<T>(x: &mut XmlReader<'_>, list: &mut Vec<T>, values: impl IntoIterator<Item = T>) {
    for value in values {
        if list.len() >= MAX_VALUES_PER_ENTRY {
            note_too_many_values(x);
            return;
        }
        list.push(value);
    }
}

fn note_too_many_values(x: &mut XmlReader<'_>) {
    x.warn(Kind::TooManyValues, || {
        format!("an entry has more than {MAX_VALUES_PER_ENTRY} authors, categories or enclosures; the rest dropped")
    });
}

/// The `xml:base` declared on the element just opened, for a [`Text`](crate::model::Text) read from it.
fn own_base(x: &XmlReader<'_>) -> Option<String> {
    x.own_base().map(str::to_owned)
}

/// Sets `slot` to `value` unless it already holds one: the first occurrence of a field wins.
fn set_first<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests;
