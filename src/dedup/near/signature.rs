//! The signature codec: what the near layer keeps of an entry (its ledes' word-pair hashes, the
//! numbers of its lead, its language, its headline key), how it is stored as bytes, and the MinHash
//! band tags the indexes look it up by.

use super::{
    hash_bytes, hash_pair, headline, mix, BANDS, BAND_ROWS, HASHES, LEAD_CHARS, LEAD_WORDS, LEDE_WORDS,
    MAX_LANGUAGE_BYTES, MAX_LEDES, SIGNATURE_VERSION,
};
use crate::model::Entry;
use crate::normalize::{language, text};

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
    pub(super) numbers: u64,
    /// ASCII, at most `MAX_LANGUAGE_BYTES`; empty when unknown.
    language: [u8; MAX_LANGUAGE_BYTES],
    language_len: u8,
    /// Whether the title has a [`headline::key`] (language included), kept at the end of `hashes`.
    pub(super) titled: bool,
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
            None => language::of_entry(entry, if content.is_empty() { &summary } else { &content })
                .as_deref()
                .and_then(language::primary_subtag),
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
    pub(super) fn same_headline(&self, other: &Signature) -> bool {
        self.titled && other.titled && self.title() == other.title()
    }

    /// The language the signature was made with, if known.
    pub fn language(&self) -> Option<&str> {
        let tag = &self.language[..usize::from(self.language_len)];
        std::str::from_utf8(tag).ok().filter(|t| !t.is_empty())
    }

    /// The ledes' hash sets.
    pub(super) fn ledes(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let hashes = &self.hashes[..self.hashes.len().saturating_sub(if self.titled { 2 } else { 0 })];
        let (first, second) = hashes.split_at(usize::from(self.split).min(hashes.len()));
        [first, second].into_iter().take(usize::from(self.ledes))
    }

    /// Known languages that differ, compared byte by byte (cheaper than a string comparison).
    pub(super) fn languages_differ(&self, other: &Signature) -> bool {
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
    pub(super) fn tags(&self, band: usize) -> impl Iterator<Item = u32> + '_ {
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

/// One band of a lede's MinHash, hashed to 32 bits: a [`PlannedIndex`](super::PlannedIndex) sorts them
/// per band in a `u64` with the slot, and [`NearIndex`](super::NearIndex) keys on the same tag so both
/// find the same candidates.
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
