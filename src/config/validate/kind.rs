//! A source's kind and how its pages are read: feed, listing page (selectors), folder (front matter)
//! or sitemap, and the `[sources.html]` keys that go with each.

use url::Url;

use super::Validator;
use crate::config::{raw, Diagnostic, FolderRules, Severity, SitemapRules, SourceKind};
use crate::extract::{ArticleRules, Field, ListingRules};
use crate::fetch::Location;
use crate::normalize::dates::{DateFormat, Locale};

/// Whether a source is a folder, and its rules when they are valid.
pub(super) enum Folder {
    Yes(Option<FolderRules>),
    No,
}

/// A source's validated page-reading settings.
pub(super) struct PageRules {
    pub(super) kind: SourceKind,
    pub(super) article: ArticleRules,
    pub(super) date_format: Option<DateFormat>,
    pub(super) locale: Option<Locale>,
}

impl Validator {
    /// A `kind = "folder"` source's rules (`Folder::Yes(None)` when they were reported as errors), or
    /// `Folder::No` for other kinds, which may not use the folder keys.
    pub(super) fn folder(
        &mut self,
        name: &str,
        kind: &Option<toml::Spanned<String>>,
        url_template: Option<toml::Spanned<String>>,
        date_from: Option<toml::Spanned<String>>,
        location: Option<&Location>,
    ) -> Folder {
        let is_folder = kind.as_ref().is_some_and(|k| k.get_ref() == "folder");
        if !is_folder {
            for (key, value) in [("url_template", &url_template), ("date_from", &date_from)] {
                if let Some(v) = value {
                    self.error(format!("source `{name}`: `{key}` is for kind = \"folder\" sources"), v.span());
                }
            }
            return Folder::No;
        }
        let errors_before = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        if let (Some(Location::Http(_)), Some(k)) = (location, kind) {
            self.error(format!("source `{name}`: a folder source's `url` is a local folder"), k.span()).help =
                Some("give a path relative to this file, such as `url = \"articles/\"`".into());
        }
        let template = match url_template {
            None => {
                let span = kind.as_ref().map(|k| k.span());
                self.diagnostics.push(
                    Diagnostic::error(format!("source `{name}`: kind = \"folder\" needs `url_template`"), span)
                        .with_help("each article's link, such as \"https://example.kz/news/{slug}/\""),
                );
                None
            }
            Some(t) => {
                let example = t.get_ref().replace("{slug}", "slug");
                let web = Url::parse(&example).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
                if !t.get_ref().contains("{slug}") || web.is_none() {
                    self.error(
                        format!("source `{name}`: `url_template` must be an http(s) URL with `{{slug}}` in it"),
                        t.span(),
                    );
                    None
                } else {
                    Some(t.into_inner())
                }
            }
        };
        let date_from_mtime = match date_from.as_ref().map(|d| d.get_ref().as_str()) {
            None | Some("front_matter") => false,
            Some("mtime") => true,
            Some(other) => {
                let span = date_from.as_ref().map(|d| d.span()).unwrap_or_default();
                self.error(format!("source `{name}`: unknown `date_from` `{other}`"), span).help =
                    Some("use `front_matter` (the default: undated articles are skipped) or `mtime`".into());
                false
            }
        };
        let errors_after = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        Folder::Yes(
            template
                .filter(|_| errors_after == errors_before)
                .map(|url_template| FolderRules { url_template, date_from_mtime }),
        )
    }

    /// The source's kind and page-reading rules; `None` when any of it was reported as an error.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pages(
        &mut self,
        name: &str,
        kind: Option<toml::Spanned<String>>,
        follow: Option<toml::Spanned<bool>>,
        full_text: Option<toml::Spanned<bool>>,
        html: Option<toml::Spanned<raw::RawHtml>>,
        sitemap: Option<toml::Spanned<raw::RawSitemap>>,
        article: Option<toml::Spanned<raw::RawArticle>>,
    ) -> Option<PageRules> {
        let errors_before = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let is_sitemap = match &kind {
            None => sitemap.is_some() && html.is_none(),
            Some(k) => k.get_ref() == "sitemap",
        };
        let is_html = match &kind {
            None => html.is_some(),
            Some(k) => match k.get_ref().as_str() {
                "feed" | "sitemap" => false,
                "html" => true,
                other => {
                    self.error(format!("source `{name}`: unknown kind `{other}`"), k.span()).help = Some(
                        "use `feed` (RSS, Atom, JSON Feed), `html` (a page read with selectors), `sitemap` or \
                         `folder` (Markdown and HTML articles)"
                            .into(),
                    );
                    false
                }
            },
        };
        if let Some(t) = sitemap.as_ref().filter(|_| !is_sitemap) {
            self.error(format!("source `{name}`: [sources.sitemap] is for kind = \"sitemap\" sources"), t.span());
        }
        let field = |v: &mut Validator, value: Option<toml::Spanned<String>>, key: &str| -> Option<Field> {
            let value = value?;
            match Field::parse(value.get_ref()) {
                Ok(f) => Some(f),
                Err(e) => {
                    v.error(format!("source `{name}`: `{key}` is not a valid selector: {e}"), value.span()).help =
                        Some("write a CSS selector, optionally followed by @attribute: \"h3 a@href\"".into());
                    None
                }
            }
        };
        let mut article_rules = ArticleRules::default();
        if let Some(a) = article {
            let a = a.into_inner();
            article_rules.title = field(self, a.title, "article.title");
            article_rules.date = field(self, a.date, "article.date");
            article_rules.author = field(self, a.author, "article.author");
            article_rules.body = field(self, a.body, "article.body");
            for r in a.remove.unwrap_or_default() {
                match crate::extract::parse_selector(r.get_ref()) {
                    Ok(sel) => article_rules.remove.push(sel),
                    Err(e) => {
                        self.error(
                            format!("source `{name}`: `article.remove` entry is not a valid selector: {e}"),
                            r.span(),
                        );
                    }
                }
            }
        }
        let (mut date_format, mut locale) = (None, None);
        let kind = if is_html {
            let Some(h) = html else {
                let span = kind.map(|k| k.span());
                self.diagnostics.push(
                    Diagnostic::error(format!("source `{name}`: kind = \"html\" needs a [sources.html] table"), span)
                        .with_help("give at least `item`, the CSS selector of one story in the listing"),
                );
                return None;
            };
            let h = h.into_inner();
            let item = match crate::extract::parse_selector(h.item.get_ref()) {
                Ok(sel) => Some(sel),
                Err(e) => {
                    self.error(format!("source `{name}`: `html.item` is not a valid selector: {e}"), h.item.span());
                    None
                }
            };
            let mut listing = item.map(ListingRules::new);
            let title = field(self, h.title, "html.title");
            let link = field(self, h.link, "html.link");
            let date = field(self, h.date, "html.date");
            let summary = field(self, h.summary, "html.summary");
            let author = field(self, h.author, "html.author");
            let image = field(self, h.image, "html.image");
            let next = field(self, h.next, "html.next");
            if let Some(l) = listing.as_mut() {
                (l.title, l.link, l.date, l.summary, l.author, l.image, l.next) =
                    (title, link, date, summary, author, image, next);
            }
            if let Some(f) = h.date_format {
                match DateFormat::parse(f.get_ref()) {
                    Ok(df) => date_format = Some(df),
                    Err(e) => {
                        self.error(format!("source `{name}`: `html.date_format`: {e}"), f.span());
                    }
                }
            }
            if let Some(l) = h.locale {
                match l.get_ref().parse::<Locale>() {
                    Ok(loc) => locale = Some(loc),
                    Err(_) => {
                        self.error(format!("source `{name}`: unknown locale `{}`", l.get_ref()), l.span()).help =
                            Some("use `kk`, `ru` or `en`; leave it out to try them all".into());
                    }
                }
            }
            let pages = match h.pages {
                None => 1,
                Some(p) if (1..=50).contains(p.get_ref()) => *p.get_ref() as usize,
                Some(p) => {
                    self.error(format!("source `{name}`: `html.pages` must be between 1 and 50"), p.span());
                    1
                }
            };
            if let Some(f) = &full_text {
                self.error(format!("source `{name}`: `full_text` is for feed sources"), f.span()).help =
                    Some("an html source reads article pages with `follow = true`".into());
            }
            let follow = follow.is_some_and(|f| *f.get_ref());
            listing.map(|listing| SourceKind::Html { listing: Box::new(listing), pages, follow })
        } else if is_sitemap {
            if let Some(f) = &full_text {
                self.error(format!("source `{name}`: `full_text` is for feed sources"), f.span()).help =
                    Some("a sitemap source reads article pages with `follow = true`".into());
            }
            let rules = self.sitemap_rules(name, sitemap);
            Some(SourceKind::Sitemap { rules, follow: follow.is_some_and(|f| *f.get_ref()) })
        } else {
            if let Some(f) = &follow {
                self.error(
                    format!("source `{name}`: `follow` is for kind = \"html\" and \"sitemap\" sources"),
                    f.span(),
                )
                .help = Some("a feed source fetches article pages with `full_text = true`".into());
            }
            Some(SourceKind::Feed { full_text: full_text.is_some_and(|f| *f.get_ref()) })
        };
        let errors_after = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        if errors_after > errors_before {
            return None;
        }
        Some(PageRules { kind: kind?, article: article_rules, date_format, locale })
    }

    /// A sitemap source's `[sources.sitemap]` table, checked; defaults where it is absent.
    pub(super) fn sitemap_rules(
        &mut self,
        name: &str,
        sitemap: Option<toml::Spanned<raw::RawSitemap>>,
    ) -> SitemapRules {
        let mut rules = SitemapRules::default();
        let Some(t) = sitemap else { return rules };
        let t = t.into_inner();
        let patterns = |v: &mut Validator, list: Option<Vec<toml::Spanned<String>>>, key: &str| {
            let mut out = Vec::new();
            for p in list.unwrap_or_default() {
                match regex::Regex::new(p.get_ref()) {
                    Ok(r) => out.push(r),
                    Err(e) => {
                        let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                        v.error(format!("source `{name}`: `sitemap.{key}` is not a valid regex: {first}"), p.span())
                            .help =
                            Some("a regex searched in the page's URL, e.g. \"/news/\" or \"/20[0-9]{2}/\"".into());
                    }
                }
            }
            out
        };
        rules.include = patterns(self, t.url_include, "url_include");
        rules.exclude = patterns(self, t.url_exclude, "url_exclude");
        let count = |v: &mut Validator, value: Option<toml::Spanned<i64>>, key: &str, max: i64| {
            let value = value?;
            if (1..=max).contains(value.get_ref()) {
                return usize::try_from(*value.get_ref()).ok();
            }
            v.error(format!("source `{name}`: `sitemap.{key}` must be between 1 and {max}"), value.span());
            None
        };
        if let Some(n) = count(self, t.max_urls, "max_urls", 50_000) {
            rules.max_urls = n;
        }
        if let Some(n) = count(self, t.max_sitemaps, "max_sitemaps", 1000) {
            rules.max_sitemaps = n;
        }
        rules
    }
}
