//! The only code in feedmill that writes output files.
//!
//! Readers and web servers may read a feed at any moment, and a cron run may be killed at any moment, so
//! a file is never written in place: the bytes go to a temporary file in the same folder (same file
//! system, so the rename is atomic), are flushed to disk, and the temp file is renamed over the target;
//! then the folder itself is synced (on Unix) so the rename survives a power cut. A reader sees the old
//! file or the new one, never half of one.
//!
//! A file whose bytes would not change is not touched at all: its mtime stays, so HTTP caches
//! (`Last-Modified`, `ETag` from mtime) and rsync-style deploys see no change.
//!
//! A run writes a dozen files, and a folder that turns out read-only or a disk that fills up halfway
//! must not leave half of them new and half old. So a run [`stage`]s every file first (temp file written
//! and flushed; this is where a full disk or a read-only folder fails, and then every temp file is
//! removed and nothing published has changed), and only then [`commit`]s them all: renames, which need
//! no space and were just shown to be allowed.
//!
//! New files get the usual mode of a new file (`0o666` less the umask, like `std::fs::write`), not the
//! private `0o600` of a temp file, since output is meant to be served. A replaced file keeps its mode
//! (a `feeds.toml` that `import-opml` rewrites may be private on purpose).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// What [`write_if_changed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The file already held exactly these bytes and was left alone.
    Unchanged,
    /// The file was created or replaced.
    Written,
}

/// A file that could not be written. Except for [`WriteError::SyncDir`], the previous file (if any) is
/// intact and no temp file is left behind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("cannot create folder {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The new files are in place, but syncing their folder (`path`) failed, so the renames may not
    /// survive a crash.
    #[error("wrote files in {} but could not sync the folder", path.display())]
    SyncDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Makes `path` hold exactly `bytes`, atomically, creating parent folders as needed; does nothing when
/// it already does.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<WriteOutcome, WriteError> {
    match stage(path, bytes)? {
        None => Ok(WriteOutcome::Unchanged),
        Some(staged) => commit(vec![staged]).map(|_| WriteOutcome::Written),
    }
}

/// New bytes for `path`, on disk in a temp file beside it, not yet in place. Dropped uncommitted, the
/// temp file is removed.
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::TempPath,
    path: PathBuf,
    dir: PathBuf,
}

/// Writes `bytes` to a flushed temp file in `path`'s folder (created as needed), ready for [`commit`];
/// `None` when `path` already holds exactly these bytes.
pub fn stage(path: &Path, bytes: &[u8]) -> Result<Option<Staged>, WriteError> {
    if is_unchanged(path, bytes) {
        return Ok(None);
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir { path: dir.to_path_buf(), source })?;
    let write = |source| WriteError::Write { path: path.to_path_buf(), source };
    // A folder in the way would only fail the rename, after other files were already replaced.
    if path.is_dir() {
        return Err(write(io::Error::new(io::ErrorKind::IsADirectory, "a folder is in the way")));
    }
    let temp = temp_file(dir, path, bytes).map_err(write)?;
    Ok(Some(Staged { temp, path: path.to_path_buf(), dir: dir.to_path_buf() }))
}

/// Renames every staged file over its target, in order, then syncs each folder once. Returns how many
/// were put in place. On an error the files not yet renamed keep their old bytes.
pub fn commit(staged: Vec<Staged>) -> Result<usize, WriteError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let count = staged.len();
    for Staged { temp, path, dir } in staged {
        // `PersistError` owns the temp path and removes it when dropped.
        temp.persist(&path).map_err(|e| WriteError::Write { path: path.clone(), source: e.error })?;
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        sync_dir(&dir).map_err(|source| WriteError::SyncDir { path: dir.clone(), source })?;
    }
    Ok(count)
}

/// True when `path` is a file holding exactly `bytes`. Any error reading it (missing, a folder, no
/// permission) means "write it", and the write then reports the real problem.
fn is_unchanged(path: &Path, bytes: &[u8]) -> bool {
    match fs::metadata(path) {
        // Comparing lengths first spares reading a file that obviously differs.
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => fs::read(path).is_ok_and(|old| old == bytes),
        _ => false,
    }
}

/// Writes `bytes` to a flushed temp file in `dir`, named after `path`. Only its path is kept, so a run
/// with many files staged holds no file descriptors; the temp file is removed on every early return.
fn temp_file(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<tempfile::TempPath> {
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir)?;
    if let Ok(meta) = fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp.into_temp_path())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows cannot open a folder as a file to sync it; `MoveFileEx` there is as durable as it gets.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// Test setup writes directly; only the code under test goes through `write_if_changed`.
    fn put(path: impl AsRef<Path>, bytes: &[u8]) {
        fs::File::create(path).unwrap().write_all(bytes).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn creates_folders_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kz-news/rss.xml");
        assert_eq!(write_if_changed(&path, b"one").unwrap(), WriteOutcome::Written);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(names(&tmp.path().join("kz-news")), ["rss.xml"], "no temp file left");
    }

    #[test]
    fn same_bytes_leave_the_file_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("feed.json");
        put(&path, b"{}\n");
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
        assert_eq!(write_if_changed(&path, b"{}\n").unwrap(), WriteOutcome::Unchanged);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), old);
    }

    #[test]
    fn changed_bytes_replace_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("atom.xml");
        put(&path, b"old, and longer");
        assert_eq!(write_if_changed(&path, b"new").unwrap(), WriteOutcome::Written);
        assert_eq!(fs::read(&path).unwrap(), b"new");
        // Same length, different bytes: the length shortcut must not call it unchanged.
        assert_eq!(write_if_changed(&path, b"NEW").unwrap(), WriteOutcome::Written);
        assert_eq!(fs::read(&path).unwrap(), b"NEW");
        assert_eq!(names(tmp.path()), ["atom.xml"]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_the_usual_mode_not_the_temp_files() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("plain");
        put(&plain, b"x");
        let ours = tmp.path().join("ours");
        write_if_changed(&ours, b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain));
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("feeds.toml");
        put(&path, b"old");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(write_if_changed(&path, b"new").unwrap(), WriteOutcome::Written);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn failed_rename_keeps_the_target_and_removes_the_temp_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("rss.xml");
        fs::create_dir(&path).unwrap();
        put(path.join("inside"), b"keep");
        let err = write_if_changed(&path, b"new").unwrap_err();
        assert!(matches!(&err, WriteError::Write { path: p, .. } if *p == path), "{err:?}");
        assert!(err.to_string().contains("rss.xml"));
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
        assert_eq!(names(tmp.path()), ["rss.xml"], "no temp file left");
    }

    #[cfg(unix)]
    #[test]
    fn read_only_folder_keeps_the_old_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        let path = dir.join("rss.xml");
        put(&path, b"old");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        let result = write_if_changed(&path, b"new");
        // Root ignores permission bits; there the write succeeds and the failure path is covered by
        // `failed_rename_keeps_the_target_and_removes_the_temp_file`.
        let root_bypasses = fs::File::create(dir.join("probe")).is_ok();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        if root_bypasses {
            assert_eq!(result.unwrap(), WriteOutcome::Written);
            return;
        }
        assert!(matches!(result, Err(WriteError::Write { .. })), "{result:?}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(&dir), ["rss.xml"], "no temp file left");
    }

    #[test]
    fn nothing_changes_until_every_file_is_staged() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("all/rss.xml"), tmp.path().join("zz/rss.xml"));
        fs::create_dir(tmp.path().join("all")).unwrap();
        put(&a, b"old a");
        // A file where the folder `zz` should be: even root cannot write through that.
        put(tmp.path().join("zz"), b"in the way");
        let first = stage(&a, b"new a").unwrap().expect("changed");
        let err = stage(&b, b"new b").unwrap_err();
        assert_eq!(err.to_string(), format!("cannot create folder {}", tmp.path().join("zz").display()));
        drop(first);
        assert_eq!(fs::read(&a).unwrap(), b"old a");
        assert_eq!(names(&tmp.path().join("all")), ["rss.xml"], "the staged temp file is gone");

        let staged =
            vec![stage(&a, b"new a").unwrap().unwrap(), stage(&tmp.path().join("c.xml"), b"c").unwrap().unwrap()];
        assert_eq!(fs::read(&a).unwrap(), b"old a", "staged is not published");
        assert_eq!(commit(staged).unwrap(), 2);
        assert_eq!(fs::read(&a).unwrap(), b"new a");
        assert_eq!(names(tmp.path()), ["all", "c.xml", "zz"]);
        assert!(stage(&a, b"new a").unwrap().is_none(), "same bytes stage nothing");
    }

    #[test]
    fn parent_that_is_a_file_is_a_create_dir_error() {
        let tmp = tempfile::tempdir().unwrap();
        put(tmp.path().join("kz-news"), b"");
        let err = write_if_changed(&tmp.path().join("kz-news/rss.xml"), b"x").unwrap_err();
        assert!(matches!(err, WriteError::CreateDir { .. }), "{err:?}");
    }
}
