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
use crate::store::{Candidate, ClaimAsk, Claimed, SourceState, StoreError};

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
/// candidates), unleased or whose lease expired, not claimed before in this run nor read by another
/// run of its round (`join_round`), due by the run's clock — or forced, named by `--reparse`, or whose config changed —, oldest due first; per host no
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
    let run = run_key(claim.worker, ask.run);
    let interval = ask.default_interval.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (round, new_run) = join_round(&tx, claim, &run).await?;
    if new_run {
        offer(&tx, ask.candidates).await?;
    }
    // Only the first due sources in claim order are judged against the `per_host` limit: an ordered
    // index scan that stops after `head` rows, instead of ranking every due source at every claim
    // (7 ms of 12 at 10,000 sources). Hosts already at their limit are left out before, so their
    // sources never crowd the others out of that head; whether any is held back is all the worker
    // needs to know of those.
    let head = batch.saturating_mul(4).saturating_add(64);
    let rows = tx
        .query(
            &format!(
                "WITH held AS (
                     SELECT host, count(*) AS n FROM sources
                     WHERE leased_by IS NOT NULL AND lease_until > now() AND host IS NOT NULL GROUP BY host
                 ), full_hosts AS (
                     SELECT host FROM held WHERE n >= $6
                 ), free AS (
                     SELECT s.name, s.host, row_number() OVER (ORDER BY {CLAIM_ORDER}) AS place
                     FROM sources s
                     WHERE {CLAIMABLE} AND (s.host IS NULL OR s.host NOT IN (SELECT host FROM full_hosts))
                     ORDER BY {CLAIM_ORDER}
                     LIMIT $9
                 ), judged AS (
                     SELECT f.name, f.place,
                            f.host IS NULL OR row_number() OVER (PARTITION BY f.host ORDER BY f.place)
                                <= $6 - coalesce(h.n, 0) AS allowed
                     FROM free f LEFT JOIN held h ON h.host = f.host
                 ), chosen AS (
                     SELECT name FROM judged WHERE allowed ORDER BY place LIMIT $7
                 ), locked AS (
                     SELECT s.name FROM sources s WHERE s.name IN (SELECT name FROM chosen) FOR UPDATE OF s SKIP LOCKED
                 )
                 SELECT name, 0::bigint FROM locked
                 UNION ALL
                 (SELECT NULL, (SELECT count(*) FROM judged WHERE NOT allowed)
                               + (SELECT count(*) FROM (SELECT 1 FROM sources s
                                   WHERE {CLAIMABLE} AND s.host IN (SELECT host FROM full_hosts) LIMIT 1) AS one))"
            ),
            &[&run, &ask.force, &ask.reparse, &ask.now.timestamp(), &interval, &per_host, &batch, &round, &head],
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
            "UPDATE sources SET leased_by = $1, lease_until = now() + make_interval(secs => $2), claimed_in = $4
             WHERE name = ANY($3)",
            &[&claim.worker, &claim.lease.as_secs_f64(), &leased, &run],
        )
        .await?;
    }
    tx.commit().await?;
    Ok((leased, held_back))
}

/// The order sources are claimed in, oldest due first: by due time (`0` for a source with no
/// schedule), then least recently fetched, then config order. Sources read this round thus sort after
/// those still to read, and `sources_claim_order` (migration 2) serves the claim's head in this order.
const CLAIM_ORDER: &str = "coalesce(s.next_fetch, 0), coalesce(s.last_fetch, -1), s.rank, s.name";

/// Which sources a claim may take ($1 the run, $2 `--force`, $3 `--reparse`, $4 the run's clock, $5
/// the default interval, $8 the round's clock): offered by the config, not leased, not claimed
/// before in this run, and due as `pipeline/source.rs` decides it (which checks again, on the state
/// read under the lease) and not fetched at or after the round's clock (another run of the round read
/// it). A source with no schedule and no default interval is due at every round, once per round.
const CLAIMABLE: &str = "s.offered
    AND (s.lease_until IS NULL OR s.lease_until <= now())
    AND s.claimed_in IS DISTINCT FROM $1
    AND ($2::boolean OR s.name = ANY($3::text[])
         OR (s.config_digest IS NOT NULL AND s.config_digest <> s.offered_digest)
         OR ((s.gone_since IS NULL OR s.configured_url <> s.offered_url)
             AND (s.last_fetch IS NULL OR s.last_fetch < $8)
             AND CASE WHEN s.next_fetch IS NOT NULL THEN s.next_fetch <= $4
                      ELSE s.last_fetch IS NULL OR $5::bigint IS NULL OR s.last_fetch + $5 <= $4 END))";

/// The clock of the round `run` is in (see `migrations/002_rounds.sql`), decided at its first claim:
/// the earliest among the runs of live workers in progress then, or the run's own. A worker is live
/// while its heartbeat is younger than a lease.
/// Returns it, and whether this was the run's first claim.
async fn join_round(
    tx: &tokio_postgres::Transaction<'_>,
    claim: &Claim<'_>,
    run: &str,
) -> Result<(i64, bool), tokio_postgres::Error> {
    let joined =
        tx.query_opt("SELECT round_clock FROM workers WHERE id = $1 AND run_id = $2", &[&claim.worker, &run]).await?;
    if let Some(clock) = joined.and_then(|row| row.get::<_, Option<i64>>(0)) {
        return Ok((clock, false));
    }
    let round: i64 = tx
        .query_one(
            "SELECT least($2, min(round_clock)) FROM workers
             WHERE id <> $1 AND run_id IS NOT NULL AND heartbeat > now() - make_interval(secs => $3)",
            &[&claim.worker, &claim.ask.now.timestamp(), &claim.lease.as_secs_f64()],
        )
        .await?
        .get(0);
    tx.execute("UPDATE workers SET run_id = $2, round_clock = $3 WHERE id = $1", &[&claim.worker, &run, &round])
        .await?;
    Ok((round, true))
}

/// Writes the candidates into the rows (`offered`, `offered_url`, `offered_digest`) unless the rows
/// hold them already (`offer.digest`, a digest of them all): workers running one config offer the
/// same, so this is written once per config, not per run.
async fn offer(tx: &tokio_postgres::Transaction<'_>, candidates: &[Candidate]) -> Result<(), tokio_postgres::Error> {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for c in candidates {
        for part in [&c.name, &c.url, &c.digest] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
    }
    let digest = crate::store::entries::hex(&hash.finalize());
    let stored = tx.query_opt("SELECT digest FROM offer", &[]).await?;
    if stored.is_some_and(|row| row.get::<_, String>(0) == digest) {
        return Ok(());
    }
    let names: Vec<&str> = candidates.iter().map(|c| c.name.as_str()).collect();
    let urls: Vec<&str> = candidates.iter().map(|c| c.url.as_str()).collect();
    let digests: Vec<&str> = candidates.iter().map(|c| c.digest.as_str()).collect();
    tx.execute(
        "UPDATE sources s SET offered = c.name IS NOT NULL, offered_url = c.url, offered_digest = c.digest
         FROM sources o LEFT JOIN unnest($1::text[], $2::text[], $3::text[]) AS c(name, url, digest) ON c.name = o.name
         WHERE s.name = o.name AND (s.offered OR c.name IS NOT NULL)",
        &[&names, &urls, &digests],
    )
    .await?;
    tx.execute("DELETE FROM offer", &[]).await?;
    tx.execute("INSERT INTO offer (digest) VALUES ($1)", &[&digest]).await?;
    Ok(())
}

/// A run's id among every worker's: runs of other workers may share its own ([`ClaimAsk::run`]).
fn run_key(worker: &str, run: &str) -> String {
    format!("{worker} {run}")
}

/// `worker`'s run `run` ended: it no longer holds its round open for runs starting after it.
pub fn end_run(store: &PgStore, worker: &str, run: &str) -> Result<(), StoreError> {
    let run = run_key(worker, run);
    store.block(async {
        let client = store.client().await?;
        client
            .execute(
                "UPDATE workers SET run_id = NULL, round_clock = NULL WHERE id = $1 AND run_id = $2",
                &[&worker, &run],
            )
            .await
            .map_err(store.db())
    })??;
    Ok(())
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
/// under the same id, for `status` to list; and forgets the workers gone for longer than [`GONE_KEPT`]
/// (killed, or their machine lost), which `status` showed `gone` meanwhile.
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
            .map_err(store.db())?;
        client
            .execute(
                "DELETE FROM workers WHERE heartbeat < now() - make_interval(secs => $1)",
                &[&GONE_KEPT.as_secs_f64()],
            )
            .await
            .map_err(store.db())
    })??;
    Ok(())
}

/// How long a worker that stopped beating stays listed (`gone`) before the next worker to start
/// forgets it: long enough to be seen the morning after.
pub const GONE_KEPT: Duration = Duration::from_secs(24 * 3600);

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

    fn recorded(&self, name: &str) {
        self.worker.drop_held(&[name.to_owned()]);
    }

    fn end_run(&self, run: &str) -> Result<(), StoreError> {
        end_run(&self.store, &self.worker.id, run)
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
