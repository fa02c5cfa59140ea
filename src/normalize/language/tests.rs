use super::*;

#[derive(serde::Deserialize)]
struct Fixture {
    entries: Vec<FixtureEntry>,
}

#[derive(serde::Deserialize)]
struct FixtureEntry {
    title: String,
    summary_html: Option<String>,
    content_html: Option<String>,
    text_language: String,
    /// Set when the title alone is in another language than the text (a site that kept an agency's
    /// headline), or `und` when it is too short to be in any (a two-word rubric such as "Daily digest").
    #[serde(default)]
    title_language: Option<String>,
}

fn fixture() -> Vec<FixtureEntry> {
    let f: Fixture = serde_json::from_str(include_str!("../../../tests/fixtures/stories/stories.json")).unwrap();
    f.entries
}

/// Short news texts in other languages and scripts, with the language they are in.
const OTHERS: &[(&str, &str)] = &[
    ("The National Bank of Kazakhstan cut its base rate to 14.25 percent on Friday", "en"),
    ("Astana opens twelve new schools as the academic year begins", "en"),
    ("Зеленський підписав закон про підвищення зарплат учителям", "uk"),
    ("Лукашэнка сустрэўся з кіраўніком урада ў Мінску", "be"),
    ("Die Zentralbank Kasachstans hat am Freitag den Leitzins auf 14,25 Prozent gesenkt, teilte die Bank mit", "de"),
    ("Премиерът подписа закона за медиите", "bg"),
    ("Rybakina wins Wimbledon opener", "en"),
    ("Kazakistan Merkez Bankası politika faizini yüzde 14,25'e indirdi", "tr"),
    ("哈萨克斯坦央行将基准利率下调至14.25%", "zh"),
];

#[test]
fn kazakh_and_russian_are_told_apart_on_titles_alone_and_on_whole_texts() {
    let entries = fixture();
    let (mut titles_right, mut texts_right, mut whatlang_right, mut whatlang_ru) = (0, 0, 0, 0);
    let undetermined = entries.iter().filter(|e| e.title_language.as_deref() == Some("und")).count();
    for e in &entries {
        let body = e.summary_html.as_deref().or(e.content_html.as_deref()).map(crate::normalize::text::html_to_text);
        let whole = format!("{}\n{}", e.title, body.unwrap_or_default());
        match e.title_language.as_deref() {
            Some("und") => {}
            title_language => {
                let expected = title_language.unwrap_or(&e.text_language);
                titles_right += usize::from(detect(&e.title) == Some(expected));
            }
        }
        texts_right += usize::from(detect(&whole) == Some(e.text_language.as_str()));
        let whatlang_says = whatlang::detect(&e.title).map(|i| bcp47(i.lang()));
        whatlang_right += usize::from(whatlang_says == Some(e.text_language.as_str()));
        whatlang_ru += usize::from(e.text_language == "ru" && whatlang_says == Some("ru"));
    }
    let n = entries.len();
    println!("language of {n} fixture entries (kk and ru):");
    println!("  detect, title only:    {titles_right}/{} ({undetermined} titles too short to say)", n - undetermined);
    println!("  detect, title + text:  {texts_right}/{n}");
    let ru = entries.iter().filter(|e| e.text_language == "ru").count();
    println!("  whatlang, title only:  {whatlang_right}/{n} ({whatlang_ru}/{ru} Russian; it has no Kazakh model)");
    assert_eq!(texts_right, n);
    assert_eq!(titles_right, n - undetermined);
}

#[test]
fn other_languages_go_to_whatlang() {
    let right = OTHERS.iter().filter(|(text, lang)| detect(text) == Some(*lang)).count();
    for (text, lang) in OTHERS {
        println!("{lang}: {:?} ← {text}", detect(text));
    }
    assert_eq!(right, OTHERS.len());
}

#[test]
fn kazakh_headlines_without_kazakh_letters_still_vote_kazakh() {
    assert_eq!(detect("Астанада жол апаты болды"), Some("kk"));
    assert_eq!(detect("Алматы облысы бойынша жаңалықтар"), Some("kk"));
    // Latin "i" typed for "і": folded before counting.
    assert_eq!(detect("Бiлiм беру министрлiгi жаңа бағдарлама ұсынды"), Some("kk"));
}

#[test]
fn a_kazakh_name_in_a_russian_text_does_not_make_it_kazakh() {
    assert_eq!(
        detect("Министр Қасым-Жомарт Тоқаев провел встречу с инвесторами в Астане и обсудил проекты"),
        Some("ru")
    );
    assert_eq!(detect("В Алматы прошел фестиваль"), Some("ru"));
}

#[test]
fn too_little_text_is_no_language() {
    assert_eq!(detect(""), None);
    assert_eq!(detect("2024 — 15:30"), None);
    assert_eq!(detect("ok"), None);
    // whatlang's best guess here is Catalan, at 0.07: no language beats a wrong one.
    assert_eq!(detect("Tokayev signs media law"), None);
}

#[test]
fn words_are_folded_for_comparison() {
    assert_eq!(
        fold_words("Қазақстан  РЕСПУБЛИКАСЫ,\u{a0}«Нұр-Отан»!", true),
        ["қазақстан", "республикасы", "нұр", "отан"]
    );
    assert_eq!(fold_words("Алёна, молоко\u{301}, ин\u{ad}формация", true), ["алена", "молоко", "информация"]);
    // Latin look-alikes inside Cyrillic words; an English word is left alone.
    assert_eq!(fold_words("Бiлiм Kазaқстан hello", true), ["білім", "казақстан", "hello"]);
    assert_eq!(fold_words("Бiлiм", false), ["Білім"]);
}

#[test]
fn digit_groups_split_by_a_space_are_one_number() {
    assert_eq!(fold_words("1 000 000 теңге", true), ["1000000", "теңге"]);
    assert_eq!(fold_words("15\u{a0}000 адам", true), ["15000", "адам"]);
    assert_eq!(fold_words("2,5 млрд", true), ["2", "5", "млрд"]);
    assert_eq!(fold_words("2024 жылы 100 адам", true), ["2024", "жылы", "100", "адам"]);
    assert_eq!(fold_words("2024 100", true), ["2024", "100"]);
    assert_eq!(fold_words("12, 345", true), ["12", "345"]);
}

#[test]
fn fast_paths_agree_with_the_unicode_tables() {
    use unicode_normalization::char::canonical_combining_class;
    for c in ('\0'..='\u{52f}').chain('\u{2000}'..='\u{206f}') {
        if let Some(lower) = simple_lowercase(c) {
            assert_eq!(c.to_lowercase().collect::<String>(), lower.to_string(), "{c:?}");
        }
        if is_nfkc_inert(c) {
            assert_eq!(unicode_normalization::is_nfkc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        }
    }
    for text in
        ["ӘҒҚҢӨҰҮҺІ ЁЛКА Ӏ Ӂ Ҡ", "«Қазақстан» — Banki…\u{a0}ÀÉÞ×ß", "Ǆ ǅ", "ΟΔΟΣ Σ", "İstanbul", "straße STRASSE"]
    {
        assert_eq!(lowercase(text), text.to_lowercase(), "{text}");
    }
}

/// English prose is told without whatlang; other Latin-script languages, English words quoted in them,
/// and headlines too short to be sure of are not.
#[test]
fn plain_english_is_told_by_its_function_words() {
    let english = [
        "The National Bank of Kazakhstan cut its base rate on Friday, saying that inflation had slowed and that \
         the economy would grow faster than expected this year. Analysts said the decision had been widely \
         expected and that they saw room for another cut.",
        "Residents of the village have been waiting for the road for years. The akim said that the work would \
         start in spring and that the budget for it was approved by the regional council, which met on Monday.",
    ];
    for text in english {
        assert!(is_english(text), "{text}");
        assert_eq!(detect(text), Some("en"));
        assert_eq!(whatlang::detect(text).map(|i| bcp47(i.lang())), Some("en"), "whatlang agrees");
    }
    let others = [
        // German with an English band name and a quote.
        "Die Zentralbank hat am Freitag den Leitzins gesenkt. Was die Bank mit \"The Wall\" meinte, blieb unklar; \
         der Sprecher sagte nur, dass die Inflation sinke und die Wirtschaft wachse.",
        // Dutch, whose `of`, `is`, `was` are not on the list.
        "De centrale bank heeft de rente verlaagd. Of dat genoeg is, was niet duidelijk; de woordvoerder zei dat \
         de inflatie daalt en dat de economie groeit.",
        "Le gouvernement a annoncé que la banque centrale baisserait son taux, ce qui a été bien accueilli.",
        "The Beatles in Almaty",
        "Astana opens twelve new schools as the academic year begins",
    ];
    for text in others {
        assert!(!is_english(text), "{text}");
    }
}

/// The first words are those of the whole text, digit groups joined across the cut included.
#[test]
fn the_first_words_are_the_whole_texts_first_words() {
    let texts = ["Бюджет 1 000 000 теңге, 2 500 адам; 12 345 678 km", "a b 1 000 c", "", "один", "1 000 000 000"];
    for text in texts {
        let all = fold_words(text, true);
        for max in 0..=all.len() + 1 {
            let first = fold_first_words(text, true, max);
            let n = max.min(all.len());
            assert_eq!(first[..n], all[..n], "{text:?}, {max}");
            assert!(first.len() <= max + 1, "{text:?}: read on past {max}");
        }
    }
}

#[test]
fn an_entrys_sample_is_the_first_sample_chars_of_title_and_text() {
    let first = |s: &str, n: usize| crate::normalize::text::first_chars(s, n).to_owned();
    let text = "Қызылорда облысында айтыс өтті. ".repeat(40);
    for title_chars in [0, 1, 12, SAMPLE_CHARS - 2, SAMPLE_CHARS - 1, SAMPLE_CHARS, SAMPLE_CHARS + 1, 900] {
        let title: String = "Ә".repeat(title_chars);
        for text in [text.as_str(), "", "short"] {
            // What `detect` would read of the title and the whole text.
            let expected = first(&format!("{title}\n{text}"), SAMPLE_CHARS);
            assert_eq!(entry_sample(&title, text), expected, "a title of {title_chars} characters");
        }
    }
}

/// The labelled table of the region's languages: every label's accuracy is printed, and each language
/// the vote is meant to tell (at least 20 texts each) must be right on all but one of its texts.
#[test]
fn the_regions_languages_are_told_apart() {
    let table = include_str!("../../../tests/fixtures/language/region.tsv");
    let mut by_label: Vec<(&str, usize, usize)> = Vec::new();
    let mut wrong = Vec::new();
    for (n, line) in table.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
        let (label, text) = line.split_once('\t').unwrap_or_else(|| panic!("region.tsv:{}: no tab", n + 1));
        let got = detect(text);
        let right = got == Some(label);
        if !right {
            wrong.push(format!("region.tsv:{}: {label} detected as {got:?}: {text}", n + 1));
        }
        match by_label.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, total, hits)) => {
                *total += 1;
                *hits += usize::from(right);
            }
            None => by_label.push((label, 1, usize::from(right))),
        }
    }
    println!("language detection on the region's table:");
    for (label, total, hits) in &by_label {
        println!("  {label:8} {hits:2}/{total:2} ({:.0}%)", *hits as f64 * 100.0 / *total as f64);
    }
    for w in &wrong {
        println!("  {w}");
    }
    for (label, total, hits) in &by_label {
        let tolerated = if *total >= 20 { 1 } else { 0 };
        assert!(hits + tolerated >= *total, "{label}: {hits}/{total} right");
    }
    assert!(by_label.iter().filter(|(_, total, _)| *total >= 20).count() >= 8, "every region language has 20 texts");
}

/// Turkmen shares Turkish letters but is neither Turkish nor Azerbaijani; a Czech `ve` twice is not two
/// signs of Turkish.
#[test]
fn turkic_look_alikes_are_not_taken_for_turkish() {
    let turkmen = "Aşgabatda täze mekdep açyldy. Türkmenistanyň Prezidenti dabaraly çärä gatnaşdy we çykyş etdi.";
    assert!(!matches!(detect(turkmen), Some("tr" | "az" | "uz")), "{:?}", detect(turkmen));
    assert_eq!(latin_turkic("Ve středu se ve městě konala schůze zastupitelstva"), None);
}

/// `ä`, `ñ` and `w` are Kazakh and Tatar letters in Latin script, and German, Swedish, Finnish and
/// Spanish ones too: those texts are never taken for Kazakh or Tatar.
#[test]
fn western_umlauts_are_not_taken_for_kazakh_or_tatar() {
    for text in [
        "Die Ärzte wählen in Wien einen neuen Präsidenten der Kammer",
        "Regeringen är överens om att höja skatten på bränsle nästa år",
        "Hallitus päätti nostaa polttoaineveroa ensi vuonna, kertoi ministeriö",
        "España aprueba la ley de vivienda que baja los alquileres en años de subida",
        "Aşgabatda täze mekdep açyldy",
    ] {
        assert!(!matches!(detect(text), Some("kk-Latn" | "tt-Latn")), "{text}: {:?}", detect(text));
    }
    assert_eq!(detect("Qazaqstan men Özbekstan jaña kelisimge qol qoidı"), Some("kk-Latn"));
    assert_eq!(detect("Tatarstan häm Başqortstan yaña kileşü tözede"), Some("tt-Latn"));
}
