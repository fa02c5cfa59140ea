//! Import: an OPML subscription list (another reader's export, or feedmill's own `sources.opml`) →
//! `[[sources]]` added to `feeds.toml`, with the file's comments, order and formatting kept.
//!
//! The config is edited as a document (`toml_edit`), never re-serialized from the model, so everything
//! the user wrote stays where it was: new `[categories.X]` tables go after the last category (or before
//! the first source), new `[[sources]]` after the last source. The result must pass the same validation
//! as `feedmill check` before anything is written, and it is written atomically (`emit::write`).
//!
//! How outlines become sources:
//! - Each outline with an `xmlUrl` is a feed; one already in the config (same canonical URL, so
//!   `http://www.x/feed?utm_source=a` is `https://x/feed`) or earlier in the list is not added again; a
//!   feed filed in several folders becomes one source in several categories.
//! - Its name comes from `title`/`text`, as a slug (`Abai.kz — әдеби портал` → `abai-kz-adebi-portal`),
//!   else from the URL's host; a name already taken gets `-2`, `-3`, ….
//! - Its category is the innermost folder around it: one folder level is what feedmill exports and
//!   what most readers have; a deeper tree is flattened to its leaves (`Tech/Rust` → `rust`). The slug
//!   is the folder title transliterated to ASCII (`Жаңалықтар` → `zhanalyktar`), and the title is kept as
//!   `[categories.X] title`. A folder whose title matches an existing category's title or slug joins it;
//!   a title with nothing to transliterate becomes `category`, `category-2`, ….
//! - feedmill's export records the source names and category slugs (`feedmill:name`,
//!   `feedmill:category` in its namespace; `feedmillName`, `feedmillCategory` in older exports), so
//!   export → import gives back the same names and slugs.

pub mod opml;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use crate::config::{is_slug, Config, ConfigErrors};
use crate::emit::write::{write_if_changed, WriteError};
use crate::fetch::Location;
use crate::normalize::urls::canonical;

/// A source the import adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub name: String,
    pub url: String,
    pub categories: Vec<String>,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The new config text.
    pub text: String,
    pub added: Vec<Added>,
    /// Categories declared by the import: slug and title.
    pub categories: Vec<(String, String)>,
    /// Feeds the config already had: their URL and the name of the source that has it.
    pub present: Vec<(String, String)>,
    /// Feeds that could not be added: their URL and why.
    pub skipped: Vec<(String, String)>,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Opml {
        path: PathBuf,
        #[source]
        source: opml::OpmlError,
    },
    #[error("{}: no outline with an xmlUrl: nothing to import", path.display())]
    NoFeeds { path: PathBuf },
    #[error("{origin}: not valid TOML, fix it first")]
    Toml {
        origin: String,
        #[source]
        source: toml_edit::TomlError,
    },
    #[error("{origin}: `{key}` is not a table of tables; cannot add to it")]
    Shape { origin: String, key: &'static str },
    /// The config with the imported sources would not validate; nothing was written.
    #[error("the config with the imported sources would not be valid:\n{0}")]
    Invalid(Box<ConfigErrors>),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Imports the OPML file at `opml_path` into the config at `config_path` (created when missing), unless
/// `dry_run`. Returns what was (or would be) added.
pub fn import_file(opml_path: &Path, config_path: &Path, dry_run: bool) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(opml_path).map_err(|source| ImportError::Read { path: opml_path.into(), source })?;
    let opml_text = crate::decode::decode(&bytes, None).text;
    let feeds = opml::read(&opml_text).map_err(|source| ImportError::Opml { path: opml_path.into(), source })?;
    if feeds.is_empty() {
        return Err(ImportError::NoFeeds { path: opml_path.into() });
    }
    let config_text = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ImportError::Read { path: config_path.into(), source }),
    };
    let dir = Config::base_dir(config_path);
    let imported = import(&config_text, &config_path.display().to_string(), &dir, &feeds)?;
    if !dry_run && !imported.added.is_empty() {
        write_if_changed(config_path, imported.text.as_bytes())?;
    }
    Ok(imported)
}

/// Adds `feeds` to the config text. Pure: `origin` names the config in messages, `base_dir` resolves its
/// relative paths (to compare file sources). The result has passed [`Config::parse`].
pub fn import(
    config_text: &str,
    origin: &str,
    base_dir: &Path,
    feeds: &[opml::OpmlFeed],
) -> Result<Imported, ImportError> {
    let mut doc: DocumentMut =
        config_text.parse().map_err(|source| ImportError::Toml { origin: origin.to_owned(), source })?;
    let existing = Existing::read(&doc, base_dir, origin)?;
    let mut plan = Plan::new(&existing);
    let mut out = Imported::default();
    for feed in feeds {
        plan.add(feed, base_dir, &mut out);
    }
    out.added = plan.added.iter().map(|(a, _)| a.clone()).collect();
    out.categories = plan.new_categories.clone();
    if out.added.is_empty() {
        out.text = config_text.to_owned();
        return Ok(out);
    }
    // Declaring a first category makes every slug in use need a declaration (see `Config`).
    let mut declare = plan.new_categories.clone();
    if existing.declared.is_empty() {
        for slug in &existing.used {
            if !declare.iter().any(|(s, _)| s == slug) {
                declare.push((slug.clone(), String::new()));
            }
        }
    }
    write_categories(&mut doc, &declare, origin)?;
    write_sources(&mut doc, &out.added, origin)?;
    out.text = doc.to_string();
    Config::parse(&out.text, origin, base_dir).map_err(|e| ImportError::Invalid(Box::new(e)))?;
    Ok(out)
}

/// What the config already holds.
struct Existing {
    names: BTreeSet<String>,
    /// URL identity → source name.
    urls: HashMap<String, String>,
    /// Declared categories: slug → title (empty when none is given).
    declared: Vec<(String, String)>,
    /// Slugs the sources use.
    used: BTreeSet<String>,
}

impl Existing {
    fn read(doc: &DocumentMut, base_dir: &Path, origin: &str) -> Result<Existing, ImportError> {
        let mut e =
            Existing { names: BTreeSet::new(), urls: HashMap::new(), declared: Vec::new(), used: BTreeSet::new() };
        if let Some(item) = doc.get("sources") {
            let sources =
                item.as_array_of_tables().ok_or(ImportError::Shape { origin: origin.to_owned(), key: "sources" })?;
            for s in sources.iter() {
                let name = s.get("name").and_then(Item::as_str).unwrap_or_default().trim().to_owned();
                if let Some(url) = s.get("url").and_then(Item::as_str) {
                    e.urls.insert(identity(url, base_dir), name.clone());
                }
                if let Some(cats) = s.get("categories").and_then(Item::as_array) {
                    e.used.extend(cats.iter().filter_map(|c| c.as_str()).map(str::to_owned));
                }
                e.names.insert(name);
            }
        }
        if let Some(item) = doc.get("categories") {
            let cats =
                item.as_table_like().ok_or(ImportError::Shape { origin: origin.to_owned(), key: "categories" })?;
            for (slug, c) in cats.iter() {
                let title = c.get("title").and_then(Item::as_str).unwrap_or_default().to_owned();
                e.declared.push((slug.to_owned(), title));
            }
        }
        Ok(e)
    }
}

/// The sources and categories being added.
struct Plan<'a> {
    existing: &'a Existing,
    /// Each added source with its URL identity.
    added: Vec<(Added, String)>,
    names: BTreeSet<String>,
    new_categories: Vec<(String, String)>,
    /// Folder title → the slug it was given, so one folder is one category.
    folders: HashMap<String, String>,
}

impl<'a> Plan<'a> {
    fn new(existing: &'a Existing) -> Self {
        Plan {
            existing,
            added: Vec::new(),
            names: existing.names.clone(),
            new_categories: Vec::new(),
            folders: HashMap::new(),
        }
    }

    fn add(&mut self, feed: &opml::OpmlFeed, base_dir: &Path, out: &mut Imported) {
        if let Err(e) = Location::parse(&feed.xml_url, base_dir) {
            out.skipped.push((feed.xml_url.clone(), e.to_string()));
            return;
        }
        let id = identity(&feed.xml_url, base_dir);
        if let Some(name) = self.existing.urls.get(&id) {
            if !out.present.iter().any(|(u, _)| *u == feed.xml_url) {
                out.present.push((feed.xml_url.clone(), name.clone()));
            }
            return;
        }
        let category = feed.folders.last().map(|f| self.category(f));
        if let Some((added, _)) = self.added.iter_mut().find(|(_, other)| *other == id) {
            // The same feed in another folder: one source, one more category.
            if let Some(c) = category {
                if !added.categories.contains(&c) {
                    added.categories.push(c);
                }
            }
            return;
        }
        let base = feed
            .name_hint
            .as_deref()
            .filter(|n| is_slug(n))
            .map(str::to_owned)
            .or_else(|| feed.title.as_deref().map(slugify).filter(|s| !s.is_empty()))
            .or_else(|| url::Url::parse(&feed.xml_url).ok()?.host_str().map(slugify).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "source".to_owned());
        let name = unique(&base, |n| self.names.contains(n));
        self.names.insert(name.clone());
        self.added.push((Added { name, url: feed.xml_url.clone(), categories: category.into_iter().collect() }, id));
    }

    /// The slug of a folder: an existing category with its title or slug, else a new one.
    fn category(&mut self, folder: &opml::Folder) -> String {
        if let Some(slug) = self.folders.get(&folder.title) {
            return slug.clone();
        }
        let hint = folder.slug_hint.as_deref().filter(|s| is_slug(s)).map(str::to_owned);
        let derived = slugify(&folder.title);
        let declared = &self.existing.declared;
        let existing = declared
            .iter()
            .find(|(slug, title)| Some(slug) == hint.as_ref() || (!folder.title.is_empty() && *title == folder.title))
            .or_else(|| declared.iter().find(|(slug, _)| hint.is_none() && !derived.is_empty() && *slug == derived))
            .map(|(slug, _)| slug.clone())
            .or_else(|| {
                let wanted = hint.as_ref().unwrap_or(&derived);
                self.existing.used.contains(wanted).then(|| wanted.clone())
            });
        let slug = match existing {
            Some(slug) => slug,
            None => {
                let taken =
                    |s: &str| self.new_categories.iter().any(|(n, _)| n == s) || declared.iter().any(|(n, _)| n == s);
                let slug = match (hint, derived.is_empty()) {
                    (Some(h), _) => h,
                    // Two folders whose titles slug alike ("News", "news") are one category.
                    (None, false) => derived,
                    (None, true) => unique("category", taken),
                };
                if !self.new_categories.iter().any(|(s, _)| *s == slug) {
                    self.new_categories.push((slug.clone(), folder.title.clone()));
                }
                slug
            }
        };
        self.folders.insert(folder.title.clone(), slug.clone());
        slug
    }
}

/// What makes two configured URLs the same feed: the canonical URL for http(s), the resolved path for files.
fn identity(url: &str, base_dir: &Path) -> String {
    match Location::parse(url, base_dir) {
        Ok(Location::Http(u)) => canonical(&u),
        Ok(Location::File(p)) => format!("file:{}", p.display()),
        Err(_) => url.trim().to_owned(),
    }
}

/// `base`, or `base-2`, `base-3`, … : the first that is not `taken`.
fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|c| !taken(c)).unwrap_or_else(|| base.to_owned())
}

/// A title as a slug: transliterated to ASCII (deunicode: `Жаңалықтар` → `zhanalyktar`, `🔥` → `fire`),
/// lowercased, every run of other characters one `-`, apostrophes dropped (deunicode writes `қ` as
/// `k'`), at most 48 characters (cut at a `-`). Empty when nothing in the title has an ASCII form.
pub fn slugify(title: &str) -> String {
    // deunicode has `@` for the Kazakh schwa; the Latin alphabet of 2021 writes it `ä`.
    let title = title.replace(['ә', 'Ә'], "a");
    let ascii = deunicode::deunicode_with_tofu(&title, "-");
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' {
            continue;
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.len() > 48 {
        let cut = out[..48].rfind('-').filter(|&i| i >= 16).unwrap_or(48);
        out.truncate(cut);
    }
    out.trim_end_matches('-').to_owned()
}

/// Declares `cats` (slug, title; an empty title is left out) after the last category table, or before
/// the first source when there is none.
fn write_categories(doc: &mut DocumentMut, cats: &[(String, String)], origin: &str) -> Result<(), ImportError> {
    if cats.is_empty() {
        return Ok(());
    }
    let mut category_positions = Vec::new();
    let mut source_positions = Vec::new();
    if let Some(t) = doc.get("categories").and_then(Item::as_table) {
        tables(t, &mut |t| category_positions.extend(t.position()));
    }
    if let Some(a) = doc.get("sources").and_then(Item::as_array_of_tables) {
        for t in a.iter() {
            source_positions.extend(t.position());
        }
    }
    let at = match (category_positions.iter().max(), source_positions.iter().min()) {
        (Some(last), _) => last + 1,
        (None, Some(first)) => *first,
        (None, None) => max_position(doc) + 1,
    };
    shift_positions(doc.as_table_mut(), at, cats.len());
    // The table that now follows the new ones may have been the first in the file, with no blank line.
    separate(doc.as_table_mut(), at + cats.len());
    let categories = doc.entry("categories").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let categories =
        categories.as_table_mut().ok_or(ImportError::Shape { origin: origin.to_owned(), key: "categories" })?;
    for (i, (slug, title)) in cats.iter().enumerate() {
        let mut t = Table::new();
        if !title.is_empty() {
            t.insert("title", value(title.as_str()));
        }
        t.set_position(at + i);
        categories.insert(slug, Item::Table(t));
    }
    Ok(())
}

/// Appends a `[[sources]]` table per source after everything else.
fn write_sources(doc: &mut DocumentMut, added: &[Added], origin: &str) -> Result<(), ImportError> {
    let first = max_position(doc) + 1;
    let sources = doc.entry("sources").or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    let sources =
        sources.as_array_of_tables_mut().ok_or(ImportError::Shape { origin: origin.to_owned(), key: "sources" })?;
    for (position, a) in (first..).zip(added) {
        let mut t = Table::new();
        t.insert("name", value(a.name.as_str()));
        t.insert("url", value(a.url.as_str()));
        if !a.categories.is_empty() {
            t.insert("categories", value(a.categories.iter().collect::<Array>()));
        }
        t.set_position(position);
        sources.push(t);
    }
    Ok(())
}

/// Calls `f` on `table` and every table nested in it, arrays of tables included.
fn tables<'t>(table: &'t Table, f: &mut dyn FnMut(&'t Table)) {
    f(table);
    for (_, item) in table.iter() {
        match item {
            Item::Table(t) => tables(t, f),
            Item::ArrayOfTables(a) => a.iter().for_each(|t| tables(t, f)),
            _ => {}
        }
    }
}

/// Puts a blank line before the table at `position` when nothing separates it from the one above.
fn separate(table: &mut Table, position: usize) {
    if table.position() == Some(position) {
        let bare =
            table.decor().prefix().and_then(|p| p.as_str()).is_none_or(|p| p.trim().is_empty() && !p.contains('\n'));
        if bare {
            table.decor_mut().set_prefix("\n");
        }
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => separate(t, position),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| separate(t, position)),
            _ => {}
        }
    }
}

fn max_position(doc: &DocumentMut) -> usize {
    let mut max = 0;
    tables(doc.as_table(), &mut |t| max = max.max(t.position().unwrap_or(0)));
    max
}

/// Moves every table at `from` or later down by `by` places, to make room for new ones.
fn shift_positions(table: &mut Table, from: usize, by: usize) {
    if let Some(p) = table.position().filter(|&p| p >= from) {
        table.set_position(p + by);
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => shift_positions(t, from, by),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| shift_positions(t, from, by)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
