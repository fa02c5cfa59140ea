//! Sanitized HTML, the one thing feedmill republishes from strangers. Properties: once the output is
//! parsed again the way a browser would, nothing in it can run: no `<script>`, no `on*` handler, no
//! `javascript:`/`vbscript:`/`data:` URL in an attribute a browser follows; and whenever the
//! sanitizer's fast path reads a fragment, its output is ammonia's, byte for byte.
//!
//! Input: the first byte picks the base URL (none, or a page); the rest is the fragment (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scraper::{Html, Node};
use url::Url;

/// Attributes whose value a browser loads or navigates to.
const URL_ATTRIBUTES: &[&str] =
    &["href", "src", "srcset", "poster", "action", "formaction", "cite", "background", "data", "xlink:href"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let html = String::from_utf8_lossy(rest);
    let page = Url::parse("https://abai.kz/post/95211").expect("static URL");
    let base = (pick % 2 == 1).then_some(&page);
    if let Some((fast, ammonia)) = feedmill::normalize::html::fast_and_ammonia(&html, base) {
        assert_eq!(fast, ammonia, "the fast path differs from ammonia on {html:?}");
    }
    let Some(clean) = feedmill::normalize::html::sanitize(&html, base) else {
        return;
    };
    assert!(!clean.trim().is_empty(), "Some(\"\") for {html:?}");
    assert_inert(&clean, &html);
    // Sanitizing twice must still be inert, and must not panic.
    let twice = feedmill::normalize::html::sanitize(&clean, base);
    if let Some(twice) = &twice {
        assert_inert(twice, &clean);
    }
    if check_idempotence() {
        assert_eq!(twice.as_deref(), Some(clean.as_str()), "sanitize is not idempotent on {html:?}");
    }
});

/// `FUZZ_SANITIZE_IDEMPOTENT=1` also asserts sanitize(sanitize(x)) == sanitize(x). Off by default: it does
/// not hold (see README.md), and a harmless difference would hide the findings that matter.
fn check_idempotence() -> bool {
    static CHECK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHECK.get_or_init(|| std::env::var_os("FUZZ_SANITIZE_IDEMPOTENT").is_some_and(|v| v == "1"))
}

fn assert_inert(clean: &str, input: &str) {
    let doc = Html::parse_fragment(clean);
    for node in doc.tree.nodes() {
        let Node::Element(el) = node.value() else { continue };
        let name = el.name();
        assert!(
            !matches!(name, "script" | "iframe" | "object" | "embed" | "frame" | "frameset" | "base" | "meta"),
            "<{name}> in {clean:?} from {input:?}"
        );
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            assert!(!attr.starts_with("on"), "{attr}= on <{name}> in {clean:?} from {input:?}");
            assert!(attr != "style" && attr != "formaction", "{attr}= on <{name}> in {clean:?} from {input:?}");
            if URL_ATTRIBUTES.contains(&attr.as_str()) {
                let urls = if attr == "srcset" { srcset_urls(value) } else { vec![value] };
                for u in urls {
                    let scheme = url_scheme(u);
                    assert!(
                        !matches!(scheme.as_deref(), Some("javascript" | "vbscript" | "data")),
                        "{attr}={value:?} on <{name}> in {clean:?} from {input:?}"
                    );
                }
            }
        }
    }
}

/// The scheme a browser would see: it drops leading C0 controls and spaces, and tabs and newlines
/// anywhere (WHATWG URL), before looking for the first `:`.
fn url_scheme(value: &str) -> Option<String> {
    let squeezed: String =
        value.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let (scheme, _) = squeezed.split_once(':')?;
    Some(scheme.to_ascii_lowercase())
}

/// The candidate URLs of a `srcset`, split as the HTML standard says: a URL runs to whitespace (a
/// trailing comma ends it early), its descriptors to the next comma.
fn srcset_urls(set: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = set;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return urls;
        }
        let end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let url = &rest[..end];
        urls.push(url.trim_end_matches(','));
        rest = &rest[end..];
        if !url.ends_with(',') {
            rest = rest.find(',').map_or("", |comma| &rest[comma..]);
        }
    }
}
