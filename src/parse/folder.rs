//! A folder of articles → [`RawFeed`]: the generator side of feedmill (`kind = "folder"` sources).
//!
//! In: each article file's relative path, bytes and modification time (read by `fetch::folder`), and
//! the source's [`FolderRules`]. Out: one [`RawEntry`] per published article, in the shape a feed
//! parser gives, so normalize, dedup, categorize and emit treat a publisher's own folder like any feed.
//!
//! - **Body**: Markdown (`.md`, `.markdown`; CommonMark with tables and footnotes, by pulldown-cmark)
//!   is rendered to HTML; an `.html`/`.htm` file's body is HTML already. Either is sanitized later.
//! - **Link**: the `url_template` with `{slug}` replaced; the slug is the front matter's `slug`, else
//!   the file name without its extension and date prefix (`2024-11-22-ekspo.md` → `ekspo`; a file named
//!   `index.md` takes its folder's name). Relative links and images in the body resolve against it.
//! - **Id**: the front matter's `id`, else the file's relative path, so editing an article (its text,
//!   title or date) updates the published entry in place instead of adding another.
//! - **Date**: the front matter's `date`, else the file name's `2024-11-22-` prefix, else (only with
//!   `date_from = "mtime"`) the file's modification time. A date without a zone is read in the
//!   source's `timezone` by normalize, like any feed date.
//!
//! Drafts (`draft = true`) are left out. A file that is not UTF-8, whose front matter is broken, or
//! that has no date (or one that cannot be read) is left out with a warning naming it (and the line, where there is one); the others
//! still publish.

use chrono::{DateTime, NaiveDate, Utc};
use pulldown_cmark::{html, Options, Parser};
use url::Url;

use super::front_matter;
use crate::model::{FeedFormat, Person, RawEntry, RawFeed, Text};

/// How a folder's articles become entries.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderRules {
    /// Each article's link: `{slug}` is replaced by its slug.
    pub url_template: String,
    /// Date an article that has no date of its own (front matter or file name) by its mtime.
    pub date_from_mtime: bool,
}

/// One article file as read from the folder.
#[derive(Debug, Clone)]
pub struct Article<'a> {
    /// Relative to the folder, `/`-separated.
    pub path: &'a str,
    pub bytes: &'a [u8],
    pub modified: Option<DateTime<Utc>>,
}

/// The folder's articles as a feed, in file order; `warnings` name each file left out and why.
/// `reads_date` says whether normalize can read a front matter date (in the source's locale): parse
/// keeps dates as written and leaves reading them to normalize, but an article whose date cannot be
/// read is refused here, where its file can be named.
pub fn folder(articles: &[Article], rules: &FolderRules, reads_date: impl Fn(&str) -> bool) -> RawFeed {
    let mut feed = super::empty_feed(FeedFormat::Folder);
    let mut drafts = 0;
    for article in articles {
        match entry(article, rules, &reads_date) {
            Ok(Some(e)) => feed.entries.push(e),
            Ok(None) => drafts += 1,
            Err(why) => feed.warnings.push(format!("{}{why}; skipped", article.path)),
        }
    }
    if drafts > 0 {
        tracing::debug!(drafts, "drafts left out");
    }
    feed
}

/// The article's entry, `None` for a draft, or why it cannot be published (after its path: `:3: …`).
fn entry(
    article: &Article,
    rules: &FolderRules,
    reads_date: &impl Fn(&str) -> bool,
) -> Result<Option<RawEntry>, String> {
    let text = std::str::from_utf8(article.bytes).map_err(|e| {
        let line = 1 + article.bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        format!(":{line}: not UTF-8 text (save the file as UTF-8)")
    })?;
    let (front, body) = front_matter::split(text).map_err(|e| format!(":{}: {}", e.line, e.message))?;
    if front.draft {
        return Ok(None);
    }
    if let Some(date) = &front.date {
        // Checked here, where the file can be named; normalize reads it again in the source's zone.
        if !reads_date(date) {
            return Err(format!(": `date` {date:?} in its front matter is not a date feedmill can read"));
        }
    }
    let (file_date, file_slug) = from_file_name(article.path);
    let date = front
        .date
        .clone()
        .or(file_date)
        .or_else(|| article.modified.filter(|_| rules.date_from_mtime).map(|m| m.to_rfc3339()))
        .ok_or_else(|| {
            let mtime = if rules.date_from_mtime { "" } else { ", or set date_from = \"mtime\"" };
            format!(": no date: give it a `date` in its front matter or a 2024-11-22- file name prefix{mtime}")
        })?;
    let slug = front.slug.clone().unwrap_or(file_slug);
    let link = rules.url_template.replace("{slug}", &slug);
    let link = Url::parse(&link).map_err(|e| format!(": its link `{link}` is not a valid URL: {e}"))?;
    let is_markdown = article
        .path
        .rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown"));
    let content = if is_markdown { markdown(body) } else { body.to_owned() };
    Ok(Some(RawEntry {
        id: Some(front.id.unwrap_or_else(|| article.path.to_owned())),
        id_is_permalink: false,
        link: Some(link.to_string()),
        title: front.title.map(Text::plain),
        summary: front.summary.map(Text::plain),
        content: Some(Text::html(content)).filter(|t| !t.value.trim().is_empty()),
        authors: front.authors.into_iter().map(|name| Person { name: Some(name), ..Person::default() }).collect(),
        categories: front.tags.into_iter().take(super::MAX_VALUES_PER_ENTRY).collect(),
        published: Some(date),
        updated: front.updated,
        language: None,
        enclosures: Vec::new(),
        image: front.image,
        base: Some(link.to_string()),
    }))
}

/// CommonMark with tables and footnotes, as HTML.
fn markdown(body: &str) -> String {
    let mut out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES));
    out
}

/// The date a `2024-11-22-slug.md` name gives (as `2024-11-22`), and the slug the name gives: without
/// the folders, the extension and the date prefix; an `index` file takes its folder's name.
fn from_file_name(path: &str) -> (Option<String>, String) {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or(path);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let stem = match (stem, parts.next()) {
        ("index", Some(parent)) => parent,
        _ => stem,
    };
    let dated = stem
        .get(..10)
        .filter(|prefix| NaiveDate::parse_from_str(prefix, "%Y-%m-%d").is_ok())
        .map(|prefix| (prefix.to_owned(), stem[10..].trim_start_matches(['-', '_'])))
        .filter(|(_, rest)| !rest.is_empty() || stem.len() == 10);
    match dated {
        Some((date, "")) => (Some(date), stem.to_owned()),
        Some((date, rest)) => (Some(date), rest.to_owned()),
        None => (None, stem.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(mtime: bool) -> FolderRules {
        FolderRules { url_template: "https://example.kz/news/{slug}/".into(), date_from_mtime: mtime }
    }

    fn one(path: &str, text: &str, mtime: bool) -> RawFeed {
        let modified = DateTime::parse_from_rfc3339("2024-12-01T08:00:00Z").ok().map(|d| d.to_utc());
        folder(&[Article { path, bytes: text.as_bytes(), modified }], &rules(mtime), |d| {
            crate::normalize::reads_date(d, None)
        })
    }

    #[test]
    fn file_names_give_dates_and_slugs() {
        assert_eq!(from_file_name("2024-11-22-ekspo.md"), (Some("2024-11-22".into()), "ekspo".into()));
        assert_eq!(from_file_name("news/2024-11-22_ekspo.html"), (Some("2024-11-22".into()), "ekspo".into()));
        assert_eq!(from_file_name("ekspo.md"), (None, "ekspo".into()));
        assert_eq!(from_file_name("ekspo/index.md"), (None, "ekspo".into()));
        assert_eq!(from_file_name("2024-13-40-x.md"), (None, "2024-13-40-x".into()));
    }

    #[test]
    fn markdown_becomes_an_entry_linked_by_the_template() {
        let feed = one(
            "2024-11-22-ekspo.md",
            "+++\ntitle = \"Экспо\"\ntags = [\"Астана\"]\n+++\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1] ![p](img/p.jpg)\n\n[^1]: Note.\n",
            false,
        );
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
        let e = &feed.entries[0];
        assert_eq!(e.id.as_deref(), Some("2024-11-22-ekspo.md"));
        assert_eq!(e.link.as_deref(), Some("https://example.kz/news/ekspo/"));
        assert_eq!(e.base.as_deref(), Some("https://example.kz/news/ekspo/"));
        assert_eq!(e.published.as_deref(), Some("2024-11-22"));
        assert_eq!(e.categories, ["Астана"]);
        let html = &e.content.as_ref().unwrap().value;
        assert!(html.contains("<table>") && html.contains("<td>2</td>"), "{html}");
        assert!(html.contains("footnote-definition"), "{html}");
        assert!(html.contains("src=\"img/p.jpg\""), "{html}");
    }

    #[test]
    fn drafts_are_left_out_and_problems_name_the_file() {
        assert!(one("a.md", "---\ndraft: true\ndate: 2024-01-01\n---\nx", false).entries.is_empty());
        let undated = one("about.md", "no date here", false);
        assert!(undated.entries.is_empty());
        assert!(undated.warnings[0].starts_with("about.md: no date"), "{:?}", undated.warnings);
        let by_mtime = one("about.md", "no date here", true);
        assert_eq!(by_mtime.entries[0].published.as_deref(), Some("2024-12-01T08:00:00+00:00"));
        let latin1 =
            folder(&[Article { path: "old.md", bytes: b"title\n\xe9t\xe9\n", modified: None }], &rules(false), |d| {
                crate::normalize::reads_date(d, None)
            });
        assert_eq!(latin1.warnings, ["old.md:2: not UTF-8 text (save the file as UTF-8); skipped"]);
        let unreadable = one("when.md", "---\ndate: once upon a time\n---\nx", false);
        assert_eq!(
            unreadable.warnings,
            ["when.md: `date` \"once upon a time\" in its front matter is not a date feedmill can read; skipped"]
        );
        let broken = one("bad.md", "+++\ntitle = \"x\n+++\n", false);
        assert!(broken.warnings[0].starts_with("bad.md:2: invalid TOML front matter"), "{:?}", broken.warnings);
    }

    #[test]
    fn front_matter_slug_and_id_win_over_the_file_name() {
        let feed = one("2024-11-22-x.md", "---\nslug: жаңалық\nid: urn:news:7\n---\nx", false);
        let e = &feed.entries[0];
        assert_eq!(e.id.as_deref(), Some("urn:news:7"));
        assert_eq!(e.link.as_deref(), Some("https://example.kz/news/%D0%B6%D0%B0%D2%A3%D0%B0%D0%BB%D1%8B%D2%9B/"));
    }
}
