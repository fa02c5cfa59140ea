//! DOM subtree in, HTML text out, with the changes every extracted body needs on the way: nodes marked
//! as noise are left out, as are elements that never carry content (`script`, `style`, forms, embeds);
//! `on*` handlers and inline styles are dropped; links and image sources (lazy-loading ones included)
//! become absolute; containers left empty by the removals disappear. Serializing with these rules,
//! rather than editing the tree and calling `html()`, keeps the parsed page untouched for the
//! selectors that read it afterwards.
//!
//! The result is not a security boundary: normalize still runs it through ammonia.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Node};
use url::Url;

use super::selectors::{image_src, resolve};

/// How to write a subtree.
pub(crate) struct Writer<'a> {
    /// Nodes to leave out with everything inside them.
    pub skip: &'a HashSet<NodeId>,
    /// Base for relative URLs; `None` leaves them as written.
    pub base: Option<&'a Url>,
    /// Keep `class` and `id` (the readability pass scores by them); final output drops them.
    pub keep_names: bool,
}

/// Elements dropped wherever they are: they hold code, chrome or controls, never article text.
fn is_dropped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "link"
            | "meta"
            | "iframe"
            | "object"
            | "embed"
            | "form"
            | "input"
            | "button"
            | "select"
            | "textarea"
            | "svg"
            | "canvas"
            | "dialog"
    )
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Elements that are content even with no text: an image, a rule, a table cell.
fn is_media(name: &str) -> bool {
    matches!(name, "img" | "picture" | "video" | "audio" | "source" | "hr" | "td" | "th")
}

/// Containers removed when nothing visible is left in them.
fn prunable(name: &str) -> bool {
    matches!(
        name,
        "div"
            | "span"
            | "p"
            | "section"
            | "article"
            | "figure"
            | "ul"
            | "ol"
            | "li"
            | "a"
            | "i"
            | "b"
            | "strong"
            | "em"
    )
}

const URL_ATTRS: &[&str] = &["href", "src", "poster", "cite"];

impl Writer<'_> {
    pub(crate) fn inner(&self, el: ElementRef<'_>) -> String {
        let mut out = String::new();
        for child in el.children() {
            self.node(child, &mut out);
        }
        out
    }

    pub(crate) fn outer(&self, el: ElementRef<'_>) -> String {
        let mut out = String::new();
        self.node(*el, &mut out);
        out
    }

    fn node(&self, node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
        if self.skip.contains(&node.id()) {
            return;
        }
        match node.value() {
            Node::Text(text) => escape(text, false, out),
            Node::Element(_) => {
                if let Some(el) = ElementRef::wrap(node) {
                    self.element(el, out);
                }
            }
            Node::Document | Node::Fragment => node.children().for_each(|c| self.node(c, out)),
            Node::Doctype(_) => out.push_str("<!DOCTYPE html>"),
            Node::Comment(_) | Node::ProcessingInstruction(_) => {}
        }
    }

    fn element(&self, el: ElementRef<'_>, out: &mut String) {
        let name = el.value().name();
        if is_dropped(name) || (prunable(name) && self.is_blank(el)) {
            return;
        }
        out.push('<');
        out.push_str(name);
        for (attr, value) in el.value().attrs() {
            self.attribute(el, attr, value, out);
        }
        if name == "img" && el.attr("src").is_none_or(|src| Some(src) != image_src(el)) {
            if let Some(src) = image_src(el) {
                self.attribute(el, "src", src, out);
            }
        }
        out.push('>');
        if is_void(name) {
            return;
        }
        for child in el.children() {
            self.node(child, out);
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }

    fn attribute(&self, el: ElementRef<'_>, attr: &str, value: &str, out: &mut String) {
        let lower = attr.to_ascii_lowercase();
        let is_name = lower == "class" || lower == "id";
        if lower.starts_with("on") || lower == "style" || (is_name && !self.keep_names) {
            return;
        }
        // The lazy-loading source replaces `src` (written by the caller); the placeholder goes.
        if el.value().name() == "img" && lower == "src" && image_src(el) != Some(value) {
            return;
        }
        let value = match self.base {
            Some(base) if URL_ATTRS.contains(&lower.as_str()) => {
                resolve(base, value).map_or_else(|| value.to_owned(), String::from)
            }
            // The sanitizer's own srcset reading: candidates split as HTML does, only http(s) kept.
            Some(base) if lower == "srcset" => match crate::normalize::html::absolute_srcset(Some(base), value) {
                Some(set) => set,
                None => return,
            },
            _ => value.to_owned(),
        };
        out.push(' ');
        out.push_str(attr);
        out.push_str("=\"");
        escape(&value, true, out);
        out.push('"');
    }

    /// Nothing a reader would see is left inside once skipped and dropped nodes are gone.
    fn is_blank(&self, el: ElementRef<'_>) -> bool {
        el.children().all(|child| {
            if self.skip.contains(&child.id()) {
                return true;
            }
            match child.value() {
                Node::Text(text) => text.trim().is_empty(),
                Node::Element(e) if is_media(e.name()) => false,
                Node::Element(e) if is_dropped(e.name()) => true,
                Node::Element(_) => ElementRef::wrap(child).is_none_or(|c| self.is_blank(c)),
                _ => true,
            }
        })
    }
}

/// Plain text as HTML text.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(s, false, &mut out);
    out
}

fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};

    use super::*;

    fn write(html: &str, keep_names: bool) -> String {
        let doc = Html::parse_fragment(html);
        let base = Url::parse("https://ex.org/a/b.html").unwrap();
        let skip: HashSet<NodeId> = doc.select(&Selector::parse(".noise").unwrap()).map(|e| e.id()).collect();
        Writer { skip: &skip, base: Some(&base), keep_names }.inner(doc.root_element())
    }

    #[test]
    fn drops_code_handlers_and_noise() {
        assert_eq!(
            write(
                r#"<p onclick="x()" style="color:red" class="c">a &amp; b<script>evil()</script></p><div class="noise">2534</div><style>p{}</style>"#,
                false
            ),
            "<p>a &amp; b</p>"
        );
        assert_eq!(write(r#"<p class="c" id="i">x</p>"#, true), r#"<p class="c" id="i">x</p>"#);
    }

    #[test]
    fn makes_urls_absolute() {
        assert_eq!(
            write(r#"<a href="../c.html">c</a><img src="/i.jpg" srcset="s.jpg 1x, /l.jpg 2x">"#, false),
            r#"<a href="https://ex.org/c.html">c</a><img src="https://ex.org/i.jpg" srcset="https://ex.org/a/s.jpg 1x, https://ex.org/l.jpg 2x">"#
        );
        assert_eq!(
            write(r#"<img src="data:image/gif;base64,R0" data-src="lazy.jpg" alt="x">"#, false),
            r#"<img alt="x" data-src="lazy.jpg" src="https://ex.org/a/lazy.jpg">"#
        );
    }

    #[test]
    fn prunes_containers_left_empty() {
        assert_eq!(
            write(r#"<div><div class="ad"><script>x</script></div><p> </p><p><img src="/i.jpg"></p></div>"#, false),
            r#"<div><p><img src="https://ex.org/i.jpg"></p></div>"#
        );
    }
}
