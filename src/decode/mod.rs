//! Bytes in, UTF-8 text out: the one place that decides what encoding a document is in.
//!
//! Input is the body exactly as fetched plus the `Content-Type` header when there was one; output is a
//! [`Decoded`]: the text, the encoding used and *why* it was chosen ([`DecidedBy`]), so `-v` can explain a
//! page of mojibake. Precedence, strongest first:
//!
//! 1. a byte order mark (it cannot be there by accident);
//! 2. the `charset` parameter of the HTTP `Content-Type`;
//! 3. the XML prolog's `encoding="…"`, or, in a document without a prolog, an HTML `<meta charset>` /
//!    `<meta http-equiv="Content-Type" content="…; charset=…">` in the first 2 KB;
//! 4. no usable label: valid UTF-8 is UTF-8, anything else is sniffed with chardetng (Firefox's detector).
//!
//! Labels lie, so a label is only believed while the bytes agree with it. Real feeds show three lies:
//! a label that says UTF-8 on bytes that are not UTF-8 (a windows-1251 file on a server that says utf-8
//! for everything) → sniff; a legacy label on bytes that are valid, non-ASCII UTF-8 (Apache's default
//! `ISO-8859-1`, a prolog copied from an old template) → UTF-8, as Miniflux does, because mojibake from
//! double-decoding is worse than trusting a byte pattern that legacy text essentially never forms; and a
//! UTF-16 label on 8-bit bytes (the document was transcoded and the prolog kept) → ignored. A label
//! `encoding_rs` does not know, or one mapped to its `replacement` decoder, counts as missing.
//!
//! The returned text is UTF-8 but may still carry its original prolog (`encoding="windows-1251"`): a
//! parser reading it must not decode it a second time.

use std::fmt;

use encoding_rs::{Encoding, REPLACEMENT, UTF_16BE, UTF_16LE, UTF_8};

/// How far into the document the HTML `<meta>` and XML prolog are looked for.
const PREFIX_LEN: usize = 2048;

/// How much of the document chardetng is fed: plenty for a verdict, bounded for 20 MiB bodies.
const SNIFF_LEN: usize = 256 * 1024;

/// A document as UTF-8 text, with the encoding it was decoded from and why that encoding was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub decided_by: DecidedBy,
    /// Some bytes were malformed in `encoding` and became U+FFFD.
    pub had_errors: bool,
}

/// What settled the encoding of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// A UTF-8 or UTF-16 byte order mark.
    Bom,
    /// The `charset` parameter of the HTTP `Content-Type`.
    HttpCharset,
    /// The XML prolog: its `encoding` pseudo-attribute, or the UTF-16 shape of `<?xml` itself.
    XmlProlog,
    /// An HTML `<meta charset>` or `<meta http-equiv="Content-Type">`.
    HtmlMeta,
    /// A label was present and not UTF-8, but the bytes are valid non-ASCII UTF-8.
    ValidUtf8,
    /// chardetng's guess: no usable label, or the label did not fit the bytes.
    Sniffed,
    /// No usable label and the bytes are valid UTF-8 (XML's default).
    DefaultUtf8,
}

impl fmt::Display for DecidedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecidedBy::Bom => "byte order mark",
            DecidedBy::HttpCharset => "HTTP charset",
            DecidedBy::XmlProlog => "XML prolog",
            DecidedBy::HtmlMeta => "HTML meta",
            DecidedBy::ValidUtf8 => "valid UTF-8 despite the label",
            DecidedBy::Sniffed => "sniffed",
            DecidedBy::DefaultUtf8 => "default UTF-8",
        })
    }
}

/// Decodes `bytes` to UTF-8 following the module's precedence. Never fails: undecodable bytes become
/// U+FFFD and `had_errors` says so.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let decoded = decide(bytes, content_type);
    tracing::debug!(
        encoding = decoded.encoding.name(),
        decided_by = %decoded.decided_by,
        had_errors = decoded.had_errors,
        "decoded document"
    );
    decoded
}

fn decide(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return decode_with(&bytes[bom_len..], encoding, DecidedBy::Bom);
    }

    let http =
        content_type.and_then(charset_param).and_then(|l| usable_label(l, bytes)).map(|e| (e, DecidedBy::HttpCharset));
    // The first label that fits wins; one that does not (a server-wide `utf-8` on a windows-1251 file)
    // hands over to the next, and to sniffing after the last.
    let non_ascii_utf8 = !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok();
    let mut first_unfit = None;
    for (labelled, decided_by) in [http, in_document_label(bytes)].into_iter().flatten() {
        if non_ascii_utf8 && labelled != UTF_8 && labelled.is_ascii_compatible() {
            tracing::debug!(label = labelled.name(), by = %decided_by, "label ignored: bytes are valid UTF-8");
            return decode_with(bytes, UTF_8, DecidedBy::ValidUtf8);
        }
        let decoded = decode_with(bytes, labelled, decided_by);
        if !decoded.had_errors || (labelled == UTF_8 && mostly_utf8(bytes)) {
            return decoded;
        }
        tracing::debug!(label = labelled.name(), by = %decided_by, "label ignored: bytes are malformed in it");
        first_unfit.get_or_insert(decoded);
    }

    let Some(unfit) = first_unfit else {
        return unlabelled(bytes);
    };
    let sniffed = decode_with(bytes, sniff(bytes), DecidedBy::Sniffed);
    // Nothing fits: keep the label's reading rather than a guess that is just as broken.
    if sniffed.had_errors {
        unfit
    } else {
        sniffed
    }
}

fn unlabelled(bytes: &[u8]) -> Decoded {
    if mostly_utf8(bytes) {
        decode_with(bytes, UTF_8, DecidedBy::DefaultUtf8)
    } else {
        decode_with(bytes, sniff(bytes), DecidedBy::Sniffed)
    }
}

/// Valid UTF-8, or UTF-8 with a few broken sequences (a description cut in the middle of a character) that
/// must not turn the whole document into mojibake. Legacy 8-bit text almost never forms valid multi-byte
/// sequences, so its errors outnumber them.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut rest, mut non_ascii, mut errors) = (bytes, 0usize, 0usize);
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => return errors == 0 || non_ascii + count_non_ascii(valid) > errors,
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                non_ascii += count_non_ascii(std::str::from_utf8(valid).unwrap_or_default());
                errors += 1;
                rest = &after[e.error_len().unwrap_or(after.len())..];
            }
        }
    }
}

fn count_non_ascii(text: &str) -> usize {
    text.chars().filter(|c| !c.is_ascii()).count()
}

fn decode_with(bytes: &[u8], encoding: &'static Encoding, decided_by: DecidedBy) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding, decided_by, had_errors }
}

fn sniff(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &bytes[..bytes.len().min(SNIFF_LEN)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(None, true)
}

/// Resolves a label to an encoding worth trying on `bytes`, or `None` when it should count as missing.
fn usable_label(label: &str, bytes: &[u8]) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label.trim().as_bytes())?;
    if encoding == REPLACEMENT {
        return None;
    }
    if (encoding == UTF_16LE || encoding == UTF_16BE) && !looks_utf16(bytes) {
        tracing::debug!(label, "UTF-16 label on 8-bit bytes ignored");
        return None;
    }
    Some(encoding)
}

/// UTF-16 text of any script has NUL bytes in the markup; 8-bit text never does.
fn looks_utf16(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(PREFIX_LEN)].contains(&0)
}

/// The `charset` parameter of a media type such as `text/xml; charset="windows-1251"`.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']))
    })
}

/// The label the document gives itself: the XML prolog when there is one (a document with a prolog is
/// XML, so a `<meta>` inside it is content, e.g. a CDATA description), else an HTML `<meta>`.
fn in_document_label(bytes: &[u8]) -> Option<(&'static Encoding, DecidedBy)> {
    // XML 1.0 appendix F: `<?` in UTF-16 without a BOM.
    if bytes.starts_with(&[b'<', 0, b'?', 0]) {
        return Some((UTF_16LE, DecidedBy::XmlProlog));
    }
    if bytes.starts_with(&[0, b'<', 0, b'?']) {
        return Some((UTF_16BE, DecidedBy::XmlProlog));
    }
    let prefix = &bytes[..bytes.len().min(PREFIX_LEN)];
    let start = prefix.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(prefix.len());
    if prefix[start..].starts_with(b"<?xml") {
        let prolog_end = find(&prefix[start..], b"?>").map_or(prefix.len(), |end| start + end);
        let label = attribute_value(&prefix[start..prolog_end], b"encoding")?;
        return usable_label(label, bytes).map(|e| (e, DecidedBy::XmlProlog));
    }
    meta_charset(prefix).and_then(|label| usable_label(label, bytes)).map(|e| (e, DecidedBy::HtmlMeta))
}

/// The charset of the first `<meta>` tag that names one. `charset` is found both as an attribute and
/// inside `content="text/html; charset=…"`, so one search serves both forms.
fn meta_charset(prefix: &[u8]) -> Option<&str> {
    let mut rest = prefix;
    while let Some(at) = find_ignore_case(rest, b"<meta") {
        let tag = &rest[at..];
        let tag = &tag[..tag.iter().position(|&b| b == b'>').unwrap_or(tag.len())];
        if let Some(label) = attribute_value(tag, b"charset") {
            return Some(label);
        }
        rest = &rest[at + b"<meta".len()..];
    }
    None
}

/// The value after `name` `=` (optionally quoted) in a tag or prolog, ASCII only; `None` if absent or empty.
fn attribute_value<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = find_ignore_case(rest, name) {
        let after = trim_start(&rest[at + name.len()..]);
        rest = &rest[at + name.len()..];
        let Some(after) = after.strip_prefix(b"=") else { continue };
        let after = trim_start(after);
        let value = match after.first() {
            Some(&q @ (b'"' | b'\'')) => {
                let inner = &after[1..];
                &inner[..inner.iter().position(|&b| b == q).unwrap_or(inner.len())]
            }
            _ => {
                let end = after
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || matches!(b, b';' | b'>' | b'/' | b'"' | b'\''))
                    .unwrap_or(after.len());
                &after[..end]
            }
        };
        return std::str::from_utf8(value).ok().filter(|v| !v.is_empty());
    }
    None
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests;
