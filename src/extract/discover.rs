//! A home page in, what to subscribe to out: the feeds the page advertises ([`discover`]), or, when it
//! advertises none, a ready-to-edit `feeds.toml` block that reads the page itself ([`skeleton`]).
//!
//! Advertised feeds are `<link rel="alternate">` elements whose `type` is RSS, RDF, Atom or JSON Feed
//! (the convention every browser and reader follows); hrefs resolve against `<base href>`, duplicates
//! go. The skeleton finds the page's story list as the richest group of three or more sibling elements
//! of one tag, outside the chrome, each with a titled link (richer: a heading, an image, a summary, a
//! date). Selectors are built from tag names and stable class names (no digits, so `post-95211` is
//! never used), and the block's comments say what they matched, so the user can check at a glance.
//!
//! Before guessing selectors, the caller asks the site's `robots.txt` for its sitemaps
//! ([`robots_sitemaps`]): a news sitemap is a feed in all but name and outlives the next redesign, so
//! when the site names one, [`sitemap_skeleton`] writes a `kind = "sitemap"` block instead.

use std::collections::{BTreeMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use serde::Serialize;
use url::Url;

use super::listing::guess_next;
use super::noise::chrome;
use super::selectors::{check_depth, document_base, name_tokens, resolve, static_selector, text_of};
use crate::normalize::dates::{parse_date, DateContext};

/// A feed format a page can advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    Rss,
    Atom,
    Json,
}

/// A feed a page points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advertised {
    pub url: Url,
    pub kind: FeedKind,
    pub title: Option<String>,
}

/// The feeds a page advertises, in page order, each URL once.
pub fn discover(html: &str, page_url: &Url) -> Vec<Advertised> {
    let doc = Html::parse_document(html);
    let base = document_base(&doc, page_url);
    let Some(sel) = static_selector("link[rel][href][type]") else { return Vec::new() };
    let mut seen = HashSet::new();
    doc.select(&sel)
        .filter(|link| {
            let rel = link.attr("rel").unwrap_or_default().to_ascii_lowercase();
            let words: Vec<&str> = rel.split_whitespace().collect();
            words.contains(&"alternate") && !words.contains(&"stylesheet")
        })
        .filter_map(|link| {
            let kind = feed_kind(link.attr("type")?)?;
            let url = resolve(&base, link.attr("href")?)?;
            let title = link.attr("title").map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
            Some(Advertised { url, kind, title })
        })
        .filter(|ad| seen.insert(ad.url.clone()))
        .collect()
}

fn feed_kind(mime: &str) -> Option<FeedKind> {
    let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/rss+xml" | "application/rdf+xml" | "application/x-rss+xml" | "text/rss+xml" => Some(FeedKind::Rss),
        "application/atom+xml" | "application/x-atom+xml" => Some(FeedKind::Atom),
        "application/feed+json" | "application/json" => Some(FeedKind::Json),
        _ => None,
    }
}

/// Class/id words of a summary, a date and an author inside a story block.
const SUMMARY_WORDS: &[&str] =
    &["summary", "excerpt", "lead", "intro", "desc", "description", "teaser", "anons", "text"];
const DATE_WORDS: &[&str] = &["date", "time", "datetime", "published", "pubdate", "posted"];
const AUTHOR_WORDS: &[&str] = &["author", "byline"];

/// 2000-01-01: the clock for telling dates from other text, where no fetch time is known.
const SHAPE_CHECK_NOW: i64 = 946_684_800;

/// A link text shorter than this is navigation ("2", "Далее"), not a story title.
const MIN_TITLE_CHARS: usize = 10;

/// A commented `[[sources]]` block for `feeds.toml` that reads `page_url` as an HTML source, with
/// selectors guessed from the page.
pub fn skeleton(html: &str, page_url: &Url, name: &str) -> String {
    let doc = Html::parse_document(html);
    let base = document_base(&doc, page_url);
    let depth = check_depth(&doc);
    let group = depth.is_ok().then(|| story_group(doc.root_element(), &chrome(doc.root_element()), &base)).flatten();
    let q = toml_string;
    let mut lines = vec![format!("# No feed is advertised on {page_url}.")];
    if let Err(warning) = &depth {
        lines.push(format!("# Warning: {warning}."));
    }
    lines.push("# This source reads the page itself; its selectors are guesses from the page's layout.".into());
    match &group {
        Some(g) => {
            lines.push(format!("# `{}` finds {} story blocks here; the first:", g.item, g.members));
            lines.push(format!("#   {:?} → {}", g.sample_title, g.sample_link));
        }
        None => lines.push("# No repeated story block was found: fill in `item` and the fields by hand.".into()),
    }
    lines.push(format!("# Check the result with `feedmill parse {page_url}` and adjust."));
    lines.push("[[sources]]".into());
    lines.push(format!("name = {}", q(name)));
    lines.push(format!("url = {}", q(page_url.as_str())));
    lines.push("# timezone = \"Asia/Almaty\"          # zone of dates written without one (default UTC)".into());
    lines.push(String::new());
    lines.push("[sources.html]".into());
    let field = |key: &str, value: Option<&String>, note: &str| {
        let note = if note.is_empty() { String::new() } else { format!("  # {note}") };
        match value {
            Some(v) => format!("{key} = {}{note}", q(v)),
            None => format!("# {key} = \"\"{note}"),
        }
    };
    let g = group.as_ref();
    let date_note = g.and_then(|g| g.sample_date.as_ref()).map_or(String::new(), |d| format!("reads {d:?}"));
    let next = depth.is_ok().then(|| next_link(doc.root_element())).flatten();
    lines.extend([
        field("item", g.map(|g| &g.item), "one story in the list"),
        field("title", g.and_then(|g| g.title.as_ref()), ""),
        field("link", g.and_then(|g| g.link.as_ref()), ""),
        field("date", g.and_then(|g| g.date.as_ref()), &date_note),
        "# date_format = \"%d %B %Y, %H:%M\"    # only if dates are misread (strftime-like; %B reads kk/ru/en months)"
            .into(),
        "# locale = \"kk\"                      # the month names date_format reads: kk, ru or en (default: all)"
            .into(),
        field("summary", g.and_then(|g| g.summary.as_ref()), ""),
        field("author", g.and_then(|g| g.author.as_ref()), ""),
        field("image", g.and_then(|g| g.image.as_ref()), ""),
        field("next", next.as_ref(), "link to the next listing page"),
        "# pages = 3                          # listing pages to read through `next` (default 1)".into(),
        String::new(),
        "# To fetch every story's own page for its full text, uncomment:".into(),
        "# [sources.article]".into(),
        "# body = \".post-body\"                # optional: without it the text is found automatically".into(),
        "# remove = [\".share\", \".views\"]      # optional: more to cut from the text".into(),
    ]);
    lines.join("\n") + "\n"
}

/// The guessed story list.
struct Group {
    item: String,
    members: usize,
    title: Option<String>,
    link: Option<String>,
    date: Option<String>,
    summary: Option<String>,
    author: Option<String>,
    image: Option<String>,
    sample_title: String,
    sample_link: String,
    sample_date: Option<String>,
}

/// The richest group of sibling story blocks (see the module docs).
fn story_group(root: ElementRef<'_>, chrome: &HashSet<NodeId>, base: &Url) -> Option<Group> {
    let mut best: Option<(usize, ElementRef<'_>, Vec<ElementRef<'_>>)> = None;
    let mut visit = vec![root];
    while let Some(parent) = visit.pop() {
        let children: Vec<ElementRef<'_>> = parent.child_elements().filter(|c| !chrome.contains(&c.id())).collect();
        visit.extend(children.iter().copied());
        // Ordered, so that equal scores are broken the same way on every run.
        let mut by_tag: BTreeMap<&str, Vec<ElementRef<'_>>> = BTreeMap::new();
        for child in &children {
            by_tag.entry(child.value().name()).or_default().push(*child);
        }
        for (_, members) in by_tag {
            let stories: Vec<_> = members.into_iter().filter(|m| titled_link(*m, base).is_some()).collect();
            if stories.len() < 3 {
                continue;
            }
            let score = stories.iter().map(|m| richness(*m)).sum::<usize>();
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, parent, stories));
            }
        }
    }
    let (_, parent, stories) = best?;
    let first = *stories.first()?;
    let item = item_selector(root, parent, &stories);
    let heading = headings(first).next();
    let (title, link) = match heading {
        Some(h) => {
            let sel = simple_selector(h);
            let link = h.descendent_elements().find(|a| a.value().name() == "a").map(|_| format!("{sel} a@href"));
            (Some(sel), link.or_else(|| Some("a@href".to_owned())))
        }
        None => {
            let (a, _) = titled_link(first, base)?;
            let sel = simple_selector(a);
            (Some(sel.clone()), Some(format!("{sel}@href")))
        }
    };
    let (sample_title, sample_link) =
        titled_link(first, base).map(|(a, url)| (heading.map_or_else(|| text_of(a), text_of), url.to_string()))?;
    // Fields are looked for in every block, first block first: the lead story may lack a byline.
    let named = |words: &[&str]| {
        stories.iter().find_map(|m| {
            m.descendent_elements().find(|el| name_tokens(*el).iter().any(|t| words.contains(&t.as_str())))
        })
    };
    let any =
        |pred: &dyn Fn(ElementRef<'_>) -> bool| stories.iter().find_map(|m| m.descendent_elements().find(|e| pred(*e)));
    // Only whether a text reads as a date matters here, not which instant it is.
    let shape_cx = DateContext {
        tz: chrono_tz::UTC,
        now: chrono::DateTime::from_timestamp(SHAPE_CHECK_NOW, 0).unwrap_or_default(),
        locale: None,
    };
    let (date, sample_date) = match any(&|e| e.value().name() == "time" && e.attr("datetime").is_some()) {
        Some(t) => (Some("time@datetime".to_owned()), t.attr("datetime").map(str::to_owned)),
        None => {
            let el = named(DATE_WORDS).or_else(|| {
                any(&|e| {
                    let text = text_of(e);
                    e.child_elements().next().is_none()
                        && text.chars().count() <= 60
                        && parse_date(&text, &shape_cx).is_ok()
                })
            });
            (el.map(simple_selector), el.map(text_of))
        }
    };
    let summary =
        named(SUMMARY_WORDS).map(simple_selector).or_else(|| any(&|e| e.value().name() == "p").map(|_| "p".to_owned()));
    let author = any(&|e| {
        e.attr("rel").is_some_and(|r| r.split_whitespace().any(|w| w == "author"))
            || e.attr("itemprop") == Some("author")
    })
    .or_else(|| named(AUTHOR_WORDS))
    .map(simple_selector);
    let image = any(&|e| e.value().name() == "img").map(|_| "img".to_owned());
    Some(Group {
        item,
        members: stories.len(),
        title,
        link,
        date,
        summary,
        author,
        image,
        sample_title,
        sample_link,
        sample_date,
    })
}

/// The link of a story block with the longest text, when the block has a title-length text in that
/// link or in a heading (a thumbnail link has no text, its heading does).
fn titled_link<'a>(el: ElementRef<'a>, base: &Url) -> Option<(ElementRef<'a>, Url)> {
    let (a, url, len) = std::iter::once(el)
        .chain(el.descendent_elements())
        .filter(|a| a.value().name() == "a")
        .filter_map(|a| Some((a, resolve(base, a.attr("href")?)?, text_of(a).chars().count())))
        .min_by_key(|(_, _, len)| std::cmp::Reverse(*len))?;
    let heading = headings(el).map(|h| text_of(h).chars().count()).max().unwrap_or(0);
    (len.max(heading) >= MIN_TITLE_CHARS).then_some((a, url))
}

fn headings(el: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    el.descendent_elements().filter(|h| matches!(h.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
}

/// How story-like a block is: one point each for a heading, an image, a paragraph and a date.
fn richness(el: ElementRef<'_>) -> usize {
    let has = |pred: &dyn Fn(ElementRef<'_>) -> bool| usize::from(el.descendent_elements().any(pred));
    1 + has(&|e| matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
        + has(&|e| e.value().name() == "img")
        + has(&|e| e.value().name() == "p")
        + has(&|e| e.value().name() == "time" || name_tokens(e).iter().any(|t| DATE_WORDS.contains(&t.as_str())))
}

/// `tag.class` for the group, with the parent in front when the short form also matches elsewhere.
fn item_selector(root: ElementRef<'_>, parent: ElementRef<'_>, members: &[ElementRef<'_>]) -> String {
    let tag = members[0].value().name();
    let common: Vec<&str> = stable_classes(members[0])
        .into_iter()
        .filter(|c| members.iter().all(|m| m.value().classes().any(|mc| mc == *c)))
        .take(2)
        .collect();
    let short = std::iter::once(tag.to_owned()).chain(common.iter().map(|c| format!(".{c}"))).collect::<String>();
    let count = |css: &str| Selector::parse(css).map_or(usize::MAX, |sel| root.select(&sel).count());
    if count(&short) == members.len() {
        return short;
    }
    let scoped = format!("{} > {short}", simple_selector(parent));
    if count(&scoped) < count(&short) {
        scoped
    } else {
        short
    }
}

/// `tag.class1.class2` with the element's stable classes.
fn simple_selector(el: ElementRef<'_>) -> String {
    let mut out = el.value().name().to_owned();
    for class in stable_classes(el).into_iter().take(2) {
        out.push('.');
        out.push_str(class);
    }
    out
}

/// Class names that are CSS identifiers without digits: `news-title`, not `post-95211` or `col-md-8`.
fn stable_classes(el: ElementRef<'_>) -> Vec<&str> {
    el.value()
        .classes()
        .filter(|c| {
            c.chars().all(|ch| ch.is_ascii_alphabetic() || ch == '-' || ch == '_')
                && !c.starts_with("--")
                && !c.is_empty()
        })
        .collect()
}

/// A selector for the "next page" link: `rel="next"`, a link named `next`, or one whose text says so.
/// A selector for the page's next-page link, when one is found and can be named.
fn next_link(root: ElementRef<'_>) -> Option<String> {
    let next = guess_next(root)?;
    let rel = next.attr("rel").is_some_and(|r| r.split_whitespace().any(|w| w.eq_ignore_ascii_case("next")));
    let sel = if rel { format!("{}[rel~=next]", next.value().name()) } else { simple_selector(next) };
    (sel != "a").then_some(sel)
}

/// A TOML basic string.
/// The sitemaps `robots.txt` names (`Sitemap:` lines, the field name in any case), resolved against
/// the file's URL, http(s) only, each once, in file order.
pub fn robots_sitemaps(robots: &str, robots_url: &Url) -> Vec<Url> {
    let mut seen = HashSet::new();
    robots
        .lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let (field, value) = line.split_once(':')?;
            field.trim().eq_ignore_ascii_case("sitemap").then(|| value.trim())
        })
        .filter_map(|v| robots_url.join(v).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .filter(|u| seen.insert(u.clone()))
        .collect()
}

/// A commented `[[sources]]` block that reads one of `sitemaps` as a `kind = "sitemap"` source: the
/// first whose URL says "news" (a Google News sitemap, with headlines), else the first. `None` when
/// there is none.
pub fn sitemap_skeleton(sitemaps: &[Url], name: &str) -> Option<String> {
    let chosen = sitemaps.iter().find(|u| u.as_str().to_lowercase().contains("news")).or(sitemaps.first())?;
    let q = toml_string;
    let mut lines = vec!["# The site advertises no feed; its robots.txt names these sitemaps:".to_owned()];
    lines.extend(sitemaps.iter().map(|u| format!("#   {u}")));
    lines.push("# Check the result with `feedmill run` and adjust `url_include` to the article URLs.".into());
    lines.extend([
        "[[sources]]".into(),
        format!("name = {}", q(name)),
        format!("url = {}", q(chosen.as_str())),
        "kind = \"sitemap\"".into(),
        "# follow = true                      # fetch each new page for its title, text, author and date".into(),
        "# timezone = \"Asia/Almaty\"          # zone of dates written without one (default UTC)".into(),
        String::new(),
        "[sources.sitemap]".into(),
        "# url_include = [\"/news/\"]           # regexes: keep only the pages whose URL matches one".into(),
        "# url_exclude = [\"/tag/\", \"/author/\"] # regexes: drop the pages whose URL matches one".into(),
        format!(
            "# max_urls = {}                    # the newest pages kept per run",
            crate::parse::sitemap::SitemapRules::MAX_URLS
        ),
    ]);
    Some(lines.join("\n") + "\n")
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_txt_names_sitemaps_and_a_news_one_is_chosen() {
        let robots = "User-agent: *\nDisallow: /admin/\n\nSitemap: https://dala.kz/sitemap.xml\n\
                      sitemap:/sitemap-news.xml # Google News\nSITEMAP: https://dala.kz/sitemap.xml\n\
                      Sitemap: ftp://dala.kz/x.xml\n";
        let base = Url::parse("https://dala.kz/robots.txt").unwrap_or_else(|e| panic!("{e}"));
        let found: Vec<String> = robots_sitemaps(robots, &base).iter().map(Url::to_string).collect();
        assert_eq!(found, ["https://dala.kz/sitemap.xml", "https://dala.kz/sitemap-news.xml"]);
        let block = sitemap_skeleton(&robots_sitemaps(robots, &base), "dala-kz").unwrap_or_default();
        assert!(block.contains("url = \"https://dala.kz/sitemap-news.xml\"\nkind = \"sitemap\""), "{block}");
        assert!(sitemap_skeleton(&[], "x").is_none());
    }

    #[test]
    fn toml_strings_round_trip() {
        #[derive(serde::Deserialize)]
        struct One {
            v: String,
        }
        for s in [r#"a[title="x"]@href"#, "back\\slash", "line\nbreak\u{1}", "Келесі »"] {
            let one: One = toml::from_str(&format!("v = {}", toml_string(s))).unwrap();
            assert_eq!(one.v, s);
        }
    }

    #[test]
    fn feed_types_are_read_leniently() {
        assert_eq!(feed_kind("application/rss+xml; charset=utf-8"), Some(FeedKind::Rss));
        assert_eq!(feed_kind(" Application/Atom+XML "), Some(FeedKind::Atom));
        assert_eq!(feed_kind("application/feed+json"), Some(FeedKind::Json));
        assert_eq!(feed_kind("text/html"), None);
    }

    #[test]
    fn pages_without_a_story_list_get_an_empty_skeleton() {
        let url = Url::parse("https://ex.kz/").unwrap();
        let block = skeleton("<h1>Hello</h1><p>Nothing here.</p>", &url, "x");
        assert!(block.contains("# No repeated story block was found"), "{block}");
        assert!(block.contains("# item = \"\""), "{block}");
    }
}
