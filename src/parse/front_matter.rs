//! Front matter: the metadata block that opens an article file, as static site generators write it.
//!
//! A file whose first line is `+++` holds TOML up to the next `+++` line (Hugo, Zola); one whose first
//! line is `---` holds YAML up to the next `---` line (Jekyll, Hugo, Eleventy). Anything else has no
//! front matter, and the whole file is the body. The keys read are `title`, `date`, `updated`,
//! `author`/`authors`, `tags`/`categories`, `summary`, `draft`, `slug`, `id` and `image`; other keys
//! (`layout`, `weight`, …) belong to the site's generator and are ignored.
//!
//! A block that is never closed, does not parse, or gives a key the wrong type is a
//! [`FrontMatterError`] with the line in the file it is about, so the publisher can fix that file while
//! the others publish. YAML is read by `yaml-rust2` (pure Rust, YAML 1.2, maintained; `serde_yaml` is
//! deprecated): dates stay the text they were written as, and normalize reads them with the source's
//! zone like any feed date.

use yaml_rust2::{Yaml, YamlLoader};

/// What an article's front matter says; every field is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub date: Option<String>,
    pub updated: Option<String>,
    pub authors: Vec<String>,
    /// `tags` then `categories`, as written.
    pub tags: Vec<String>,
    pub summary: Option<String>,
    pub draft: bool,
    pub slug: Option<String>,
    pub id: Option<String>,
    pub image: Option<String>,
}

/// Why a file's front matter could not be read; `line` counts from 1 in the whole file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

/// A value of either syntax, reduced to what the keys need.
enum Value {
    Text(String),
    Bool(bool),
    List(Vec<Value>),
    /// Tables, nulls: no key takes them.
    Other,
}

/// Splits `text` into its front matter and its body.
pub fn split(text: &str) -> Result<(FrontMatter, &str), FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or_default().trim_end();
    let delimiter = match first {
        "+++" | "---" => first,
        _ => return Ok((FrontMatter::default(), text)),
    };
    // Offsets of each line after the opening one, to find the closing delimiter.
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut at = start;
    let mut close = None;
    for line in text[start..].split_inclusive('\n') {
        if line.trim_end() == delimiter {
            close = Some((at, at + line.len()));
            break;
        }
        at += line.len();
    }
    let Some((end, body_start)) = close else {
        return Err(FrontMatterError {
            line: 1,
            message: format!("front matter opened with `{delimiter}` is never closed by another `{delimiter}` line"),
        });
    };
    let block = &text[start..end];
    // The block's first line is the file's second.
    let line_at = |offset: usize| 2 + block[..offset.min(block.len())].matches('\n').count();
    let pairs = if delimiter == "+++" {
        toml_pairs(block, line_at)?
    } else {
        // An error found at the end of the block (an unclosed list) is about its last line, not the `---`.
        let last = 1 + block.lines().count();
        yaml_pairs(block).map_err(|e| FrontMatterError { line: e.line.clamp(2, last.max(2)), ..e })?
    };
    let front = read_keys(pairs, block, line_at)?;
    Ok((front, &text[body_start..]))
}

fn toml_pairs(block: &str, line_at: impl Fn(usize) -> usize) -> Result<Vec<(String, Value)>, FrontMatterError> {
    let table: toml::Table = toml::from_str(block).map_err(|e| FrontMatterError {
        line: e.span().map_or(2, |s| line_at(s.start)),
        message: format!("invalid TOML front matter: {}", e.message().lines().next().unwrap_or_default()),
    })?;
    fn value(v: toml::Value) -> Value {
        match v {
            toml::Value::String(s) => Value::Text(s),
            toml::Value::Integer(i) => Value::Text(i.to_string()),
            toml::Value::Float(f) => Value::Text(f.to_string()),
            toml::Value::Boolean(b) => Value::Bool(b),
            toml::Value::Datetime(d) => Value::Text(d.to_string()),
            toml::Value::Array(a) => Value::List(a.into_iter().map(value).collect()),
            toml::Value::Table(_) => Value::Other,
        }
    }
    Ok(table.into_iter().map(|(k, v)| (k, value(v))).collect())
}

fn yaml_pairs(block: &str) -> Result<Vec<(String, Value)>, FrontMatterError> {
    let docs = YamlLoader::load_from_str(block).map_err(|e| FrontMatterError {
        // The scanner counts lines from 1 within the block, which starts on the file's second line.
        line: e.marker().line() + 1,
        message: format!("invalid YAML front matter: {}", e.info()),
    })?;
    fn value(v: Yaml) -> Value {
        match v {
            Yaml::String(s) | Yaml::Real(s) => Value::Text(s),
            Yaml::Integer(i) => Value::Text(i.to_string()),
            Yaml::Boolean(b) => Value::Bool(b),
            Yaml::Array(a) => Value::List(a.into_iter().map(value).collect()),
            _ => Value::Other,
        }
    }
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Hash(h)) => Ok(h
            .into_iter()
            .filter_map(|(k, v)| match k {
                Yaml::String(k) => Some((k, value(v))),
                _ => None,
            })
            .collect()),
        Some(_) => {
            Err(FrontMatterError { line: 2, message: "YAML front matter is not a list of `key: value` lines".into() })
        }
    }
}

fn read_keys(
    pairs: Vec<(String, Value)>,
    block: &str,
    line_at: impl Fn(usize) -> usize,
) -> Result<FrontMatter, FrontMatterError> {
    let mut front = FrontMatter::default();
    let mut categories = Vec::new();
    for (key, value) in pairs {
        let wrong = |expected: &str| FrontMatterError {
            line: key_line(block, &key, &line_at),
            message: format!("`{key}` must be {expected}"),
        };
        let text = |v: Value| match v {
            Value::Text(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            _ => Err(wrong("text")),
        };
        let list = |v: Value| match v {
            Value::Text(s) => Ok(vec![s]),
            Value::List(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::Text(s) => Ok(s),
                    _ => Err(wrong("text or a list of texts")),
                })
                .collect(),
            _ => Err(wrong("text or a list of texts")),
        };
        match key.as_str() {
            "title" => front.title = text(value)?,
            "date" => front.date = text(value)?,
            "updated" => front.updated = text(value)?,
            "author" | "authors" => front.authors.extend(list(value)?),
            "tags" => front.tags.extend(list(value)?),
            "categories" => categories.extend(list(value)?),
            "summary" => front.summary = text(value)?,
            "slug" => front.slug = text(value)?,
            "id" => front.id = text(value)?,
            "image" => front.image = text(value)?,
            "draft" => {
                front.draft = match value {
                    Value::Bool(b) => b,
                    _ => return Err(wrong("true or false")),
                }
            }
            _ => {}
        }
    }
    front.tags.extend(categories);
    front.tags.retain(|t| !t.trim().is_empty());
    front.authors.retain(|a| !a.trim().is_empty());
    Ok(front)
}

/// The file line where `key` is set, for messages about its value; the block's first line otherwise.
fn key_line(block: &str, key: &str, line_at: &impl Fn(usize) -> usize) -> usize {
    let mut at = 0;
    for line in block.split_inclusive('\n') {
        let rest = line.trim_start().trim_start_matches(['"', '\'']);
        if rest.starts_with(key)
            && rest[key.len()..].trim_start_matches(['"', '\'']).trim_start().starts_with(['=', ':'])
        {
            return line_at(at);
        }
        at += line.len();
    }
    line_at(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_front_matter_is_read_and_the_body_follows() {
        let text = "+++\ntitle = \"Астана\"\ndate = 2024-11-22T10:00:00\ntags = [\"қала\", \"news\"]\n\
                    categories = \"kz\"\ndraft = false\nlayout = \"post\"\n+++\n# Body\n";
        let (front, body) = split(text).unwrap();
        assert_eq!(front.title.as_deref(), Some("Астана"));
        assert_eq!(front.date.as_deref(), Some("2024-11-22T10:00:00"));
        assert_eq!(front.tags, ["қала", "news", "kz"]);
        assert!(!front.draft);
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn yaml_front_matter_is_read() {
        let text = "---\ntitle: \"Москва: новости\"\ndate: 2024-11-22\nauthors:\n  - Айгүл\n  - Иван\ndraft: true\nid: 42\n---\nТекст\n";
        let (front, body) = split(text).unwrap();
        assert_eq!(front.title.as_deref(), Some("Москва: новости"));
        assert_eq!(front.date.as_deref(), Some("2024-11-22"));
        assert_eq!(front.authors, ["Айгүл", "Иван"]);
        assert_eq!(front.id.as_deref(), Some("42"));
        assert!(front.draft);
        assert_eq!(body, "Текст\n");
    }

    #[test]
    fn a_file_without_front_matter_is_all_body() {
        let (front, body) = split("# Just text\n---\nmore").unwrap();
        assert_eq!(front, FrontMatter::default());
        assert_eq!(body, "# Just text\n---\nmore");
    }

    #[test]
    fn errors_name_the_line_in_the_file() {
        let toml = split("+++\ntitle = \"ok\"\ndate = = 2024\n+++\nbody").unwrap_err();
        assert_eq!(toml.line, 3, "{toml}");
        assert!(toml.message.starts_with("invalid TOML front matter"), "{toml}");
        let yaml = split("---\ntitle: ok\ntags: [a, b\n---\nbody").unwrap_err();
        assert!(yaml.message.starts_with("invalid YAML front matter"), "{yaml}");
        assert_eq!(yaml.line, 3, "{yaml}");
        let unclosed = split("---\ntitle: ok\n").unwrap_err();
        assert_eq!(unclosed.line, 1);
        let typed = split("+++\ntitle = \"a\"\ndraft = \"yes\"\n+++\n").unwrap_err();
        assert_eq!((typed.line, typed.message.as_str()), (3, "`draft` must be true or false"));
    }
}
