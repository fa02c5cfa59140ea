//! Rule-based categories: `[[categories.X.rules]]` put entries into a category by what they say, not
//! only by which source carried them.
//!
//! In: a [`RuleSpec`] as written in `feeds.toml`, then entries. Out: a [`CompiledRule`] (or a
//! [`RuleError`] naming the rule, the field and the bad pattern), and for each entry whether it matches.
//!
//! ```toml
//! [[categories.kz-lang.rules]]
//! include = { language = "kk" }                     # every Kazakh-language entry, from any source
//!
//! [[categories.baibek.rules]]
//! include = { title = ["Байбек*", "Алматы әкімі"] } # any keyword of the list, in the title
//! exclude = { tags = ["реклама"], content = { regex = '(?i)\bпресс-релиз\b' } }
//! case_sensitive = false                            # the default
//! ```
//!
//! A rule matches when every field under `include` matches (an empty `include` matches everything) and
//! no field under `exclude` does. A field is a keyword, a list of keywords (any of them), or
//! `{ regex = "…" }`. Fields: `title`, `content` (summary and full text as plain text), `author` (names
//! and emails), `tags` (the entry's own categories), `link` (the entry's URL, matched as written: a
//! keyword finds its words, a regex its characters), `source` (the source's name, and those of the
//! other sources that carried the story), `source_category` (the categories configured for those
//! sources), `language` (detected from the text, else declared by the feed: see
//! [`language::of_entry`]).
//!
//! Keywords match whole words, because a short keyword such as `Ақ` or `ЕС` would otherwise match inside
//! hundreds of unrelated words. Kazakh and Russian inflect heavily (`Байбек`, `Байбектің`, `Байбекке`;
//! `Алматы`, `Алматыда`), so a keyword ending in `*` matches every word that starts with it:
//! `Байбек*`. A keyword of several words matches them in sequence. Both sides are folded the same way
//! ([`language::fold_words`]: case unless `case_sensitive = true`, `ё` as `е`, Latin look-alikes inside
//! Cyrillic words, punctuation and NBSP as spaces), so `"Нұр Отан"` finds `«Нұр-Отан»`. Matching is a
//! substring search in the folded text with spaces as word edges: no regex is built for keywords.
//! Regexes (the `regex` crate: linear time, Unicode-aware `\b` and `\w`) see each value as written,
//! case-insensitive unless `case_sensitive = true`.

use std::cell::OnceCell;
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::Entry;
use crate::normalize::{language, text};

/// One `[[categories.X.rules]]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(default)]
    pub include: FieldsSpec,
    #[serde(default)]
    pub exclude: FieldsSpec,
    #[serde(default)]
    pub case_sensitive: bool,
}

/// What to look for, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsSpec {
    pub title: Option<PatternSpec>,
    pub content: Option<PatternSpec>,
    pub author: Option<PatternSpec>,
    pub tags: Option<PatternSpec>,
    pub link: Option<PatternSpec>,
    pub source: Option<PatternSpec>,
    pub source_category: Option<PatternSpec>,
    pub language: Option<PatternSpec>,
}

/// A keyword, a list of keywords, or `{ regex = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternSpec {
    Keywords(Vec<String>),
    Regex(String),
}

impl<'de> Deserialize<'de> for PatternSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PatternVisitor;
        impl<'de> Visitor<'de> for PatternVisitor {
            type Value = PatternSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a keyword, a list of keywords, or { regex = "..." }"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PatternSpec, E> {
                Ok(PatternSpec::Keywords(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PatternSpec, A::Error> {
                let mut keywords = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keywords.push(k);
                }
                Ok(PatternSpec::Keywords(keywords))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PatternSpec, A::Error> {
                let mut regex = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "regex" {
                        return Err(de::Error::unknown_field(&key, &["regex"]));
                    }
                    if regex.replace(map.next_value::<String>()?).is_some() {
                        return Err(de::Error::duplicate_field("regex"));
                    }
                }
                regex.map(PatternSpec::Regex).ok_or_else(|| de::Error::missing_field("regex"))
            }
        }
        d.deserialize_any(PatternVisitor)
    }
}

/// A rule that cannot be compiled: a config error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The regex crate's message, which points at the offending part, is kept whole.
    #[error("rule {rule}: {field} regex {pattern:?} does not compile: {reason}")]
    Regex { rule: String, field: &'static str, pattern: String, reason: String },
    #[error("rule {rule}: {field} keyword {keyword:?} {problem}")]
    Keyword { rule: String, field: &'static str, keyword: String, problem: &'static str },
    #[error("rule {rule}: {field} has an empty keyword list, which would never match")]
    EmptyList { rule: String, field: &'static str },
    #[error("rule {rule} has neither `include` nor `exclude`")]
    Empty { rule: String },
}

/// What a rule can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Content,
    Author,
    Tags,
    Link,
    Source,
    SourceCategory,
    Language,
}

const FIELDS: usize = 8;

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Content => "content",
            Field::Author => "author",
            Field::Tags => "tags",
            Field::Link => "link",
            Field::Source => "source",
            Field::SourceCategory => "source_category",
            Field::Language => "language",
        }
    }
}

impl FieldsSpec {
    fn iter(&self) -> impl Iterator<Item = (Field, &PatternSpec)> {
        [
            (Field::Title, &self.title),
            (Field::Content, &self.content),
            (Field::Author, &self.author),
            (Field::Tags, &self.tags),
            (Field::Link, &self.link),
            (Field::Source, &self.source),
            (Field::SourceCategory, &self.source_category),
            (Field::Language, &self.language),
        ]
        .into_iter()
        .filter_map(|(field, spec)| spec.as_ref().map(|s| (field, s)))
    }
}

/// A rule ready to test entries.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    name: String,
    include: Vec<(Field, Matcher)>,
    exclude: Vec<(Field, Matcher)>,
    case_sensitive: bool,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// Folded needles: `" w1 w2 "` for whole words, `" w1 w2"` for a trailing `*`; each with the
    /// keyword as written, to say which one matched.
    Keywords(Vec<(String, String)>),
    Regex(Regex),
}

impl CompiledRule {
    /// Checks and compiles `spec`; `rule` names it in errors (e.g. `categories.kz-news.rules[1]`).
    pub fn compile(spec: &RuleSpec, rule: &str) -> Result<CompiledRule, RuleError> {
        let compile_all = |fields: &FieldsSpec| -> Result<Vec<(Field, Matcher)>, RuleError> {
            fields
                .iter()
                .map(|(field, p)| Ok((field, Matcher::compile(p, field, rule, spec.case_sensitive)?)))
                .collect()
        };
        let include = compile_all(&spec.include)?;
        let exclude = compile_all(&spec.exclude)?;
        if include.is_empty() && exclude.is_empty() {
            return Err(RuleError::Empty { rule: rule.to_owned() });
        }
        Ok(CompiledRule { name: rule.to_owned(), include, exclude, case_sensitive: spec.case_sensitive })
    }

    /// The name the rule was compiled with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `entry`, carried by sources configured with `source_categories`, matches.
    pub fn matches(&self, entry: &Entry, source_categories: &[String]) -> bool {
        self.matches_subject(&Subject::new(entry, source_categories))
    }

    /// [`matches`](Self::matches) on an entry prepared once for several rules.
    pub fn matches_subject(&self, subject: &Subject) -> bool {
        let hit = |(field, m): &(Field, Matcher)| m.matches(subject, *field, self.case_sensitive).is_some();
        self.include.iter().all(hit) && !self.exclude.iter().any(hit)
    }

    /// When the rule matches, what in `subject` made it: `title matched "Реклама*"` (its first
    /// `include` field), or `no field excluded it` for a rule with `exclude` alone.
    pub fn why(&self, subject: &Subject) -> Option<String> {
        if !self.matches_subject(subject) {
            return None;
        }
        Some(match self.include.first() {
            Some((field, m)) => {
                let what = m.matches(subject, *field, self.case_sensitive).unwrap_or_default();
                format!("{} matched {what}", field.name())
            }
            None => "no field excluded it".to_owned(),
        })
    }
}

impl Matcher {
    fn compile(spec: &PatternSpec, field: Field, rule: &str, case_sensitive: bool) -> Result<Matcher, RuleError> {
        match spec {
            PatternSpec::Regex(pattern) => {
                RegexBuilder::new(pattern).case_insensitive(!case_sensitive).build().map(Matcher::Regex).map_err(|e| {
                    RuleError::Regex {
                        rule: rule.to_owned(),
                        field: field.name(),
                        pattern: pattern.clone(),
                        reason: e.to_string(),
                    }
                })
            }
            PatternSpec::Keywords(list) if list.is_empty() => {
                Err(RuleError::EmptyList { rule: rule.to_owned(), field: field.name() })
            }
            PatternSpec::Keywords(list) => list
                .iter()
                .map(|k| {
                    keyword_needle(k, !case_sensitive).map(|n| (n, k.clone())).map_err(|problem| RuleError::Keyword {
                        rule: rule.to_owned(),
                        field: field.name(),
                        keyword: k.clone(),
                        problem,
                    })
                })
                .collect::<Result<_, _>>()
                .map(Matcher::Keywords),
        }
    }

    /// The keyword (quoted) or regex that matched, if any did.
    fn matches(&self, subject: &Subject, field: Field, case_sensitive: bool) -> Option<String> {
        match self {
            Matcher::Keywords(needles) => {
                let folded = subject.folded(field, !case_sensitive);
                needles.iter().find(|(n, _)| folded.contains(n.as_str())).map(|(_, k)| format!("{k:?}"))
            }
            Matcher::Regex(re) => {
                subject.values(field).iter().any(|v| re.is_match(v)).then(|| format!("regex {:?}", re.as_str()))
            }
        }
    }
}

/// `" w1 w2 "` (whole words) or `" w1 w2"` (`*`: the last word is a prefix); or what is wrong with it.
fn keyword_needle(keyword: &str, lowercase: bool) -> Result<String, &'static str> {
    let trimmed = keyword.trim();
    let (body, prefix) = match trimmed.strip_suffix('*') {
        Some(body) => (body, true),
        None => (trimmed, false),
    };
    if body.contains('*') {
        return Err("may only have `*` at its end");
    }
    let words = language::fold_words(body, lowercase);
    if words.is_empty() {
        return Err("has no letters or digits");
    }
    if prefix && body.ends_with(|c: char| !c.is_alphanumeric()) {
        return Err("has `*` after a non-letter: write it right after the word stem");
    }
    Ok(format!(" {}{}", words.join(" "), if prefix { "" } else { " " }))
}

/// One entry as rules see it: each field's values, and their folded text, computed on first use and
/// shared by every rule tested on the entry.
#[derive(Debug)]
pub struct Subject<'a> {
    entry: &'a Entry,
    source_categories: &'a [String],
    values: [OnceCell<Vec<String>>; FIELDS],
    /// Folded text per field, lower-cased ([0]) or as written ([1]).
    folded: [[OnceCell<String>; FIELDS]; 2],
}

impl<'a> Subject<'a> {
    pub fn new(entry: &'a Entry, source_categories: &'a [String]) -> Subject<'a> {
        Subject { entry, source_categories, values: Default::default(), folded: Default::default() }
    }

    fn values(&self, field: Field) -> &[String] {
        self.values[field as usize].get_or_init(|| {
            let e = self.entry;
            match field {
                Field::Title => vec![e.title.clone()],
                Field::Content => {
                    let parts: Vec<String> =
                        e.summary_html.iter().chain(&e.content_html).map(|h| text::html_to_text(h)).collect();
                    vec![parts.join("\n")]
                }
                Field::Author => e.authors.iter().flat_map(|p| p.name.iter().chain(&p.email)).cloned().collect(),
                Field::Tags => e.categories.clone(),
                Field::Link => e.url.iter().cloned().collect(),
                Field::Source => std::iter::once(&e.source).chain(e.via.iter().map(|v| &v.source)).cloned().collect(),
                Field::SourceCategory => self.source_categories.to_vec(),
                Field::Language => {
                    let content = &self.values(Field::Content)[0];
                    language::of_entry(e, content).into_iter().collect()
                }
            }
        })
    }

    /// Each value folded to `" w1 w2 "`; values are joined with an extra space, so a phrase never
    /// spans two of them.
    fn folded(&self, field: Field, lowercase: bool) -> &str {
        self.folded[usize::from(!lowercase)][field as usize].get_or_init(|| {
            let mut out = String::from(" ");
            for v in self.values(field) {
                for w in language::fold_words(v, lowercase) {
                    out.push_str(&w);
                    out.push(' ');
                }
                out.push(' ');
            }
            out
        })
    }
}

#[cfg(test)]
#[path = "rules/tests.rs"]
mod tests;
