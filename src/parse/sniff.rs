//! Which format a document is, from its content alone.
//!
//! In: decoded text (BOM already removed). Out: the format and where the XML worth reading starts,
//! or why the document is not a feed. Servers label feeds `text/html`, `text/plain` or
//! `application/octet-stream` and URLs say nothing, so like Miniflux we look at the document: the
//! first element after the prolog (declaration, comments, DOCTYPE) decides, whatever the DOCTYPE says
//! (an `<rss>` after an XHTML DOCTYPE is a feed). Two recoveries: PHP
//! notices or a stray byte before `<?xml` (junk before the root: we skip to the declaration or to a
//! feed root further on), and HTML pages, which are reported as such so the user learns they gave
//! a page's URL rather than its feed's.

use super::lexical::{doctype_end, is_name_start, starts_with_ignore_case};
use super::ParseError;
use crate::model::FeedFormat;

/// What [`detect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    Json,
    Xml {
        format: FeedFormat,
        /// Byte offset where reading should start (past any junk).
        start: usize,
        /// Whether non-markup text before the root was skipped.
        junk: bool,
    },
}

/// The first thing after the prolog.
enum First<'t> {
    Element {
        name: &'t str,
        html_doctype: bool,
    },
    /// Text that is not markup.
    Junk,
    Nothing,
}

pub(crate) fn detect(text: &str) -> Result<Detected, ParseError> {
    let body = text.trim_start();
    match body.as_bytes().first() {
        None => return Err(ParseError::Empty),
        Some(b'{' | b'[') => return Ok(Detected::Json),
        Some(_) => {}
    }
    let found = match first_element(text, text.len() - body.len()) {
        First::Element { name, html_doctype } => {
            // The root decides: feeds written by XHTML tooling carry an XHTML DOCTYPE before `<rss>`.
            if let Some(format) = root_format(name) {
                return Ok(Detected::Xml { format, start: 0, junk: false });
            }
            if html_doctype || name.eq_ignore_ascii_case("html") {
                return Err(not_a_feed("an HTML page"));
            }
            let local = name.rsplit(':').next().unwrap_or(name);
            if ["urlset", "sitemapindex"].iter().any(|s| local.eq_ignore_ascii_case(s)) {
                format!("a sitemap (<{name}>): read it with kind = \"sitemap\"")
            } else {
                format!("a <{name}> document")
            }
        }
        First::Junk if !body.starts_with('<') => "plain text, not XML or JSON".to_owned(),
        First::Junk => "text with broken markup".to_owned(),
        First::Nothing => "XML without any element".to_owned(),
    };
    feed_further_on(text).ok_or(ParseError::NotAFeed { found })
}

fn not_a_feed(found: &str) -> ParseError {
    ParseError::NotAFeed { found: found.to_owned() }
}

fn root_format(qname: &str) -> Option<FeedFormat> {
    let local = qname.rsplit(':').next().unwrap_or(qname);
    if local.eq_ignore_ascii_case("rss") {
        Some(FeedFormat::Rss)
    } else if local.eq_ignore_ascii_case("rdf") {
        Some(FeedFormat::Rdf)
    } else if local == "feed" {
        Some(FeedFormat::Atom)
    } else {
        None
    }
}

/// Skips the prolog from `at` and returns the first element's name.
fn first_element(text: &str, mut at: usize) -> First<'_> {
    let bytes = text.as_bytes();
    let mut html_doctype = false;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let rest = &bytes[at..];
        if rest.is_empty() {
            return First::Nothing;
        }
        let skip_past = |end: &str| text[at..].find(end).map(|i| at + i + end.len());
        let next = if rest.starts_with(b"<?") {
            skip_past("?>")
        } else if rest.starts_with(b"<!--") {
            skip_past("-->")
        } else if starts_with_ignore_case(rest, b"<!DOCTYPE") {
            html_doctype = starts_with_ignore_case(text[at + 9..].trim_start().as_bytes(), b"html");
            Some(doctype_end(bytes, at))
        } else if rest.len() > 1 && rest[0] == b'<' && is_name_start(rest[1]) {
            let name = &text[at + 1..];
            let end = name.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').unwrap_or(name.len());
            return First::Element { name: &name[..end], html_doctype };
        } else {
            return First::Junk;
        };
        match next {
            Some(n) => at = n,
            None => return First::Nothing,
        }
    }
}

/// Recovers a feed preceded by junk: from an XML declaration further on, or a feed root element.
fn feed_further_on(text: &str) -> Option<Detected> {
    if let Some(decl) = text.find("<?xml") {
        if let First::Element { name, .. } = first_element(text, decl) {
            if let Some(format) = root_format(name) {
                return Some(Detected::Xml { format, start: decl, junk: decl > 0 });
            }
        }
    }
    ["<rss", "<feed", "<rdf:RDF"]
        .iter()
        .filter_map(|tag| {
            text.match_indices(tag)
                .find(|(i, _)| text[i + tag.len()..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>'))
                .map(|(i, _)| i)
        })
        .min()
        .and_then(|start| {
            let First::Element { name, .. } = first_element(text, start) else { return None };
            root_format(name).map(|format| Detected::Xml { format, start, junk: start > 0 })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(format: FeedFormat, start: usize, junk: bool) -> Detected {
        Detected::Xml { format, start, junk }
    }

    fn not_a_feed_text(text: &str) -> String {
        match detect(text) {
            Err(ParseError::NotAFeed { found }) => found,
            other => panic!("expected NotAFeed, got {other:?}"),
        }
    }

    #[test]
    fn detects_each_format_from_its_root() {
        assert_eq!(detect(r#"<rss version="2.0"><channel/></rss>"#).ok(), Some(xml(FeedFormat::Rss, 0, false)));
        let rdf = r#"<?xml version="1.0"?><!-- hi --><rdf:RDF xmlns:rdf="x"/>"#;
        assert_eq!(detect(rdf).ok(), Some(xml(FeedFormat::Rdf, 0, false)));
        let atom =
            "<?xml version='1.0'?>\n<!DOCTYPE feed [<!ENTITY a 'b'>]>\n<feed xmlns='http://www.w3.org/2005/Atom'/>";
        assert_eq!(detect(atom).ok(), Some(xml(FeedFormat::Atom, 0, false)));
        assert_eq!(detect("  \n{\"version\": 1}").ok(), Some(Detected::Json));
    }

    #[test]
    fn the_root_decides_whatever_the_doctype() {
        let xhtml = "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n<rss version=\"2.0\"/>";
        assert_eq!(detect(xhtml).ok(), Some(xml(FeedFormat::Rss, 0, false)));
        let atom = "<!DOCTYPE html><feed xmlns=\"http://www.w3.org/2005/Atom\"/>";
        assert_eq!(detect(atom).ok(), Some(xml(FeedFormat::Atom, 0, false)));
    }

    #[test]
    fn empty_and_blank_documents_are_empty() {
        assert!(matches!(detect(""), Err(ParseError::Empty)));
        assert!(matches!(detect(" \r\n\t"), Err(ParseError::Empty)));
    }

    #[test]
    fn html_pages_and_other_xml_are_not_feeds() {
        assert_eq!(not_a_feed_text("<!DOCTYPE html>\n<html><head><link rel=alternate></head></html>"), "an HTML page");
        assert_eq!(not_a_feed_text("<HTML><body>hi</body></HTML>"), "an HTML page");
        assert_eq!(not_a_feed_text("<!DOCTYPE html><body>hi</body>"), "an HTML page");
        assert_eq!(
            not_a_feed_text("<?xml version='1.0'?><urlset/>"),
            "a sitemap (<urlset>): read it with kind = \"sitemap\""
        );
        assert_eq!(
            not_a_feed_text("<sm:sitemapindex xmlns:sm='x'/>"),
            "a sitemap (<sm:sitemapindex>): read it with kind = \"sitemap\""
        );
        assert_eq!(not_a_feed_text("<?xml version='1.0'?><svg/>"), "a <svg> document");
        assert_eq!(not_a_feed_text("Service unavailable"), "plain text, not XML or JSON");
        assert_eq!(not_a_feed_text("<?xml version='1.0'?>"), "XML without any element");
    }

    #[test]
    fn skips_junk_before_the_root() {
        let php =
            "<br />\n<b>Warning</b>: session_start() in x.php<br />\n<?xml version=\"1.0\"?>\n<rss version=\"2.0\"/>";
        let decl = php.find("<?xml").unwrap_or_default();
        assert_eq!(detect(php).ok(), Some(xml(FeedFormat::Rss, decl, true)));
        let stray = "ï»¿\n<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>";
        assert_eq!(detect(stray).ok(), Some(xml(FeedFormat::Atom, stray.find("<feed").unwrap_or_default(), true)));
    }
}
