//! The vote for Turkic languages written in Latin letters (Uzbek, Turkish, Azerbaijani, and Kazakh and
//! Tatar in their Latin alphabets): letters and function words, before whatlang (see the parent module).

/// The Turkic languages written in Latin letters that [`latin_turkic`] tells apart.
const LATIN_TURKIC: [&str; 5] = ["uz-Latn", "tr", "az", "kk-Latn", "tt-Latn"];
const L_UZ: u8 = 1;
const L_TR: u8 = 1 << 1;
const L_AZ: u8 = 1 << 2;
const L_KK: u8 = 1 << 3;
const L_TT: u8 = 1 << 4;

/// Uzbek, Turkish, Azerbaijani, Kazakh or Tatar in Latin letters, told by their letters and distinct
/// function words ([`latin_turkic_word`]); `None` when fewer than two signs point one way, or two
/// languages tie, and whatlang decides: it confuses the first three on headlines.
pub(super) fn latin_turkic(sample: &str) -> Option<&'static str> {
    // Turkmen shares `ä ş ç ö ü` with these, and writes `ň ý`, which none of them has.
    if sample.contains(['ň', 'ý', 'Ň', 'Ý']) {
        return None;
    }
    let mut votes = [0u16; LATIN_TURKIC.len()];
    let mut seen: Vec<String> = Vec::new();
    let mut word = String::new();
    // A space after the sample ends its last word.
    let mut chars = sample.chars().chain(std::iter::once(' ')).peekable();
    while let Some(c) = chars.next() {
        let apostrophe = matches!(c, '\'' | '’' | '‘' | 'ʻ' | 'ʼ' | '`');
        if c.is_alphabetic() && !apostrophe {
            word.extend(c.to_lowercase());
            continue;
        }
        // An apostrophe inside a word is part of it: `bo'yicha`, `o‘z`.
        if apostrophe && !word.is_empty() && chars.peek().is_some_and(|n| n.is_alphabetic()) {
            word.push('\'');
            continue;
        }
        if !word.is_empty() {
            let langs = latin_turkic_word(&word);
            // A word counts once: a repeated `ve` is not two signs of Turkish.
            if langs != 0 && !seen.contains(&word) {
                for (i, vote) in votes.iter_mut().enumerate() {
                    *vote += u16::from(langs & (1 << i) != 0);
                }
                seen.push(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    // Azerbaijani text without a single `ə` is Turkish.
    if !sample.contains(['ə', 'Ə']) {
        votes[L_AZ.trailing_zeros() as usize] = 0;
    }
    // Kazakh and Tatar text needs a sign against each look-alike: a Turkic `ı ğ ş ū`, or `ä` with `q`,
    // against the Western languages that write `ä` and `ñ` (German, Swedish, Finnish, Spanish); a
    // letter Turkmen has not (`ı ğ q c x ū ñ`); a letter Turkish has not (`ä ñ ū q`).
    let has = |set: &[char]| sample.chars().flat_map(char::to_lowercase).any(|c| set.contains(&c));
    let not_western = has(&['ı', 'ğ', 'ş', 'ū']) || (has(&['ä']) && has(&['q']));
    if !not_western || !has(&['ı', 'ğ', 'q', 'c', 'x', 'ū', 'ñ']) || !has(&['ä', 'ñ', 'ū', 'q']) {
        votes[L_KK.trailing_zeros() as usize] = 0;
        votes[L_TT.trailing_zeros() as usize] = 0;
    }
    let best = votes.iter().copied().max().unwrap_or(0);
    let winners = votes.iter().filter(|&&v| v == best).count();
    let (kk, tt) = (L_KK.trailing_zeros() as usize, L_TT.trailing_zeros() as usize);
    if best >= 2 && winners == 2 && votes[kk] == best && votes[tt] == best {
        // Kazakh writes `j` for ж, where Tatar writes `y` or `c`; Tatar writes `ç`, `c` and `w`, which
        // Kazakh's alphabet has not, and `ä` past a word's first vowel (`mäktäp`, Kazakh `mektep`).
        let kazakh = sample.chars().filter(|c| matches!(c, 'j' | 'J')).count();
        let tatar = sample.chars().filter(|c| matches!(c, 'ç' | 'Ç' | 'c' | 'C' | 'w' | 'W')).count()
            + sample.split_whitespace().filter(|w| late_a_umlaut(w)).count();
        return match kazakh.cmp(&tatar) {
            std::cmp::Ordering::Greater => Some(LATIN_TURKIC[kk]),
            std::cmp::Ordering::Less => Some(LATIN_TURKIC[tt]),
            std::cmp::Ordering::Equal => None,
        };
    }
    if best < 2 || winners != 1 {
        return None;
    }
    votes.iter().position(|&v| v == best).map(|i| LATIN_TURKIC[i])
}

/// The languages of [`LATIN_TURKIC`] that `word` (lowercased, apostrophes as `'`) is a sign of: as a
/// function word, else by its letters. None of the listed words is a common word of a Western European
/// language (no `de`, `da`, `il`, `esa`).
fn latin_turkic_word(word: &str) -> u8 {
    match word {
        "için" | "kişi" | "şu" | "yılında" | "açıkladı" | "değil" | "tarafından" | "sağlık" | "başkanı" => {
            return L_TR
        }
        // Kazakh (2021 alphabet): `j` where Tatar writes `y` (`jaña`, Tatar `yaña`), `ş` where it writes `ç`.
        "jäne" | "men" | "üşin" | "turaly" | "turalı" | "boiynşa" | "boyınşa" | "dep" | "degen" | "osy" | "bul"
        | "emes" | "jyl" | "jıl" | "jılı" | "jıldıñ" | "bolıp" | "boldı" | "jaña" | "qazaqstan" | "qazaqstanda"
        | "qazaqstannıñ" | "oblısı" | "oblısında" | "audanında" | "arqılı" | "memlekettik" | "biıl" | "ükimet"
        | "astanada" | "almatıda" => return L_KK,
        // Tatar (Zamanälif).
        "häm" | "belän" | "öçen" | "dip" | "buyınça" | "turında" | "yılnıñ" | "yılda" | "yıl" | "tatarstan"
        | "tatarstanda" | "qazanda" | "inde" | "genä" | "gına" | "kiräk" | "xäzer" | "buldı" | "bulıp" | "bulğan"
        | "itep" | "yaña" | "tügel" | "küp" | "respublikası" => return L_TT,
        _ => {}
    }
    if word.contains(['ə', 'ä', 'ñ', 'ū', 'ı', 'ğ', 'ş']) {
        return word.chars().fold(L_UZ | L_TR | L_AZ | L_KK | L_TT, |langs, c| langs & latin_letter(c)) & !L_UZ;
    }
    if word.contains("o'") || word.contains("g'") {
        return L_UZ;
    }
    match word {
        "va" | "bilan" | "uchun" | "ham" | "deb" | "yil" | "yilda" | "yilning" | "orqali" | "edi" | "qildi"
        | "haqida" | "boshqa" | "shu" | "ushbu" | "mazkur" | "yangi" | "lekin" | "ammo" | "hamda" | "toshkent"
        | "toshkentda" | "vazirligi" | "davlat" | "prezidenti" | "kerak" | "ekan" | "sababli" | "davomida" => L_UZ,
        "etdi" => L_UZ | L_AZ,
        "bu" => L_UZ | L_TR | L_AZ | L_TT,
        "bir" => L_UZ | L_TR | L_AZ | L_KK,
        "ve" | "ile" | "olarak" | "göre" | "üzerinde" | "yüzde" | "oldu" | "dedi" | "etti" | "türkiye" | "ise"
        | "kadar" | "gibi" | "çok" | "ancak" => L_TR,
        "olan" | "daha" | "sonra" | "yeni" | "ki" => L_TR | L_AZ,
        "üçün" | "ilə" | "çox" | "kimi" | "lakin" | "qədər" | "üzrə" | "görə" | "edib" | "deyib" | "bildirib" => {
            L_AZ
        }
        _ => 0,
    }
}

/// Whether `word` has an `ä` after its first vowel: Tatar's vowel harmony writes one in any syllable,
/// Kazakh's mostly in the first.
fn late_a_umlaut(word: &str) -> bool {
    let mut vowels = word.chars().flat_map(char::to_lowercase).filter(|c| "aeiıouöüäū".contains(*c));
    vowels.next().is_some() && vowels.any(|c| c == 'ä')
}

/// Which of [`LATIN_TURKIC`]'s alphabets have `c` (all of them for a letter every one has). Uzbek's
/// apostrophe letters and `sh ch` are no single letter, and its words are told by [`latin_turkic_word`]'s
/// lists.
fn latin_letter(c: char) -> u8 {
    match c {
        'ə' => L_AZ,
        'ä' | 'ñ' => L_KK | L_TT,
        'ū' => L_KK,
        'ı' | 'ğ' | 'ş' | 'ö' | 'ü' => L_TR | L_AZ | L_KK | L_TT,
        'c' | 'ç' => L_TR | L_AZ | L_TT,
        'q' => L_UZ | L_AZ | L_KK | L_TT,
        'x' => L_UZ | L_AZ | L_TT,
        'w' => L_TT,
        'j' => L_UZ | L_TR | L_AZ | L_KK,
        _ => L_UZ | L_TR | L_AZ | L_KK | L_TT,
    }
}
