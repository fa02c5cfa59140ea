//! Dedup: decide each entry's identity, then collapse the same story seen twice.
//!
//! Layers (DESIGN.md §4), strongest first:
//! 1. the source's own id (guid / Atom id / JSON id), but only when the source's ids are trustworthy:
//!    a source whose ids are blank or repeated in more than 5% of its entries is downgraded, and says so;
//! 2. the canonical URL ([`crate::normalize::urls::canonical`]): http/https, `www.`, tracking
//!    parameters, fragment and query order do not matter; a URL shared by several entries of one source
//!    (a feed whose every `<link>` is the home page) is not used as a key;
//! 3. a content fingerprint: SHA-256 of the case-folded title and text;
//! 4. near-duplicates across sources ([`near`]): the same story with other links and slightly other
//!    words, by the overlap of its opening words, within a time window — never across languages.
//!
//! [`identify`] works on one source (ids, duplicates inside the feed); [`merge`] works across sources in
//! config order and keeps one entry per story, listing the other sources in `via`. The entry kept is
//! the one published first (earliest first-seen time, so a published id never changes), then the
//! richest (longest content), then the earliest dated, then the first in config order. A richer copy
//! that arrives after the story was published does not take its place: its text is moved into the
//! published entry instead (the id, link and dates stay).

use std::collections::HashMap;

pub mod near;

use sha2::{Digest, Sha256};
use url::Url;

use crate::model::{Entry, Via};
use crate::normalize::{text, urls, Candidate};

/// Share of blank or repeated ids above which a source's ids are not trusted.
const MAX_BAD_ID_SHARE: f64 = 0.05;
/// Below this many characters of title + text, a fingerprint would merge unrelated short entries.
const MIN_FINGERPRINT_CHARS: usize = 24;

/// One source's entries with ids assigned and in-feed duplicates removed.
#[derive(Debug, Clone)]
pub struct Identified {
    pub entries: Vec<Entry>,
    /// Entries dropped because an earlier entry of the same feed was the same.
    pub duplicates: usize,
    /// Why the source's ids were not trusted, when they were not.
    pub downgraded: Option<String>,
}

/// Assigns ids to one source's candidates and drops in-feed duplicates (first occurrence wins: feeds
/// list newest first).
pub fn identify(source: &str, candidates: Vec<Candidate>) -> Identified {
    let total = candidates.len();
    let mut seen_guids: HashMap<&str, usize> = HashMap::new();
    let mut blank = 0;
    for c in &candidates {
        match c.guid.as_deref() {
            Some(g) => *seen_guids.entry(g).or_default() += 1,
            None => blank += 1,
        }
    }
    let repeated: usize = seen_guids.values().filter(|n| **n > 1).map(|n| n - 1).sum();
    let bad = blank + repeated;
    let trusted = total == 0 || (bad as f64) / (total as f64) <= MAX_BAD_ID_SHARE;
    let downgraded = (!trusted).then(|| {
        format!("ids not trusted: {blank} blank and {repeated} repeated among {total} entries; identifying entries by link and content")
    });

    let mut out = Identified { entries: Vec::with_capacity(total), duplicates: 0, downgraded };
    let mut ids = HashMap::new();
    let mut prints = HashMap::new();
    for Candidate { guid, mut entry } in candidates {
        let print = fingerprint(&entry);
        entry.id = match guid.filter(|_| trusted) {
            Some(g) if is_absolute_uri(&g) => g,
            Some(g) => derived_id(source, &g),
            None => match (&entry.url, &print) {
                (Some(url), _) => url.clone(),
                (None, Some(p)) => derived_id(source, p),
                // Nothing to identify it by but its title: hash that, it is what a reader would see.
                (None, None) => derived_id(source, &entry.title),
            },
        };
        let dup_id = ids.insert(entry.id.clone(), ()).is_some();
        let dup_print = print.is_some_and(|p| prints.insert(p, ()).is_some());
        if dup_id || dup_print {
            tracing::debug!(source, id = %entry.id, by = if dup_id { "id" } else { "fingerprint" }, "duplicate inside the feed");
            out.duplicates += 1;
        } else {
            out.entries.push(entry);
        }
    }
    out
}

/// Near-duplicate detection across sources (layer 4): a copy is folded into a story when its
/// similarity reaches `threshold` and both were published within `window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearSettings {
    pub threshold: f32,
    pub window: chrono::Duration,
}

impl Default for NearSettings {
    fn default() -> Self {
        NearSettings { threshold: near::DEFAULT_THRESHOLD, window: near::DEFAULT_WINDOW }
    }
}

/// One story: the entry kept, and the indexes (into the config's sources) of every source that carried it.
#[derive(Debug, Clone)]
pub struct Story {
    pub entry: Entry,
    /// Winner's source first, then the others in config order.
    pub sources: Vec<usize>,
    /// Every copy folded into the story, in the order they were met: for `feedmill explain`.
    pub matches: Vec<Matched>,
}

/// An entry on its way into [`merge`], with its near-duplicate signature when the store kept one
/// (computed from the entry otherwise).
#[derive(Debug, Clone)]
pub struct Signed {
    pub entry: Entry,
    pub signature: Option<near::Signature>,
}

impl From<Entry> for Signed {
    fn from(entry: Entry) -> Signed {
        Signed { entry, signature: None }
    }
}

/// One copy that joined a story, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The copy's own id and source.
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    /// The id of the story's published copy at that moment.
    pub joined: String,
    /// The layer that matched: "id", "canonical URL", "content fingerprint" or "near-duplicate (…)".
    pub layer: String,
    /// What the copy changed in the story: `None`, "published instead" (it replaced a copy first seen in
    /// the same run) or "text upgraded" (richer text, moved into the copy already published).
    pub effect: Option<&'static str>,
}

/// Collapses stories carried by several sources. `per_source` is in config order; returns the stories
/// and, per input position, how many of that source's entries were folded into another source's.
pub fn merge<E: Into<Signed>>(
    per_source: Vec<(usize, Vec<E>)>,
    near: Option<&NearSettings>,
) -> (Vec<Story>, Vec<usize>) {
    let mut stories: Vec<Story> = Vec::new();
    let mut vias: Vec<Vec<(usize, Via)>> = Vec::new();
    let mut by_key: HashMap<Key, usize> = HashMap::new();
    let mut index = near::NearIndex::new();
    let mut folded = vec![0; per_source.len()];

    for (pos, (source, entries)) in per_source.into_iter().enumerate() {
        let entries: Vec<Signed> = entries.into_iter().map(Into::into).collect();
        let shared_urls = urls_used_more_than_once(entries.iter().map(|s| &s.entry));
        for Signed { entry, signature } in entries {
            let keys = keys(&entry, &shared_urls);
            let exact = keys
                .iter()
                .find_map(|k| by_key.get(k).map(|i| (*i, k.layer().to_owned())))
                .filter(|(i, _)| !stories[*i].sources.contains(&source));
            // Layer 4: the same story told with other words and links, from another source.
            let signature = near.map(|_| signature.unwrap_or_else(|| near::Signature::of_entry(&entry)));
            let found = exact.or_else(|| {
                let (settings, sig) = (near?, signature.as_ref()?);
                index
                    .candidates(sig, entry.sort_date(), settings.window)
                    .find(|(i, c)| {
                        c.is_duplicate(settings.threshold) && !stories[*i as usize].sources.contains(&source)
                    })
                    .map(|(i, c)| (i as usize, format!("near-duplicate ({c})")))
            });
            let i = match &found {
                Some((i, _)) => *i,
                None => stories.len(),
            };
            for k in keys {
                by_key.entry(k).or_insert(i);
            }
            if let Some(sig) = signature {
                index.insert(i as u64, sig, entry.sort_date());
            }
            let Some((i, layer)) = found else {
                stories.push(Story { entry, sources: vec![source], matches: Vec::new() });
                vias.push(Vec::new());
                continue;
            };
            folded[pos] += 1;
            let story = &mut stories[i];
            tracing::debug!(kept = %story.entry.id, dropped = %entry.id, matched_by = %layer, "same story in two sources");
            let mut matched = Matched {
                id: entry.id.clone(),
                source: entry.source.clone(),
                url: entry.url.clone(),
                joined: story.entry.id.clone(),
                layer,
                effect: None,
            };
            let (winner, loser, loser_source) = if replaces(&entry, &story.entry) {
                matched.effect = Some("published instead");
                let old = std::mem::replace(&mut story.entry, entry);
                let old_source = story.sources[0];
                story.sources.insert(0, source);
                (&story.entry, old, old_source)
            } else {
                if upgrade_text(&mut story.entry, &entry) {
                    matched.effect = Some("text upgraded");
                }
                story.sources.push(source);
                (&story.entry, entry, source)
            };
            story.matches.push(matched);
            debug_assert!(winner.source != loser.source);
            vias[i].push((loser_source, Via { source: loser.source, url: loser.url }));
        }
    }
    for (story, mut via) in stories.iter_mut().zip(vias) {
        via.sort_by_key(|(source, _)| *source);
        story.entry.via = via.into_iter().map(|(_, v)| v).collect();
        let winner = story.sources[0];
        story.sources[1..].sort_unstable();
        story.sources.dedup();
        debug_assert_eq!(story.sources[0], winner);
    }
    (stories, folded)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Id(String),
    Url(String),
    Print([u8; 32]),
}

impl Key {
    /// The layer's name, for `-v` explanations.
    fn layer(&self) -> &'static str {
        match self {
            Key::Id(_) => "id",
            Key::Url(_) => "canonical URL",
            Key::Print(_) => "content fingerprint",
        }
    }
}

fn keys(entry: &Entry, shared_urls: &HashMap<String, usize>) -> Vec<Key> {
    let mut keys = Vec::with_capacity(3);
    // A derived urn is only meaningful inside its source; an absolute URI id is global by design.
    if !entry.id.starts_with("urn:feedmill:") {
        keys.push(Key::Id(entry.id.clone()));
    }
    if let Some(c) = canonical_url(entry) {
        if shared_urls.get(&c).is_none_or(|n| *n <= 1) {
            keys.push(Key::Url(c));
        }
    }
    if let Some(p) = fingerprint(entry) {
        keys.push(Key::Print(p));
    }
    keys
}

fn urls_used_more_than_once<'a>(entries: impl Iterator<Item = &'a Entry>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for c in entries.filter_map(canonical_url) {
        *counts.entry(c).or_insert(0) += 1;
    }
    counts.retain(|_, n| *n > 1);
    counts
}

/// The entry's canonical URL ([`urls::canonical`]), when it has a link.
pub fn canonical_url(entry: &Entry) -> Option<String> {
    entry.url.as_deref().and_then(|u| Url::parse(u).ok()).map(|u| urls::canonical(&u))
}

/// SHA-256 over the case-folded title and text; `None` when there is too little text to tell entries apart.
pub fn fingerprint(entry: &Entry) -> Option<[u8; 32]> {
    let body =
        entry.content_html.as_deref().or(entry.summary_html.as_deref()).map(text::html_to_text).unwrap_or_default();
    let title = entry.title.to_lowercase();
    let body = body.to_lowercase();
    if title.chars().count() + body.chars().count() < MIN_FINGERPRINT_CHARS {
        return None;
    }
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    Some(h.finalize().into())
}

/// Whether `candidate` should replace `kept` as the story's published copy. A copy published in an
/// earlier run wins outright, so an id readers have seen never changes; among copies first seen
/// together, more text wins, then the earlier date.
fn replaces(candidate: &Entry, kept: &Entry) -> bool {
    if candidate.first_seen != kept.first_seen {
        return candidate.first_seen < kept.first_seen;
    }
    match richness(candidate, kept) {
        Some(richer) => richer,
        None => candidate.sort_date() < kept.sort_date(),
    }
}

/// `Some(true)` when `a` has clearly more text than `b`, `Some(false)` when `b` has; `None` when they
/// are within 10% of each other (equally rich: the earlier one is the original).
fn richness(a: &Entry, b: &Entry) -> Option<bool> {
    let size = |e: &Entry| e.content_html.as_deref().or(e.summary_html.as_deref()).map_or(0, str::len);
    let (a, b) = (size(a), size(b));
    if a > b + b / 10 {
        Some(true)
    } else if b > a + a / 10 {
        Some(false)
    } else {
        None
    }
}

/// Moves a later copy's richer text into the published copy (whose id, link and dates stay); returns
/// whether anything changed. A full text beats a summary, so the published copy's summary is kept and
/// the richer copy's full text becomes its content.
fn upgrade_text(kept: &mut Entry, copy: &Entry) -> bool {
    if richness(copy, kept) != Some(true) {
        return false;
    }
    match (&copy.content_html, &kept.content_html) {
        (Some(content), _) => kept.content_html = Some(content.clone()),
        (None, None) => kept.summary_html = copy.summary_html.clone(),
        // A longer summary does not replace a full text, however short.
        (None, Some(_)) => return false,
    }
    if kept.image.is_none() {
        kept.image = copy.image.clone();
    }
    true
}

fn is_absolute_uri(s: &str) -> bool {
    !s.contains(char::is_whitespace) && Url::parse(s).is_ok_and(|u| u.scheme().len() > 1)
}

/// `urn:feedmill:<source>:<hash>`: stable for as long as the source keeps its name and the key.
fn derived_id(source: &str, key: impl AsRef<[u8]>) -> String {
    let slug: String = source
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update(b"\0");
    h.update(key.as_ref());
    let digest = h.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("urn:feedmill:{slug}:{hex}")
}

#[cfg(test)]
mod tests;
