//! What a page says about itself in machine-readable form: JSON-LD (`<script type="application/ld+json">`)
//! and `<meta>` tags (Open Graph, `article:*`, Dublin Core, Parse.ly, Sailthru, `itemprop`). A parsed
//! page in, raw strings out; [`super::article`] decides which source wins.
//!
//! Publishers fill these for search engines and social cards, so they are cleaner than the visible
//! page (no counters, no header date) and are preferred to it, but they are only as good as the CMS
//! template: a missing or broken block is skipped (broken JSON with a warning), never fatal.

use scraper::{ElementRef, Html};
use serde_json::Value;

use super::selectors::{collapse, static_selector};

/// JSON-LD `@type`s whose object describes the story of the page.
#[rustfmt::skip]
const ARTICLE_TYPES: &[&str] = &[
    "Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
    "OpinionNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting", "TechArticle",
    "ScholarlyArticle", "Report", "SocialMediaPosting",
];

/// Meta names and properties holding the publication time, strongest first.
#[rustfmt::skip]
const PUBLISHED_META: &[&str] = &[
    "article:published_time", "og:published_time", "datepublished", "published_time",
    "pubdate", "publishdate", "publish-date", "publish_date", "dc.date.issued", "dcterms.issued",
    "dcterms.created", "dc.date", "dcterms.date", "parsely-pub-date", "sailthru.date", "date",
];

const AUTHOR_META: &[&str] = &["author", "article:author", "parsely-author", "sailthru.author", "dc.creator"];
const IMAGE_META: &[&str] = &["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"];

/// The page's own statements about itself, as written.
#[derive(Debug, Default)]
pub(crate) struct PageMeta {
    /// JSON-LD `headline` (or `name`) of the story object.
    pub headline: Option<String>,
    pub json_ld_published: Option<String>,
    /// The first of [`PUBLISHED_META`] found, or an `itemprop="datePublished"` element.
    pub meta_published: Option<String>,
    /// JSON-LD authors, then meta authors (URLs left out: `article:author` is often a profile link).
    pub authors: Vec<String>,
    /// `og:image`, JSON-LD `image`, `twitter:image`, in that order.
    pub image: Option<String>,
    pub og_title: Option<String>,
    pub site_name: Option<String>,
    pub title_tag: Option<String>,
    /// `<html lang>`.
    pub language: Option<String>,
    pub warnings: Vec<String>,
}

impl PageMeta {
    pub(crate) fn read(doc: &Html) -> PageMeta {
        let mut meta = PageMeta::default();
        let story = json_ld_story(doc, &mut meta.warnings);
        if let Some(story) = &story {
            meta.headline = string(story.get("headline")).or_else(|| string(story.get("name")));
            meta.json_ld_published = string(story.get("datePublished"));
            meta.authors = people(story.get("author"));
        }
        let tag = |keys: &[&str]| keys.iter().find_map(|k| meta_content(doc, k));
        meta.meta_published = tag(PUBLISHED_META).or_else(|| itemprop_date(doc));
        if meta.authors.is_empty() {
            meta.authors = AUTHOR_META
                .iter()
                .filter_map(|k| meta_content(doc, k))
                .find(|a| !a.contains("://"))
                .into_iter()
                .collect();
        }
        meta.image = tag(&IMAGE_META[..3])
            .or_else(|| story.as_ref().and_then(|s| image(s.get("image"))))
            .or_else(|| tag(&IMAGE_META[3..]));
        meta.og_title = tag(&["og:title", "twitter:title"]);
        meta.site_name = tag(&["og:site_name", "application-name"]);
        meta.title_tag = static_selector("title")
            .and_then(|sel| doc.select(&sel).next())
            .map(|t| collapse(&t.text().collect::<String>()))
            .filter(|t| !t.is_empty());
        meta.language = doc.root_element().attr("lang").map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
        meta
    }
}

/// `content` of the first `<meta>` whose `property`, `name` or `itemprop` is `key` (any case).
fn meta_content(doc: &Html, key: &str) -> Option<String> {
    let sel = static_selector("meta[content]")?;
    doc.select(&sel)
        .find(|m| {
            ["property", "name", "itemprop"]
                .iter()
                .any(|a| m.attr(a).is_some_and(|v| v.trim().eq_ignore_ascii_case(key)))
        })
        .and_then(|m| m.attr("content"))
        .map(collapse)
        .filter(|c| !c.is_empty())
}

/// `itemprop="datePublished"` on a visible element (`<time>`, `<span content=…>`).
fn itemprop_date(doc: &Html) -> Option<String> {
    let sel = static_selector("[itemprop=datePublished]")?;
    doc.select(&sel).find_map(|el: ElementRef<'_>| {
        let value = el
            .attr("content")
            .or_else(|| el.attr("datetime"))
            .map(collapse)
            .unwrap_or_else(|| collapse(&el.text().collect::<String>()));
        (!value.is_empty()).then_some(value)
    })
}

/// The first JSON-LD object describing an article, or failing that the first with a `datePublished`.
fn json_ld_story(doc: &Html, warnings: &mut Vec<String>) -> Option<Value> {
    let sel = static_selector("script")?;
    let mut objects = Vec::new();
    for (n, script) in doc
        .select(&sel)
        .filter(|s| s.attr("type").is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json")))
        .enumerate()
    {
        let text: String = script.text().collect();
        // CMS templates wrap JSON-LD in CDATA markers or HTML comments now and then.
        let json = text.trim().trim_start_matches("<![CDATA[").trim_end_matches("]]>").trim();
        match serde_json::from_str::<Value>(json) {
            Ok(value) => flatten(value, &mut objects),
            Err(e) => warnings.push(format!("JSON-LD block {} is not valid JSON ({e}); skipped", n + 1)),
        }
    }
    let is_story = |o: &Value| match o.get("@type") {
        Some(Value::String(t)) => ARTICLE_TYPES.contains(&t.as_str()),
        Some(Value::Array(ts)) => ts.iter().any(|t| t.as_str().is_some_and(|t| ARTICLE_TYPES.contains(&t))),
        _ => false,
    };
    let first =
        objects.iter().position(is_story).or_else(|| objects.iter().position(|o| o.get("datePublished").is_some()));
    first.map(|i| objects.swap_remove(i))
}

/// Top-level objects, array items and `@graph` members, in document order.
fn flatten(value: Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out)),
        Value::Object(mut map) => {
            let graph = map.remove("@graph");
            out.push(Value::Object(map));
            if let Some(graph) = graph {
                flatten(graph, out);
            }
        }
        _ => {}
    }
}

fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(collapse(s)).filter(|s| !s.is_empty()),
        Value::Array(items) => items.iter().find_map(|i| string(Some(i))),
        _ => None,
    }
}

/// `"Jane"`, `{"name": "Jane"}`, or a list of either; each name once.
fn people(v: Option<&Value>) -> Vec<String> {
    let mut names: Vec<String> = match v {
        Some(Value::Array(items)) => items.iter().flat_map(|i| people(Some(i))).collect(),
        Some(Value::Object(o)) => string(o.get("name")).into_iter().collect(),
        Some(Value::String(s)) if !s.contains("://") => string(v).into_iter().collect(),
        _ => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// `"url"`, `{"url": "…"}`, or a list of either: the first.
fn image(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Object(o) => image(o.get("url").or_else(|| o.get("contentUrl"))),
        Value::Array(items) => items.iter().find_map(|i| image(Some(i))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_story_is_found_in_graphs_and_lists() {
        let doc = Html::parse_document(
            r#"<html lang="en"><head>
            <script type="application/ld+json">{"@type":"Organization","name":"Site"}</script>
            <script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":["NewsArticle"],
              "headline":" A  story ","datePublished":"2024-11-20T09:30:00-05:00",
              "author":[{"name":"A"},"B","https://ex.org/c",{"name":"A"}],"image":{"url":"/i.jpg"}}]}</script>
            <script type="application/ld+json">{ broken</script>
            <meta property="article:published_time" content="2024-11-20T14:30:00Z">
            <meta property="og:title" content="A story | Site"></head></html>"#,
        );
        let meta = PageMeta::read(&doc);
        assert_eq!(meta.headline.as_deref(), Some("A story"));
        assert_eq!(meta.json_ld_published.as_deref(), Some("2024-11-20T09:30:00-05:00"));
        assert_eq!(meta.meta_published.as_deref(), Some("2024-11-20T14:30:00Z"));
        assert_eq!(meta.authors, ["A", "B"]);
        assert_eq!(meta.image.as_deref(), Some("/i.jpg"));
        assert_eq!(meta.og_title.as_deref(), Some("A story | Site"));
        assert_eq!(meta.language.as_deref(), Some("en"));
        assert_eq!(meta.warnings.len(), 1, "{:?}", meta.warnings);
        assert!(meta.warnings[0].starts_with("JSON-LD block 3 is not valid JSON"), "{:?}", meta.warnings);
    }

    #[test]
    fn meta_tags_fill_in_without_json_ld() {
        let doc = Html::parse_document(
            r#"<meta name="author" content="https://fb.com/x"><meta property="article:author" content="Dana">
            <span itemprop="datePublished" content="2019-07-11">11 July</span>"#,
        );
        let meta = PageMeta::read(&doc);
        assert_eq!(meta.authors, ["Dana"], "an author that is a URL is a profile link, not a name");
        assert_eq!(meta.meta_published.as_deref(), Some("2019-07-11"));
    }
}
