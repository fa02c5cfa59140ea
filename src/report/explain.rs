//! The explain view: what became of one entry, for `feedmill explain`. In: the stored entries merged
//! from scratch ([`Merged`], one per dedup mode in use) and the filtered entries; out: an
//! [`Explanation`] printed as text or JSON. Kept apart from the pipeline, which builds the merge, so
//! the report does not import the pipeline that fills it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::DedupMode;
use crate::dedup;

/// The stored entries merged into stories under one dedup mode, all in memory, for `feedmill explain`
/// (built by `pipeline::stories`).
#[derive(Debug)]
pub struct Merged {
    pub mode: DedupMode,
    pub stories: Vec<dedup::Story>,
}

/// `feedmill explain`: what became of the entry whose id or link is a query — the stories holding it,
/// once per dedup mode in use (a category may merge differently from `all`), and the filters that
/// dropped it. Serialized for `explain --json`: the field names are an interface (README).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Explanation {
    pub query: String,
    pub stories: Vec<ExplainedStory>,
    pub filtered: Vec<ExplainedDrop>,
}

/// One story holding the entry, under one dedup mode.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedStory {
    /// `near`, `exact` or `off`.
    pub mode: String,
    /// The mode with its settings: `near, threshold 0.70, window 72h`.
    pub dedup: String,
    /// The feeds merged this way: `all` and category slugs.
    pub feeds: Vec<String>,
    pub title: String,
    /// The published copy.
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    /// The other copies, in the order they joined.
    pub copies: Vec<ExplainedCopy>,
}

/// A copy that joined a story, and how.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedCopy {
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    /// `id`, `canonical URL`, `content fingerprint` or `near-duplicate (…)`.
    pub layer: String,
    /// The id of the published copy it matched.
    pub matched: String,
    /// `published instead` or `text upgraded`, when it changed the story.
    pub effect: Option<String>,
}

/// An entry the filters dropped from its source.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedDrop {
    pub source: String,
    pub guid: Option<String>,
    pub url: Option<String>,
    pub title: String,
    /// The rule and what it matched: `filters.block[0] (title matched "Реклама*")`.
    pub reason: String,
}

/// Finds `query` — an entry's id, link (as written or in canonical form: tracking parameters, `www.`
/// and the scheme do not matter) or the source's own guid — among the stories and the filtered entries.
pub fn explain(
    config: &crate::config::Config,
    merged: &[Merged],
    filtered: Vec<crate::store::FilteredEntry>,
    query: &str,
) -> Explanation {
    let query = query.trim();
    let canonical = |u: &str| url::Url::parse(u).ok().map(|u| crate::normalize::urls::canonical(&u));
    let query_canonical = canonical(query);
    // The ids a raw guid becomes, per source.
    let guid_ids: std::collections::HashSet<String> =
        config.sources.iter().map(|s| crate::dedup::id_for_guid(&s.name, query)).collect();
    let is = |id: &str, url: Option<&str>| {
        id == query
            || guid_ids.contains(id)
            || url.is_some_and(|u| u == query || (query_canonical.is_some() && canonical(u) == query_canonical))
    };
    let mut out = Explanation { query: query.to_owned(), ..Explanation::default() };
    for m in merged {
        let Some(story) = m
            .stories
            .iter()
            .find(|s| is(&s.entry.id, s.entry.url.as_deref()) || s.matches.iter().any(|c| is(&c.id, c.url.as_deref())))
        else {
            continue;
        };
        let feeds = std::iter::once(crate::config::ALL)
            .filter(|_| m.mode == config.dedup)
            .chain(config.categories.iter().filter(|c| c.dedup == m.mode).map(|c| c.slug.as_str()))
            .map(str::to_owned)
            .collect();
        let mode = match m.mode {
            DedupMode::Off => "off",
            DedupMode::Exact => "exact",
            DedupMode::Near(_) => "near",
        };
        let e = &story.entry;
        out.stories.push(ExplainedStory {
            mode: mode.to_owned(),
            dedup: m.mode.to_string(),
            feeds,
            title: e.title.clone(),
            id: e.id.clone(),
            source: e.source.clone(),
            url: e.url.clone(),
            copies: story
                .matches
                .iter()
                .map(|c| ExplainedCopy {
                    id: c.id.clone(),
                    source: c.source.clone(),
                    url: c.url.clone(),
                    layer: c.how.layer.clone(),
                    matched: c.how.head.clone(),
                    effect: c.how.effect.clone(),
                })
                .collect(),
        });
    }
    out.filtered = filtered
        .into_iter()
        .map(|f| ExplainedDrop { source: f.source, guid: f.guid, url: f.url, title: f.title, reason: f.reason })
        .collect();
    out
}

impl Explanation {
    /// Nothing stored has that id, link or guid.
    pub fn is_empty(&self) -> bool {
        self.stories.is_empty() && self.filtered.is_empty()
    }

    /// The explanation for people: each story, how each copy joined it; each filtered copy and why.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for story in &self.stories {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "dedup {} (feeds: {})", story.dedup, story.feeds.join(", "));
            let _ = writeln!(out, "{}", story.title);
            let _ = writeln!(
                out,
                "  published as {} from {} ({})",
                story.id,
                story.source,
                story.url.as_deref().unwrap_or("no link")
            );
            if story.mode == "off" {
                let _ = writeln!(out, "  not compared with other sources: dedup is off");
            } else if story.copies.is_empty() {
                let _ = writeln!(out, "  no other copy: no id, link, fingerprint or near-duplicate matched");
            }
            for c in &story.copies {
                let effect = c.effect.as_ref().map(|e| format!("; {e}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  + {} from {} ({}): matched {} by {}{effect}",
                    c.id,
                    c.source,
                    c.url.as_deref().unwrap_or("no link"),
                    c.matched,
                    c.layer
                );
            }
        }
        for d in &self.filtered {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "filtered out: {}", d.title);
            let _ = writeln!(
                out,
                "  from {} ({}): dropped by {}",
                d.source,
                d.url.as_deref().unwrap_or("no link"),
                d.reason
            );
        }
        // Links come from feeds, resolved against the source's URL: redacted like anything else printed.
        crate::redact::text(&out)
    }

    /// `explain --json`: pretty JSON, redacted as [`Explanation::to_text`] is.
    pub fn to_json(&self) -> String {
        // Strings and arrays only: serde_json cannot fail on them.
        crate::redact::text(&serde_json::to_string_pretty(self).unwrap_or_default())
    }
}
