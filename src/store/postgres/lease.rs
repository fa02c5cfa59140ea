//! Source leases (#21), instead of SQLite's one run lock: each worker claims due sources in batches,
//! holds each for a lease it renews while working, and releases it once the source is recorded. A
//! worker killed mid-run holds nothing once its leases expire, and the others take its sources over.
//!
//! The claim is one transaction under an advisory lock: claims are short and rare (a batch at a time),
//! and the `per_host` limit counts the leases every worker holds per host, which needs one decider;
//! the batch chosen is locked `FOR UPDATE SKIP LOCKED`, so a source whose row a worker holds (recording
//! it) is passed over rather than waited for. Only the batch: locking every due row at each claim
//! wrote a lock into 10,000 rows a claim, and made the claim the bottleneck of four workers. Lease times are the database's clock (`now()`), so
//! workers whose clocks differ agree on when a lease ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_postgres::GenericClient;

use super::sources::{state_of, STATE_COLUMNS};
use super::{PgError, PgStore, LOCK, LOCK_CLAIM};
use crate::store::{ClaimAsk, Claimed, SourceState, StoreError};

/// What to claim: a run's ask ([`ClaimAsk`]) made by one worker under its limits.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The worker's id (`workers.id`), written as the holder of each lease.
    pub worker: &'a str,
    /// At most this many leases held per host, by all workers together (`[fetch] per_host`).
    pub per_host: usize,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    pub ask: ClaimAsk<'a>,
}

/// Leases due sources to `claim.worker` and reads their state under the lease: configured (among the
/// candidates), unleased or whose lease expired, not claimed before in this run, due by the run's
/// clock — or forced, named by `--reparse`, or whose config changed —, oldest due first; per host no
/// more than `per_host` leases held by all workers.
pub fn claim(store: &PgStore, claim: &Claim<'_>) -> Result<Claimed, StoreError> {
    let claimed = store.block(async {
        let mut client = store.client().await?;
        store.check_config(&**client).await?;
        let (names, held_back) = claim_on(&mut client, claim).await.map_err(store.db())?;
        let rows = client
            .query(&format!("SELECT {STATE_COLUMNS} FROM sources WHERE name = ANY($1)"), &[&names])
            .await
            .map_err(store.db())?;
        let mut states: HashMap<String, SourceState> = rows.iter().map(state_of).collect();
        let sources = names.into_iter().filter_map(|n| states.remove(&n).map(|s| (n, s))).collect();
        Ok::<_, PgError>(Claimed { sources, held_back })
    })??;
    Ok(claimed)
}

/// The lease part of [`claim`] on one connection (the tests race two of them): the names leased, in
/// the order they were due, and how many due sources the `per_host` limit held back.
pub(super) async fn claim_on(
    client: &mut tokio_postgres::Client,
    claim: &Claim<'_>,
) -> Result<(Vec<String>, u64), tokio_postgres::Error> {
    let ask = &claim.ask;
    let tx = client.transaction().await?;
    tx.execute(LOCK, &[&LOCK_CLAIM]).await?;
    let batch = i64::try_from(ask.batch).unwrap_or(i64::MAX);
    let per_host = i64::try_from(claim.per_host).unwrap_or(i64::MAX);
    let names: Vec<&str> = ask.candidates.iter().map(|c| c.name.as_str()).collect();
    let urls: Vec<&str> = ask.candidates.iter().map(|c| c.url.as_str()).collect();
    let digests: Vec<&str> = ask.candidates.iter().map(|c| c.digest.as_str()).collect();
    let interval = ask.default_interval.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    // Due as `pipeline/source.rs` decides it (which checks again, on the state read under the lease),
    // and not fetched at or after the run's clock: another worker read it while this run went on.
    // A source with no schedule and no default interval is due at every run, once per run.
    let rows = tx
        .query(
            "WITH cand AS (
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS c(name, url, digest)
             ), free AS (
                 SELECT s.name, s.host, coalesce(s.next_fetch, 0) AS due, s.rank
                 FROM sources s JOIN cand c ON c.name = s.name
                 WHERE (s.lease_until IS NULL OR s.lease_until <= now())
                   AND s.name <> ALL($4::text[])
                   AND ($5::boolean OR s.name = ANY($6::text[])
                        OR (s.config_digest IS NOT NULL AND s.config_digest <> c.digest)
                        OR ((s.gone_since IS NULL OR s.configured_url <> c.url)
                            AND (s.last_fetch IS NULL OR s.last_fetch < $7)
                            AND CASE WHEN s.next_fetch IS NOT NULL THEN s.next_fetch <= $7
                                     ELSE s.last_fetch IS NULL OR $8::bigint IS NULL OR s.last_fetch + $8 <= $7 END))
             ), held AS (
                 SELECT host, count(*) AS n FROM sources
                 WHERE lease_until > now() AND host IS NOT NULL GROUP BY host
             ), judged AS (
                 SELECT f.name, f.due, f.rank,
                        f.host IS NULL OR row_number() OVER (PARTITION BY f.host ORDER BY f.due, f.rank NULLS LAST, f.name)
                            <= $9 - coalesce(h.n, 0) AS allowed
                 FROM free f LEFT JOIN held h ON h.host = f.host
             ), chosen AS (
                 SELECT name FROM judged WHERE allowed ORDER BY due, rank NULLS LAST, name LIMIT $10
             ), locked AS (
                 SELECT s.name FROM sources s WHERE s.name IN (SELECT name FROM chosen) FOR UPDATE OF s SKIP LOCKED
             )
             SELECT name, 0::bigint FROM locked
             UNION ALL
             (SELECT NULL, count(*) FROM judged WHERE NOT allowed)",
            &[&names, &urls, &digests, &ask.seen, &ask.force, &ask.reparse, &ask.now.timestamp(), &interval, &per_host, &batch],
        )
        .await?;
    let mut leased = Vec::new();
    let mut held_back = 0;
    for row in rows {
        match row.get::<_, Option<String>>(0) {
            Some(name) => leased.push(name),
            None => held_back = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
        }
    }
    if !leased.is_empty() {
        tx.execute(
            "UPDATE sources SET leased_by = $1, lease_until = now() + make_interval(secs => $2)
             WHERE name = ANY($3)",
            &[&claim.worker, &claim.lease.as_secs_f64(), &leased],
        )
        .await?;
    }
    tx.commit().await?;
    Ok((leased, held_back))
}

/// Extends `worker`'s leases on `names` (the sources it is working on) by `lease` from now (the
/// heartbeat, every lease/3); a lease already expired is not renewed, as another worker may have taken
/// it. Only the named ones: a lease the worker lost track of (its release failed while the database was
/// away) must expire rather than be renewed for ever. Returns how many were.
pub fn renew(store: &PgStore, worker: &str, lease: Duration, names: &[String]) -> Result<u64, StoreError> {
    let n = store.block(async {
        let client = store.client().await?;
        renew_on(&**client, worker, lease, names).await.map_err(store.db())
    })??;
    Ok(n)
}

pub(super) async fn renew_on(
    client: &impl GenericClient,
    worker: &str,
    lease: Duration,
    names: &[String],
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "UPDATE sources SET lease_until = now() + make_interval(secs => $2)
             WHERE leased_by = $1 AND lease_until > now() AND name = ANY($3)",
            &[&worker, &lease.as_secs_f64(), &names],
        )
        .await
}

/// Gives back `worker`'s leases on `names` (recorded, or given up). A lease another worker took over
/// after this one's expired stays that worker's.
pub fn release(store: &PgStore, worker: &str, names: &[String]) -> Result<u64, StoreError> {
    let n = store.block(async {
        let client = store.client().await?;
        client
            .execute(
                "UPDATE sources SET leased_by = NULL, lease_until = NULL WHERE leased_by = $1 AND name = ANY($2)",
                &[&worker, &names],
            )
            .await
            .map_err(store.db())
    })??;
    Ok::<_, StoreError>(n)
}

/// Records a worker starting (`workers`: id, host, pid, start and heartbeat times), or starting again
/// under the same id, for `status` to list.
pub fn register_worker(store: &PgStore, worker: &str, host: &str, pid: u32) -> Result<(), StoreError> {
    let pid = i32::try_from(pid).unwrap_or(i32::MAX);
    store.block(async {
        let client = store.client().await?;
        client
            .execute(
                "INSERT INTO workers (id, host, pid) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3, started = now(), heartbeat = now()",
                &[&worker, &host, &pid],
            )
            .await
            .map_err(store.db())
    })??;
    Ok(())
}

/// A worker's heartbeat: its `workers.heartbeat` and its live leases on `names` ([`renew`]) moved on together,
/// in one transaction, so a worker seen alive holds its leases. Returns how many leases were renewed.
pub fn heartbeat(store: &PgStore, worker: &str, lease: Duration, names: &[String]) -> Result<u64, StoreError> {
    Ok(store.block(beat(store, worker, lease, names))??)
}

/// [`heartbeat`], awaited (the worker's task on the runtime, [`PgStore::register`]).
pub(super) async fn beat(store: &PgStore, worker: &str, lease: Duration, names: &[String]) -> Result<u64, PgError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(store.db())?;
    tx.execute("UPDATE workers SET heartbeat = now() WHERE id = $1", &[&worker]).await.map_err(store.db())?;
    let n = renew_on(&*tx, worker, lease, names).await.map_err(store.db())?;
    tx.commit().await.map_err(store.db())?;
    Ok(n)
}

/// A worker, as `run` and `watch` register it: its id (host, pid and start time, so a restarted
/// process is a new worker and the old one's leases simply expire) and the limits its claims use.
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// `[fetch] per_host`, counted over every worker's leases.
    pub per_host: usize,
    /// `[state] lease`: renewed every third of it while the worker lives.
    pub lease: Duration,
    /// The digest of the config it runs (`Config::digest`).
    pub config_digest: String,
    /// The sources it holds leases on and works on now: the ones its heartbeat renews.
    held: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    /// This process as a worker.
    pub fn this_process(
        per_host: usize,
        lease: Duration,
        config_digest: &str,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Worker {
        let host = hostname();
        let pid = std::process::id();
        let id = format!("{host}:{pid}:{}", started.timestamp());
        Worker { id, host, pid, per_host, lease, config_digest: config_digest.to_owned(), held: Arc::default() }
    }

    /// The sources the heartbeat renews now.
    pub(super) fn held(&self) -> Vec<String> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    fn hold(&self, names: impl IntoIterator<Item = String>) {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).extend(names);
    }

    fn drop_held(&self, names: &[String]) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        for name in names {
            held.remove(name);
        }
    }
}

/// The machine's name, for `status` to tell workers apart (`/proc/sys/kernel/hostname`, then `$HOSTNAME`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A registered worker's [`Leases`](crate::store::Leases) on a store.
pub(super) struct PgLeases {
    pub(super) store: PgStore,
    pub(super) worker: std::sync::Arc<Worker>,
}

impl crate::store::Leases for PgLeases {
    fn claim(&self, ask: &ClaimAsk<'_>) -> Result<Claimed, StoreError> {
        let w = &self.worker;
        let claimed =
            claim(&self.store, &Claim { worker: &w.id, per_host: w.per_host, lease: w.lease, ask: ask.clone() })?;
        w.hold(claimed.sources.iter().map(|(name, _)| name.clone()));
        Ok(claimed)
    }

    fn release(&self, names: &[String]) -> Result<(), StoreError> {
        // Forgotten first: if the database cannot be told, the lease is no longer renewed and expires.
        self.worker.drop_held(names);
        release(&self.store, &self.worker.id, names).map(drop)
    }
}

/// A worker as the state holds it (`status`, `/metrics`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkerRow {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started: chrono::DateTime<chrono::Utc>,
    pub heartbeat: chrono::DateTime<chrono::Utc>,
    /// Leases it holds that have not expired.
    pub leases: u64,
    /// What it counted (`workers.counters`), for `/metrics`.
    pub counters: serde_json::Value,
}

/// Every registered worker, the most recently started first, with its live leases.
pub fn workers(store: &PgStore) -> Result<Vec<WorkerRow>, StoreError> {
    let rows = store.block(async {
        let client = store.client().await?;
        client
            .query(
                "SELECT w.id, w.host, w.pid, w.started, w.heartbeat,
                        (SELECT count(*) FROM sources s WHERE s.leased_by = w.id AND s.lease_until > now()),
                        w.counters::text
                 FROM workers w ORDER BY w.started DESC, w.id",
                &[],
            )
            .await
            .map_err(store.db())
    })??;
    Ok(rows
        .into_iter()
        .map(|r| WorkerRow {
            id: r.get(0),
            host: r.get(1),
            pid: u32::try_from(r.get::<_, i32>(2)).unwrap_or(0),
            started: r.get::<_, std::time::SystemTime>(3).into(),
            heartbeat: r.get::<_, std::time::SystemTime>(4).into(),
            leases: u64::try_from(r.get::<_, i64>(5)).unwrap_or(0),
            counters: serde_json::from_str(r.get::<_, &str>(6)).unwrap_or_default(),
        })
        .collect())
}

/// A worker stopping cleanly: its leases given back and its row removed, so `status` lists the living.
pub fn retire(store: &PgStore, worker: &str) -> Result<(), StoreError> {
    store.block(async {
        let mut client = store.client().await?;
        let tx = client.transaction().await.map_err(store.db())?;
        tx.execute("UPDATE sources SET leased_by = NULL, lease_until = NULL WHERE leased_by = $1", &[&worker])
            .await
            .map_err(store.db())?;
        tx.execute("DELETE FROM workers WHERE id = $1", &[&worker]).await.map_err(store.db())?;
        tx.commit().await.map_err(store.db())
    })??;
    Ok(())
}

/// Adds `counts` to the worker's counters (`workers.counters`, a JSON object of numbers), for
/// `/metrics` to show per worker.
pub fn count(store: &PgStore, worker: &str, counts: &[(&str, u64)]) -> Result<(), StoreError> {
    let delta: serde_json::Map<String, serde_json::Value> =
        counts.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v))).collect();
    let delta = serde_json::Value::Object(delta).to_string();
    store.block(async {
        let client = store.client().await?;
        client
            .execute(
                "UPDATE workers SET counters = counters || coalesce((
                     SELECT jsonb_object_agg(k, coalesce((counters->>k)::bigint, 0) + v::bigint)
                     FROM jsonb_each_text($2::text::jsonb) AS d(k, v)
                 ), '{}')
                 WHERE id = $1",
                &[&worker, &delta],
            )
            .await
            .map_err(store.db())
    })??;
    Ok(())
}
