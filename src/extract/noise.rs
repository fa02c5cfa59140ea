//! What on a page is not the story: a page and a scope in, the set of nodes to leave out.
//!
//! Two sets, because two questions are asked:
//!
//! * [`chrome`] is the site around the story: header, menus, footer, sidebars, "best materials" and
//!   "related" blocks, comments, share widgets. Titles, dates and authors are never looked for there
//!   (the header's date is today's, the sidebar's authors wrote other stories).
//! * [`body_noise`] is chrome plus what sits inside a story's container without being its text: the
//!   meta line (`2534 3 пікір 11 Шілде, 2019 сағат 12:20`), view counters, comment counts, bylines,
//!   tag lists, share links, and whatever the user's `remove` selectors name.
//!
//! Blocks are recognised three ways, all data tables below: by tag and ARIA role (`nav`, `aside`,
//! `role="complementary"`), by the words of their class and id (`block-popular` → `popular`,
//! `news-feed__date` → `date`), and by their text: a heading such as `Үздік материалдар`, `Читайте
//! также` or `Related posts` takes its whole block with it; a short text made only of numbers and
//! counter words (`2534`, `3 пікір`, `Просмотров: 1234`, `7 comments`) or only of a date goes alone.
//! Kazakh, Russian and English words are listed; a new language is new table rows.
//!
//! One guard keeps the heuristics from eating the story: a block holding the page's `h1` or a large
//! share of its paragraph text is never removed by name or heading (a `<body class="has-sidebar">`
//! is not a sidebar). Only the user's `remove` selectors are obeyed without it.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use super::selectors::{collapse, name_tokens, static_selector, text_of, text_within};
use crate::normalize::dates::{parse_date, DateContext};

/// Class/id words of site chrome.
#[rustfmt::skip]
const CHROME_WORDS: &[&str] = &[
    "header", "masthead", "footer", "nav", "navbar", "navigation", "menu", "topbar", "sidebar",
    "aside", "widget", "widgets", "breadcrumb", "breadcrumbs", "related", "relatedposts", "popular",
    "best", "most", "recommended", "comments", "comment", "disqus", "share", "sharing", "social",
    "sharedaddy", "addthis", "subscribe", "newsletter", "banner", "ad", "ads", "adv", "advert",
    "advertisement", "adsbygoogle", "promo", "sponsored", "cookie", "cookies", "pagination", "pager",
];

/// Class/id words of blocks that live inside a story's container but are not its text.
#[rustfmt::skip]
const META_WORDS: &[&str] = &[
    "meta", "date", "time", "datetime", "published", "author", "byline", "info", "views", "view",
    "counter", "count", "hits", "rating", "tags", "tag", "print", "readtime",
];

const CHROME_TAGS: &[&str] = &["header", "footer", "nav", "aside"];
const CHROME_ROLES: &[&str] = &["banner", "navigation", "contentinfo", "complementary", "search"];

/// Headings of blocks that list other stories, comments or share buttons (lowercase, no trailing
/// colon). The whole block they head is chrome.
#[rustfmt::skip]
const BLOCK_HEADINGS: &[&str] = &[
    "үздік материалдар", "тағы оқыңыз", "оқи отырыңыз", "ұқсас жаңалықтар", "ұқсас материалдар",
    "соңғы жаңалықтар", "көп оқылғандар", "көп оқылған", "пікірлер", "бөлісу", "бөлісіңіз",
    "лучшие материалы", "читайте также", "похожие новости", "похожие материалы", "популярное",
    "самое читаемое", "последние новости", "комментарии", "поделиться", "поделитесь",
    "related", "related posts", "related articles", "related stories", "you may also like",
    "read also", "more stories", "most read", "most popular", "popular", "popular posts",
    "recommended", "comments", "share", "share this", "share this post", "share this article",
];

/// Words that may stand next to numbers in a counter: views, comments, likes, reading time.
#[rustfmt::skip]
const COUNTER_WORDS: &[&str] = &[
    "views", "view", "reads", "hits", "likes", "like", "shares", "comments", "comment", "replies",
    "reply", "min", "mins", "minute", "minutes", "read", "k",
    "просмотров", "просмотра", "просмотр", "просмотры", "просмотрено", "прочитано", "прочтений",
    "комментариев", "комментария", "комментарий", "комментарии", "коммент", "отзывов", "отзыва",
    "отзыв", "ответов", "ответа", "ответ", "лайков", "мин", "минут", "минуты", "чтения", "тыс", "к",
    "пікір", "пікірлер", "пікірі", "көрілім", "көрілген", "қаралды", "оқылды", "рет", "оқу", "уақыты",
];

/// Parts of share-button URLs.
#[rustfmt::skip]
const SHARE_URLS: &[&str] = &[
    "facebook.com/sharer", "facebook.com/share.php", "twitter.com/intent", "twitter.com/share",
    "x.com/intent", "t.me/share", "telegram.me/share", "wa.me/", "api.whatsapp.com/send",
    "vk.com/share.php", "connect.ok.ru", "linkedin.com/sharearticle", "linkedin.com/sharing",
    "pinterest.com/pin/create", "reddit.com/submit", "getpocket.com/save",
];

/// Text longer than this is never a counter, a date line or a heading of chrome.
const SHORT_TEXT: usize = 60;

/// A block with this share (in percent) of the page's paragraph text is the story, whatever its name
/// says.
const STORY_SHARE_PERCENT: usize = 40;

/// Chrome of the whole page (see the module docs).
pub(crate) fn chrome(root: ElementRef<'_>) -> HashSet<NodeId> {
    let guard = Guard::new(root);
    let mut out = HashSet::new();
    walk(root, &mut |el| {
        if el.id() != root.id() && is_chrome(el, &guard) {
            out.insert(el.id());
            return Visit::Skip;
        }
        if let Some(block) = text_within(el, SHORT_TEXT).and_then(|text| headed_block(el, &text, &guard)) {
            out.extend(block);
            return Visit::Skip;
        }
        Visit::Descend
    });
    out
}

/// Nodes under `scope` to leave out of an article body: chrome, meta lines, counters, share links and
/// the user's `remove` matches.
pub(crate) fn body_noise(scope: ElementRef<'_>, remove: &[Selector], cx: &DateContext) -> HashSet<NodeId> {
    let mut out: HashSet<NodeId> = remove.iter().flat_map(|sel| scope.select(sel)).map(|el| el.id()).collect();
    let guard = Guard::new(scope);
    walk(scope, &mut |el| {
        if out.contains(&el.id()) {
            return Visit::Skip;
        }
        if el.id() == scope.id() {
            return Visit::Descend;
        }
        let by_name = is_chrome(el, &guard)
            || (name_tokens(el).iter().any(|t| META_WORDS.contains(&t.as_str())) && !guard.protects(el));
        let short = text_within(el, SHORT_TEXT);
        let by_text = short.as_deref().is_some_and(|text| is_share_block(el) || is_counter_or_date(el, text, cx));
        if by_name || is_share_link(el) || by_text {
            out.insert(el.id());
            return Visit::Skip;
        }
        if let Some(block) = short.and_then(|text| headed_block(el, &text, &guard)) {
            out.extend(block);
            return Visit::Skip;
        }
        Visit::Descend
    });
    out
}

enum Visit {
    Descend,
    Skip,
}

fn walk<'a>(el: ElementRef<'a>, visit: &mut impl FnMut(ElementRef<'a>) -> Visit) {
    if let Visit::Descend = visit(el) {
        for child in el.child_elements() {
            walk(child, visit);
        }
    }
}

/// Knows where the story is, so heuristics can be told not to remove it.
struct Guard {
    h1: Option<NodeId>,
    story_chars: usize,
    paragraphs: Option<Selector>,
}

impl Guard {
    fn new(root: ElementRef<'_>) -> Guard {
        let h1 = static_selector("h1").and_then(|sel| root.select(&sel).next()).map(|h| h.id());
        let paragraphs = static_selector("p");
        let mut guard = Guard { h1, story_chars: 0, paragraphs };
        guard.story_chars = guard.paragraph_chars(root);
        guard
    }

    fn paragraph_chars(&self, el: ElementRef<'_>) -> usize {
        let Some(sel) = &self.paragraphs else { return 0 };
        el.select(sel).map(|p| text_of(p).chars().count()).sum()
    }

    fn protects(&self, el: ElementRef<'_>) -> bool {
        let holds_h1 = self.h1.is_some_and(|h1| el.descendants().any(|d| d.id() == h1));
        let story = self.story_chars > 0 && self.paragraph_chars(el) * 100 >= STORY_SHARE_PERCENT * self.story_chars;
        holds_h1 || story
    }
}

fn is_chrome(el: ElementRef<'_>, guard: &Guard) -> bool {
    let value = el.value();
    let hidden = value.attr("hidden").is_some()
        || value.attr("aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || value.attr("style").is_some_and(|s| s.replace(' ', "").to_ascii_lowercase().contains("display:none"));
    let named = CHROME_TAGS.contains(&value.name())
        || value.attr("role").is_some_and(|r| CHROME_ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
        || name_tokens(el).iter().any(|t| CHROME_WORDS.contains(&t.as_str()));
    hidden || (named && !guard.protects(el))
}

/// A heading of chrome (`Үздік материалдар`, `Share this:`): the block it heads. When that block is
/// the story itself, only the heading and the element right after it (the list it introduces).
fn headed_block(el: ElementRef<'_>, text: &str, guard: &Guard) -> Option<Vec<NodeId>> {
    let key = text.trim_end_matches([':', '.', '!', '…', ' ']).to_lowercase();
    if !BLOCK_HEADINGS.contains(&key.as_str()) {
        return None;
    }
    let parent = el.parent().and_then(ElementRef::wrap)?;
    if !guard.protects(parent) && parent.parent().is_some() {
        return Some(vec![parent.id()]);
    }
    Some(std::iter::once(el.id()).chain(el.next_siblings().find_map(ElementRef::wrap).map(|n| n.id())).collect())
}

fn is_share_link(el: ElementRef<'_>) -> bool {
    el.value().name() == "a"
        && el.attr("href").is_some_and(|href| {
            let href = href.to_ascii_lowercase();
            SHARE_URLS.iter().any(|part| href.contains(part))
        })
}

/// A block of share links with at most a label ("Бөлісу:") besides them.
fn is_share_block(el: ElementRef<'_>) -> bool {
    fn rest(el: ElementRef<'_>, out: &mut String) -> bool {
        let mut shares = false;
        for child in el.children() {
            if let Some(text) = child.value().as_text() {
                out.push_str(text);
            } else if let Some(child) = ElementRef::wrap(child) {
                if is_share_link(child) {
                    shares = true;
                } else {
                    shares |= rest(child, out);
                }
            }
        }
        shares
    }
    let mut text = String::new();
    let key = |t: &str| collapse(t).trim_end_matches([':', '.', '!', '…', ' ']).to_lowercase();
    rest(el, &mut text) && {
        let label = key(&text);
        label.is_empty() || BLOCK_HEADINGS.contains(&label.as_str())
    }
}

/// Short text made only of counters (`2534`, `3 пікір`, `Просмотров: 1 234`) or only of a date line.
fn is_counter_or_date(el: ElementRef<'_>, text: &str, cx: &DateContext) -> bool {
    let tabular = |e: &ElementRef<'_>| {
        matches!(e.value().name(), "table" | "thead" | "tbody" | "tfoot" | "tr" | "td" | "th" | "pre" | "code")
    };
    if tabular(&el) || el.ancestors().filter_map(ElementRef::wrap).any(|a| tabular(&a)) || has_media(el) {
        return false;
    }
    is_counter(text) || (text.split_whitespace().count() <= 8 && parse_date(text, cx).is_ok())
}

pub(crate) fn is_counter(text: &str) -> bool {
    let mut numbers = 0;
    for token in text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()) {
        if token.chars().all(|c| c.is_ascii_digit()) {
            numbers += 1;
        } else if !COUNTER_WORDS.contains(&token.to_lowercase().as_str()) {
            return false;
        }
    }
    numbers > 0
}

fn has_media(el: ElementRef<'_>) -> bool {
    el.descendent_elements().any(|d| matches!(d.value().name(), "img" | "picture" | "video" | "audio" | "iframe"))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use scraper::Html;

    use super::*;
    use crate::extract::serialize::Writer;

    fn cx() -> DateContext {
        DateContext {
            tz: chrono_tz::Asia::Almaty,
            now: DateTime::<Utc>::from_timestamp(1_732_352_400, 0).unwrap(),
            locale: None,
        }
    }

    fn body_of(html: &str, remove: &[&str]) -> String {
        let doc = Html::parse_document(html);
        let remove: Vec<Selector> = remove.iter().map(|s| Selector::parse(s).unwrap()).collect();
        let skip = body_noise(doc.root_element(), &remove, &cx());
        let body = doc.select(&Selector::parse("body").unwrap()).next().unwrap();
        collapse(&Writer { skip: &skip, base: None, keep_names: false }.inner(body))
    }

    #[test]
    fn counters_are_numbers_and_counter_words_only() {
        for yes in ["2534", "3 пікір", "Просмотров: 1 234", "7 comments", "1,204 views", "👁 15", "6 min read"]
        {
            assert!(is_counter(yes), "{yes:?}");
        }
        for no in ["Abai.kz", "3 партия", "2019 жылы", "Counting saiga", ""] {
            assert!(!is_counter(no), "{no:?}");
        }
    }

    #[test]
    fn meta_lines_counters_and_widgets_go() {
        let html = r#"<body><div class="post"><h1>T</h1>
            <div class="line"><span>2534</span> <span>3 пікір</span> <span>11 Шілде, 2019 сағат 12:20</span></div>
            <p>Story text that is long enough to be the story of this page, really.</p>
            <p>Бөлісу: <a href="https://www.facebook.com/sharer/sharer.php?u=x">Facebook</a></p>
            <div><h3>Читайте также</h3><ul><li><a href="/x">Other</a></li></ul></div>
            <table><tr><td>2534</td></tr></table>
            <div class="x"><p>Keep me</p><div class="rm">Remove me</div></div></div></body>"#;
        assert_eq!(
            body_of(html, &[".rm"]),
            "<div><h1>T</h1> <p>Story text that is long enough to be the story of this page, really.</p> \
             <table><tbody><tr><td>2534</td></tr></tbody></table> <div><p>Keep me</p></div></div>"
        );
    }

    #[test]
    fn a_story_container_is_never_chrome() {
        let html = r#"<body><div class="has-sidebar"><h1>T</h1><p>The story.</p></div><aside>Side</aside></body>"#;
        assert_eq!(body_of(html, &[]), "<div><h1>T</h1><p>The story.</p></div>");
        // A related-stories heading inside the story takes only itself and its list.
        let html = r#"<body><article><h1>T</h1><p>The story goes on and on.</p><h3>Related:</h3><ul><li>x</li></ul><p>End.</p></article></body>"#;
        assert_eq!(body_of(html, &[]), "<article><h1>T</h1><p>The story goes on and on.</p><p>End.</p></article>");
    }
}
