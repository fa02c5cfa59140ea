//! Stories kept between runs: per dedup mode in use, the story each stored entry belongs to (table
//! `story_members`), so a run merges only the entries it met and a build reads only the stories its
//! feeds show.
//!
//! Which stories the entries make is decided in `dedup::stories`, which the caller runs over the
//! [`StoryStore`] this backend lends it ([`Record::merge_stories`](super::Record::merge_stories)); the backend keeps them and reads
//! for it: rows as merge copies (keys, dates and sizes, no text), the entries no
//! merge has met yet (table `unstoried`), the stories they may join, and a window's band tags.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::{from_ts, sqlite_error, Store, StoreError, Stories};
use crate::dedup::near::{self, Signature};
use crate::dedup::stories::{Lookup, MergeOrder, NearCandidate, Seed, StoryStore};
use crate::dedup::{DedupMode, Group, Joined, Member, StoryCopy};
use crate::model::Entry;

/// The columns [`copy`] reads, in order.
pub(super) const COPY_COLUMNS: &str =
    "e.source, e.id, e.first_seen, e.sort_date, e.text_size, e.has_content, e.canonical_url, e.fingerprint, e.signature";
/// [`COPY_COLUMNS`] without the signature, for a merge whose plan (`dedup::Plan`) holds them.
const COPY_COLUMNS_UNSIGNED: &str =
    "e.source, e.id, e.first_seen, e.sort_date, e.text_size, e.has_content, e.canonical_url, e.fingerprint, NULL";

/// A story's published copy, as [`Stories::stories_newest_first`] meets it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoryHead {
    pub source: String,
    pub id: String,
}

/// A story read back by [`Stories::story`]: its copies in the order they joined, each with its entry.
#[derive(Debug)]
pub struct StoredStory {
    pub copies: Vec<(Member, Entry)>,
    /// Index of the published copy in `copies`.
    pub head: usize,
}

impl Store {
    /// [`Record::merge_stories`](super::Record::merge_stories): one write transaction.
    pub(super) fn sqlite_merge_stories<T>(
        &mut self,
        merge: impl FnOnce(&mut dyn StoryStore<Error = rusqlite::Error>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let (path, busy_timeout) = (self.path.clone(), self.busy_timeout);
        let err = |source| sqlite_error(&path, busy_timeout, source);
        let tx = Store::write_transaction(&mut self.conn).map_err(err)?;
        let merged = merge(&mut SqliteStories { tx: &tx, shared: None }).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(merged)
    }
}

impl Stories for Store {
    /// Walks the stories of `mode`, newest first (by the published copy's date, then id, as feeds list
    /// them), giving each one's published copy and the sources of all its copies; stops when `visit`
    /// returns false.
    fn stories_newest_first(
        &self,
        mode: &DedupMode,
        mut visit: impl FnMut(&StoryHead, &[String]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT head_source, head_id, source FROM story_members WHERE mode = ?1
                 ORDER BY head_date DESC, head_id, head_source",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query([mode.key()]).map_err(self.err())?;
        let mut current: Option<StoryHead> = None;
        let mut sources: Vec<String> = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let head = StoryHead { source: r.get(0).map_err(self.err())?, id: r.get(1).map_err(self.err())? };
            if current.as_ref().is_some_and(|c| *c != head) {
                if let Some(c) = current.take() {
                    if !visit(&c, &sources)? {
                        return Ok(());
                    }
                }
                sources.clear();
            }
            current = Some(head);
            sources.push(r.get(2).map_err(self.err())?);
        }
        if let Some(c) = current {
            visit(&c, &sources)?;
        }
        Ok(())
    }

    /// The story `head` publishes under `mode`, with every copy's entry; `positions` maps source names to
    /// their config index. `None` when its published entry is gone or unreadable.
    fn story(
        &self,
        mode: &DedupMode,
        head: &StoryHead,
        positions: &HashMap<&str, usize>,
    ) -> Result<Option<StoredStory>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT m.source, m.id, m.layer, m.joined, m.effect, e.entry
                 FROM story_members m INDEXED BY story_members_by_head
                 JOIN entries e ON e.source = m.source AND e.id = m.id
                 WHERE m.head_source = ?1 AND m.head_id = ?2 AND m.mode = ?3 ORDER BY m.seq",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query(params![head.source, head.id, mode.key()]).map_err(self.err())?;
        let mut copies = Vec::new();
        let mut at = None;
        while let Some(r) = rows.next().map_err(self.err())? {
            let source: String = r.get(0).map_err(self.err())?;
            let id: String = r.get(1).map_err(self.err())?;
            let (Some(&pos), Some(entry)) =
                (positions.get(source.as_str()), readable(&source, &r.get::<_, String>(5).map_err(self.err())?))
            else {
                continue;
            };
            if source == head.source && id == head.id {
                at = Some(copies.len());
            }
            copies.push((Member { source: pos, id, joined: joined(r, 2).map_err(self.err())? }, entry));
        }
        Ok(at.map(|head| StoredStory { copies, head }))
    }

    /// Per source: its stored entries folded into another source's story under `mode`.
    fn folded(&self, mode: &DedupMode) -> Result<HashMap<String, usize>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                // Without statistics the planner prefers the primary key, which visits every member.
                "SELECT source, COUNT(*) FROM story_members INDEXED BY story_members_folded
                 WHERE mode = ?1 AND (source != head_source OR id != head_id) GROUP BY source",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([mode.key()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

/// A stored entry, or `None` (and a warning) for a row this version cannot read: skipped, not fatal, as
/// the next fetch rewrites it.
pub(super) fn readable(source: &str, json: &str) -> Option<Entry> {
    serde_json::from_str(json).map_err(|e| tracing::warn!(source, "unreadable stored entry skipped: {e}")).ok()
}

/// How a member joined its story, from its `layer, joined, effect` columns, the first at `at`.
fn joined(r: &Row, at: usize) -> rusqlite::Result<Option<Joined>> {
    let layer: Option<String> = r.get(at)?;
    Ok(match (layer, r.get::<_, Option<String>>(at + 1)?) {
        (Some(layer), Some(head)) => Some(Joined { layer, head, effect: r.get(at + 2)? }),
        _ => None,
    })
}

/// Whether `source` gives `url` to several of its entries: then the link identifies none of them
/// (`StoryCopy::new`).
fn shared_url(tx: &Transaction, source: &str, url: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT COUNT(*) > 1 FROM entries WHERE canonical_url = ?1 AND source = ?2")?
        .query_row([url, source], |r| r.get(0))
}

/// The modes whose stories are kept (each has a `stories:<mode>` entry in `meta`).
fn kept_modes(tx: &Transaction) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        tx.prepare_cached("SELECT substr(key, length('stories:') + 1) FROM meta WHERE key LIKE 'stories:%'")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// [`StoryStore`] over a write transaction. Reading every copy from scratch asks which links a source
/// shares once, for every row at once ([`SqliteStories::shared`]).
struct SqliteStories<'a, 't> {
    tx: &'a Transaction<'t>,
    /// (source, canonical URL) given to several entries of the source, read once for a merge from scratch.
    shared: Option<HashSet<(String, String)>>,
}

impl SqliteStories<'_, '_> {
    /// The links shared by several entries of their source: one grouped scan instead of a look-up per entry.
    fn shared(&mut self) -> rusqlite::Result<&HashSet<(String, String)>> {
        if self.shared.is_none() {
            let mut stmt = self.tx.prepare(
                "SELECT source, canonical_url FROM entries WHERE canonical_url IS NOT NULL
                 GROUP BY source, canonical_url HAVING COUNT(*) > 1",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            self.shared = Some(rows.collect::<Result<_, _>>()?);
        }
        Ok(self.shared.get_or_insert_with(HashSet::new))
    }
}

impl StoryStore for SqliteStories<'_, '_> {
    type Error = rusqlite::Error;

    fn forget_modes_except(&mut self, modes: &[DedupMode]) -> rusqlite::Result<()> {
        let keys: Vec<String> = modes.iter().map(DedupMode::key).collect();
        for mode in kept_modes(self.tx)? {
            if !keys.contains(&mode) {
                self.tx.execute("DELETE FROM story_members WHERE mode = ?1", [&mode])?;
                self.tx.execute("DELETE FROM meta WHERE key = ?1", [format!("stories:{mode}")])?;
            }
        }
        Ok(())
    }

    fn source_keys(&mut self) -> rusqlite::Result<HashMap<String, String>> {
        self.tx
            .prepare_cached("SELECT name, source_key FROM sources WHERE source_key IS NOT NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    }

    fn merged_from(&mut self, mode: &DedupMode) -> rusqlite::Result<Option<String>> {
        self.tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [format!("stories:{}", mode.key())], |r| r.get(0))
            .optional()
    }

    fn clear(&mut self, mode: &DedupMode) -> rusqlite::Result<()> {
        self.tx.execute("DELETE FROM story_members WHERE mode = ?1", [mode.key()]).map(drop)
    }

    fn set_merged_from(&mut self, mode: &DedupMode, inputs: &str) -> rusqlite::Result<()> {
        self.tx
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [&format!("stories:{}", mode.key()), inputs],
            )
            .map(drop)
    }

    fn merge_order(&mut self, positions: &HashMap<&str, usize>) -> rusqlite::Result<Vec<MergeOrder>> {
        let mut order = Vec::new();
        let mut stmt = self.tx.prepare("SELECT first_seen, source, rowid FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(&source) = positions.get(r.get_ref(1)?.as_str().unwrap_or_default()) {
                order.push(MergeOrder { first_seen: r.get(0)?, source, handle: r.get(2)? });
            }
        }
        Ok(order)
    }

    fn each_copy(
        &mut self,
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(i64, StoryCopy),
    ) -> rusqlite::Result<()> {
        let tx = self.tx;
        let shared = self.shared()?;
        let is_shared = |s: &str, u: &str| Ok(shared.contains(&(s.to_owned(), u.to_owned())));
        let mut stmt = tx.prepare(&format!("SELECT {COPY_COLUMNS}, e.rowid FROM entries e ORDER BY e.rowid"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if let Some((c, _)) = copy(r, positions, is_shared)? {
                visit(r.get(9)?, c);
            }
        }
        Ok(())
    }

    fn each_unsigned_copy(
        &mut self,
        order: &[MergeOrder],
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(StoryCopy),
    ) -> rusqlite::Result<()> {
        let tx = self.tx;
        let shared = self.shared()?;
        let is_shared = |s: &str, u: &str| Ok(shared.contains(&(s.to_owned(), u.to_owned())));
        let mut by_rowid = tx.prepare(&format!("SELECT {COPY_COLUMNS_UNSIGNED} FROM entries e WHERE e.rowid = ?1"))?;
        for o in order {
            let mut rows = by_rowid.query([o.handle])?;
            let row = rows.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            // Every copy takes its slot, or the plan's slots would no longer line up.
            let (c, _) = copy(row, positions, is_shared)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            visit(c);
        }
        Ok(())
    }

    fn unmerged(&mut self, positions: &HashMap<&str, usize>) -> rusqlite::Result<Vec<(MergeOrder, StoryCopy, Lookup)>> {
        let tx = self.tx;
        let mut new = Vec::new();
        let mut stmt = tx
            .prepare(&format!("SELECT {COPY_COLUMNS}, e.rowid FROM unstoried u JOIN entries e ON e.rowid = u.entry"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if let Some((c, lookup)) = copy(r, positions, |s, u| shared_url(tx, s, u))? {
                let order = MergeOrder { first_seen: c.first_seen.timestamp(), source: c.source, handle: r.get(9)? };
                new.push((order, c, lookup));
            }
        }
        Ok(new)
    }

    fn heads_sharing(
        &mut self,
        mode: &DedupMode,
        id: &str,
        lookup: &Lookup,
    ) -> rusqlite::Result<Vec<(String, String)>> {
        let merged = "NOT EXISTS (SELECT 1 FROM unstoried WHERE entry = entries.rowid)";
        let pairs = |r: &Row| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?));
        let mut hits: Vec<(String, String)> = self
            .tx
            .prepare_cached(&format!("SELECT source, id FROM entries WHERE id = ?1 AND {merged}"))?
            .query_map([id], pairs)?
            .collect::<Result<_, _>>()?;
        if let Some(url) = &lookup.url {
            let mut by_url = self
                .tx
                .prepare_cached(&format!("SELECT source, id FROM entries WHERE canonical_url = ?1 AND {merged}"))?;
            hits.extend(by_url.query_map([url], pairs)?.collect::<Result<Vec<_>, _>>()?);
        }
        if let Some(print) = &lookup.print {
            let mut by_print = self
                .tx
                .prepare_cached(&format!("SELECT source, id FROM entries WHERE fingerprint = ?1 AND {merged}"))?;
            hits.extend(by_print.query_map([print], pairs)?.collect::<Result<Vec<_>, _>>()?);
        }
        self.heads_of(mode, hits)
    }

    fn heads_of(&mut self, mode: &DedupMode, copies: Vec<(String, String)>) -> rusqlite::Result<Vec<(String, String)>> {
        let key = mode.key();
        let mut head_of = self.tx.prepare_cached(
            "SELECT head_source, head_id FROM story_members WHERE mode = ?1 AND source = ?2 AND id = ?3",
        )?;
        let mut heads = Vec::new();
        for (source, id) in copies {
            if let Some(h) = head_of.query_row(params![key, source, id], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
                heads.push(h);
            }
        }
        Ok(heads)
    }

    fn sharing_bands(
        &mut self,
        copies: &[StoryCopy],
        band_keys: &[u64],
        window: chrono::Duration,
        positions: &HashMap<&str, usize>,
    ) -> rusqlite::Result<Vec<(u64, MergeOrder)>> {
        let tx = self.tx;
        let bands = Bands::new(band_keys.iter().copied());
        // Every stored entry of the window is read here, 64 bytes each: on a crowded window (the bench's
        // 500,000 entries within 72 hours) this is most of a run that changed little.
        let mut hits = Vec::new();
        // Skipped here rather than joined: few entries wait to be merged, and the scan meets many.
        let unmerged: HashSet<i64> =
            tx.prepare_cached("SELECT entry FROM unstoried")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut in_window = tx.prepare_cached(
            "SELECT bands, rowid, first_seen, source FROM entries INDEXED BY entries_near
             WHERE sort_date BETWEEN ?1 AND ?2 AND bands IS NOT NULL",
        )?;
        for (from, to) in windows(copies.iter().map(|c| c.sort_date.timestamp()), window.num_seconds()) {
            let mut rows = in_window.query([from, to])?;
            while let Some(r) = rows.next()? {
                let tags = r.get_ref(0)?.as_blob()?;
                if !bands.shared_by(tags) || unmerged.contains(&r.get(1)?) {
                    continue;
                }
                let Some(&pos) = positions.get(r.get_ref(3)?.as_str().unwrap_or_default()) else { continue };
                let order = MergeOrder { first_seen: r.get(2)?, source: pos, handle: r.get(1)? };
                hits.extend(near::band_keys_of_bytes(tags).filter(|&k| bands.contains(k)).map(|k| (k, order)));
            }
        }
        Ok(hits)
    }

    fn near_candidates(
        &mut self,
        handles: Vec<i64>,
        positions: &HashMap<&str, usize>,
    ) -> rusqlite::Result<Vec<NearCandidate>> {
        let mut kept = Vec::with_capacity(handles.len());
        let mut by_rowid = self
            .tx
            .prepare_cached("SELECT source, id, first_seen, sort_date, signature FROM entries WHERE rowid = ?1")?;
        for rowid in handles {
            let mut rows = by_rowid.query([rowid])?;
            let Some(r) = rows.next()? else { continue };
            let Some(&pos) = positions.get(r.get_ref(0)?.as_str().unwrap_or_default()) else { continue };
            let Ok(signature) = Signature::from_bytes(r.get_ref(4)?.as_blob().unwrap_or_default()) else { continue };
            kept.push(NearCandidate {
                order: MergeOrder { first_seen: r.get(2)?, source: pos, handle: rowid },
                source: r.get(0)?,
                id: r.get(1)?,
                sort_date: from_ts(r.get(3)?),
                signature,
            });
        }
        Ok(kept)
    }

    fn seed(
        &mut self,
        mode: &DedupMode,
        head_source: &str,
        head_id: &str,
        positions: &HashMap<&str, usize>,
    ) -> rusqlite::Result<Option<Seed>> {
        let tx = self.tx;
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COPY_COLUMNS}, m.layer, m.joined, m.effect, e.rowid
             FROM story_members m INDEXED BY story_members_by_head
             JOIN entries e ON e.source = m.source AND e.id = m.id
             WHERE m.head_source = ?1 AND m.head_id = ?2 AND m.mode = ?3 ORDER BY m.seq"
        ))?;
        let mut rows = stmt.query(params![head_source, head_id, mode.key()])?;
        let mut copies = Vec::new();
        let mut head = None;
        let mut start = None;
        while let Some(r) = rows.next()? {
            let Some((c, _)) = copy(r, positions, |s, u| shared_url(tx, s, u))? else { continue };
            if c.id == head_id && r.get_ref(0)?.as_str().is_ok_and(|s| s == head_source) {
                head = Some(copies.len());
            }
            start = start.or(Some(MergeOrder {
                first_seen: c.first_seen.timestamp(),
                source: c.source,
                handle: r.get(12)?,
            }));
            copies.push((c, joined(r, 9)?));
        }
        Ok(head.zip(start).map(|(head, start)| Seed { copies, head, start }))
    }

    fn write(
        &mut self,
        mode: &DedupMode,
        sources: &[&str],
        changed: &mut dyn Iterator<Item = Group>,
    ) -> rusqlite::Result<()> {
        write(self.tx, &mode.key(), sources, changed)
    }

    fn all_merged(&mut self) -> rusqlite::Result<()> {
        self.tx.execute("DELETE FROM unstoried", []).map(drop)
    }
}

/// The band keys of a run's new copies, for testing every stored entry of the window against: a bitmap
/// in front of the set answers most of them (they share nothing) from a few cache lines.
pub(super) struct Bands {
    bits: Vec<u64>,
    keys: HashSet<u64>,
}

impl Bands {
    const BITS: u32 = 20;

    pub(super) fn new(keys: impl Iterator<Item = u64>) -> Bands {
        let mut bands = Bands { bits: vec![0; 1 << (Self::BITS - 6)], keys: HashSet::new() };
        for k in keys {
            let bit = Self::bit(k);
            bands.bits[bit >> 6] |= 1 << (bit & 63);
            bands.keys.insert(k);
        }
        bands
    }

    fn bit(key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::BITS)) as usize
    }

    pub(super) fn contains(&self, key: u64) -> bool {
        let bit = Self::bit(key);
        self.bits[bit >> 6] & (1 << (bit & 63)) != 0 && self.keys.contains(&key)
    }

    /// Whether a stored entry's band tags (`near::bands_to_bytes`) share one with the new copies. Asked
    /// of every entry in the window, and almost always answered by the bitmap: a plain loop, which
    /// the compiler keeps tight, where an iterator chain with a peek called a closure per tag.
    pub(super) fn shared_by(&self, tags: &[u8]) -> bool {
        for key in near::band_keys_of_bytes(tags) {
            if self.contains(key) {
                return true;
            }
        }
        false
    }
}

/// The dates within `window` of any of `dates`, as few closed ranges.
pub(super) fn windows(dates: impl Iterator<Item = i64>, window: i64) -> Vec<(i64, i64)> {
    let mut dates: Vec<i64> = dates.collect();
    dates.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for d in dates {
        let (from, to) = (d.saturating_sub(window), d.saturating_add(window));
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// A row of [`COPY_COLUMNS`] as the merge sees it; `None` for a source not in the config.
fn copy(
    r: &Row,
    positions: &HashMap<&str, usize>,
    shared: impl Fn(&str, &str) -> rusqlite::Result<bool>,
) -> rusqlite::Result<Option<(StoryCopy, Lookup)>> {
    let source: String = r.get(0)?;
    let Some(&pos) = positions.get(source.as_str()) else { return Ok(None) };
    let first_seen: i64 = r.get(2)?;
    let url: Option<String> = r.get(6)?;
    let url = match url {
        Some(u) if !shared(&source, &u)? => Some(u),
        _ => None,
    };
    let print: Option<Vec<u8>> = r.get(7)?;
    let signature = r.get::<_, Option<Vec<u8>>>(8)?.and_then(|b| Signature::from_bytes(&b).ok());
    let copy = StoryCopy::new(
        pos,
        r.get(1)?,
        from_ts(first_seen),
        from_ts(r.get::<_, Option<i64>>(3)?.unwrap_or(first_seen)),
        r.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as usize,
        r.get::<_, Option<bool>>(5)?.unwrap_or(false),
        url.as_deref(),
        print.as_deref(),
        signature,
    );
    Ok(Some((copy, Lookup { url, print })))
}

/// Writes the stories the merge changed: every copy's row, under its story's published copy.
fn write(
    tx: &Transaction,
    key: &str,
    sources: &[&str],
    changed: &mut dyn Iterator<Item = Group>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO story_members
             (mode, source, id, head_source, head_id, head_date, seq, layer, joined, effect)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let name = |pos: usize| sources.get(pos).copied().unwrap_or_default();
    for group in changed {
        let head = group.head();
        let (head_source, head_id) = (name(head.source), head.id.clone());
        for (seq, m) in group.members.iter().enumerate() {
            let j = m.joined.as_ref();
            stmt.execute(params![
                key,
                name(m.source),
                m.id,
                head_source,
                head_id,
                group.head_date.timestamp(),
                seq as i64,
                j.map(|j| &j.layer),
                j.map(|j| &j.head),
                j.and_then(|j| j.effect.as_ref()),
            ])?;
        }
    }
    Ok(())
}

/// An entry's date changed: the stories it publishes move in their feeds.
pub(super) fn redate(tx: &Transaction, source: &str, id: &str, date: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE story_members SET head_date = ?3 WHERE head_source = ?1 AND head_id = ?2",
        params![source, id, date],
    )
    .map(drop)
}

/// A purged entry leaves its stories. Where it was the published copy, the earliest of the other
/// copies takes its place.
pub(super) fn forget(tx: &Transaction, source: &str, id: &str) -> rusqlite::Result<()> {
    let heirs: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT mode, source, id FROM story_members
             WHERE head_source = ?1 AND head_id = ?2 AND NOT (source = ?1 AND id = ?2) ORDER BY mode, seq",
        )?;
        let rows = stmt.query_map([source, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // Per mode kept: the key starts with the mode, and without it this would scan every row.
    for mode in &kept_modes(tx)? {
        tx.prepare_cached("DELETE FROM story_members WHERE mode = ?1 AND source = ?2 AND id = ?3")?
            .execute([mode, source, id])?;
    }
    let mut done: HashSet<&str> = HashSet::new();
    for (mode, heir_source, heir_id) in &heirs {
        if !done.insert(mode) {
            continue;
        }
        let date: Option<i64> = tx
            .query_row("SELECT sort_date FROM entries WHERE source = ?1 AND id = ?2", [heir_source, heir_id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        tx.execute(
            "UPDATE story_members SET head_source = ?4, head_id = ?5, head_date = ?6
             WHERE head_source = ?2 AND head_id = ?3 AND mode = ?1",
            params![mode, source, id, heir_source, heir_id, date.unwrap_or(0)],
        )?;
        tx.execute(
            "UPDATE story_members SET layer = NULL, joined = NULL, effect = NULL
             WHERE mode = ?1 AND source = ?2 AND id = ?3",
            params![mode, heir_source, heir_id],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
