//! Store: what feedmill remembers between runs, in one embedded SQLite file.
//!
//! Per source: HTTP validators, the hash of the last body, fetch times, the last error, failures in a
//! row, when it may be fetched next, the permanent-redirect evidence, and whether it is gone (410). Per entry: its published id
//! and first-seen time (both fixed forever once written), its identity keys and near-duplicate
//! signature, when it was last seen in its source's feed, and the normalized entry as JSON, so outputs
//! are rebuilt from the store and a source that fails or answers 304 keeps its entries in them.
//!
//! The store keeps; dedup decides: which stored entry a parsed one is (`dedup::history`), which
//! stories the entries make (`dedup::stories`) and each entry's signature are decided above, in the
//! pipeline, which calls dedup over the interfaces this backend lends it
//! ([`SourceEntries`](crate::dedup::history::SourceEntries) from [`Recorder::add`],
//! [`StoryStore`](crate::dedup::stories::StoryStore) from [`Store::merge_stories`]).
//!
//! Every run's changes are applied in one transaction ([`Store::record`]), and the database runs in WAL
//! mode with `synchronous = FULL`: a process killed at any moment leaves either the previous run's state
//! or the new one, never a mix. The pipeline is the only caller.
//!
//! Another feedmill never writes the same database at the same time (the run lock, [`RunLock`]), but
//! another program may: a `sqlite3` shell left in a transaction, a backup. A write then waits up to the
//! busy timeout (`[state] busy_timeout`, 10 s by default) and fails with [`StoreError::Locked`]; the
//! transaction is rolled back whole, so the database stays as the last run left it.

mod bulk;
mod lock;
mod migrations;
mod recorder;
mod source_entries;
mod stories;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::dedup::near::{self, Signature};
use crate::dedup::Listed;
use crate::fetch::Validators;
use crate::model::Entry;
use crate::normalize::RawDigest;
use url::Url;

pub use crate::dedup::history::Reconciled;
pub use lock::{LockError, RunLock};
pub use recorder::{Reconcile, Recorder, Signer};
pub use stories::{StoredStory, StoryHead};

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
}

/// How long a write waits for another program's lock on the database before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite error on the database at `path`: "locked" when another connection's lock outlasted
/// `busy_timeout`, the plain error otherwise.
fn sqlite_error(path: &Path, busy_timeout: Duration, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match source.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => StoreError::Locked { path: path.to_owned(), waited: busy_timeout },
        _ => StoreError::Sqlite { path: path.to_owned(), source },
    }
}

/// Evidence that a source has moved: the same permanent redirect, seen `count` times since `first_seen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSeen {
    pub target: String,
    pub first_seen: DateTime<Utc>,
    pub count: u32,
}

/// What is remembered about one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceState {
    /// The URL the config named when this state was saved; a different URL now means a fresh start.
    pub configured_url: Option<String>,
    /// A permanent redirect target adopted after consistent evidence; fetched instead of the configured URL.
    pub url_in_use: Option<String>,
    pub validators: Validators,
    /// SHA-256 of the last body parsed; an identical body is not parsed again.
    pub body_hash: Option<Vec<u8>>,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failed fetches in a row.
    pub failures: u32,
    /// Earliest time the source should be fetched again; `None`: any time.
    pub next_fetch: Option<DateTime<Utc>>,
    pub redirect: Option<RedirectSeen>,
    /// RSS `skipHours` (0–23, GMT) and `skipDays` (English day names) from the last parse.
    pub skip_hours: Vec<u8>,
    pub skip_days: Vec<String>,
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// When the source first answered 410 Gone: it is dead, and not fetched again while the config
    /// names the same URL. Cleared by a later success (`run --force` asks again).
    pub gone_since: Option<DateTime<Utc>>,
    /// The source's stable identity ([`Store::identify_sources`]): its name when first seen, kept
    /// through renames and new URLs; the ids derived for its entries start with it.
    pub source_key: Option<String>,
    /// What shaped its stored entries (`pipeline::source::shaping_digest`); `None` before it was read
    /// by a feedmill that recorded it.
    pub config_digest: Option<String>,
    /// A body read this run, to keep as the source's last one; `None` keeps the stored one. Never
    /// loaded by [`Store::sources`]: [`Store::raw_body`] reads it when it is needed.
    pub raw: Option<RawBody>,
}

/// The last body a source was read from, kept deflated (feeds and pages are text, which deflate
/// shrinks several times over, and it is read back only when the source's config changes), so a
/// changed config re-reads the source without asking its server again. At most `max_body_size`
/// before deflating, like any body fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody {
    deflated: Vec<u8>,
    pub content_type: Option<String>,
    /// Where it was read from, after redirects: what its relative links resolve against.
    pub url: Option<String>,
}

impl RawBody {
    pub fn new(bytes: &[u8], content_type: Option<String>, url: Option<String>) -> RawBody {
        use std::io::Write as _;
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into a Vec cannot fail; were it to, nothing is kept and the source is fetched again.
        let deflated: Vec<u8> = encoder.write_all(bytes).and_then(|()| encoder.finish()).unwrap_or_default();
        RawBody { deflated, content_type, url }
    }

    /// The body's bytes; `None` when what is stored does not inflate (it is then fetched again).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        use std::io::Read as _;
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(self.deflated.as_slice()).read_to_end(&mut out).ok()?;
        (!out.is_empty()).then_some(out)
    }
}

/// A source the config renamed: its state, entries and stories now go by `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// A source's URL or path as [`Store::identify_sources`] compares them: canonical for a URL, so a
/// renamed source whose URL gained `www.` or a tracking parameter is still found.
fn comparable_location(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => crate::normalize::urls::canonical(&u),
        _ => location.to_owned(),
    }
}

/// A source's health as `index.html` shows it: failing, the error while failing, the day of the last
/// success ([`Store::health`]).
pub type Health = (bool, Option<String>, Option<chrono::NaiveDate>);

impl SourceState {
    /// When the source at `configured_url` went dead, if it did; a state saved for another URL says
    /// nothing about this one.
    pub fn dead_since(&self, configured_url: &str) -> Option<DateTime<Utc>> {
        self.gone_since.filter(|_| self.configured_url.as_deref() == Some(configured_url))
    }

    /// When the source is due next: the time its schedule or backoff set, else `default_interval` after
    /// its last fetch. `None`: due whenever asked (never fetched, or no default), or never (dead).
    pub fn next_due(&self, configured_url: &str, default_interval: Option<Duration>) -> Option<DateTime<Utc>> {
        if self.dead_since(configured_url).is_some() {
            return None;
        }
        self.next_fetch.or_else(|| Some(self.last_fetch? + default_interval?))
    }
}

/// An entry as kept in the store.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub entry: Entry,
    pub last_seen: DateTime<Utc>,
    /// `None` when it was never computed or was made by another signature version.
    pub signature: Option<Signature>,
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

/// An entry the filters dropped, as stored: which source, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredEntry {
    pub source: String,
    pub guid: Option<String>,
    pub url: Option<String>,
    pub title: String,
    pub reason: String,
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

    /// What `index.html` shows of each source's health, by name: failing or not, its error while
    /// failing, the day of its last success. Every run reads it for its build key, so it reads three
    /// columns rather than [`sources`](Self::sources)' nineteen.
    pub fn health(&self) -> Result<HashMap<String, Health>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, failures > 0, CASE WHEN failures > 0 THEN last_error END, last_success FROM sources",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let day = r.get::<_, Option<i64>>(3)?.map(|t| from_ts(t).date_naive());
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, day)))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Every source's remembered state, by name.
    pub fn sources(&self) -> Result<HashMap<String, SourceState>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, configured_url, url_in_use, etag, last_modified, body_hash, last_fetch, last_success, last_error, failures,
                        next_fetch, redirect_target, redirect_first_seen, redirect_count, skip_hours, skip_days, title, site_url,
                        gone_since, source_key, config_digest
                 FROM sources",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let target: Option<String> = r.get(11)?;
                let redirect = match target {
                    Some(target) => Some(RedirectSeen {
                        target,
                        first_seen: from_ts(r.get::<_, Option<i64>>(12)?.unwrap_or(0)),
                        count: r.get(13)?,
                    }),
                    None => None,
                };
                let list = |s: Option<String>| -> Vec<String> {
                    s.map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
                };
                Ok((
                    r.get::<_, String>(0)?,
                    SourceState {
                        configured_url: r.get(1)?,
                        url_in_use: r.get(2)?,
                        validators: Validators { etag: r.get(3)?, last_modified: r.get(4)? },
                        body_hash: r.get(5)?,
                        last_fetch: r.get::<_, Option<i64>>(6)?.map(from_ts),
                        last_success: r.get::<_, Option<i64>>(7)?.map(from_ts),
                        last_error: r.get(8)?,
                        failures: r.get(9)?,
                        next_fetch: r.get::<_, Option<i64>>(10)?.map(from_ts),
                        redirect,
                        skip_hours: list(r.get(14)?).iter().filter_map(|h| h.parse().ok()).collect(),
                        skip_days: list(r.get(15)?),
                        title: r.get(16)?,
                        site_url: r.get(17)?,
                        gone_since: r.get::<_, Option<i64>>(18)?.map(from_ts),
                        source_key: r.get(19)?,
                        config_digest: r.get(20)?,
                        raw: None,
                    },
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The last body `name` was read from, when one is kept.
    pub fn raw_body(&self, name: &str) -> Result<Option<RawBody>, StoreError> {
        self.conn
            .query_row("SELECT body, content_type, url FROM raw_bodies WHERE source = ?1", [name], |r| {
                Ok(RawBody { deflated: r.get(0)?, content_type: r.get(1)?, url: r.get(2)? })
            })
            .optional()
            .map_err(self.err())
    }

    /// Finds each configured source (name, URL, in config order) in the state, so a source keeps its
    /// identity — its entries, stories, tombstones, HTTP state and the key its derived ids start
    /// with — when the config renames it or points it elsewhere:
    ///
    /// - a stored source of the same name is that source, whatever its URL now (re-pointed);
    /// - else a stored source no longer in the config whose URL is the same (compared canonical) is
    ///   that source renamed: everything stored under its old name moves to the new one;
    /// - else it is a new source, with its name as its key (`name-2`, … when an earlier source that
    ///   was renamed away still holds that key).
    ///
    /// A source renamed and re-pointed at once is thus a new one. Sources met for the first time are
    /// ranked after the others, in config order ([`first_met_order`](Self::first_met_order)).
    pub fn identify_sources(&mut self, configured: &[(&str, &str)]) -> Result<Vec<Renamed>, StoreError> {
        let err = |source| sqlite_error(&self.path, self.busy_timeout, source);
        let tx = Store::write_transaction(&mut self.conn).map_err(err)?;
        let renamed = identify_sources(&tx, configured).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(renamed)
    }

    /// `names` in the order their sources were first met (config order for those met in one run),
    /// which stays when the config reorders them: the story merge breaks its ties by it, so a
    /// reorder changes no published copy. Names the state does not know come last, as given.
    pub fn first_met_order<'a>(&self, names: &[&'a str]) -> Result<Vec<&'a str>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT name, rank FROM sources WHERE rank IS NOT NULL").map_err(self.err())?;
        let ranks: HashMap<String, i64> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        let mut ordered: Vec<(usize, &str)> = names.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, name)| (ranks.get(*name).copied().unwrap_or(i64::MAX), *i));
        Ok(ordered.into_iter().map(|(_, name)| name).collect())
    }

    /// What the sources' feeds listed at the last commit, for the source tasks to reuse ([`Listings`]);
    /// `None` for a store in memory, which no other connection can see.
    pub fn listings(&self) -> Option<Listings> {
        (self.path != Path::new(":memory:")).then(|| Listings { path: self.path.clone(), idle: Mutex::default() })
    }

    /// Every stored entry of the given sources.
    pub fn entries(&self, sources: &[&str]) -> Result<Vec<StoredEntry>, StoreError> {
        let wanted: HashSet<&str> = sources.iter().copied().collect();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT e.source, e.entry, {LAST_SEEN}, e.signature
                 FROM entries e LEFT JOIN sources s ON s.name = e.source
                 ORDER BY e.source, e.first_seen, e.rowid"
            ))
            .map_err(self.err())?;
        let mut rows = stmt.query([]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let source: String = r.get(0).map_err(self.err())?;
            if !wanted.contains(source.as_str()) {
                continue;
            }
            let json: String = r.get(1).map_err(self.err())?;
            let signature = r
                .get::<_, Option<Vec<u8>>>(3)
                .map_err(self.err())?
                .and_then(|bytes| Signature::from_bytes(&bytes).ok());
            if let Some(entry) = stories::readable(&source, &json) {
                out.push(StoredEntry { entry, last_seen: from_ts(r.get(2).map_err(self.err())?), signature });
            }
        }
        Ok(out)
    }

    /// Canonical URLs of the entries stored for `source`: pages already fetched for full text.
    pub fn known_urls(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT canonical_url FROM entries WHERE source = ?1 AND canonical_url IS NOT NULL")
            .map_err(self.err())?;
        let rows = stmt.query_map([source], |r| r.get(0)).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Entries kept per source: as the last write that changed them counted them, else counted now.
    pub fn entry_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        let version = self.content_version()?;
        let cached = self.meta(ENTRY_COUNTS_KEY)?.and_then(|json| {
            serde_json::from_str::<(u64, HashMap<String, usize>)>(&json).ok().filter(|(v, _)| *v == version)
        });
        match cached {
            Some((_, counts)) => Ok(counts),
            None => count_entries(&self.conn).map_err(self.err()),
        }
    }

    /// Per source, how many entries of its last parsed document `[filters]` dropped.
    pub fn filtered_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT source, COUNT(*) FROM filtered GROUP BY source").map_err(self.err())?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The dropped entries whose source id, link or canonical link is `query` (`query` in canonical
    /// form matches too, so a link with tracking parameters finds its entry).
    pub fn find_filtered(&self, query: &str) -> Result<Vec<FilteredEntry>, StoreError> {
        let canonical = Url::parse(query).ok().map(|u| crate::normalize::urls::canonical(&u));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, guid, url, title, reason FROM filtered
                 WHERE guid = ?1 OR url = ?1 OR canonical_url = ?2 ORDER BY source, rowid",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params![query, canonical], |r| {
                Ok(FilteredEntry {
                    source: r.get(0)?,
                    guid: r.get(1)?,
                    url: r.get(2)?,
                    title: r.get(3)?,
                    reason: r.get(4)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Deletes entries last seen before `cutoff`, leaving tombstones so a source that lists them again
    /// does not bring them back. Returns how many were purged.
    pub fn purge(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let err = |source| sqlite_error(&self.path, self.busy_timeout, source);
        let tx = Store::write_transaction(&mut self.conn).map_err(err)?;
        // (source, id, canonical URL, fingerprint) of each entry to purge.
        type Doomed = (String, String, Option<String>, Option<Vec<u8>>);
        let doomed: Vec<Doomed> = {
            let mut stmt = tx
                // `last_seen < cutoff` first, so the index on it narrows the scan.
                .prepare(&format!(
                    "SELECT e.source, e.id, e.canonical_url, e.fingerprint
                     FROM entries e LEFT JOIN sources s ON s.name = e.source
                     WHERE e.last_seen < ?1 AND {LAST_SEEN} < ?1"
                ))
                .map_err(err)?;
            let rows =
                stmt.query_map([ts(cutoff)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)?
        };
        for (source, id, url, print) in &doomed {
            let keys = [Some(id.clone()), url.as_ref().map(|u| format!("url:{u}")), print.as_deref().map(hex)];
            for key in keys.into_iter().flatten() {
                tx.execute(
                    "INSERT OR REPLACE INTO tombstones (source, key, purged_at) VALUES (?1, ?2, ?3)",
                    params![source, key, ts(now)],
                )
                .map_err(err)?;
            }
            tx.execute(
                "DELETE FROM unstoried WHERE entry = (SELECT rowid FROM entries WHERE source = ?1 AND id = ?2)",
                params![source, id],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM entries WHERE source = ?1 AND id = ?2", params![source, id]).map_err(err)?;
            stories::forget(&tx, source, id).map_err(err)?;
        }
        if !doomed.is_empty() {
            bump_content_version(&tx, doomed.iter().map(|(source, ..)| source.as_str())).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(doomed.len())
    }

    /// A number that changes whenever stored entries or source titles change: outputs built from the
    /// same version (and the same config) are the same bytes.
    pub fn content_version(&self) -> Result<u64, StoreError> {
        Ok(self.meta("content_version")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(self.err())
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(drop)
            .map_err(self.err())
    }

    /// `PRAGMA integrity_check` says "ok".
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let r: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(self.err())?;
        Ok(r == "ok")
    }
}

/// What each source's feed listed at the last commit, read by the source tasks while the run's
/// recorder writes: a changed feed's entries whose raw digest is stored are taken from the store
/// instead of normalized again (`normalize::feed_reusing`). Read-only connections of their own, kept
/// for the next task: in WAL mode a reader sees the last commit and waits for no writer.
pub struct Listings {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Listings {
    /// The entries `source`'s feed listed whose raw digest is among `digests`.
    pub fn entries(&self, source: &str, digests: &[RawDigest]) -> Result<HashMap<RawDigest, Entry>, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Store::open_read_only(&self.path)?,
        };
        let found = listed_entries(&reader.conn, source, digests).map_err(reader.err());
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(reader);
        found
    }
}

impl Listings {
    /// The last body `source` was read from, when one is kept ([`Store::raw_body`]).
    pub fn raw_body(&self, source: &str) -> Result<Option<RawBody>, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Store::open_read_only(&self.path)?,
        };
        let found = reader.raw_body(source);
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(reader);
        found
    }
}

fn listed_entries(
    conn: &Connection,
    source: &str,
    digests: &[RawDigest],
) -> rusqlite::Result<HashMap<RawDigest, Entry>> {
    let wanted: HashSet<&RawDigest> = digests.iter().collect();
    let mut stmt = conn.prepare_cached(
        "SELECT raw_digest, entry FROM entries WHERE source = ?1 AND in_feed = 1 AND raw_digest IS NOT NULL",
    )?;
    let mut rows = stmt.query([source])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let Ok(digest) = RawDigest::try_from(r.get_ref(0)?.as_blob()?) else { continue };
        if !wanted.contains(&digest) {
            continue;
        }
        // An entry this feedmill cannot read back is normalized again, as if it were not stored.
        if let Ok(entry) = serde_json::from_str::<Entry>(r.get_ref(1)?.as_str()?) {
            out.insert(digest, entry);
        }
    }
    Ok(out)
}

/// [`Store::identify_sources`] inside its transaction.
fn identify_sources(tx: &Transaction, configured: &[(&str, &str)]) -> rusqlite::Result<Vec<Renamed>> {
    struct Row {
        name: String,
        url: String,
        key: Option<String>,
        ranked: bool,
    }
    let rows: Vec<Row> = tx
        .prepare("SELECT name, configured_url, source_key, rank IS NOT NULL FROM sources ORDER BY rowid")?
        .query_map([], |r| Ok(Row { name: r.get(0)?, url: r.get(1)?, key: r.get(2)?, ranked: r.get(3)? }))?
        .collect::<Result<_, _>>()?;
    let by_name: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
    let in_config: HashSet<&str> = configured.iter().map(|(name, _)| *name).collect();
    // Renamed away: a stored source whose name the config no longer has, found by its URL.
    let mut orphans: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate().filter(|(_, r)| !in_config.contains(r.name.as_str())) {
        orphans.entry(comparable_location(&row.url)).or_insert(i);
    }
    let mut keys: HashSet<String> = rows.iter().filter_map(|r| r.key.clone()).collect();
    // The configured sources still to rank: all of them once, after the migration; then the new ones.
    let mut unranked: HashSet<&str> = configured
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| by_name.get(name).is_none_or(|&i| !rows[i].ranked))
        .collect();
    let mut renamed = Vec::new();
    for (name, url) in configured.iter().filter(|(name, _)| !by_name.contains_key(name)) {
        if let Some(i) = orphans.remove(&comparable_location(url)) {
            let from = rows[i].name.clone();
            tracing::info!(from = %from, to = %name, "source renamed: its entries keep their ids");
            rename_source(tx, &from, name)?;
            if rows[i].ranked {
                unranked.remove(name);
            }
            renamed.push(Renamed { from, to: (*name).to_owned() });
            continue;
        }
        let key = (1..)
            .map(|n| if n == 1 { (*name).to_owned() } else { format!("{name}-{n}") })
            .find(|k| !keys.contains(k))
            .unwrap_or_else(|| (*name).to_owned());
        keys.insert(key.clone());
        exec(
            tx,
            "INSERT INTO sources (name, configured_url, source_key) VALUES (?1, ?2, ?3)",
            params![name, url, key],
        )?;
    }
    let mut next: i64 = tx.query_row("SELECT coalesce(max(rank), -1) + 1 FROM sources", [], |r| r.get(0))?;
    for (name, _) in configured.iter().filter(|(name, _)| unranked.contains(name)) {
        if exec(tx, "UPDATE sources SET rank = ?2 WHERE name = ?1 AND rank IS NULL", params![name, next])? > 0 {
            next += 1;
        }
    }
    if !renamed.is_empty() {
        let names = renamed.iter().flat_map(|r| [r.from.as_str(), r.to.as_str()]);
        bump_content_version(tx, names)?;
    }
    Ok(renamed)
}

/// Moves everything stored under the source name `from` to `to`, a name the state does not hold yet:
/// the published ids and first-seen times do not change, only the name the outputs show.
fn rename_source(tx: &Transaction, from: &str, to: &str) -> rusqlite::Result<()> {
    for sql in [
        "UPDATE sources SET name = ?2 WHERE name = ?1",
        "UPDATE entries SET source = ?2, entry = json_set(entry, '$.source', ?2) WHERE source = ?1",
        "UPDATE OR REPLACE tombstones SET source = ?2 WHERE source = ?1",
        "UPDATE raw_bodies SET source = ?2 WHERE source = ?1",
        "UPDATE story_members SET source = ?2 WHERE source = ?1",
        "UPDATE story_members SET head_source = ?2 WHERE head_source = ?1",
    ] {
        tx.execute(sql, [from, to])?;
    }
    Ok(())
}

/// Meta key of the cached [`Store::entry_counts`]: `[content version, {source: count}]`.
const ENTRY_COUNTS_KEY: &str = "entry_counts";

/// An entry's last-seen time: its own, or its source's `listed_at` when the feed has since been
/// unchanged (a 304) and still lists it. For queries over `entries e LEFT JOIN sources s`.
const LAST_SEEN: &str = "CASE WHEN e.in_feed = 1 AND s.listed_at > e.last_seen THEN s.listed_at ELSE e.last_seen END";

/// A fingerprint as a tombstone key: `print:` and lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(6 + 2 * bytes.len());
    s.push_str("print:");
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
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

/// Marks the stored entries changed, and counts them per source for [`Store::entry_counts`]: counting
/// reads every entry's key, a twelfth of an all-304 run at 10,000 sources, so it is done here, once per
/// change, instead of on every run.
fn bump_content_version<'a>(
    tx: &Transaction,
    counts_changed: impl IntoIterator<Item = &'a str>,
) -> rusqlite::Result<()> {
    let version: u64 = tx.query_row(
        "INSERT INTO meta (key, value) VALUES ('content_version', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)",
        [],
        |r| r.get(0),
    )?;
    // The counts as the previous version left them, when they were kept then: only the sources whose
    // entries were added or deleted are counted again (a GROUP BY over 500,000 entries took 40 ms).
    let cached: Option<HashMap<String, usize>> = tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [ENTRY_COUNTS_KEY], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|json| serde_json::from_str::<(u64, HashMap<String, usize>)>(&json).ok())
        .filter(|(v, _)| *v + 1 == version)
        .map(|(_, counts)| counts);
    let counts = match cached {
        Some(mut counts) => {
            let mut count = tx.prepare_cached("SELECT COUNT(*) FROM entries WHERE source = ?1")?;
            for source in counts_changed {
                match count.query_row([source], |r| r.get::<_, i64>(0))? {
                    0 => counts.remove(source),
                    n => counts.insert(source.to_owned(), n as usize),
                };
            }
            counts
        }
        None => count_entries(tx)?,
    };
    let json =
        serde_json::to_string(&(version, counts)).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [ENTRY_COUNTS_KEY, &json],
    )
    .map(drop)
}

fn count_entries(conn: &Connection) -> rusqlite::Result<HashMap<String, usize>> {
    let mut stmt = conn.prepare_cached("SELECT source, COUNT(*) FROM entries GROUP BY source")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))?;
    rows.collect()
}

/// `execute` through the connection's statement cache: a run writes thousands of sources with the same
/// few statements, and parsing their SQL each time was a quarter of an all-304 run at 10,000 sources.
fn exec(tx: &Transaction, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests;
