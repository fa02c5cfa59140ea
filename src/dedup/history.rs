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
pub fn reconcile<S: SourceEntries>(
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
                let keys = Keys { url, print, digest };
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
                store.add(entry, encoded, Keys { url, print, digest }, packed)?;
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
mod tests {
    //! `reconcile` against a backend kept in memory: the decisions, without SQLite.

    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 11, 23, h, 0, 0).unwrap()
    }

    fn entry(id: &str, url: &str, title: &str) -> Entry {
        Entry {
            id: id.into(),
            source: "abai".into(),
            url: Some(url.into()),
            title: title.into(),
            summary_html: Some("<p>Бауыржан Байбек Қызылорда облысына барды.</p>".into()),
            content_html: None,
            authors: vec![],
            categories: vec![],
            published: Some(at(1)),
            updated: None,
            first_seen: at(0),
            language: None,
            enclosures: vec![],
            image: None,
            via: vec![],
        }
    }

    /// What a backend would hold, and what reconciling asked of it.
    #[derive(Default)]
    struct Memory {
        kept: Vec<Kept>,
        purged_ids: Vec<String>,
        rewritten: Vec<(i64, String, bool)>,
        added: Vec<Entry>,
        unlisted: Vec<i64>,
    }

    impl Memory {
        fn keep(&mut self, e: &Entry) {
            let print = super::super::fingerprint(e).map(|p| p.to_vec());
            self.kept.push(Kept {
                handle: self.kept.len() as i64,
                id: e.id.clone(),
                url: super::super::canonical_url(e),
                print,
                first_seen: e.first_seen,
                encoded: serde_json::to_string(e).unwrap(),
                sort_date: Some(e.sort_date()),
                in_feed: true,
                digest: None,
            });
        }
    }

    impl SourceEntries for Memory {
        type Error = serde_json::Error;
        fn kept(&mut self) -> Result<Vec<Kept>, Self::Error> {
            Ok(self.kept.clone())
        }
        fn purged(&mut self, id: &str, _: Option<&str>, _: Option<&[u8; 32]>) -> Result<bool, Self::Error> {
            Ok(self.purged_ids.iter().any(|p| p == id))
        }
        fn encode(&self, entry: &Entry) -> Result<String, Self::Error> {
            serde_json::to_string(entry)
        }
        fn decode(&self, encoded: &str) -> Option<Entry> {
            serde_json::from_str(encoded).ok()
        }
        fn rewrite(&mut self, k: &Kept, e: &Entry, _: &str, _: &Keys, s: Option<Packed>) -> Result<(), Self::Error> {
            self.rewritten.push((k.handle, e.id.clone(), s.is_some()));
            Ok(())
        }
        fn add(&mut self, entry: Entry, _: String, _: Keys, _: Option<Packed>) -> Result<(), Self::Error> {
            self.added.push(entry);
            Ok(())
        }
        fn unlist(&mut self, kept: &Kept) -> Result<(), Self::Error> {
            self.unlisted.push(kept.handle);
            Ok(())
        }
    }

    #[test]
    fn the_id_then_the_link_then_the_fingerprint_find_the_kept_entry() {
        let mut store = Memory::default();
        let by_id = entry("https://abai.kz/1", "https://abai.kz/news/1", "Бірінші жаңалық туралы");
        let by_link = entry("https://abai.kz/2", "https://abai.kz/news/2", "Екінші жаңалық туралы");
        let by_print = entry("https://abai.kz/3", "https://abai.kz/news/3", "Үшінші жаңалық туралы");
        let gone = entry("https://abai.kz/4", "https://abai.kz/news/4", "Төртінші жаңалық туралы");
        for e in [&by_id, &by_link, &by_print, &gone] {
            store.keep(e);
        }
        store.purged_ids.push("https://abai.kz/5".into());

        let mut edited = by_id.clone();
        edited.title = "Бірінші жаңалық, түзетілген".into();
        let mut moved = by_link.clone();
        moved.id = "urn:other-scheme:2".into();
        moved.url = Some("https://www.abai.kz/news/2?utm_source=tg".into());
        let mut relinked = by_print.clone();
        relinked.id = "urn:other-scheme:3".into();
        relinked.url = Some("https://abai.kz/amp/3".into());
        let purged = entry("https://abai.kz/5", "https://abai.kz/news/5", "Бесінші жаңалық туралы");
        let new = entry("https://abai.kz/6", "https://abai.kz/news/6", "Алтыншы жаңалық туралы");
        let listed = [edited, moved, relinked, purged, new].into_iter().map(Listed::from).collect();

        let r = reconcile(&mut store, listed, at(5) + chrono::Duration::milliseconds(300)).unwrap();
        assert_eq!(r, Reconciled { new: 0, updated: 3, unchanged: 0, tombstoned: 1 });
        // Each match keeps the kept id, whatever key found it; an edit is signed again.
        let ids: Vec<(i64, &str, bool)> = store.rewritten.iter().map(|(h, id, s)| (*h, id.as_str(), *s)).collect();
        assert_eq!(
            ids,
            [(0, "https://abai.kz/1", true), (1, "https://abai.kz/2", true), (2, "https://abai.kz/3", true)]
        );
        assert_eq!(store.added.len(), 1);
        assert_eq!(store.added[0].id, "https://abai.kz/6");
        assert_eq!(store.added[0].first_seen, at(5), "first seen to the second");
        assert_eq!(store.unlisted, [3]);
    }

    #[test]
    fn an_unchanged_entry_still_listed_is_not_written_and_a_kept_entry_is_claimed_once() {
        let mut store = Memory::default();
        let a = entry("https://abai.kz/1", "https://abai.kz/news/1", "Бірінші жаңалық туралы");
        store.keep(&a);
        // The same entry twice under two ids: the second finds the kept one by link, already claimed.
        let mut twin = a.clone();
        twin.id = "https://abai.kz/1-copy".into();
        let r = reconcile(&mut store, vec![Listed::from(a), Listed::from(twin)], at(5)).unwrap();
        assert_eq!(r, Reconciled { new: 0, updated: 0, unchanged: 1, tombstoned: 0 });
        assert!(store.rewritten.is_empty());
        assert_eq!(store.added.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["https://abai.kz/1-copy"]);
        assert!(store.unlisted.is_empty());
    }
}
