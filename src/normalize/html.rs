//! Sanitized HTML for summaries and content: what a feed reader may render without running anything.
//!
//! ammonia (html5ever underneath) parses the fragment the way a browser would, keeps an allowlist of
//! tags and attributes, drops `script`/`style` with their content, event handlers and `javascript:`
//! (and every other non-allowlisted) URL scheme, and rewrites relative URLs against the entry's base so
//! images and links keep working once the HTML is moved into another feed.

use std::borrow::Cow;
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
    // ammonia checks schemes and resolves only the attributes it knows hold one URL (href, src, poster,
    // …); `srcset` (a list of them) and `cite` pass through untouched unless filtered here.
    let filter_base = base.cloned();
    builder.attribute_filter(move |_element, attribute, value| match attribute {
        "srcset" => absolute_srcset(filter_base.as_ref(), value).map(Cow::Owned),
        "cite" => super::urls::resolve(filter_base.as_ref(), value).map(|u| Cow::Owned(u.into())),
        _ => Some(Cow::Borrowed(value)),
    });
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

/// A `srcset` with every candidate's URL made absolute against `base`; candidates whose URL is not
/// http(s) (or is relative with no base) are dropped, and `None` when none is left. Candidates are split
/// as the HTML standard does (a URL ends at whitespace, its descriptors at a comma), so a comma inside a
/// URL (`w_300,c_fill/a.jpg`, common on image CDNs) does not cut it in two.
fn absolute_srcset(base: Option<&Url>, set: &str) -> Option<String> {
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

    /// Found by `cargo fuzz run sanitize`: ammonia checks only single-URL attributes, so a `srcset`
    /// kept `javascript:` and `data:` candidates, and its relative URLs stayed relative.
    #[test]
    fn srcset_candidates_are_resolved_and_checked() {
        let clean = sanitize(r#"<img srcset="a.jpg 1x, javascript:alert(1) 2x">"#, Some(&base())).unwrap();
        assert_eq!(clean, r#"<img srcset="https://abai.kz/post/a.jpg 1x">"#);
        let clean = sanitize(r#"<img srcset="data:image/png;base64,AAAA 1x, /b.jpg 2x">"#, Some(&base())).unwrap();
        assert_eq!(clean, r#"<img srcset="https://abai.kz/b.jpg 2x">"#);
        // A comma inside a URL (image CDNs) does not split it; one ending a URL does.
        let clean =
            sanitize(r#"<img srcset="/w_300,c_fill/a.jpg 300w,/w_600,c_fill/a.jpg 600w, b.jpg,c.jpg">"#, Some(&base()))
                .unwrap();
        assert_eq!(
            clean,
            r#"<img srcset="https://abai.kz/w_300,c_fill/a.jpg 300w, https://abai.kz/w_600,c_fill/a.jpg 600w, https://abai.kz/post/b.jpg,c.jpg">"#
        );
        // Nothing left, or no base for relative candidates: the attribute goes.
        assert_eq!(sanitize(r#"<img src="/a.jpg" srcset="a.jpg 1x">x"#, None).unwrap(), "<img>x");
        assert_eq!(sanitize(r#"<img srcset="javascript:x 1x">x"#, Some(&base())).unwrap(), "<img>x");
        assert_eq!(sanitize(r#"<img srcset="a.jpg onerror=x">x"#, Some(&base())).unwrap(), "<img>x");
    }

    #[test]
    fn cite_is_resolved_and_checked() {
        let clean = sanitize(r#"<q cite="javascript:alert(1)">a</q><q cite="/src">b</q>"#, Some(&base())).unwrap();
        assert_eq!(clean, r#"<q>a</q><q cite="https://abai.kz/src">b</q>"#);
    }

    #[test]
    fn nothing_visible_is_none() {
        assert_eq!(sanitize("  ", None), None);
        assert_eq!(sanitize("<script>alert(1)</script>", None), None);
        assert!(sanitize(r#"<img src="https://x.example/a.png">"#, None).is_some());
    }
}
