//! Language: what language an entry is written in, and the words of a text folded so that two spellings a
//! reader would call the same compare equal.
//!
//! In: plain text (a title, the text of an entry). Out: a BCP 47 language tag (`kk`, `ru`, `ky`, `en`,
//! …; with a script subtag where the script says something, below) or `None` when the text is too short
//! or too mixed to say, and word tokens for shingling and keyword rules.
//!
//! Why not only [whatlang]: it has no Kazakh, Kyrgyz, Tajik, Tatar or Mongolian model, so it calls
//! every such text Russian (or Bulgarian, on short texts), and on a headline it is often unsure. The
//! Cyrillic languages of the region share the Russian alphabet, and each adds letters Russian never uses:
//! Kazakh ә ғ қ ң ө ұ ү һ і, Kyrgyz ң ө ү, Tatar ә ө ү җ ң һ, Uzbek ў қ ғ ҳ, Tajik ғ ӣ қ ӯ ҳ ҷ, Ukrainian
//! є і ї ґ, Belarusian і ў, Mongolian ө ү, Bashkir ҡ ҙ ҫ. So Cyrillic text is decided here by votes: a
//! word votes for every language whose alphabet has all its extra letters, a function word (и, в, на,
//! что; мен, деп; жана, үчүн; һәм, белән; ва, билан; дар, аз; та, що; нь, байна…) for the languages it
//! is a word of, and a long vowel (`суук`) for Kyrgyz and Mongolian. A tie goes to the language with the
//! fewest words it would not spell (Kazakh has no `ч` of its own, Kyrgyz no `х`…). That is right on a
//! six-word headline, where trigram models are not. Serbian and Macedonian letters (ј љ њ…) and a
//! Bulgarian `ъ` go to whatlang limited to the Cyrillic languages it knows; plain Cyrillic with no vote
//! at all is Russian, the safe bet for feeds from Kazakhstan and Russia. Uzbek, Turkish, Azerbaijani,
//! and Kazakh and Tatar in their Latin alphabets, are told the same way in Latin letters (`oʻ gʻ` with
//! any apostrophe; `ı ğ ş`; `ə`; Kazakh's 2021 `ä ñ ū`, Tatar Zamanälif's `ä ñ ç w`), before whatlang,
//! which confuses them on headlines and knows neither Kazakh nor Tatar.
//!
//! Scripts: Uzbek is written in both every day, so its tag always names the script (`uz-Latn`,
//! `uz-Cyrl`); Kazakh and Tatar name it only in Latin letters (`kk-Latn`, `tt-Latn`), their Cyrillic
//! being what `kk` and `tt` mean. A tag is for readers and rules (`language = "uz"` matches both
//! scripts, as a whole word); the near-duplicate guard compares primary subtags, so two scripts of one
//! language are one language there: a transliterated copy shares no words with its original, so it is
//! never matched anyway, and the store's signatures stay valid. Other scripts go to whatlang, whose
//! answer is kept only when it is confident: a wrong language is worse than none, since rules and the
//! near-duplicate guard act on it.
//!
//! [`fold_words`] lives here because folding is about scripts: Kazakh sites often type the Latin `i` for
//! `і`, or a Latin `a`/`o`/`e` inside a Cyrillic word, and `ə` for `ә`; inside a word that is otherwise
//! Cyrillic those are folded to the Cyrillic letter, so `Қазақстандa` (Latin `a`) is `қазақстанда`.

use std::borrow::Cow;
use std::ops::ControlFlow;

use unicode_normalization::{IsNormalized, UnicodeNormalization};
use whatlang::Lang;

use crate::model::Entry;

mod cyrillic;
mod latin;

use cyrillic::cyrillic_language;
use latin::latin_turkic;

/// How much text detection reads: the start of an entry says what language it is in.
pub const SAMPLE_CHARS: usize = 600;
/// Below this whatlang confidence a non-Cyrillic guess is dropped, and the feed's declared language
/// stands ([`of_entry`]). Measured: whatlang is right at 0.29 on a five-word English headline, wrong
/// (Catalan) at 0.07 on a four-word one.
const MIN_CONFIDENCE: f64 = 0.25;

/// The language of `text` as a BCP 47 primary subtag, or `None` when it cannot be told reliably.
pub fn detect(text: &str) -> Option<&'static str> {
    detect_sample(super::text::first_chars(text, SAMPLE_CHARS))
}

/// [`detect`] on a sample already cut to at most [`SAMPLE_CHARS`] characters.
fn detect_sample(sample: &str) -> Option<&'static str> {
    let (mut cyrillic, mut other) = (0usize, 0usize);
    for c in sample.chars() {
        // The range tests first: `is_alphabetic` is a table look-up for every non-ASCII letter.
        if is_cyrillic(c) {
            cyrillic += usize::from(is_letter(c));
        } else if is_letter(c) {
            other += 1;
        }
    }
    if cyrillic + other < 3 {
        return None;
    }
    if cyrillic >= other {
        Some(cyrillic_language(sample))
    } else if is_english(sample) {
        Some("en")
    } else if let Some(turkic) = latin_turkic(sample) {
        Some(turkic)
    } else {
        let info = whatlang::detect(sample)?;
        (info.confidence() >= MIN_CONFIDENCE).then(|| bcp47(info.lang()))
    }
}

/// Whether a text in Latin letters is plainly English: several of English's commonest function words,
/// making up a share of the words no other language's text comes near. English is what most Latin-script
/// feeds are in, and whatlang's trigram scoring of every Latin-script language was most of normalizing
/// an English entry; a text this test is unsure of still goes to whatlang.
fn is_english(sample: &str) -> bool {
    // English prose of a few lines all but always has a `the`; without one, splitting the words is
    // not worth it.
    if !sample.contains("the ") && !sample.contains("The ") {
        return false;
    }
    let (mut words, mut hits, mut seen) = (0usize, 0usize, 0u32);
    each_word(sample, true, |w, _| {
        words += 1;
        if let Some(i) = ENGLISH_WORDS.iter().position(|e| *e == w) {
            hits += 1;
            seen |= 1 << i;
        }
        ControlFlow::Continue(())
    });
    seen.count_ones() >= ENGLISH_MIN_DISTINCT && hits * 100 >= words * ENGLISH_MIN_PERCENT
}

/// English function words that are not words of another language written in Latin letters (no `was`,
/// `will`, which are German; no `of`, `is`, Dutch; no `on`, French; no `for`, Scandinavian; no `in`, `to`).
const ENGLISH_WORDS: [&str; 16] = [
    "the", "and", "that", "with", "this", "which", "were", "from", "have", "has", "been", "their", "would", "said",
    "they", "about",
];
/// How many of [`ENGLISH_WORDS`] must occur: a headline with one `the` is left to whatlang.
const ENGLISH_MIN_DISTINCT: u32 = 3;
/// Which share of the words they must be: in English news text `the` alone is about 6%.
const ENGLISH_MIN_PERCENT: usize = 8;

/// The language detected from an entry's title and text, else the language its feed declared (primary
/// subtag, lowercased). Detection wins because sites routinely declare one language for everything
/// they publish.
pub fn of_entry(entry: &Entry, text: &str) -> Option<String> {
    detect_sample(&entry_sample(&entry.title, text))
        .map(str::to_owned)
        .or_else(|| entry.language.as_deref().and_then(primary_subtag))
}

/// The first [`SAMPLE_CHARS`] characters of the title, a newline and the text: the text is cut to what
/// the title leaves, so the sample is not scanned for its cut a second time.
fn entry_sample(title: &str, text: &str) -> String {
    let title_chars = title.chars().count();
    if title_chars < SAMPLE_CHARS {
        format!("{title}\n{}", super::text::first_chars(text, SAMPLE_CHARS - title_chars - 1))
    } else {
        super::text::first_chars(title, SAMPLE_CHARS).to_owned()
    }
}

/// A language tag's primary subtag, lowercased (`kk-KZ` → `kk`); `None` when empty.
pub fn primary_subtag(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    (!primary.is_empty()).then_some(primary)
}

/// The words of `text`: NFKC, split on anything that is not a letter or digit, combining accents (Russian
/// stress marks) and soft hyphens dropped, `ё` read as `е`, Latin look-alikes inside a Cyrillic word
/// read as Cyrillic, digit groups split by a space joined (`1 000` → `1000`), and lowercased unless
/// `lowercase` is false.
pub fn fold_words(text: &str, lowercase: bool) -> Vec<String> {
    fold_first_words(text, lowercase, usize::MAX)
}

/// [`fold_words`], stopping once more than `max` words are folded: the first `max` are those of the
/// whole text (a later digit group can only join the last word), and the rest of a long text is not
/// read.
pub fn fold_first_words(text: &str, lowercase: bool, max: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    // Whether the last word pushed may be continued by a three-digit group.
    let mut number_head = false;
    each_word(text, lowercase, |folded, single_space| {
        let digits = folded.bytes().all(|b| b.is_ascii_digit());
        if number_head && single_space && digits && folded.len() == 3 {
            if let Some(prev) = words.last_mut() {
                prev.push_str(folded);
                return ControlFlow::Continue(());
            }
        }
        number_head = digits && folded.len() <= 3;
        words.push(folded.to_owned());
        if words.len() > max {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    words
}

/// Calls `f` with each word of `text` folded as [`fold_words`] folds it (short of joining digit
/// groups), and whether one plain space is all that separates it from the word before, until `f`
/// breaks. One buffer serves every word, for callers that look at each word once.
fn each_word(text: &str, lowercase: bool, mut f: impl FnMut(&str, bool) -> ControlFlow<()>) {
    // Letters that NFKC leaves alone (ASCII, Russian and Kazakh Cyrillic) skip the quick check's table
    // look-ups; it starts after them, where its state is as they found it.
    let text: Cow<str> = match text.find(|c: char| !is_nfkc_inert(c)) {
        None => Cow::Borrowed(text),
        Some(tail) if unicode_normalization::is_nfkc_quick(text[tail..].chars()) == IsNormalized::Yes => {
            Cow::Borrowed(text)
        }
        Some(_) => Cow::Owned(text.nfkc().collect()),
    };
    let mut word = String::new();
    let mut folded = String::new();
    // What separates the current word from the last: only one plain space lets digit groups join.
    let mut single_space = false;
    let mut gap = 0usize;
    let mut flush = |word: &mut String, single_space: bool| {
        fold_word_into(word, lowercase, &mut folded);
        word.clear();
        f(&folded, single_space)
    };
    for c in text.chars() {
        if is_letter(c) || c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()) {
            if word.is_empty() {
                single_space = gap == 1;
                gap = 0;
            }
            word.push(c);
        } else if !is_ignorable(c) {
            if !word.is_empty() && flush(&mut word, single_space).is_break() {
                return;
            }
            gap += if c == ' ' { 1 } else { 2 };
        }
    }
    if !word.is_empty() {
        let _ = flush(&mut word, single_space);
    }
}

/// Characters that are part of no word and split none: combining accents left after NFKC (stress marks
/// on Russian vowels), soft hyphens, zero-width joiners, byte-order marks.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}')
}

/// `word` folded (look-alikes, `ё`, case) into `out`, replacing what `out` held.
fn fold_word_into(word: &str, lowercase: bool, out: &mut String) {
    out.clear();
    let cyrillic = word.chars().any(is_cyrillic);
    for c in word.chars() {
        let c = if cyrillic { cyrillic_lookalike(c) } else { c };
        let c = match c {
            'ё' => 'е',
            'Ё' => 'Е',
            c => c,
        };
        if !lowercase {
            out.push(c);
        } else if let Some(lower) = simple_lowercase(c) {
            out.push(lower);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// `c.to_lowercase()` answered by arithmetic for Latin-1, general punctuation and the Cyrillic block
/// (Russian, and Kazakh's own letters, which come in upper/lower pairs), where it is one character, before the Unicode table
/// search; `None` elsewhere.
fn simple_lowercase(c: char) -> Option<char> {
    let code = c as u32;
    match c {
        'A'..='Z' | 'А'..='Я' => char::from_u32(code + 0x20),
        '\u{400}'..='\u{40f}' => char::from_u32(code + 0x50),
        // Punctuation news text is full of (« » — … NBSP) is its own lower case.
        '\0'..='@' | '['..='\u{bf}' | '\u{d7}' | '\u{df}'..='\u{ff}' | '\u{2000}'..='\u{206f}' => Some(c),
        '\u{c0}'..='\u{de}' => char::from_u32(code + 0x20),
        'а'..='\u{45f}' | '\u{482}'..='\u{489}' | '\u{4cf}' => Some(c),
        // Pairs with the capital first: ә ғ қ ң ө ұ ү һ are among them.
        '\u{460}'..='\u{481}' | '\u{48a}'..='\u{4bf}' | '\u{4d0}'..='\u{52f}' => char::from_u32(code | 1),
        '\u{4c0}' => Some('\u{4cf}'),
        '\u{4c1}'..='\u{4ce}' => char::from_u32(code + (code & 1)),
        _ => None,
    }
}

/// `text.to_lowercase()`, by `simple_lowercase` when every character has one (Kazakh, Russian and
/// English text); otherwise by the Unicode tables, whose rules for some scripts (Greek final sigma)
/// depend on the neighbours.
pub fn lowercase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match simple_lowercase(c) {
            Some(lower) => out.push(lower),
            None => return text.to_lowercase(),
        }
    }
    out
}

/// Characters NFKC leaves alone whatever surrounds them (quick check "yes", combining class 0): ASCII,
/// the Latin-1 letters and the punctuation news text is full of (« » — – “ ” •), and the Cyrillic
/// letters (not the combining signs U+0483–U+0489). Not NBSP, `…` or `№`, which NFKC rewrites.
/// `fast_paths_agree_with_the_unicode_tables` checks them.
fn is_nfkc_inert(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{7f}'
            | '\u{a1}'..='\u{a7}'
            | '\u{a9}'
            | '\u{ab}'
            | '\u{ac}'
            | '\u{ae}'
            | '\u{b0}'
            | '\u{b1}'
            | '\u{b6}'
            | '\u{b7}'
            | '\u{bb}'
            | '\u{bf}'..='\u{ff}'
            | '\u{400}'..='\u{482}'
            | '\u{48a}'..='\u{52f}'
            | '\u{2010}'
            | '\u{2012}'..='\u{2016}'
            | '\u{2018}'..='\u{2023}'
            | '\u{2027}'
    )
}

/// The Cyrillic letter a Latin (or IPA) look-alike stands for inside a Cyrillic word. Upper case `H` is
/// Russian `Н`, lower case `h` is Kazakh `һ`: that is how each is mistyped.
fn cyrillic_lookalike(c: char) -> char {
    match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'h' => 'һ',
        'i' => 'і',
        'k' => 'к',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'I' => 'І',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        'Y' => 'У',
        'ə' => 'ә',
        'Ə' => 'Ә',
        'ɵ' => 'ө',
        'Ɵ' => 'Ө',
        c => c,
    }
}

/// `char::is_alphabetic`, answered by range for ASCII and the main Cyrillic block (where every
/// character but the signs U+0482–U+0489 is a letter) before the Unicode table look-up.
fn is_letter(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{400}'..='\u{481}' | '\u{48a}'..='\u{52f}' => true,
        _ if c.is_ascii() => false,
        _ => c.is_alphabetic(),
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{52f}' | '\u{1c80}'..='\u{1c8f}' | '\u{2de0}'..='\u{2dff}' | '\u{a640}'..='\u{a69f}')
}

/// whatlang's ISO 639-3 code as the BCP 47 subtag: the two-letter ISO 639-1 code, which every language
/// whatlang knows has.
fn bcp47(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        // whatlang's Uzbek is the Latin one (its Cyrillic texts never reach whatlang).
        Lang::Uzb => "uz-Latn",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
#[path = "language/tests.rs"]
mod tests;
