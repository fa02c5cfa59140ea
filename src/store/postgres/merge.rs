//! The story merge on PostgreSQL ([`Record::merge_stories`](crate::store::Record::merge_stories)): the
//! [`StoryStore`] dedup merges over, the same rows and reads as SQLite's `store/stories.rs`, inside one
//! transaction under an advisory lock, so one worker merges at a time and copies two workers recorded
//! at once end in one story. Each method blocks on its statements and reads its rows whole.

use std::collections::{HashMap, HashSet};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Transaction};

use super::{PgError, PgStore, LOCK_STORIES};
use crate::dedup::near::{self, Signature};
use crate::dedup::stories::{Lookup, MergeOrder, NearCandidate, Seed, StoryStore};
use crate::dedup::{DedupMode, Group, Joined, StoryCopy};
use crate::store::stories::{windows, Bands, COPY_COLUMNS};
use crate::store::{from_ts, StoreError};

/// [`COPY_COLUMNS`] without the signature, for a merge whose plan (`dedup::Plan`) holds them; the
/// NULL typed, as PostgreSQL would read an untyped one as text.
const COPY_COLUMNS_UNSIGNED: &str =
    "e.source, e.id, e.first_seen, e.sort_date, e.text_size, e.has_content, e.canonical_url, e.fingerprint, CAST(NULL AS BYTEA)";

impl PgStore {
    /// One `REPEATABLE READ` transaction, under the merge's advisory lock; rolled back whole when
    /// `merge` fails.
    ///
    /// The lock is a session lock taken before the transaction begins, so the transaction's one
    /// snapshot is taken once the merge before it committed: it sees that merge's stories, and the
    /// copies it took out of `unstoried` are gone from it. And one snapshot for the whole merge: the
    /// copies other workers record meanwhile are neither read nor deleted from `unstoried` (a `DELETE`
    /// touches only the rows its snapshot sees), and wait there for the next merge. (Under `READ
    /// COMMITTED`, each statement's newer snapshot let `all_merged` delete copies recorded after
    /// they were read: never merged, never published.)
    pub(super) fn pg_merge_stories<T>(
        &mut self,
        merge: impl FnOnce(&mut dyn StoryStore<Error = PgError>) -> Result<T, PgError>,
    ) -> Result<T, StoreError> {
        let db = self.db();
        let mut client = self.block(self.client())??;
        let lock = "SELECT pg_advisory_lock(hashtext(current_schema()), $1)";
        self.block(client.execute(lock, &[&LOCK_STORIES]))?.map_err(&db)?;
        let merged = self.merge_in_snapshot(&mut client, merge);
        // Rolled back if it failed (a transaction dropped sends its ROLLBACK first, on this connection).
        let unlock = "SELECT pg_advisory_unlock(hashtext(current_schema()), $1)";
        let unlocked = self.block(async { client.query_one(unlock, &[&LOCK_STORIES]).await?.try_get::<_, bool>(0) });
        if !matches!(unlocked, Ok(Ok(true))) {
            tracing::warn!("{}: cannot release the merge lock; closing its connection", self.shown);
            // Out of the pool and dropped: the session ends, and the lock with it.
            drop(deadpool_postgres::Object::take(client));
        }
        merged
    }

    fn merge_in_snapshot<T>(
        &self,
        client: &mut tokio_postgres::Client,
        merge: impl FnOnce(&mut dyn StoryStore<Error = PgError>) -> Result<T, PgError>,
    ) -> Result<T, StoreError> {
        let db = self.db();
        let begin = client.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead);
        let tx = self.block(begin.start())?.map_err(&db)?;
        let pending: i64 = self.block(tx.query_one("SELECT count(*) FROM unstoried", &[]))?.map_err(&db)?.get(0);
        let merged = merge(&mut PgStories { store: self, tx: &tx, shared: None })?;
        self.block(tx.commit())?.map_err(&db)?;
        // Several workers: another may have built the outputs between this one's records (which
        // bumped the content version) and this merge, from stories without these copies. The build
        // key must move again for the merged copies to be published: after the commit, so a build
        // that reads the new version reads the new stories; and in a transaction of its own, as the
        // snapshot's would fail on the version a recorder moved meanwhile.
        if pending > 0 {
            let tx = self.block(client.transaction())?.map_err(&db)?;
            self.block(super::entries::bump_content_version(&tx))?.map_err(&db)?;
            self.block(tx.commit())?.map_err(&db)?;
        }
        Ok(merged)
    }
}

/// [`StoryStore`] over the merge's transaction. Reading every copy from scratch asks which links a
/// source shares once, for every row at once ([`PgStories::shared`]).
struct PgStories<'a, 't> {
    store: &'a PgStore,
    tx: &'a Transaction<'t>,
    /// (source, canonical URL) given to several entries of the source, read once for a merge from scratch.
    shared: Option<HashSet<(String, String)>>,
}

impl PgStories<'_, '_> {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, PgError> {
        self.store.block(self.tx.query(sql, params))?.map_err(self.store.db())
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<(), PgError> {
        self.store.block(self.tx.execute(sql, params))?.map_err(self.store.db()).map(drop)
    }

    /// Whether `source` gives `url` to several of its entries: then the link identifies none of them.
    fn shared_url(&self, source: &str, url: &str) -> Result<bool, PgError> {
        let rows =
            self.query("SELECT COUNT(*) > 1 FROM entries WHERE canonical_url = $1 AND source = $2", &[&url, &source])?;
        Ok(rows.first().is_some_and(|r| r.get(0)))
    }

    /// The links shared by several entries of their source: one grouped scan instead of a look-up per entry.
    fn shared(&mut self) -> Result<&HashSet<(String, String)>, PgError> {
        if self.shared.is_none() {
            let rows = self.query(
                "SELECT source, canonical_url FROM entries WHERE canonical_url IS NOT NULL
                 GROUP BY source, canonical_url HAVING COUNT(*) > 1",
                &[],
            )?;
            self.shared = Some(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect());
        }
        Ok(self.shared.get_or_insert_with(HashSet::new))
    }

    /// The modes whose stories are kept (each has a `stories:<mode>` entry in `meta`).
    fn kept_modes(&self) -> Result<Vec<String>, PgError> {
        let rows =
            self.query("SELECT substr(key, length('stories:') + 1) FROM meta WHERE key LIKE 'stories:%'", &[])?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
}

impl StoryStore for PgStories<'_, '_> {
    type Error = PgError;

    fn forget_modes_except(&mut self, modes: &[DedupMode]) -> Result<(), PgError> {
        let keys: Vec<String> = modes.iter().map(DedupMode::key).collect();
        for mode in self.kept_modes()? {
            if !keys.contains(&mode) {
                self.execute("DELETE FROM story_members WHERE mode = $1", &[&mode])?;
                self.execute("DELETE FROM meta WHERE key = $1", &[&format!("stories:{mode}")])?;
            }
        }
        Ok(())
    }

    fn source_keys(&mut self) -> Result<HashMap<String, String>, PgError> {
        let rows = self.query("SELECT name, source_key FROM sources WHERE source_key IS NOT NULL", &[])?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn merged_from(&mut self, mode: &DedupMode) -> Result<Option<String>, PgError> {
        let rows = self.query("SELECT value FROM meta WHERE key = $1", &[&format!("stories:{}", mode.key())])?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    fn clear(&mut self, mode: &DedupMode) -> Result<(), PgError> {
        self.execute("DELETE FROM story_members WHERE mode = $1", &[&mode.key()])
    }

    fn set_merged_from(&mut self, mode: &DedupMode, inputs: &str) -> Result<(), PgError> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&format!("stories:{}", mode.key()), &inputs],
        )
    }

    fn merge_order(&mut self, positions: &HashMap<&str, usize>) -> Result<Vec<MergeOrder>, PgError> {
        let rows = self.query("SELECT first_seen, source, rowid FROM entries", &[])?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let &source = positions.get(r.get::<_, &str>(1))?;
                Some(MergeOrder { first_seen: r.get(0), source, handle: r.get(2) })
            })
            .collect())
    }

    fn each_copy(
        &mut self,
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(i64, StoryCopy),
    ) -> Result<(), PgError> {
        let rows = self.query(&format!("SELECT {COPY_COLUMNS}, e.rowid FROM entries e ORDER BY e.rowid"), &[])?;
        let shared = self.shared()?;
        for r in &rows {
            if let Some((c, _)) = copy(r, positions, |s, u| Ok(shared.contains(&(s.to_owned(), u.to_owned()))))? {
                visit(r.get(9), c);
            }
        }
        Ok(())
    }

    fn each_unsigned_copy(
        &mut self,
        order: &[MergeOrder],
        positions: &HashMap<&str, usize>,
        visit: &mut dyn FnMut(StoryCopy),
    ) -> Result<(), PgError> {
        let handles: Vec<i64> = order.iter().map(|o| o.handle).collect();
        let rows = self.query(
            &format!("SELECT {COPY_COLUMNS_UNSIGNED}, e.rowid FROM entries e WHERE e.rowid = ANY($1)"),
            &[&handles],
        )?;
        let by_handle: HashMap<i64, &Row> = rows.iter().map(|r| (r.get(9), r)).collect();
        let shared = self.shared()?;
        for o in order {
            // Every copy takes its slot, or the plan's slots would no longer line up.
            let copied = match by_handle.get(&o.handle) {
                Some(r) => copy(r, positions, |s, u| Ok(shared.contains(&(s.to_owned(), u.to_owned()))))?,
                None => None,
            };
            let Some((c, _)) = copied else {
                return Err(PgError::Setup {
                    url: self.store.shown.to_string(),
                    message: format!("stored entry {} left while the stories were merged", o.handle),
                });
            };
            visit(c);
        }
        Ok(())
    }

    fn unmerged(&mut self, positions: &HashMap<&str, usize>) -> Result<Vec<(MergeOrder, StoryCopy, Lookup)>, PgError> {
        let rows = self.query(
            &format!(
                "SELECT {COPY_COLUMNS}, e.rowid FROM unstoried u JOIN entries e ON e.rowid = u.entry ORDER BY e.rowid"
            ),
            &[],
        )?;
        let mut new = Vec::new();
        for r in &rows {
            if let Some((c, lookup)) = copy(r, positions, |s, u| self.shared_url(s, u))? {
                let order = MergeOrder { first_seen: c.first_seen.timestamp(), source: c.source, handle: r.get(9) };
                new.push((order, c, lookup));
            }
        }
        Ok(new)
    }

    fn heads_sharing(&mut self, mode: &DedupMode, id: &str, lookup: &Lookup) -> Result<Vec<(String, String)>, PgError> {
        let merged = "NOT EXISTS (SELECT 1 FROM unstoried WHERE entry = entries.rowid)";
        let pairs = |rows: Vec<Row>| rows.into_iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)));
        let mut hits: Vec<(String, String)> =
            pairs(self.query(&format!("SELECT source, id FROM entries WHERE id = $1 AND {merged}"), &[&id])?).collect();
        if let Some(url) = &lookup.url {
            hits.extend(pairs(
                self.query(&format!("SELECT source, id FROM entries WHERE canonical_url = $1 AND {merged}"), &[url])?,
            ));
        }
        if let Some(print) = &lookup.print {
            hits.extend(pairs(
                self.query(&format!("SELECT source, id FROM entries WHERE fingerprint = $1 AND {merged}"), &[print])?,
            ));
        }
        self.heads_of(mode, hits)
    }

    fn heads_of(&mut self, mode: &DedupMode, copies: Vec<(String, String)>) -> Result<Vec<(String, String)>, PgError> {
        let key = mode.key();
        let mut heads = Vec::new();
        for (source, id) in copies {
            let rows = self.query(
                "SELECT head_source, head_id FROM story_members WHERE mode = $1 AND source = $2 AND id = $3",
                &[&key, &source, &id],
            )?;
            heads.extend(rows.first().map(|r| (r.get(0), r.get(1))));
        }
        Ok(heads)
    }

    fn sharing_bands(
        &mut self,
        copies: &[StoryCopy],
        band_keys: &[u64],
        window: chrono::Duration,
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<(u64, MergeOrder)>, PgError> {
        let bands = Bands::new(band_keys.iter().copied());
        let mut hits = Vec::new();
        // Skipped here rather than joined: few entries wait to be merged, and the scan meets many.
        let unmerged: HashSet<i64> =
            self.query("SELECT entry FROM unstoried", &[])?.into_iter().map(|r| r.get(0)).collect();
        for (from, to) in windows(copies.iter().map(|c| c.sort_date.timestamp()), window.num_seconds()) {
            let rows = self.query(
                "SELECT bands, rowid, first_seen, source FROM entries
                 WHERE sort_date BETWEEN $1 AND $2 AND bands IS NOT NULL",
                &[&from, &to],
            )?;
            for r in &rows {
                let tags: &[u8] = r.get(0);
                if !bands.shared_by(tags) || unmerged.contains(&r.get(1)) {
                    continue;
                }
                let Some(&pos) = positions.get(r.get::<_, &str>(3)) else { continue };
                let order = MergeOrder { first_seen: r.get(2), source: pos, handle: r.get(1) };
                hits.extend(near::band_keys_of_bytes(tags).filter(|&k| bands.contains(k)).map(|k| (k, order)));
            }
        }
        Ok(hits)
    }

    fn near_candidates(
        &mut self,
        handles: Vec<i64>,
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<NearCandidate>, PgError> {
        let rows = self.query(
            "SELECT source, id, first_seen, sort_date, signature, rowid FROM entries WHERE rowid = ANY($1)",
            &[&handles],
        )?;
        let by_handle: HashMap<i64, &Row> = rows.iter().map(|r| (r.get(5), r)).collect();
        let mut kept = Vec::with_capacity(handles.len());
        for rowid in handles {
            let Some(r) = by_handle.get(&rowid) else { continue };
            let Some(&pos) = positions.get(r.get::<_, &str>(0)) else { continue };
            let Ok(signature) = Signature::from_bytes(r.get::<_, Option<&[u8]>>(4).unwrap_or_default()) else {
                continue;
            };
            kept.push(NearCandidate {
                order: MergeOrder { first_seen: r.get(2), source: pos, handle: rowid },
                source: r.get(0),
                id: r.get(1),
                sort_date: from_ts(r.get::<_, Option<i64>>(3).unwrap_or(0)),
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
    ) -> Result<Option<Seed>, PgError> {
        let rows = self.query(
            &format!(
                "SELECT {COPY_COLUMNS}, m.layer, m.joined, m.effect, e.rowid
                 FROM story_members m JOIN entries e ON e.source = m.source AND e.id = m.id
                 WHERE m.head_source = $1 AND m.head_id = $2 AND m.mode = $3 ORDER BY m.seq"
            ),
            &[&head_source, &head_id, &mode.key()],
        )?;
        let mut copies = Vec::new();
        let mut head = None;
        let mut start = None;
        for r in &rows {
            let Some((c, _)) = copy(r, positions, |s, u| self.shared_url(s, u))? else { continue };
            if c.id == head_id && r.get::<_, &str>(0) == head_source {
                head = Some(copies.len());
            }
            start = start.or(Some(MergeOrder {
                first_seen: c.first_seen.timestamp(),
                source: c.source,
                handle: r.get(12),
            }));
            copies.push((c, joined(r, 9)));
        }
        Ok(head.zip(start).map(|(head, start)| Seed { copies, head, start }))
    }

    fn write(
        &mut self,
        mode: &DedupMode,
        sources: &[&str],
        changed: &mut dyn Iterator<Item = Group>,
    ) -> Result<(), PgError> {
        let key = mode.key();
        let name = |pos: usize| sources.get(pos).copied().unwrap_or_default();
        // Sent as arrays, a few thousand members a statement, not a statement each: a merge from
        // scratch writes every stored entry. A member met twice keeps its last row, as one statement
        // each would have left it (`ON CONFLICT` cannot update one row twice in a statement).
        let mut rows: HashMap<(&str, String), MemberRow> = HashMap::new();
        let mut order: Vec<(&str, String)> = Vec::new();
        for group in changed {
            let head = group.head();
            let (head_source, head_id) = (name(head.source), head.id.clone());
            let head_date = group.head_date.timestamp();
            for (seq, m) in group.members.into_iter().enumerate() {
                let j = m.joined;
                let row = MemberRow {
                    head_source: head_source.to_owned(),
                    head_id: head_id.clone(),
                    head_date,
                    seq: i64::try_from(seq).unwrap_or(i64::MAX),
                    layer: j.as_ref().map(|j| j.layer.clone()),
                    joined: j.as_ref().map(|j| j.head.clone()),
                    effect: j.and_then(|j| j.effect),
                };
                let member = (name(m.source), m.id);
                if rows.insert(member.clone(), row).is_none() {
                    order.push(member);
                }
            }
        }
        for chunk in order.chunks(MEMBERS_A_STATEMENT) {
            let mut cols = MemberColumns::default();
            for member in chunk {
                let Some(r) = rows.remove(member) else { continue };
                cols.source.push(member.0);
                cols.id.push(&member.1);
                cols.head_source.push(r.head_source);
                cols.head_id.push(r.head_id);
                cols.head_date.push(r.head_date);
                cols.seq.push(r.seq);
                cols.layer.push(r.layer);
                cols.joined.push(r.joined);
                cols.effect.push(r.effect);
            }
            self.execute(
                "INSERT INTO story_members (mode, source, id, head_source, head_id, head_date, seq, layer, joined, effect)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                                          $8::text[], $9::text[], $10::text[])
                 ON CONFLICT (mode, source, id) DO UPDATE SET head_source = excluded.head_source,
                    head_id = excluded.head_id, head_date = excluded.head_date, seq = excluded.seq,
                    layer = excluded.layer, joined = excluded.joined, effect = excluded.effect",
                &[
                    &key,
                    &cols.source,
                    &cols.id,
                    &cols.head_source,
                    &cols.head_id,
                    &cols.head_date,
                    &cols.seq,
                    &cols.layer,
                    &cols.joined,
                    &cols.effect,
                ],
            )?;
        }
        Ok(())
    }

    fn all_merged(&mut self) -> Result<(), PgError> {
        self.execute("DELETE FROM unstoried", &[])
    }
}

/// How many story members one statement writes.
const MEMBERS_A_STATEMENT: usize = 4096;

/// A story member's row but its key.
struct MemberRow {
    head_source: String,
    head_id: String,
    head_date: i64,
    seq: i64,
    layer: Option<String>,
    joined: Option<String>,
    effect: Option<String>,
}

/// Story members' rows as the arrays one statement takes.
#[derive(Default)]
struct MemberColumns<'a> {
    source: Vec<&'a str>,
    id: Vec<&'a str>,
    head_source: Vec<String>,
    head_id: Vec<String>,
    head_date: Vec<i64>,
    seq: Vec<i64>,
    layer: Vec<Option<String>>,
    joined: Vec<Option<String>>,
    effect: Vec<Option<String>>,
}

/// How a member joined its story, from its `layer, joined, effect` columns, the first at `at`.
fn joined(r: &Row, at: usize) -> Option<Joined> {
    match (r.get::<_, Option<String>>(at), r.get::<_, Option<String>>(at + 1)) {
        (Some(layer), Some(head)) => Some(Joined { layer, head, effect: r.get(at + 2) }),
        _ => None,
    }
}

/// A row of [`COPY_COLUMNS`] as the merge sees it; `None` for a source not in the config.
fn copy(
    r: &Row,
    positions: &HashMap<&str, usize>,
    shared: impl Fn(&str, &str) -> Result<bool, PgError>,
) -> Result<Option<(StoryCopy, Lookup)>, PgError> {
    let source: &str = r.get(0);
    let Some(&pos) = positions.get(source) else { return Ok(None) };
    let first_seen: i64 = r.get(2);
    let url = match r.get::<_, Option<String>>(6) {
        Some(u) if !shared(source, &u)? => Some(u),
        _ => None,
    };
    let print: Option<Vec<u8>> = r.get(7);
    let signature = r.get::<_, Option<Vec<u8>>>(8).and_then(|b| Signature::from_bytes(&b).ok());
    let copy = StoryCopy::new(
        pos,
        r.get(1),
        from_ts(first_seen),
        from_ts(r.get::<_, Option<i64>>(3).unwrap_or(first_seen)),
        usize::try_from(r.get::<_, Option<i64>>(4).unwrap_or(0)).unwrap_or(0),
        r.get::<_, Option<i32>>(5).is_some_and(|c| c != 0),
        url.as_deref(),
        print.as_deref(),
        signature,
    );
    Ok(Some((copy, Lookup { url, print })))
}
