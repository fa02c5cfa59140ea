//! The sanitizer's fast path: the HTML most feeds carry, sanitized in one pass over the text, byte for
//! byte as ammonia would, without building a tree.
//!
//! ammonia parses a fragment into a DOM (html5ever's tokenizer and tree builder), walks it, and
//! serializes what is left: for a typical entry that is most of normalizing's time. But the tree
//! builder only rearranges markup that is misnested, unclosed in the wrong place, or special (tables,
//! forms, foreign content). For well-nested fragments of common elements, each start tag opens an
//! element inside the current one and each end tag closes it, so the sanitized output can be written
//! while reading. [`sanitize`] does that, and returns `None` the moment the input leaves that subset:
//! an unknown or special element, an end tag that is not the current element's, an entity or character
//! the tokenizer treats specially, an attribute it would read differently. The caller then asks ammonia.
//!
//! What is kept, and how URLs are checked and rewritten, is not decided here: [`Policy`] reads the
//! allowlist from the ammonia `Builder`, and the builder's attribute filter is called as ammonia calls
//! it. The differential tests (`the_fast_path_agrees_with_ammonia`, the XSS vectors, and `cargo fuzz
//! run sanitize`) hold the two to the same output.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ammonia::Builder;
use url::Url;

/// What the fast path needs of the sanitizer's configuration, read once per `Builder`.
pub(super) struct Policy {
    tags: HashSet<&'static str>,
    tag_attributes: HashMap<&'static str, HashSet<&'static str>>,
    generic_attributes: HashSet<&'static str>,
    url_schemes: HashSet<&'static str>,
    link_rel: Option<String>,
    base: Option<Url>,
}

impl Policy {
    /// The policy of `builder`, which resolves relative URLs against `base` (and drops them without one).
    pub(super) fn of(builder: &Builder<'static>, base: Option<&Url>) -> Policy {
        // The fast path implements the parts of ammonia's cleaning this configuration uses; one it does
        // not (per-value allowlists, forced attributes, class lists, attribute prefixes, style
        // filtering) must be added here before the builder may use it.
        debug_assert!(builder.clone_tag_attribute_values().is_empty());
        debug_assert!(builder.clone_set_tag_attribute_values().is_empty());
        debug_assert!(builder.clone_allowed_classes().is_empty());
        debug_assert!(builder.clone_generic_attribute_prefixes().is_none());
        debug_assert_eq!(builder.clone_clean_content_tags(), HashSet::from(["script", "style"]));
        debug_assert_eq!(builder.is_url_relative_deny(), base.is_none());
        Policy {
            tags: builder.clone_tags(),
            tag_attributes: builder.clone_tag_attributes(),
            generic_attributes: builder.clone_generic_attributes(),
            url_schemes: builder.clone_url_schemes(),
            link_rel: builder.get_link_rel().map(str::to_owned),
            base: base.cloned(),
        }
    }
}

/// How the tree builder treats an element the fast path knows; any other element sends the fragment to
/// ammonia.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Opens inside the current element and closes with its own end tag (phrasing and "any other"
    /// elements, formatting ones included: well-nested, they never touch the list of active formatting
    /// elements).
    Inline,
    /// Closes an open `p` first ("close a p element").
    Block,
    /// A block that also may not open inside another heading.
    Heading,
    /// `li` (only directly inside `ul` or `ol`), `dt` and `dd` (only directly inside `dl`): there the
    /// tree builder does nothing more than close the item before.
    ListItem,
    /// `pre`: a block whose first newline is dropped.
    Pre,
    /// An element with no content and no end tag (`source` and `track` too, which the tree builder
    /// inserts without reconstructing formatting: well-nested input has nothing to reconstruct).
    Void,
    /// `hr`: void, and closes an open `p`.
    VoidBlock,
    /// `script`, `style`: raw text, dropped whole by the sanitizer.
    Dropped,
    /// `iframe`: raw text; not allowed, so an empty one leaves nothing.
    EmptyRaw,
}

/// The elements the fast path knows, by name (any case), with their lower-case names.
fn kind(name: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    const KNOWN: &[(&str, Kind)] = &[
        ("a", Inline),
        ("abbr", Inline),
        ("b", Inline),
        ("bdi", Inline),
        ("big", Inline),
        ("cite", Inline),
        ("code", Inline),
        ("data", Inline),
        ("del", Inline),
        ("dfn", Inline),
        ("em", Inline),
        ("font", Inline),
        ("i", Inline),
        ("ins", Inline),
        ("kbd", Inline),
        ("mark", Inline),
        ("q", Inline),
        ("s", Inline),
        ("samp", Inline),
        ("small", Inline),
        ("span", Inline),
        ("strike", Inline),
        ("strong", Inline),
        ("sub", Inline),
        ("sup", Inline),
        ("time", Inline),
        ("tt", Inline),
        ("u", Inline),
        ("var", Inline),
        ("audio", Inline),
        ("picture", Inline),
        ("video", Inline),
        ("address", Block),
        ("article", Block),
        ("aside", Block),
        ("blockquote", Block),
        ("center", Block),
        ("details", Block),
        ("div", Block),
        ("dl", Block),
        ("figcaption", Block),
        ("figure", Block),
        ("footer", Block),
        ("header", Block),
        ("hgroup", Block),
        ("main", Block),
        ("nav", Block),
        ("ol", Block),
        ("p", Block),
        ("section", Block),
        ("summary", Block),
        ("ul", Block),
        ("h1", Heading),
        ("h2", Heading),
        ("h3", Heading),
        ("h4", Heading),
        ("h5", Heading),
        ("h6", Heading),
        ("li", ListItem),
        ("dt", ListItem),
        ("dd", ListItem),
        ("pre", Pre),
        ("br", Void),
        ("img", Void),
        ("source", Void),
        ("track", Void),
        ("wbr", Void),
        ("hr", VoidBlock),
        ("script", Dropped),
        ("style", Dropped),
        ("iframe", EmptyRaw),
    ];
    // Lower-cased on the stack: no known name is longer than `blockquote`.
    let mut lower = [0u8; 10];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    KNOWN.iter().find(|(known, _)| known.as_bytes() == lower).copied()
}

/// An element open at the current point.
struct Open {
    name: &'static str,
    kind: Kind,
    /// Whether its tags are written (allowed), or only its content.
    kept: bool,
}

/// The most attributes the fast path reads on one tag.
const MAX_ATTRIBUTES: usize = 32;

/// How deep the fast path follows elements; deeper fragments go to ammonia (which has its own guard).
const MAX_DEPTH: usize = 64;

/// `html` sanitized as ammonia sanitizes it under `policy`, or `None` when the fragment is not one the
/// fast path can read (see the module docs).
pub(super) fn sanitize(html: &str, policy: &Policy) -> Option<String> {
    // The input stream's preprocessing (NUL, CR, byte-order marks, which html5ever drops after a
    // script as well as at the start) is left to ammonia.
    if memchr::memchr2(b'\0', b'\r', html.as_bytes()).is_some() || html.contains('\u{feff}') {
        return None;
    }
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut open: Vec<Open> = Vec::new();
    let mut rest = html;
    loop {
        // 0xC2 leads the UTF-8 of NBSP (C2 A0), which is written as `&nbsp;`, and of other characters.
        let bytes = rest.as_bytes();
        let next = memchr::memchr3(b'<', b'&', b'>', bytes).unwrap_or(bytes.len());
        let special = memchr::memchr(0xc2, &bytes[..next]).unwrap_or(next);
        if special == bytes.len() {
            out.push_str(rest);
            break;
        }
        out.push_str(&rest[..special]);
        rest = &rest[special..];
        match rest.as_bytes()[0] {
            b'&' => rest = push_reference(&mut out, &rest[1..], false)?,
            b'>' => {
                out.push_str("&gt;");
                rest = &rest[1..];
            }
            b'<' => rest = markup(&mut out, &rest[1..], &mut open, policy)?,
            // A two-byte character: NBSP, or one written as it is.
            _ => {
                let (c, after) = rest.split_at(2);
                out.push_str(if c == "\u{a0}" { "&nbsp;" } else { c });
                rest = after;
            }
        }
    }
    while let Some(element) = open.pop() {
        close(&mut out, &element);
    }
    Some(out)
}

/// Reads what follows a `<`: a tag, a comment, or a `<` that is text. Returns the input after it.
fn markup<'a>(out: &mut String, after_lt: &'a str, open: &mut Vec<Open>, policy: &Policy) -> Option<&'a str> {
    let bytes = after_lt.as_bytes();
    match bytes.first() {
        Some(c) if c.is_ascii_alphabetic() => start_tag(out, after_lt, open, policy),
        Some(b'/') => end_tag(out, &after_lt[1..], open),
        Some(b'!') => {
            // Comments are dropped. One ends at the first `-->` or `--!>`; `<!-->` and `<!--->` end
            // at once, and any other `<!` is a bogus comment: both are left to ammonia.
            let body = after_lt.strip_prefix("!--")?;
            if body.starts_with('>') || body.starts_with("->") {
                return None;
            }
            Some(comment_end(body).map_or("", |end| &body[end..]))
        }
        Some(b'?') => None,
        // A `<` that starts no tag ("a < b", "<3", or at the end) is text.
        _ => {
            out.push_str("&lt;");
            Some(after_lt)
        }
    }
}

/// Where a comment's body ends: just past its first `-->` or `--!>`, found in one scan (searching for
/// each in turn would read the rest of the input once per comment).
fn comment_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&bytes[from..], b"--") {
        let after = from + i + 2;
        match bytes.get(after) {
            Some(b'>') => return Some(after + 1),
            Some(b'!') if bytes.get(after + 1) == Some(&b'>') => return Some(after + 2),
            // "--->": the dashes overlap.
            _ => from = after - 1,
        }
    }
    None
}

/// The characters the tokenizer reads as whitespace inside a tag.
const SPACES: [char; 4] = ['\t', '\n', '\x0c', ' '];

/// Whether `b` ends a tag name or an unquoted attribute value as whitespace does.
fn is_space(b: u8) -> bool {
    SPACES.contains(&char::from(b))
}

fn start_tag<'a>(out: &mut String, input: &'a str, open: &mut Vec<Open>, policy: &Policy) -> Option<&'a str> {
    let name_len = input.bytes().take_while(u8::is_ascii_alphanumeric).count();
    if !matches!(input.as_bytes().get(name_len), Some(b) if is_space(*b) || matches!(b, b'/' | b'>')) {
        return None;
    }
    let (name, kind) = kind(&input[..name_len])?;
    let (attributes, rest) = attributes(&input[name_len..])?;

    if open.len() >= MAX_DEPTH {
        return None;
    }
    if matches!(kind, Kind::Block | Kind::Heading | Kind::ListItem | Kind::Pre | Kind::VoidBlock) {
        // "Close a p element": exact when the open `p` is the current element; otherwise the tree
        // builder would also close what is open inside it.
        match open.iter().rposition(|o| o.name == "p") {
            None => {}
            Some(p) if p == open.len() - 1 => close(out, &open.pop()?),
            Some(_) => return None,
        }
    }
    // The lists an item may stand in, and the items it closes.
    let (lists, items): (&[&str], &[&str]) = match name {
        "li" => (&["ul", "ol"], &["li"]),
        _ => (&["dl"], &["dt", "dd"]),
    };
    if kind == Kind::ListItem && open.last().is_some_and(|o| items.contains(&o.name)) {
        // A new item closes the one before it.
        close(out, &open.pop()?);
    }
    let refuses = match kind {
        Kind::Heading => open.iter().any(|o| o.kind == Kind::Heading),
        Kind::ListItem => !open.last().is_some_and(|o| lists.contains(&o.name)),
        Kind::Inline if name == "a" => open.iter().any(|o| o.name == "a"),
        _ => false,
    };
    if refuses {
        return None;
    }
    match kind {
        Kind::Dropped | Kind::EmptyRaw => {
            let (content, rest) = raw_text(rest, name)?;
            // Script data treats `<!--` specially; an iframe's text would be kept.
            let plain = match kind {
                Kind::EmptyRaw => content.is_empty(),
                _ => name != "script" || !content.contains("<!--"),
            };
            return plain.then_some(rest);
        }
        _ => {}
    }
    let kept = policy.tags.contains(name);
    if kept {
        write_start(out, name, attributes, policy);
    }
    if !matches!(kind, Kind::Void | Kind::VoidBlock) {
        open.push(Open { name, kind, kept });
    }
    if kind == Kind::Pre {
        // The tree builder drops a newline right after `<pre>`; one written as a reference is left to
        // ammonia.
        if rest.starts_with('&') {
            return None;
        }
        return Some(rest.strip_prefix('\n').unwrap_or(rest));
    }
    Some(rest)
}

/// The text of a raw-text element up to its end tag (case-insensitive, then `>`), and the input after
/// that; the rest of the input when there is no end tag.
fn raw_text<'a>(input: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let mut from = 0;
    while let Some(i) = input[from..].find("</").map(|i| from + i) {
        let after = &input[i + 2..];
        if after.len() >= name.len() && after.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            match after.as_bytes().get(name.len()) {
                Some(b'>') => return Some((&input[..i], &after[name.len() + 1..])),
                // An end tag with attributes, or `</script/>`, is left to ammonia.
                Some(b) if is_space(*b) || *b == b'/' => return None,
                None => return None,
                _ => {}
            }
        }
        from = i + 2;
    }
    Some((input, ""))
}

fn end_tag<'a>(out: &mut String, input: &'a str, open: &mut Vec<Open>) -> Option<&'a str> {
    let name_len = input.bytes().take_while(u8::is_ascii_alphanumeric).count();
    if name_len == 0 || !input.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let after = input[name_len..].trim_start_matches(SPACES);
    let rest = after.strip_prefix('>')?;
    let (name, kind) = kind(&input[..name_len])?;
    // The end tag of a block closes the paragraphs and list items left open inside it ("generate
    // implied end tags", of which these are the ones the fast path knows), when it is open at all.
    if matches!(kind, Kind::Block | Kind::Heading | Kind::ListItem | Kind::Pre) && open.iter().any(|o| o.name == name) {
        while let Some(top) = open.last().filter(|o| o.name != name && matches!(o.name, "p" | "li" | "dt" | "dd")) {
            close(out, top);
            open.pop();
        }
    }
    if open.last()?.name != name {
        return None;
    }
    close(out, &open.pop()?);
    Some(rest)
}

fn close(out: &mut String, element: &Open) {
    if element.kept {
        out.push_str("</");
        out.push_str(element.name);
        out.push('>');
    }
}

/// A start tag's attributes as the tokenizer reads them (names lower-cased, values decoded, a repeated
/// name ignored), and the input after the tag's `>`. `None` for anything unusual: a name with
/// characters other than letters, digits, `-`, `_`, `:` and `.`, an unquoted value with a quote, `=`,
/// `<` or backtick, a `/` not right before `>`, a tag cut off by the end of the input.
fn attributes(mut input: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    loop {
        input = input.trim_start_matches(SPACES);
        let bytes = input.as_bytes();
        match bytes.first()? {
            b'>' => return Some((attributes, &input[1..])),
            b'/' => return input.strip_prefix("/>").map(|rest| (attributes, rest)),
            b if b.is_ascii_alphabetic() => {}
            _ => return None,
        }
        let name_len = bytes.iter().take_while(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(b)).count();
        let name = input[..name_len].to_ascii_lowercase();
        input = input[name_len..].trim_start_matches(SPACES);
        let value = match input.as_bytes().first()? {
            b'=' => {
                input = input[1..].trim_start_matches(SPACES);
                let (raw, after) = match input.as_bytes().first()? {
                    quote @ (b'"' | b'\'') => {
                        let end = input[1..].find(*quote as char)? + 1;
                        let after = &input[end + 1..];
                        // A quoted value must be followed by a space, `/` or `>`.
                        if !matches!(after.as_bytes().first()?, b if is_space(*b) || matches!(b, b'/' | b'>')) {
                            return None;
                        }
                        (&input[1..end], after)
                    }
                    _ => {
                        let end = input.bytes().position(|b| is_space(b) || b == b'>').unwrap_or(input.len());
                        let raw = &input[..end];
                        if raw.is_empty() || raw.contains(['"', '\'', '<', '=', '`']) {
                            return None;
                        }
                        (raw, &input[end..])
                    }
                };
                input = after;
                decode_attribute(raw)?
            }
            b if is_space(*b) || matches!(b, b'/' | b'>') || b.is_ascii_alphabetic() => String::new(),
            _ => return None,
        };
        if !attributes.iter().any(|(n, _)| *n == name) {
            // The duplicate check is quadratic; a tag with this many attributes is no common HTML.
            if attributes.len() == MAX_ATTRIBUTES {
                return None;
            }
            attributes.push((name, value));
        }
    }
}

/// An attribute value with its character references decoded.
fn decode_attribute(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = push_reference(&mut out, &rest[amp + 1..], true)?;
    }
    out.push_str(rest);
    Some(out)
}

/// Decodes the character reference after a `&` as the tokenizer does and appends it to `out` (escaped
/// for text unless `in_attribute`, where the caller escapes later); a `&` that starts none is itself.
/// Returns the input after what was read, or `None` for references the tokenizer reads with special
/// rules (C1 controls, NUL, surrogates, out of range).
fn push_reference<'a>(out: &mut String, after_amp: &'a str, in_attribute: bool) -> Option<&'a str> {
    let push = |out: &mut String, c: char| {
        if in_attribute {
            out.push(c);
        } else {
            push_escaped_char(out, c, false);
        }
    };
    if let Some(numeric) = after_amp.strip_prefix('#') {
        let (hex, digits) = match numeric.strip_prefix(['x', 'X']) {
            Some(hex) => (true, hex),
            None => (false, numeric),
        };
        let len = digits.bytes().take_while(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() }).count();
        if len == 0 {
            // "&#" or "&#x" with no digits is text.
            push(out, '&');
            return Some(after_amp);
        }
        let value = u32::from_str_radix(&digits[..len], if hex { 16 } else { 10 }).ok()?;
        let c = char::from_u32(value).filter(|c| is_plain_reference(*c))?;
        push(out, c);
        let rest = &digits[len..];
        return Some(rest.strip_prefix(';').unwrap_or(rest));
    }
    // The longest name the entity table holds (it holds every prefix of every name, mapped to nothing).
    let mut matched = None;
    for (i, c) in after_amp.char_indices() {
        let len = i + c.len_utf8();
        let Some(&code) = web_atoms::NAMED_ENTITIES.get(&after_amp[..len]) else {
            break;
        };
        if code != (0, 0) {
            matched = Some((len, code));
        }
    }
    let Some((len, (first, second))) = matched else {
        push(out, '&');
        return Some(after_amp);
    };
    let name = &after_amp[..len];
    let next = after_amp.as_bytes().get(len);
    if in_attribute && !name.ends_with(';') && next.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'=') {
        // Historical: in an attribute, `&copy=` stays as written.
        push(out, '&');
        return Some(after_amp);
    }
    push(out, char::from_u32(first)?);
    if second != 0 {
        push(out, char::from_u32(second)?);
    }
    Some(&after_amp[len..])
}

/// A character a numeric reference gives as is: not NUL, a surrogate, a C1 control or another control
/// the tokenizer maps, and not a noncharacter.
fn is_plain_reference(c: char) -> bool {
    let code = c as u32;
    matches!(c, '\t' | '\n' | '\x0c' | ' '..='~' | '\u{a0}'..)
        && !(0xfdd0..=0xfdef).contains(&code)
        && code & 0xfffe != 0xfffe
}

/// Appends `c` as the serializer writes it in text, or in an attribute value when `attribute`.
fn push_escaped_char(out: &mut String, c: char, attribute: bool) {
    match c {
        '&' => out.push_str("&amp;"),
        '\u{a0}' => out.push_str("&nbsp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' if attribute => out.push_str("&quot;"),
        c => out.push(c),
    }
}

/// Whether ammonia treats `attribute` of `element` as holding one URL.
fn is_url_attribute(element: &str, attribute: &str) -> bool {
    matches!(attribute, "href" | "xlink:href" | "src")
        || (element == "a" && attribute == "ping")
        || (element == "video" && attribute == "poster")
}

/// Writes an allowed element's start tag with the attributes ammonia keeps, in ammonia's order: the
/// allowed ones as written, `rel` appended to links, then the attribute filter and the resolution of
/// relative URLs, each of which removes what it rejects by swapping in the last attribute.
fn write_start(out: &mut String, name: &str, attributes: Vec<(String, String)>, policy: &Policy) {
    let allowed_here = policy.tag_attributes.get(name);
    let mut kept: Vec<(Cow<str>, String, bool)> = Vec::with_capacity(attributes.len() + 1);
    for (attribute, value) in attributes {
        let allowed = policy.generic_attributes.contains(attribute.as_str())
            || allowed_here.is_some_and(|a| a.contains(attribute.as_str()));
        if !allowed {
            continue;
        }
        let mut relative = false;
        if is_url_attribute(name, &attribute) {
            match Url::parse(&value) {
                Ok(url) if policy.url_schemes.contains(url.scheme()) => {}
                Err(url::ParseError::RelativeUrlWithoutBase) if policy.base.is_some() => relative = true,
                _ => continue,
            }
        }
        kept.push((Cow::Owned(attribute), value, relative));
    }
    if name == "a" {
        if let Some(rel) = &policy.link_rel {
            kept.push((Cow::Borrowed("rel"), rel.clone(), false));
        }
    }
    let mut dropped = Vec::new();
    for (i, (attribute, value, _)) in kept.iter_mut().enumerate() {
        match super::filter_attribute(policy.base.as_ref(), attribute, value) {
            Some(new) if new != value.as_str() => *value = new.into_owned(),
            Some(_) => {}
            None => dropped.push(i),
        }
    }
    for i in dropped.drain(..).rev() {
        kept.swap_remove(i);
    }
    for (i, (_, value, relative)) in kept.iter_mut().enumerate() {
        if *relative {
            match policy.base.as_ref().and_then(|base| base.join(value).ok()) {
                Some(url) => *value = url.into(),
                None => dropped.push(i),
            }
        }
    }
    for i in dropped.into_iter().rev() {
        kept.swap_remove(i);
    }

    out.push('<');
    out.push_str(name);
    for (attribute, value, _) in &kept {
        out.push(' ');
        out.push_str(attribute);
        out.push_str("=\"");
        for c in value.chars() {
            push_escaped_char(out, c, true);
        }
        out.push('"');
    }
    out.push('>');
}

#[cfg(test)]
mod tests;
