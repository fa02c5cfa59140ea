//! `feedmill init`: a commented starter `feeds.toml`, one example of each kind of source.
//!
//! The starter is a file in the source tree (`starter.toml`), so it reads as the user will see it, and
//! a test holds it to what `feedmill check` accepts. It is never written over an existing file: a
//! config is the user's work, and `init` run twice by mistake must not lose it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The starter config, with a feed, an html and a folder source, a category and the output settings.
pub const STARTER: &str = include_str!("starter.toml");

/// Why the starter could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    #[error("{} already exists; `feedmill init` never overwrites a config", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes [`STARTER`] to `path`, which must not exist yet.
pub fn write(path: &Path) -> Result<(), InitError> {
    let write_error = |source| InitError::Write { path: path.to_owned(), source };
    // `create_new` refuses an existing file (or a symlink) in the same step that creates it.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            InitError::Exists { path: path.to_owned() }
        } else {
            write_error(e)
        }
    })?;
    file.write_all(STARTER.as_bytes()).and_then(|()| file.sync_all()).map_err(write_error)
}

#[cfg(test)]
// Tests write their fixture files directly; the guardrail is about feedmill's own output files.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use crate::config::{Config, SourceKind};

    #[test]
    fn the_starter_is_a_valid_config_with_one_source_of_each_kind() {
        let config = Config::parse(STARTER, "feeds.toml", Path::new("/srv/feeds")).unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let kinds: Vec<&str> = config
            .sources
            .iter()
            .map(|s| match s.kind {
                SourceKind::Feed { .. } => "feed",
                SourceKind::Html { .. } => "html",
                SourceKind::Sitemap { .. } => "sitemap",
                SourceKind::Folder(_) => "folder",
            })
            .collect();
        assert_eq!(kinds, ["feed", "html", "sitemap", "folder"]);
        assert_eq!(config.categories.len(), 1);
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        write(&path).unwrap();
        std::fs::write(&path, "# mine\n").unwrap();
        let err = write(&path).unwrap_err();
        assert!(matches!(err, InitError::Exists { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    }
}
