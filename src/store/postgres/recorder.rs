//! The run's write on PostgreSQL ([`Record`], [`RunWrite`], [`Listings`]): the same rows and rules as
//! SQLite's `store/recorder.rs` and `store/source_entries.rs`, but one transaction per source instead
//! of one per run, as several workers record at once. Each [`RunWrite::add`] holds the source's row
//! (`SELECT … FOR UPDATE`, the lock a purge takes too), lends the source's entries to the
//! reconciliation on that transaction, signs and writes the source's new entries, bumps the content
//! version when it changed something, and commits: the version's `meta` row is held only for that
//! commit. Recording a source also gives back the worker's lease on it. New entries are signed per
//! source (SQLite batches them across sources).
//!
//! Statements that need no answer before the next are sent together (pipelined): a source's write is
//! five round trips (begin; the lock and the row; the state, the filtered and the reads; the entries
//! and the version; commit), each of which wakes this thread and the connection's.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction as CachingTx;
use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;
use url::Url;

use futures_util::future::{try_join, try_join4, try_join5};

use super::entries::BUMP_CONTENT_VERSION;
use super::{PgError, PgStore, LOCK, LOCK_SHARED, LOCK_SIGNATURES};
use crate::dedup::history::{Kept, Keys, SourceEntries};
use crate::dedup::near::{Packed, SIGNATURE_VERSION};
use crate::dedup::stories::StoryStore;
use crate::model::Entry;
use crate::normalize::RawDigest;
use crate::store::entries::hex;
use crate::store::{
    from_ts, ts, EntriesUpdate, Listings, RawBody, Reconcile, Reconciled, Record, RunWrite, Signer, SourceStates,
    SourceUpdate, StoreError,
};

impl Record for PgStore {
    type Lent = PgError;
    type Recorder<'a> = PgRecorder<'a>;

    /// Signatures of another version are dropped first, in a transaction of their own: the entries
    /// each `add` writes are signed with this version, and the commit signs the rest again.
    fn recorder(&mut self, now: DateTime<Utc>, sign: Signer) -> Result<PgRecorder<'_>, StoreError> {
        let client = self.block(self.client())??;
        let mut recorder = PgRecorder { store: self, client, now, sign, out: HashMap::new() };
        recorder.run(|client| async move {
            let tx = client.transaction().await?;
            drop_stale_signatures(&tx).await?;
            tx.commit().await
        })?;
        Ok(recorder)
    }

    fn merge_stories<T>(
        &mut self,
        merge: impl FnOnce(&mut dyn StoryStore<Error = PgError>) -> Result<T, PgError>,
    ) -> Result<T, StoreError> {
        self.pg_merge_stories(merge)
    }

    fn listings(&self) -> Option<Arc<dyn Listings>> {
        Some(Arc::new(PgListings(self.clone())))
    }

    fn leases(&self) -> Option<Arc<dyn crate::store::Leases>> {
        let worker = self.worker.clone()?;
        Some(Arc::new(super::lease::PgLeases { store: self.clone(), worker }))
    }
}

/// One run being written: a pooled connection, one transaction per source (see [`Record::recorder`]).
pub struct PgRecorder<'a> {
    store: &'a PgStore,
    client: deadpool_postgres::Object,
    now: DateTime<Utc>,
    sign: Signer,
    out: HashMap<String, Reconciled>,
}

impl PgRecorder<'_> {
    /// Runs `f` on the recorder's connection, blocking until it is done.
    fn run<'c, T, F: Future<Output = Result<T, tokio_postgres::Error>> + 'c>(
        &'c mut self,
        f: impl FnOnce(&'c mut tokio_postgres::Client) -> F,
    ) -> Result<T, PgError> {
        let store = self.store;
        let client: &'c mut tokio_postgres::Client = &mut self.client;
        store.block(f(client))?.map_err(store.db())
    }
}

impl RunWrite for PgRecorder<'_> {
    type Lent = PgError;

    fn add(&mut self, u: SourceUpdate, reconcile: Reconcile<'_, PgError>) -> Result<(), StoreError> {
        let (store, now, sign) = (self.store, self.now, self.sign);
        let worker = store.worker().map(|w| w.id.as_str());
        let db = store.db();
        let listed = match &u.entries {
            EntriesUpdate::Parsed(_) | EntriesUpdate::Unchanged => Some(now),
            EntriesUpdate::Unknown => None,
        };
        let parsed = matches!(u.entries, EntriesUpdate::Parsed(_));
        // The statements that do not wait for each other's answers are sent together (pipelined): a
        // round trip wakes both ends, and a source's write used to be fourteen of them.
        let tx = store.block(self.client.transaction())?.map_err(&db)?;
        let (saved, kept, tombstones) = store
            .block(async {
                let before = hold_source(&tx, &u.name).await?;
                let filtered = async {
                    match &u.filtered {
                        Some(dropped) => save_filtered(&tx, &u.name, dropped).await,
                        None => Ok(()),
                    }
                };
                let (saved, (), kept, tombstones) = try_join4(
                    save_source(&tx, &u, listed, before, worker),
                    filtered,
                    async {
                        if parsed {
                            kept_rows(&tx, &u.name).await.map(Some)
                        } else {
                            Ok(None)
                        }
                    },
                    async {
                        if parsed {
                            tombstone_keys(&tx, &u.name).await.map(Some)
                        } else {
                            Ok(None)
                        }
                    },
                )
                .await?;
                Ok::<_, tokio_postgres::Error>((saved, kept, tombstones))
            })?
            .map_err(&db)?;
        let mut changed = saved.shown_changed;
        let (reconciled, writes) = match u.entries {
            EntriesUpdate::Parsed(entries) => {
                let writes = Writes::default();
                let mut lent = PgSourceEntries { store, tx: &tx, source: &u.name, kept, tombstones, writes };
                let r = reconcile(&mut lent, entries)?;
                // A new entry whose id the source already holds is not written (`ON CONFLICT DO
                // NOTHING`): counted as a change all the same, which costs a build that finds nothing new.
                changed |= r.updated > 0 || !lent.writes.new.is_empty();
                (Some(r), lent.writes)
            }
            EntriesUpdate::Unchanged | EntriesUpdate::Unknown => (None, Writes::default()),
        };
        let inserted = store
            .block(async {
                let inserted = write(&tx, &u.name, writes, saved.listed_before, now, sign, changed).await?;
                tx.commit().await?;
                Ok::<_, tokio_postgres::Error>(inserted)
            })?
            .map_err(&db)?;
        if let Some(mut r) = reconciled {
            r.new += inserted;
            self.out.insert(u.name, r);
        }
        Ok(())
    }

    /// Each source was committed by its `add`: only what a signature version change left unsigned
    /// is signed here.
    fn commit(mut self) -> Result<HashMap<String, Reconciled>, StoreError> {
        let sign = self.sign;
        self.run(|client| async move {
            let tx = client.transaction().await?;
            fill_signatures(&tx, sign).await?;
            tx.commit().await
        })?;
        Ok(self.out)
    }
}

/// A new entry, held until the reconciliation of its source ends, then signed and written.
struct NewEntry {
    entry: Entry,
    json: String,
    keys: Keys,
    packed: Option<Packed>,
}

/// What the reconciliation wrote, held until it ends and then written in a few statements whatever
/// its size (`write`): each entry a row of arrays (`unnest`), so a source costs a constant number of
/// round trips, not one per entry.
#[derive(Default)]
struct Writes {
    /// New entries, in the order met.
    new: Vec<NewEntry>,
    /// Kept entries written again as their feed lists them now.
    rewritten: Vec<Row>,
    /// Ids of rewritten entries whose date moved: the stories they head move in their feeds.
    redated: Vec<(String, i64)>,
    /// Rowids of kept entries the feed no longer lists.
    unlisted: Vec<i64>,
}

/// An entry's columns, as `entry_columns!` unnests them.
struct Row {
    id: String,
    url: Option<String>,
    print: Option<Vec<u8>>,
    json: String,
    sort_date: i64,
    text_size: i64,
    has_content: i32,
    signature: Option<Vec<u8>>,
    bands: Option<Vec<u8>>,
    digest: Option<Vec<u8>>,
}

impl Row {
    fn new(entry: &Entry, keys: &Keys, json: String, packed: Option<Packed>) -> Row {
        let (signature, bands) = packed.map(|p| (p.signature, p.bands)).unzip();
        Row {
            id: entry.id.clone(),
            url: keys.url.clone(),
            print: keys.print.map(|p| p.to_vec()),
            json,
            sort_date: ts(entry.sort_date()),
            text_size: i64::try_from(keys.text_size).unwrap_or(i64::MAX),
            has_content: i32::from(entry.content_html.is_some()),
            signature,
            bands,
            digest: keys.digest.map(|d| d.to_vec()),
        }
    }
}

/// The arrays `$3`…`$12` of [`INSERT_NEW`] and [`REWRITE`] unnest, one element per entry (`$1` is the
/// source, `$2` the time now); `entry_arrays` binds them.
macro_rules! entry_columns {
    () => {
        "unnest($3::text[], $4::text[], $5::bytea[], $6::text[], $7::bigint[], $8::bigint[], $9::integer[],
                $10::bytea[], $11::bytea[], $12::bytea[])
         WITH ORDINALITY AS n(id, url, print, entry, sort_date, text_size, has_content, signature, bands, digest,
                              ord)"
    };
}

/// Inserts new entries in their order (so `rowid` order is the order written, as SQLite's), each
/// listed in `unstoried` until the merge takes it. An id twice in one batch: the first is written.
const INSERT_NEW: &str = concat!(
    "WITH new AS (
         INSERT INTO entries (source, id, canonical_url, fingerprint, first_seen, last_seen, in_feed, entry,
                              sort_date, text_size, has_content, signature, bands, raw_digest)
         SELECT $1, n.id, n.url, n.print, $2, $2, 1, n.entry, n.sort_date, n.text_size, n.has_content,
                n.signature, n.bands, n.digest
         FROM ",
    entry_columns!(),
    "
         ORDER BY n.ord
         ON CONFLICT (source, id) DO NOTHING
         RETURNING rowid
     )
     INSERT INTO unstoried (entry) SELECT rowid FROM new"
);

/// Writes kept entries again (each kept entry is matched once, so an id comes once); unchanged JSON
/// keeps its signature (the `SET` expressions read the row as it was).
const REWRITE: &str = concat!(
    "UPDATE entries AS e SET canonical_url = n.url, fingerprint = n.print, last_seen = $2, in_feed = 1,
            signature = CASE WHEN e.entry = n.entry THEN e.signature ELSE n.signature END,
            bands = CASE WHEN e.entry = n.entry THEN e.bands ELSE n.bands END, entry = n.entry,
            sort_date = n.sort_date, text_size = n.text_size, has_content = n.has_content, raw_digest = n.digest
     FROM ",
    entry_columns!(),
    "
     WHERE e.source = $1 AND e.id = n.id"
);

/// `rows` as the arrays of `entry_columns!`, to bind after the source and the time.
fn entry_arrays(rows: &[Row]) -> [Box<dyn ToSql + Sync + '_>; 10] {
    [
        Box::new(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.url.as_deref()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.print.as_deref()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.json.as_str()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.sort_date).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.text_size).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.has_content).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.signature.as_deref()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.bands.as_deref()).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.digest.as_deref()).collect::<Vec<_>>()),
    ]
}

/// Runs `sql` (prepared once per connection) on `rows` as `entry_columns!`; the rows it changed.
async fn execute_rows(
    tx: &CachingTx<'_>,
    sql: &str,
    source: &str,
    now: i64,
    rows: &[Row],
) -> Result<u64, tokio_postgres::Error> {
    let arrays = entry_arrays(rows);
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&source, &now];
    params.extend(arrays.iter().map(|a| a.as_ref() as &(dyn ToSql + Sync)));
    tx.execute(&tx.prepare_cached(sql).await?, &params).await
}

/// Writes what the reconciliation of `source` held back — kept entries rewritten and unlisted (at
/// `listed_before` at the latest, when the feed listed them last), the new ones, signed here when they
/// came unsigned (over the cores) — and moves the content version when `changed`: signed first, then
/// every statement sent at once, the version's row last (it is held to the commit). Returns how many
/// new entries were written.
async fn write(
    tx: &CachingTx<'_>,
    source: &str,
    mut writes: Writes,
    listed_before: Option<i64>,
    now: DateTime<Utc>,
    sign: Signer,
    changed: bool,
) -> Result<usize, tokio_postgres::Error> {
    let now = ts(now);
    let unsigned: Vec<&mut NewEntry> = writes.new.iter_mut().filter(|p| p.packed.is_none()).collect();
    let signatures = crate::cores::over_cores(unsigned.len(), |range| {
        unsigned[range].iter().map(|p| sign(&p.entry)).collect::<Vec<_>>()
    });
    for (p, packed) in unsigned.into_iter().zip(signatures.into_iter().flatten()) {
        p.packed = Some(packed);
    }
    let new: Vec<Row> = writes.new.into_iter().map(|p| Row::new(&p.entry, &p.keys, p.json, p.packed)).collect();
    let (ids, dates): (Vec<String>, Vec<i64>) = writes.redated.into_iter().unzip();
    let rewrite = async {
        match writes.rewritten.is_empty() {
            true => Ok(0),
            false => execute_rows(tx, REWRITE, source, now, &writes.rewritten).await,
        }
    };
    let redate = async {
        if ids.is_empty() {
            return Ok(0);
        }
        let statement = tx
            .prepare_cached(
                "UPDATE story_members AS m SET head_date = n.date FROM unnest($2::text[], $3::bigint[]) AS n(id, date)
                 WHERE m.head_source = $1 AND m.head_id = n.id",
            )
            .await?;
        tx.execute(&statement, &[&source, &ids, &dates]).await
    };
    let unlist = async {
        if writes.unlisted.is_empty() {
            return Ok(0);
        }
        let listed = listed_before.unwrap_or(i64::MIN);
        let statement = tx
            .prepare_cached("UPDATE entries SET in_feed = 0, last_seen = greatest(last_seen, $2) WHERE rowid = ANY($1)")
            .await?;
        tx.execute(&statement, &[&writes.unlisted, &listed]).await
    };
    let insert = async {
        match new.is_empty() {
            true => Ok(0),
            false => execute_rows(tx, INSERT_NEW, source, now, &new).await,
        }
    };
    let bump = async {
        match changed {
            true => tx.execute(&tx.prepare_cached(BUMP_CONTENT_VERSION).await?, &[]).await,
            false => Ok(0),
        }
    };
    let (_, _, _, inserted, _) = try_join5(rewrite, redate, unlist, insert, bump).await?;
    Ok(usize::try_from(inserted).unwrap_or(usize::MAX))
}

/// [`SourceEntries`] on one source's transaction: reads block on their statements, writes are held
/// in [`Writes`] until the reconciliation ends (nothing reads them back before).
struct PgSourceEntries<'a, 't> {
    store: &'a PgStore,
    tx: &'a CachingTx<'t>,
    source: &'a str,
    /// The source's kept entries, read with its row (taken by the first `kept`).
    kept: Option<Vec<Kept>>,
    /// The source's tombstone keys, read with its row.
    tombstones: Option<HashSet<String>>,
    writes: Writes,
}

impl PgSourceEntries<'_, '_> {
    fn block<T>(&self, f: impl Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T, PgError> {
        self.store.block(f)?.map_err(self.store.db())
    }
}

impl SourceEntries for PgSourceEntries<'_, '_> {
    type Error = PgError;

    fn kept(&mut self) -> Result<Vec<Kept>, PgError> {
        match self.kept.take() {
            Some(kept) => Ok(kept),
            None => self.block(kept_rows(self.tx, self.source)),
        }
    }

    fn purged(&mut self, id: &str, url: Option<&str>, print: Option<&[u8; 32]>) -> Result<bool, PgError> {
        let tombstones = match &mut self.tombstones {
            Some(t) => t,
            None => {
                let keys = self.block(tombstone_keys(self.tx, self.source))?;
                self.tombstones.insert(keys)
            }
        };
        Ok(tombstones.contains(id)
            || url.is_some_and(|u| tombstones.contains(&format!("url:{u}")))
            || print.is_some_and(|p| tombstones.contains(&hex(p))))
    }

    fn encode(&self, entry: &Entry) -> Result<String, PgError> {
        serde_json::to_string(entry).map_err(|e| PgError::Setup {
            url: self.store.shown.to_string(),
            message: format!("entry {} of {}: {e}", entry.id, self.source),
        })
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
    ) -> Result<(), PgError> {
        let row = Row::new(entry, keys, encoded.to_owned(), signature);
        if kept.sort_date.map(ts) != Some(row.sort_date) {
            self.writes.redated.push((entry.id.clone(), row.sort_date));
        }
        self.writes.rewritten.push(row);
        Ok(())
    }

    fn add(&mut self, entry: Entry, encoded: String, keys: Keys, packed: Option<Packed>) -> Result<(), PgError> {
        self.writes.new.push(NewEntry { entry, json: encoded, keys, packed });
        Ok(())
    }

    fn unlist(&mut self, kept: &Kept) -> Result<(), PgError> {
        self.writes.unlisted.push(kept.handle);
        Ok(())
    }
}

/// `source`'s stored entries, in the order written.
async fn kept_rows(tx: &CachingTx<'_>, source: &str) -> Result<Vec<Kept>, tokio_postgres::Error> {
    let statement = tx
        .prepare_cached(
            "SELECT rowid, id, canonical_url, fingerprint, first_seen, entry, sort_date, in_feed, raw_digest
             FROM entries WHERE source = $1 ORDER BY rowid",
        )
        .await?;
    let rows = tx.query(&statement, &[&source]).await?;
    Ok(rows
        .into_iter()
        .map(|r| Kept {
            handle: r.get(0),
            id: r.get(1),
            url: r.get(2),
            print: r.get(3),
            first_seen: from_ts(r.get(4)),
            encoded: r.get(5),
            sort_date: r.get::<_, Option<i64>>(6).map(from_ts),
            in_feed: r.get::<_, i32>(7) != 0,
            digest: r.get(8),
        })
        .collect())
}

/// The keys of `source`'s tombstones (ids, `url:` URLs, fingerprints).
async fn tombstone_keys(tx: &CachingTx<'_>, source: &str) -> Result<HashSet<String>, tokio_postgres::Error> {
    let statement = tx.prepare_cached("SELECT key FROM tombstones WHERE source = $1").await?;
    Ok(tx.query(&statement, &[&source]).await?.into_iter().map(|r| r.get(0)).collect())
}

/// What a source's row held before this write: title, site, when its feed last listed its entries,
/// configured URL.
type Before = (Option<String>, Option<String>, Option<i64>, String);

/// Takes the signatures' lock shared, then the source's row (to the commit), and reads what it held.
/// Before any row: a signature drop starting meanwhile waits for this write, or this write for it,
/// never each for the other's rows. Both sent at once, answered in order.
async fn hold_source(tx: &CachingTx<'_>, name: &str) -> Result<Option<Before>, tokio_postgres::Error> {
    let (lock, row) = try_join(tx.prepare_cached(LOCK_SHARED), tx.prepare_cached(HOLD_SOURCE)).await?;
    let (_, before) = try_join(tx.execute(&lock, &[&LOCK_SIGNATURES]), tx.query_opt(&row, &[&name])).await?;
    Ok(before.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
}

const HOLD_SOURCE: &str = "SELECT title, site_url, listed_at, configured_url FROM sources WHERE name = $1 FOR UPDATE";

/// What [`save_source`] replaced.
struct Saved {
    /// Whether what the outputs show of the source (title, site) changed.
    shown_changed: bool,
    /// When its feed listed its entries before this run.
    listed_before: Option<i64>,
}

/// Saves a source's state (its `host` the one it is fetched from), and when its feed last listed its
/// entries (`listed`, kept when `None`), over `before` (what its row held, [`hold_source`]: a purge, or
/// another worker, waits for this source's write). Recorded, the source is no longer `worker`'s to
/// hold: its lease is given back in the same transaction.
async fn save_source(
    tx: &CachingTx<'_>,
    u: &SourceUpdate,
    listed: Option<DateTime<Utc>>,
    before: Option<Before>,
    worker: Option<&str>,
) -> Result<Saved, tokio_postgres::Error> {
    let s = &u.state;
    let url_changed = before.as_ref().is_some_and(|(.., url)| *url != u.configured_url);
    let saved = Saved {
        shown_changed: before.as_ref().is_none_or(|(title, site, ..)| (title, site) != (&s.title, &s.site_url)),
        listed_before: before.and_then(|(_, _, listed, _)| listed),
    };
    let join = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
    let hours: Vec<String> = s.skip_hours.iter().map(u8::to_string).collect();
    let failures = i32::try_from(s.failures).unwrap_or(i32::MAX);
    let redirect_count = s.redirect.as_ref().map_or(0, |r| i32::try_from(r.count).unwrap_or(i32::MAX));
    let upsert = tx.prepare_cached(
        "INSERT INTO sources (name, configured_url, url_in_use, etag, last_modified, body_hash, last_fetch, last_success,
                              last_error, failures, next_fetch, redirect_target, redirect_first_seen, redirect_count,
                              skip_hours, skip_days, title, site_url, gone_since, listed_at, source_key, config_digest,
                              host)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 coalesce($21, $1), $22, $23)
         ON CONFLICT (name) DO UPDATE SET
            configured_url = excluded.configured_url, url_in_use = excluded.url_in_use, etag = excluded.etag,
            last_modified = excluded.last_modified, body_hash = excluded.body_hash, last_fetch = excluded.last_fetch,
            last_success = excluded.last_success, last_error = excluded.last_error, failures = excluded.failures,
            next_fetch = excluded.next_fetch, redirect_target = excluded.redirect_target,
            redirect_first_seen = excluded.redirect_first_seen, redirect_count = excluded.redirect_count,
            skip_hours = excluded.skip_hours, skip_days = excluded.skip_days, title = excluded.title,
            site_url = excluded.site_url, gone_since = excluded.gone_since,
            listed_at = coalesce(excluded.listed_at, sources.listed_at), config_digest = excluded.config_digest,
            host = excluded.host,
            leased_by = CASE WHEN sources.leased_by = $24 THEN NULL ELSE sources.leased_by END,
            lease_until = CASE WHEN sources.leased_by = $24 THEN NULL ELSE sources.lease_until END",
    );
    let upsert = upsert.await?;
    let upserted = async {
        tx.execute(
            &upsert,
            &[
                &u.name,
                &u.configured_url,
                &s.url_in_use,
                &s.validators.etag,
                &s.validators.last_modified,
                &s.body_hash,
                &s.last_fetch.map(ts),
                &s.last_success.map(ts),
                &s.last_error,
                &failures,
                &s.next_fetch.map(ts),
                &s.redirect.as_ref().map(|r| r.target.clone()),
                &s.redirect.as_ref().map(|r| ts(r.first_seen)),
                &redirect_count,
                &join(&hours),
                &join(&s.skip_days),
                &s.title,
                &s.site_url,
                &s.gone_since.map(ts),
                &listed.map(ts),
                &s.source_key,
                &s.config_digest,
                // Where it is fetched from: a redirect adopted to another host moves its `per_host` count.
                &super::sources::host_of(s.url_in_use.as_deref().unwrap_or(&u.configured_url)),
                &worker,
            ],
        )
        .await
    };
    // A body read this run replaces the last one; none keeps it, unless it was read for another URL.
    let raw = async {
        match &s.raw {
            Some(raw) => {
                let statement = tx
                    .prepare_cached(
                "INSERT INTO raw_bodies (source, configured_url, body, content_type, url) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (source) DO UPDATE SET configured_url = excluded.configured_url, body = excluded.body,
                    content_type = excluded.content_type, url = excluded.url",
                    )
                    .await?;
                tx.execute(&statement, &[&u.name, &u.configured_url, &raw.deflated, &raw.content_type, &raw.url])
                    .await
                    .map(drop)
            }
            None if url_changed => {
                let statement = tx.prepare_cached("DELETE FROM raw_bodies WHERE source = $1").await?;
                tx.execute(&statement, &[&u.name]).await.map(drop)
            }
            None => Ok(()),
        }
    };
    // The row first (a raw body refers to it), then the body, without waiting in between.
    try_join(upserted, raw).await?;
    Ok(saved)
}

/// Replaces what `[filters]` dropped from `source`, in one statement (the deletion sees the rows from
/// before it, not those inserted beside it), in the order dropped (`seq`).
async fn save_filtered(
    tx: &CachingTx<'_>,
    source: &str,
    dropped: &[crate::filter::Dropped],
) -> Result<(), tokio_postgres::Error> {
    let canonical: Vec<Option<String>> = dropped
        .iter()
        .map(|d| d.url.as_deref().and_then(|u| Url::parse(u).ok()).map(|u| crate::normalize::urls::canonical(&u)))
        .collect();
    let guids: Vec<Option<&str>> = dropped.iter().map(|d| d.guid.as_deref()).collect();
    let urls: Vec<Option<&str>> = dropped.iter().map(|d| d.url.as_deref()).collect();
    let titles: Vec<&str> = dropped.iter().map(|d| d.title.as_str()).collect();
    let reasons: Vec<&str> = dropped.iter().map(|d| d.reason.as_str()).collect();
    tx.execute(
        &tx.prepare_cached(
            "WITH gone AS (DELETE FROM filtered WHERE source = $1)
         INSERT INTO filtered (source, guid, url, canonical_url, title, reason)
         SELECT $1, f.guid, f.url, f.canonical_url, f.title, f.reason
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS f(guid, url, canonical_url, title, reason, ord)
         ORDER BY f.ord",
        )
        .await?,
        &[&source, &guids, &urls, &canonical, &titles, &reasons],
    )
    .await?;
    Ok(())
}

/// After a signature version change, forgets every stored signature, for [`fill_signatures`] to
/// compute again. The `meta` row is locked first, so two workers starting at once drop them once;
/// then [`LOCK_SIGNATURES`], exclusive: the drop waits for the source writes in progress (each holds
/// it shared) and new ones wait for it, instead of the two rewriting the same entries in different
/// orders (a deadlock, which PostgreSQL would end by failing one of them).
async fn drop_stale_signatures(tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    let version = SIGNATURE_VERSION.to_string();
    let stored: Option<String> =
        tx.query_opt("SELECT value FROM meta WHERE key = 'signature_version' FOR UPDATE", &[]).await?.map(|r| r.get(0));
    if stored.as_deref() != Some(version.as_str()) {
        tx.execute(LOCK, &[&LOCK_SIGNATURES]).await?;
        tx.execute("UPDATE entries SET signature = NULL, bands = NULL WHERE signature IS NOT NULL", &[]).await?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('signature_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&version],
        )
        .await?;
    }
    Ok(())
}

/// Signs every entry that has none (those [`drop_stale_signatures`] dropped), a batch at a time, each
/// batch one statement; an entry this feedmill cannot read gets an empty signature, so it leaves the
/// unsigned index. Under [`LOCK_SIGNATURES`], exclusive, once there is something to sign (the check
/// itself waits for no one): no source write rewrites the same entries meanwhile, and a second
/// worker filling at once finds them signed when its turn comes.
async fn fill_signatures(tx: &Transaction<'_>, sign: Signer) -> Result<(), tokio_postgres::Error> {
    let mut locked = false;
    loop {
        let stale =
            tx.query("SELECT rowid, entry FROM entries WHERE signature IS NULL ORDER BY rowid LIMIT 4096", &[]).await?;
        if stale.is_empty() {
            return Ok(());
        }
        if !locked {
            tx.execute(LOCK, &[&LOCK_SIGNATURES]).await?;
            locked = true;
            // Read again: another worker may have signed them while this one waited.
            continue;
        }
        let jsons: Vec<&str> = stale.iter().map(|r| r.get(1)).collect();
        let packed: Vec<Packed> = crate::cores::over_cores(jsons.len(), |range| {
            jsons[range]
                .iter()
                .map(|json| {
                    serde_json::from_str::<Entry>(json)
                        .map_or_else(|_| Packed { signature: Vec::new(), bands: Vec::new() }, |e| sign(&e))
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        let rowids: Vec<i64> = stale.iter().map(|r| r.get(0)).collect();
        let signatures: Vec<&[u8]> = packed.iter().map(|p| p.signature.as_slice()).collect();
        let bands: Vec<&[u8]> = packed.iter().map(|p| p.bands.as_slice()).collect();
        tx.execute(
            "UPDATE entries AS e SET signature = n.signature, bands = n.bands
             FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS n(rowid, signature, bands)
             WHERE e.rowid = n.rowid",
            &[&rowids, &signatures, &bands],
        )
        .await?;
    }
}

/// [`Listings`] from the pool: each read sees the last commit (the recorder's own transactions
/// commit per source) and never waits for a writer.
struct PgListings(PgStore);

impl Listings for PgListings {
    fn entries(&self, source: &str, digests: &[RawDigest]) -> Result<HashMap<RawDigest, Entry>, StoreError> {
        let store = &self.0;
        let wanted: Vec<Vec<u8>> = digests.iter().map(|d| d.to_vec()).collect();
        let rows = store.block(async {
            let client = store.client().await?;
            client
                .query(
                    "SELECT raw_digest, entry FROM entries
                     WHERE source = $1 AND in_feed = 1 AND raw_digest = ANY($2)",
                    &[&source, &wanted],
                )
                .await
                .map_err(store.db())
        })??;
        let mut out = HashMap::new();
        for r in rows {
            let Ok(digest) = RawDigest::try_from(r.get::<_, &[u8]>(0)) else { continue };
            // An entry this feedmill cannot read back is normalized again, as if it were not stored.
            if let Ok(entry) = serde_json::from_str::<Entry>(r.get(1)) {
                out.insert(digest, entry);
            }
        }
        Ok(out)
    }

    fn raw_body(&self, source: &str) -> Result<Option<RawBody>, StoreError> {
        self.0.raw_body(source)
    }
}
