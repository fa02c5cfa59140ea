//! The vote for the region's Cyrillic languages (Russian, Kazakh, Kyrgyz, Uzbek, Tajik, Tatar, Ukrainian,
//! Belarusian, Mongolian, Bashkir): each word votes by its letters and as a function word (see the
//! parent module).

use std::ops::ControlFlow;

use whatlang::{Detector, Lang};

use super::{bcp47, each_word};

/// The languages the Cyrillic vote tells apart, in the order that breaks a tie: Russian first (a tie
/// between Kazakh and Russian has always been Russian), then by how often feedmill's users read them.
const CYRILLIC: [&str; 10] = ["ru", "kk", "ky", "uz-Cyrl", "tg", "tt", "uk", "be", "mn", "ba"];
/// [`CYRILLIC`]'s languages as bits, for the letters and words each one uses.
const RU: u16 = 1;
const KK: u16 = 1 << 1;
const KY: u16 = 1 << 2;
const UZ: u16 = 1 << 3;
const TG: u16 = 1 << 4;
const TT: u16 = 1 << 5;
const UK: u16 = 1 << 6;
const BE: u16 = 1 << 7;
const MN: u16 = 1 << 8;
const BA: u16 = 1 << 9;
/// Every language of [`CYRILLIC`].
const ALL: u16 = (1 << CYRILLIC.len()) - 1;
/// A letter of a South Slavic alphabet (Serbian, Macedonian): the text goes to whatlang.
const SLAVIC: u16 = 1 << 15;

/// Which Cyrillic language the text is in (see the module docs): a vote of words. A word whose own
/// letters only some languages have votes for each of them (`қ` for Kazakh, Uzbek and Tajik; `ҷ` for
/// Tajik alone), and a function word votes for the languages it is a word of. The most votes win; a
/// tie goes to the language with the fewest words it could not spell ([`Signs::misfit`]), then to the
/// first in [`CYRILLIC`]. Text with no vote at all is Russian, the safe bet for feeds of the region.
pub(super) fn cyrillic_language(sample: &str) -> &'static str {
    let mut votes = [0u16; CYRILLIC.len()];
    let mut misfits = [0u16; CYRILLIC.len()];
    let (mut slavic, mut hard_sign, mut own_letters) = (false, false, false);
    each_word(sample, true, |w, _| {
        let signs = word_signs(w);
        slavic |= signs.letters & SLAVIC != 0;
        hard_sign |= signs.hard_sign;
        own_letters |= signs.letters != 0;
        let letters = if signs.letters & SLAVIC == 0 { signs.letters } else { 0 };
        let voted = word_lists(w) | letters | if signs.long_vowel { KY | MN } else { 0 };
        count_bits(&mut votes, voted);
        count_bits(&mut misfits, signs.misfit);
        ControlFlow::Continue(())
    });
    // Uzbek and Tajik write `ъ` before a consonant too (`таълим`), in text that has letters of its own.
    if slavic || (hard_sign && !own_letters) {
        let cyrillic = vec![Lang::Rus, Lang::Ukr, Lang::Bel, Lang::Bul, Lang::Srp, Lang::Mkd];
        return Detector::with_allowlist(cyrillic).detect(sample).map_or("ru", |info| bcp47(info.lang()));
    }
    // `min_by_key` keeps the first of equals, so the order of `CYRILLIC` breaks what is left of a tie.
    let best = votes.iter().copied().max().unwrap_or(0);
    (0..CYRILLIC.len()).filter(|&i| votes[i] == best).min_by_key(|&i| misfits[i]).map_or("ru", |i| CYRILLIC[i])
}

/// Adds one to each of `counts` whose bit is set in `bits`. By the set bits only: most words of a
/// Russian text set none.
fn count_bits(counts: &mut [u16; CYRILLIC.len()], mut bits: u16) {
    while bits != 0 {
        if let Some(count) = counts.get_mut(bits.trailing_zeros() as usize) {
            *count += 1;
        }
        bits &= bits - 1;
    }
}

/// What the letters of one word say, read in one pass.
struct Signs {
    /// The languages that spell every letter of the word that Russian has not: the intersection of
    /// [`letter_languages`] over those letters; 0 for a word in Russian's letters only, or one mixing
    /// letters no language has together (a typo, which proves nothing).
    letters: u16,
    /// A `ъ` before a consonant: Bulgarian (`пътят`), or Uzbek and Tajik (`таълим`); Russian puts `ъ`
    /// only before `е`, `ю`, `я`.
    hard_sign: bool,
    /// A long vowel (`суук`, `үүслээ`): Kyrgyz or Mongolian. Russian doubles only `о` and `е`
    /// (`сообщает`); Kazakh, Tatar and Uzbek none.
    long_vowel: bool,
    /// The languages that would not write the word, which only breaks a tie; none of these votes,
    /// since Russian words have all of these letters. A word with letters of its own is not Russian.
    /// Kazakh writes `ч` and `ь` only in loanwords, and Tatar's `ә` suffixes (`-ләр`, `-нәр`, a final
    /// `ә`) never; Kyrgyz has no `х`, `ц` or `ь` of its own, and writes `ж` where Tatar writes `я`, `ю`
    /// (Kazakh too: `жаңа`, Tatar `яңа`); Ukrainian has no `ы`, `э`, `ъ`; Belarusian no `и`, `щ`.
    misfit: u16,
}

/// The [`Signs`] of `word`.
fn word_signs(word: &str) -> Signs {
    let (mut all, mut misfit, mut yo) = (u16::MAX, 0u16, false);
    let (mut hard_sign, mut long_vowel, mut prev) = (false, false, '\0');
    for c in word.chars() {
        let langs = letter_languages(c);
        if langs != 0 {
            all &= langs;
        }
        misfit |= match c {
            'ч' => KK,
            'ь' => KK | KY,
            'х' | 'ц' => KY,
            'я' | 'ю' => {
                yo = true;
                0
            }
            'ы' | 'э' | 'ъ' => UK,
            'и' | 'щ' => BE,
            _ => 0,
        };
        hard_sign |= prev == 'ъ' && !matches!(c, 'е' | 'ю' | 'я');
        long_vowel |= c == prev && matches!(c, 'а' | 'у' | 'ы' | 'э' | 'ө' | 'ү');
        prev = c;
    }
    let letters = if all == u16::MAX { 0 } else { all };
    if letters != 0 {
        misfit |= (RU | !letters) & ALL;
    }
    if yo && letters & (KK | KY | TT | BA) != 0 {
        misfit |= KK | KY;
    }
    if letters & TT != 0 && (word.ends_with('ә') || word.contains("ләр") || word.contains("нәр")) {
        misfit |= KK;
    }
    Signs { letters, hard_sign, long_vowel, misfit }
}

/// The languages whose alphabets have `c`, for a letter Russian's alphabet has not; 0 for the others.
/// A match: it is asked of every letter of the sample.
fn letter_languages(c: char) -> u16 {
    match c {
        'ә' => KK | TT | BA,
        'ғ' => KK | UZ | TG | BA,
        'қ' => KK | UZ | TG,
        'ң' => KK | KY | TT | BA,
        'ө' | 'ү' => KK | KY | TT | MN | BA,
        'ұ' => KK,
        'һ' => KK | TT | BA,
        'і' => KK | UK | BE,
        'ї' | 'є' | 'ґ' => UK,
        'ў' => UZ | BE,
        'ҳ' => UZ | TG,
        'ӣ' | 'ӯ' | 'ҷ' => TG,
        'җ' => TT,
        'ҡ' | 'ҙ' | 'ҫ' => BA,
        'ј' | 'љ' | 'њ' | 'ћ' | 'ђ' | 'џ' | 'ѓ' | 'ќ' | 'ѕ' => SLAVIC,
        _ => 0,
    }
}

/// Which languages' function words (or frequent news words) `word` is, as [`CYRILLIC`] bits. Words
/// with letters of their own vote by their letters already; the lists hold words in Russian's letters,
/// and words that tell apart languages sharing letters (Kyrgyz `үчүн`, Tatar `өчен`). A `match`, which
/// compiles to a comparison by length and then by bytes: asked of every word of the sample, it is
/// cheaper than hashing the word.
fn word_lists(word: &str) -> u16 {
    match word {
        // Kazakh, so that a headline like "Астанада жол апаты болды" still has a vote.
        "мен" | "бен" | "пен" | "осы" | "емес" | "еді" | "болып" | "болса" | "оның" | "олар" | "ол" | "облысы"
        | "облысында" | "ауданы" | "ауданында" | "атты" | "бастады" | "жатыр" | "наурыз" | "мамыр" | "маусым"
        | "шілде" | "тамыз" | "бойынша" | "туралы" | "бері" => KK,
        "сол" => KK | TG,
        "деп" | "деген" | "бар" | "ал" | "жылы" | "болды" | "де" => KK | KY,
        // Russian; none of them is a Kazakh word.
        "и" | "во" | "что" | "с" | "со" | "по" | "от" | "к" | "о" | "об" | "из" | "за" | "же" | "но" | "или"
        | "как" | "это" | "его" | "ее" | "их" | "был" | "была" | "было" | "были" | "будет" | "также" | "который"
        | "которые" | "года" | "году" | "при" | "после" | "без" | "под" | "над" | "между" | "уже" | "только" => {
            RU
        }
        "в" | "про" | "через" => RU | UK,
        "у" | "на" | "для" | "а" => RU | UK | BE,
        "до" => RU | UK,
        // Ukrainian and Belarusian.
        "й" | "що" | "це" | "від" | "які" | "він" | "вона" | "із" | "зі" | "як" | "року" | "році" | "його"
        | "також" | "який" | "яка" | "буде" | "під" | "після" | "щодо" | "між" | "вже" | "лише" | "понад" => {
            UK
        }
        "з" | "але" => UK | BE,
        "ў" | "па" | "ад" | "што" | "гэта" | "якія" | "быў" | "будзе" | "таксама" | "пра" | "годзе" | "яго" | "ці"
        | "калі" | "яны" | "пасля" | "праз" | "паводле" | "каля" | "толькі" | "пры" | "якая" => {
            BE
        }
        "год" => RU | BE,
        "да" => BE | KY,
        // Kyrgyz.
        "жана"
        | "менен"
        | "үчүн"
        | "боюнча"
        | "тууралуу"
        | "жөнүндө"
        | "эмес"
        | "бул"
        | "ошол"
        | "ушул"
        | "алар"
        | "анын"
        | "болуп"
        | "кийин"
        | "чейин"
        | "дагы"
        | "аркылуу"
        | "ошондой"
        | "эле"
        | "экен"
        | "тарабынан"
        | "кыргызстан"
        | "кыргызстанда"
        | "кыргызстандын"
        | "облусунда"
        | "шаарында"
        | "жылдын"
        | "айтты"
        | "билдирди"
        | "министрлиги"
        | "болот" => KY,
        // Tatar.
        "һәм"
        | "белән"
        | "өчен"
        | "дип"
        | "аның"
        | "булды"
        | "булып"
        | "булган"
        | "буенча"
        | "турында"
        | "елның"
        | "елда"
        | "шулай"
        | "итеп"
        | "иде"
        | "инде"
        | "гына"
        | "татарстан"
        | "татарстанда"
        | "казанда"
        | "кирәк"
        | "хәзер" => TT,
        "бу" => TT | UZ,
        "ел" => KK | TT,
        // Uzbek.
        "билан" | "учун" | "бўйича" | "ҳам" | "эса" | "деб" | "йил" | "йилда" | "йилнинг" | "орқали" | "кўра"
        | "эди" | "бўлди" | "бўлиб" | "қилди" | "этди" | "ҳақида" | "тўғрисида" | "бошқа" | "ушбу" | "мазкур"
        | "янги" | "лекин" | "аммо" | "ҳамда" | "тошкент" | "тошкентда" | "вазирлиги" => {
            UZ
        }
        "ва" | "давлат" => UZ | TG,
        // Tajik.
        "дар" | "бо" | "ки" | "ин" | "барои" | "мебошад" | "буд" | "шуд" | "кард" | "карда" | "соли" | "низ"
        | "худ" | "мешавад" | "намуд" | "гардид" | "шуда" | "душанбе" | "вазорати" | "бояд" | "онҳо" | "гуфт"
        | "иброз" | "дошт" | "баъди" | "мувофиқи" | "мегардад" => TG,
        "ба" => TG | MN,
        "аз" => KK | TG,
        "болгон" => KY | MN,
        // Mongolian.
        "нь"
        | "юм"
        | "байна"
        | "болон"
        | "энэ"
        | "тэр"
        | "гэж"
        | "гэсэн"
        | "байгаа"
        | "оны"
        | "онд"
        | "тухай"
        | "бол"
        | "улсын"
        | "хийх"
        | "мөн"
        | "бөгөөд"
        | "хоёр"
        | "нэг"
        | "дээр"
        | "үед"
        | "сарын"
        | "монгол"
        | "улаанбаатар"
        | "улаанбаатарт"
        | "хотод"
        | "засгийн"
        | "байсан"
        | "болно"
        | "хэлэв"
        | "мэдээлэв" => MN,
        _ => 0,
    }
}
