//! Comparing two signatures: lede containment over their best-matching ledes, the same-headline
//! layer, and the guards (languages, numbers, a lede too short) that refuse a look-alike whatever its
//! score.

use std::fmt;

use super::{Signature, MIN_SHINGLES};

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
pub(super) fn common(a: &[u32], b: &[u32]) -> usize {
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
    /// Both titles have the same specific headline ([`headline`](super::headline)): one story whatever the ledes say.
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
pub(super) fn compare_duplicate(a: &Signature, b: &Signature, threshold: f32) -> Option<Comparison> {
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
