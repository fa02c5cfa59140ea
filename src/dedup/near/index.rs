//! The LSH indexes that find candidates without comparing every pair: [`NearIndex`], filled one
//! signature at a time, and [`PlannedIndex`], for a merge from scratch that knows every signature
//! before it starts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Duration, Utc};

use super::compare::compare_duplicate;
use super::{compare, mix, Comparison, NearMatch, Signature, KEY_BANDS, MAX_BUCKET, MAX_KEYS};

/// Signatures bucketed for sub-quadratic look-up (see the module docs). Ids are the caller's: a story's
/// position, or the store's row id.
#[derive(Debug, Default)]
pub struct NearIndex {
    slots: Vec<Slot>,
    /// Band key → the newest link with that key.
    heads: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    /// (slot, the previous link with the same key or `NONE`): one bucket is a chain through here.
    links: Vec<(u32, u32)>,
}

#[derive(Debug)]
struct Slot {
    id: u64,
    /// Seconds since the epoch: the window check runs for every candidate.
    at: i64,
    sig: Signature,
}

const NONE: u32 = u32::MAX;

impl NearIndex {
    pub fn new() -> NearIndex {
        NearIndex::default()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds a signature dated `at` (the entry's publication date, else its first-seen time).
    pub fn insert(&mut self, id: u64, sig: Signature, at: DateTime<Utc>) {
        let slot = self.slots.len() as u32;
        // A u32 holds slots and links for over a hundred million entries, far beyond one run's memory;
        // past that the index stops growing rather than corrupting its chains.
        if self.links.len() + MAX_KEYS >= NONE as usize {
            return;
        }
        for key in sig.band_keys() {
            let link = self.links.len() as u32;
            let previous = self.heads.insert(key, link).unwrap_or(NONE);
            self.links.push((slot, previous));
        }
        self.slots.push(Slot { id, sig, at: at.timestamp() });
    }

    /// Every indexed signature dated within `window` of `at` that shares a band with `sig`, compared
    /// with it; best score first, then lowest id. Refused pairs are included, so `explain` can say why.
    pub fn candidates(
        &self,
        sig: &Signature,
        at: DateTime<Utc>,
        window: Duration,
    ) -> impl Iterator<Item = (u64, Comparison)> + '_ {
        let mut found: Vec<(u64, Comparison)> =
            self.neighbours(sig, at, window).map(|s| (s.id, compare(sig, &s.sig))).collect();
        found.sort_by(|(ia, a), (ib, b)| b.score().total_cmp(&a.score()).then(ia.cmp(ib)));
        found.into_iter()
    }

    /// The candidates that are duplicates at `threshold`, in no particular order: what a merge needs,
    /// without a [`Comparison`] built (or a refusal explained) for every look-alike.
    pub fn duplicates<'a>(
        &'a self,
        sig: &'a Signature,
        at: DateTime<Utc>,
        window: Duration,
        threshold: f32,
    ) -> impl Iterator<Item = (u64, Comparison)> + 'a {
        self.neighbours(sig, at, window).filter_map(move |s| {
            let c = compare_duplicate(sig, &s.sig, threshold)?;
            Some((s.id, c))
        })
    }

    /// The indexed signatures dated within `window` of `at` that share a band with `sig`.
    fn neighbours(&self, sig: &Signature, at: DateTime<Utc>, window: Duration) -> impl Iterator<Item = &Slot> + '_ {
        let mut seen: Vec<u32> = Vec::new();
        for key in sig.band_keys() {
            let mut link = self.heads.get(&key).copied().unwrap_or(NONE);
            // The newest MAX_BUCKET of a band's entries only (see MAX_BUCKET).
            for _ in 0..MAX_BUCKET {
                let Some(&(slot, previous)) = self.links.get(link as usize) else { break };
                seen.push(slot);
                link = previous;
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let (at, window) = (at.timestamp(), window.num_seconds());
        seen.into_iter().map(|s| &self.slots[s as usize]).filter(move |s| s.at.abs_diff(at) <= window.unsigned_abs())
    }

    /// The best candidate that is a duplicate at `threshold`, if any.
    pub fn best(&self, sig: &Signature, at: DateTime<Utc>, window: Duration, threshold: f32) -> Option<NearMatch> {
        self.candidates(sig, at, window)
            .find(|(_, c)| c.is_duplicate(threshold))
            .map(|(id, comparison)| NearMatch { id, comparison })
    }
}

/// The near index of a merge that knows every signature before it starts: a store merged from scratch.
/// Slots are the signatures' positions in merge order, and a query for slot `n` sees only slots before
/// it, as if each had been [`NearIndex::insert`]ed in turn: the same candidates, the same newest
/// [`MAX_BUCKET`] of a crowded band. What it saves is memory: a band tag only one lede has can never
/// make a candidate, so only the tags two ledes share are kept, 8 bytes each, per band in one sorted
/// array, and only their slots' signatures. On the bench corpus that is one tag in ten; a [`NearIndex`]
/// holds all 32 of every entry in a hash map, about 1 KB an entry.
#[derive(Debug)]
pub struct PlannedIndex {
    /// Per band, `tag << 32 | slot` for every lede whose tag another lede shares, sorted.
    bands: Vec<Vec<u64>>,
    /// Per slot, where its postings are (`band << PLACE_BITS | index`): `places[starts[n]..starts[n +
    /// 1]]`. A query reads them directly instead of searching every band for every tag (most tags are
    /// nobody else's, and are not there).
    starts: Vec<usize>,
    places: Vec<u32>,
    /// Per slot, its signature and date (seconds) while a band holds it.
    slots: Vec<Option<(Signature, i64)>>,
}

impl PlannedIndex {
    /// The index of `signatures` with their dates (seconds), in merge order (`None`: the copy has
    /// none). A band keeps at most `MAX_PLACES` postings (134 million: a merge of over 4 million
    /// entries, far past what one run holds in memory), its lowest tags'.
    pub fn new(mut signatures: Vec<Option<(Signature, i64)>>) -> PlannedIndex {
        signatures.truncate(NONE as usize);
        let slot_of = |p: u64| (p & u64::from(NONE)) as usize;
        let mut bands = Vec::with_capacity(KEY_BANDS);
        for band in 0..KEY_BANDS {
            // One band at a time: every tag of every band at once would be 256 bytes an entry.
            let mut postings: Vec<u64> = Vec::new();
            for (slot, (sig, _)) in signatures.iter().enumerate().filter_map(|(n, s)| Some((n, s.as_ref()?))) {
                postings.extend(sig.tags(band).map(|tag| u64::from(tag) << 32 | slot as u64));
            }
            postings.sort_unstable();
            let mut kept = Vec::new();
            for run in postings.chunk_by(|a, b| a >> 32 == b >> 32).filter(|run| run.len() > 1) {
                kept.extend_from_slice(run);
            }
            kept.truncate(MAX_PLACES);
            kept.shrink_to_fit();
            bands.push(kept);
        }
        // Each slot's postings, counted, then placed.
        let mut starts = vec![0usize; signatures.len() + 1];
        for &p in bands.iter().flatten() {
            starts[slot_of(p) + 1] += 1;
        }
        for n in 1..starts.len() {
            starts[n] += starts[n - 1];
        }
        let mut next = starts.clone();
        let mut places = vec![0u32; bands.iter().map(Vec::len).sum()];
        for (band, postings) in bands.iter().enumerate() {
            for (index, &p) in postings.iter().enumerate() {
                let at = &mut next[slot_of(p)];
                places[*at] = (band as u32) << PLACE_BITS | index as u32;
                *at += 1;
            }
        }
        drop(next);
        for (n, s) in signatures.iter_mut().enumerate() {
            if starts[n] == starts[n + 1] {
                *s = None;
            }
        }
        PlannedIndex { bands, starts, places, slots: signatures }
    }

    /// The slots before `slot`, dated within `window` of it, that share a band with it and are
    /// duplicates at `threshold` ([`NearIndex::duplicates`]).
    pub fn duplicates(
        &self,
        slot: usize,
        window: Duration,
        threshold: f32,
    ) -> impl Iterator<Item = (usize, Comparison)> + '_ {
        let (Some(Some((sig, at))), Some(&from), Some(&to)) =
            (self.slots.get(slot), self.starts.get(slot), self.starts.get(slot + 1))
        else {
            return Vec::new().into_iter();
        };
        let mut seen: Vec<u32> = Vec::new();
        for &place in &self.places[from..to] {
            let postings = &self.bands[(place >> PLACE_BITS) as usize];
            let mut first = (place & MAX_PLACES as u32) as usize;
            let own = postings[first];
            // Two ledes of the slot may share a tag: its postings sit together, the earlier slots' before.
            while first > 0 && postings[first - 1] == own {
                first -= 1;
            }
            let earlier = postings[..first].iter().rev().take_while(|&&p| p >> 32 == own >> 32).take(MAX_BUCKET);
            seen.extend(earlier.map(|&p| p as u32));
        }
        seen.sort_unstable();
        seen.dedup();
        let window = window.num_seconds().unsigned_abs();
        let found: Vec<(usize, Comparison)> = seen
            .into_iter()
            .filter_map(|n| {
                let (other, other_at) = self.slots.get(n as usize)?.as_ref()?;
                if other_at.abs_diff(*at) > window {
                    return None;
                }
                Some((n as usize, compare_duplicate(sig, other, threshold)?))
            })
            .collect();
        found.into_iter()
    }

    /// [`duplicates`](Self::duplicates) of every slot, computed over the cores at once: they do not
    /// depend on how the merge goes, and the merge then holds neither the signatures nor the bands.
    pub fn into_duplicates(self, window: Duration, threshold: f32) -> PlannedDuplicates {
        let slots = self.slots.len();
        let index = &self;
        let parts: Vec<(Vec<u32>, Vec<Found>)> = crate::cores::over_cores(slots, |range| {
            let mut counts = Vec::with_capacity(range.len());
            let mut found = Vec::new();
            for slot in range {
                let before = found.len();
                // Shared and of are at most LEDE_WORDS - 1 word pairs.
                found.extend(
                    index
                        .duplicates(slot, window, threshold)
                        .map(|(n, c)| (n as u32, c.shared as u8, c.of as u8, c.headline)),
                );
                counts.push((found.len() - before) as u32);
            }
            (counts, found)
        });
        drop(self);
        let mut starts = Vec::with_capacity(slots + 1);
        starts.push(0usize);
        let mut found = Vec::new();
        for (counts, part) in parts {
            for n in counts {
                starts.push(starts.last().copied().unwrap_or(0) + n as usize);
            }
            found.extend(part);
        }
        PlannedDuplicates { starts, found }
    }
}

/// Every slot's duplicates among the slots before it ([`PlannedIndex::into_duplicates`]).
#[derive(Debug)]
pub struct PlannedDuplicates {
    /// Slot `n`'s are `found[starts[n]..starts[n + 1]]`.
    starts: Vec<usize>,
    found: Vec<Found>,
}

/// A duplicate found: the earlier slot, the word pairs shared of how many, and whether the headlines
/// are the same.
type Found = (u32, u8, u8, bool);

impl PlannedDuplicates {
    /// The slots before `slot` it is a duplicate of, as [`PlannedIndex::duplicates`] gives them.
    pub fn of(&self, slot: usize) -> impl Iterator<Item = (usize, Comparison)> + '_ {
        let range = match (self.starts.get(slot), self.starts.get(slot + 1)) {
            (Some(&from), Some(&to)) => from..to,
            _ => 0..0,
        };
        self.found[range].iter().map(|&(n, shared, of, headline)| {
            (n as usize, Comparison { shared: usize::from(shared), of: usize::from(of), headline, refused: None })
        })
    }
}

/// Bits of a [`PlannedIndex`] place that index a band's postings; the band takes the rest.
const PLACE_BITS: u32 = 32 - KEY_BANDS.next_power_of_two().ilog2();
const MAX_PLACES: usize = (1 << PLACE_BITS) - 1;

/// Band keys are already well-mixed hashes: hashing them again would only cost time.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |h, &b| mix(h ^ u64::from(b)));
    }
    fn write_u64(&mut self, n: u64) {
        // A key's high half is its band number: spread it, since the map picks buckets and control
        // bytes from different ends of the hash.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
