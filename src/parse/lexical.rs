//! The character-level leniency every XML feed needs before and while quick-xml reads it.
//!
//! In: raw document text, entity reference names, attribute values. Out: repaired text, decoded
//! characters, escaped markup. Feeds in the wild are written by template engines, not XML writers, so
//! they carry bare `&`, HTML-only entities (`&nbsp;`), control characters and stray `<` that a strict
//! parser rejects outright. The reader (`xml.rs`) handles entities event by event, which costs nothing
//! on a clean document; the two whole-document passes here run only when a cheap check (or the reader
//! itself) says the document needs them, and both skip CDATA sections and comments, whose content is
//! verbatim.

use std::borrow::Cow;

/// What an `&name;` reference turned out to be, for the warning it deserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    /// One of the five XML entities or a well-formed character reference: no warning.
    Xml,
    /// A named HTML entity XML does not define (`&nbsp;`), decoded anyway.
    Html,
    /// A well-formed name that nothing defines (including DTD-declared entities, which are never
    /// expanded): kept as literal text.
    Unknown,
    /// `&#...;` that is not a usable character: kept as text, or dropped if it names a control char.
    BadCharRef,
    /// Not a reference at all (`AT&T rocks;`): the `&` is text.
    NotARef,
}

/// The text an entity reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Str(&'static str),
    Char(char),
    /// Keep the reference exactly as written (`&` + name + `;`).
    Literal,
    /// Drop it (a character reference to a character XML forbids).
    Nothing,
}

/// Resolves the name between `&` and `;`.
pub(crate) fn resolve_ref(name: &str) -> (Resolved, RefKind) {
    if let Some(num) = name.strip_prefix('#') {
        return resolve_char_ref(num);
    }
    if !is_name(name) {
        return (Resolved::Literal, RefKind::NotARef);
    }
    if let Some(s) = quick_xml::escape::resolve_xml_entity(name) {
        return (Resolved::Str(s), RefKind::Xml);
    }
    match quick_xml::escape::resolve_html5_entity(name) {
        Some(s) => (Resolved::Str(s), RefKind::Html),
        None => (Resolved::Literal, RefKind::Unknown),
    }
}

/// `&#65;`, `&#x41;`, also the malformed-case `&#X41;`. Code points 128–159 are read as Windows-1252,
/// as browsers do: feeds converted from that charset keep writing `&#146;` for a right quote.
fn resolve_char_ref(num: &str) -> (Resolved, RefKind) {
    let parsed = match num.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() => u32::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse().ok(),
        None => None,
    };
    let Some(code) = parsed else {
        return (Resolved::Literal, RefKind::BadCharRef);
    };
    if (0x80..=0x9f).contains(&code) {
        return match windows_1252(code) {
            Some(c) => (Resolved::Char(c), RefKind::Xml),
            None => (Resolved::Nothing, RefKind::BadCharRef),
        };
    }
    match char::from_u32(code) {
        Some(c) if is_xml_char(c) => (Resolved::Char(c), RefKind::Xml),
        Some(_) => (Resolved::Nothing, RefKind::BadCharRef),
        None => (Resolved::Char(char::REPLACEMENT_CHARACTER), RefKind::BadCharRef),
    }
}

/// The Windows-1252 characters at 0x80–0x9F; the five unassigned slots give `None`.
fn windows_1252(code: u32) -> Option<char> {
    const TABLE: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D,
        0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,
        0x017E, 0x0178,
    ];
    let mapped = *TABLE.get(code.checked_sub(0x80)? as usize)?;
    if mapped == 0 {
        None
    } else {
        char::from_u32(u32::from(mapped))
    }
}

fn is_xml_char(c: char) -> bool {
    !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// An XML name, loosely: what can follow `&` in a real entity reference.
fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if is_name_start(b) => {}
        _ => return false,
    }
    bytes.all(|b| is_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// Whether a byte can start an element or entity name (any non-ASCII byte may).
pub(crate) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

/// Appends the text `r` stands for; `name` is the reference's name, needed for `Literal`.
pub(crate) fn push_resolved(out: &mut String, r: Resolved, name: &str) {
    match r {
        Resolved::Str(s) => out.push_str(s),
        Resolved::Char(c) => out.push(c),
        Resolved::Literal => {
            out.push('&');
            out.push_str(name);
            out.push(';');
        }
        Resolved::Nothing => {}
    }
}

/// Decodes entity references in an attribute value, leniently: bare `&` and unknown entities stay as
/// written. `note` is told about each reference that needed forgiving.
pub(crate) fn decode_attr<'s>(raw: &'s str, mut note: impl FnMut(RefKind)) -> Cow<'s, str> {
    let Some(first) = raw.find('&') else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Like quick-xml in text: a reference runs to the next ';', unless '&' or '<' comes first.
        let end = after.find([';', '&', '<']).filter(|&i| after.as_bytes()[i] == b';' && i <= 64);
        match end {
            Some(semi) => {
                let name = &after[..semi];
                let (resolved, kind) = resolve_ref(name);
                if kind != RefKind::Xml {
                    note(kind);
                }
                push_resolved(&mut out, resolved, name);
                rest = &after[semi + 1..];
            }
            None => {
                note(RefKind::NotARef);
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends `s` escaped for HTML text content.
pub(crate) fn push_escaped_text(out: &mut String, s: &str) {
    push_escaped(out, s, false);
}

/// Appends `s` escaped for a double-quoted HTML attribute value.
pub(crate) fn push_escaped_attr(out: &mut String, s: &str) {
    push_escaped(out, s, true);
}

fn push_escaped(out: &mut String, s: &str, attr: bool) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if attr => "&quot;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// What a whole-document repair pass changed: how many times, and the byte offset of the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repair {
    pub count: usize,
    pub first_offset: usize,
}

fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'
}

/// What a document holds that needs handling before or while reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Characters XML forbids: run [`strip_invalid_chars`].
    pub(crate) control: bool,
    /// Carriage returns: text must have its line ends normalized.
    pub(crate) cr: bool,
}

/// One branch-free pass the compiler vectorizes, so clean documents pay almost nothing for the
/// checks that spare them a repair pass and per-text line-end handling.
pub(crate) fn scan(text: &str) -> Scan {
    let (control, cr) =
        text.bytes().fold((false, false), |(control, cr), b| (control | is_forbidden_control(b), cr | (b == b'\r')));
    Scan { control, cr }
}

/// Removes characters XML 1.0 forbids anywhere (C0 controls other than tab, LF, CR), which CMS
/// exports leave behind from pasted Word text. Run when [`scan`] found some.
pub(crate) fn strip_invalid_chars(text: &str) -> (String, Repair) {
    let mut repair = Repair { count: 0, first_offset: 0 };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        // Control characters are ASCII, so `i` is always a character boundary here.
        if is_forbidden_control(b) {
            if repair.count == 0 {
                repair.first_offset = i;
            }
            repair.count += 1;
            out.push_str(&text[last..i]);
            last = i + 1;
        }
    }
    out.push_str(&text[last..]);
    (out, repair)
}

/// Rewrites each `<` that cannot start markup (`a < b`, `<3`, `<!foo`) as `&lt;`, outside CDATA
/// sections, comments and the DOCTYPE. Run only after the reader met such a `<`: quick-xml would
/// otherwise read it as a nameless tag and swallow the real end tag that follows.
pub(crate) fn escape_stray_lt(text: &str) -> (String, Repair) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut repair = Repair { count: 0, first_offset: 0 };
    let mut last = 0;
    let mut i = 0;
    while let Some(found) = text[i..].find('<') {
        let at = i + found;
        let rest = &bytes[at + 1..];
        i = at + 1;
        let skip_to = |end: &str| text[at..].find(end).map_or(bytes.len(), |e| at + e + end.len());
        let ok = if rest.starts_with(b"!--") {
            i = skip_to("-->");
            true
        } else if rest.starts_with(b"![CDATA[") {
            i = skip_to("]]>");
            true
        } else if starts_with_ignore_case(rest, b"!DOCTYPE") {
            i = doctype_end(bytes, at);
            true
        } else {
            match rest.first() {
                None => true,
                Some(&b'?') => true,
                Some(&b'/') => rest.get(1).is_none_or(|&b| is_name_start(b)),
                // A cut-off `<!-` or `<![CD` at the very end is truncation, not a stray `<`.
                Some(&b'!') => is_prefix_at_end(rest, b"!--") || is_prefix_at_end(rest, b"![CDATA["),
                Some(&b) => is_name_start(b),
            }
        };
        if !ok {
            if repair.count == 0 {
                repair.first_offset = at;
            }
            repair.count += 1;
            out.push_str(&text[last..at]);
            out.push_str("&lt;");
            last = at + 1;
        }
    }
    out.push_str(&text[last..]);
    (out, repair)
}

fn is_prefix_at_end(rest: &[u8], full: &[u8]) -> bool {
    rest.len() < full.len() && full.starts_with(rest)
}

pub(crate) fn starts_with_ignore_case(hay: &[u8], prefix: &[u8]) -> bool {
    hay.len() >= prefix.len() && hay[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The offset just past a `<!DOCTYPE ...>` starting at `start`, honouring an internal subset in
/// brackets (whose `<!ENTITY ...>` declarations contain `>` of their own).
pub(crate) fn doctype_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') if depth > 0 => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return i + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// The 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> (String, Vec<RefKind>) {
        let mut kinds = Vec::new();
        let out = decode_attr(s, |k| kinds.push(k)).into_owned();
        (out, kinds)
    }

    #[test]
    fn resolves_xml_html_and_numeric_references() {
        assert_eq!(resolve_ref("amp"), (Resolved::Str("&"), RefKind::Xml));
        assert_eq!(resolve_ref("nbsp"), (Resolved::Str("\u{a0}"), RefKind::Html));
        assert_eq!(resolve_ref("laquo"), (Resolved::Str("«"), RefKind::Html));
        assert_eq!(resolve_ref("#65"), (Resolved::Char('A'), RefKind::Xml));
        assert_eq!(resolve_ref("#x41"), (Resolved::Char('A'), RefKind::Xml));
        assert_eq!(resolve_ref("#X41"), (Resolved::Char('A'), RefKind::Xml));
        assert_eq!(resolve_ref("#146"), (Resolved::Char('\u{2019}'), RefKind::Xml));
    }

    #[test]
    fn bad_references_stay_text_or_vanish() {
        assert_eq!(resolve_ref("lol9"), (Resolved::Literal, RefKind::Unknown));
        assert_eq!(resolve_ref("T rocks"), (Resolved::Literal, RefKind::NotARef));
        assert_eq!(resolve_ref(""), (Resolved::Literal, RefKind::NotARef));
        assert_eq!(resolve_ref("#xZZ"), (Resolved::Literal, RefKind::BadCharRef));
        assert_eq!(resolve_ref("#"), (Resolved::Literal, RefKind::BadCharRef));
        assert_eq!(resolve_ref("#1"), (Resolved::Nothing, RefKind::BadCharRef));
        assert_eq!(resolve_ref("#x110000"), (Resolved::Char('\u{fffd}'), RefKind::BadCharRef));
    }

    #[test]
    fn attribute_values_decode_leniently() {
        assert_eq!(decode("plain"), ("plain".into(), vec![]));
        assert_eq!(decode("a=1&amp;b=2"), ("a=1&b=2".into(), vec![]));
        assert_eq!(decode("?a=1&b=2&c=3"), ("?a=1&b=2&c=3".into(), vec![RefKind::NotARef; 2]));
        assert_eq!(decode("x&nbsp;y&foo;"), ("x\u{a0}y&foo;".into(), vec![RefKind::Html, RefKind::Unknown]));
        assert_eq!(decode("trailing &"), ("trailing &".into(), vec![RefKind::NotARef]));
    }

    #[test]
    fn escapes_for_html() {
        let mut out = String::new();
        push_escaped_text(&mut out, "a < b & \"c\"");
        push_escaped_attr(&mut out, " \"q\"");
        assert_eq!(out, "a &lt; b &amp; \"c\" &quot;q&quot;");
    }

    #[test]
    fn scans_for_control_characters_and_carriage_returns() {
        assert_eq!(scan("clean\ttext\n"), Scan { control: false, cr: false });
        assert_eq!(scan(&"x\r\n".repeat(300)), Scan { control: false, cr: true });
        assert_eq!(scan(&format!("{}\u{1}", "y".repeat(1000))), Scan { control: true, cr: false });
        let (fixed, repair) = strip_invalid_chars("ab\u{b}c\u{1}d\u{0}");
        assert_eq!(fixed, "abcd");
        assert_eq!(repair, Repair { count: 3, first_offset: 2 });
    }

    #[test]
    fn escapes_stray_less_than_but_not_markup_cdata_or_comments() {
        let doc = "<a>1 < 2 <3 <!x> <![CDATA[x < y]]> <!-- p < q --> <b/></a>";
        let (fixed, repair) = escape_stray_lt(doc);
        assert_eq!(fixed, "<a>1 &lt; 2 &lt;3 &lt;!x> <![CDATA[x < y]]> <!-- p < q --> <b/></a>");
        assert_eq!(repair.count, 3);
        assert_eq!(repair.first_offset, 5);
    }

    #[test]
    fn doctype_with_internal_subset_is_skipped_whole() {
        let doc = "<!DOCTYPE x [<!ENTITY a \"]>\"><!ENTITY b 'c'>]><x/>";
        assert_eq!(&doc[doctype_end(doc.as_bytes(), 0)..], "<x/>");
        let (fixed, repair) = escape_stray_lt(doc);
        assert_eq!((fixed.as_str(), repair.count), (doc, 0));
    }

    #[test]
    fn counts_lines() {
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 4), 3);
        assert_eq!(line_at("a\n", 99), 2);
    }
}
