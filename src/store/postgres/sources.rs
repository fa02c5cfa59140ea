//! [`SourceStates`] on PostgreSQL: the same rows and rules as SQLite's `store/sources.rs`, read in one
//! statement each (one snapshot), and sources identified under an advisory lock, as two workers
//! starting on a new config must not rank or key the new sources twice.

use std::collections::HashMap;

use tokio_postgres::Transaction;

use super::{PgError, PgStore, LOCK, LOCK_SOURCES};
use crate::fetch::Validators;
use crate::store::sources::{plan_identities, Health, Known, RawBody, RedirectSeen, Renamed, SourceState};
use crate::store::{from_ts, SourceStates, StoreError};

impl SourceStates for PgStore {
    fn identify_sources(&mut self, configured: &[(&str, &str)]) -> Result<Vec<Renamed>, StoreError> {
        let renamed = self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(self.db())?;
            tx.execute(LOCK, &[&LOCK_SOURCES]).await.map_err(self.db())?;
            let renamed = identify_sources(&tx, configured).await.map_err(self.db())?;
            tx.commit().await.map_err(self.db())?;
            Ok::<_, PgError>(renamed)
        })??;
        Ok(renamed)
    }

    fn sources(&self) -> Result<HashMap<String, SourceState>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client.query(&format!("SELECT {STATE_COLUMNS} FROM sources"), &[]).await.map_err(self.db())
        })??;
        Ok(rows.iter().map(state_of).collect())
    }

    fn health(&self) -> Result<HashMap<String, Health>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    "SELECT name, failures > 0, CASE WHEN failures > 0 THEN last_error END, last_success FROM sources",
                    &[],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(rows
            .into_iter()
            .map(|r| {
                let day = r.get::<_, Option<i64>>(3).map(|t| from_ts(t).date_naive());
                (r.get(0), Health { failing: r.get(1), error: r.get(2), last_success_day: day })
            })
            .collect())
    }

    fn raw_body(&self, name: &str) -> Result<Option<RawBody>, StoreError> {
        let row = self.block(async {
            let client = self.client().await?;
            client
                .query_opt("SELECT body, content_type, url FROM raw_bodies WHERE source = $1", &[&name])
                .await
                .map_err(self.db())
        })??;
        Ok(row.map(|r| RawBody { deflated: r.get(0), content_type: r.get(1), url: r.get(2) }))
    }

    fn first_met_order<'a>(&self, names: &[&'a str]) -> Result<Vec<&'a str>, StoreError> {
        let rows = self.block(async {
            let client = self.client().await?;
            client.query("SELECT name, rank FROM sources WHERE rank IS NOT NULL", &[]).await.map_err(self.db())
        })??;
        let ranks: HashMap<String, i64> = rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut ordered: Vec<(usize, &str)> = names.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, name)| (ranks.get(*name).copied().unwrap_or(i64::MAX), *i));
        Ok(ordered.into_iter().map(|(_, name)| name).collect())
    }
}

/// The columns of a [`SourceState`] (without its last body), in the order [`state_of`] reads them.
pub(super) const STATE_COLUMNS: &str = "name, configured_url, url_in_use, etag, last_modified, body_hash, last_fetch,
    last_success, last_error, failures, next_fetch, redirect_target, redirect_first_seen, redirect_count, skip_hours,
    skip_days, title, site_url, gone_since, source_key, config_digest";

/// A row of [`STATE_COLUMNS`]: the source's name and state.
pub(super) fn state_of(r: &tokio_postgres::Row) -> (String, SourceState) {
    let list = |s: Option<String>| -> Vec<String> {
        s.map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
    };
    let time = |t: Option<i64>| t.map(from_ts);
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let redirect = r.get::<_, Option<String>>(11).map(|target| RedirectSeen {
        target,
        first_seen: from_ts(r.get::<_, Option<i64>>(12).unwrap_or(0)),
        count: count(r.get(13)),
    });
    let state = SourceState {
        configured_url: r.get(1),
        url_in_use: r.get(2),
        validators: Validators { etag: r.get(3), last_modified: r.get(4) },
        body_hash: r.get(5),
        last_fetch: time(r.get(6)),
        last_success: time(r.get(7)),
        last_error: r.get(8),
        failures: count(r.get(9)),
        next_fetch: time(r.get(10)),
        redirect,
        skip_hours: list(r.get(14)).iter().filter_map(|h| h.parse().ok()).collect(),
        skip_days: list(r.get(15)),
        title: r.get(16),
        site_url: r.get(17),
        gone_since: time(r.get(18)),
        source_key: r.get(19),
        config_digest: r.get(20),
        raw: None,
    };
    (r.get(0), state)
}

/// The host a source's `per_host` limit counts it under (lowercase); `None` for a folder or a file.
pub(super) fn host_of(location: &str) -> Option<String> {
    url::Url::parse(location).ok()?.host_str().map(str::to_ascii_lowercase)
}

/// [`SourceStates::identify_sources`] inside its transaction: the plan every backend follows
/// (`store::sources::plan_identities`), carried out, and the hosts the `per_host` limit counts.
async fn identify_sources(
    tx: &Transaction<'_>,
    configured: &[(&str, &str)],
) -> Result<Vec<Renamed>, tokio_postgres::Error> {
    struct Row {
        known: Known,
        /// The redirect target adopted for its URL, if any.
        in_use: Option<String>,
    }
    let rows: Vec<Row> = tx
        .query("SELECT name, configured_url, url_in_use, source_key, rank IS NOT NULL FROM sources ORDER BY seq", &[])
        .await?
        .into_iter()
        .map(|r| Row {
            known: Known { name: r.get(0), url: r.get(1), key: r.get(3), ranked: r.get(4) },
            in_use: r.get(2),
        })
        .collect();
    let (known, in_use): (Vec<Known>, Vec<Option<String>>) = rows.into_iter().map(|r| (r.known, r.in_use)).unzip();
    let plan = plan_identities(&known, configured);
    let by_name: HashMap<&str, (&Known, Option<&str>)> =
        known.iter().zip(&in_use).map(|(k, u)| (k.name.as_str(), (k, u.as_deref()))).collect();
    for Renamed { from, to } in &plan.renamed {
        rename_source(tx, from, to).await?;
    }
    // One statement each for the new sources and for the ranks: a first run on 10,000 sources made
    // 20,000 round trips here (5 s) while every other worker waited on the lock.
    let new_names: Vec<&str> = plan.new.iter().map(|(name, _, _)| *name).collect();
    let new_urls: Vec<&str> = plan.new.iter().map(|(_, url, _)| *url).collect();
    let new_keys: Vec<&str> = plan.new.iter().map(|(_, _, key)| key.as_str()).collect();
    let new_hosts: Vec<Option<String>> = plan.new.iter().map(|(_, url, _)| host_of(url)).collect();
    tx.execute(
        "INSERT INTO sources (name, configured_url, source_key, host)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
        &[&new_names, &new_urls, &new_keys, &new_hosts],
    )
    .await?;
    // A re-pointed source may have moved to another host; one still pointed where it was stays on the
    // host of the redirect it adopted (the recorder moved it there). One statement for every source,
    // as every worker's run starts here.
    let (names, hosts): (Vec<&str>, Vec<Option<String>>) = configured
        .iter()
        .filter_map(|(name, url)| {
            let (row, in_use) = by_name.get(name)?;
            let fetched = in_use.filter(|_| row.url == *url).unwrap_or(url);
            Some((*name, host_of(fetched)))
        })
        .unzip();
    tx.execute(
        "UPDATE sources s SET host = c.host FROM unnest($1::text[], $2::text[]) AS c(name, host)
         WHERE s.name = c.name AND s.host IS DISTINCT FROM c.host",
        &[&names, &hosts],
    )
    .await?;
    // The unranked ones in the plan's order take the next ranks, one after the other.
    tx.execute(
        "UPDATE sources s SET rank = base.next + c.n - 1
         FROM (SELECT coalesce(max(rank), -1) + 1 AS next FROM sources) base,
              (SELECT t.name, row_number() OVER (ORDER BY t.i) AS n
               FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
               JOIN sources u ON u.name = t.name AND u.rank IS NULL) c
         WHERE s.name = c.name",
        &[&plan.to_rank],
    )
    .await?;
    if !plan.renamed.is_empty() {
        super::entries::bump_content_version(tx).await?;
    }
    Ok(plan.renamed)
}

/// Moves everything stored under the source name `from` to `to`, as SQLite's `rename_source` does.
/// The entry's JSON is rewritten through jsonb, so its keys' order and spacing may change: readers
/// parse it, and no published byte comes from its text.
async fn rename_source(tx: &Transaction<'_>, from: &str, to: &str) -> Result<(), tokio_postgres::Error> {
    for sql in [
        "UPDATE sources SET name = $2 WHERE name = $1",
        "UPDATE entries SET source = $2, entry = jsonb_set(entry::jsonb, '{source}', to_jsonb($2::text))::text
         WHERE source = $1",
        // SQLite's `UPDATE OR REPLACE`: a tombstone moved replaces one the new name already holds.
        "DELETE FROM tombstones n WHERE n.source = $2
         AND EXISTS (SELECT 1 FROM tombstones t WHERE t.source = $1 AND t.key = n.key)",
        "UPDATE tombstones SET source = $2 WHERE source = $1",
        "UPDATE raw_bodies SET source = $2 WHERE source = $1",
        "UPDATE filtered SET source = $2 WHERE source = $1",
        "UPDATE story_members SET source = $2 WHERE source = $1",
        "UPDATE story_members SET head_source = $2 WHERE head_source = $1",
    ] {
        tx.execute(sql, &[&from, &to]).await?;
    }
    Ok(())
}
