//! Stories kept between runs: which stories the stored entries make, brought up to date each run.
//!
//! Per dedup mode in use, the store keeps the story each stored entry belongs to, so a run merges only
//! the entries it met and a build reads only the stories its feeds show. New entries (not merged yet)
//! are merged into the stories they may join: those sharing an id, a link or a fingerprint with them,
//! and for near-duplicates those dated within the window. A mode whose inputs changed — its settings,
//! the configured sources (by their keys, which a rename keeps) or the order they were first met in,
//! or `STORIES_VERSION` — is merged again from scratch, in the same order the runs met the entries,
//! which gives the same stories (see [`merge`](mod@super::merge) for the one exception).
//!
//! This module decides; the store reads and writes through [`StoryStore`] (SQLite today).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::merge::{Group, Joined, Merger, NearCopy, Plan, StoryCopy};
use super::near::{self, NearIndex, Signature};
use super::{DedupMode, NearSettings};

/// Bumped when the merge changes what it decides: every mode is then merged again.
const STORIES_VERSION: u32 = 2;

/// Where a copy comes in merge order: by first-seen time, then its source's first-met position, then
/// the order it was stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MergeOrder {
    /// Its first-seen time, in seconds.
    pub first_seen: i64,
    /// Its source's position among the sources, in the order they were first met.
    pub source: usize,
    /// The backend's handle on the stored entry (SQLite: its rowid), in the order entries were stored.
    pub handle: i64,
}

/// What finds a new copy's kept copies: its link (unless its source shares it between entries) and
/// its fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub url: Option<String>,
    pub print: Option<Vec<u8>>,
}

/// A stored copy that may be a new copy's near-duplicate, as the store read it.
#[derive(Debug, Clone)]
pub struct NearCandidate {
    pub order: MergeOrder,
    /// Its source's name.
    pub source: String,
    pub id: String,
    pub sort_date: DateTime<Utc>,
    pub signature: Signature,
}

/// One kept story, for [`Merger::seed`].
#[derive(Debug)]
pub struct Seed {
    /// Its copies in the order they joined, each with how it joined.
    pub copies: Vec<(StoryCopy, Option<Joined>)>,
    /// The published copy's index in `copies`.
    pub head: usize,
    /// Where the story starts in merge order: its first copy's.
    pub start: MergeOrder,
}

/// The stories a store keeps, inside one write. `positions` map source names to their position among
/// the sources in the order they were first met; a stored entry of a source not among them is left out.
/// A backend several processes write at once runs the whole update under one lock (one merger at a time).
pub trait StoryStore {
    type Error;

    /// Forgets the stories of every mode but `modes`: not kept up to date while unused.
    fn forget_modes_except(&mut self, modes: &[DedupMode]) -> Result<(), Self::Error>;

    /// Each source's stable key (which a rename keeps), by its name.
    fn source_keys(&mut self) -> Result<HashMap<String, String>, Self::Error>;

    /// What `mode`'s stories were last merged from ([`update`]'s digest of its inputs).
    fn merged_from(&mut self, mode: &DedupMode) -> Result<Option<String>, Self::Error>;

    /// Forgets `mode`'s stories, for a merge from scratch.
    fn clear(&mut self, mode: &DedupMode) -> Result<(), Self::Error>;

    /// Records what `mode`'s stories were merged from.
    fn set_merged_from(&mut self, mode: &DedupMode, inputs: &str) -> Result<(), Self::Error>;

    /// Every stored entry's place in merge order.
    fn merge_order(&mut self, positions: &HashMap<&str, usize>) -> Result<Vec<MergeOrder>, Self::Error>;

    /// Every stored entry's copy, signed, in the order the entries were stored (by handle).
    fn each_copy(
        &mut self,
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(i64, StoryCopy),
    ) -> Result<(), Self::Error>;

    /// The copies of the stored entries `order` names, in that order, without their signatures.
    fn each_unsigned_copy(
        &mut self,
        order: &[MergeOrder],
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(StoryCopy),
    ) -> Result<(), Self::Error>;

    /// The stored entries no merge has met yet, with their place in merge order.
    fn unmerged(
        &mut self,
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<(MergeOrder, StoryCopy, Lookup)>, Self::Error>;

    /// The published copies (source, id) of `mode`'s stories holding a merged entry with the id `id`,
    /// or the link or fingerprint of `lookup`.
    fn heads_sharing(
        &mut self,
        mode: &DedupMode,
        id: &str,
        lookup: &Lookup,
    ) -> Result<Vec<(String, String)>, Self::Error>;

    /// The published copy (source, id) of `mode`'s story holding each of `copies` (source, id).
    fn heads_of(
        &mut self,
        mode: &DedupMode,
        copies: Vec<(String, String)>,
    ) -> Result<Vec<(String, String)>, Self::Error>;

    /// Of the merged entries dated within `window` of one of `copies`, those whose band tags hold one of
    /// `band_keys` (the copies' own, [`Signature::band_keys`]): each shared band key with the entry's
    /// place in merge order.
    fn sharing_bands(
        &mut self,
        copies: &[StoryCopy],
        band_keys: &[u64],
        window: chrono::Duration,
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<(u64, MergeOrder)>, Self::Error>;

    /// The stored entries `handles`, as near-duplicate candidates; those unreadable are left out.
    fn near_candidates(
        &mut self,
        handles: Vec<i64>,
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<NearCandidate>, Self::Error>;

    /// `mode`'s story published by (`head_source`, `head_id`); `None` when its published copy is gone.
    fn seed(
        &mut self,
        mode: &DedupMode,
        head_source: &str,
        head_id: &str,
        positions: &HashMap<&str, usize>,
    ) -> Result<Option<Seed>, Self::Error>;

    /// Writes the stories the merge changed (every copy's row, under its story's published copy),
    /// naming sources by `sources[position]`.
    fn write(
        &mut self,
        mode: &DedupMode,
        sources: &[&str],
        changed: &mut dyn Iterator<Item = Group>,
    ) -> Result<(), Self::Error>;

    /// Every stored entry has now been merged.
    fn all_merged(&mut self) -> Result<(), Self::Error>;
}

/// Brings the kept stories of every mode in `modes` up to date with the stored entries of `sources`
/// (in the order they were first met); forgets those of modes no longer in use. Returns how many
/// entries were merged.
pub fn update<S: StoryStore + ?Sized>(store: &mut S, modes: &[DedupMode], sources: &[&str]) -> Result<usize, S::Error> {
    let positions: HashMap<&str, usize> = sources.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    store.forget_modes_except(modes)?;
    // What the stories depend on besides the entries: a digest, as 10,000 source names make 100 KB.
    // Of the sources' keys, which a rename keeps (the stories kept were renamed with their source).
    let keys_by_name = store.source_keys()?;
    let source_keys: Vec<&str> =
        sources.iter().map(|name| keys_by_name.get(*name).map_or(*name, String::as_str)).collect();
    let inputs = format!("{STORIES_VERSION}:{:x}", Sha256::digest(source_keys.join("\n").as_bytes()));
    let mut merged = 0;
    for mode in modes {
        merged += if store.merged_from(mode)?.as_deref() == Some(inputs.as_str()) {
            merge_new(store, mode, sources, &positions)?
        } else {
            tracing::info!(mode = %mode.key(), "merging every stored entry into stories");
            store.clear(mode)?;
            let merged = merge_all(store, mode, sources, &positions)?;
            store.set_merged_from(mode, &inputs)?;
            merged
        };
    }
    store.all_merged()?;
    Ok(merged)
}

/// The stories a merge started or changed: what the store writes.
fn changed(merger: Merger) -> impl Iterator<Item = Group> {
    merger.into_groups().filter(|g| g.touched)
}

/// Every stored entry of the configured sources, merged from scratch.
fn merge_all<S: StoryStore + ?Sized>(
    store: &mut S,
    mode: &DedupMode,
    sources: &[&str],
    positions: &HashMap<&str, usize>,
) -> Result<usize, S::Error> {
    // The merge order first, 24 bytes a row; then each row read as it is merged, so the merge never
    // holds every copy at once (500,000 of them at 10,000 sources).
    let mut order = store.merge_order(positions)?;
    order.sort_unstable();

    // First pass, in row order: what every copy could match by ([`Plan`]).
    let mut plan = Plan::new(order.len());
    {
        let mut slots: Vec<(i64, usize)> = order.iter().enumerate().map(|(slot, o)| (o.handle, slot)).collect();
        slots.sort_unstable();
        let mut slots = slots.into_iter().peekable();
        store.each_copy(positions, &mut |handle, c| {
            while slots.next_if(|&(h, _)| h < handle).is_some() {}
            if let Some((_, slot)) = slots.next_if(|&(h, _)| h == handle) {
                plan.add(slot, c);
            }
        })?;
    }

    // Then in merge order, without the signatures the plan holds.
    let mut merger = Merger::planned(mode, plan);
    store.each_unsigned_copy(&order, positions, &mut |c| merger.add(c))?;
    store.write(mode, sources, &mut changed(merger))?;
    Ok(order.len())
}

/// The entries no run has merged yet, merged into the stories they may join.
fn merge_new<S: StoryStore + ?Sized>(
    store: &mut S,
    mode: &DedupMode,
    sources: &[&str],
    positions: &HashMap<&str, usize>,
) -> Result<usize, S::Error> {
    let mut new = store.unmerged(positions)?;
    // Merge order (see `merge_all`).
    new.sort_unstable_by_key(|(order, _, _)| *order);
    let (copies, lookups): (Vec<StoryCopy>, Vec<Lookup>) = new.into_iter().map(|(_, c, l)| (c, l)).unzip();
    if copies.is_empty() {
        return Ok(0);
    }

    // The stories the new copies may join, by their published copies.
    let mut heads: BTreeSet<(String, String)> = BTreeSet::new();
    let mut stored: Vec<NearCopy> = Vec::new();
    for (c, lookup) in copies.iter().zip(&lookups) {
        heads.extend(store.heads_sharing(mode, &c.id, lookup)?);
    }
    if let DedupMode::Near(settings) = mode {
        let (found, sharing) = near_duplicates(store, &copies, settings, positions)?;
        heads.extend(store.heads_of(mode, found)?);
        stored = sharing;
    }

    let mut merger = Merger::new(mode);
    let mut seeds = Vec::with_capacity(heads.len());
    for (source, id) in heads {
        if let Some(seed) = store.seed(mode, &source, &id, positions)? {
            seeds.push(seed);
        }
    }
    // Stories in the order a merge from scratch starts them, which breaks its ties between candidates.
    seeds.sort_by_key(|seed| seed.start);
    for Seed { mut copies, head, .. } in seeds {
        // The near layer sees the stored copies a merge from scratch would reach, in its order: those
        // `near_duplicates` kept, not every copy of the stories seeded.
        for (c, _) in &mut copies {
            c.signature = None;
        }
        merger.seed(copies, head);
    }
    merger.index_stored(stored);
    let n = copies.len();
    for c in copies {
        merger.add(c);
    }
    store.write(mode, sources, &mut changed(merger))?;
    Ok(n)
}

/// The kept copies (source, id) that some new copy is a near-duplicate of, and every stored copy the
/// merge's near layer must see ([`Merger::index_stored`]): of the entries dated within the window of a
/// new copy, those sharing a band with one, the newest `MAX_BUCKET` per band, in merge order. They are
/// indexed as the merge would index them, then queried with each new copy's signature.
#[allow(clippy::type_complexity)]
fn near_duplicates<S: StoryStore + ?Sized>(
    store: &mut S,
    copies: &[StoryCopy],
    settings: &NearSettings,
    positions: &HashMap<&str, usize>,
) -> Result<(Vec<(String, String)>, Vec<NearCopy>), S::Error> {
    // Per band key, only the newest `MAX_BUCKET` in merge order can be a candidate: the new copies
    // come after every stored one, and a query looks no further back (`near::MAX_BUCKET`).
    let band_keys: Vec<u64> =
        copies.iter().filter_map(|c| c.signature.as_ref()).flat_map(Signature::band_keys).collect();
    let mut hits = store.sharing_bands(copies, &band_keys, settings.window, positions)?;
    hits.sort_unstable_by(|(ka, a), (kb, b)| ka.cmp(kb).then(b.cmp(a)));
    let mut sharing: Vec<i64> = hits
        .chunk_by(|(a, _), (b, _)| a == b)
        .flat_map(|newest_first| newest_first.iter().take(near::MAX_BUCKET).map(|(_, o)| o.handle))
        .collect();
    sharing.sort_unstable();
    sharing.dedup();
    tracing::debug!(new = copies.len(), sharing = sharing.len(), "stored entries that may be a new entry's candidate");
    let mut kept = store.near_candidates(sharing, positions)?;
    // The merge's order, so a crowded band keeps the same newest entries (`near::MAX_BUCKET`).
    kept.sort_by_key(|k| k.order);
    let mut index = NearIndex::new();
    for (n, k) in kept.iter().enumerate() {
        index.insert(n as u64, k.signature.clone(), k.sort_date);
    }
    let mut hits = BTreeSet::new();
    for c in copies {
        let Some(sig) = &c.signature else { continue };
        hits.extend(index.duplicates(sig, c.sort_date, settings.window, settings.threshold).map(|(n, _)| n as usize));
    }
    let names = hits.into_iter().filter_map(|n| kept.get(n).map(|k| (k.source.clone(), k.id.clone()))).collect();
    let stored = kept
        .into_iter()
        .map(|k| NearCopy { source: k.order.source, id: k.id, signature: k.signature, sort_date: k.sort_date })
        .collect();
    Ok((names, stored))
}
