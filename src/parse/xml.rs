//! A forgiving pull reader over quick-xml, shared by the RSS, RDF and Atom modules.
//!
//! In: one decoded document (`&str`). Out: a stream of element starts and ends with namespaces
//! resolved to a [`Ns`] by URI (feeds use odd prefixes), element text with every entity reference
//! decided on (XML, HTML, numeric, unknown, or not a reference at all), inner markup serialized back
//! to HTML (Atom `xhtml`, raw HTML pasted into `<description>`; an `xml:base` inside it applied to
//! the URLs under it, and inline SVG or MathML replaced by its text alternative, since HTML sanitizing
//! keeps neither: `xml/inner.rs`), the `xml:base` and `xml:lang` in effect, and a list of everything
//! forgiven.
//!
//! Why its own layer: quick-xml is fast because it checks little, and a lenient feed reader needs
//! exactly the checks it skips done differently. So quick-xml runs with end-name checks off and
//! dangling `&` allowed, and this reader keeps its own element stack: a mismatched end tag closes
//! the elements it skips over (as an HTML parser would), a stray one is ignored, and the end of the
//! document closes nothing, so each format module sees the truncation and keeps what it has. Entities
//! are never taken from a DTD: quick-xml does not expand them and neither do we, which rules out XXE
//! and billion-laughs by construction. Nothing is allocated per event on the structural path; element
//! names live in one arena, and namespace, base and language scopes are pushed only where declared.

mod inner;

use std::borrow::Cow;

use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesCData, BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::Reader;

use super::lexical::{self, is_name_start, RefKind};
use super::warn::{Kind, Warnings};

/// The namespaces feed parsing cares about, matched by URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace, or a default namespace we do not know (RSS 2.0 under `backend.userland.com`).
    None,
    Atom,
    Atom03,
    Rss10,
    Rss090,
    Rdf,
    Content,
    Dc,
    DcTerms,
    Media,
    Itunes,
    /// The RSS 1.0 syndication module (`sy:updatePeriod`).
    Syndication,
    Xhtml,
    /// A prefixed namespace we do not read (`slash:`, `wfw:`, `georss:` …).
    Other,
}

impl Ns {
    /// Namespace URIs as found in the wild: scheme, case and a trailing `/` or `#` vary.
    pub(crate) fn from_uri(uri: &str) -> Ns {
        // Exact spellings first: these cover nearly every feed without building a lowered copy.
        match uri {
            "http://www.w3.org/2005/Atom" => return Ns::Atom,
            "http://www.w3.org/1999/xhtml" => return Ns::Xhtml,
            "http://purl.org/dc/elements/1.1/" => return Ns::Dc,
            "http://purl.org/rss/1.0/modules/content/" => return Ns::Content,
            "http://search.yahoo.com/mrss/" => return Ns::Media,
            "http://www.itunes.com/dtds/podcast-1.0.dtd" => return Ns::Itunes,
            _ => {}
        }
        let u = uri.trim();
        let u = ["http://", "https://"]
            .iter()
            .find(|s| lexical::starts_with_ignore_case(u.as_bytes(), s.as_bytes()))
            .map_or(u, |s| &u[s.len()..]);
        let u = u.trim_end_matches(['/', '#']).to_ascii_lowercase();
        match u.as_str() {
            "www.w3.org/2005/atom" => Ns::Atom,
            "purl.org/atom/ns" => Ns::Atom03,
            "purl.org/rss/1.0" => Ns::Rss10,
            "my.netscape.com/rdf/simple/0.9" => Ns::Rss090,
            "www.w3.org/1999/02/22-rdf-syntax-ns" => Ns::Rdf,
            "purl.org/rss/1.0/modules/content" => Ns::Content,
            "purl.org/dc/elements/1.1" => Ns::Dc,
            "purl.org/dc/terms" => Ns::DcTerms,
            "www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
            "purl.org/rss/1.0/modules/syndication" => Ns::Syndication,
            "www.w3.org/1999/xhtml" => Ns::Xhtml,
            _ if u.contains("search.yahoo.com/mrss") => Ns::Media,
            _ => Ns::Other,
        }
    }

    /// What a feed most likely meant by a prefix it forgot to declare.
    fn guess(prefix: &[u8]) -> Option<Ns> {
        Some(match prefix {
            b"content" => Ns::Content,
            b"dc" => Ns::Dc,
            b"dcterms" => Ns::DcTerms,
            b"media" => Ns::Media,
            b"itunes" => Ns::Itunes,
            b"sy" => Ns::Syndication,
            b"atom" | b"atom10" => Ns::Atom,
            b"rdf" => Ns::Rdf,
            b"xhtml" => Ns::Xhtml,
            _ => return None,
        })
    }
}

/// An element start, with its namespace resolved. Attributes are read through the reader
/// ([`XmlReader::attr`]) because their prefixes and entities need its state.
pub(crate) struct Element<'a> {
    pub(crate) ns: Ns,
    start: BytesStart<'a>,
    local_off: usize,
}

impl Element<'_> {
    /// The local name (after any prefix), as written.
    pub(crate) fn local(&self) -> &[u8] {
        &self.start.name().into_inner()[self.local_off..]
    }
}

/// What a format module's loop sees: text between elements is skipped at this level.
pub(crate) enum Node<'a> {
    Start(Element<'a>),
    /// The end of the innermost open element (real, or implied by a mismatched end tag).
    End,
    /// The end of the document, also when elements are still open.
    Eof,
}

enum Tok<'a> {
    Start(Element<'a>),
    End,
    Text(BytesText<'a>),
    CData(BytesCData<'a>),
    Ref(BytesRef<'a>),
    /// An end tag that matches no open element.
    StrayEnd(BytesEnd<'a>),
    Eof,
}

struct Frame {
    name_start: usize,
    decls_len: usize,
}

struct NsDecl {
    prefix: Box<[u8]>,
    ns: Ns,
}

/// A value in scope from the element at `depth` (1 = root) down.
struct Scoped {
    depth: usize,
    value: String,
}

/// An `xml:base` in scope, kept parsed when absolute so nested bases join without re-parsing it.
struct Base {
    depth: usize,
    value: String,
    url: Option<url::Url>,
}

/// How far down the stack a mismatched end tag may look for its start tag; bounds the work a
/// hostile document of many unclosed elements and stray end tags can cause.
const MAX_END_TAG_SEARCH: usize = 256;

/// How deep elements may nest. A deeper element is skipped with everything inside it (text too), so
/// the element stack, the scopes and the markup serialized for a field stay small whatever the
/// document does; real feeds nest a dozen levels, inline XHTML a few dozen at most. quick-xml keeps a
/// stack of open names of its own, so a skipped subtree may itself nest only as deep again: past
/// twice this depth the reader stops, keeping what it has read.
pub(crate) const MAX_DEPTH: usize = 256;

/// How many namespace declarations may be in scope at once. Prefix lookup walks them, so a hostile
/// document nesting thousands of declarations would otherwise make reading quadratic; real feeds
/// declare a dozen at most.
const MAX_NS_DECLS: usize = 256;

/// What the reader leaves behind for `parse/mod.rs`.
pub(crate) struct Outcome {
    pub(crate) warnings: Warnings,
    /// The reader met a `<` that starts no markup and stopped: repair the text and read it again.
    pub(crate) needs_repair: bool,
    /// The document could not be read to its end: the line and the reason.
    pub(crate) broken: Option<(usize, String)>,
}

pub(crate) struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    doc: &'a str,
    /// The line of `doc`'s first byte in the document as received (junk before the root is cut off).
    first_line: usize,
    names: Vec<u8>,
    frames: Vec<Frame>,
    decls: Vec<NsDecl>,
    bases: Vec<Base>,
    langs: Vec<Scoped>,
    pending_ends: usize,
    /// Open elements beyond [`MAX_DEPTH`] that are being skipped (0 when not skipping).
    too_deep: usize,
    /// Whether the document has `\r` at all; if not, text needs no line-end normalization.
    has_cr: bool,
    done: bool,
    repaired: bool,
    needs_repair: bool,
    broken: Option<(usize, String)>,
    warnings: Warnings,
}

impl<'a> XmlReader<'a> {
    /// `has_cr` says whether `doc` contains `\r` at all (the caller scanned it already; without one,
    /// text skips line-end normalization). `repaired` says `doc` already went through
    /// [`lexical::escape_stray_lt`], so a nameless tag is no longer a reason to ask for it.
    pub(crate) fn new(doc: &'a str, first_line: usize, has_cr: bool, repaired: bool, warnings: Warnings) -> Self {
        let mut reader = Reader::from_str(doc);
        let config = reader.config_mut();
        config.allow_dangling_amp = true;
        config.allow_unmatched_ends = true;
        config.check_end_names = false;
        config.check_comments = false;
        XmlReader {
            reader,
            doc,
            first_line,
            names: Vec::with_capacity(256),
            frames: Vec::with_capacity(16),
            decls: Vec::new(),
            bases: Vec::new(),
            langs: Vec::new(),
            pending_ends: 0,
            too_deep: 0,
            has_cr,
            done: false,
            repaired,
            needs_repair: false,
            broken: None,
            warnings,
        }
    }

    pub(crate) fn finish(self) -> Outcome {
        Outcome { warnings: self.warnings, needs_repair: self.needs_repair, broken: self.broken }
    }

    /// The next element start or end, skipping text, comments and processing instructions.
    pub(crate) fn next(&mut self) -> Node<'a> {
        loop {
            match self.next_tok() {
                Tok::Start(el) => return Node::Start(el),
                Tok::End => return Node::End,
                Tok::Eof => return Node::Eof,
                Tok::Text(_) | Tok::CData(_) | Tok::Ref(_) => {}
                Tok::StrayEnd(end) => self.ignore_stray(&end),
            }
        }
    }

    /// Consumes the rest of the element whose start was just returned.
    pub(crate) fn skip(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.next_tok() {
                Tok::Start(_) => depth += 1,
                Tok::End if depth == 0 => return,
                Tok::End => depth -= 1,
                Tok::Eof => return,
                Tok::Text(_) | Tok::CData(_) | Tok::Ref(_) => {}
                Tok::StrayEnd(end) => self.ignore_stray(&end),
            }
        }
    }

    /// The text of the element whose start was just returned, trimmed; `None` when empty. Child
    /// elements, if any, are serialized as markup.
    pub(crate) fn text(&mut self) -> Option<String> {
        non_empty(self.read_inner(false).0)
    }

    /// Like [`text`](Self::text), and says whether the value is markup: always for `xhtml` (whose
    /// wrapping `<div>` is dropped), otherwise when child elements were found and serialized.
    pub(crate) fn content(&mut self, xhtml: bool) -> Option<(String, bool)> {
        let (value, markup) = self.read_inner(xhtml);
        non_empty(value).map(|v| (v, markup))
    }

    /// An unprefixed attribute, entities decoded, trimmed; `None` when absent or blank.
    pub(crate) fn attr(&mut self, el: &Element<'_>, name: &[u8]) -> Option<String> {
        let [value] = self.attrs(el, [name]);
        value
    }

    /// Several attributes in one pass over the tag (as [`attr`](Self::attr) does for one); the
    /// first of duplicates wins.
    pub(crate) fn attrs<const N: usize>(&mut self, el: &Element<'_>, names: [&[u8]; N]) -> [Option<String>; N] {
        let mut values = [const { None }; N];
        for attr in attributes(&el.start) {
            let key = attr.key.into_inner();
            let Some(i) = names.iter().position(|&n| n == key) else { continue };
            if values[i].is_none() {
                let raw = self.str_of(&attr.value);
                let value = self.decode_value(&raw);
                values[i] = non_empty_str(value.trim());
            }
        }
        values
    }

    /// A prefixed attribute in namespace `ns` (`rdf:about`), matched by URI.
    pub(crate) fn attr_ns(&mut self, el: &Element<'_>, ns: Ns, local: &[u8]) -> Option<String> {
        let attr = attributes(&el.start).find(|a| {
            let key = a.key.into_inner();
            match key.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let prefix = &key[..colon];
                    &key[colon + 1..] == local && self.lookup(prefix).or_else(|| Ns::guess(prefix)) == Some(ns)
                }
                None => false,
            }
        })?;
        let raw = self.str_of(&attr.value);
        let value = self.decode_value(&raw);
        non_empty_str(value.trim())
    }

    /// The `xml:base` in effect (combined with enclosing ones), if any.
    pub(crate) fn base(&self) -> Option<&str> {
        self.bases.last().map(|s| s.value.as_str())
    }

    /// The `xml:base` declared on the element just opened (combined with enclosing ones), if it declares
    /// one: a `<content>` or `<summary>` may change the base for its own text.
    pub(crate) fn own_base(&self) -> Option<&str> {
        self.bases.last().filter(|b| b.depth == self.frames.len()).map(|b| b.value.as_str())
    }

    /// [`own_base`](Self::own_base), when it is absolute.
    pub(crate) fn own_base_url(&self) -> Option<&url::Url> {
        self.bases.last().filter(|b| b.depth == self.frames.len()).and_then(|b| b.url.as_ref())
    }

    /// The `xml:lang` in effect, if any.
    pub(crate) fn lang(&self) -> Option<&str> {
        self.langs.last().map(|s| s.value.as_str())
    }

    /// Records a forgiveness at the current position; `message` runs only for the first of a kind.
    pub(crate) fn warn(&mut self, kind: Kind, message: impl FnOnce() -> String) {
        let (doc, first_line, pos) = (self.doc, self.first_line, self.reader.buffer_position());
        self.warnings.note(kind, || (Some(line_of(doc, first_line, pos)), message()));
    }

    fn next_tok(&mut self) -> Tok<'a> {
        if self.pending_ends > 0 {
            self.pending_ends -= 1;
            self.pop();
            return Tok::End;
        }
        while !self.done {
            let event = self.reader.read_event();
            if self.too_deep > 0 {
                // Inside a skipped subtree only the nesting is followed; any end tag closes one level,
                // which is as lenient as the rest of the reader and keeps the skip bounded.
                match event {
                    Ok(Event::Start(_)) if self.too_deep >= MAX_DEPTH => self.stop_too_deep(),
                    Ok(Event::Start(_)) => self.too_deep += 1,
                    Ok(Event::End(_)) => self.too_deep -= 1,
                    Ok(Event::Eof) => self.end_of_document(),
                    Err(e) => self.fail(e),
                    Ok(_) => {}
                }
                continue;
            }
            match event {
                Ok(Event::Start(start)) => {
                    if let Some(el) = self.open(start, false) {
                        return Tok::Start(el);
                    }
                }
                Ok(Event::Empty(start)) => {
                    if let Some(el) = self.open(start, true) {
                        return Tok::Start(el);
                    }
                }
                Ok(Event::End(end)) => {
                    let closing = self.match_end(end.name().into_inner());
                    if closing == 0 {
                        return Tok::StrayEnd(end);
                    }
                    self.pending_ends = closing - 1;
                    self.pop();
                    return Tok::End;
                }
                Ok(Event::Text(text)) => return Tok::Text(text),
                Ok(Event::CData(cdata)) => return Tok::CData(cdata),
                Ok(Event::GeneralRef(r)) => return Tok::Ref(r),
                Ok(Event::DocType(doctype)) => {
                    if doctype.windows(8).any(|w| w == b"<!ENTITY") {
                        self.warn(Kind::DtdIgnored, || {
                            "the DOCTYPE declares entities; they are never expanded (references to them stay as text)"
                                .into()
                        });
                    }
                }
                Ok(Event::Eof) => self.end_of_document(),
                Ok(Event::Comment(_) | Event::Decl(_) | Event::PI(_)) => {}
                Err(e) => self.fail(e),
            }
        }
        Tok::Eof
    }

    fn open(&mut self, start: BytesStart<'a>, empty: bool) -> Option<Element<'a>> {
        let qname = start.name().into_inner();
        if !qname.first().is_some_and(|&b| is_name_start(b)) {
            // `a < b` read as a nameless tag has swallowed what follows; only a re-read of repaired
            // text gets it back. After a repair this cannot happen, so just drop the tag.
            if !self.repaired {
                self.needs_repair = true;
                self.done = true;
            }
            return None;
        }
        if self.frames.len() >= MAX_DEPTH {
            self.warn(Kind::TooDeep, || format!("elements nested deeper than {MAX_DEPTH} levels skipped"));
            if !empty {
                self.too_deep = 1;
            }
            return None;
        }
        let depth = self.frames.len() + 1;
        let frame = Frame { name_start: self.names.len(), decls_len: self.decls.len() };
        self.names.extend_from_slice(qname);
        if start.attributes_raw().windows(3).any(|w| w == b"xml") {
            self.scan_scoping_attrs(&start, depth);
        }
        let colon = qname.iter().position(|&b| b == b':');
        let ns = match colon {
            Some(c) => self.resolve_prefix(&qname[..c]),
            None => match self.lookup(b"") {
                Some(Ns::Other) | None => Ns::None,
                Some(ns) => ns,
            },
        };
        let local_off = colon.map_or(0, |c| c + 1);
        self.frames.push(frame);
        if empty {
            self.pending_ends = 1;
        }
        Some(Element { ns, start, local_off })
    }

    /// Reads `xmlns`, `xmlns:*`, `xml:base` and `xml:lang` off an element being opened.
    fn scan_scoping_attrs(&mut self, start: &BytesStart<'_>, depth: usize) {
        for attr in attributes(start) {
            let key = attr.key.into_inner();
            let decl = key == b"xmlns" || key.starts_with(b"xmlns:");
            if !decl && key != b"xml:base" && key != b"xml:lang" {
                continue;
            }
            let raw = self.str_of(&attr.value);
            let value = self.decode_value(&raw);
            let value = value.trim();
            if decl {
                if self.decls.len() >= MAX_NS_DECLS {
                    self.warn(Kind::NamespaceLimit, || {
                        format!("more than {MAX_NS_DECLS} namespace declarations in scope; further ones ignored")
                    });
                    continue;
                }
                let prefix = key.get(6..).unwrap_or_default().into();
                self.decls.push(NsDecl { prefix, ns: Ns::from_uri(value) });
            } else if key == b"xml:base" {
                if !value.is_empty() {
                    let (value, url) = combine_base(self.bases.last().and_then(|b| b.url.as_ref()), value);
                    self.bases.push(Base { depth, value, url });
                }
            } else if !value.is_empty() {
                self.langs.push(Scoped { depth, value: value.to_owned() });
            }
        }
    }

    fn lookup(&self, prefix: &[u8]) -> Option<Ns> {
        self.decls.iter().rev().find(|d| &*d.prefix == prefix).map(|d| d.ns)
    }

    fn resolve_prefix(&mut self, prefix: &[u8]) -> Ns {
        if let Some(ns) = self.lookup(prefix) {
            return ns;
        }
        match Ns::guess(prefix) {
            Some(ns) => {
                self.warn(Kind::UndeclaredPrefix, || {
                    format!(
                        "namespace prefix '{}:' is used but never declared; read as the usual {:?} namespace",
                        String::from_utf8_lossy(prefix),
                        ns
                    )
                });
                ns
            }
            None => Ns::Other,
        }
    }

    fn frame_name(&self, i: usize) -> &[u8] {
        let end = self.frames.get(i + 1).map_or(self.names.len(), |f| f.name_start);
        &self.names[self.frames[i].name_start..end]
    }

    /// How many open elements an end tag closes: 1 normally, more when it skips unclosed ones, 0
    /// when it matches nothing open.
    fn match_end(&mut self, name: &[u8]) -> usize {
        let n = self.frames.len();
        if n > 0 && self.frame_name(n - 1) == name {
            return 1;
        }
        let lowest = n.saturating_sub(MAX_END_TAG_SEARCH);
        let found = (lowest..n)
            .rev()
            .find(|&i| self.frame_name(i) == name)
            .or_else(|| (lowest..n).rev().find(|&i| self.frame_name(i).eq_ignore_ascii_case(name)));
        let Some(i) = found else {
            return 0;
        };
        if i + 1 < n {
            let open = String::from_utf8_lossy(self.frame_name(n - 1)).into_owned();
            let name = String::from_utf8_lossy(name).into_owned();
            self.warn(Kind::UnclosedElement, || format!("<{open}> is not closed before </{name}>; closed it there"));
        }
        n - i
    }

    fn ignore_stray(&mut self, end: &BytesEnd<'_>) {
        let name = String::from_utf8_lossy(end.name().into_inner()).into_owned();
        self.warn(Kind::StrayEndTag, || format!("end tag </{name}> matches no open element; ignored"));
    }

    fn pop(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        self.names.truncate(frame.name_start);
        self.decls.truncate(frame.decls_len);
        let depth = self.frames.len() + 1;
        if self.bases.last().is_some_and(|s| s.depth == depth) {
            self.bases.pop();
        }
        if self.langs.last().is_some_and(|s| s.depth == depth) {
            self.langs.pop();
        }
    }

    fn end_of_document(&mut self) {
        self.done = true;
        let n = self.frames.len();
        if n == 0 {
            return;
        }
        let path: Vec<String> =
            (n.saturating_sub(4)..n).map(|i| format!("<{}>", String::from_utf8_lossy(self.frame_name(i)))).collect();
        let innermost = path.last().cloned().unwrap_or_default();
        let line = self.line();
        self.warnings.note(Kind::Truncated, || {
            (Some(line), format!("the document ends inside {} (still open: {})", innermost, path.join(" ")))
        });
        self.broken.get_or_insert((line, format!("the document ends inside {innermost}")));
    }

    /// Stops reading a document nested past twice [`MAX_DEPTH`]: following it further would grow
    /// quick-xml's own stack with every level.
    fn stop_too_deep(&mut self) {
        let line = self.line();
        let message = format!("elements nested deeper than {} levels", 2 * MAX_DEPTH);
        self.warnings.note(Kind::XmlError, || (Some(line), format!("{message}; stopped reading there")));
        self.broken = Some((line, message));
        self.done = true;
    }

    fn fail(&mut self, error: XmlError) {
        if matches!(error, XmlError::Syntax(SyntaxError::InvalidBangMarkup)) && !self.repaired {
            self.needs_repair = true;
            self.done = true;
            return;
        }
        let line = line_of(self.doc, self.first_line, self.reader.error_position());
        let message = error.to_string();
        self.warnings.note(Kind::XmlError, || (Some(line), format!("{message}; stopped reading there")));
        self.broken = Some((line, message));
        self.end_of_document();
    }

    /// `bytes` (a slice of an event) as text. Events of a reader over `&str` borrow from the
    /// document, so the text is found there by position: that spares the UTF-8 re-validation
    /// quick-xml's own decoding does on every event, a sixth of the parse time.
    fn str_of(&self, bytes: &[u8]) -> Cow<'a, str> {
        let offset = (bytes.as_ptr() as usize).wrapping_sub(self.doc.as_ptr() as usize);
        match self.doc.get(offset..offset.wrapping_add(bytes.len())) {
            Some(s) if s.as_ptr() == bytes.as_ptr() => Cow::Borrowed(s),
            _ => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    fn line(&self) -> usize {
        line_of(self.doc, self.first_line, self.reader.buffer_position())
    }

    /// Decodes an attribute value, noting each forgiven reference.
    fn decode_value<'v>(&mut self, raw: &'v str) -> Cow<'v, str> {
        let mut seen = [false; 5];
        let value = lexical::decode_attr(raw, |kind| seen[kind as usize] = true);
        for (i, kind) in [RefKind::Xml, RefKind::Html, RefKind::Unknown, RefKind::BadCharRef, RefKind::NotARef]
            .into_iter()
            .enumerate()
        {
            if seen[i] {
                self.note_ref(kind, "");
            }
        }
        value
    }

    /// Notes a forgiven reference; `name` (empty inside attribute values) is shown for the first.
    fn note_ref(&mut self, kind: RefKind, name: &str) {
        let first = |what: &str| {
            if name.is_empty() {
                what.to_owned()
            } else {
                format!("{what} (first: &{name};)")
            }
        };
        match kind {
            RefKind::Xml => {}
            RefKind::Html => {
                self.warn(Kind::HtmlEntity, || first("HTML named entities decoded although XML does not define them"))
            }
            RefKind::Unknown => self.warn(Kind::UnknownEntity, || first("undefined entities kept as text")),
            RefKind::BadCharRef => {
                self.warn(Kind::BadCharRef, || first("unusable character references kept as text or dropped"))
            }
            RefKind::NotARef => self.warn(Kind::BareAmpersand, || "bare '&' read as text".into()),
        }
    }
}

/// Attributes of a start tag, read as HTML would (unquoted values, names without values) and without
/// the duplicate check: a feed's attribute typo must not cost its other attributes.
fn attributes<'s>(start: &'s BytesStart<'_>) -> impl Iterator<Item = quick_xml::events::attributes::Attribute<'s>> {
    let mut attrs = start.html_attributes();
    attrs.with_checks(false);
    attrs.flatten()
}

/// XML's end-of-line handling: `\r\n` and a lone `\r` read as `\n`.
fn normalize_eol(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        s
    }
}

fn line_of(doc: &str, first_line: usize, pos: u64) -> usize {
    first_line - 1 + lexical::line_at(doc, usize::try_from(pos).unwrap_or(usize::MAX))
}

fn trim_in_place(s: &mut String) {
    s.truncate(s.trim_end().len());
    let lead = s.len() - s.trim_start().len();
    if lead > 0 {
        s.drain(..lead);
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn non_empty_str(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Combines a nested `xml:base` with the one in effect (given parsed when it is absolute): an
/// absolute child wins, a relative one is resolved against an absolute parent, and is kept as
/// written otherwise (normalize resolves it against the document URL). Returns the base and, when
/// absolute, its parsed form.
fn combine_base(parent: Option<&url::Url>, child: &str) -> (String, Option<url::Url>) {
    if has_scheme(child) {
        if let Ok(url) = url::Url::parse(child) {
            return (child.to_owned(), Some(url));
        }
    }
    match parent.and_then(|p| p.join(child).ok()) {
        Some(url) => (url.as_str().to_owned(), Some(url)),
        None => (child.to_owned(), None),
    }
}

/// `reference` resolved against a `base` that is itself relative (RFC 3986 section 5.2.2 without the
/// authority cases, which a relative base lacks): still a relative reference, which normalize resolves
/// against the base in effect around it. Dot segments are left for that resolution to remove.
fn join_relative(base: &str, reference: &str) -> String {
    if reference.is_empty() {
        return base.to_owned();
    }
    if has_scheme(reference) || reference.starts_with('/') {
        return reference.to_owned();
    }
    let path = base.split(['?', '#']).next().unwrap_or(base);
    if reference.starts_with(['?', '#']) {
        let keep = if reference.starts_with('#') { base.split('#').next().unwrap_or(base) } else { path };
        return format!("{keep}{reference}");
    }
    let dir = path.rfind('/').map_or("", |i| &path[..=i]);
    format!("{dir}{reference}")
}

/// Whether a reference starts with `scheme:` (RFC 3986), i.e. may be absolute.
fn has_scheme(s: &str) -> bool {
    let scheme_len = s.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')).count();
    scheme_len > 0 && s.as_bytes()[0].is_ascii_alphabetic() && s.as_bytes().get(scheme_len) == Some(&b':')
}

#[cfg(test)]
mod tests;
