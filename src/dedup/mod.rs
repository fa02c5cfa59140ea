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
//! [`identify`] works on one source (ids, duplicates inside the feed); [`merge`](mod@merge) works across
//! sources and keeps one entry per story, listing the other sources in `via`. The entry kept is the one
//! published first (earliest first-seen time, so a published id never changes), then the richest
//! (longest content), then the earliest dated, then the first in the order the sources were first met
//! (not config order, so reordering the config changes no published id). A richer copy that arrives
//! after the story was published does not take its place: its text is moved into the published entry
//! instead (the id, link and dates stay).

use std::collections::HashMap;
use std::fmt;

pub mod history;
pub mod merge;
pub mod near;
pub mod stories;

pub use merge::{
    assemble, merge, text_size, Group, Joined, Matched, Member, Merger, NearCopy, Plan, Signed, Story, StoryCopy,
};

use sha2::{Digest, Sha256};
use url::Url;

use crate::model::Entry;
use crate::normalize::{language, text, urls, Candidate, RawDigest};

/// Share of blank or repeated ids above which a source's ids are not trusted.
const MAX_BAD_ID_SHARE: f64 = 0.05;
/// Below this many characters of title + text, a fingerprint would merge unrelated short entries.
const MIN_FINGERPRINT_CHARS: usize = 24;

/// One source's entries with ids assigned and in-feed duplicates removed.
#[derive(Debug, Clone)]
pub struct Identified {
    pub entries: Vec<Listed>,
    /// Entries dropped because an earlier entry of the same feed was the same.
    pub duplicates: usize,
    /// Why the source's ids were not trusted, when they were not.
    pub downgraded: Option<String>,
}

/// Assigns ids to one source's candidates and drops in-feed duplicates (first occurrence wins: feeds
/// list newest first).
///
/// `source` is the source's stable key, which the ids derived for its entries start with.
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
    for Candidate { guid, mut entry, digest, reused } in candidates {
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
            out.entries.push(Listed { entry, print, digest, reused, packed: None });
        }
    }
    out
}

/// An entry as its feed lists it, with the keys worked out for it on the way, so the store does not
/// work them out again.
#[derive(Debug, Clone)]
pub struct Listed {
    pub entry: Entry,
    /// [`fingerprint`] of the entry.
    pub print: Option<[u8; 32]>,
    /// What it was normalized from, where it was (`normalize::RawDigest`).
    pub digest: Option<RawDigest>,
    /// Taken from the store by its digest (`Candidate::reused`): the signature stored with it stands.
    pub reused: bool,
    /// Its near-duplicate signature ([`Identified::sign`]); `None` leaves signing to the store.
    pub packed: Option<near::Packed>,
}

impl From<Entry> for Listed {
    fn from(entry: Entry) -> Listed {
        Listed { print: fingerprint(&entry), entry, digest: None, reused: false, packed: None }
    }
}

impl Identified {
    /// Signs each entry normalized this run, for the store to keep ([`near::Packed`]). Called on the
    /// source's own task, so the run's one store writer does not do it; an entry reused from the store
    /// is not signed again.
    pub fn sign(&mut self) {
        for listed in self.entries.iter_mut().filter(|l| !l.reused) {
            listed.packed = Some(near::Packed::of(&listed.entry));
        }
    }
}

/// How stories are merged: `[dedup] mode`, or a category's own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DedupMode {
    /// Every source's entries stand alone.
    Off,
    /// Same id, canonical link or identical title and text.
    Exact,
    /// Exact, and near-duplicates (the same story retold) within a time window.
    Near(NearSettings),
}

impl DedupMode {
    /// How the store keys this mode's stories: `off`, `exact`, or `near:<threshold>:<window seconds>`.
    pub fn key(&self) -> String {
        match self {
            DedupMode::Off => "off".to_owned(),
            DedupMode::Exact => "exact".to_owned(),
            DedupMode::Near(s) => format!("near:{}:{}", s.threshold, s.window.num_seconds()),
        }
    }
}

impl fmt::Display for DedupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DedupMode::Off => f.write_str("off"),
            DedupMode::Exact => f.write_str("exact"),
            DedupMode::Near(s) => write!(f, "near, threshold {:.2}, window {}h", s.threshold, s.window.num_hours()),
        }
    }
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

pub(crate) fn urls_used_more_than_once<'a>(entries: impl Iterator<Item = &'a Entry>) -> HashMap<String, usize> {
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
    let title = language::lowercase(&entry.title);
    let body = language::lowercase(&body);
    if title.chars().count() + body.chars().count() < MIN_FINGERPRINT_CHARS {
        return None;
    }
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    Some(h.finalize().into())
}

/// The id an entry with the source id `guid` gets from `source` when its ids are trusted: the guid
/// itself when it is an absolute URI, else one derived from it. `explain` finds entries by raw guid so.
pub fn id_for_guid(source: &str, guid: &str) -> String {
    let guid = guid.trim();
    if is_absolute_uri(guid) {
        guid.to_owned()
    } else {
        derived_id(source, guid)
    }
}

fn is_absolute_uri(s: &str) -> bool {
    !s.contains(char::is_whitespace) && Url::parse(s).is_ok_and(|u| u.scheme().len() > 1)
}

/// `urn:feedmill:<source key>:<hash>`: `source` is the source's stable key (its name when first seen,
/// `store::SourceStates::identify_sources`), so the id outlives renames.
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
