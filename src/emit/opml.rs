//! OPML 2.0 (`sources.opml`): a [`SiteDoc`] in, the subscription list out, so a reader can import every
//! source feedmill follows, grouped as it is.
//!
//! Each category becomes a folder outline (`text` = its title) holding one `type="rss"` outline per
//! source: `text` and `title` = the feed's title when known, else the source's name; `xmlUrl` = the URL
//! or path feedmill reads (a source with `publish_url = false` has no outline: OPML 2.0 requires
//! `xmlUrl` on `type="rss"` outlines, and an outline without one would import as nothing); `htmlUrl` = the site, when known and `http(s)` (it comes from the feed, and importers may
//! make it a link). `all` is not a folder, since it would repeat
//! every source: only its sources that appear in no other category are listed, at the top level, so
//! none is lost. `dateModified` is `site.updated` (the newest entry), never the clock.
//!
//! Two attributes of our own make `feedmill import-opml` give back what was exported:
//! `feedmill:category` on a folder is the category's slug, `feedmill:name` on a feed is the source's
//! name. They are in a namespace of their own ([`NAMESPACE`], declared on `<opml>`), as OPML 2.0 asks
//! of extension attributes (undeclared ones are errors for the W3C Feed Validator); other readers
//! ignore them. `xmlUrl` is the source's URL as it may be published (redacted by the pipeline: no
//! credentials).

use std::collections::HashSet;

use super::fmt::{element, push_attr, push_rfc822, web_url};
use super::{SiteDoc, SourceRef};

/// The namespace of feedmill's own OPML attributes. A name, not a document to fetch: it must never
/// change, or exported lists would stop round-tripping.
pub const NAMESPACE: &str = "https://github.com/feedmill/feedmill#opml";

/// Renders `site` as an OPML 2.0 document, ending in a newline.
pub fn render(site: &SiteDoc) -> String {
    let mut out = String::with_capacity(1024 + site.categories.len() * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<opml version=\"2.0\" xmlns:feedmill=\"");
    out.push_str(NAMESPACE);
    out.push_str("\">\n");
    out.push_str("  <head>\n");
    element(&mut out, "    ", "title", site.title);
    out.push_str("    <dateModified>");
    push_rfc822(&mut out, site.updated);
    out.push_str("</dateModified>\n");
    out.push_str("  </head>\n");
    out.push_str("  <body>\n");
    let (all, folders): (Vec<_>, Vec<_>) = site.categories.iter().partition(|c| c.slug == "all");
    for category in &folders {
        out.push_str("    <outline text=\"");
        push_attr(&mut out, &category.title);
        out.push_str("\" feedmill:category=\"");
        push_attr(&mut out, &category.slug);
        out.push_str("\">\n");
        for source in &category.sources {
            outline(&mut out, "      ", source);
        }
        out.push_str("    </outline>\n");
    }
    // A set only answers membership; the output order is the categories' order.
    let in_folder: HashSet<&str> = folders.iter().flat_map(|c| &c.sources).map(|s| s.name.as_str()).collect();
    for source in all.iter().flat_map(|c| &c.sources).filter(|s| !in_folder.contains(s.name.as_str())) {
        outline(&mut out, "    ", source);
    }
    out.push_str("  </body>\n");
    out.push_str("</opml>\n");
    out
}

fn outline(out: &mut String, indent: &str, source: &SourceRef) {
    let Some(feed_url) = &source.feed_url else { return };
    let text = source.title.as_deref().unwrap_or(&source.name);
    out.push_str(indent);
    out.push_str("<outline type=\"rss\" text=\"");
    push_attr(out, text);
    out.push_str("\" title=\"");
    push_attr(out, text);
    out.push_str("\" xmlUrl=\"");
    push_attr(out, feed_url);
    out.push_str("\" feedmill:name=\"");
    push_attr(out, &source.name);
    out.push('"');
    if let Some(site_url) = source.site_url.as_deref().and_then(web_url) {
        out.push_str(" htmlUrl=\"");
        push_attr(out, site_url);
        out.push('"');
    }
    out.push_str("/>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{assert_well_formed, categories, site, sources};

    #[test]
    fn site_outline() {
        let (categories, sources) = (categories(), sources());
        let out = render(&site(&categories, &sources));
        assert_well_formed(&out);
        assert_eq!(out, render(&site(&categories, &sources)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("opml_basic", out);
        });
    }

    #[test]
    fn all_is_no_folder_but_loses_no_source() {
        let (categories, sources) = (categories(), sources());
        let out = render(&site(&categories, &sources));
        assert!(!out.contains("text=\"All\""));
        assert_eq!(out.matches("xmlUrl=").count(), 4, "{out}");
        assert_eq!(out.matches("xmlUrl=\"https://abai.kz/rss\"").count(), 1);
    }

    /// Extension attributes are namespaced, and the namespace is declared (the W3C validator's rule).
    #[test]
    fn extension_attributes_are_in_a_declared_namespace() {
        let (categories, sources) = (categories(), sources());
        let out = render(&site(&categories, &sources));
        assert!(out.contains("<opml version=\"2.0\" xmlns:feedmill=\"https://github.com/feedmill/feedmill#opml\">"));
        assert!(out.contains(" feedmill:name=\"abai\"") && out.contains(" feedmill:category=\"kz-news\""), "{out}");
        assert!(!out.contains("feedmillName") && !out.contains("feedmillCategory"));
    }

    #[test]
    fn a_source_without_a_published_url_has_no_outline() {
        let mut categories = categories();
        for c in &mut categories {
            for s in c.sources.iter_mut().filter(|s| s.name == "abai") {
                s.feed_url = None;
            }
        }
        let out = render(&site(&categories, &sources()));
        assert_well_formed(&out);
        assert_eq!(out.matches("xmlUrl=").count(), 3, "{out}");
        assert!(!out.contains("feedmill:name=\"abai\"") && !out.contains("abai.kz/rss"), "{out}");
    }
}
