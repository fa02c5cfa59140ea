//! `feedmill discover`: what a web page offers to read. A feed already is said to be one, with the
//! config block to add it; a page that advertises feeds lists them; a page that advertises none gets the
//! sitemaps its site's robots.txt names, else a `kind = "html"` skeleton with guessed selectors.

use anyhow::Context as _;

use feedmill::fetch::{Fetched, Fetcher, Location, Validators};
use feedmill::normalize;
use feedmill::pipeline;
use feedmill::redact;
use feedmill::report::{counted, EXIT_OK};

use crate::cli::DiscoverArgs;

pub fn execute(args: DiscoverArgs) -> anyhow::Result<u8> {
    let input = args.url.as_str();
    let (body, doc_url) = super::fetch_once(input)?;
    let url = doc_url.with_context(|| format!("{}: cannot make a URL of it", redact::url(input)))?;
    let text = feedmill::decode::decode(&body.bytes, body.content_type.as_deref()).text;
    let name = url.host_str().unwrap_or("site").trim_start_matches("www.").replace('.', "-");
    // A feed already: say what it is and how to add it, rather than looking for what it advertises.
    let cx = normalize::Context {
        source: "discover",
        doc_url: Some(&url),
        timezone: chrono_tz::UTC,
        now: super::clock(),
        strip_tracking: true,
        locale: None,
    };
    if let Ok(u) = pipeline::understand(&body.bytes, body.content_type.as_deref(), Some(&url), &cx) {
        say!(
            "# {url} is a feed ({}, {}). Add it as a source:\n",
            pipeline::format_label(&u.raw),
            counted(u.raw.entries.len(), "entry", "entries")
        );
        say!("[[sources]]\nname = {}\nurl = {}", toml_string(&name), toml_string(url.as_str()));
        return Ok(EXIT_OK);
    }
    let found = feedmill::extract::discover(&text, &url);
    if found.is_empty() {
        // A sitemap outlives the next redesign; guessed selectors do not: robots.txt is asked first.
        if let Some(block) = robots_sitemaps(&url).and_then(|s| feedmill::extract::sitemap_skeleton(&s, &name)) {
            say_raw!("{block}");
            return Ok(EXIT_OK);
        }
        say!("# {url} advertises no feed. A starting point for an html source; add it to feeds.toml and");
        say!("# check what its selectors find with `feedmill parse --source {name}`:\n");
        say_raw!("{}", feedmill::extract::skeleton(&text, &url, &name));
        return Ok(EXIT_OK);
    }
    for feed in found {
        let kind = format!("{:?}", feed.kind).to_lowercase();
        say!("{}\t{kind}\t{}", feed.url, feed.title.as_deref().unwrap_or("-"));
    }
    Ok(EXIT_OK)
}

/// A TOML basic string: quoted, with `"`, `\\` and control characters escaped.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The sitemaps the robots.txt of `page`'s site names; `None` for a local page, or when robots.txt
/// cannot be fetched (the html skeleton is printed then, as without one).
fn robots_sitemaps(page: &url::Url) -> Option<Vec<url::Url>> {
    if !matches!(page.scheme(), "http" | "https") {
        return None;
    }
    let robots = page.join("/robots.txt").ok()?;
    let runtime = tokio::runtime::Runtime::new().ok()?;
    let fetcher = Fetcher::new(Default::default()).ok()?;
    let fetched = runtime.block_on(fetcher.fetch(&Location::Http(robots.clone()), &Validators::default()));
    let Ok(Fetched::Body(body)) = fetched else {
        tracing::debug!("{}: no robots.txt to read", redact::url_of(&robots));
        return None;
    };
    let text = feedmill::decode::decode(&body.bytes, body.content_type.as_deref()).text;
    Some(feedmill::extract::robots_sitemaps(&text, &robots)).filter(|s| !s.is_empty())
}
