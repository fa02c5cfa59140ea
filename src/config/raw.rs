//! The config file's wire shape: serde structs that mirror `feeds.toml`, and the checks that must run
//! before serde sees it (syntax, every unknown key).
//!
//! Values that a later check may complain about are `Spanned`, so that complaint can point at them.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{closest, Diagnostic};
use super::fields;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub fetch: RawFetch,
    #[serde(default)]
    pub state: RawState,
    #[serde(default)]
    pub dedup: RawDedup,
    #[serde(default)]
    pub categories: BTreeMap<String, RawCategory>,
    #[serde(default)]
    pub sources: Vec<RawSource>,
    /// `[[filters.keep]]`, `[[filters.block]]`: rules every source's entries pass through.
    #[serde(default)]
    pub filters: RawFilters,
}

/// `keep` and `block` rules (`filter::FilterSpec`), globally or for one source.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilters {
    pub keep: Option<Vec<Spanned<crate::filter::FilterSpec>>>,
    pub block: Option<Vec<Spanned<crate::filter::FilterSpec>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub dir: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    pub max_items: Option<Spanned<i64>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub retention: Option<Spanned<DurationValue>>,
    /// A WebSub hub: announced in every feed and told which feeds changed after each run.
    pub hub: Option<Spanned<String>>,
    /// Drop tracking parameters (`utm_*`, `fbclid`, …) from published entry links (default true).
    pub strip_tracking: Option<bool>,
}

/// `[dedup]`: how hard to look for the same story across sources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDedup {
    /// `"near"` (default), `"exact"` (ids, links, identical text) or `"off"` (no merging across sources).
    pub mode: Option<Spanned<String>>,
    pub threshold: Option<Spanned<f64>>,
    pub window: Option<Spanned<DurationValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub path: Option<String>,
    pub busy_timeout: Option<Spanned<DurationValue>>,
    /// `postgresql://…` (or `postgres://…`): a PostgreSQL state instead of the SQLite file (#21).
    pub url: Option<Spanned<String>>,
    /// The environment variable holding the PostgreSQL password, kept out of the URL.
    pub password_env: Option<Spanned<String>>,
    /// How long a PostgreSQL worker's lease on a source lasts unless renewed.
    pub lease: Option<Spanned<DurationValue>>,
    /// A PEM file of CA certificates the PostgreSQL server's certificate is checked against, instead of
    /// the Mozilla roots (a private CA).
    pub ca_file: Option<Spanned<String>>,
    /// `FEEDMILL_STATE_URL`, which replaces `url`; never read from the file.
    #[serde(skip)]
    pub env_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub timeout: Option<Spanned<DurationValue>>,
    pub connect_timeout: Option<Spanned<DurationValue>>,
    pub read_timeout: Option<Spanned<DurationValue>>,
    pub retry_after_cap: Option<Spanned<DurationValue>>,
    pub max_body_size: Option<Spanned<SizeValue>>,
    pub tries: Option<Spanned<i64>>,
    pub concurrency: Option<Spanned<i64>>,
    pub per_host: Option<Spanned<i64>>,
    pub user_agent: Option<String>,
    pub min_interval: Option<Spanned<DurationValue>>,
    pub max_interval: Option<Spanned<DurationValue>>,
    /// `false`: refuse targets on this machine or a private network (the SSRF guard in `fetch::guard`).
    pub allow_private_networks: Option<bool>,
    /// An HTTP proxy every request goes through, unless a source names its own.
    pub proxy: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategoryFields {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `[[categories.X.rules]]`: entries from any source that match go in too.
    pub rules: Option<Vec<Spanned<crate::categorize::rules::RuleSpec>>>,
    /// The category's own `[dedup]` mode, threshold and window; unset ones are `[dedup]`'s.
    pub dedup: Option<Spanned<String>>,
    pub dedup_threshold: Option<Spanned<f64>>,
    pub dedup_window: Option<Spanned<DurationValue>>,
}

/// A `[categories.X]` table and where it stands.
#[derive(Debug)]
pub struct RawCategory {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rules: Vec<Spanned<crate::categorize::rules::RuleSpec>>,
    /// `dedup`, `dedup_threshold` and `dedup_window`, in the shape of `[dedup]`.
    pub dedup: RawDedup,
    pub span: Range<usize>,
}

impl<'de> Deserialize<'de> for RawCategory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawCategoryFields>::deserialize(d)?;
        let span = spanned.span();
        let f = spanned.into_inner();
        Ok(RawCategory {
            title: f.title,
            description: f.description,
            rules: f.rules.unwrap_or_default(),
            dedup: RawDedup { mode: f.dedup, threshold: f.dedup_threshold, window: f.dedup_window },
            span,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub categories: Option<Vec<Spanned<String>>>,
    pub timezone: Option<Spanned<String>>,
    /// The language the source's dates are written in, a CLDR tag (`de`, `uz-Cyrl`); else the feed's
    /// or page's declared language.
    pub locale: Option<Spanned<String>>,
    pub min_interval: Option<Spanned<DurationValue>>,
    /// `"feed"` (default), `"html"`, `"folder"` or `"sitemap"`.
    pub kind: Option<Spanned<String>>,
    /// HTML and sitemap sources: fetch each new item's page for its full text.
    pub follow: Option<Spanned<bool>>,
    /// Feed sources: replace summary-only content with the article page's text.
    pub full_text: Option<Spanned<bool>>,
    pub html: Option<Spanned<RawHtml>>,
    pub sitemap: Option<Spanned<RawSitemap>>,
    pub article: Option<Spanned<RawArticle>>,
    /// Shown in outputs instead of the feed's own title.
    pub title: Option<Spanned<String>>,
    /// `false`: not fetched, reported `disabled`; its stored entries stay until retention.
    pub enabled: Option<bool>,
    /// `false`: the URL is kept out of `index.html` and `sources.opml`.
    pub publish_url: Option<bool>,
    pub user_agent: Option<Spanned<String>>,
    pub proxy: Option<Spanned<String>>,
    /// HTTP Basic auth; the password comes from the environment or a file, never from this file.
    pub auth: Option<Spanned<RawAuth>>,
    /// Extra request headers: a value, or `{ env = "VAR" }`, or `{ file = "path" }`.
    pub headers: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawHeaderValue>>>>,
    /// More query parameter names whose values are never printed.
    pub secret_params: Option<Vec<Spanned<String>>>,
    /// `[[sources.filters.keep]]`, `[[sources.filters.block]]`: this source's own rules.
    pub filters: Option<RawFilters>,
    /// Folder sources: each article's link, `{slug}` replaced.
    pub url_template: Option<Spanned<String>>,
    /// Folder sources: `"front_matter"` (default) or `"mtime"`, for articles with no date of their own.
    pub date_from: Option<Spanned<String>>,
}

/// `auth = { username = "…", password_env = "VAR" }` (or `password_file = "path"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub username: Spanned<String>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
}

/// A header's value as written: the value itself, or where to read it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawHeaderValue {
    Plain(String),
    From(RawSecretRef),
}

/// `{ env = "VAR" }` or `{ file = "path" }`: a secret kept out of the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecretRef {
    pub env: Option<String>,
    pub file: Option<String>,
}

/// `[sources.html]`: how to read a listing page. Selectors are written `"h3 a"` or `"h3 a@href"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHtml {
    pub item: Spanned<String>,
    pub title: Option<Spanned<String>>,
    pub link: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub date_format: Option<Spanned<String>>,
    pub locale: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub next: Option<Spanned<String>>,
    pub pages: Option<Spanned<i64>>,
}

/// `[sources.sitemap]`: which pages of a sitemap make entries (all optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSitemap {
    /// Regexes: a page is kept when its URL matches one of them (all pages when none is given).
    pub url_include: Option<Vec<Spanned<String>>>,
    /// Regexes: a page whose URL matches one of them is dropped.
    pub url_exclude: Option<Vec<Spanned<String>>>,
    /// The newest pages kept per run.
    pub max_urls: Option<Spanned<i64>>,
    /// Child sitemaps of an index fetched per run, newest first.
    pub max_sitemaps: Option<Spanned<i64>>,
}

/// `[sources.article]`: how to read an article page (all optional: readability fills the gaps).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArticle {
    pub title: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub body: Option<Spanned<String>>,
    /// Extra selectors cut from article pages, on top of the built-in noise rules.
    pub remove: Option<Vec<Spanned<String>>>,
}

/// `30`, `"30s"`, `"500ms"`, `"2m"`, `"1h"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DurationValue {
    Seconds(u64),
    Text(String),
}

impl DurationValue {
    pub fn to_duration(&self) -> Result<Duration, String> {
        match self {
            DurationValue::Seconds(s) => Ok(Duration::from_secs(*s)),
            DurationValue::Text(t) => {
                let (number, unit) = split_number(t);
                let n: f64 = number.parse().map_err(|_| format!("`{t}` is not a duration"))?;
                let secs = match unit {
                    "ms" => n / 1000.0,
                    "" | "s" => n,
                    "m" | "min" => n * 60.0,
                    "h" => n * 3600.0,
                    "d" => n * 86400.0,
                    _ => return Err(format!("`{t}` has an unknown unit `{unit}` (use ms, s, m, h or d)")),
                };
                Duration::try_from_secs_f64(secs).map_err(|_| format!("`{t}` is out of range"))
            }
        }
    }
}

/// `1048576`, `"20MiB"`, `"512KiB"`, `"1GB"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    Bytes(u64),
    Text(String),
}

impl SizeValue {
    pub fn to_bytes(&self) -> Result<u64, String> {
        match self {
            SizeValue::Bytes(b) => Ok(*b),
            SizeValue::Text(t) => {
                let (number, unit) = split_number(t);
                let n: f64 = number.parse().map_err(|_| format!("`{t}` is not a size"))?;
                let mult = match unit.to_ascii_lowercase().as_str() {
                    "" | "b" => 1.0,
                    "kb" => 1e3,
                    "kib" | "k" => 1024.0,
                    "mb" => 1e6,
                    "mib" | "m" => 1024.0 * 1024.0,
                    "gb" => 1e9,
                    "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
                    _ => return Err(format!("`{t}` has an unknown unit `{unit}` (use B, KiB, MiB or GiB)")),
                };
                Ok((n * mult) as u64)
            }
        }
    }
}

fn split_number(t: &str) -> (&str, &str) {
    let t = t.trim();
    let at = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    (&t[..at], t[at..].trim())
}

/// Syntax, then every unknown key and every type error (the first of each table) together, so `check`
/// shows them at once. Unknown keys are reported and then left out, so the rest of the file is still read
/// and validated; only a syntax or type error yields no config.
pub fn parse(text: &str) -> Result<(RawConfig, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut doc = DeTable::parse(text)
        .map_err(|e| vec![Diagnostic::error(format!("invalid TOML: {}", first_line(e.message())), e.span())])?;
    let mut unknown = Vec::new();
    check_all_keys(&mut doc, &mut unknown);
    // From the table already parsed: parsing the text again cost as much as checking it (10,000
    // sources make a 700 KB file).
    match RawConfig::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => Ok((raw, unknown)),
        Err(e) => {
            let mut errors = type_errors(text);
            if errors.is_empty() {
                errors.push(Diagnostic::error(first_line(e.message()), e.span()));
            }
            unknown.extend(errors);
            Err(unknown)
        }
    }
}

/// Reports every unknown key of the document into `out`, and removes it.
fn check_all_keys(doc: &mut Spanned<DeTable>, out: &mut Vec<Diagnostic>) {
    check_keys(doc.get_mut(), fields::of::<RawConfig>(), "the top level", out, |key, value, out| match key {
        "output" => check_value(value, fields::of::<RawOutput>(), "[output]", out),
        "fetch" => check_value(value, fields::of::<RawFetch>(), "[fetch]", out),
        "state" => check_value(value, fields::of::<RawState>(), "[state]", out),
        "dedup" => check_value(value, fields::of::<RawDedup>(), "[dedup]", out),
        "filters" => check_filters(value, "filters", out),
        "categories" => {
            if let DeValue::Table(t) = value {
                for (slug, cat) in t.iter_mut() {
                    let what = format!("[categories.{}]", slug.get_ref());
                    check_value(cat.get_mut(), fields::of::<RawCategoryFields>(), &what, out);
                }
            }
        }
        "sources" => {
            if let DeValue::Array(arr) = value {
                for (i, t) in arr.iter_mut().enumerate() {
                    let DeValue::Table(t) = t.get_mut() else { continue };
                    let what = format!("[[sources]] #{}", i + 1);
                    check_keys(t, fields::of::<RawSource>(), &what, out, |key, value, out| match key {
                        "html" => {
                            check_value(value, fields::of::<RawHtml>(), &format!("[sources.html] of {what}"), out)
                        }
                        "article" => {
                            check_value(value, fields::of::<RawArticle>(), &format!("[sources.article] of {what}"), out)
                        }
                        "sitemap" => {
                            check_value(value, fields::of::<RawSitemap>(), &format!("[sources.sitemap] of {what}"), out)
                        }
                        "auth" => check_value(value, fields::of::<RawAuth>(), &format!("`auth` of {what}"), out),
                        "headers" => {
                            if let DeValue::Table(headers) = value {
                                for (name, v) in headers.iter_mut() {
                                    let inner = format!("header `{}` of {what}", name.get_ref());
                                    check_value(v.get_mut(), fields::of::<RawSecretRef>(), &inner, out);
                                }
                            }
                        }
                        "filters" => check_filters(value, &format!("sources[{i}].filters"), out),
                        _ => {}
                    });
                }
            }
        }
        _ => {}
    });
}

/// Every type error of the document, one per table at most: serde stops at the first error, so each
/// section, category and source is read on its own. Only when the whole document failed, so a good
/// config is read once.
fn type_errors(text: &str) -> Vec<Diagnostic> {
    let Ok(mut doc) = DeTable::parse(text) else { return Vec::new() };
    check_all_keys(&mut doc, &mut Vec::new());
    fn one<'de, T: Deserialize<'de>>(value: Spanned<DeValue<'de>>, out: &mut Vec<Diagnostic>) {
        if let Err(e) = T::deserialize(toml::de::ValueDeserializer::from(value)) {
            out.push(Diagnostic::error(first_line(e.message()), e.span()));
        }
    }
    let mut out = Vec::new();
    for (key, value) in doc.into_inner() {
        match (key.get_ref().as_ref(), value) {
            ("output", v) => one::<RawOutput>(v, &mut out),
            ("fetch", v) => one::<RawFetch>(v, &mut out),
            ("state", v) => one::<RawState>(v, &mut out),
            ("dedup", v) => one::<RawDedup>(v, &mut out),
            ("filters", v) => one::<RawFilters>(v, &mut out),
            ("categories", v) => match (v.span(), v.into_inner()) {
                (_, DeValue::Table(t)) => t.into_iter().for_each(|(_, c)| one::<RawCategory>(c, &mut out)),
                (span, other) => one::<BTreeMap<String, RawCategory>>(Spanned::new(span, other), &mut out),
            },
            ("sources", v) => match (v.span(), v.into_inner()) {
                (_, DeValue::Array(a)) => a.into_iter().for_each(|src| one::<RawSource>(src, &mut out)),
                (span, other) => one::<Vec<RawSource>>(Spanned::new(span, other), &mut out),
            },
            _ => {}
        }
    }
    out
}

/// The keys of a `[filters]` table (`name`: `filters` or `sources[3].filters`) and of each of its
/// rules, named as rules are in errors (`filters.block[0]`).
fn check_filters(value: &mut DeValue, name: &str, out: &mut Vec<Diagnostic>) {
    let DeValue::Table(t) = value else { return };
    check_keys(t, fields::of::<RawFilters>(), &format!("[{name}]"), out, |kind, rules, out| {
        let DeValue::Array(rules) = rules else { return };
        for (i, rule) in rules.iter_mut().enumerate() {
            let what = format!("{name}.{kind}[{i}]");
            check_value(rule.get_mut(), fields::of::<crate::filter::FilterSpec>(), &what, out);
        }
    });
}

fn check_value(value: &mut DeValue, known: &[&str], what: &str, out: &mut Vec<Diagnostic>) {
    if let DeValue::Table(t) = value {
        check_keys(t, known, what, out, |_, _, _| {});
    }
}

/// Reports every key of `table` not in `known`, and removes it.
fn check_keys(
    table: &mut DeTable,
    known: &[&str],
    what: &str,
    out: &mut Vec<Diagnostic>,
    mut nested: impl FnMut(&str, &mut DeValue, &mut Vec<Diagnostic>),
) {
    let mut unknown = Vec::new();
    for (key, value) in table.iter_mut() {
        let name = key.get_ref().as_ref();
        if known.contains(&name) {
            nested(name, value.get_mut(), out);
            continue;
        }
        let mut d = Diagnostic::error(format!("unknown key `{name}` in {what}"), Some(key.span()));
        d = match closest(name, known.iter().copied()) {
            Some(best) => d.with_help(format!("did you mean `{best}`?")),
            None => d.with_help(format!(
                "expected one of {}",
                known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            )),
        };
        out.push(d);
        unknown.push(name.to_owned());
    }
    if !unknown.is_empty() {
        // `retain` wants plain string keys; these are spanned.
        for (key, value) in std::mem::take(table) {
            if !unknown.iter().any(|u| u.as_str() == key.get_ref().as_ref()) {
                table.insert(key, value);
            }
        }
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}
