use chrono::{TimeZone, Utc};

use super::*;
use crate::model::{Person, Via};

#[derive(Deserialize)]
struct Doc {
    rules: Vec<RuleSpec>,
}

fn rule(toml_rule: &str) -> CompiledRule {
    let doc: Doc = toml::from_str(&format!("[[rules]]\n{toml_rule}")).unwrap();
    CompiledRule::compile(&doc.rules[0], "categories.test.rules[0]").unwrap()
}

fn compile_error(toml_rule: &str) -> String {
    let doc: Doc = toml::from_str(&format!("[[rules]]\n{toml_rule}")).unwrap();
    CompiledRule::compile(&doc.rules[0], "categories.test.rules[0]").unwrap_err().to_string()
}

fn entry(title: &str, content: &str) -> Entry {
    let at = Utc.with_ymd_and_hms(2024, 4, 5, 6, 0, 0).unwrap();
    Entry {
        id: "https://example.kz/1".into(),
        source: "kazinform".into(),
        url: Some("https://example.kz/1".into()),
        title: title.into(),
        summary_html: None,
        content_html: Some(format!("<p>{content}</p>")),
        authors: vec![Person {
            name: Some("Айгүл Сейітова".into()), email: Some("aigul@inform.kz".into()), url: None
        }],
        categories: vec!["Қоғам".into(), "Экономика и финансы".into()],
        published: Some(at),
        updated: None,
        first_seen: at,
        language: None,
        enclosures: Vec::new(),
        image: None,
        via: vec![Via { source: "tengrinews".into(), url: None }],
    }
}

const KK: &str = "Алматы қаласының әкімі Бақытжан Сағынтаев жаңа саябақтың ашылуына қатысты. Байбектің кезінде басталған жоба аяқталды.";

#[test]
fn specs_deserialize_from_toml_in_every_shape() {
    let doc: Doc = toml::from_str(
        r#"
        [[rules]]
        include = { language = "kk", title = ["Байбек*", "Алматы әкімі"] }
        exclude = { content = { regex = '\bреклама\b' } }
        case_sensitive = true
        "#,
    )
    .unwrap();
    let spec = &doc.rules[0];
    assert_eq!(spec.include.language, Some(PatternSpec::Keywords(vec!["kk".into()])));
    assert_eq!(spec.include.title, Some(PatternSpec::Keywords(vec!["Байбек*".into(), "Алматы әкімі".into()])));
    assert_eq!(spec.exclude.content, Some(PatternSpec::Regex(r"\bреклама\b".into())));
    assert!(spec.case_sensitive);
}

#[test]
fn unknown_fields_and_wrong_shapes_are_rejected_by_name() {
    let err = toml::from_str::<Doc>("[[rules]]\ninclude = { titel = [\"x\"] }").err().unwrap().to_string();
    assert!(err.contains("unknown field `titel`") && err.contains("`title`"), "{err}");
    let err = toml::from_str::<Doc>("[[rules]]\ninclude = { title = 5 }").err().unwrap().to_string();
    assert!(err.contains(r#"a keyword, a list of keywords, or { regex = "..." }"#), "{err}");
    let err = toml::from_str::<Doc>("[[rules]]\ninclude = { title = { regexp = \"x\" } }").err().unwrap().to_string();
    assert!(err.contains("unknown field `regexp`, expected `regex`"), "{err}");
}

#[test]
fn a_rule_that_does_not_compile_names_the_rule_the_field_and_the_pattern() {
    let err = compile_error("include = { title = { regex = 'Алматы(' } }");
    assert!(err.starts_with("rule categories.test.rules[0]: title regex \"Алматы(\" does not compile:"), "{err}");
    assert!(err.contains("unclosed group"), "{err}");
    let err = compile_error("exclude = { tags = [\"а*б\"] }");
    assert_eq!(err, "rule categories.test.rules[0]: tags keyword \"а*б\" may only have `*` at its end");
    let err = compile_error("include = { author = [\"  \"] }");
    assert_eq!(err, "rule categories.test.rules[0]: author keyword \"  \" has no letters or digits");
    let err = compile_error("include = { source = [] }");
    assert_eq!(err, "rule categories.test.rules[0]: source has an empty keyword list, which would never match");
    let err = compile_error("case_sensitive = true");
    assert_eq!(err, "rule categories.test.rules[0] has neither `include` nor `exclude`");
}

#[test]
fn keywords_match_whole_words_unless_they_end_in_a_star() {
    let e = entry("Саябақ ашылды", KK);
    assert!(!rule("include = { content = \"Байбек\" }").matches(&e, &[]));
    assert!(rule("include = { content = \"Байбек*\" }").matches(&e, &[]));
    // Inside a word is not a match, star or not: `*` extends to the right only.
    assert!(!rule("include = { content = \"ыбек*\" }").matches(&e, &[]));
    assert!(rule("include = { content = [\"Нұр-Сұлтан\", \"сағынтаев\"] }").matches(&e, &[]));
}

#[test]
fn phrases_match_words_in_sequence_across_punctuation_and_case() {
    let e = entry("«НҰР-ОТАН» партиясы съезд өткізді", "Съезд Астанада өтті.");
    assert!(rule("include = { title = \"нұр отан\" }").matches(&e, &[]));
    assert!(!rule("include = { title = \"отан нұр\" }").matches(&e, &[]));
    assert!(!rule("include = { title = \"нұр отан\" }\ncase_sensitive = true").matches(&e, &[]));
    assert!(rule("include = { title = \"НҰР ОТАН\" }\ncase_sensitive = true").matches(&e, &[]));
}

#[test]
fn folding_reads_yo_as_ye_and_latin_lookalikes_as_cyrillic() {
    // "Алёна" with ё, and a Latin "a" and "e" typed inside Cyrillic words.
    let e = entry("Алёна Зверева вышлa в финал", "Тeннисистка победила.");
    assert!(rule("include = { title = [\"алена\"] }").matches(&e, &[]));
    assert!(rule("include = { title = [\"вышла в финал\"], content = \"теннисистка\" }").matches(&e, &[]));
}

#[test]
fn include_needs_every_field_and_exclude_any() {
    let e = entry("Алматыда жаңа саябақ ашылды", KK);
    assert!(rule("include = { title = \"саябақ\", author = \"Сейітова\" }").matches(&e, &[]));
    assert!(!rule("include = { title = \"саябақ\", author = \"Иванов\" }").matches(&e, &[]));
    assert!(!rule("include = { title = \"саябақ\" }\nexclude = { tags = \"қоғам\" }").matches(&e, &[]));
    assert!(rule("exclude = { tags = \"спорт\" }").matches(&e, &[]));
}

#[test]
fn every_field_is_looked_at() {
    let e = entry("Жаңалық", KK);
    let cats = ["kz-news".to_owned()];
    assert!(rule("include = { author = \"aigul@inform.kz\" }").matches(&e, &cats));
    assert!(rule("include = { tags = \"экономика\" }").matches(&e, &cats));
    // A phrase never spans two tags: "Қоғам" then "Экономика и финансы".
    assert!(!rule("include = { tags = \"қоғам экономика\" }").matches(&e, &cats));
    assert!(rule("include = { source = \"tengrinews\" }").matches(&e, &cats), "a source in via counts");
    assert!(rule("include = { source_category = \"kz-news\" }").matches(&e, &cats));
    assert!(!rule("include = { source_category = \"kz-news\" }").matches(&e, &[]));
    assert!(rule("include = { link = { regex = '^https://example\\.kz/' } }").matches(&e, &cats));
    assert!(rule("include = { link = \"example\" }").matches(&e, &cats), "a keyword finds a word of the link");
    assert!(!rule("include = { link = \"exam\" }").matches(&e, &cats));
}

#[test]
fn why_names_the_field_and_the_keyword_that_matched() {
    let e = entry("Байбектің сапары", KK);
    let subject = Subject::new(&e, &[]);
    let r = rule("include = { title = [\"Алматы\", \"Байбек*\"], content = \"саябақтың\" }");
    assert_eq!(r.why(&subject).as_deref(), Some("title matched \"Байбек*\""));
    let r = rule("include = { tags = { regex = 'эконом' } }");
    assert_eq!(r.why(&subject).as_deref(), Some("tags matched regex \"эконом\""));
    assert_eq!(rule("include = { title = \"Алматы\" }").why(&subject), None);
}

#[test]
fn language_is_detected_from_the_text_before_the_feed_declaration() {
    let mut e = entry("Алматыда жаңа саябақ ашылды", KK);
    e.language = Some("ru-RU".into());
    let kazakh = rule("include = { language = \"kk\" }");
    assert!(kazakh.matches(&e, &[]));
    let ru = entry("В Алматы открылся новый парк", "Аким города принял участие в открытии парка.");
    assert!(!kazakh.matches(&ru, &[]));
    assert!(rule("include = { language = { regex = '^(ru|kk)$' } }").matches(&ru, &[]));
    // Nothing to detect from: the declared language, primary subtag only.
    let mut bare = entry("42", "");
    bare.content_html = None;
    bare.language = Some("kk-KZ".into());
    assert!(kazakh.matches(&bare, &[]));
}

#[test]
fn regexes_are_unicode_aware_and_case_insensitive_by_default() {
    let e = entry("АЛМАТЫ: жаңа саябақ", KK);
    assert!(rule(r"include = { title = { regex = '\bалматы\b' } }").matches(&e, &[]));
    assert!(!rule("include = { title = { regex = 'алматы' } }\ncase_sensitive = true").matches(&e, &[]));
    assert!(rule(r"include = { content = { regex = 'Байбек\w+' } }").matches(&e, &[]));
}

#[test]
fn one_subject_serves_many_rules() {
    let e = entry("Алматыда жаңа саябақ ашылды", KK);
    let cats = Vec::new();
    let subject = Subject::new(&e, &cats);
    let rules = [rule("include = { title = \"саябақ\" }"), rule("include = { language = \"kk\" }")];
    assert!(rules.iter().all(|r| r.matches_subject(&subject)));
    assert_eq!(rules[0].name(), "categories.test.rules[0]");
}
