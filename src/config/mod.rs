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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

pub use diagnostic::{Diagnostic, Severity};

use crate::categorize::rules::CompiledRule;
pub use crate::categorize::{Category, ALL};
pub use crate::dedup::DedupMode;
use crate::dedup::NearSettings;
use crate::extract::{ArticleRules, Field, ListingRules};
use crate::fetch::{BasicAuth, FetchSettings, Location, RequestSettings};
use crate::filter::Filters;
use crate::normalize::dates::{DateFormat, DateLocale, Locale};
pub use crate::parse::folder::FolderRules;
use crate::schedule::Bounds;

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

/// `[sources.sitemap]`: which pages of a sitemap become entries, and how many per run.
#[derive(Debug, Clone)]
pub struct SitemapRules {
    /// A page is kept when its URL matches one of these (every page when empty)…
    pub include: Vec<regex::Regex>,
    /// …and none of these.
    pub exclude: Vec<regex::Regex>,
    /// The newest pages kept per run.
    pub max_urls: usize,
    /// Child sitemaps of an index fetched per run, newest first.
    pub max_sitemaps: usize,
}

impl SitemapRules {
    /// Default `max_urls`: a news sitemap holds at most 1,000 URLs, and a site-wide one's newest
    /// thousand cover any refresh interval.
    pub const MAX_URLS: usize = 1000;
    /// Default `max_sitemaps`.
    pub const MAX_SITEMAPS: usize = 10;

    /// Whether the page at `url` becomes an entry.
    pub fn selects(&self, url: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(url)))
            && !self.exclude.iter().any(|r| r.is_match(url))
    }
}

impl Default for SitemapRules {
    fn default() -> Self {
        SitemapRules {
            include: Vec::new(),
            exclude: Vec::new(),
            max_urls: Self::MAX_URLS,
            max_sitemaps: Self::MAX_SITEMAPS,
        }
    }
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
    /// Reads and validates a config file. Relative paths in it are resolved against its folder.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::parse(&text, &path.display().to_string(), &Config::base_dir(path))
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
        let fail = |diagnostics| ConfigErrors { origin: origin.to_owned(), text: text.to_owned(), diagnostics };
        let (raw, unknown) = raw::parse(text).map_err(|mut diagnostics| {
            diagnostics.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
            fail(diagnostics)
        })?;
        // Unknown keys were left out of `raw`: what remains is validated too, so every problem shows.
        let mut v = Validator { diagnostics: unknown };
        let config = v.validate(raw, base_dir);
        v.diagnostics.sort_by_key(|d| (d.severity == Severity::Warning, d.span.as_ref().map(|s| s.start)));
        match config {
            Some(mut config) if !v.has_errors() => {
                config.warnings = v.diagnostics;
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

#[derive(Default)]
struct Validator {
    diagnostics: Vec<Diagnostic>,
}

impl Validator {
    fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    fn error(&mut self, message: impl Into<String>, span: std::ops::Range<usize>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::error(message, Some(span)));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn validate(&mut self, raw: raw::RawConfig, base_dir: &Path) -> Option<Config> {
        let output = self.output(raw.output, base_dir);
        let (fetch, concurrency, schedule) = self.fetch(raw.fetch);
        let state_path = base_dir.join(raw.state.path.as_deref().unwrap_or(".feedmill/state.db"));
        let state_busy_timeout = self
            .duration(raw.state.busy_timeout, "busy_timeout")
            .map(|d| d.unwrap_or(crate::store::DEFAULT_BUSY_TIMEOUT));
        let global_dedup = self.dedup(raw.dedup, "", DedupMode::Near(NearSettings::default()), NearSettings::default());

        let declared: BTreeMap<String, Category> = raw
            .categories
            .iter()
            .filter_map(|(slug, c)| {
                let span = c.span.clone();
                if !self.check_slug(slug, span) {
                    return None;
                }
                let title = c.title.clone().unwrap_or_else(|| default_title(slug));
                let mut rules = Vec::new();
                for (i, spec) in c.rules.iter().enumerate() {
                    match CompiledRule::compile(spec.get_ref(), &format!("categories.{slug}.rules[{i}]")) {
                        Ok(rule) => rules.push(rule),
                        Err(e) => self.diagnostics.push(Diagnostic::error(e.to_string(), Some(spec.span()))),
                    }
                }
                let (dedup, near) = global_dedup?;
                let (dedup, _) = self.dedup(c.dedup.clone(), "dedup_", dedup, near)?;
                Some((
                    slug.clone(),
                    Category { slug: slug.clone(), title, description: c.description.clone(), rules, dedup },
                ))
            })
            .collect();

        let mut sources: Vec<Source> = Vec::new();
        // Name → its source's number: a planet of 10,000 sources must not compare every pair.
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut used = BTreeMap::<String, Category>::new();
        for (i, s) in raw.sources.into_iter().enumerate() {
            let n = i + 1;
            let name = s.name.get_ref().trim().to_owned();
            if name.is_empty() {
                self.error(format!("source #{n} has an empty name"), s.name.span());
            } else if let Some(first) = names.get(&name) {
                self.error(format!("duplicate source name `{name}`"), s.name.span()).help =
                    Some(format!("source #{first} already uses it; names must be unique"));
            }
            names.entry(name.clone()).or_insert(n);
            let location = match Location::parse(s.url.get_ref(), base_dir) {
                Ok(loc) => Some(loc),
                Err(e) => {
                    self.error(format!("source `{name}`: bad url: {e}"), s.url.span());
                    None
                }
            };
            let timezone = match &s.timezone {
                None => Some(Tz::UTC),
                Some(tz) => match tz.get_ref().parse::<Tz>() {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        let d = self.error(format!("source `{name}`: unknown time zone `{}`", tz.get_ref()), tz.span());
                        d.help = Some(match suggest_timezone(tz.get_ref()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "use an IANA name such as `Asia/Almaty` or `Europe/Moscow`".into(),
                        });
                        None
                    }
                },
            };
            let date_locale = s.locale.as_ref().and_then(|l| {
                let found = DateLocale::from_tag(l.get_ref());
                if found.is_none() {
                    self.error(format!("source `{name}`: unknown locale `{}`", l.get_ref()), l.span()).help =
                        Some("use a language tag such as `de`, `tr`, `uz-Cyrl` or `zh-Hant`".into());
                }
                found
            });
            let mut categories = Vec::new();
            for c in s.categories.unwrap_or_default() {
                let slug = c.get_ref().clone();
                if slug == ALL {
                    self.error("every entry is already in `all`; do not list it", c.span());
                    continue;
                }
                if !self.check_slug(&slug, c.span()) {
                    continue;
                }
                // Declared categories guard against typos; with none declared, any slug is fine and
                // gets a default title (DESIGN.md §6).
                if !declared.is_empty() && !declared.contains_key(&slug) {
                    let d = self.error(format!("source `{name}`: unknown category `{slug}`"), c.span());
                    d.help = Some(match diagnostic::closest(&slug, declared.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("declare it with a [categories.{slug}] table"),
                    });
                    continue;
                }
                if !categories.contains(&slug) {
                    // Built once per category, not once per source that lists it (10,000 of them).
                    if !used.contains_key(&slug) {
                        let cat = declared.get(&slug).cloned().unwrap_or_else(|| Category {
                            slug: slug.clone(),
                            title: default_title(&slug),
                            description: None,
                            rules: Vec::new(),
                            // Without `[dedup]` (it had errors, reported) nothing is run anyway.
                            dedup: global_dedup.map_or(DedupMode::Exact, |(mode, _)| mode),
                        });
                        used.insert(slug.clone(), cat);
                    }
                    categories.push(slug);
                }
            }
            let min_interval = self.duration(s.min_interval, "min_interval");
            let filters = self.filters(s.filters.unwrap_or_default(), &format!("sources[{i}].filters"));
            let folder = self.folder(&name, &s.kind, s.url_template, s.date_from, location.as_ref());
            let pages = match folder {
                Folder::Yes(rules) => {
                    let spans = [
                        ("follow", s.follow.map(|v| v.span())),
                        ("full_text", s.full_text.map(|v| v.span())),
                        ("html", s.html.map(|v| v.span())),
                        ("sitemap", s.sitemap.map(|v| v.span())),
                        ("article", s.article.map(|v| v.span())),
                    ];
                    let mut ok = true;
                    for (key, span) in spans {
                        if let Some(span) = span {
                            self.error(format!("source `{name}`: `{key}` is not for kind = \"folder\" sources"), span);
                            ok = false;
                        }
                    }
                    rules.filter(|_| ok).map(|rules| PageRules {
                        kind: SourceKind::Folder(rules),
                        article: ArticleRules::default(),
                        date_format: None,
                        locale: None,
                    })
                }
                Folder::No => self.pages(&name, s.kind, s.follow, s.full_text, s.html, s.sitemap, s.article),
            };
            crate::redact::register_url_secrets(s.url.get_ref());
            let http = RawHttp {
                user_agent: s.user_agent,
                proxy: s.proxy,
                auth: s.auth,
                headers: s.headers,
                secret_params: s.secret_params,
            };
            let request = self.request(&name, location.as_ref(), http, base_dir);
            let title = match s.title {
                Some(t) if t.get_ref().trim().is_empty() => {
                    self.error(format!("source `{name}`: `title` is empty"), t.span());
                    None
                }
                t => Some(t.map(|t| t.into_inner().trim().to_owned())),
            };
            if let (Some(location), Some(timezone), Ok(min_interval), Some(pages), Some(request), Some(title)) =
                (location, timezone, min_interval, pages, request, title)
            {
                let PageRules { kind, article, date_format, locale } = pages;
                sources.push(Source {
                    name,
                    url: s.url.into_inner(),
                    location,
                    categories,
                    timezone,
                    min_interval,
                    kind,
                    article,
                    date_format,
                    locale,
                    date_locale: date_locale.or_else(|| locale.and_then(|l| DateLocale::from_tag(l.code()))),
                    strip_tracking: output.as_ref().is_none_or(|o| o.strip_tracking),
                    title,
                    enabled: s.enabled.unwrap_or(true),
                    publish_url: s.publish_url.unwrap_or(true),
                    request,
                    filters,
                });
            }
        }
        for (slug, raw_cat) in &raw.categories {
            if let Some(cat) = declared.get(slug).filter(|c| !c.rules.is_empty()) {
                used.entry(slug.clone()).or_insert_with(|| cat.clone());
                continue;
            }
            if declared.contains_key(slug) && !used.contains_key(slug) {
                self.diagnostics.push(Diagnostic::warning(
                    format!("category `{slug}` is declared but no source uses it; it gets no output"),
                    Some(raw_cat.span.clone()),
                ));
            }
        }
        let filters = self.filters(raw.filters, "filters");
        if sources.is_empty() && !self.has_errors() {
            self.diagnostics.push(
                Diagnostic::error("no sources configured", None)
                    .with_help("add a [[sources]] table with `name` and `url`"),
            );
        }
        Some(Config {
            output: output?,
            fetch: fetch?,
            concurrency,
            schedule: schedule?,
            state_path,
            state_busy_timeout: state_busy_timeout.ok()?,
            dedup: global_dedup?.0,
            categories: used.into_values().collect(),
            sources,
            filters,
            warnings: Vec::new(),
        })
    }

    /// A source's request settings, its secrets read from the environment or their files; `None` when
    /// any of it was reported as an error. Messages name the source and the key, never a value.
    fn request(
        &mut self,
        name: &str,
        location: Option<&Location>,
        raw: RawHttp,
        base_dir: &Path,
    ) -> Option<RequestSettings> {
        let errors_before = self.error_count();
        let mut request = RequestSettings {
            credentials_host: match location {
                Some(Location::Http(url)) => url.host_str().map(str::to_owned),
                _ => None,
            },
            ..RequestSettings::default()
        };
        for p in raw.secret_params.unwrap_or_default() {
            if p.get_ref().trim().is_empty() {
                self.error(format!("source `{name}`: `secret_params` has an empty name"), p.span());
            } else {
                crate::redact::register_params([p.get_ref().trim()]);
            }
        }
        let http_only = [
            raw.user_agent.as_ref().map(|v| ("user_agent", v.span())),
            raw.proxy.as_ref().map(|v| ("proxy", v.span())),
            raw.auth.as_ref().map(|v| ("auth", v.span())),
            raw.headers.as_ref().map(|v| ("headers", v.span())),
        ];
        if matches!(location, Some(Location::File(_))) {
            for (key, span) in http_only.iter().flatten().cloned() {
                self.error(format!("source `{name}`: `{key}` is for http(s) sources"), span).help =
                    Some("a file is read from disk, without a request".into());
            }
        }
        if let Some(ua) = raw.user_agent {
            match HeaderValue::from_str(ua.get_ref()) {
                Ok(v) if !ua.get_ref().trim().is_empty() => request.user_agent = Some(v),
                _ => {
                    self.error(format!("source `{name}`: `user_agent` is not a valid header value"), ua.span()).help =
                        Some("use printable ASCII on one line".into());
                }
            }
        }
        if let Some(proxy) = raw.proxy {
            request.proxy = self.proxy(proxy, &format!("source `{name}`: `proxy`"));
        }
        if let Some(auth) = raw.auth {
            let span = auth.span();
            if let Some(Location::Http(url)) = location {
                if !url.username().is_empty() || url.password().is_some() {
                    self.error(format!("source `{name}`: both `auth` and credentials in `url`"), span.clone()).help =
                        Some("keep one: both would be sent as the Authorization header".into());
                }
            }
            let auth = auth.into_inner();
            let username = auth.username.get_ref().clone();
            if username.contains(':') {
                self.error(format!("source `{name}`: `auth.username` cannot contain `:`"), auth.username.span());
            }
            let password = match (auth.password_env, auth.password_file) {
                (Some(env), None) => self.secret_from_env(name, "auth.password_env", &env),
                (None, Some(file)) => self.secret_from_file(name, "auth.password_file", &file, base_dir),
                (Some(_), Some(_)) | (None, None) => {
                    self.error(
                        format!("source `{name}`: `auth` needs one of `password_env` or `password_file`"),
                        span,
                    )
                    .help = Some(
                        "passwords are read from the environment or a file, so feeds.toml can be shared; \
                         a password written in the URL works too"
                            .into(),
                    );
                    None
                }
            };
            request.auth = password.map(|p| BasicAuth { username, password: crate::redact::Secret::new(p) });
        }
        for (header, value) in raw.headers.map(toml::Spanned::into_inner).unwrap_or_default() {
            let key = format!("headers.{}", header.get_ref());
            let Some(header_name) = self.header_name(name, &header) else { continue };
            let text = match value.get_ref() {
                raw::RawHeaderValue::Plain(v) => Some(v.clone()),
                raw::RawHeaderValue::From(raw::RawSecretRef { env: Some(env), file: None }) => {
                    let env = toml::Spanned::new(value.span(), env.clone());
                    self.secret_from_env(name, &key, &env)
                }
                raw::RawHeaderValue::From(raw::RawSecretRef { env: None, file: Some(file) }) => {
                    let file = toml::Spanned::new(value.span(), file.clone());
                    self.secret_from_file(name, &key, &file, base_dir)
                }
                raw::RawHeaderValue::From(_) => {
                    self.error(format!("source `{name}`: `{key}` needs exactly one of `env` or `file`"), value.span());
                    None
                }
            };
            let Some(text) = text else { continue };
            if matches!(value.get_ref(), raw::RawHeaderValue::From(_)) {
                crate::redact::register_value(&text);
            }
            match HeaderValue::from_str(&text) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    request.headers.push((header_name, v));
                }
                Err(_) => {
                    self.error(format!("source `{name}`: `{key}` is not a valid header value"), value.span()).help =
                        Some("use printable characters on one line".into());
                }
            }
        }
        if request.auth.is_some() && request.headers.iter().any(|(n, _)| n == reqwest::header::AUTHORIZATION) {
            let span = http_only[2].clone().map(|(_, s)| s).unwrap_or_default();
            self.error(format!("source `{name}`: both `auth` and an `Authorization` header"), span).help =
                Some("keep one: `auth` sends Basic credentials in that header".into());
        }
        (self.error_count() == errors_before).then_some(request)
    }

    fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// A header name a source may set: valid, and not one feedmill manages itself.
    fn header_name(&mut self, name: &str, header: &toml::Spanned<String>) -> Option<HeaderName> {
        let Ok(parsed) = HeaderName::from_bytes(header.get_ref().as_bytes()) else {
            self.error(format!("source `{name}`: `{}` is not a valid header name", header.get_ref()), header.span())
                .help = Some("header names are ASCII letters, digits and `-`".into());
            return None;
        };
        let reason = match parsed.as_str() {
            "host" => "it is the URL's host",
            "content-length" | "transfer-encoding" | "connection" | "keep-alive" | "te" | "trailer" | "upgrade"
            | "expect" => "it belongs to the HTTP connection, which feedmill manages",
            "accept-encoding" => "feedmill asks for gzip, brotli and deflate and decodes them itself",
            "if-none-match" | "if-modified-since" => "feedmill sends the validators from the last fetch itself",
            "user-agent" => "use the source's `user_agent` key",
            "proxy-authorization" | "proxy-connection" => "put the proxy's credentials in the `proxy` URL",
            _ => return Some(parsed),
        };
        self.error(format!("source `{name}`: header `{}` cannot be set: {reason}", header.get_ref()), header.span());
        None
    }

    /// The value of the environment variable `var` names, which must be set and not empty.
    fn secret_from_env(&mut self, name: &str, key: &str, var: &toml::Spanned<String>) -> Option<String> {
        match std::env::var(var.get_ref()) {
            Ok(v) if !v.is_empty() => Some(v),
            Ok(_) => {
                self.error(
                    format!("source `{name}`: `{key}`: environment variable `{}` is empty", var.get_ref()),
                    var.span(),
                );
                None
            }
            Err(_) => {
                self.error(
                    format!("source `{name}`: `{key}`: environment variable `{}` is not set", var.get_ref()),
                    var.span(),
                )
                .help = Some(
                    "export it in the environment feedmill runs in (a systemd `Environment=`, a cron line)".into(),
                );
                None
            }
        }
    }

    /// The content of the file `path` names (relative to the config's folder), one trailing line break
    /// dropped: `echo secret > file` must give `secret`.
    fn secret_from_file(
        &mut self,
        name: &str,
        key: &str,
        path: &toml::Spanned<String>,
        base_dir: &Path,
    ) -> Option<String> {
        let full = base_dir.join(path.get_ref());
        match std::fs::read_to_string(&full) {
            Ok(v) => {
                let v = v.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&v).to_owned();
                if v.is_empty() {
                    self.error(format!("source `{name}`: `{key}`: {} is empty", full.display()), path.span());
                    return None;
                }
                Some(v)
            }
            Err(e) => {
                self.error(format!("source `{name}`: `{key}`: cannot read {}: {e}", full.display()), path.span());
                None
            }
        }
    }

    /// A proxy URL, checked; `what` names the key in messages, which never quote the URL itself
    /// (it may carry the proxy's credentials).
    fn proxy(&mut self, proxy: toml::Spanned<String>, what: &str) -> Option<crate::redact::Secret> {
        crate::redact::register_url_secrets(proxy.get_ref());
        match Url::parse(proxy.get_ref().trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
                Some(crate::redact::Secret::new(proxy.get_ref().trim().to_owned()))
            }
            Ok(u) => {
                self.error(format!("{what} must be an http:// or https:// URL, not `{}:`", u.scheme()), proxy.span());
                None
            }
            Err(e) => {
                self.error(format!("{what} is not a valid URL: {e}"), proxy.span());
                None
            }
        }
    }

    /// Compiles one level of filter rules; `name` (`filters`, `sources[3].filters`) names them in errors.
    fn filters(&mut self, raw: raw::RawFilters, name: &str) -> Filters {
        let mut filters = Filters { name: name.to_owned(), ..Filters::default() };
        for (kind, specs, into) in [("keep", raw.keep, &mut filters.keep), ("block", raw.block, &mut filters.block)] {
            for (i, spec) in specs.unwrap_or_default().iter().enumerate() {
                match Filters::compile(spec.get_ref(), &format!("{name}.{kind}[{i}]")) {
                    Ok(rule) => into.push(rule),
                    // Empty because its only keys were unknown (`raw::check_filters` names the rule so),
                    // which was said already.
                    Err(crate::filter::FilterError::Empty { rule })
                        if self.diagnostics.iter().any(|d| d.message.ends_with(&format!(" in {rule}"))) => {}
                    Err(e) => self.diagnostics.push(Diagnostic::error(e.to_string(), Some(spec.span()))),
                }
            }
        }
        filters
    }

    /// A `kind = "folder"` source's rules (`Folder::Yes(None)` when they were reported as errors), or
    /// `Folder::No` for other kinds, which may not use the folder keys.
    fn folder(
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
    fn pages(
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
    fn sitemap_rules(&mut self, name: &str, sitemap: Option<toml::Spanned<raw::RawSitemap>>) -> SitemapRules {
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

    fn check_slug(&mut self, slug: &str, span: std::ops::Range<usize>) -> bool {
        let ok = is_slug(slug);
        if !ok {
            self.error(format!("category `{slug}` is not a valid slug"), span).help =
                Some("use lowercase ASCII letters, digits, `-` and `_`: it becomes a folder name".into());
        }
        ok
    }

    fn output(&mut self, o: raw::RawOutput, base_dir: &Path) -> Option<OutputConfig> {
        let dir = o.dir.map_or_else(|| "output".to_owned(), |d| d.into_inner());
        let base_url = match &o.base_url {
            None => None,
            Some(u) => match Url::parse(u.get_ref()) {
                Ok(mut url) if matches!(url.scheme(), "http" | "https") => {
                    if !url.path().ends_with('/') {
                        let path = format!("{}/", url.path());
                        url.set_path(&path);
                    }
                    Some(url)
                }
                Ok(_) => {
                    self.error("`base_url` must be an http or https URL", u.span());
                    None
                }
                Err(e) => {
                    self.error(format!("`base_url` is not a valid URL: {e}"), u.span());
                    None
                }
            },
        };
        let hub = match o.hub {
            None => None,
            Some(h) => match Url::parse(h.get_ref()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {
                    if o.base_url.is_none() {
                        self.error("`hub` needs `base_url`", h.span()).help =
                            Some("the hub is told each changed feed's public URL, which comes from `base_url`".into());
                    }
                    Some(url)
                }
                Ok(_) => {
                    self.error("`hub` must be an http or https URL", h.span());
                    None
                }
                Err(e) => {
                    self.error(format!("`hub` is not a valid URL: {e}"), h.span());
                    None
                }
            },
        };
        let max_items = match o.max_items {
            None => 100,
            Some(n) if *n.get_ref() >= 1 => *n.get_ref() as usize,
            Some(n) => {
                self.error("`max_items` must be at least 1", n.span());
                return None;
            }
        };
        let retention = self.duration(o.retention, "retention").ok()?.unwrap_or(Duration::from_secs(30 * 86_400));
        Some(OutputConfig {
            retention,
            dir: base_dir.join(dir),
            base_url,
            hub,
            max_items,
            title: o.title.unwrap_or_else(|| "feedmill".into()),
            description: o.description,
            language: o.language,
            strip_tracking: o.strip_tracking.unwrap_or(true),
        })
    }

    /// `[dedup]`, or a category's `dedup*` keys (`prefix` is `dedup_` for those): what is not set comes
    /// from `mode` and `near`. Returns the mode, and the near settings a category inherits.
    fn dedup(
        &mut self,
        d: raw::RawDedup,
        prefix: &str,
        mode: DedupMode,
        mut near: NearSettings,
    ) -> Option<(DedupMode, NearSettings)> {
        if let Some(t) = d.threshold {
            if (0.0..=1.0).contains(t.get_ref()) && *t.get_ref() > 0.0 {
                near.threshold = *t.get_ref() as f32;
            } else {
                self.error(format!("`{prefix}threshold` must be above 0 and at most 1"), t.span());
                return None;
            }
        }
        if let Some(w) = self.duration(d.window, &format!("{prefix}window")).ok()? {
            near.window = chrono::Duration::from_std(w).ok()?;
        }
        let mode = match d.mode.as_ref().map(|m| m.get_ref().as_str()) {
            None => match mode {
                DedupMode::Near(_) => DedupMode::Near(near),
                other => other,
            },
            Some("near") => DedupMode::Near(near),
            Some("exact") => DedupMode::Exact,
            Some("off") => DedupMode::Off,
            Some(other) => {
                let span = d.mode.as_ref().map(|m| m.span()).unwrap_or_default();
                self.error(format!("unknown dedup mode `{other}`"), span).help =
                    Some("use `near` (the default), `exact` or `off`".into());
                return None;
            }
        };
        Some((mode, near))
    }

    /// A duration value, checked; `Err` when it was reported as an error.
    fn duration(
        &mut self,
        value: Option<toml::Spanned<raw::DurationValue>>,
        key: &str,
    ) -> Result<Option<Duration>, ()> {
        let Some(value) = value else { return Ok(None) };
        match value.get_ref().to_duration() {
            Ok(d) if !d.is_zero() => Ok(Some(d)),
            Ok(_) => {
                self.error(format!("`{key}` must be greater than zero"), value.span());
                Err(())
            }
            Err(e) => {
                self.error(format!("`{key}`: {e}"), value.span()).help =
                    Some("write a number of seconds or a duration like \"30s\", \"500ms\", \"2m\", \"1d\"".into());
                Err(())
            }
        }
    }

    fn fetch(&mut self, f: raw::RawFetch) -> (Option<FetchSettings>, usize, Option<Bounds>) {
        let mut s = FetchSettings::default();
        let mut ok = true;
        for (value, key, into) in [
            (f.timeout, "timeout", &mut s.timeout),
            (f.connect_timeout, "connect_timeout", &mut s.connect_timeout),
            (f.read_timeout, "read_timeout", &mut s.read_timeout),
            (f.retry_after_cap, "retry_after_cap", &mut s.retry_after_cap),
        ] {
            match self.duration(value, key) {
                Ok(Some(d)) => *into = d,
                Ok(None) => {}
                Err(()) => ok = false,
            }
        }
        let min_interval = self.duration(f.min_interval, "min_interval");
        let max_interval = self.duration(f.max_interval, "max_interval");
        let schedule = match (min_interval, max_interval) {
            (Ok(min_interval), Ok(max)) => {
                Some(Bounds { min_interval, max_interval: max.unwrap_or(Duration::from_secs(86_400)) })
            }
            _ => None,
        };
        if let Some(size) = f.max_body_size {
            match size.get_ref().to_bytes() {
                Ok(n) if n > 0 => s.max_body_bytes = n,
                Ok(_) => {
                    self.error("`max_body_size` must be greater than zero", size.span());
                    ok = false;
                }
                Err(e) => {
                    self.error(format!("`max_body_size`: {e}"), size.span()).help =
                        Some("write a number of bytes or a size like \"20MiB\", \"512KiB\"".into());
                    ok = false;
                }
            }
        }
        let mut count =
            |v: &mut Validator, value: Option<toml::Spanned<i64>>, key: &str, min: i64, max: i64| -> Option<usize> {
                let value = value?;
                let n = *value.get_ref();
                if (min..=max).contains(&n) {
                    Some(n as usize)
                } else {
                    v.error(format!("`{key}` must be between {min} and {max}"), value.span());
                    ok = false;
                    None
                }
            };
        if let Some(n) = count(self, f.tries, "tries", 1, 10) {
            s.tries = n as u32;
        }
        if let Some(n) = count(self, f.per_host, "per_host", 1, 64) {
            s.per_host = n;
        }
        let concurrency = count(self, f.concurrency, "concurrency", 1, 1024).unwrap_or(16);
        if let Some(ua) = f.user_agent {
            s.user_agent = ua;
        }
        if let Some(allow) = f.allow_private_networks {
            s.allow_private_networks = allow;
        }
        if let Some(proxy) = f.proxy {
            s.proxy = self.proxy(proxy, "`proxy`");
            ok &= s.proxy.is_some();
        }
        (ok.then_some(s), concurrency, schedule)
    }
}

/// A source's request keys, as written.
struct RawHttp {
    user_agent: Option<toml::Spanned<String>>,
    proxy: Option<toml::Spanned<String>>,
    auth: Option<toml::Spanned<raw::RawAuth>>,
    headers: Option<toml::Spanned<BTreeMap<toml::Spanned<String>, toml::Spanned<raw::RawHeaderValue>>>>,
    secret_params: Option<Vec<toml::Spanned<String>>>,
}

/// Whether a source is a folder, and its rules when they are valid.
enum Folder {
    Yes(Option<FolderRules>),
    No,
}

/// A source's validated page-reading settings.
struct PageRules {
    kind: SourceKind,
    article: ArticleRules,
    date_format: Option<DateFormat>,
    locale: Option<Locale>,
}

fn default_title(slug: &str) -> String {
    let mut words: Vec<String> = slug.split(['-', '_']).filter(|w| !w.is_empty()).map(|w| w.to_owned()).collect();
    if let Some(first) = words.first_mut() {
        let mut chars = first.chars();
        if let Some(c) = chars.next() {
            *first = c.to_uppercase().chain(chars).collect();
        }
    }
    words.join(" ")
}

fn suggest_timezone(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    // Users write the city alone ("Almaty") or the zone in the wrong case ("asia/almaty").
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .find(|n| n.to_lowercase() == lower || n.rsplit('/').next().is_some_and(|city| city.to_lowercase() == lower))
        .or_else(|| diagnostic::closest(name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
}

#[cfg(test)]
mod tests;
