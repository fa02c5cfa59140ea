//! Store: what feedmill remembers between runs, in one embedded SQLite file.
//!
//! Per source: HTTP validators, the hash of the last body, fetch times, the last error, failures in a
//! row, when it may be fetched next, the permanent-redirect evidence, and whether it is gone (410).
//! Per entry: its published id and first-seen time (both fixed forever once written), its identity
//! keys and near-duplicate signature, when it was last seen in its source's feed, and the normalized
//! entry as JSON, so outputs are rebuilt from the store and a source that fails or answers 304 keeps
//! its entries in them.
//!
//! The store keeps; dedup decides: which stored entry a parsed one is (`dedup::history`), which
//! stories the entries make (`dedup::stories`) and each entry's signature are decided above, in the
//! pipeline, which calls dedup over the interfaces this backend lends it
//! ([`SourceEntries`](crate::dedup::history::SourceEntries) from [`RunWrite::add`],
//! [`StoryStore`](crate::dedup::stories::StoryStore) from [`Record::merge_stories`]).
//!
//! What the rest of the program may ask of a backend is the traits of `traits.rs` ([`SourceStates`],
//! [`Entries`], [`Stories`], [`Outputs`], [`Meta`]); this file opens the database and holds the run's
//! inputs, `sources.rs` the source state, `entries.rs` the entry queries and retention, `stories.rs`
//! the kept stories, `recorder.rs` and `source_entries.rs` the run's write.
//!
//! Every run's changes are applied in one transaction ([`Record::recorder`]), and the database runs in WAL
//! mode with `synchronous = FULL`: a process killed at any moment leaves either the previous run's state
//! or the new one, never a mix. The pipeline alone writes during a run; `cmd/` opens the store (and
//! reads it for `status` and `explain`), and `serve` reads it read-only for `/metrics`.
//!
//! Another feedmill never writes the same database at the same time (the run lock, [`RunLock`]), but
//! another program may: a `sqlite3` shell left in a transaction, a backup. A write then waits up to the
//! busy timeout (`[state] busy_timeout`, 10 s by default) and fails with [`StoreError::Locked`]; the
//! transaction is rolled back whole, so the database stays as the last run left it.

mod bulk;
mod entries;
mod lock;
pub mod migrate;
mod migrations;
pub mod postgres;
mod recorder;
mod source_entries;
mod sources;
mod stories;
mod traits;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::dedup::near::{self, Signature};
use crate::dedup::Listed;

pub use crate::dedup::history::Reconciled;
pub use entries::{FilteredEntry, StoredEntry};
pub use lock::{LockError, RunLock};
pub use recorder::Recorder;
pub use sources::{Health, RawBody, RedirectSeen, Renamed, SourceState};
pub use stories::{StoredStory, StoryHead};
pub use traits::{
    etag_of, Backend, Candidate, ClaimAsk, Claimed, Entries, Leases, Listings, Meta, Outputs, Publish, PublishedFile,
    Reconcile, Record, RunWrite, Signer, SourceStates, Stories,
};

#[cfg(test)]
use entries::ENTRY_COUNTS_KEY;
use entries::{bump_content_version, hex};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot create the state folder {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state database {}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database {} was written by a newer feedmill (schema {found}, this one knows {known})", path.display())]
    TooNew { path: PathBuf, found: usize, known: usize },
    /// Another program held a lock on the database for longer than the busy timeout. (SQLite's own
    /// words, "database is locked", add nothing to this.)
    #[error(
        "state database {} is locked by another program; gave up after {}s (let it finish, or raise [state] busy_timeout)",
        path.display(),
        waited.as_secs_f64()
    )]
    Locked { path: PathBuf, waited: Duration },
    #[error("state database {} has an older schema ({found}, this feedmill knows {known}); a `feedmill run` upgrades it", path.display())]
    TooOld { path: PathBuf, found: usize, known: usize },
    /// The PostgreSQL state (#21), named by its redacted URL.
    #[error(transparent)]
    Postgres(Box<postgres::PgError>),
}

pub use crate::config::DEFAULT_BUSY_TIMEOUT;

/// A SQLite error on the database at `path`: "locked" when another connection's lock outlasted
/// `busy_timeout`, the plain error otherwise.
fn sqlite_error(path: &Path, busy_timeout: Duration, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match source.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => StoreError::Locked { path: path.to_owned(), waited: busy_timeout },
        _ => StoreError::Sqlite { path: path.to_owned(), source },
    }
}

/// What one source contributed to a run.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub name: String,
    pub configured_url: String,
    pub state: SourceState,
    pub entries: EntriesUpdate,
    /// The entries `[filters]` dropped from the document parsed this run (`None`: not parsed, the
    /// last ones stand).
    pub filtered: Option<Vec<crate::filter::Dropped>>,
}

#[derive(Debug, Clone)]
pub enum EntriesUpdate {
    /// The feed was parsed: these are its entries now, in feed order, ids assigned by `dedup::identify`.
    Parsed(Vec<Listed>),
    /// 304, or a body identical to the last one: the feed still lists what it listed.
    Unchanged,
    /// Not fetched (not due) or failed: nothing is known about the feed now.
    Unknown,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
}

fn ts(d: DateTime<Utc>) -> i64 {
    d.timestamp()
}

fn from_ts(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date. Whenever
    /// another program holds a lock on it, waits up to `busy_timeout`, then fails with
    /// [`StoreError::Locked`].
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let conn = Connection::open(path).map_err(|e| sqlite_error(path, busy_timeout, e))?;
        Store::init(conn, path.to_owned(), busy_timeout)
    }

    /// Opens an existing database for reading only, for `feedmill serve`'s metrics and a run's
    /// [`Listings`]: nothing is created, migrated or written, so it never competes with a `run` for the
    /// write lock. A database whose schema is not this feedmill's (older or newer) is an error.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite { path: path.to_owned(), source };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        // Reads in WAL mode wait only for a checkpoint's brief lock.
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        let known = migrations::MIGRATIONS.len();
        if version > known {
            return Err(StoreError::TooNew { path: path.to_owned(), found: version, known });
        }
        if version < known {
            return Err(StoreError::TooOld { path: path.to_owned(), found: version, known });
        }
        Ok(Store { conn, path: path.to_owned(), busy_timeout: Duration::from_secs(5) })
    }

    /// A throwaway store, for tests and for `feedmill parse`.
    pub fn in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Sqlite { path: path.clone(), source })?;
        Store::init(conn, path, DEFAULT_BUSY_TIMEOUT)
    }

    fn init(mut conn: Connection, path: PathBuf, busy_timeout: Duration) -> Result<Store, StoreError> {
        let err = |source| sqlite_error(&path, busy_timeout, source);
        conn.busy_timeout(busy_timeout).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        // Room for every statement a run repeats (recording, merging stories), so none is parsed twice.
        conn.set_prepared_statement_cache_capacity(64);
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        let known = migrations::MIGRATIONS.len();
        if version > known {
            return Err(StoreError::TooNew { path, found: version, known });
        }
        for (i, sql) in migrations::MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            if i + 1 == migrations::BANDS {
                fill_bands(&tx).map_err(err)?;
            }
            tx.pragma_update(None, "user_version", i + 1).map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(Store { conn, path, busy_timeout })
    }

    /// A transaction that takes the write lock at once. A deferred one would read first and then ask to
    /// write; SQLite refuses that upgrade while another connection writes without calling the busy
    /// handler (waiting could deadlock), so the busy timeout would never apply.
    /// A free function over the connection, so a caller can still lend out the store's other fields.
    fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| sqlite_error(&self.path, self.busy_timeout, source)
    }

    /// `PRAGMA integrity_check` says "ok".
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let r: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(self.err())?;
        Ok(r == "ok")
    }
}

impl Meta for Store {
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(self.err())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(drop)
            .map_err(self.err())
    }
}

impl Outputs for Store {}

/// One writer already: the run lock makes one publisher, and `serve` reads the folder itself.
impl Publish for Store {
    type PublishLock = ();

    fn lock_publish(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn publish(&self, _lock: &mut (), _files: &[PublishedFile]) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The band tags of the entries signed before migration 7: read from their signatures, once.
fn fill_bands(tx: &Transaction) -> rusqlite::Result<()> {
    // In batches read before they are written: rows updated under an open cursor may be met twice or
    // not at all.
    let mut select = tx.prepare(
        "SELECT rowid, signature FROM entries WHERE rowid > ?1 AND signature IS NOT NULL ORDER BY rowid LIMIT 4096",
    )?;
    let mut update = tx.prepare("UPDATE entries SET bands = ?2 WHERE rowid = ?1")?;
    let mut after = i64::MIN;
    loop {
        let batch: Vec<(i64, Vec<u8>)> =
            select.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        let Some(&(last, _)) = batch.last() else { return Ok(()) };
        for (rowid, signature) in batch {
            let bands = Signature::from_bytes(&signature).map_or_else(|_| Vec::new(), |s| near::bands_to_bytes(&s));
            update.execute(params![rowid, bands])?;
        }
        after = last;
    }
}

/// `execute` through the connection's statement cache: a run writes thousands of sources with the same
/// few statements, and parsing their SQL each time was a quarter of an all-304 run at 10,000 sources.
fn exec(tx: &Transaction, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests;
