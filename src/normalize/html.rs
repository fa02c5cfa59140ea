//! Sanitized HTML for summaries and content: what a feed reader may render without running anything.
//!
//! ammonia (html5ever underneath) parses the fragment the way a browser would, keeps an allowlist of
//! tags and attributes, drops `script`/`style` with their content, event handlers and `javascript:`
//! (and every other non-allowlisted) URL scheme, and rewrites relative URLs against the entry's base so
//! images and links keep working once the HTML is moved into another feed.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use url::Url;

/// Sanitizes an HTML fragment. Returns `None` when nothing visible is left (an empty string, or a
/// fragment that only held a script).
pub fn sanitize(html: &str, base: Option<&Url>) -> Option<String> {
    if html.trim().is_empty() {
        return None;
    }
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
    builder.url_relative(match base {
        Some(base) => UrlRelative::RewriteWithBase(base.clone()),
        // Without a base a relative URL cannot be made absolute; dropping it beats a broken link.
        None => UrlRelative::Deny,
    });
    let clean = builder.clean(html).to_string();
    let clean = clean.trim();
    let visible = !super::text::html_to_text(clean).is_empty()
        || ["<img", "<video", "<audio", "<picture", "<hr"].iter().any(|t| clean.contains(t));
    visible.then(|| clean.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://abai.kz/post/95211").unwrap()
    }

    #[test]
    fn removes_active_content() {
        let dirty = r#"<p onclick="x()">Сәлем<script>alert(1)</script></p><img src="a.jpg" onerror="alert(2)"><a href="javascript:alert(3)">link</a><iframe src="https://evil.example/"></iframe><form action="/x"><input></form><style>p{}</style>"#;
        let clean = sanitize(dirty, Some(&base())).unwrap();
        for bad in ["script", "onclick", "onerror", "javascript:", "iframe", "<form", "<input", "<style", "alert"] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains("Сәлем"));
        assert!(clean.contains(r#"<img src="https://abai.kz/post/a.jpg">"#), "{clean}");
    }

    #[test]
    fn resolves_relative_urls_against_the_base() {
        let clean = sanitize(r#"<a href="/news/1">x</a>"#, Some(&base())).unwrap();
        assert_eq!(clean, r#"<a href="https://abai.kz/news/1" rel="noopener noreferrer">x</a>"#);
    }

    #[test]
    fn without_a_base_relative_urls_are_dropped() {
        assert_eq!(sanitize(r#"<a href="/news/1">x</a>"#, None).unwrap(), r#"<a rel="noopener noreferrer">x</a>"#);
    }

    #[test]
    fn nothing_visible_is_none() {
        assert_eq!(sanitize("  ", None), None);
        assert_eq!(sanitize("<script>alert(1)</script>", None), None);
        assert!(sanitize(r#"<img src="https://x.example/a.png">"#, None).is_some());
    }
}
