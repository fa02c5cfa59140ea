//! Filter: keep and block rules drop a source's entries after normalization, before dedup, so a dropped
//! entry is never stored, merged or published.
//!
//! In: the `[filters]` table and each source's `[sources.filters]`, written in the language of category
//! rules ([`crate::categorize::rules`]: keywords, `word*` prefixes, `{ regex = "…" }`), and a source's
//! normalized entries. Out: the entries kept, and for each entry dropped which rule dropped it and why, so
//! `feedmill explain` can say so.
//!
//! ```toml
//! [[filters.block]]                       # every source: drop adverts
//! title = ["Жарнама*", "Реклама*"]
//!
//! [[sources]]
//! name = "tengri"
//! url = "https://tengrinews.kz/rss"
//! [[sources.filters.keep]]                # this source: only what mentions Almaty
//! content = ["Алматы*"]
//! ```
//!
//! A rule is a table of fields (`title`, `content`, `author`, `tags`, `link`, `language`) and matches
//! when every field it names matches. The semantics are Miniflux's keeplist and blocklist, per level
//! (global, then the source's): when a level has `keep` rules, an entry must match at least one of them;
//! an entry matching any `block` rule is dropped. Both levels apply.

use serde::Deserialize;

use crate::categorize::rules::{CompiledRule, FieldsSpec, PatternSpec, RuleError, RuleSpec, Subject};
use crate::model::Entry;

/// One `[[filters.keep]]` or `[[filters.block]]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    pub title: Option<PatternSpec>,
    pub content: Option<PatternSpec>,
    pub author: Option<PatternSpec>,
    pub tags: Option<PatternSpec>,
    pub link: Option<PatternSpec>,
    pub language: Option<PatternSpec>,
    #[serde(default)]
    pub case_sensitive: bool,
}

/// A filter rule that cannot be used: a config error naming it (`filters.block[2]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    #[error(transparent)]
    Rule(RuleError),
    #[error("rule {rule} has nothing to match: give at least one of title, content, author, tags, link, language")]
    Empty { rule: String },
}

/// One level's rules (`[filters]`, or one source's), compiled.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Where the rules are written: `filters` or `sources[3].filters`.
    pub name: String,
    pub keep: Vec<CompiledRule>,
    pub block: Vec<CompiledRule>,
}

impl Filters {
    /// Compiles one rule; `rule` names it in errors and in [`Dropped::reason`].
    pub fn compile(spec: &FilterSpec, rule: &str) -> Result<CompiledRule, FilterError> {
        let include = FieldsSpec {
            title: spec.title.clone(),
            content: spec.content.clone(),
            author: spec.author.clone(),
            tags: spec.tags.clone(),
            link: spec.link.clone(),
            language: spec.language.clone(),
            ..FieldsSpec::default()
        };
        if include == FieldsSpec::default() {
            return Err(FilterError::Empty { rule: rule.to_owned() });
        }
        let spec = RuleSpec { include, exclude: FieldsSpec::default(), case_sensitive: spec.case_sensitive };
        CompiledRule::compile(&spec, rule).map_err(FilterError::Rule)
    }

    pub fn is_empty(&self) -> bool {
        self.keep.is_empty() && self.block.is_empty()
    }

    /// Why this level drops `subject`'s entry, or `None` when it passes.
    fn verdict(&self, subject: &Subject) -> Option<String> {
        if let Some((rule, why)) = self.block.iter().find_map(|r| r.why(subject).map(|why| (r, why))) {
            return Some(format!("{} ({why})", rule.name()));
        }
        if !self.keep.is_empty() && !self.keep.iter().any(|r| r.matches_subject(subject)) {
            let n = self.keep.len();
            return Some(format!("{}.keep (matched none of its {n} rule{})", self.name, if n == 1 { "" } else { "s" }));
        }
        None
    }
}

/// An entry the filters dropped, remembered so `explain` can say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The source's own id for the entry, as written.
    pub guid: Option<String>,
    pub url: Option<String>,
    pub title: String,
    /// `filters.block[0] (title matched "Реклама*")`.
    pub reason: String,
}

/// Splits `items` into those every level lets through and those dropped; `entry` reads an item's
/// normalized entry, `guid` its source id.
pub fn apply<T>(
    levels: &[&Filters],
    items: Vec<T>,
    entry: impl Fn(&T) -> &Entry,
    guid: impl Fn(&T) -> Option<String>,
) -> (Vec<T>, Vec<Dropped>) {
    if levels.iter().all(|l| l.is_empty()) {
        return (items, Vec::new());
    }
    let mut kept = Vec::with_capacity(items.len());
    let mut dropped = Vec::new();
    for item in items {
        let e = entry(&item);
        let subject = Subject::new(e, &[]);
        match levels.iter().find_map(|l| l.verdict(&subject)) {
            Some(reason) => {
                tracing::debug!(source = %e.source, title = %e.title, "dropped by {reason}");
                dropped.push(Dropped { guid: guid(&item), url: e.url.clone(), title: e.title.clone(), reason });
            }
            None => kept.push(item),
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, url: &str) -> Entry {
        use chrono::TimeZone;
        Entry {
            id: String::new(),
            source: "abai".into(),
            url: Some(url.into()),
            title: title.into(),
            summary_html: None,
            content_html: None,
            authors: vec![],
            categories: vec![],
            published: None,
            updated: None,
            first_seen: chrono::Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap(),
            language: None,
            enclosures: vec![],
            image: None,
            via: vec![],
        }
    }

    fn spec(toml_text: &str) -> FilterSpec {
        toml::from_str(toml_text).unwrap()
    }

    fn level(name: &str, keep: &[&str], block: &[&str]) -> Filters {
        let compile = |kind: &str, list: &[&str]| {
            list.iter()
                .enumerate()
                .map(|(i, t)| Filters::compile(&spec(t), &format!("{name}.{kind}[{i}]")).unwrap())
                .collect()
        };
        Filters { name: name.into(), keep: compile("keep", keep), block: compile("block", block) }
    }

    fn run(levels: &[&Filters], entries: Vec<Entry>) -> (Vec<String>, Vec<String>) {
        let (kept, dropped) = apply(levels, entries, |e| e, |_| None);
        (kept.into_iter().map(|e| e.title).collect(), dropped.into_iter().map(|d| d.reason).collect())
    }

    #[test]
    fn a_block_rule_drops_what_it_matches_and_says_which_keyword() {
        let global = level("filters", &[], &[r#"title = ["Жарнама*", "Реклама*"]"#]);
        let (kept, dropped) = run(
            &[&global],
            vec![entry("Рекламаның жаңа түрі", "https://a.kz/1"), entry("Байбек айтты", "https://a.kz/2")],
        );
        assert_eq!(kept, ["Байбек айтты"]);
        assert_eq!(dropped, [r#"filters.block[0] (title matched "Реклама*")"#]);
    }

    #[test]
    fn keep_rules_let_through_only_what_matches_one_of_them_on_each_level() {
        let global = level("filters", &[r#"link = { regex = '^https://a\.kz/' }"#], &[]);
        let source = level("sources[0].filters", &[r#"title = "Байбек""#, r#"title = "Алматы*""#], &[]);
        let (kept, dropped) = run(
            &[&global, &source],
            vec![
                entry("Байбек айтты", "https://a.kz/1"),
                entry("Алматыда жаңбыр", "https://a.kz/2"),
                entry("Ауа райы", "https://a.kz/3"),
                entry("Байбек тағы айтты", "https://b.kz/4"),
            ],
        );
        assert_eq!(kept, ["Байбек айтты", "Алматыда жаңбыр"]);
        assert_eq!(
            dropped,
            ["sources[0].filters.keep (matched none of its 2 rules)", "filters.keep (matched none of its 1 rule)"]
        );
    }

    #[test]
    fn a_rule_with_nothing_to_match_or_a_bad_regex_is_an_error_naming_it() {
        assert_eq!(
            Filters::compile(&spec("case_sensitive = true"), "filters.block[2]").unwrap_err().to_string(),
            "rule filters.block[2] has nothing to match: give at least one of title, content, author, tags, link, language"
        );
        let bad = Filters::compile(&spec(r#"title = { regex = "(" }"#), "sources[3].filters.keep[0]").unwrap_err();
        assert!(
            bad.to_string().starts_with(r#"rule sources[3].filters.keep[0]: title regex "(" does not compile"#),
            "{bad}"
        );
    }
}
