//! `index.html`: a [`SiteDoc`] in, the human-readable front page of the output folder out.
//!
//! One self-contained HTML5 file (inline CSS, no JavaScript, no external assets) so it works from any
//! static host or straight from disk: the site's title and description, then per category its title,
//! description, entry count, links to its three feeds and its sources. The `<head>` carries one
//! `<link rel="alternate">` per feed so readers pointed at the site find every feed on their own. All
//! paths are relative, as the output folder may be served under any prefix.
//!
//! Source site URLs come from the feeds themselves, so they are untrusted: only `http(s)` ones become
//! links (a `javascript:` URL would otherwise run on click). Everything is escaped. Feed URLs are shown
//! as text, not links: many are local paths.

use chrono::{DateTime, Utc};

use super::fmt::{element, push_attr, push_rfc3339, push_text, web_url};
use super::{CategoryRef, SiteDoc, SourceRef, GENERATOR};

const STYLE: &str = "\
:root{color-scheme:light dark}\
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem}\
h1{margin-bottom:.25rem}\
section{border-top:1px solid #8884;padding:.5rem 0}\
h2{margin:.5rem 0 .25rem}\
.meta,footer{color:#888;font-size:.9rem}\
ul{padding-left:1.25rem}\
code{font-size:.85rem;word-break:break-all}";

/// The three feeds of a category: path, MIME type, label.
fn feeds(category: &CategoryRef) -> [(&str, &'static str, &'static str); 3] {
    [
        (&category.rss_path, "application/rss+xml", "RSS"),
        (&category.atom_path, "application/atom+xml", "Atom"),
        (&category.json_path, "application/feed+json", "JSON Feed"),
    ]
}

/// Renders `site` as an HTML5 page, ending in a newline.
pub fn render(site: &SiteDoc) -> String {
    let mut out = String::with_capacity(4096 + site.categories.len() * 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    element(&mut out, "", "title", site.title);
    if let Some(description) = site.description {
        out.push_str("<meta name=\"description\" content=\"");
        push_attr(&mut out, description);
        out.push_str("\">\n");
    }
    out.push_str("<meta name=\"generator\" content=\"");
    push_attr(&mut out, GENERATOR);
    out.push_str("\">\n");
    for category in site.categories {
        for (path, mime, label) in feeds(category) {
            out.push_str("<link rel=\"alternate\" type=\"");
            out.push_str(mime);
            out.push_str("\" href=\"");
            push_attr(&mut out, path);
            out.push_str("\" title=\"");
            push_attr(&mut out, &category.title);
            out.push_str(" (");
            out.push_str(label);
            out.push_str(")\">\n");
        }
    }
    out.push_str("<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n");
    element(&mut out, "", "h1", site.title);
    if let Some(description) = site.description {
        element(&mut out, "", "p", description);
    }
    if site.updated > DateTime::<Utc>::UNIX_EPOCH {
        out.push_str("<p class=\"meta\">Newest entry: <time datetime=\"");
        push_rfc3339(&mut out, site.updated);
        out.push_str("\">");
        out.push_str(&site.updated.format("%Y-%m-%d %H:%M UTC").to_string());
        out.push_str("</time></p>\n");
    }
    out.push_str("</header>\n<main>\n");
    for category in site.categories {
        section(&mut out, category);
    }
    out.push_str("</main>\n<footer><p>Made by ");
    push_text(&mut out, GENERATOR);
    out.push_str(".</p></footer>\n</body>\n</html>\n");
    out
}

fn section(out: &mut String, category: &CategoryRef) {
    out.push_str("<section id=\"");
    push_attr(out, &category.slug);
    out.push_str("\">\n");
    element(out, "", "h2", &category.title);
    if let Some(description) = &category.description {
        element(out, "", "p", description);
    }
    out.push_str("<p class=\"meta\">");
    out.push_str(&category.entry_count.to_string());
    out.push_str(if category.entry_count == 1 { " entry" } else { " entries" });
    for (path, mime, label) in feeds(category) {
        out.push_str(" · <a href=\"");
        push_attr(out, path);
        out.push_str("\" type=\"");
        out.push_str(mime);
        out.push_str("\">");
        out.push_str(label);
        out.push_str("</a>");
    }
    out.push_str("</p>\n");
    if !category.sources.is_empty() {
        out.push_str("<ul>\n");
        for source in &category.sources {
            source_item(out, source);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn source_item(out: &mut String, source: &SourceRef) {
    out.push_str("<li>");
    match source.site_url.as_deref().and_then(web_url) {
        Some(url) => {
            out.push_str("<a href=\"");
            push_attr(out, url);
            out.push_str("\">");
            push_text(out, &source.name);
            out.push_str("</a>");
        }
        None => push_text(out, &source.name),
    }
    if let Some(title) = source.title.as_deref().filter(|t| *t != source.name) {
        out.push_str(" — ");
        push_text(out, title);
    }
    out.push_str("<br><code>");
    push_text(out, &source.feed_url);
    out.push_str("</code></li>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_support::{categories, site, unversioned};

    #[test]
    fn site_page() {
        let categories = categories();
        let out = render(&site(&categories));
        assert_eq!(out, render(&site(&categories)), "byte-stable");
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("index_html_basic", unversioned(&out));
        });
    }

    #[test]
    fn autodiscovery_links_and_no_unsafe_links() {
        let categories = categories();
        let out = render(&site(&categories));
        assert_eq!(out.matches("<link rel=\"alternate\"").count(), 9);
        assert!(out.contains("type=\"application/feed+json\" href=\"ru-news/feed.json\""));
        assert!(!out.contains("javascript:"));
        assert!(!out.contains("<script") && !out.contains('\u{1}'));
    }

    #[test]
    fn empty_site_shows_no_date() {
        let out = render(&SiteDoc { title: "t", description: None, categories: &[], updated: DateTime::UNIX_EPOCH });
        assert!(!out.contains("<time"));
        assert!(out.ends_with("</html>\n"));
    }
}
