//! Selectors as users write them in `feeds.toml`, and the small DOM readings every extractor shares.
//!
//! A [`Field`] is a CSS selector with an optional attribute: `"h3 a"` reads the text of the first match,
//! `"h3 a@href"` its `href`. The `@` form was chosen over a second key (`title_attr = …`) so one string
//! says everything, as in scraping tools users already know; `@` cannot start anything in a CSS
//! selector outside a quoted attribute value, so the split is unambiguous. Config validation calls
//! [`Field::parse`] and [`parse_selector`] once; extraction never fails on a selector.
//!
//! Text is read the way a reader sees it: whitespace collapsed, `script`/`style` left out. URLs are
//! resolved against the page's `<base href>` when it has one, else the page URL.

use scraper::{ElementRef, Html, Selector};
use url::Url;

/// A selector or field that does not parse; the message quotes what the user wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector {selector:?}: {reason}")]
pub struct SelectorError {
    pub selector: String,
    pub reason: String,
}

/// Parses a plain CSS selector (a listing's `item`, an entry of `remove`).
pub fn parse_selector(s: &str) -> Result<Selector, SelectorError> {
    let error = |reason: String| SelectorError { selector: s.to_owned(), reason };
    if s.trim().is_empty() {
        return Err(error("empty selector".into()));
    }
    Selector::parse(s).map_err(|e| {
        error(match e {
            scraper::error::SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
                format!("not a CSS selector this parser supports ({kind:?})")
            }
            other => format!("not valid CSS ({})", other.to_string().to_lowercase()),
        })
    })
}

/// A CSS selector with an optional attribute to read instead of the text.
#[derive(Debug, Clone)]
pub struct Field {
    selector: Selector,
    attr: Option<String>,
    source: String,
}

impl Field {
    /// `"h3 a"` (text) or `"h3 a@href"` (attribute).
    pub fn parse(s: &str) -> Result<Field, SelectorError> {
        let error = |reason: &str| SelectorError { selector: s.to_owned(), reason: reason.to_owned() };
        if s.trim().is_empty() {
            return Err(error("empty selector"));
        }
        let (css, attr) = match split_attr(s) {
            Some((_, "")) => return Err(error("nothing after '@': name an attribute")),
            Some((_, attr)) if !is_attr_name(attr) => {
                return Err(error(&format!("{attr:?} after '@' is not an attribute name")));
            }
            Some((css, attr)) => (css, Some(attr.to_owned())),
            None => (s, None),
        };
        if css.trim().is_empty() {
            return Err(error("no selector before '@'"));
        }
        let selector = parse_selector(css).map_err(|e| SelectorError { selector: s.to_owned(), reason: e.reason })?;
        Ok(Field { selector, attr, source: s.to_owned() })
    }

    /// The attribute this field reads, if it reads one.
    pub fn attr(&self) -> Option<&str> {
        self.attr.as_deref()
    }

    /// The field as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub(crate) fn first<'a>(&self, scope: ElementRef<'a>) -> Option<ElementRef<'a>> {
        self.all(scope).next()
    }

    /// Matches in `scope`, the scope itself first when it matches: a listing item that is itself the
    /// link (`item = "a.card"`) is read with `link = "a@href"`.
    pub(crate) fn all<'a>(&self, scope: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> + use<'a, '_> {
        std::iter::once(scope).filter(|el| self.selector.matches(el)).chain(scope.select(&self.selector))
    }

    /// The attribute (trimmed) or the collapsed text of the first match with a non-empty one.
    pub(crate) fn read(&self, scope: ElementRef<'_>) -> Option<String> {
        self.all(scope).find_map(|el| {
            let value = match &self.attr {
                Some(attr) => el.attr(attr).map(|v| v.trim().to_owned()).unwrap_or_default(),
                None => text_of(el),
            };
            (!value.is_empty()).then_some(value)
        })
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// Splits `css@attr` at the last `@` outside brackets and quotes.
fn split_attr(s: &str) -> Option<(&str, &str)> {
    let (mut depth, mut quote) = (0i32, None);
    let mut split = None;
    for (at, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, '@') if depth == 0 => split = Some(at),
            _ => {}
        }
    }
    split.map(|at| (&s[..at], s[at + 1..].trim()))
}

fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// Deepest element nesting read. Real pages stay under a hundred; the extractors recurse once per
/// level, so a page nested thousands deep (hostile, or broken markup repeated) would overflow the
/// stack and abort the whole run.
pub(crate) const MAX_DEPTH: usize = 512;

/// A page nested deeper than [`MAX_DEPTH`]: not read, and said so in a warning.
#[derive(Debug, thiserror::Error)]
#[error("the page nests elements {deepest} deep (more than {MAX_DEPTH}); not read")]
pub(crate) struct TooDeep {
    deepest: usize,
}

/// `Err` when `doc` nests deeper than [`MAX_DEPTH`]; counted without recursion.
pub(crate) fn check_depth(doc: &Html) -> Result<(), TooDeep> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) if node.value().is_element() => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ego_tree::iter::Edge::Close(node) if node.value().is_element() => depth -= 1,
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        Err(TooDeep { deepest })
    } else {
        Ok(())
    }
}

/// Elements whose content is never text a reader sees.
pub(crate) fn is_invisible(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template" | "svg" | "head" | "title")
}

/// The text a reader sees in `el`: whitespace collapsed, invisible elements left out.
pub(crate) fn text_of(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    push_text(el, &mut out);
    collapse(&out)
}

fn push_text(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        if let Some(text) = child.value().as_text() {
            out.push_str(text);
        } else if let Some(child) = ElementRef::wrap(child) {
            if !is_invisible(child.value().name()) {
                // Block boundaries separate words even where the markup has no space.
                out.push(' ');
                push_text(child, out);
                out.push(' ');
            }
        }
    }
}

/// The text of `el` as [`text_of`] gives it, or `None` as soon as it grows past `limit` chars (or is
/// empty): deciding whether a block is a short counter or heading must not cost reading a whole page.
pub(crate) fn text_within(el: ElementRef<'_>, limit: usize) -> Option<String> {
    struct Bounded {
        out: String,
        chars: usize,
        limit: usize,
        space: bool,
    }
    impl Bounded {
        fn push(&mut self, s: &str) -> bool {
            for c in s.chars() {
                if c.is_whitespace() {
                    self.space = true;
                    continue;
                }
                if std::mem::take(&mut self.space) && !self.out.is_empty() {
                    self.out.push(' ');
                    self.chars += 1;
                }
                self.out.push(c);
                self.chars += 1;
                if self.chars > self.limit {
                    return false;
                }
            }
            true
        }
        fn element(&mut self, el: ElementRef<'_>) -> bool {
            el.children().all(|child| {
                if let Some(text) = child.value().as_text() {
                    self.push(text)
                } else if let Some(child) = ElementRef::wrap(child).filter(|c| !is_invisible(c.value().name())) {
                    self.space = true;
                    let fits = self.element(child);
                    self.space = true;
                    fits
                } else {
                    true
                }
            })
        }
    }
    let mut b = Bounded { out: String::new(), chars: 0, limit, space: false };
    (b.element(el) && !b.out.is_empty()).then_some(b.out)
}

/// Whitespace runs → one space, trimmed.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The URL relative links in the page resolve against: `<base href>` if present, else the page URL.
pub(crate) fn document_base(doc: &Html, page_url: &Url) -> Url {
    static_selector("base[href]")
        .and_then(|sel| doc.select(&sel).next())
        .and_then(|base| base.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone())
}

/// Resolves a link as written in the page; `None` for empty links, fragments of this page and schemes
/// a feed reader cannot open (`javascript:`, `data:`, `mailto:`).
pub(crate) fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    base.join(href).ok().filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
}

/// The image an `img` shows, lazy-loading attributes included: a `data:` placeholder in `src` is
/// skipped in favour of `data-src` and friends, then the first `srcset` candidate.
pub(crate) fn image_src<'a>(img: ElementRef<'a>) -> Option<&'a str> {
    let usable = |v: &&str| !v.trim().is_empty() && !v.trim_start().starts_with("data:");
    ["src", "data-src", "data-lazy-src", "data-original"].iter().filter_map(|a| img.attr(a)).find(usable).or_else(
        || {
            ["srcset", "data-srcset"]
                .iter()
                .filter_map(|a| img.attr(a))
                .find_map(|set| set.split(',').next()?.split_whitespace().next())
                .filter(usable)
        },
    )
}

/// Class and id split into lowercase words: `news-feed__date` → `news`, `feed`, `date`.
pub(crate) fn name_tokens(el: ElementRef<'_>) -> Vec<String> {
    let value = el.value();
    value
        .classes()
        .chain(value.id())
        .flat_map(|name| name.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Words that introduce a name in a byline (lowercase, with their punctuation).
#[rustfmt::skip]
const BYLINE_PREFIXES: &[&str] = &[
    "posted by", "written by", "by", "author:", "автор материала:", "авторы:", "автор:", "автор",
    "текст:", "дайындаған:", "авторы",
];

/// Longest text still taken for a name: a longer byline is a sentence, not an author.
const NAME_CHARS: usize = 80;

/// A person's name from a byline: `By Jane Doe · 6 min read` → `Jane Doe`, `Автор: Ирина Ковалёва` →
/// `Ирина Ковалёва`.
pub(crate) fn author_name(text: &str) -> Option<String> {
    let text = collapse(text);
    let head = text.split(['·', '|', '•']).next().unwrap_or_default().trim();
    let rest = BYLINE_PREFIXES
        .iter()
        .find_map(|p| {
            let (prefix, tail) = (head.get(..p.len())?, head.get(p.len()..)?);
            let ends = p.ends_with(':') || tail.is_empty() || tail.starts_with(char::is_whitespace);
            (prefix.to_lowercase() == *p && ends).then_some(tail)
        })
        .unwrap_or(head);
    let name = rest.trim().trim_matches(|c: char| matches!(c, ',' | ':' | '-' | '—')).trim();
    (!name.is_empty() && name.chars().count() <= NAME_CHARS).then(|| name.to_owned())
}

/// Selectors the code itself writes; a typo would be a bug, so a failure just finds nothing.
pub(crate) fn static_selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_selector_and_attribute() {
        let f = Field::parse("h3 a@href").unwrap();
        assert_eq!(f.attr(), Some("href"));
        assert_eq!(f.as_str(), "h3 a@href");
        assert_eq!(Field::parse("h3 a").unwrap().attr(), None);
        // An `@` inside an attribute value is part of the selector.
        let mail = Field::parse(r#"a[href^="mailto:x@y"]"#).unwrap();
        assert_eq!(mail.attr(), None);
        assert_eq!(Field::parse(r#"a[href*="@"]@href"#).unwrap().attr(), Some("href"));
        assert_eq!(Field::parse("meta[property='og:image']@content").unwrap().attr(), Some("content"));
    }

    #[test]
    fn bad_fields_say_what_is_wrong() {
        let err = |s: &str| Field::parse(s).unwrap_err().to_string();
        assert_eq!(err("h3 a@"), r#"invalid selector "h3 a@": nothing after '@': name an attribute"#);
        assert_eq!(err("@href"), r#"invalid selector "@href": no selector before '@'"#);
        assert_eq!(err("h3 a@1x"), r#"invalid selector "h3 a@1x": "1x" after '@' is not an attribute name"#);
        assert_eq!(err(""), r#"invalid selector "": empty selector"#);
        assert!(err("h3[").starts_with(r#"invalid selector "h3[": not valid CSS"#), "{}", err("h3["));
        assert!(err("div >> p").starts_with(r#"invalid selector "div >> p": "#), "{}", err("div >> p"));
    }

    #[test]
    fn text_is_what_a_reader_sees() {
        let doc = Html::parse_fragment("<div> a\n <b>b</b><script>x()</script><p>c</p>d </div>");
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        assert_eq!(text_of(div), "a b c d");
    }

    #[test]
    fn bounded_text_agrees_with_full_text() {
        let doc = Html::parse_fragment("<div> a\n <b>b</b><script>x()</script><p>c</p>d </div>");
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        assert_eq!(text_within(div, 7).as_deref(), Some("a b c d"));
        assert_eq!(text_within(div, 6), None);
        let empty = Html::parse_fragment("<div> <i></i> </div>");
        assert_eq!(text_within(empty.select(&Selector::parse("div").unwrap()).next().unwrap(), 5), None);
    }

    #[test]
    fn links_resolve_against_base() {
        let page = Url::parse("https://ex.org/news/list.html").unwrap();
        let doc = Html::parse_document(r#"<head><base href="/other/"></head>"#);
        let base = document_base(&doc, &page);
        assert_eq!(resolve(&base, "a.html").map(String::from), Some("https://ex.org/other/a.html".into()));
        assert_eq!(resolve(&base, "#top"), None);
        assert_eq!(resolve(&base, "javascript:void(0)"), None);
        assert_eq!(resolve(&base, "mailto:a@b"), None);
        assert_eq!(document_base(&Html::parse_document("<p>x"), &page), page);
    }

    #[test]
    fn bylines_become_names() {
        assert_eq!(author_name("By Jane Doe · Posted November 20, 2024").as_deref(), Some("Jane Doe"));
        assert_eq!(author_name("Автор: Ирина Ковалёва").as_deref(), Some("Ирина Ковалёва"));
        assert_eq!(author_name("  Абай  Мауқараұлы ").as_deref(), Some("Абай Мауқараұлы"));
        assert_eq!(author_name("Byron Katie").as_deref(), Some("Byron Katie"));
        assert_eq!(author_name("By "), None);
        assert_eq!(author_name(&"x".repeat(81)), None);
    }

    #[test]
    fn lazy_images_show_their_real_source() {
        let doc = Html::parse_fragment(
            r#"<img id=a src="data:image/gif;base64,R0" data-src="/real.jpg"><img id=b srcset="/s.jpg 1x, /l.jpg 2x"><img id=c>"#,
        );
        let src = |id: &str| image_src(doc.select(&Selector::parse(&format!("#{id}")).unwrap()).next().unwrap());
        assert_eq!(src("a"), Some("/real.jpg"));
        assert_eq!(src("b"), Some("/s.jpg"));
        assert_eq!(src("c"), None);
    }
}
