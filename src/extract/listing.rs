//! A listing page (a section front, an archive page) in, feed entries out: one [`RawEntry`] per element
//! the `item` selector matches, with the page's next-page link for pagination.
//!
//! Each field is read with the user's selector when there is one; without one, a guess that fits most
//! news and blog templates is made inside the item (the first heading is the title, the heading's link
//! is the link, an element named `excerpt`/`lead`/`summary` is the summary, `<time datetime>` or an
//! element named `date` is the date, the first image is the image), so a config needs only `item` to
//! start with. Entries come out as a feed parser's would: link and image absolute, title as plain
//! text, summary as HTML, the date as RFC 3339 UTC when it could be read here (where the source's
//! `date_format`, zone and fetch time are known), else as written, for normalize to try and report.

use std::collections::HashSet;

use chrono::SecondsFormat;
use scraper::{ElementRef, Html};
use url::Url;

use super::dates::{item_date_text, read_date};
use super::selectors::{
    author_name, check_depth, document_base, image_src, name_tokens, resolve, static_selector, text_of,
};
use super::serialize::{escape_html, Writer};
use super::{DateLocale, Field, Listing, ListingRules, PageContext};
use crate::model::{Person, RawEntry, Text};

/// Class/id words of an item's summary when no selector names it.
const SUMMARY_WORDS: &[&str] =
    &["summary", "excerpt", "lead", "intro", "desc", "description", "teaser", "anons", "announce", "preview", "text"];

/// Class/id words of an item's byline; a paragraph named so is not the summary either.
const BYLINE_WORDS: &[&str] = &["author", "byline", "meta", "info", "date", "time"];

/// Reads one listing page; see the module docs.
pub fn listing(html: &str, rules: &ListingRules, cx: &PageContext<'_>) -> Listing {
    let doc = Html::parse_document(html);
    if let Err(too_deep) = check_depth(&doc) {
        return Listing { entries: Vec::new(), next_page: None, warnings: vec![too_deep.to_string()] };
    }
    let base = document_base(&doc, cx.url);
    let language = doc.root_element().attr("lang").map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
    // Without a configured locale, the page's `<html lang>` says which language its dates are in.
    let cx = &PageContext {
        date_locale: cx.date_locale.or_else(|| language.as_deref().and_then(DateLocale::from_tag)),
        ..*cx
    };
    let mut out =
        Listing { entries: Vec::new(), next_page: next_page(&doc, rules.next.as_ref(), &base), warnings: Vec::new() };
    if out.next_page.as_ref() == Some(cx.url) {
        out.warnings.push("the next-page link points to this page; pagination stops here".into());
        out.next_page = None;
    }
    let mut links = HashSet::new();
    let mut matched = 0;
    for (n, item) in doc.select(&rules.item).enumerate() {
        matched += 1;
        let reader = ItemReader { rules, cx, base: &base, n: n + 1 };
        let Some(mut entry) = reader.read(item, &mut out.warnings) else { continue };
        if entry.link.as_ref().is_some_and(|link| !links.insert(link.clone())) {
            continue;
        }
        entry.language.clone_from(&language);
        out.entries.push(entry);
    }
    if matched == 0 {
        out.warnings.push("the item selector matched nothing on this page".into());
    }
    out
}

struct ItemReader<'r> {
    rules: &'r ListingRules,
    cx: &'r PageContext<'r>,
    base: &'r Url,
    /// 1-based position on the page, for warnings.
    n: usize,
}

impl ItemReader<'_> {
    fn read(&self, item: ElementRef<'_>, warnings: &mut Vec<String>) -> Option<RawEntry> {
        let rules = self.rules;
        let heading = static_selector("h1, h2, h3, h4, h5, h6")
            .and_then(|sel| item.select(&sel).find(|h| !text_of(*h).is_empty()));
        let link_el = match &rules.link {
            Some(field) => field.first(item),
            None => heading.and_then(link_of).or_else(|| first_link(item)),
        };
        let link = match &rules.link {
            Some(field) if field.attr().is_some() => field.read(item),
            _ => link_el.and_then(link_of).and_then(|a| a.attr("href")).map(str::to_owned),
        }
        .and_then(|href| resolve(self.base, &href))
        .map(String::from);
        let title = match &rules.title {
            Some(field) => field.read(item),
            None => heading.or(link_el).map(text_of).filter(|t| !t.is_empty()),
        };
        if link.is_none() && title.is_none() {
            warnings.push(format!("item {}: no link and no title; skipped", self.n));
            return None;
        }
        Some(RawEntry {
            link,
            title: title.map(Text::plain),
            summary: self.summary(item),
            authors: self.authors(item),
            published: self.date(item, warnings),
            image: self.image(item),
            ..RawEntry::default()
        })
    }

    fn summary(&self, item: ElementRef<'_>) -> Option<Text> {
        let writer = Writer { skip: &HashSet::new(), base: Some(self.base), keep_names: false };
        let html = match &self.rules.summary {
            Some(field) if field.attr().is_some() => field.read(item).map(|v| escape_html(&v)),
            Some(field) => field.first(item).map(|el| writer.inner(el)),
            None => item
                .descendent_elements()
                .find(|el| name_tokens(*el).iter().any(|t| SUMMARY_WORDS.contains(&t.as_str())))
                .or_else(|| {
                    item.descendent_elements().find(|el| {
                        el.value().name() == "p"
                            && !name_tokens(*el).iter().any(|t| BYLINE_WORDS.contains(&t.as_str()))
                            && text_of(*el).chars().count() >= 20
                    })
                })
                .map(|el| writer.inner(el)),
        }?;
        let html = html.trim();
        (!html.is_empty()).then(|| Text::html(html))
    }

    fn authors(&self, item: ElementRef<'_>) -> Vec<Person> {
        let text = match &self.rules.author {
            Some(field) => field.read(item),
            None => ["[rel~=author]", "[itemprop=author]"]
                .iter()
                .find_map(|css| item.select(&static_selector(css)?).next().map(text_of))
                .or_else(|| {
                    item.descendent_elements()
                        .find(|el| name_tokens(*el).iter().any(|t| t == "author" || t == "byline"))
                        .map(text_of)
                }),
        };
        text.and_then(|t| author_name(&t))
            .map(|name| Person { name: Some(name), ..Person::default() })
            .into_iter()
            .collect()
    }

    fn date(&self, item: ElementRef<'_>, warnings: &mut Vec<String>) -> Option<String> {
        let raw = match &self.rules.date {
            Some(field) => field.read(item),
            None => item_date_text(item),
        }?;
        match read_date(&raw, self.cx) {
            Some(at) => Some(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => {
                warnings.push(format!("item {}: date {raw:?} not understood; kept as written", self.n));
                Some(raw)
            }
        }
    }

    fn image(&self, item: ElementRef<'_>) -> Option<String> {
        let src = match &self.rules.image {
            Some(field) if field.attr().is_some() => field.read(item),
            Some(field) => field.first(item).and_then(img_of).and_then(image_src).map(str::to_owned),
            None => img_of(item).and_then(image_src).map(str::to_owned),
        }?;
        resolve(self.base, &src).map(String::from)
    }
}

/// The pagination link: the user's selector, else [`guess_next`].
fn next_page(doc: &Html, field: Option<&Field>, base: &Url) -> Option<Url> {
    let root = doc.root_element();
    let href = match field {
        Some(field) if field.attr().is_some() => field.read(root),
        Some(field) => field.all(root).find_map(|el| link_of(el)?.attr("href")).map(str::to_owned),
        None => guess_next(root).and_then(|a| a.attr("href")).map(str::to_owned),
    }?;
    resolve(base, &href)
}

/// Texts of "next page" links (lowercase).
#[rustfmt::skip]
const NEXT_TEXTS: &[&str] = &[
    "next", "next page", "older posts", "older", "келесі", "келесі »", "келесі бет", "следующая",
    "следующая »", "следующая страница", "далее", "вперёд", "вперед", "»", "›", "→",
];

/// The next-page link without a selector: `rel="next"`, then a link named `next`, then one whose
/// text says "next" in one of our languages.
pub(crate) fn guess_next(root: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let links: Vec<ElementRef<'_>> = root
        .descendent_elements()
        .filter(|e| matches!(e.value().name(), "a" | "link") && e.attr("href").is_some())
        .collect();
    let rel_next = |e: &&ElementRef<'_>| {
        e.attr("rel").is_some_and(|r| r.split_whitespace().any(|w| w.eq_ignore_ascii_case("next")))
    };
    links
        .iter()
        .find(rel_next)
        .or_else(|| links.iter().find(|a| a.value().name() == "a" && name_tokens(**a).iter().any(|t| t == "next")))
        .or_else(|| links.iter().find(|a| NEXT_TEXTS.contains(&text_of(**a).to_lowercase().as_str())))
        .copied()
}

/// The link an element stands for: itself, a link inside it, or the link around it.
fn link_of(el: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let has_href = |e: &ElementRef<'_>| e.value().name() == "a" && e.attr("href").is_some();
    if has_href(&el) {
        return Some(el);
    }
    el.descendent_elements().find(has_href).or_else(|| el.ancestors().filter_map(ElementRef::wrap).find(has_href))
}

/// The first link with text in an item, else the first link.
fn first_link(item: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let links: Vec<_> = std::iter::once(item)
        .chain(item.descendent_elements())
        .filter(|e| e.value().name() == "a" && e.attr("href").is_some_and(|h| !h.trim().starts_with('#')))
        .collect();
    links.iter().find(|a| !text_of(**a).is_empty()).or(links.first()).copied()
}

/// The element itself when it is an image, else the first image inside it.
fn img_of(el: ElementRef<'_>) -> Option<ElementRef<'_>> {
    std::iter::once(el).chain(el.descendent_elements()).find(|e| e.value().name() == "img" && image_src(*e).is_some())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::extract::parse_selector;

    fn read(html: &str, rules: &ListingRules) -> Listing {
        let url = Url::parse("https://ex.kz/list/").unwrap();
        let now = DateTime::from_timestamp(1_732_352_400, 0).unwrap();
        listing(
            html,
            rules,
            &PageContext { url: &url, tz: chrono_tz::UTC, now, locale: None, date_locale: None, date_format: None },
        )
    }

    #[test]
    fn attributes_fill_fields_and_are_escaped() {
        let html = r#"<div class="i" data-url="/a?x=1&amp;y=2" data-sum="1 < 2 & 3"><b>A title</b>
            <span class="when" data-ts="2019-07-11T12:20:00+06:00">yesterday</span></div>"#;
        let rules = ListingRules {
            title: Some(Field::parse("b").unwrap()),
            link: Some(Field::parse(".i@data-url").unwrap()),
            summary: Some(Field::parse(".i@data-sum").unwrap()),
            date: Some(Field::parse(".when@data-ts").unwrap()),
            ..ListingRules::new(parse_selector(".i").unwrap())
        };
        let page = read(html, &rules);
        let e = &page.entries[0];
        assert_eq!(e.link.as_deref(), Some("https://ex.kz/a?x=1&y=2"));
        assert_eq!(e.summary, Some(Text::html("1 &lt; 2 &amp; 3")));
        assert_eq!(e.published.as_deref(), Some("2019-07-11T06:20:00Z"));
    }

    #[test]
    fn unreadable_dates_are_kept_as_written() {
        let html = r#"<div class="i"><a href="/a">A title</a><span class="date">в прошлую среду</span></div>"#;
        let page = read(html, &ListingRules::new(parse_selector(".i").unwrap()));
        assert_eq!(page.entries[0].published.as_deref(), Some("в прошлую среду"));
        assert_eq!(page.warnings, [r#"item 1: date "в прошлую среду" not understood; kept as written"#]);
    }

    #[test]
    fn pagination_never_loops_on_the_same_page() {
        let html = r#"<div class="i"><a href="/a">A title</a></div><a rel="next" href="/list/">Next</a>"#;
        let page = read(html, &ListingRules::new(parse_selector(".i").unwrap()));
        assert_eq!(page.next_page, None);
        assert_eq!(page.warnings, ["the next-page link points to this page; pagination stops here"]);
        let page = read("<p>nothing</p>", &ListingRules::new(parse_selector(".i").unwrap()));
        assert_eq!(page.warnings, ["the item selector matched nothing on this page"]);
        let next = read(
            r#"<div class="pager"><a href="?page=2">Келесі</a></div>"#,
            &ListingRules::new(parse_selector(".i").unwrap()),
        );
        assert_eq!(next.next_page.map(String::from).as_deref(), Some("https://ex.kz/list/?page=2"));
    }
}
