//! Entries in SQLite as read after a run: every stored entry, counts (cached per content version),
//! what the filters dropped, retention with tombstones ([`Entries`]), and the listings the source tasks
//! read beside the run's write ([`SqliteListings`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use url::Url;

use super::{from_ts, sqlite_error, stories, ts, Entries, Listings, Meta, RawBody, SourceStates, Store, StoreError};
use crate::dedup::near::Signature;
use crate::model::Entry;
use crate::normalize::RawDigest;

/// An entry as kept in the store.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub entry: Entry,
    pub last_seen: DateTime<Utc>,
    /// `None` when it was never computed or was made by another signature version.
    pub signature: Option<Signature>,
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

impl Store {
    /// What the sources' feeds listed at the last commit, for the source tasks to reuse
    /// ([`SqliteListings`]); `None` for a store in memory, which no other connection can see.
    pub(super) fn sqlite_listings(&self) -> Option<SqliteListings> {
        (self.path != Path::new(":memory:")).then(|| SqliteListings { path: self.path.clone(), idle: Mutex::default() })
    }
}

impl Entries for Store {
    /// Every stored entry of the given sources.
    fn entries(&self, sources: &[&str]) -> Result<Vec<StoredEntry>, StoreError> {
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
    fn known_urls(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT canonical_url FROM entries WHERE source = ?1 AND canonical_url IS NOT NULL")
            .map_err(self.err())?;
        let rows = stmt.query_map([source], |r| r.get(0)).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Entries kept per source: as the last write that changed them counted them, else counted now.
    fn entry_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
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
    fn filtered_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT source, COUNT(*) FROM filtered GROUP BY source").map_err(self.err())?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The dropped entries whose source id, link or canonical link is `query` (`query` in canonical
    /// form matches too, so a link with tracking parameters finds its entry).
    fn find_filtered(&self, query: &str) -> Result<Vec<FilteredEntry>, StoreError> {
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
    fn purge(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize, StoreError> {
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
    fn content_version(&self) -> Result<u64, StoreError> {
        Ok(self.meta("content_version")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

/// What each source's feed listed at the last commit, read by the source tasks while the run's
/// recorder writes: a changed feed's entries whose raw digest is stored are taken from the store
/// instead of normalized again (`normalize::feed_reusing`). Read-only connections of their own, kept
/// for the next task: in WAL mode a reader sees the last commit and waits for no writer.
pub(super) struct SqliteListings {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Listings for SqliteListings {
    fn entries(&self, source: &str, digests: &[RawDigest]) -> Result<HashMap<RawDigest, Entry>, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Store::open_read_only(&self.path)?,
        };
        let found = listed_entries(&reader.conn, source, digests).map_err(reader.err());
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(reader);
        found
    }

    fn raw_body(&self, source: &str) -> Result<Option<RawBody>, StoreError> {
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

/// Meta key of the cached [`Entries::entry_counts`]: `[content version, {source: count}]`.
pub(super) const ENTRY_COUNTS_KEY: &str = "entry_counts";

/// An entry's last-seen time: its own, or its source's `listed_at` when the feed has since been
/// unchanged (a 304) and still lists it. For queries over `entries e LEFT JOIN sources s`.
const LAST_SEEN: &str = "CASE WHEN e.in_feed = 1 AND s.listed_at > e.last_seen THEN s.listed_at ELSE e.last_seen END";

/// A fingerprint as a tombstone key: `print:` and lower-case hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(6 + 2 * bytes.len());
    s.push_str("print:");
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Marks the stored entries changed, and counts them per source for [`Entries::entry_counts`]: counting
/// reads every entry's key, a twelfth of an all-304 run at 10,000 sources, so it is done here, once per
/// change, instead of on every run.
pub(super) fn bump_content_version<'a>(
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

pub(super) fn count_entries(conn: &Connection) -> rusqlite::Result<HashMap<String, usize>> {
    let mut stmt = conn.prepare_cached("SELECT source, COUNT(*) FROM entries GROUP BY source")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))?;
    rows.collect()
}
