//! `feedmill parse`: how feedmill understands one feed, a debugging aid. Given a file or URL, the
//! document read and normalized as a run would (format, encoding, entries, warnings); given
//! `--source NAME`, what that configured source yields with its selectors and filters applied. Neither
//! reads nor writes the state. The listing is for people; `--json` is for scripts.

use anyhow::Context as _;

use feedmill::config::{Config, SourceKind};
use feedmill::model::Entry;
use feedmill::normalize;
use feedmill::pipeline;
use feedmill::report::{EXIT_FATAL, EXIT_OK};

use crate::cli::ParseArgs;

pub fn execute(args: ParseArgs, quiet: bool) -> anyhow::Result<u8> {
    if let Some(input) = &args.input {
        return parse_input(input, args.json, args.timezone);
    }
    let Some(config) = super::load(&args.config, quiet)? else { return Ok(EXIT_FATAL) };
    parse_source(&config, args.source.as_deref().unwrap_or_default(), args.json)
}

/// `parse FILE|URL`: one document, fetched once, understood without a config.
fn parse_input(input: &str, json: bool, timezone: chrono_tz::Tz) -> anyhow::Result<u8> {
    let (body, doc_url) = super::fetch_once(input)?;
    let cx = normalize::Context {
        source: "parse",
        doc_url: doc_url.as_ref(),
        timezone,
        now: super::clock(),
        strip_tracking: true,
        locale: None,
    };
    let u = pipeline::understand(&body.bytes, body.content_type.as_deref(), doc_url.as_ref(), &cx)
        .with_context(|| format!("{input}: not a feed feedmill can read"))?;
    let identified = feedmill::dedup::identify("parse", u.normalized.candidates);
    let entries: Vec<_> = identified.entries.into_iter().map(|l| l.entry).collect();
    if json {
        let out = serde_json::json!({
            "format": pipeline::format_label(&u.raw),
            "encoding": u.decoded_as,
            "title": u.normalized.title,
            "site_url": u.normalized.site_url,
            "warnings": u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&identified.downgraded).collect::<Vec<_>>(),
            "entries": entries,
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(EXIT_OK);
    }
    say!("format:   {}", pipeline::format_label(&u.raw));
    say!("encoding: {}", u.decoded_as);
    say!("title:    {}", u.normalized.title.as_deref().unwrap_or("-"));
    say!("site:     {}", u.normalized.site_url.as_deref().unwrap_or("-"));
    say!("entries:  {} ({} read, {} duplicates)", entries.len(), u.raw.entries.len(), identified.duplicates);
    for w in u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&identified.downgraded) {
        say!("warning:  {w}");
    }
    print_entries(&entries)
}

/// `parse --source NAME`: what a configured source yields, read as a run reads it, without the state.
fn parse_source(config: &Config, name: &str, json: bool) -> anyhow::Result<u8> {
    let Some(source) = config.sources.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!("no source is named `{name}` in the config (sources: {})", names.join(", "));
    };
    let runtime = super::runtime()?;
    let preview = runtime
        .block_on(pipeline::preview(config, source, super::clock()))
        .map_err(|e| anyhow::anyhow!("source `{name}`: {e}"))?;
    let pipeline::Preview { understood: u, discovered, identified, dropped } = preview;
    if let Some(feed) = &discovered {
        eprintln!("{}: the page advertises {feed}; read that", source.url);
    }
    let entries: Vec<_> = identified.entries.into_iter().map(|l| l.entry).collect();
    // For an html source, items without ids are the rule, not a warning (as in `run`).
    let downgraded = identified.downgraded.filter(|_| !matches!(source.kind, SourceKind::Html { .. }));
    let warnings: Vec<&String> = u.raw.warnings.iter().chain(&u.normalized.warnings).chain(&downgraded).collect();
    if json {
        let out = serde_json::json!({
            "source": source.name,
            "format": pipeline::format_label(&u.raw),
            "encoding": u.decoded_as,
            "title": u.normalized.title,
            "site_url": u.normalized.site_url,
            "warnings": warnings,
            "filtered": dropped.iter().map(|d| serde_json::json!({
                "guid": d.guid, "url": d.url, "title": d.title, "reason": d.reason,
            })).collect::<Vec<_>>(),
            "entries": entries,
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(EXIT_OK);
    }
    say!("source:   {}", source.name);
    say!("format:   {}", pipeline::format_label(&u.raw));
    say!("encoding: {}", u.decoded_as);
    say!("title:    {}", u.normalized.title.as_deref().unwrap_or("-"));
    say!("site:     {}", u.normalized.site_url.as_deref().unwrap_or("-"));
    say!(
        "entries:  {} ({} read, {} duplicates, {} filtered)",
        entries.len(),
        u.raw.entries.len(),
        identified.duplicates,
        dropped.len()
    );
    for w in warnings {
        say!("warning:  {w}");
    }
    for d in &dropped {
        say!("filtered: {} ({}): dropped by {}", d.title, d.url.as_deref().unwrap_or("no link"), d.reason);
    }
    print_entries(&entries)
}

/// Each entry of a `parse` listing: title, id, link, dates, authors, tags, enclosures, the text's start.
fn print_entries(entries: &[Entry]) -> anyhow::Result<u8> {
    for e in entries {
        say!("");
        say!("- {}", e.title);
        say!("  id:        {}", e.id);
        say!("  url:       {}", e.url.as_deref().unwrap_or("-"));
        say!("  published: {}", e.published.map_or_else(|| "-".into(), |d| d.to_rfc3339()));
        if let Some(updated) = e.updated {
            say!("  updated:   {}", updated.to_rfc3339());
        }
        let authors: Vec<_> = e.authors.iter().filter_map(|a| a.name.as_deref().or(a.email.as_deref())).collect();
        if !authors.is_empty() {
            say!("  authors:   {}", authors.join(", "));
        }
        if !e.categories.is_empty() {
            say!("  tags:      {}", e.categories.join(", "));
        }
        for enc in &e.enclosures {
            say!("  enclosure: {} ({})", enc.url, enc.mime.as_deref().unwrap_or("?"));
        }
        let text = e
            .content_html
            .as_deref()
            .or(e.summary_html.as_deref())
            .map(normalize::text::html_to_text)
            .unwrap_or_default();
        if !text.is_empty() {
            say!("  text:      {}", normalize::text::truncate_words(&text, 160));
        }
    }
    Ok(EXIT_OK)
}
