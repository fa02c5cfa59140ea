//! A local folder of articles as a source (`kind = "folder"`): its listing stands for its body.
//!
//! [`list`] walks the folder (subfolders too, hidden names skipped) for Markdown and HTML files and
//! returns them sorted by relative path. The listing — each file's relative path, size and modification
//! time, one line each — is the [`Fetched::Body`] handed to the pipeline, so the byte-identical check
//! that spares an unchanged feed its parse spares an unchanged folder its reading: a run reads the
//! files ([`read`]) only when one was added, removed, or written since the last run.
//!
//! Each file is capped at `max_body_size` like any body, and the walk stops at
//! [`MAX_FILES`](crate::model::MAX_ENTRIES) files and [`MAX_DEPTH`] levels, so a folder pointed at `/`
//! cannot hold a run.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{Body, FetchError, FetchErrorKind, FetchMeta, Fetched, Validators};

/// File name extensions read as articles (compared ignoring case).
pub const EXTENSIONS: &[&str] = &["md", "markdown", "html", "htm"];
/// Subfolders deeper than this are not walked.
pub const MAX_DEPTH: usize = 16;

/// One article file found in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFile {
    /// Relative to the folder, `/`-separated: `2024/11-22-ekspo.md`.
    pub path: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl FolderFile {
    pub fn modified_utc(&self) -> Option<DateTime<Utc>> {
        self.modified.map(DateTime::<Utc>::from)
    }
}

/// The article files under `dir`, sorted by relative path.
pub fn list(dir: &Path) -> Result<Vec<FolderFile>, FetchError> {
    let mut files = Vec::new();
    walk(dir, "", 0, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<FolderFile>) -> Result<(), FetchError> {
    let io_error = |source| FetchError::file(dir.to_owned(), FetchErrorKind::File { source });
    for item in std::fs::read_dir(dir).map_err(io_error)? {
        let item = item.map_err(io_error)?;
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || out.len() >= crate::model::MAX_ENTRIES {
            continue;
        }
        let path = item.path();
        // Follows symlinks: a folder of articles linked in from elsewhere is still the publisher's.
        let meta = std::fs::metadata(&path)
            .map_err(|source| FetchError::file(path.clone(), FetchErrorKind::File { source }))?;
        let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, &relative, depth + 1, out)?;
            }
        } else if is_article(&name) {
            out.push(FolderFile { path: relative, size: meta.len(), modified: meta.modified().ok() });
        }
    }
    Ok(())
}

fn is_article(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The listing as a body: `salt` (what else the entries depend on, such as the URL template) first, then
/// one `path\tsize\tmtime` line per file, mtime in nanoseconds so an edit within the second shows.
pub fn listing_body(files: &[FolderFile], salt: &str, elapsed: std::time::Duration) -> Fetched {
    let mut text = format!("{salt}\n");
    for f in files {
        let nanos = f.modified.and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        text.push_str(&format!("{}\t{}\t{nanos}\n", f.path, f.size));
    }
    Fetched::Body(Body {
        bytes: text.into_bytes(),
        content_type: None,
        validators: Validators::default(),
        meta: FetchMeta::for_file(elapsed),
    })
}

/// Lists `dir` and returns its listing as a body (see the module docs).
pub async fn fetch(dir: &Path, salt: &str) -> Result<Fetched, FetchError> {
    let started = Instant::now();
    let owned = dir.to_owned();
    let files = tokio::task::spawn_blocking(move || list(&owned)).await.map_err(|e| {
        let source = std::io::Error::other(format!("folder reader crashed: {e}"));
        FetchError::file(dir.to_owned(), FetchErrorKind::File { source })
    })??;
    Ok(listing_body(&files, salt, started.elapsed()))
}

/// Reads every listed file, at most `limit` bytes each. A file that cannot be read (gone since the
/// listing, too large, no permission) is a warning naming it; the others are read.
pub fn read(dir: &Path, files: Vec<FolderFile>, limit: u64) -> (Vec<(FolderFile, Vec<u8>)>, Vec<String>) {
    let mut read = Vec::with_capacity(files.len());
    let mut warnings = Vec::new();
    for f in files {
        let path: PathBuf = dir.join(&f.path);
        if f.size > limit {
            warnings.push(format!("{}: file larger than the {limit}-byte limit; skipped", f.path));
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() as u64 > limit => {
                warnings.push(format!("{}: file larger than the {limit}-byte limit; skipped", f.path));
            }
            Ok(bytes) => read.push((f, bytes)),
            Err(e) => warnings.push(format!("{}: cannot read: {e}; skipped", f.path)),
        }
    }
    (read, warnings)
}

#[cfg(test)]
// Tests write their fixture files directly; the guardrail is about feedmill's own output files.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn lists_articles_sorted_and_skips_hidden_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("2024")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for name in ["b.md", "a.HTML", "2024/c.markdown", ".hidden.md", ".git/x.md", "notes.txt", "pic.png"] {
            std::fs::write(root.join(name), "x").unwrap();
        }
        let names: Vec<String> = list(root).unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(names, ["2024/c.markdown", "a.HTML", "b.md"]);
    }

    #[test]
    fn the_listing_changes_when_a_file_or_the_salt_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "one").unwrap();
        let body = |salt: &str| match listing_body(&list(dir.path()).unwrap(), salt, Default::default()) {
            Fetched::Body(b) => b.bytes,
            Fetched::NotModified { .. } => unreachable!("a listing is always a body"),
        };
        let first = body("t");
        assert_eq!(first, body("t"));
        assert_ne!(first, body("u"));
        std::fs::write(dir.path().join("a.md"), "longer").unwrap();
        assert_ne!(first, body("t"));
    }

    #[test]
    fn a_missing_folder_fails_naming_it() {
        let err = list(Path::new("/nonexistent/feedmill-articles")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/feedmill-articles"), "{err}");
    }
}
