//! The run lock: one `run` or `watch` at a time per state database.
//!
//! SQLite keeps the database consistent when two processes write it, but two runs at once would still
//! fetch every source twice, decide "new" from the same old state and race to write the outputs: a cron
//! `run` that overlaps the previous one, or a `watch` left running beside a manual `run`. So `run` and
//! `watch` hold an exclusive advisory lock on `<state>.lock` (`.feedmill/state.db.lock`) for their whole
//! life. The operating system drops the lock when the process ends, however it ends (`kill -9`
//! included): the file may stay behind, the lock never does, so there is no stale lock to clean up. The
//! holder writes its pid into the file, so the process turned away can say who holds it. The read-only
//! commands (`status`, `explain`, `check`) do not take it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Held for as long as this value lives.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is held by another feedmill{} working on the same state; let it finish, or pass --wait to wait for it",
        path.display(),
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Held { path: PathBuf, pid: Option<u32> },
}

impl RunLock {
    /// The lock file beside the state database `state`: `state.db` → `state.db.lock`.
    fn path_for(state: &Path) -> PathBuf {
        let mut name = state.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        state.with_file_name(name)
    }

    /// Takes the lock for the state database `state`, or says who holds it.
    pub fn try_acquire(state: &Path) -> Result<RunLock, LockError> {
        let (path, file) = open(state)?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock::holding(file)),
            Err(TryLockError::WouldBlock) => Err(LockError::Held { pid: holder(&path), path }),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }

    /// Takes the lock, waiting for whoever holds it to finish.
    pub fn acquire_waiting(state: &Path) -> Result<RunLock, LockError> {
        let (path, file) = open(state)?;
        file.lock().map_err(|source| LockError::Io { path, source })?;
        Ok(RunLock::holding(file))
    }

    fn holding(mut file: File) -> RunLock {
        // Only to name the holder in the message of the next one turned away: a run goes on without it.
        let written = file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id()));
        if let Err(e) = written {
            tracing::debug!("cannot write the pid into the lock file: {e}");
        }
        RunLock { _file: file }
    }
}

fn open(state: &Path) -> Result<(PathBuf, File), LockError> {
    let path = RunLock::path_for(state);
    let io = |source| LockError::Io { path: path.clone(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Not truncated on open: the pid in it belongs to the holder until the lock is ours.
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    Ok((path, file))
}

/// The pid the holder wrote; `None` if it has not written it yet (or the system forbids reading a locked
/// file, as Windows does).
fn holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state/state.db");
        assert_eq!(RunLock::path_for(&state), dir.path().join("state/state.db.lock"));

        let held = RunLock::try_acquire(&state).unwrap();
        let lock_file = RunLock::path_for(&state);
        assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), format!("{}\n", std::process::id()));
        let err = RunLock::try_acquire(&state).unwrap_err();
        assert!(matches!(&err, LockError::Held { pid: Some(p), .. } if *p == std::process::id()), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is held by another feedmill (pid {}) working on the same state; let it finish, or pass --wait to wait for it",
                lock_file.display(),
                std::process::id()
            )
        );

        drop(held);
        let again = RunLock::try_acquire(&state).unwrap();
        drop(again);
        assert!(RunLock::acquire_waiting(&state).is_ok());
    }
}
