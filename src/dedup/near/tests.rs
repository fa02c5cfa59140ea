use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use super::compare::common;
use super::*;
use crate::model::Entry;
use crate::normalize::text;

/// tests/fixtures/stories/stories.json: entries forming story clusters, and labelled pairs.
#[derive(Deserialize)]
struct Fixture {
    entries: Vec<FixtureEntry>,
    pairs: Vec<Pair>,
}

#[derive(Deserialize)]
struct FixtureEntry {
    key: String,
    story: String,
    source: String,
    url: String,
    title: String,
    summary_html: Option<String>,
    content_html: Option<String>,
    language: Option<String>,
    text_language: String,
    published: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: String,
    duplicate: bool,
    pattern: String,
}

struct Loaded {
    entries: Vec<(FixtureEntry, Entry, Signature)>,
    by_key: HashMap<String, usize>,
    pairs: Vec<Pair>,
}

fn fixture() -> Loaded {
    let fixture: Fixture = serde_json::from_str(include_str!("../../../tests/fixtures/stories/stories.json")).unwrap();
    let entries: Vec<_> = fixture
        .entries
        .into_iter()
        .map(|f| {
            let mut entry = Entry {
                id: f.url.clone(),
                source: f.source.clone(),
                url: Some(f.url.clone()),
                title: f.title.clone(),
                summary_html: f.summary_html.clone(),
                content_html: f.content_html.clone(),
                authors: Vec::new(),
                categories: Vec::new(),
                published: Some(f.published),
                updated: None,
                first_seen: f.published,
                language: f.language.clone(),
                enclosures: Vec::new(),
                image: None,
                via: Vec::new(),
            };
            // As normalizing leaves it: the detected language, else the declared one.
            let body = entry.content_html.as_deref().or(entry.summary_html.as_deref()).unwrap_or_default();
            entry.language = crate::normalize::language::of_entry(&entry, &text::html_to_text(body));
            let sig = Signature::of_entry(&entry);
            (f, entry, sig)
        })
        .collect();
    let by_key = entries.iter().enumerate().map(|(i, (f, _, _))| (f.key.clone(), i)).collect();
    Loaded { entries, by_key, pairs: fixture.pairs }
}

impl Loaded {
    fn get(&self, key: &str) -> &(FixtureEntry, Entry, Signature) {
        &self.entries[self.by_key[key]]
    }

    /// The near layer's decision on a pair, as the pipeline takes it: guards, threshold, time window.
    fn decide(&self, a: &str, b: &str) -> (bool, Comparison) {
        let (fa, _, sa) = self.get(a);
        let (fb, _, sb) = self.get(b);
        let c = compare(sa, sb);
        let within = (fa.published - fb.published).abs() <= DEFAULT_WINDOW;
        (within && c.is_duplicate(DEFAULT_THRESHOLD), c)
    }
}

#[test]
fn fixture_is_big_enough_and_labels_agree_with_stories() {
    let f = fixture();
    assert!(f.entries.len() >= 60, "{} entries", f.entries.len());
    assert!(f.pairs.len() >= 200, "{} pairs", f.pairs.len());
    for p in &f.pairs {
        assert_eq!(f.get(&p.a).0.story == f.get(&p.b).0.story, p.duplicate, "{} / {}", p.a, p.b);
    }
}

#[test]
fn precision_and_recall_on_labelled_pairs() {
    let f = fixture();
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    let mut per_pattern: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut mistakes = Vec::new();
    for p in &f.pairs {
        let (said, c) = f.decide(&p.a, &p.b);
        match (said, p.duplicate) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => {}
        }
        let slot = per_pattern.entry(&p.pattern).or_default();
        slot.1 += 1;
        if said == p.duplicate {
            slot.0 += 1;
        } else {
            mistakes.push(format!("  {} ~ {} ({}): said {said}, {c}", p.a, p.b, p.pattern));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fneg).max(1) as f64;
    println!("near-duplicates at threshold {DEFAULT_THRESHOLD} over {} labelled pairs:", f.pairs.len());
    println!("  precision {precision:.3} ({tp} of {} said duplicate)", tp + fp);
    println!("  recall    {recall:.3} ({tp} of {} duplicates found)", tp + fneg);
    let mut patterns: Vec<_> = per_pattern.into_iter().collect();
    patterns.sort();
    for (pattern, (right, total)) in patterns {
        println!("  {pattern:<24} {right}/{total} right");
    }
    for m in &mistakes {
        println!("{m}");
    }
    // How much room the default threshold has: the closest calls on each side, and a sweep.
    let scored: Vec<(bool, f32, bool, bool)> = f
        .pairs
        .iter()
        .map(|p| {
            let (fa, _, sa) = f.get(&p.a);
            let (fb, _, sb) = f.get(&p.b);
            let c = compare(sa, sb);
            let open = c.refused.is_none() && (fa.published - fb.published).abs() <= DEFAULT_WINDOW;
            (p.duplicate, c.score(), open, c.headline)
        })
        .collect();
    // Pairs the headline layer decides have no lede score to speak of: the lede layer's margins leave them out.
    let lowest_dup = scored.iter().filter(|s| s.0 && !s.3).map(|s| s.1).fold(1.0f32, f32::min);
    let highest_other = scored.iter().filter(|s| !s.0 && s.2).map(|s| s.1).fold(0.0f32, f32::max);
    println!("  lowest duplicate score {lowest_dup:.2}; highest score of a non-duplicate no guard refused {highest_other:.2}");
    for t in [0.5f32, 0.6, 0.7, 0.8, 0.9] {
        let said: Vec<_> = scored.iter().filter(|s| s.2 && (s.1 >= t || s.3)).collect();
        let tp = said.iter().filter(|s| s.0).count();
        let dups = scored.iter().filter(|s| s.0).count();
        println!(
            "  at {t:.1}: precision {:.3}, recall {:.3}",
            tp as f64 / said.len().max(1) as f64,
            tp as f64 / dups as f64
        );
    }
    assert_eq!(fp, 0, "precision {precision:.3}: a false merge hides a story");
    assert!(recall >= 0.9, "recall {recall:.3}");
}

#[test]
fn the_index_finds_what_pairwise_comparison_finds() {
    // LSH may only lose pairs, never invent them; on the fixtures it should lose none.
    let f = fixture();
    let mut index = NearIndex::new();
    for (i, (fe, _, sig)) in f.entries.iter().enumerate() {
        index.insert(i as u64, sig.clone(), fe.published);
    }
    for p in f.pairs.iter().filter(|p| f.decide(&p.a, &p.b).0) {
        let (fa, _, sa) = f.get(&p.a);
        let b = f.by_key[&p.b] as u64;
        let found = index.candidates(sa, fa.published, DEFAULT_WINDOW).any(|(id, _)| id == b);
        assert!(found, "{} ~ {} is a duplicate but not a candidate", p.a, p.b);
    }
}

#[test]
fn detected_language_is_right_on_every_fixture_entry() {
    let f = fixture();
    for (fe, entry, sig) in &f.entries {
        assert_eq!(sig.language(), Some(fe.text_language.as_str()), "{} (declared {:?})", fe.key, entry.language);
    }
}

fn explain(f: &Loaded, a: &str, b: &str) -> (bool, String) {
    let (said, c) = f.decide(a, b);
    (said, format!("{a} ~ {b}: {c}"))
}

#[test]
fn the_same_kazakh_story_on_three_sites_is_one_story() {
    let f = fixture();
    for (a, b) in [
        ("quake/kk/kazinform", "quake/kk/baq"),
        ("quake/kk/kazinform", "quake/kk/egemen"),
        ("quake/kk/baq", "quake/kk/egemen"),
    ] {
        let (said, why) = explain(&f, a, b);
        assert!(said, "{why}");
    }
}

#[test]
fn the_same_russian_story_with_other_urls_and_titles_is_one_story() {
    let f = fixture();
    for (a, b) in [("flood/ru/tengrinews", "flood/ru/zakon"), ("flood/ru/zakon", "flood/ru/informburo")] {
        let (said, why) = explain(&f, a, b);
        assert!(said, "{why}");
    }
}

#[test]
fn a_kazakh_and_a_russian_version_stay_apart() {
    let f = fixture();
    let (said, why) = explain(&f, "launch/kk/kazinform", "launch/ru/tengrinews");
    assert!(!said, "{why}");
    assert!(why.contains("languages differ (kk / ru)"), "{why}");
}

#[test]
fn the_same_event_with_other_facts_stays_apart() {
    let f = fixture();
    // A templated aftershock report: same sentences, other numbers.
    let (said, why) = explain(&f, "quake/kk/kazinform", "quake/kk-alt0/baq");
    assert!(!said, "{why}");
    assert!(why.contains("numbers differ"), "{why}");
    // A follow-up with the same names and no numbers to tell them apart: shingles alone.
    let (said, why) = explain(&f, "crash/ru/tengrinews", "crash/ru-alt0/tengrinews");
    assert!(!said, "{why}");
    // The docking shares a whole sentence and the ship's number with the launch.
    let (said, why) = explain(&f, "launch/kk/egemen", "launch/kk-alt0/baq");
    assert!(!said, "{why}");
}

#[test]
fn a_corrected_title_is_the_same_story() {
    let f = fixture();
    // "МС-52" corrected to "МС-25": the corrected numbers are a subset of the typo's plus the text's.
    for story in ["flood", "quake", "crash", "launch"] {
        let (said, why) = explain(&f, &format!("{story}/kk/kazinform-typo"), &format!("{story}/kk/kazinform"));
        assert!(said, "{why}");
    }
}

#[test]
fn a_teaser_matches_the_full_text_it_opens() {
    let f = fixture();
    // egemen carries only the first sentence; kazinform the whole text.
    let (said, c) = f.decide("schools/kk/egemen", "schools/kk/kazinform");
    assert!(said, "{c}");
    assert_eq!(c.shared, c.of, "{c}");
}

#[test]
fn a_hand_written_teaser_does_not_hide_the_text_lede() {
    let lede = "Мемлекет басшысы Қасым-Жомарт Тоқаев «Масс-медиа туралы» Қазақстан Республикасының Заңына қол қойды.";
    let teaser = "Журналистер үшін маңызды құжат: не өзгереді?";
    let full_and_teaser = Signature::new("Тоқаев заңға қол қойды", teaser, lede, Some("kk"));
    let text_only = Signature::new("Президент заңға қол қойды", "", lede, Some("kk"));
    assert!(compare(&full_and_teaser, &text_only).is_duplicate(DEFAULT_THRESHOLD));
}

#[test]
fn templated_daily_stories_of_other_days_stay_apart() {
    let f = fixture();
    for (a, b) in [("rates-1/kk/kazinform", "rates-3/kk/baq"), ("weather-1/ru/zakon", "weather-2/ru/tengrinews")] {
        let (said, why) = explain(&f, a, b);
        assert!(!said, "{why}");
    }
}

#[test]
fn too_short_entries_never_match() {
    let a = Signature::new("Погода на 5 марта", "Подробнее на сайте", "", Some("ru"));
    let b = Signature::new("Курс доллара на 5 марта", "Подробнее на сайте", "", Some("ru"));
    let c = compare(&a, &b);
    assert_eq!(c.refused, Some(Refusal::TooShort));
    assert!(!c.is_duplicate(0.0));
}

#[test]
fn an_entry_without_text_is_its_title() {
    let a = Signature::new("Алматы облысында жаңа жол салынып жатыр биыл", "", "", Some("kk"));
    let b = Signature::new("Алматы облысында жаңа жол салынып жатыр биыл", "", "", Some("kk"));
    assert_eq!(similarity(&a, &b), 1.0);
    assert!(compare(&a, &b).is_duplicate(DEFAULT_THRESHOLD));
}

#[test]
fn folding_ignores_case_punctuation_nbsp_and_lookalikes() {
    let a = Signature::new("", "Қазақстанда  жаңа\u{a0}заң «күшіне» енді! Заң 2025 жылғы 1 қаңтардан бастап", "", None);
    // Latin "a" typed inside Cyrillic words, quotes and case changed.
    let b = Signature::new("", "ҚАЗАҚСТАНДA жаңа заң \"күшіне\" енді, заң 2025 жылғы 1 қаңтардан бастап", "", None);
    assert_eq!(similarity(&a, &b), 1.0);
    let c = Signature::new("", "Қазақстанда жаңа заң күшіне енді. Заң 2026 жылғы 1 қаңтардан бастап", "", None);
    assert!(similarity(&a, &c) < 1.0, "numbers are kept");
    assert_eq!(compare(&a, &c).refused, Some(Refusal::Numbers));
}

#[test]
fn containment_counts_the_smaller_ledes_pairs() {
    let words: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
    let long = Signature::new("", &words.join(" "), "", None);
    // Its first 8 words: 7 pairs, all inside the long lede's first 12 words.
    let short = Signature::new("", &words[..8].join(" "), "", None);
    let c = compare(&short, &long);
    assert_eq!((c.shared, c.of), (7, 7));
    // Words 4..16: pairs 4–5 … 10–11 are shared with the long lede (w0..w11), 7 of 11.
    let shifted = Signature::new("", &words[4..16].join(" "), "", None);
    let c = compare(&shifted, &long);
    assert_eq!((c.shared, c.of), (7, 11));
    assert_eq!(c.to_string(), "lede containment 0.64 (7 of 11 word pairs)");
}

#[test]
fn a_signature_stays_small() {
    // A merge from scratch holds one per stored entry: 500,000 at 10,000 sources.
    assert!(std::mem::size_of::<Signature>() <= 40, "{} bytes", std::mem::size_of::<Signature>());
}

#[test]
fn signatures_round_trip_through_bytes() {
    let sig = Signature::new(
        "Тоқаев заңға қол қойды",
        "Журналистер үшін маңызды құжат: не өзгереді?",
        "Мемлекет басшысы Қасым-Жомарт Тоқаев «Масс-медиа туралы» Қазақстан Республикасының Заңына қол қойды.",
        Some("kk"),
    );
    let bytes = sig.to_bytes();
    // The title is too short to be specific: its headline key is written as 0.
    assert_eq!(bytes.len(), 1 + 1 + 2 + 8 + 1 + (1 + 4 * 5) + (1 + 4 * 11) + 8);
    assert_eq!(Signature::from_bytes(&bytes), Ok(sig.clone()));
    let empty = Signature::new("", "", "", None);
    assert_eq!(Signature::from_bytes(&empty.to_bytes()), Ok(empty));

    let mut old = bytes.clone();
    old[0] = SIGNATURE_VERSION + 1;
    assert_eq!(Signature::from_bytes(&old), Err(SignatureError::Version { found: SIGNATURE_VERSION + 1 }));
    assert_eq!(Signature::from_bytes(&bytes[..30]), Err(SignatureError::Malformed { len: 30 }));
    assert_eq!(Signature::from_bytes(&[]), Err(SignatureError::Malformed { len: 0 }));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(Signature::from_bytes(&longer), Err(SignatureError::Malformed { .. })));
    let mut bad_lang = bytes;
    bad_lang[1] = 200;
    assert!(matches!(Signature::from_bytes(&bad_lang), Err(SignatureError::Malformed { .. })));
}

#[test]
fn the_index_respects_the_time_window_and_explains_its_match() {
    let at = Utc.with_ymd_and_hms(2024, 4, 5, 6, 0, 0).unwrap();
    let text = "Қостанай облысының Әулиекөл ауданында су тасқыны салдарынан 120 тұрғын үй су астында қалды.";
    let title = "Қостанай облысында су тасқынынан 120 үй су астында қалды";
    let mut index = NearIndex::new();
    index.insert(7, Signature::new(title, text, "", Some("kk")), at);
    let query = Signature::new(title, text, "", Some("kk"));
    let found = index.best(&query, at + Duration::hours(71), DEFAULT_WINDOW, DEFAULT_THRESHOLD).unwrap();
    assert_eq!(found.id, 7);
    assert_eq!(found.to_string(), "near-duplicate of #7: lede containment 1.00 (11 of 11 word pairs)");
    assert!(index.best(&query, at - Duration::hours(73), DEFAULT_WINDOW, DEFAULT_THRESHOLD).is_none());
    assert_eq!(index.len(), 1);
}

/// The rubric rule, not the ledes, keeps recurring headlines apart: none of them has a headline key,
/// while every headline that copies share has one.
#[test]
fn rubric_headlines_have_no_key_and_shared_headlines_have_one() {
    let f = fixture();
    let (mut rubric, mut shared) = (0, 0);
    for p in &f.pairs {
        let keyed = [&p.a, &p.b].map(|k| f.get(k).2.titled);
        match p.pattern.as_str() {
            "generic-headline" => {
                assert_eq!(keyed, [false, false], "{} / {}", p.a, p.b);
                rubric += 1;
            }
            "same-headline-copies" => {
                assert_eq!(keyed, [true, true], "{} / {}", p.a, p.b);
                shared += 1;
            }
            _ => {}
        }
    }
    assert!(rubric >= 40 && shared >= 40, "{rubric} rubric pairs, {shared} shared-headline pairs");
}

#[test]
fn a_titled_signature_round_trips_with_its_band_tags() {
    let title = "Тоқаев Жапония премьер-министрімен екіжақты ынтымақтастықты талқылады";
    let lede = "Мемлекет басшысы Токиода Жапония үкіметінің басшысымен келіссөз жүргізіп, әріптестікті кеңейту мәселесін қарады.";
    let sig = Signature::new(title, lede, "", Some("kk"));
    assert!(sig.titled);
    assert_eq!(std::mem::size_of_val(&sig), std::mem::size_of::<Signature>());
    assert_eq!(Signature::from_bytes(&sig.to_bytes()), Ok(sig.clone()));
    let keys: Vec<u64> = sig.band_keys().collect();
    assert_eq!(keys.len(), BANDS + 1, "one lede's bands, then the headline's");
    assert_eq!(keys.last().map(|k| k >> 32), Some(BANDS as u64));
    assert_eq!(band_keys_of_bytes(&bands_to_bytes(&sig)).collect::<Vec<_>>(), keys);
    // Without a specific title, the last band is a lede's as before.
    let plain = Signature::new("Ауа райы", lede, "", Some("kk"));
    assert!(!plain.titled);
    let keys: Vec<u64> = plain.band_keys().collect();
    assert_eq!(band_keys_of_bytes(&bands_to_bytes(&plain)).collect::<Vec<_>>(), keys);
    assert_eq!(keys.len(), BANDS);
}

#[test]
fn the_same_headline_is_one_story_across_ledes_but_not_across_languages_or_figures() {
    let at = Utc.with_ymd_and_hms(2024, 11, 22, 9, 0, 0).unwrap();
    let title = "Токаев подписал закон о республиканском бюджете на 2025–2027 годы";
    let a = Signature::new(title, "Глава государства подписал закон, сообщает пресс-служба Акорды.", "", Some("ru"));
    let b = Signature::new(
        title,
        "Президент утвердил главный финансовый документ страны на ближайшую трехлетку.",
        "",
        Some("ru"),
    );
    let c = compare(&a, &b);
    assert!(c.headline && c.score() < DEFAULT_THRESHOLD && c.is_duplicate(DEFAULT_THRESHOLD), "{c}");
    assert!(
        c.layer(DEFAULT_THRESHOLD).starts_with("same headline (lede containment 0."),
        "{}",
        c.layer(DEFAULT_THRESHOLD)
    );
    let mut index = NearIndex::new();
    index.insert(3, a.clone(), at);
    let found: Vec<_> = index.duplicates(&b, at + Duration::hours(2), DEFAULT_WINDOW, DEFAULT_THRESHOLD).collect();
    assert_eq!(found.iter().map(|(id, c)| (*id, c.headline)).collect::<Vec<_>>(), [(3, true)]);
    assert_eq!(index.duplicates(&b, at + Duration::hours(80), DEFAULT_WINDOW, DEFAULT_THRESHOLD).count(), 0);

    let kk = Signature::new(title, "Мемлекет басшысы республикалық бюджет туралы заңға қол қойды.", "", Some("kk"));
    assert!(!compare(&a, &kk).is_duplicate(DEFAULT_THRESHOLD));
    let unknown = Signature::new(title, "Глава государства подписал закон о бюджете.", "", None);
    assert!(!compare(&unknown, &Signature::new(title, "Другой текст о законе.", "", None)).headline);
    let other = Signature::new(title, "Расходы составят 25 трлн тенге.", "", Some("ru"));
    let figures = Signature::new(title, "Расходы составят 27 трлн тенге.", "", Some("ru"));
    assert_eq!(compare(&other, &figures).refused, Some(Refusal::Numbers));
}

/// A deterministic stream of numbers for generated signatures (splitmix64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0) % n
    }
}

/// Signatures from a 40-word vocabulary, dated over six days: many share bands, some bands hold more
/// than `MAX_BUCKET` ledes, and some pairs fall outside the window.
pub(crate) fn crowded_signatures(seed: u64, n: usize) -> Vec<(Signature, DateTime<Utc>)> {
    let mut rng = Rng(seed);
    let words: Vec<String> = (0..40).map(|i| format!("сөз{i}")).collect();
    let start = Utc.with_ymd_and_hms(2019, 7, 11, 0, 0, 0).unwrap();
    (0..n)
        .map(|_| {
            // Copies of a few stock openings, lightly edited: the crowded buckets of a templated site.
            let opening = rng.below(6) as usize;
            let text: Vec<&str> = (0..14)
                .map(|k| {
                    let w = if rng.below(5) == 0 { rng.below(40) as usize } else { (opening * 7 + k) % 40 };
                    words[w].as_str()
                })
                .collect();
            let summary = if rng.below(3) == 0 { text[..8].join(" ") } else { String::new() };
            let language = ["kk", "ru"][rng.below(8).min(1) as usize];
            let date = start + Duration::minutes(rng.below(6 * 24 * 60) as i64);
            (Signature::new("", &summary, &text.join(" "), Some(language)), date)
        })
        .collect()
}

#[test]
fn a_planned_index_finds_what_a_growing_index_finds() {
    for seed in 0..4 {
        let sigs = crowded_signatures(seed, 600);
        let planned = PlannedIndex::new(sigs.iter().map(|(sig, at)| Some((sig.clone(), at.timestamp()))).collect());
        let mut growing = NearIndex::new();
        let (mut found, mut crowded) = (0, 0);
        for (slot, (sig, at)) in sigs.iter().enumerate() {
            let mut expected: Vec<(u64, usize, usize)> = growing
                .duplicates(sig, *at, DEFAULT_WINDOW, DEFAULT_THRESHOLD)
                .map(|(id, c)| (id, c.shared, c.of))
                .collect();
            let mut got: Vec<(u64, usize, usize)> = planned
                .duplicates(slot, DEFAULT_WINDOW, DEFAULT_THRESHOLD)
                .map(|(id, c)| (id as u64, c.shared, c.of))
                .collect();
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expected, "seed {seed}, slot {slot}");
            found += got.len();
            crowded += usize::from(growing.candidates(sig, *at, Duration::days(30)).count() >= MAX_BUCKET);
            growing.insert(slot as u64, sig.clone(), *at);
        }
        assert!(found > 300, "seed {seed}: only {found} duplicates, the test proves little");
        assert!(crowded > 100, "seed {seed}: only {crowded} queries met a full bucket");
    }
}

#[test]
fn common_counts_the_intersection_of_two_sorted_sets() {
    let mut rng = fastrand::Rng::with_seed(7);
    let set = |rng: &mut fastrand::Rng| {
        let mut v: Vec<u32> = (0..rng.usize(0..14)).map(|_| rng.u32(0..40)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for _ in 0..2000 {
        let (a, b) = (set(&mut rng), set(&mut rng));
        let expected = a.iter().filter(|x| b.contains(x)).count();
        assert_eq!(common(&a, &b), expected, "{a:?} ∩ {b:?}");
        assert_eq!(common(&b, &a), expected);
    }
}

/// The language guard on the region's languages: a Kyrgyz and a Kazakh copy of a story are two
/// languages, as detection tells them, and even word-for-word equal ledes tagged so stay apart.
#[test]
fn a_kyrgyz_and_a_kazakh_copy_stay_apart() {
    use crate::normalize::language::detect;
    let ky = "Бишкекте 22-ноябрда жаңы көпүрө ачылды. Курулушка 1,2 миллиард сом жумшалды деп билдирди шаардын \
              мэриясы. Көпүрө аркылуу күнүнө 40 миң унаа өтөт.";
    let kk = "Бішкекте 22 қарашада жаңа көпір ашылды. Құрылысқа 1,2 миллиард сом жұмсалды деп хабарлады қала \
              әкімдігі. Көпір арқылы күніне 40 мың көлік өтеді.";
    assert_eq!(detect(ky), Some("ky"));
    assert_eq!(detect(kk), Some("kk"));
    let sig = |title: &str, text: &str| Signature::new(title, text, "", detect(text));
    let (a, b) = (sig("Бишкекте жаңы көпүрө ачылды", ky), sig("Бішкекте жаңа көпір ашылды", kk));
    let c = compare(&a, &b);
    assert!(!c.is_duplicate(DEFAULT_THRESHOLD), "{c}");
    assert!(c.to_string().contains("languages differ (ky / kk)"), "{c}");
    // The same Kyrgyz lede under another title is one story; tagged Kazakh, it is refused.
    let again = sig("Борбордо жаңы көпүрө пайдаланууга берилди", ky);
    assert!(compare(&a, &again).is_duplicate(DEFAULT_THRESHOLD), "{}", compare(&a, &again));
    let mislabelled = Signature::new("Бишкекте жаңы көпүрө ачылды", ky, "", Some("kk"));
    assert!(compare(&a, &mislabelled).to_string().contains("languages differ (ky / kk)"));
}
