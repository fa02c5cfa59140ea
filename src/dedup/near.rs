//! Near-duplicates: the same story published by several sites under different URLs and slightly
//! different headlines.
//!
//! In: an entry's title and texts (or an [`Entry`](crate::model::Entry)), its language and date. Out: a
//! [`Signature`] (about 60 bytes, storable with [`Signature::to_bytes`]) and, from a [`NearIndex`] of
//! earlier signatures, the stories that look the same, each with a [`Comparison`] that says how alike and
//! why a look-alike was refused.
//!
//! **What is compared: the lede.** News is written as an inverted pyramid: the first sentence states
//! the fact. Every copy of a story keeps it, whether the site carries the full text, a teaser, or a
//! lightly edited rewrite; a follow-up about the same event ("the ship docked" after "the ship was
//! launched") opens with its own new fact, even when it repeats whole background sentences further
//! down. So an entry's signature is the set of word pairs (2-shingles) of its first [`LEDE_WORDS`] words,
//! and two entries are compared by *containment*: the share of the smaller lede's pairs found in the
//! other. Containment rather than Jaccard, because a one-sentence teaser is a prefix of the full text's
//! lede. The whole text was tried and rejected: a full-text copy and a teaser share a tenth of their
//! shingles, and a follow-up that reuses background shares more than an edited copy does. On the fixtures
//! (tests/fixtures/stories) lede containment of true copies is at least 0.82 and of follow-ups at most
//! 0.64; the default threshold sits between, at [`DEFAULT_THRESHOLD`].
//!
//! An entry has up to two ledes: its summary's and its full text's, when they open differently (a
//! site's hand-written teaser above the article); pairs compare their best-matching ledes. An entry with
//! no text at all is represented by its title. Words are folded by
//! [`language::fold_words`](crate::normalize::language::fold_words) (NFKC, case, `ё`, Latin look-alikes
//! in Cyrillic words, punctuation and NBSP as spaces, numbers kept). Word pairs rather than single words,
//! because one event's stories share names and places word by word.
//!
//! **Guards** that no score overrides: entries detected in two different languages never match (a
//! Kazakh and a Russian version of one story share names and numbers, and stay apart); entries whose
//! numbers disagree both ways never match — the numbers of the title and first [`LEAD_WORDS`] words are
//! compared, and a copy whose numbers are a subset of the other's (a shorter summary, a corrected
//! title) passes, while a templated daily story ("the dollar at 472.5 tenge") or an aftershock report
//! with other figures does not; a lede of fewer than [`MIN_SHINGLES`] pairs never matches (a bare "Read
//! more on our site").
//!
//! **Same headline.** Agencies' stories are re-published under the agency's headline while each site
//! writes its own one-line lede, which the lede comparison cannot match. So a signature also keeps a
//! key of its folded title ([`headline`]) when the title is specific enough to name one story (not a
//! rubric such as "Курс валют на 22 ноября" or "Ауа райы", and at least
//! [`headline::MIN_CONTENT_WORDS`] words that carry content) and its language is known. Two entries
//! with equal keys are the same story whatever their ledes say, under the same guards (language,
//! numbers; window and one copy per source are the merge's), and `explain` names the layer "same
//! headline". The key is one more band of the index, so candidates still come by look-up.
//!
//! **Sub-quadratic.** [`NearIndex`] finds candidates by locality-sensitive hashing: each lede gets a
//! MinHash of [`BANDS`] × [`BAND_ROWS`] values, cut in bands, and only entries that agree on a whole
//! band with the query are compared exactly. A pair of ledes with Jaccard resemblance `s` becomes a
//! candidate with probability `1 − (1 − s²)^16`: 0.94 at s = 0.4 (a short teaser inside a long lede),
//! 0.997 at s = 0.55 (two equal ledes at containment 0.7), 0.04 at s = 0.05. Candidates outside the
//! time window are skipped before they are compared. The index holds whatever the caller puts in it:
//! the pipeline fills it from the store (signatures are kept with the entries), so a story is matched
//! against every stored entry of the window, not only against the current run.

mod compare;
mod index;
mod signature;

use chrono::Duration;

pub use compare::{compare, similarity, Comparison, NearMatch, Refusal};
pub use index::{NearIndex, PlannedDuplicates, PlannedIndex};
pub use signature::{band_keys_of_bytes, bands_to_bytes, Packed, Signature, SignatureError};

/// Words of a text that make its lede. On the fixtures, 10–15 words give the widest gap between copies
/// and follow-ups; from 20 words on, reused background sentences close it.
pub const LEDE_WORDS: usize = 12;
/// Words of the summary and of the full text, after the title, whose numbers are compared.
pub const LEAD_WORDS: usize = 50;
/// LSH bands per lede, and MinHash values per band.
pub const BANDS: usize = 16;
pub const BAND_ROWS: usize = 2;
/// A lede of fewer word pairs than this is too short to call anything a duplicate.
pub const MIN_SHINGLES: usize = 5;
/// Entries of one band bucket a query looks at, newest first. A band thousands of ledes share (a
/// stock phrase of a templated site, or a tiny vocabulary) says no more about similarity than a stop
/// word, and comparing the whole bucket would make each query cost a scan of the store; real copies
/// share several bands, so capping one bucket rarely hides them. Measured: fixture precision and recall
/// are unchanged; on Zipf-distributed text (`bench/benches/near.rs`) candidates per query fall from 10.1
/// to 4.5 and every planted copy is still found.
pub const MAX_BUCKET: usize = 32;
/// Lede containment from which two entries are the same story, when the config sets no other.
pub const DEFAULT_THRESHOLD: f32 = 0.7;
/// How far apart two copies of a story may be published, when the config sets no other.
pub const DEFAULT_WINDOW: Duration = Duration::hours(72);
/// Version byte of [`Signature::to_bytes`]. Bump it whenever folding, shingling or hashing changes:
/// a stored signature of another version must be computed again from its entry.
pub const SIGNATURE_VERSION: u8 = 2;

/// Characters of a text that surely hold its first [`LEAD_WORDS`] words.
const LEAD_CHARS: usize = 1000;
// `Signature::new` folds only the first LEAD_WORDS words, the ledes among them.
const _: () = assert!(LEDE_WORDS <= LEAD_WORDS);
/// MinHash values per lede, for the index's bands.
const HASHES: usize = BANDS * BAND_ROWS;
/// Longest language tag a signature stores (`kk`, `ru`, `en`; declared tags are cut to their subtag).
const MAX_LANGUAGE_BYTES: usize = 8;
/// Most ledes an entry has: its summary's and its text's.
const MAX_LEDES: usize = 2;
/// Bands of the index: each lede's [`BANDS`], then one for the headline key (numbered `BANDS`).
const KEY_BANDS: usize = BANDS + 1;
/// Band keys an entry has at most.
const MAX_KEYS: usize = MAX_LEDES * BANDS + 1;

/// splitmix64's finalizer: a fixed, well-mixing 64-bit permutation.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, finalized: stable across Rust versions and platforms, unlike `std`'s hasher.
fn hash_bytes(bytes: &[u8]) -> u64 {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    mix(h)
}

fn hash_pair(a: &str, b: &str) -> u32 {
    (mix(hash_bytes(a.as_bytes()) ^ hash_bytes(b.as_bytes()).rotate_left(31)) >> 32) as u32
}

#[path = "near/headline.rs"]
pub mod headline;

#[cfg(test)]
#[path = "near/tests.rs"]
pub(crate) mod tests;
