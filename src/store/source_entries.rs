//! One source's entries in SQLite, as the recorder lends them to the caller's reconciliation
//! (`dedup::history::reconcile`, through [`SourceEntries`]) while a run is recorded: the rows of table
//! `entries`, its tombstones, and the new entries the recorder holds back to sign them a batch at a
//! time.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

use super::{exec, from_ts, hex, stories, ts};
use crate::dedup::history::{Kept, Keys, SourceEntries};
use crate::dedup::near::Packed;
use crate::model::Entry;
use crate::normalize::RawDigest;

/// [`SourceEntries`] over the recorder's transaction.
pub(super) struct SqliteEntries<'a, 't> {
    pub(super) tx: &'a Transaction<'t>,
    pub(super) source: &'a str,
    pub(super) now: DateTime<Utc>,
    /// When the source's feed listed its entries before this run: a dropped entry keeps it as its own
    /// last-seen time.
    pub(super) listed_before: Option<i64>,
    /// The recorder's new entries, written once signed.
    pub(super) pending: &'a mut Vec<NewEntry>,
    /// The source's tombstone keys (`id`, `url:` + link, [`hex`] fingerprint), read when first asked.
    pub(super) tombstones: Option<HashSet<String>>,
}

impl SourceEntries for SqliteEntries<'_, '_> {
    type Error = rusqlite::Error;

    fn kept(&mut self) -> rusqlite::Result<Vec<Kept>> {
        // In the order they were first written, as the trait promises: of several kept entries sharing a
        // link or fingerprint, `reconcile` takes the first. Without `ORDER BY` the primary key (source,
        // id) would give id order.
        let mut stmt = self.tx.prepare_cached(
            "SELECT rowid, id, canonical_url, fingerprint, first_seen, entry, sort_date, in_feed, raw_digest
             FROM entries WHERE source = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([self.source], |r| {
            Ok(Kept {
                handle: r.get(0)?,
                id: r.get(1)?,
                url: r.get(2)?,
                print: r.get(3)?,
                first_seen: from_ts(r.get(4)?),
                encoded: r.get(5)?,
                sort_date: r.get::<_, Option<i64>>(6)?.map(from_ts),
                in_feed: r.get(7)?,
                digest: r.get(8)?,
            })
        })?;
        rows.collect()
    }

    fn purged(&mut self, id: &str, url: Option<&str>, print: Option<&[u8; 32]>) -> rusqlite::Result<bool> {
        let tombstones = match &mut self.tombstones {
            Some(t) => t,
            None => {
                let mut stmt = self.tx.prepare_cached("SELECT key FROM tombstones WHERE source = ?1")?;
                let keys = stmt.query_map([self.source], |r| r.get(0))?;
                self.tombstones.insert(keys.collect::<Result<_, _>>()?)
            }
        };
        Ok(tombstones.contains(id)
            || url.is_some_and(|u| tombstones.contains(&format!("url:{u}")))
            || print.is_some_and(|p| tombstones.contains(&hex(p))))
    }

    fn encode(&self, entry: &Entry) -> rusqlite::Result<String> {
        serde_json::to_string(entry).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }

    fn decode(&self, encoded: &str) -> Option<Entry> {
        serde_json::from_str(encoded).ok()
    }

    fn rewrite(
        &mut self,
        kept: &Kept,
        entry: &Entry,
        encoded: &str,
        keys: &Keys,
        signature: Option<Packed>,
    ) -> rusqlite::Result<()> {
        // Unchanged JSON keeps its signature.
        write_entry(
            self.tx,
            "UPDATE entries SET canonical_url = ?3, fingerprint = ?4, last_seen = ?5, in_feed = 1,
                    signature = CASE WHEN entry = ?6 THEN signature ELSE ?10 END,
                    bands = CASE WHEN entry = ?6 THEN bands ELSE ?11 END, entry = ?6,
                    sort_date = ?7, text_size = ?8, has_content = ?9, raw_digest = ?12
             WHERE source = ?1 AND id = ?2",
            self.source,
            entry,
            (keys.url.as_deref(), keys.print, keys.digest),
            self.now,
            encoded,
            (keys.text_size, signature),
        )?;
        let date = ts(entry.sort_date());
        if kept.sort_date.map(ts) != Some(date) {
            // The story it publishes moves in its feeds.
            stories::redate(self.tx, self.source, &entry.id, date)?;
        }
        Ok(())
    }

    fn add(&mut self, entry: Entry, encoded: String, keys: Keys, packed: Option<Packed>) -> rusqlite::Result<()> {
        // Written, and counted, by the recorder once signed.
        let Keys { url, print, digest, text_size } = keys;
        self.pending.push(NewEntry {
            source: self.source.to_owned(),
            entry,
            url,
            print,
            json: encoded,
            digest,
            text_size,
            packed,
        });
        Ok(())
    }

    fn unlist(&mut self, kept: &Kept) -> rusqlite::Result<()> {
        exec(
            self.tx,
            "UPDATE entries SET in_feed = 0, last_seen = max(last_seen, ?2) WHERE rowid = ?1",
            params![kept.handle, self.listed_before.unwrap_or(i64::MIN)],
        )
        .map(drop)
    }
}

/// A new entry the recorder holds back (`Recorder::pending`) to sign it with others.
pub(super) struct NewEntry {
    pub(super) source: String,
    pub(super) entry: Entry,
    pub(super) url: Option<String>,
    pub(super) print: Option<[u8; 32]>,
    pub(super) json: String,
    pub(super) digest: Option<RawDigest>,
    pub(super) text_size: usize,
    pub(super) packed: Option<Packed>,
}

/// Runs `sql`, an entry's INSERT or UPDATE, with ?1 source, ?2 id, ?3 canonical URL, ?4 fingerprint,
/// ?5 now, ?6 the entry as JSON, then what the merge reads: ?7 sort date, ?8 text size (as dedup
/// measured it), ?9 has content, ?10 its signature and ?11 band tags (`None` where the statement keeps
/// the stored ones), and ?12 the raw entry's digest.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_entry(
    tx: &Transaction,
    sql: &str,
    source: &str,
    entry: &Entry,
    (url, print, digest): (Option<&str>, Option<[u8; 32]>, Option<RawDigest>),
    now: DateTime<Utc>,
    json: &str,
    (text_size, packed): (usize, Option<Packed>),
) -> rusqlite::Result<usize> {
    let (signature, bands) = packed.map(|p| (p.signature, p.bands)).unzip();
    exec(
        tx,
        sql,
        params![
            source,
            entry.id,
            url,
            print.map(|p| p.to_vec()),
            ts(now),
            json,
            ts(entry.sort_date()),
            text_size as i64,
            entry.content_html.is_some(),
            signature,
            bands,
            digest.map(|d| d.to_vec()),
        ],
    )
}
