//! Config: `feeds.toml` → a validated [`Config`].
//!
//! Two steps, as in zola and mdBook: [`Config::parse`] is pure (text in, config or diagnostics out, no
//! I/O but reading the secrets the config points to) and [`Config::from_file`] reads the file and resolves relative paths against the file's folder, so
//! a cron job started from `/` reads the same sources as a user in the project folder.
//!
//! Everything wrong with a file is reported at once, in file order: unknown keys (with the closest valid
//! key), type errors (the first of each table), and semantic errors (duplicate source names, unknown
//! categories, bad URLs, bad time zones, bad durations, rules that do not compile) of whatever parsed —
//! unknown keys are left out, so the rest is still validated. Each [`Diagnostic`] carries the span it is about, so messages name the file,
//! line and column. A config with errors yields no `Config`, so nothing is fetched or written.

mod diagnostic;
mod fields;
mod raw;
mod state;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

pub use diagnostic::{Diagnostic, Severity};
pub use state::{StateUrl, STATE_URL_ENV};

pub use crate::categorize::{Category, ALL};
pub use crate::dedup::DedupMode;
use crate::extract::{ArticleRules, ListingRules};
use crate::fetch::{FetchSettings, Location, RequestSettings};
use crate::filter::Filters;
use crate::normalize::dates::{DateFormat, DateLocale, Locale};
pub use crate::parse::folder::FolderRules;
pub use crate::parse::sitemap::SitemapRules;
use crate::schedule::Bounds;
use validate::Validator;

/// A validated configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    pub output: OutputConfig,
    pub fetch: FetchSettings,
    /// How many sources are fetched at once.
    pub concurrency: usize,
    /// Bounds on how often sources are fetched (see `schedule`).
    pub schedule: Bounds,
    /// The state database; absolute once read through `from_file`.
    pub state_path: PathBuf,
    /// How long a write to the state database waits for another program's lock on it.
    pub state_busy_timeout: Duration,
    /// A PostgreSQL state (`[state] url`, or `FEEDMILL_STATE_URL`) instead of the SQLite file.
    pub state_url: Option<StateUrl>,
    /// `[state] lease`: how long a PostgreSQL worker holds a source it claimed unless it renews it.
    pub state_lease: Duration,
    /// What the config says, as a hash: the same for two files that differ only in comments, layout,
    /// the order of keys in a table or `[state]` (which is per machine). Workers sharing a PostgreSQL
    /// state must run the same one.
    pub digest: String,
    /// How stories are merged across sources.
    pub dedup: DedupMode,
    /// Every category an output is written for, `all` excluded, in slug order.
    pub categories: Vec<Category>,
    /// In config order.
    pub sources: Vec<Source>,
    /// `[filters]`: keep and block rules for every source's entries.
    pub filters: Filters,
    /// Problems that do not stop a run (a declared category no source uses).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutputConfig {
    /// Where outputs are written; absolute once read through `from_file`.
    pub dir: PathBuf,
    /// Public URL `dir` is served at, with a trailing slash; gives self links and feed ids.
    pub base_url: Option<Url>,
    pub max_items: usize,
    pub title: String,
    pub description: Option<String>,
    pub language: Option<String>,
    /// How long an entry stays after it was last seen in its source's feed.
    pub retention: Duration,
    /// The WebSub hub every feed names (`rel="hub"`) and that is pinged with the feeds a run changed.
    /// Only set together with `base_url`: the hub is told the feeds' public URLs.
    pub hub: Option<Url>,
    /// Drop tracking parameters from entry links (`[output] strip_tracking`, default true).
    pub strip_tracking: bool,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Source {
    pub name: String,
    /// The URL or path as written in the config (shown in reports and OPML).
    pub url: String,
    pub location: Location,
    /// Category slugs, `all` not included.
    pub categories: Vec<String>,
    /// Zone for dates that carry none.
    pub timezone: Tz,
    /// Overrides `[fetch] min_interval` for this source.
    pub min_interval: Option<Duration>,
    pub kind: SourceKind,
    /// How to read article pages (`follow` / `full_text`); empty rules mean readability throughout.
    pub article: ArticleRules,
    /// `[sources.html] date_format` and `locale`, for pages' dates.
    pub date_format: Option<DateFormat>,
    pub locale: Option<Locale>,
    /// The source's `locale` (else `[sources.html] locale`): the language its dates are read in, before
    /// the feed's or page's declared one.
    pub date_locale: Option<DateLocale>,
    /// `[output] strip_tracking`, where normalizing this source's entries reads it.
    pub strip_tracking: bool,
    /// Shown in outputs instead of the feed's own title.
    pub title: Option<String>,
    /// `false`: not fetched, reported `disabled`; its stored entries stay until retention purges them.
    pub enabled: bool,
    /// `false`: the URL stays out of `index.html` and `sources.opml`.
    pub publish_url: bool,
    /// The source's own user agent, headers, auth and proxy.
    pub request: RequestSettings,
    /// `[sources.filters]`: this source's keep and block rules, applied after `[filters]`'s.
    pub filters: Filters,
}

/// What a source's URL serves.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A feed (RSS, Atom, JSON Feed), or a page that advertises one.
    Feed {
        /// Replace summary-only content with the article page's text, fetched once per entry.
        full_text: bool,
    },
    /// A listing page read with selectors.
    Html {
        listing: Box<ListingRules>,
        /// Listing pages read per run, following the `next` link.
        pages: usize,
        /// Fetch each new item's page for its full text.
        follow: bool,
    },
    /// A local folder of Markdown and HTML articles with front matter (`parse::folder`).
    Folder(FolderRules),
    /// A sitemap or sitemap index: each listed page is an entry.
    Sitemap {
        rules: SitemapRules,
        /// Fetch each new page for its title, text, author and date.
        follow: bool,
    },
}

impl SourceKind {
    /// Whether entries' pages are fetched for their text.
    pub fn fetches_articles(&self) -> bool {
        matches!(
            self,
            SourceKind::Feed { full_text: true }
                | SourceKind::Html { follow: true, .. }
                | SourceKind::Sitemap { follow: true, .. }
        )
    }
}

impl crate::categorize::Categorized for Source {
    fn categories(&self) -> &[String] {
        &self.categories
    }
}

impl Source {
    /// The scheduling bounds for this source.
    pub fn bounds(&self, global: Bounds) -> Bounds {
        Bounds { min_interval: self.min_interval.or(global.min_interval), ..global }
    }
}

/// All the problems of one config file, with the text they point into so they can be rendered.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    /// The file name as the user gave it (or `<string>`).
    pub origin: String,
    pub text: String,
    /// Errors first, then warnings, each in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            // The quoted line may be a URL with credentials in it.
            write!(f, "{}", crate::redact::text(&d.render(&self.origin, &self.text)))?;
        }
        let errors = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        if errors > 0 {
            write!(f, "\n{}: {errors} error{} found", self.origin, if errors == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Box<ConfigErrors>),
}

impl Config {
    /// Reads and validates a config file. Relative paths in it are resolved against its folder;
    /// [`STATE_URL_ENV`], when set, replaces `[state] url`.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let state_url = std::env::var(STATE_URL_ENV).ok().filter(|u| !u.trim().is_empty());
        Config::parse_with_state_url(&text, &path.display().to_string(), &Config::base_dir(path), state_url)
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// The folder a config file's relative paths are resolved against: its own, made absolute.
    pub fn base_dir(path: &Path) -> PathBuf {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// Validates config text. `origin` names it in messages; `base_dir` anchors relative paths.
    /// Does no I/O but one kind: paths are resolved but not checked for existence (a missing file is a
    /// source failure at run time, not a config error). The exception is secrets (`password_env`,
    /// `password_file`, header `env`/`file`): they are read here, so a missing one is a config error
    /// `check` reports with its place, not a failure in the middle of a run. Secrets found are
    /// registered with `crate::redact`, which keeps them out of everything printed.
    pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
        Config::parse_with_state_url(text, origin, base_dir, None)
    }

    /// [`parse`](Self::parse), with the state URL the environment gave ([`STATE_URL_ENV`]), which
    /// replaces `[state] url`. Passed in rather than read here, so tests never race on the variable.
    pub fn parse_with_state_url(
        text: &str,
        origin: &str,
        base_dir: &Path,
        state_url: Option<String>,
    ) -> Result<Config, ConfigErrors> {
        let fail = |diagnostics| ConfigErrors { origin: origin.to_owned(), text: text.to_owned(), diagnostics };
        let (mut raw, unknown) = raw::parse(text).map_err(|mut diagnostics| {
            diagnostics.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
            fail(diagnostics)
        })?;
        raw.state.env_url = state_url;
        // Unknown keys were left out of `raw`: what remains is validated too, so every problem shows.
        let mut v = Validator { diagnostics: unknown };
        let config = v.validate(raw, base_dir);
        v.diagnostics.sort_by_key(|d| (d.severity == Severity::Warning, d.span.as_ref().map(|s| s.start)));
        match config {
            Some(mut config) if !v.has_errors() => {
                config.warnings = v.diagnostics;
                config.digest = digest(text);
                Ok(config)
            }
            _ => Err(fail(v.diagnostics)),
        }
    }

    /// The category's metadata, or defaults for `all`.
    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == slug)
    }
}

/// How long a write to the SQLite state waits for another program's lock on it before giving up, when
/// `[state] busy_timeout` says nothing.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a PostgreSQL worker's lease lasts when `[state] lease` says nothing: a worker renews it every
/// third of that, and a killed worker's sources wait this long before another takes them over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// [`Config::digest`] of valid config text: SHA-256 of its values written out in one canonical form
/// (keys sorted, `[state]` left out).
fn digest(text: &str) -> String {
    use sha2::Digest as _;
    fn canonical(value: &toml::Value, out: &mut String) {
        match value {
            toml::Value::Table(table) => {
                let mut keys: Vec<&String> = table.keys().collect();
                keys.sort();
                out.push('{');
                for key in keys {
                    out.push_str(&format!("{key:?}="));
                    canonical(&table[key], out);
                    out.push(',');
                }
                out.push('}');
            }
            toml::Value::Array(items) => {
                out.push('[');
                for item in items {
                    canonical(item, out);
                    out.push(',');
                }
                out.push(']');
            }
            toml::Value::String(s) => out.push_str(&format!("{s:?}")),
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    if let Ok(mut table) = text.parse::<toml::Table>() {
        table.remove("state");
        canonical(&toml::Value::Table(table), &mut out);
    }
    let hash = sha2::Sha256::digest(out.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A duration as the config writes it: seconds (`90`), or a number and a unit (`500ms`, `30s`, `15m`,
/// `1h`, `1d`). The command line reads `--every` with it, so both accept the same words.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let value = match text.trim().parse::<u64>() {
        Ok(secs) => raw::DurationValue::Seconds(secs),
        Err(_) => raw::DurationValue::Text(text.to_owned()),
    };
    value.to_duration()
}

/// The rule for category slugs (they become folder names): lowercase ASCII letters, digits, `-`, `_`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests;
