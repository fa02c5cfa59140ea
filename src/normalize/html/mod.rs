//! Sanitized HTML for summaries and content: what a feed reader may render without running anything.
//!
//! ammonia (html5ever underneath) parses the fragment the way a browser would, keeps an allowlist of
//! tags and attributes, drops `script`/`style` with their content, event handlers and `javascript:`
//! (and every other non-allowlisted) URL scheme, and rewrites relative URLs against the entry's base so
//! images and links keep working once the HTML is moved into another feed.
//!
//! ammonia checks the URL attributes it knows (`href`, `src`, `poster`, …) but not `srcset` (which we
//! allow for responsive images) nor `cite`: those two are checked here the same way, made absolute and
//! kept only when http(s). `tests/fixtures/xss/vectors.txt` holds the hostile inputs every change here
//! must survive (`tests/integration/xss.rs`).
//!
//! Most fragments never reach ammonia: `simple` sanitizes well-nested fragments of common elements
//! in one pass over the text, with ammonia's allowlist and filter and byte for byte its output, and
//! hands everything else to ammonia. Building, walking and serializing ammonia's tree was most of
//! normalizing's time.
//!
//! The HTML5 tree builder checks element scopes by walking its stack of open elements, so a fragment
//! nesting elements N deep costs N² (300,000 nested `<div>`s: many minutes). A fragment whose elements
//! nest deeper than [`MAX_HTML_DEPTH`] is therefore not parsed as HTML: its text is kept, escaped, as
//! one paragraph. Real content nests a few dozen levels at most.

mod simple;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use url::Url;

use simple::Policy;

/// How deep elements that must be closed explicitly may nest in a fragment [`sanitize`] parses.
pub const MAX_HTML_DEPTH: usize = 256;

/// Elements that never nest: void ones, and those whose end tag is optional (the next sibling
/// closes them, so a run of unclosed `<p>` or `<li>` is flat, not deep).
const FLAT_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "p",
    "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "rtc", "thead", "tbody", "tfoot",
    "colgroup", "caption", "html", "head", "body",
];

/// Whether `html` opens elements more than [`MAX_HTML_DEPTH`] deep: a linear scan of the tags that
/// over-counts (it knows nothing of implied end tags beyond [`FLAT_ELEMENTS`]), never under-counts
/// what is written.
fn nests_too_deep(html: &str) -> bool {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset + 1;
        let closing = bytes.get(start) == Some(&b'/');
        let name_start = start + usize::from(closing);
        let name_len = bytes[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        let name = &html[name_start..name_start + name_len];
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            i = start;
            continue;
        }
        // Past the tag's `>`, or to the end: each byte is looked at once.
        let end = bytes[name_start..].iter().position(|&b| b == b'>').map_or(bytes.len(), |g| name_start + g);
        i = (end + 1).min(bytes.len());
        let self_closing = bytes[..end].ends_with(b"/");
        if self_closing || FLAT_ELEMENTS.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            if depth > MAX_HTML_DEPTH {
                return true;
            }
        }
    }
    false
}

/// Sanitizes an HTML fragment. Returns `None` when nothing visible is left (an empty string, or a
/// fragment that only held a script). A fragment that nests too deep (`nests_too_deep`) becomes its
/// text in one paragraph.
pub fn sanitize(html: &str, base: Option<&Url>) -> Option<String> {
    sanitize_flagged(html, base).0
}

/// [`sanitize`], and whether the fragment nested too deep and was kept as text only (for the caller's
/// warning), so the depth is scanned once.
pub fn sanitize_flagged(html: &str, base: Option<&Url>) -> (Option<String>, bool) {
    let html = unwrap_noscript(html);
    let html = html.as_ref();
    if html.trim().is_empty() {
        return (None, false);
    }
    if nests_too_deep(html) {
        let text = super::text::html_to_text(html);
        return ((!text.is_empty()).then(|| format!("<p>{}</p>", super::escape_html(&text))), true);
    }
    (sanitize_tree(html, base), false)
}

/// `html` without its `noscript` tags, their content kept. Readers run no scripts, so what a
/// `<noscript>` holds (typically the real `<img>` behind a lazy-loading placeholder) is what they should
/// show. html5ever parses with scripting on, where that content is raw text, and the sanitizer wrote
/// its markup out as escaped text (`&lt;img src=…&gt;`); without the tags it is read as markup like the
/// rest, and sanitized like the rest.
fn unwrap_noscript(html: &str) -> Cow<'_, str> {
    // A `<noscript …>` or `</noscript …>` tag.
    let noscript_tag = |tag: &str| {
        let name = tag[1..].strip_prefix('/').unwrap_or(&tag[1..]).as_bytes();
        name.len() >= 8
            && name[..8].eq_ignore_ascii_case(b"noscript")
            && matches!(name.get(8), None | Some(b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'))
    };
    without_tags(html, b"<", noscript_tag)
}

/// The allowlist sanitizing proper, for a fragment of reasonable depth.
fn sanitize_tree(html: &str, base: Option<&Url>) -> Option<String> {
    let clean = if html.contains(['<', '&']) {
        with_builder(base, |builder, policy| {
            simple::sanitize(html, policy).unwrap_or_else(|| builder.clean(&foreign_as_text(html)).to_string())
        })
    } else {
        plain_text_fragment(html)
    };
    let clean = without_empty_images(clean.trim());
    let clean = clean.trim();
    let visible = super::text::has_text(clean)
        || ["<img", "<video", "<audio", "<picture", "<hr"].iter().any(|t| clean.contains(t));
    visible.then(|| clean.to_owned())
}

/// `html` with each inline `<svg>` and `<math>` element replaced by its text alternative, escaped: the
/// allowlist keeps neither, and ammonia drops them with their text, so a post whose only content is a
/// chart or a formula would show nothing. The alternative is MathML's `alttext`, else the first SVG
/// `<title>` or `<desc>`, else the element's text (SVG `<text>` labels, MathML tokens). Lowercase tags
/// only, as feeds write them; an uppercase one is dropped by the sanitizer as before. The fast path
/// refuses both elements, so only fragments headed for ammonia pay for this scan.
fn foreign_as_text(html: &str) -> Cow<'_, str> {
    const KINDS: [(&str, &str); 2] = [("<svg", "</svg"), ("<math", "</math")];
    let bytes = html.as_bytes();
    let find = |pattern: &str, from: usize| {
        memchr::memmem::find(&bytes[from.min(bytes.len())..], pattern.as_bytes()).map_or(bytes.len(), |i| from + i)
    };
    // The next candidate of each kind, kept between rounds so that no byte is searched twice per kind.
    let mut next = KINDS.map(|(open, _)| find(open, 0));
    let (mut out, mut copied) = (String::new(), 0);
    loop {
        let kind = usize::from(next[1] < next[0]);
        let at = next[kind];
        if at >= bytes.len() {
            break;
        }
        let (open, close) = KINDS[kind];
        if !matches!(bytes.get(at + open.len()), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>' | b'/')) {
            next[kind] = find(open, at + 1);
            continue;
        }
        let close_at = find(close, at);
        let end = memchr::memchr(b'>', &bytes[close_at.min(bytes.len())..]).map_or(bytes.len(), |g| close_at + g + 1);
        out.push_str(&html[copied..at]);
        out.push_str(&super::escape_html(&alternative_text(&html[at..end], kind == 0)));
        copied = end;
        next = [0, 1].map(|k| if next[k] < end { find(KINDS[k].0, end) } else { next[k] });
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// The text a reader should see for one `<svg>…</svg>` or `<math>…</math>` element (see
/// [`foreign_as_text`]).
fn alternative_text(element: &str, svg: bool) -> String {
    let lower = element.to_ascii_lowercase();
    let start_tag = &lower[..lower.find('>').unwrap_or(lower.len())];
    if let (false, Some(at)) = (svg, start_tag.find("alttext=")) {
        let value = &element[at + "alttext=".len()..start_tag.len()];
        let quoted = value.strip_prefix(['"', '\'']).map(|rest| (rest, value.as_bytes()[0] as char));
        let raw = match quoted {
            Some((rest, quote)) => rest.split(quote).next().unwrap_or_default(),
            None => value.split(|c: char| c.is_ascii_whitespace() || c == '/').next().unwrap_or_default(),
        };
        let text = super::text::html_to_text(raw);
        if !text.is_empty() {
            return text;
        }
    }
    if svg {
        for name in ["title", "desc"] {
            let open = format!("<{name}");
            let Some(at) = lower
                .match_indices(&open)
                .map(|(i, _)| i)
                .find(|&i| matches!(lower.as_bytes().get(i + open.len()), Some(b' ' | b'\t' | b'\n' | b'\r' | b'>')))
            else {
                continue;
            };
            let inner_start = lower[at..].find('>').map_or(lower.len(), |g| at + g + 1);
            let inner_end = lower[inner_start..].find(&format!("</{name}")).map_or(lower.len(), |e| inner_start + e);
            let text = super::text::html_to_text(&element[inner_start..inner_end]);
            if !text.is_empty() {
                return text;
            }
        }
    }
    super::text::html_to_text(element)
}

/// The sanitizer's output without the `<img>` elements that have no `src` or `srcset`: a lazy-loading
/// placeholder keeps its image in `data-src`, which the allowlist drops, and a reader would draw what is
/// left as a broken image. In serialized output every `<` of text and every `>` of an attribute value is
/// escaped, so `<img` starts a tag and the first `>` after it ends it.
fn without_empty_images(html: &str) -> Cow<'_, str> {
    without_tags(html, b"<img", |tag| {
        (tag == "<img>" || tag.starts_with("<img ")) && !tag.contains(" src=\"") && !tag.contains(" srcset=\"")
    })
}

/// `html` without the tags that start with `start` and that `drop` picks. A tag runs to the first `>`
/// after it, or to the end of the input; what follows a `start` that is not dropped is searched again.
fn without_tags<'h>(html: &'h str, start: &[u8], drop: impl Fn(&str) -> bool) -> Cow<'h, str> {
    let mut out = String::new();
    // How far `html` is copied to `out`, and how far it is searched.
    let (mut copied, mut from) = (0, 0);
    // The first `>` at or after the last tag's start (`html.len()` for none): it ends every tag that
    // starts before it too, so no byte is searched for `>` twice. Searching again from each `<` made
    // text full of `<` and short of `>` quadratic (0.6 s for 100,000 of them).
    let mut gt: Option<usize> = None;
    while let Some(at) = memchr::memmem::find(&html.as_bytes()[from..], start).map(|i| from + i) {
        let close = match gt {
            Some(g) if g >= at => g,
            _ => *gt.insert(memchr::memchr(b'>', &html.as_bytes()[at..]).map_or(html.len(), |i| at + i)),
        };
        let end = (close + 1).min(html.len());
        if drop(&html[at..end]) {
            out.push_str(&html[copied..at]);
            copied = end;
            from = end;
        } else {
            from = at + 1;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// The fast path's sanitized `html` and ammonia's, when the fast path reads it: what the differential
/// tests compare (`simple`'s tests, and `cargo fuzz run sanitize`).
#[doc(hidden)]
pub fn fast_and_ammonia(html: &str, base: Option<&Url>) -> Option<(String, String)> {
    with_builder(base, |builder, policy| Some((simple::sanitize(html, policy)?, builder.clean(html).to_string())))
}

/// What the sanitizer makes of a fragment with no `<` and no `&`, i.e. with no markup and no character
/// reference: the HTML parser's input preprocessing (a leading byte-order mark dropped, CR LF and lone
/// CR read as LF, NUL dropped) and the serializer's escaping of text (`>` and NBSP), without building
/// a tree. Plain-text summaries are common, and this is byte for byte what ammonia returns for them
/// (`plain_text_matches_the_sanitizer` checks it).
fn plain_text_fragment(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find(['\r', '\0', '>', '\u{a0}']) {
        out.push_str(&rest[..i]);
        let special = &rest[i..];
        rest = match special.as_bytes()[0] {
            b'\r' => {
                out.push('\n');
                special.strip_prefix("\r\n").unwrap_or(&special[1..])
            }
            b'\0' => &special[1..],
            b'>' => {
                out.push_str("&gt;");
                &special[1..]
            }
            _ => {
                out.push_str("&nbsp;");
                &special['\u{a0}'.len_utf8()..]
            }
        };
    }
    out.push_str(rest);
    out
}

thread_local! {
    /// The last [`builder`] made on this thread and the base it was made for. Building one costs about
    /// as much as cleaning a short fragment (allowlist sets, a URL-scheme set), and the entries of one
    /// feed nearly always share their base, so one slot per thread holds almost every hit.
    static BUILDER: RefCell<Option<(Option<Url>, Builder<'static>, Policy)>> = const { RefCell::new(None) };
}

/// Runs `f` with the sanitizer configured for `base` and its fast path's policy, reusing this thread's
/// last ones when the base is the same.
fn with_builder<T>(base: Option<&Url>, f: impl FnOnce(&Builder<'static>, &Policy) -> T) -> T {
    BUILDER.with(|slot| {
        let mut slot = slot.borrow_mut();
        match slot.as_ref() {
            Some((cached, builder, policy)) if cached.as_ref() == base => f(builder, policy),
            _ => {
                let builder = builder(base);
                let policy = Policy::of(&builder, base);
                let (_, builder, policy) = slot.insert((base.cloned(), builder, policy));
                f(builder, policy)
            }
        }
    })
}

/// The sanitizer's configuration: the allowlist, and relative URLs resolved against `base`.
fn builder(base: Option<&Url>) -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .add_tags(["figure", "figcaption", "picture", "source", "audio", "video", "track", "time"])
        .add_tag_attributes("source", ["src", "srcset", "type", "media"])
        .add_tag_attributes("audio", ["src", "controls"])
        .add_tag_attributes("video", ["src", "controls", "poster", "width", "height"])
        .add_tag_attributes("track", ["src", "kind", "srclang", "label"])
        .add_tag_attributes("img", ["srcset", "loading"])
        .add_tag_attributes("time", ["datetime"])
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel", "magnet"]))
        .link_rel(Some("noopener noreferrer"));
    let filter_base = base.cloned();
    builder
        .attribute_filter(move |_element, attribute, value| filter_attribute(filter_base.as_ref(), attribute, value));
    builder.url_relative(match base {
        Some(base) => UrlRelative::RewriteWithBase(base.clone()),
        // Without a base a relative URL cannot be made absolute; dropping it beats a broken link.
        None => UrlRelative::Deny,
    });
    builder
}

/// The sanitizer's attribute filter: ammonia checks schemes and resolves only the attributes it knows
/// hold one URL (href, src, poster, …); `srcset` (a list of them) and `cite` pass through untouched
/// unless filtered here. `None` drops the attribute.
fn filter_attribute<'v>(base: Option<&Url>, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    match attribute {
        "srcset" => absolute_srcset(base, value).map(Cow::Owned),
        "cite" => super::urls::resolve(base, value).map(|u| Cow::Owned(u.into())),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// A `srcset` with every candidate's URL made absolute against `base`; candidates whose URL is not
/// http(s) (or is relative with no base) are dropped, and `None` when none is left. Candidates are split
/// as the HTML standard does (a URL ends at whitespace, its descriptors at a comma), so a comma inside a
/// URL (`w_300,c_fill/a.jpg`, common on image CDNs) does not cut it in two.
pub(crate) fn absolute_srcset(base: Option<&Url>, set: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut rest = set;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        let (url, descriptors, next) = match url.strip_suffix(',') {
            // "a.jpg, b.jpg 2x": a URL that ends in a comma has no descriptors.
            Some(_) => (url.trim_end_matches(','), "", after),
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (url, after[..end].trim(), &after[end..])
            }
        };
        rest = next;
        // A browser skips a candidate whose descriptors it cannot read; so does this.
        if !descriptors.split_ascii_whitespace().all(is_descriptor) {
            continue;
        }
        if let Some(u) = super::urls::resolve(base, url) {
            out.push(if descriptors.is_empty() { u.to_string() } else { format!("{u} {descriptors}") });
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

/// A width (`300w`), density (`1.5x`) or height (`200h`) descriptor.
fn is_descriptor(d: &str) -> bool {
    let Some(number) = d.strip_suffix(['w', 'x', 'h']) else {
        return false;
    };
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.') && number.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests;
