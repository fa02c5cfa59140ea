//! [`Entries`] on PostgreSQL: the same rows and rules as SQLite's `store/entries.rs`. Reads are one
//! statement each (one snapshot); `purge` locks the rows of the sources it purges from, as a recording
//! worker holds them, so an entry is never purged while its source is reconciled; the content version
//! and the entry-count cache are bumped in the same transaction as the change.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Transaction};
use url::Url;

use super::{PgError, PgStore};
use crate::dedup::near::Signature;
use crate::store::entries::hex;
use crate::store::{from_ts, stories, ts, Entries, FilteredEntry, Meta, StoreError, StoredEntry};

/// An entry's last-seen time: its own, or its source's `listed_at` when the feed has since been
/// unchanged and still lists it (SQLite's `LAST_SEEN`). For queries over `entries e LEFT JOIN sources s`.
const LAST_SEEN: &str = "CASE WHEN e.in_feed = 1 AND s.listed_at > e.last_seen THEN s.listed_at ELSE e.last_seen END";

impl Entries for PgStore {
    fn entries(&self, sources: &[&str]) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    &format!(
                        "SELECT e.source, e.entry, {LAST_SEEN}, e.signature
                         FROM entries e LEFT JOIN sources s ON s.name = e.source
                         WHERE e.source = ANY($1)
                         ORDER BY e.source, e.first_seen, e.rowid"
                    ),
                    &[&sources],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let source: String = r.get(0);
                let signature = r.get::<_, Option<Vec<u8>>>(3).and_then(|bytes| Signature::from_bytes(&bytes).ok());
                let entry = stories::readable(&source, r.get(1))?;
                Some(StoredEntry { entry, last_seen: from_ts(r.get(2)), signature })
            })
            .collect())
    }

    fn known_urls(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query("SELECT canonical_url FROM entries WHERE source = $1 AND canonical_url IS NOT NULL", &[&source])
                .await
                .map_err(self.db())
        })??;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Counted now, in one statement (an index-only scan of the entries' primary key). SQLite keeps a
    /// cache in `meta` rewritten by every write; shared by several workers, that one row would order
    /// every source's write behind the others', and rewriting it costs O(sources) per source.
    fn entry_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        let counts = self.block(async {
            let client = self.client().await?;
            count_entries(&**client).await.map_err(self.db())
        })??;
        Ok(counts)
    }

    fn filtered_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client.query("SELECT source, COUNT(*) FROM filtered GROUP BY source", &[]).await.map_err(self.db())
        })??;
        Ok(rows.into_iter().map(|r| (r.get(0), count(r.get(1)))).collect())
    }

    /// `query` in canonical form matches too, so a link with tracking parameters finds its entry.
    fn find_filtered(&self, query: &str) -> Result<Vec<FilteredEntry>, StoreError> {
        let canonical = Url::parse(query).ok().map(|u| crate::normalize::urls::canonical(&u));
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    "SELECT source, guid, url, title, reason FROM filtered
                     WHERE guid = $1 OR url = $1 OR canonical_url = $2 ORDER BY source, seq",
                    &[&query, &canonical],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(rows
            .into_iter()
            .map(|r| FilteredEntry {
                source: r.get(0),
                guid: r.get(1),
                url: r.get(2),
                title: r.get(3),
                reason: r.get(4),
            })
            .collect())
    }

    fn purge(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let purged = self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(self.db())?;
            let purged = purge(&tx, ts(cutoff), ts(now)).await.map_err(self.db())?;
            tx.commit().await.map_err(self.db())?;
            Ok::<_, PgError>(purged)
        })??;
        Ok(purged)
    }

    fn content_version(&self) -> Result<u64, StoreError> {
        Ok(self.meta("content_version")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

/// A `COUNT(*)` as a count.
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Deletes the entries last seen before `cutoff`, leaving tombstones written at `now`; returns how many.
async fn purge(tx: &Transaction<'_>, cutoff: i64, now: i64) -> Result<usize, tokio_postgres::Error> {
    let doomed_where =
        format!("FROM entries e LEFT JOIN sources s ON s.name = e.source WHERE e.last_seen < $1 AND {LAST_SEEN} < $1");
    // The sources' rows first, in name order so two purges (or a purge and a recorder) never wait on
    // each other in a circle; the entries are read again once the rows are held, as a recorder that
    // committed meanwhile may have seen some of them again.
    tx.execute(
        &format!(
            "SELECT name FROM sources WHERE name IN (SELECT DISTINCT e.source {doomed_where}) ORDER BY name FOR UPDATE"
        ),
        &[&cutoff],
    )
    .await?;
    let doomed = tx
        .query(&format!("SELECT e.source, e.id, e.canonical_url, e.fingerprint, e.rowid {doomed_where}"), &[&cutoff])
        .await?;
    for r in &doomed {
        let (source, id): (&str, &str) = (r.get(0), r.get(1));
        let url: Option<&str> = r.get(2);
        let print: Option<&[u8]> = r.get(3);
        let keys = [Some(id.to_owned()), url.map(|u| format!("url:{u}")), print.map(hex)];
        for key in keys.into_iter().flatten() {
            tx.execute(
                "INSERT INTO tombstones (source, key, purged_at) VALUES ($1, $2, $3)
                 ON CONFLICT (source, key) DO UPDATE SET purged_at = excluded.purged_at",
                &[&source, &key, &now],
            )
            .await?;
        }
        tx.execute("DELETE FROM unstoried WHERE entry = $1", &[&r.get::<_, i64>(4)]).await?;
        tx.execute("DELETE FROM entries WHERE source = $1 AND id = $2", &[&source, &id]).await?;
        forget(tx, source, id).await?;
    }
    if !doomed.is_empty() {
        bump_content_version(tx).await?;
    }
    Ok(doomed.len())
}

/// Takes a purged entry out of its stories (SQLite's `stories::forget`): a story it published passes
/// to its next member, per mode.
async fn forget(tx: &Transaction<'_>, source: &str, id: &str) -> Result<(), tokio_postgres::Error> {
    let heirs = tx
        .query(
            "SELECT mode, source, id FROM story_members
             WHERE head_source = $1 AND head_id = $2 AND NOT (source = $1 AND id = $2) ORDER BY mode, seq",
            &[&source, &id],
        )
        .await?;
    // Per mode kept: the key starts with the mode, and without it this would scan every row.
    tx.execute(
        "DELETE FROM story_members WHERE source = $1 AND id = $2
           AND mode IN (SELECT substr(key, length('stories:') + 1) FROM meta WHERE key LIKE 'stories:%')",
        &[&source, &id],
    )
    .await?;
    let mut done: HashSet<&str> = HashSet::new();
    for r in &heirs {
        let (mode, heir_source, heir_id): (&str, &str, &str) = (r.get(0), r.get(1), r.get(2));
        if !done.insert(mode) {
            continue;
        }
        let date: Option<i64> = tx
            .query_opt("SELECT sort_date FROM entries WHERE source = $1 AND id = $2", &[&heir_source, &heir_id])
            .await?
            .and_then(|r| r.get(0));
        tx.execute(
            "UPDATE story_members SET head_source = $4, head_id = $5, head_date = $6
             WHERE head_source = $2 AND head_id = $3 AND mode = $1",
            &[&mode, &source, &id, &heir_source, &heir_id, &date.unwrap_or(0)],
        )
        .await?;
        tx.execute(
            "UPDATE story_members SET layer = NULL, joined = NULL, effect = NULL
             WHERE mode = $1 AND source = $2 AND id = $3",
            &[&mode, &heir_source, &heir_id],
        )
        .await?;
    }
    Ok(())
}

/// Marks the stored entries changed: the content version a build key holds moves on. The `meta` row is
/// locked by the update until the transaction ends, so the last statement before the commit: two
/// workers' writes wait for each other only that long.
pub(super) async fn bump_content_version(tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    tx.execute(BUMP_CONTENT_VERSION, &[]).await.map(drop)
}

pub(super) const BUMP_CONTENT_VERSION: &str = "INSERT INTO meta (key, value) VALUES ('content_version', '1')
     ON CONFLICT (key) DO UPDATE SET value = (CAST(meta.value AS BIGINT) + 1)::TEXT";

async fn count_entries(client: &impl GenericClient) -> Result<HashMap<String, usize>, tokio_postgres::Error> {
    let rows = client.query("SELECT source, COUNT(*) FROM entries GROUP BY source", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.get(0), count(r.get(1)))).collect())
}
