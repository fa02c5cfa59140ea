//! Inner markup: the text of a field whose element holds child elements (Atom `xhtml`, raw HTML pasted
//! into `<description>`), serialized back to HTML as the reader reads on. An `xml:base` declared
//! inside the field is applied to the URLs under it, and inline SVG or MathML becomes its text
//! alternative, since HTML sanitizing keeps neither. Apart from `xml.rs` because it is the one part of
//! the reader that writes markup rather than walking it.

use std::borrow::Cow;

use super::{attributes, join_relative, normalize_eol, trim_in_place, Element, Tok, XmlReader};
use crate::parse::lexical::{self, push_escaped_attr, push_escaped_text, RefKind, Resolved};
use crate::parse::warn::Kind;

/// How a serialized inner element ends.
enum TagEnd {
    /// Atom's `<div xmlns="…xhtml">` wrapper: dropped, start and end.
    Wrapper,
    /// `<br>`, `<img>`: HTML writes no end tag.
    Void,
    /// The end tag is the name stored from this offset in the tag-name arena.
    Named(usize),
}

const VOID_ELEMENTS: [&[u8]; 14] = [
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"param", b"source",
    b"track", b"wbr",
];

/// Attributes holding one URL, resolved against an `xml:base` declared inside inline XHTML.
const URL_ATTRIBUTES: [&[u8]; 5] = [b"href", b"src", b"cite", b"poster", b"longdesc"];

impl<'a> XmlReader<'a> {
    /// The text of the element just opened, up to its end; child elements are serialized as HTML
    /// (and the text around them escaped) once the first one appears.
    pub(super) fn read_inner(&mut self, xhtml: bool) -> (String, bool) {
        let mut out = String::new();
        let mut markup = xhtml;
        let mut open: Vec<TagEnd> = Vec::new();
        let mut tag_names = String::new();
        let mut seen_element = false;
        let field_depth = self.frames.len();
        loop {
            match self.next_tok() {
                Tok::Text(text) => {
                    let s = self.str_of(&text);
                    let s = if self.has_cr { normalize_eol(s) } else { s };
                    // quick-xml ends text at each '&', so a chunk starts with one only when that '&'
                    // began no reference.
                    if s.starts_with('&') {
                        self.note_ref(RefKind::NotARef, "");
                    }
                    push_text(&mut out, &s, markup);
                }
                Tok::CData(cdata) => {
                    let s = self.str_of(&cdata);
                    let s = if self.has_cr { normalize_eol(s) } else { s };
                    push_text(&mut out, &s, markup);
                }
                Tok::Ref(r) => {
                    let name = self.str_of(&r);
                    let (resolved, kind) = lexical::resolve_ref(&name);
                    self.note_ref(kind, &name);
                    match resolved {
                        Resolved::Str(s) => push_text(&mut out, s, markup),
                        Resolved::Char(c) => push_text(&mut out, c.encode_utf8(&mut [0; 4]), markup),
                        Resolved::Literal if markup => {
                            out.push_str("&amp;");
                            out.push_str(&name);
                            out.push(';');
                        }
                        _ => lexical::push_resolved(&mut out, resolved, &name),
                    }
                }
                Tok::Start(el) => {
                    if !markup {
                        markup = true;
                        let plain = std::mem::take(&mut out);
                        push_escaped_text(&mut out, &plain);
                    }
                    let wrapper = xhtml && !seen_element && el.local() == b"div";
                    seen_element = true;
                    if matches!(el.local(), b"svg" | b"math") {
                        // The sanitizer keeps neither; their text alternative is what a reader can see.
                        let alt = self.foreign_alt_text(&el);
                        push_escaped_text(&mut out, &alt);
                    } else if wrapper {
                        open.push(TagEnd::Wrapper);
                    } else {
                        open.push(self.write_start(&mut out, &mut tag_names, &el, field_depth));
                    }
                }
                Tok::End => match open.pop() {
                    None => break,
                    Some(TagEnd::Named(from)) => {
                        out.push_str("</");
                        out.push_str(&tag_names[from..]);
                        out.push('>');
                        tag_names.truncate(from);
                    }
                    Some(TagEnd::Wrapper | TagEnd::Void) => {}
                },
                // `<title>First</titel>`: in a text-only field, a stray end tag is a typo for the
                // field's own; ignoring it would swallow the rest of the entry into the field.
                Tok::StrayEnd(end) if open.is_empty() && !markup => {
                    let name = String::from_utf8_lossy(end.name().into_inner()).into_owned();
                    let field = self
                        .frames
                        .len()
                        .checked_sub(1)
                        .map(|i| String::from_utf8_lossy(self.frame_name(i)).into_owned());
                    self.warn(Kind::StrayEndTag, || {
                        format!("end tag </{name}> matches no open element; taken as </{}>", field.unwrap_or_default())
                    });
                    self.pop();
                    break;
                }
                Tok::StrayEnd(end) => self.ignore_stray(&end),
                Tok::Eof => break,
            }
        }
        trim_in_place(&mut out);
        (out, markup)
    }

    /// The text a reader should see for an inline `<svg>` or `<math>` element, consuming it: MathML's
    /// `alttext`, else the first SVG `<title>` or `<desc>`, else all the text inside; whitespace
    /// collapsed.
    fn foreign_alt_text(&mut self, el: &Element<'_>) -> String {
        let svg = el.local() == b"svg";
        let alttext = if svg { None } else { self.attr(el, b"alttext") };
        let (mut label, mut all) = (String::new(), String::new());
        // The depth of the `<title>`/`<desc>` being read, and whether one was read already.
        let (mut in_label, mut label_done) = (None, false);
        let mut depth = 0usize;
        loop {
            let piece = match self.next_tok() {
                Tok::Start(child) => {
                    depth += 1;
                    if svg && !label_done && in_label.is_none() && matches!(child.local(), b"title" | b"desc") {
                        in_label = Some(depth);
                    }
                    continue;
                }
                Tok::End if depth == 0 => break,
                Tok::End => {
                    if in_label == Some(depth) {
                        in_label = None;
                        label_done = !label.trim().is_empty();
                    }
                    depth -= 1;
                    continue;
                }
                Tok::Text(text) => self.str_of(&text),
                Tok::CData(cdata) => self.str_of(&cdata),
                Tok::Ref(r) => {
                    let name = self.str_of(&r);
                    let (resolved, kind) = lexical::resolve_ref(&name);
                    self.note_ref(kind, &name);
                    let mut s = String::new();
                    lexical::push_resolved(&mut s, resolved, &name);
                    Cow::Owned(s)
                }
                Tok::StrayEnd(end) => {
                    self.ignore_stray(&end);
                    continue;
                }
                Tok::Eof => break,
            };
            if in_label.is_some() {
                label.push_str(&piece);
            }
            all.push(' ');
            all.push_str(&piece);
        }
        let chosen = alttext.unwrap_or(if label.trim().is_empty() { all } else { label });
        chosen.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Writes `<name attr="…">` for an inner element, dropping namespace declarations and `xml:*`.
    /// An `xml:base` declared inside the field (deeper than `field_depth`, as on a `<div>` of Atom
    /// XHTML) no longer exists once serialized, so URL attributes under it are resolved against it here:
    /// made absolute when it is, else joined into a reference relative to the field's own base.
    fn write_start(
        &mut self,
        out: &mut String,
        tag_names: &mut String,
        el: &Element<'_>,
        field_depth: usize,
    ) -> TagEnd {
        let inner_base =
            self.bases.last().filter(|b| b.depth > field_depth).map(|b| b.url.clone().ok_or_else(|| b.value.clone()));
        let name = self.str_of(el.local());
        out.push('<');
        out.push_str(&name);
        for attr in attributes(&el.start) {
            let key = attr.key.into_inner();
            if key == b"xmlns" || key.starts_with(b"xmlns:") || key.starts_with(b"xml:") {
                continue;
            }
            out.push(' ');
            out.push_str(&self.str_of(key));
            out.push_str("=\"");
            let raw = self.str_of(&attr.value);
            let value = self.decode_value(&raw);
            let resolved = match &inner_base {
                Some(base) if URL_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(key)) => match base {
                    Ok(url) => url.join(value.trim()).ok().map(String::from),
                    Err(relative) => Some(join_relative(relative, value.trim())),
                },
                _ => None,
            };
            push_escaped_attr(out, resolved.as_deref().unwrap_or(&value));
            out.push('"');
        }
        out.push('>');
        if VOID_ELEMENTS.iter().any(|v| v.eq_ignore_ascii_case(el.local())) {
            TagEnd::Void
        } else {
            let from = tag_names.len();
            tag_names.push_str(&name);
            TagEnd::Named(from)
        }
    }
}

fn push_text(out: &mut String, s: &str, markup: bool) {
    if markup {
        push_escaped_text(out, s);
    } else {
        out.push_str(s);
    }
}
