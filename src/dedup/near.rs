//! Near-duplicates: the same story published by several sites under different URLs and slightly
//! different headlines.
//!
//! In: an entry's title and texts (or an [`Entry`]), its language and date. Out: a [`Signature`] (about
//! 60 bytes, storable with [`Signature::to_bytes`]) and, from a [`NearIndex`] of earlier signatures, the
//! stories that look the same, each with a [`Comparison`] that says how alike and why a look-alike was
//! refused.
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
//! no text at all is represented by its title. Words are folded by [`language::fold_words`] (NFKC, case,
//! `ё`, Latin look-alikes in Cyrillic words, punctuation and NBSP as spaces, numbers kept). Word pairs
//! rather than single words, because one event's stories share names and places word by word.
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

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Duration, Utc};

use crate::model::Entry;
use crate::normalize::{language, text};

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

/// What the near layer keeps of an entry: the word-pair hashes of its ledes, the numbers of its lead,
/// its language, its headline key.
///
/// Compact, because a merge from scratch holds one per stored entry (500,000 at 10,000 sources): about
/// 40 bytes and one allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// One or two sorted, distinct sets of word-pair hashes (at most `LEDE_WORDS - 1` each), end to end;
    /// none when the entry has no words at all. When `titled`, the headline key follows in two halves
    /// (low, high): in the same allocation, so the signature stays within 40 bytes.
    hashes: Box<[u32]>,
    /// How many ledes `hashes` holds (0 to `MAX_LEDES`), and where the second starts.
    ledes: u8,
    split: u8,
    /// One bit per distinct number-bearing word of the title and lead (hashed into 64 bits).
    numbers: u64,
    /// ASCII, at most `MAX_LANGUAGE_BYTES`; empty when unknown.
    language: [u8; MAX_LANGUAGE_BYTES],
    language_len: u8,
    /// Whether the title has a [`headline::key`] (language included), kept at the end of `hashes`.
    titled: bool,
}

/// A stored signature that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("near-duplicate signature of version {found}, expected {SIGNATURE_VERSION}: compute it again")]
    Version { found: u8 },
    #[error("near-duplicate signature of {len} bytes is truncated or malformed")]
    Malformed { len: usize },
}

impl Signature {
    /// The signature of one entry: its title, its summary and content as text, and its language (the
    /// one normalizing detected, [`language::of_entry`]; detected here only when it is unknown).
    pub fn of_entry(entry: &Entry) -> Signature {
        // Only the lead is read (`start`): the rest of a long article need not be converted.
        let lead = |html: &str| text::html_text_start(text::html_start(html, LEAD_CHARS), LEAD_CHARS);
        let summary = entry.summary_html.as_deref().map(lead).unwrap_or_default();
        let content = entry.content_html.as_deref().map(lead).unwrap_or_default();
        let language = match &entry.language {
            Some(l) => language::primary_subtag(l),
            None => language::of_entry(entry, if content.is_empty() { &summary } else { &content }),
        };
        Signature::new(&entry.title, &summary, &content, language.as_deref())
    }

    /// The signature of a title and two plain texts (either may be empty), in `language` if known.
    pub fn new(title: &str, summary: &str, content: &str, language: Option<&str>) -> Signature {
        let title = language::fold_words(title, true);
        // Only the first LEAD_WORDS words are read (LEDE_WORDS of them for the ledes).
        let summary = language::fold_first_words(start(summary), true, LEAD_WORDS);
        let content = language::fold_first_words(start(content), true, LEAD_WORDS);
        let mut numbers = 0u64;
        for w in title.iter().chain(lead(&summary)).chain(lead(&content)) {
            if w.bytes().any(|b| b.is_ascii_digit()) {
                numbers |= 1 << (hash_bytes(w.as_bytes()) % 64);
            }
        }
        let mut ledes: Vec<Vec<u32>> = Vec::with_capacity(MAX_LEDES);
        for words in [&summary, &content] {
            let lede = shingles(&words[..words.len().min(LEDE_WORDS)]);
            if !lede.is_empty() && !ledes.contains(&lede) {
                ledes.push(lede);
            }
        }
        if ledes.is_empty() && !title.is_empty() {
            ledes.push(shingles(&title[..title.len().min(LEDE_WORDS)]));
        }
        let language = language
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty() && l.len() <= MAX_LANGUAGE_BYTES && l.is_ascii());
        let language = language.as_deref().unwrap_or("");
        let title_key = headline::key(&title, language).unwrap_or(0);
        Signature::from_parts(&ledes, numbers, language, title_key)
    }

    /// `ledes` at most `MAX_LEDES` of at most `LEDE_WORDS` hashes; `language` ASCII of at most
    /// `MAX_LANGUAGE_BYTES` (both callers check).
    fn from_parts(ledes: &[Vec<u32>], numbers: u64, language: &str, title: u64) -> Signature {
        let mut tag = [0u8; MAX_LANGUAGE_BYTES];
        tag[..language.len()].copy_from_slice(language.as_bytes());
        let mut hashes = ledes.concat();
        if title != 0 {
            hashes.extend([title as u32, (title >> 32) as u32]);
        }
        Signature {
            hashes: hashes.into_boxed_slice(),
            ledes: ledes.len() as u8,
            split: ledes.first().map_or(0, Vec::len) as u8,
            numbers,
            language: tag,
            language_len: language.len() as u8,
            titled: title != 0,
        }
    }

    /// The headline key; 0 when the title has none.
    fn title(&self) -> u64 {
        match (self.titled, &self.hashes[..]) {
            (true, [.., low, high]) => u64::from(*high) << 32 | u64::from(*low),
            _ => 0,
        }
    }

    /// Whether both titles have the same headline key (so the same language too).
    fn same_headline(&self, other: &Signature) -> bool {
        self.titled && other.titled && self.title() == other.title()
    }

    /// The language the signature was made with, if known.
    pub fn language(&self) -> Option<&str> {
        let tag = &self.language[..usize::from(self.language_len)];
        std::str::from_utf8(tag).ok().filter(|t| !t.is_empty())
    }

    /// The ledes' hash sets.
    fn ledes(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let hashes = &self.hashes[..self.hashes.len().saturating_sub(if self.titled { 2 } else { 0 })];
        let (first, second) = hashes.split_at(usize::from(self.split).min(hashes.len()));
        [first, second].into_iter().take(usize::from(self.ledes))
    }

    /// Known languages that differ, compared byte by byte (cheaper than a string comparison).
    fn languages_differ(&self, other: &Signature) -> bool {
        self.language_len != 0
            && other.language_len != 0
            && (self.language_len != other.language_len || self.language != other.language)
    }

    /// Serialized: version, language length and bytes, number mask (u64 LE), lede count, each lede as
    /// its length and its hashes (u32 LE), then the headline key (u64 LE): 66 bytes for a `kk` entry
    /// with one full lede.
    pub fn to_bytes(&self) -> Vec<u8> {
        let language = self.language().unwrap_or("");
        let mut out = Vec::with_capacity(3 + language.len() + 8 + usize::from(self.ledes) + 4 * self.hashes.len());
        out.push(SIGNATURE_VERSION);
        // `new` and `from_bytes` keep the language within MAX_LANGUAGE_BYTES, the ledes within
        // MAX_LEDES and LEDE_WORDS: every length fits a byte.
        out.push(language.len() as u8);
        out.extend_from_slice(language.as_bytes());
        out.extend_from_slice(&self.numbers.to_le_bytes());
        out.push(self.ledes);
        for lede in self.ledes() {
            out.push(lede.len() as u8);
            for h in lede {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.title().to_le_bytes());
        out
    }

    /// Reads back what [`to_bytes`](Self::to_bytes) wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureError> {
        let malformed = || SignatureError::Malformed { len: bytes.len() };
        let mut r = Reader(bytes);
        let version = r.byte().ok_or_else(malformed)?;
        if version != SIGNATURE_VERSION {
            return Err(SignatureError::Version { found: version });
        }
        let lang_len = usize::from(r.byte().ok_or_else(malformed)?);
        let lang = r.take(lang_len).filter(|_| lang_len <= MAX_LANGUAGE_BYTES).ok_or_else(malformed)?;
        let language = match std::str::from_utf8(lang) {
            Ok(l) if l.is_ascii() => l,
            _ => return Err(malformed()),
        };
        let numbers = r.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).ok_or_else(malformed)?;
        let count = usize::from(r.byte().ok_or_else(malformed)?);
        if count > MAX_LEDES {
            return Err(malformed());
        }
        let mut ledes = Vec::with_capacity(count);
        for _ in 0..count {
            let len = usize::from(r.byte().ok_or_else(malformed)?);
            let raw = r.take(4 * len).filter(|_| len < LEDE_WORDS).ok_or_else(malformed)?;
            ledes.push(raw.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
        }
        let title = r.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).ok_or_else(malformed)?;
        if !r.0.is_empty() {
            return Err(malformed());
        }
        Ok(Signature::from_parts(&ledes, numbers, language, title))
    }

    /// The index's band keys, as `band << 32 | tag`: for each lede, its MinHash cut in bands
    /// (`band_tag`), then the headline key's tag in band `BANDS` when the title has one.
    pub fn band_keys(&self) -> impl Iterator<Item = u64> + '_ {
        let ledes = self
            .ledes()
            .flat_map(|lede| (0..BANDS).map(move |band| (band as u64) << 32 | u64::from(band_tag(lede, band))));
        ledes.chain(self.title_tag().map(|tag| (BANDS as u64) << 32 | u64::from(tag)))
    }

    /// The tags of band `band` (below `KEY_BANDS`): one per lede, or the headline key's.
    fn tags(&self, band: usize) -> impl Iterator<Item = u32> + '_ {
        let ledes = self.ledes().filter(move |_| band < BANDS).map(move |lede| band_tag(lede, band));
        ledes.chain(self.title_tag().filter(|_| band == BANDS))
    }

    /// The headline key as a band tag, if the title has a key.
    fn title_tag(&self) -> Option<u32> {
        self.titled.then(|| (mix(self.title() ^ BANDS as u64) >> 32) as u32)
    }
}

/// [`Signature::band_keys`] as the store keeps them beside the signature, so a run can tell which
/// stored entries share a band with its new ones without computing a MinHash per stored entry: each
/// lede's [`BANDS`] tags in band order, `u32` little-endian.
pub fn bands_to_bytes(sig: &Signature) -> Vec<u8> {
    sig.band_keys().flat_map(|key| (key as u32).to_le_bytes()).collect()
}

/// A signature as the store keeps it: [`Signature::to_bytes`] and [`bands_to_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub signature: Vec<u8>,
    pub bands: Vec<u8>,
}

impl Packed {
    /// Signs `entry` ([`Signature::of_entry`]) and packs the result.
    pub fn of(entry: &Entry) -> Packed {
        let sig = Signature::of_entry(entry);
        Packed { signature: sig.to_bytes(), bands: bands_to_bytes(&sig) }
    }
}

/// The band keys [`bands_to_bytes`] wrote (nothing from a length that is not a whole number of tags).
/// The ledes' tags come in whole bands; one more at the end is the headline key's.
pub fn band_keys_of_bytes(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let tags = if bytes.len().is_multiple_of(4) { bytes } else { &[] };
    let lede_tags = tags.len() / 4 / BANDS * BANDS;
    tags.chunks_exact(4).enumerate().map(move |(n, tag)| {
        let band = if n < lede_tags { (n % BANDS) as u64 } else { BANDS as u64 };
        band << 32 | u64::from(u32::from_le_bytes([tag[0], tag[1], tag[2], tag[3]]))
    })
}

/// One band of a lede's MinHash, hashed to 32 bits: a [`PlannedIndex`] sorts them per band in a `u64`
/// with the slot, and [`NearIndex`] keys on the same tag so both find the same candidates.
fn band_tag(lede: &[u32], band: usize) -> u32 {
    let mut mins = [u32::MAX; BAND_ROWS];
    for &x in lede {
        for (min, (a, b)) in mins.iter_mut().zip(&PERMUTATIONS[band * BAND_ROWS..(band + 1) * BAND_ROWS]) {
            *min = (*min).min((a.wrapping_mul(u64::from(x)).wrapping_add(*b) >> 32) as u32);
        }
    }
    mins.iter().fold(band as u64, |h, &v| mix(h ^ u64::from(v).rotate_left(17))) as u32
}

/// A byte cursor for [`Signature::from_bytes`].
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        (n <= self.0.len()).then(|| {
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            head
        })
    }
}

/// The start of a text, long enough for [`LEAD_WORDS`] words: a full article is not folded only to be
/// cut after fifty words.
fn start(text: &str) -> &str {
    // The cut may split a word, past the fiftieth unless words average over 20 characters.
    text::first_chars(text, LEAD_CHARS)
}

/// The first [`LEAD_WORDS`] words.
fn lead(words: &[String]) -> impl Iterator<Item = &String> {
    words.iter().take(LEAD_WORDS)
}

/// Sorted, distinct hashes of the word pairs of `words` (of the single word, when there is one).
fn shingles(words: &[String]) -> Vec<u32> {
    let mut set: Vec<u32> = match words {
        [] => Vec::new(),
        [only] => vec![hash_bytes(only.as_bytes()) as u32],
        _ => words.windows(2).map(|pair| hash_pair(&pair[0], &pair[1])).collect(),
    };
    set.sort_unstable();
    set.dedup();
    set
}

/// Share of the smaller lede's word pairs found in the other, over the best-matching pair of ledes;
/// 0.0–1.0.
pub fn similarity(a: &Signature, b: &Signature) -> f32 {
    let (shared, of) = best_ledes(a, b);
    if of == 0 {
        0.0
    } else {
        shared as f32 / of as f32
    }
}

/// Over the two entries' pairs of ledes, the best containment as (pairs shared, pairs of the smaller
/// lede); on a tie the larger lede pair, which is the stronger evidence.
fn best_ledes(a: &Signature, b: &Signature) -> (usize, usize) {
    let mut best = (0usize, 0usize);
    for x in a.ledes() {
        for y in b.ledes() {
            let of = x.len().min(y.len());
            let shared = common(x, y);
            // shared / of > best.0 / best.1, without division.
            let better = shared * best.1 > best.0 * of || (shared * best.1 == best.0 * of && of > best.1);
            if of > 0 && better {
                best = (shared, of);
            }
        }
    }
    best
}

/// Size of the intersection of two sorted sets. Without branches on the comparison: which side moves
/// is a coin toss for hashes, and a merge from scratch runs this hundreds of millions of times.
fn common(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        n += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    n
}

/// Everything the near layer knows about a pair: how much of a lede the other contains, and the guard
/// that refused the pair, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Word pairs of the smaller lede found in the other's, over the best-matching ledes.
    pub shared: usize,
    /// Word pairs of that smaller lede.
    pub of: usize,
    /// Both titles have the same specific headline ([`headline`]): one story whatever the ledes say.
    pub headline: bool,
    pub refused: Option<Refusal>,
}

/// Why two look-alikes are not the same story, whatever their score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Detected in different languages: translations are separate stories.
    Languages(String, String),
    /// Each has numbers the other lacks: the same event with different facts.
    Numbers,
    /// A lede too short to tell stories apart.
    TooShort,
}

impl Comparison {
    /// Lede containment, 0.0–1.0: what thresholds are set against.
    pub fn score(&self) -> f32 {
        if self.of == 0 {
            0.0
        } else {
            self.shared as f32 / self.of as f32
        }
    }

    /// Whether the pair is one story at `threshold`.
    pub fn is_duplicate(&self, threshold: f32) -> bool {
        self.refused.is_none() && (self.score() >= threshold || self.headline)
    }

    /// The layer that makes the pair one story at `threshold`, for `explain`: "near-duplicate (…)" when
    /// the ledes match, else "same headline (…)".
    pub fn layer(&self, threshold: f32) -> String {
        if self.headline && self.score() < threshold {
            format!("same headline ({self})")
        } else {
            format!("near-duplicate ({self})")
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lede containment {:.2} ({} of {} word pairs)", self.score(), self.shared, self.of)?;
        match &self.refused {
            None => Ok(()),
            Some(Refusal::Languages(a, b)) => write!(f, ", refused: languages differ ({a} / {b})"),
            Some(Refusal::Numbers) => write!(f, ", refused: the numbers differ"),
            Some(Refusal::TooShort) => write!(f, ", refused: lede too short"),
        }
    }
}

/// Compares two signatures: lede containment, the headline keys and the guards (see the module docs).
/// A short lede refuses only a pair whose headlines differ: the same headline needs no lede.
pub fn compare(a: &Signature, b: &Signature) -> Comparison {
    let (shared, of) = best_ledes(a, b);
    let headline = a.same_headline(b);
    let refused = match (a.language(), b.language()) {
        (Some(x), Some(y)) if x != y => Some(Refusal::Languages(x.to_owned(), y.to_owned())),
        _ if of < MIN_SHINGLES && !headline => Some(Refusal::TooShort),
        _ if a.numbers & !b.numbers != 0 && b.numbers & !a.numbers != 0 => Some(Refusal::Numbers),
        _ => None,
    };
    Comparison { shared, of, headline, refused }
}

/// [`compare`] when the pair is a duplicate at `threshold`, else `None`; the guards come first, so a
/// look-alike in another language costs no lede comparison and no allocation.
fn compare_duplicate(a: &Signature, b: &Signature, threshold: f32) -> Option<Comparison> {
    let languages_differ = a.languages_differ(b);
    let numbers_differ = a.numbers & !b.numbers != 0 && b.numbers & !a.numbers != 0;
    if languages_differ || numbers_differ {
        return None;
    }
    let (shared, of) = best_ledes(a, b);
    let c = Comparison { shared, of, headline: a.same_headline(b), refused: None };
    ((of >= MIN_SHINGLES && c.score() >= threshold) || c.headline).then_some(c)
}

/// A stored story the new entry duplicates, and how it was decided: the near layer's explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct NearMatch {
    /// The id the story was inserted under.
    pub id: u64,
    pub comparison: Comparison,
}

impl fmt::Display for NearMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "near-duplicate of #{}: {}", self.id, self.comparison)
    }
}

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

/// The (a, b) of each MinHash permutation `x ↦ (a·x + b) >> 32`, fixed forever (signatures are stored):
/// a splitmix64 sequence from a constant seed, `a` forced odd.
const PERMUTATIONS: [(u64, u64); HASHES] = {
    let mut out = [(0u64, 0u64); HASHES];
    let mut state = 0x6665_6564_6d69_6c6c_u64; // "feedmill"
    let mut i = 0;
    while i < HASHES {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let a = mix(state) | 1;
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        out[i] = (a, mix(state));
        i += 1;
    }
    out
};

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
