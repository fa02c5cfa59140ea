//! Recording a run ([`Record`] and [`RunWrite`] on SQLite): each source's state, the entries its feed
//! lists now, and what its filters dropped, all in one transaction. Which kept entry a listed one is,
//! the caller decides (the pipeline, with `dedup::history::reconcile`) through the
//! [`SourceEntries`](crate::dedup::history::SourceEntries) this recorder lends it. New entries are held
//! back and signed a batch at a time, over the cores, with the signer the caller gave ([`Signer`]), so
//! each is written once, with its signature.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use url::Url;

use super::source_entries::{write_entry, NewEntry};
use super::{
    bulk, bump_content_version, exec, source_entries, sqlite_error, ts, EntriesUpdate, Listings, Reconcile, Reconciled,
    Record, RunWrite, Signer, SourceUpdate, Store, StoreError,
};
use crate::dedup::near::{Packed, SIGNATURE_VERSION};
use crate::dedup::stories::StoryStore;
use crate::model::Entry;

impl Record for Store {
    type Lent = rusqlite::Error;
    type Recorder<'a> = Recorder<'a>;

    /// Starts recording a run: [`RunWrite::add`] each source's update as it arrives (so a run never
    /// holds every source's entries at once), then [`RunWrite::commit`]. Dropped without a commit,
    /// nothing of the run is kept. The write lock is taken here, before any fetch: a database locked by
    /// another program fails the run (after `busy_timeout`) before its sources are fetched for nothing.
    /// `sign` signs the new entries that come unsigned, and every entry after a signature version change.
    fn recorder(&mut self, now: DateTime<Utc>, sign: Signer) -> Result<Recorder<'_>, StoreError> {
        let busy_timeout = self.busy_timeout;
        let err = |source| sqlite_error(&self.path, busy_timeout, source);
        let tx = Store::write_transaction(&mut self.conn).map_err(err)?;
        // Before any entry is signed as it is written: signatures of another version are dropped here.
        drop_stale_signatures(&tx).map_err(err)?;
        // A first run fills the table from empty: its indexes are built once it is full.
        let deferred = bulk::Deferred::drop_if_empty(&tx, "entries").map_err(err)?;
        let filtered_sources = {
            let mut stmt = tx.prepare("SELECT DISTINCT source FROM filtered").map_err(err)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
            rows.collect::<Result<HashSet<String>, _>>().map_err(err)?
        };
        Ok(Recorder {
            tx,
            path: &self.path,
            busy_timeout,
            now,
            sign,
            out: HashMap::new(),
            changed: false,
            pending: Vec::new(),
            pending_sources: HashSet::new(),
            added: HashSet::new(),
            deferred,
            filtered_sources,
        })
    }

    fn merge_stories<T>(
        &mut self,
        merge: impl FnOnce(&mut dyn StoryStore<Error = rusqlite::Error>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.sqlite_merge_stories(merge)
    }

    fn listings(&self) -> Option<Arc<dyn Listings>> {
        self.sqlite_listings().map(|l| Arc::new(l) as Arc<dyn Listings>)
    }
}

/// One run being written: a transaction over the store (see [`Record::recorder`]).
pub struct Recorder<'a> {
    pub(super) tx: Transaction<'a>,
    path: &'a Path,
    busy_timeout: Duration,
    now: DateTime<Utc>,
    sign: Signer,
    out: HashMap<String, Reconciled>,
    changed: bool,
    /// New entries not yet written: those that came unsigned are signed a batch at a time, over the
    /// cores, so each is written once, with its signature.
    pending: Vec<NewEntry>,
    /// The sources with entries in `pending`.
    pending_sources: HashSet<String>,
    /// The sources with an entry written this run: the only ones whose count of entries changed.
    added: HashSet<String>,
    /// The indexes of `entries`, when this run fills it from empty ([`bulk`]).
    deferred: bulk::Deferred,
    /// The sources with rows in `filtered`: only theirs need deleting, so a run over sources without
    /// filters costs no statement per source.
    filtered_sources: HashSet<String>,
}

/// How many new entries [`Recorder`] holds before writing them, signing at once those that came unsigned.
pub(super) const SIGN_BATCH: usize = 2048;

impl RunWrite for Recorder<'_> {
    type Lent = rusqlite::Error;

    /// Writes one source's state and, when its feed was parsed, its entries as `reconcile` matches them
    /// with the kept ones ([`commit`](Self::commit) reports how they related to the store).
    fn add(&mut self, u: SourceUpdate, reconcile: Reconcile<'_, rusqlite::Error>) -> Result<(), StoreError> {
        let (path, busy_timeout) = (self.path, self.busy_timeout);
        let err = |source| sqlite_error(path, busy_timeout, source);
        // A parsed or unchanged feed still lists its in-feed entries: its `listed_at` says so for all.
        let listed = match &u.entries {
            EntriesUpdate::Parsed(_) | EntriesUpdate::Unchanged => Some(self.now),
            EntriesUpdate::Unknown => None,
        };
        let saved = save_source(&self.tx, &u, listed).map_err(err)?;
        self.changed |= saved.shown_changed;
        if let Some(dropped) = &u.filtered {
            let had_rows = self.filtered_sources.remove(&u.name);
            save_filtered(&self.tx, &u.name, had_rows, dropped).map_err(err)?;
            if !dropped.is_empty() {
                self.filtered_sources.insert(u.name.clone());
            }
        }
        match u.entries {
            EntriesUpdate::Parsed(entries) => {
                if self.pending_sources.contains(&u.name) {
                    // The same source twice in one run: the second must see the first's entries.
                    self.write_pending().map_err(err)?;
                }
                let mut kept = source_entries::SqliteEntries {
                    tx: &self.tx,
                    source: &u.name,
                    now: self.now,
                    listed_before: saved.listed_before,
                    pending: &mut self.pending,
                    tombstones: None,
                };
                let r = reconcile(&mut kept, entries).map_err(err)?;
                self.changed |= r.updated > 0;
                self.out.insert(u.name.clone(), r);
                self.pending_sources.insert(u.name.clone());
            }
            EntriesUpdate::Unchanged | EntriesUpdate::Unknown => {}
        }
        if self.pending.len() >= SIGN_BATCH {
            self.write_pending().map_err(err)?;
        }
        Ok(())
    }

    /// Writes the new entries still waiting, signs those a signature version change left unsigned, and
    /// commits the run; returns every parsed source's reconciliation.
    fn commit(mut self) -> Result<HashMap<String, Reconciled>, StoreError> {
        let (path, busy_timeout) = (self.path, self.busy_timeout);
        let err = |source| sqlite_error(path, busy_timeout, source);
        self.write_pending().map_err(err)?;
        std::mem::take(&mut self.deferred).rebuild(&self.tx).map_err(err)?;
        fill_signatures(&self.tx, self.sign).map_err(err)?;
        if self.changed {
            bump_content_version(&self.tx, self.added.iter().map(String::as_str)).map_err(err)?;
        }
        self.tx.commit().map_err(err)?;
        Ok(self.out)
    }
}

impl Recorder<'_> {
    /// Signs the new entries waiting that came unsigned, and writes them all.
    fn write_pending(&mut self) -> rusqlite::Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        self.pending_sources.clear();
        let unsigned: Vec<&mut NewEntry> = pending.iter_mut().filter(|p| p.packed.is_none()).collect();
        let sign = self.sign;
        let signatures = crate::cores::over_cores(unsigned.len(), |range| {
            unsigned[range].iter().map(|p| sign(&p.entry)).collect::<Vec<_>>()
        });
        for (p, packed) in unsigned.into_iter().zip(signatures.into_iter().flatten()) {
            p.packed = Some(packed);
        }
        for p in pending {
            let inserted = write_entry(
                &self.tx,
                "INSERT OR IGNORE INTO entries (source, id, canonical_url, fingerprint, first_seen, last_seen, in_feed,
                                                entry, sort_date, text_size, has_content, signature, bands, raw_digest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                &p.source,
                &p.entry,
                (p.url.as_deref(), p.print, p.digest),
                self.now,
                &p.json,
                (p.text_size, p.packed),
            )?;
            if inserted > 0 {
                // Until it is merged into the stories (`stories::update`).
                exec(&self.tx, "INSERT INTO unstoried (entry) VALUES (?1)", [self.tx.last_insert_rowid()])?;
                self.changed = true;
                self.out.entry(p.source.clone()).or_default().new += 1;
                if !self.added.contains(&p.source) {
                    self.added.insert(p.source.clone());
                }
            }
        }
        Ok(())
    }
}

/// After a signature version change, forgets every stored signature, for [`fill_signatures`] to
/// compute again.
fn drop_stale_signatures(tx: &Transaction) -> rusqlite::Result<()> {
    let version = SIGNATURE_VERSION.to_string();
    let stored: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = 'signature_version'", [], |r| r.get(0)).optional()?;
    if stored.as_deref() != Some(version.as_str()) {
        tx.execute("UPDATE entries SET signature = NULL, bands = NULL WHERE signature IS NOT NULL", [])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('signature_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&version],
        )?;
    }
    Ok(())
}

/// Computes the near-duplicate signature of every entry that has none: those whose signature
/// [`drop_stale_signatures`] dropped (entries written by this run are signed as they are written).
fn fill_signatures(tx: &Transaction, sign_one: Signer) -> rusqlite::Result<()> {
    // Served by the partial index `entries_unsigned`: no scan when every entry is signed. In batches,
    // so a cold run of 10,000 sources never holds every new entry's JSON at once.
    let mut select = tx.prepare("SELECT source, id, entry FROM entries WHERE signature IS NULL LIMIT 4096")?;
    let mut update = tx.prepare("UPDATE entries SET signature = ?3, bands = ?4 WHERE source = ?1 AND id = ?2")?;
    loop {
        let stale: Vec<(String, String, String)> =
            select.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
        if stale.is_empty() {
            return Ok(());
        }
        for ((source, id, _), Packed { signature, bands }) in stale.iter().zip(sign(&stale, sign_one)) {
            update.execute(params![source, id, signature, bands])?;
        }
    }
}

/// Each row's signature bytes and band tags; empty for an entry this version cannot read (no
/// signature, and out of the unsigned index: `Signature::from_bytes` refuses it, and `Store::entries`
/// skips the row).
fn sign(rows: &[(String, String, String)], sign: Signer) -> Vec<Packed> {
    // Signing reads every new text (HTML to text, word folding): spread it over the cores.
    let parts = crate::cores::over_cores(rows.len(), |range| {
        rows[range]
            .iter()
            .map(|(_, _, json)| {
                serde_json::from_str::<Entry>(json)
                    .map_or_else(|_| Packed { signature: Vec::new(), bands: Vec::new() }, |e| sign(&e))
            })
            .collect::<Vec<_>>()
    });
    parts.into_iter().flatten().collect()
}

/// Replaces what `[filters]` dropped from `source` (`had_rows`: it has rows to replace).
fn save_filtered(
    tx: &Transaction,
    source: &str,
    had_rows: bool,
    dropped: &[crate::filter::Dropped],
) -> rusqlite::Result<()> {
    if had_rows {
        exec(tx, "DELETE FROM filtered WHERE source = ?1", [source])?;
    }
    for d in dropped {
        let canonical =
            d.url.as_deref().and_then(|u| Url::parse(u).ok()).map(|u| crate::normalize::urls::canonical(&u));
        exec(
            tx,
            "INSERT INTO filtered (source, guid, url, canonical_url, title, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![source, d.guid, d.url, canonical, d.title, d.reason],
        )?;
    }
    Ok(())
}

/// What [`save_source`] replaced.
struct Saved {
    /// Whether what the outputs show of the source (title, site) changed.
    shown_changed: bool,
    /// When its feed listed its entries before this run.
    listed_before: Option<i64>,
}

/// Saves a source's state, and when its feed last listed its entries (`listed`, kept when `None`).
fn save_source(tx: &Transaction, u: &SourceUpdate, listed: Option<DateTime<Utc>>) -> rusqlite::Result<Saved> {
    let s = &u.state;
    type Before = (Option<String>, Option<String>, Option<i64>, String);
    let before: Option<Before> = tx
        .prepare_cached("SELECT title, site_url, listed_at, configured_url FROM sources WHERE name = ?1")?
        .query_row([&u.name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let url_changed = before.as_ref().is_some_and(|(.., url)| *url != u.configured_url);
    let saved = Saved {
        shown_changed: before.as_ref().is_none_or(|(title, site, ..)| (title, site) != (&s.title, &s.site_url)),
        listed_before: before.and_then(|(_, _, listed, _)| listed),
    };
    let join = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
    let hours: Vec<String> = s.skip_hours.iter().map(u8::to_string).collect();
    exec(
        tx,
        "INSERT INTO sources (name, configured_url, url_in_use, etag, last_modified, body_hash, last_fetch, last_success,
                              last_error, failures, next_fetch, redirect_target, redirect_first_seen, redirect_count,
                              skip_hours, skip_days, title, site_url, gone_since, listed_at, source_key, config_digest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 coalesce(?21, ?1), ?22)
         ON CONFLICT (name) DO UPDATE SET
            configured_url = excluded.configured_url, url_in_use = excluded.url_in_use, etag = excluded.etag,
            last_modified = excluded.last_modified, body_hash = excluded.body_hash, last_fetch = excluded.last_fetch,
            last_success = excluded.last_success, last_error = excluded.last_error, failures = excluded.failures,
            next_fetch = excluded.next_fetch, redirect_target = excluded.redirect_target,
            redirect_first_seen = excluded.redirect_first_seen, redirect_count = excluded.redirect_count,
            skip_hours = excluded.skip_hours, skip_days = excluded.skip_days, title = excluded.title,
            site_url = excluded.site_url, gone_since = excluded.gone_since,
            listed_at = coalesce(excluded.listed_at, listed_at), config_digest = excluded.config_digest",
        params![
            u.name,
            u.configured_url,
            s.url_in_use,
            s.validators.etag,
            s.validators.last_modified,
            s.body_hash,
            s.last_fetch.map(ts),
            s.last_success.map(ts),
            s.last_error,
            s.failures,
            s.next_fetch.map(ts),
            s.redirect.as_ref().map(|r| r.target.clone()),
            s.redirect.as_ref().map(|r| ts(r.first_seen)),
            s.redirect.as_ref().map_or(0, |r| r.count),
            join(&hours),
            join(&s.skip_days),
            s.title,
            s.site_url,
            s.gone_since.map(ts),
            listed.map(ts),
            s.source_key,
            s.config_digest,
        ],
    )?;
    // A body read this run replaces the last one; none keeps it, unless it was read for another URL.
    match &s.raw {
        Some(raw) => exec(
            tx,
            "INSERT OR REPLACE INTO raw_bodies (source, configured_url, body, content_type, url) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![u.name, u.configured_url, raw.deflated, raw.content_type, raw.url],
        )?,
        None if url_changed => {
            exec(tx, "DELETE FROM raw_bodies WHERE source = ?1", [&u.name])?
        }
        None => 0,
    };
    Ok(saved)
}
