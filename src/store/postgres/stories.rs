//! [`Stories`] on PostgreSQL: the kept stories as a build reads them, the same rows and order as
//! SQLite's `store/stories.rs`. Text is ordered `COLLATE "C"` (bytes, as SQLite compares): a
//! database's own collation (`en_US.UTF-8`, …) would order ties between ids otherwise, and the same
//! state must publish the same feeds on either backend. The merge writes them (`merge.rs`).

use std::collections::HashMap;

use tokio_postgres::Row;

use super::PgStore;
use crate::dedup::{DedupMode, Joined, Member};
use crate::store::{stories, StoreError, StoredStory, Stories, StoryHead};

impl Stories for PgStore {
    fn stories_newest_first(
        &self,
        mode: &DedupMode,
        mut visit: impl FnMut(&StoryHead, &[String]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        // One statement, one snapshot; read whole, as the pool's connection must not wait on `visit`.
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    r#"SELECT head_source, head_id, source FROM story_members WHERE mode = $1
                       ORDER BY head_date DESC, head_id COLLATE "C", head_source COLLATE "C""#,
                    &[&mode.key()],
                )
                .await
                .map_err(self.db())
        })??;
        let mut current: Option<StoryHead> = None;
        let mut sources: Vec<String> = Vec::new();
        for r in rows {
            let head = StoryHead { source: r.get(0), id: r.get(1) };
            if current.as_ref().is_some_and(|c| *c != head) {
                if let Some(c) = current.take() {
                    if !visit(&c, &sources)? {
                        return Ok(());
                    }
                }
                sources.clear();
            }
            current = Some(head);
            sources.push(r.get(2));
        }
        if let Some(c) = current {
            visit(&c, &sources)?;
        }
        Ok(())
    }

    fn story(
        &self,
        mode: &DedupMode,
        head: &StoryHead,
        positions: &HashMap<&str, usize>,
    ) -> Result<Option<StoredStory>, StoreError> {
        Ok(self.stories(mode, &[head], positions)?.pop().flatten())
    }

    /// One statement for every head: the members of all, grouped by head in the order asked. Prepared
    /// once per connection: the walk of a build reads stories one at a time, and preparing each
    /// again doubled its round trips.
    fn stories(
        &self,
        mode: &DedupMode,
        heads: &[&StoryHead],
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<Option<StoredStory>>, StoreError> {
        let sources: Vec<&str> = heads.iter().map(|h| h.source.as_str()).collect();
        let ids: Vec<&str> = heads.iter().map(|h| h.id.as_str()).collect();
        let rows = self.block(async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "SELECT m.source, m.id, m.layer, m.joined, m.effect, e.entry, h.i
                     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS h(source, id, i)
                     JOIN story_members m ON m.head_source = h.source AND m.head_id = h.id AND m.mode = $3
                     JOIN entries e ON e.source = m.source AND e.id = m.id
                     ORDER BY h.i, m.seq",
                )
                .await
                .map_err(self.db())?;
            client.query(&statement, &[&sources, &ids, &mode.key()]).await.map_err(self.db())
        })??;
        let mut by_head: Vec<Vec<Row>> = heads.iter().map(|_| Vec::new()).collect();
        for row in rows {
            let at = usize::try_from(row.get::<_, i64>(6) - 1).ok();
            if let Some(members) = at.and_then(|i| by_head.get_mut(i)) {
                members.push(row);
            }
        }
        Ok(heads.iter().zip(&by_head).map(|(head, rows)| stored_story(head, rows, positions)).collect())
    }

    fn folded(&self, mode: &DedupMode) -> Result<HashMap<String, usize>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    "SELECT source, COUNT(*) FROM story_members
                     WHERE mode = $1 AND (source != head_source OR id != head_id) GROUP BY source",
                    &[&mode.key()],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(rows.into_iter().map(|r| (r.get(0), usize::try_from(r.get::<_, i64>(1)).unwrap_or(0))).collect())
    }
}

/// The story `head` publishes, from its members' rows (`source, id, layer, joined, effect, entry`, in
/// the order they joined): `None` when its published copy is gone or unreadable.
fn stored_story(head: &StoryHead, rows: &[Row], positions: &HashMap<&str, usize>) -> Option<StoredStory> {
    let mut copies = Vec::new();
    let mut at = None;
    for r in rows {
        let (source, id): (&str, String) = (r.get(0), r.get(1));
        let (Some(&pos), Some(entry)) = (positions.get(source), stories::readable(source, r.get(5))) else {
            continue;
        };
        if source == head.source && id == head.id {
            at = Some(copies.len());
        }
        copies.push((Member { source: pos, id, joined: joined(r) }, entry));
    }
    at.map(|head| StoredStory { copies, head })
}

/// How a member joined its story, from its `layer, joined, effect` columns (2, 3, 4).
fn joined(r: &Row) -> Option<Joined> {
    match (r.get::<_, Option<String>>(2), r.get::<_, Option<String>>(3)) {
        (Some(layer), Some(head)) => Some(Joined { layer, head, effect: r.get(4) }),
        _ => None,
    }
}
