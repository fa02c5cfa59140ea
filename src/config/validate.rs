//! The walk from `raw`'s wire structs to a [`Config`]: every value checked, every problem recorded as a
//! [`Diagnostic`] with its span, and the rest still checked, so one `check` shows them all. Source
//! kinds (`kind.rs`) and request settings with their secrets (`request.rs`) are checked in their own
//! files.

mod kind;
mod request;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use super::{
    diagnostic, is_slug, raw, Category, Config, DedupMode, Diagnostic, OutputConfig, Severity, Source, SourceKind, ALL,
};
use crate::categorize::rules::CompiledRule;
use crate::dedup::NearSettings;
use crate::extract::ArticleRules;
use crate::fetch::{FetchSettings, Location};
use crate::filter::Filters;
use crate::normalize::dates::DateLocale;
use crate::schedule::Bounds;
use kind::{Folder, PageRules};
use request::RawHttp;

#[derive(Default)]
pub(super) struct Validator {
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Validator {
    pub(super) fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    fn error(&mut self, message: impl Into<String>, span: std::ops::Range<usize>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::error(message, Some(span)));
        self.diagnostics.last_mut().expect("just pushed")
    }

    pub(super) fn validate(&mut self, raw: raw::RawConfig, base_dir: &Path) -> Option<Config> {
        let output = self.output(raw.output, base_dir);
        let (fetch, concurrency, schedule) = self.fetch(raw.fetch);
        let state_path = base_dir.join(raw.state.path.as_deref().unwrap_or(".feedmill/state.db"));
        let state_url = self.state_url(&raw.state, base_dir);
        let state_busy_timeout =
            self.duration(raw.state.busy_timeout, "busy_timeout").map(|d| d.unwrap_or(super::DEFAULT_BUSY_TIMEOUT));
        let state_lease = self.duration(raw.state.lease, "lease").map(|d| d.unwrap_or(super::DEFAULT_LEASE));
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
            state_url: state_url.ok()?,
            state_lease: state_lease.ok()?,
            digest: String::new(),
            dedup: global_dedup?.0,
            categories: used.into_values().collect(),
            sources,
            filters,
            warnings: Vec::new(),
        })
    }

    fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
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
