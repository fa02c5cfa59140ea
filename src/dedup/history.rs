//! History: how a parsed feed's entries relate to what the store kept of their source.
//!
//! Each entry the feed lists now is matched with a kept one by its id, then its canonical link, then
//! its content fingerprint (the first key that finds a kept entry decides; a kept entry is claimed
//! once). A match keeps the kept id and first-seen time, so a published id never changes, and takes
//! the new content; an entry matched by nothing is new, unless one of its keys was purged (a
//! tombstone), which keeps it out. A kept entry no listed one claimed has left the feed.
//!
//! This module decides; the store only persists, through [`SourceEntries`], a narrow interface any
//! backend implements (SQLite today) inside the write that records the run.

use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{HashMap, HashSet};

use super::near::Packed;
use super::Listed;
use crate::model::Entry;
use crate::normalize::RawDigest;

/// How the entries of a parsed feed related to what the store knew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Purged earlier and still listed by the source: kept out.
    pub tombstoned: usize,
}

/// An entry as the store kept it, as reconciling reads it: its keys, dates and stored form.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The backend's own handle on the entry (SQLite: its rowid), for [`SourceEntries::unlist`].
    pub handle: i64,
    /// Its published id.
    pub id: String,
    /// Its canonical link, when it has one.
    pub url: Option<String>,
    /// Its content fingerprint ([`super::fingerprint`]), when it has one.
    pub print: Option<Vec<u8>>,
    pub first_seen: DateTime<Utc>,
    /// The entry in the store's own form ([`SourceEntries::encode`]): the same form means the same entry.
    pub encoded: String,
    /// The date it sorts by, when the store has one.
    pub sort_date: Option<DateTime<Utc>>,
    /// Whether its feed listed it when last parsed.
    pub in_feed: bool,
    /// The digest of what it was normalized from ([`RawDigest`]), when known.
    pub digest: Option<Vec<u8>>,
}

/// The keys worked out for an entry, which the store keeps beside it.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// Its canonical link ([`super::canonical_url`]).
    pub url: Option<String>,
    /// Its content fingerprint ([`super::fingerprint`]).
    pub print: Option<[u8; 32]>,
    /// What it was normalized from ([`RawDigest`]).
    pub digest: Option<RawDigest>,
    /// Its text's size ([`super::text_size`]), which the merge prefers the richest copy by.
    pub text_size: usize,
}

/// One source's kept entries, inside the write that records a run: what [`reconcile`] reads and
/// writes. Times are kept to the second. Writes may be deferred until the run's write commits (SQLite
/// batches new entries to sign them over the cores), but a later [`SourceEntries::kept`] of the same
/// source within the run must see them. A backend several processes write at once holds the source's
/// entries from [`SourceEntries::kept`] to the end of that write (a lock on the source's row), so two
/// writers never reconcile one source from the same kept entries.
pub trait SourceEntries {
    type Error;

    /// Every entry kept for the source, in the order they were first written.
    fn kept(&mut self) -> Result<Vec<Kept>, Self::Error>;

    /// Whether any of an entry's keys (its id, canonical link, fingerprint) was purged from the source.
    fn purged(&mut self, id: &str, url: Option<&str>, print: Option<&[u8; 32]>) -> Result<bool, Self::Error>;

    /// The entry in the store's own form, compared with [`Kept::encoded`].
    fn encode(&self, entry: &Entry) -> Result<String, Self::Error>;

    /// An entry back from [`Kept::encoded`]; `None` when this version cannot read it.
    fn decode(&self, encoded: &str) -> Option<Entry>;

    /// Writes `kept` again as its feed lists it now: `entry` (under the kept id), its `keys`, and its
    /// signature (`None`: the entry did not change, its stored signature stands).
    fn rewrite(
        &mut self,
        kept: &Kept,
        entry: &Entry,
        encoded: &str,
        keys: &Keys,
        signature: Option<Packed>,
    ) -> Result<(), Self::Error>;

    /// Adds an entry met for the first time; `packed: None` leaves signing it to the store.
    fn add(&mut self, entry: Entry, encoded: String, keys: Keys, packed: Option<Packed>) -> Result<(), Self::Error>;

    /// A kept entry the feed no longer lists.
    fn unlist(&mut self, kept: &Kept) -> Result<(), Self::Error>;
}

/// Matches a parsed feed's entries with the kept ones (see the module's doc) and has the store write
/// them, at `now`. Counts new entries as the store adds them, so [`Reconciled::new`] is left to it.
///
/// A kept entry the feed still lists unchanged is not written at all: the store records that its
/// feed listed it, so a changed feed costs a write per new, edited or dropped entry, not per entry
/// it lists.
pub fn reconcile<S: SourceEntries + ?Sized>(
    store: &mut S,
    entries: Vec<Listed>,
    now: DateTime<Utc>,
) -> Result<Reconciled, S::Error> {
    let kept = store.kept()?;
    // Keys of kept entries: an id names one entry; a link or fingerprint shared by several finds the first.
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_url: HashMap<&str, usize> = HashMap::new();
    let mut by_print: HashMap<&[u8], usize> = HashMap::new();
    for (i, k) in kept.iter().enumerate() {
        by_id.insert(&k.id, i);
        if let Some(url) = &k.url {
            by_url.entry(url).or_insert(i);
        }
        if let Some(print) = &k.print {
            by_print.entry(print).or_insert(i);
        }
    }

    let mut out = Reconciled::default();
    let mut claimed = HashSet::new();
    for Listed { mut entry, print, digest, packed, .. } in entries {
        let url = super::canonical_url(&entry);
        let found = by_id
            .get(entry.id.as_str())
            .or_else(|| url.as_deref().and_then(|u| by_url.get(u)))
            .or_else(|| print.as_ref().and_then(|p| by_print.get(&p[..])))
            .copied()
            .filter(|i| claimed.insert(*i));
        match found {
            Some(i) => {
                let k = &kept[i];
                entry.id = k.id.clone();
                entry.first_seen = k.first_seen;
                // Full text fetched once (from the article page) outlives the summary-only feed that
                // keeps listing the entry.
                let (mut print, mut packed) = (print, packed);
                if entry.content_html.is_none() {
                    entry.content_html = store.decode(&k.encoded).and_then(|e| e.content_html);
                    if entry.content_html.is_some() {
                        print = super::fingerprint(&entry);
                        packed = None;
                    }
                }
                let encoded = store.encode(&entry)?;
                let keys = Keys { url, print, digest, text_size: super::text_size(&entry) };
                let signature = if encoded == k.encoded {
                    out.unchanged += 1;
                    // The keys are compared too: an older feedmill worked them out otherwise.
                    let keys_same = k.url == keys.url
                        && k.print.as_deref() == keys.print.as_ref().map(|p| &p[..])
                        && k.sort_date.map(|d| d.timestamp()) == Some(entry.sort_date().timestamp())
                        && k.digest.as_deref() == keys.digest.as_ref().map(|d| &d[..]);
                    if k.in_feed && keys_same {
                        continue;
                    }
                    None
                } else {
                    out.updated += 1;
                    Some(packed.unwrap_or_else(|| Packed::of(&entry)))
                };
                store.rewrite(k, &entry, &encoded, &keys, signature)?;
            }
            None if store.purged(&entry.id, url.as_deref(), print.as_ref())? => out.tombstoned += 1,
            None => {
                // At the store's precision, so the entry a later run rebuilds around the kept
                // first-seen time encodes the same and is not taken for edited.
                entry.first_seen = now.trunc_subsecs(0);
                let encoded = store.encode(&entry)?;
                let keys = Keys { url, print, digest, text_size: super::text_size(&entry) };
                store.add(entry, encoded, keys, packed)?;
            }
        }
    }
    for (i, k) in kept.iter().enumerate() {
        if k.in_feed && !claimed.contains(&i) {
            store.unlist(k)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
