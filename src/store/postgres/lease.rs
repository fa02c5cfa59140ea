//! Source leases (#21), instead of SQLite's one run lock: each worker claims due sources in batches,
//! holds each for a lease it renews while working, and releases it once the source is recorded. A
//! worker killed mid-run holds nothing once its leases expire, and the others take its sources over.
//!
//! The claim is one transaction under an advisory lock: claims are short and rare (a batch at a time),
//! and the `per_host` limit counts the leases every worker holds per host, which needs one decider;
//! the candidates are read `FOR UPDATE SKIP LOCKED`, so a source whose row a worker holds (recording
//! it) is passed over rather than waited for. Lease times are the database's clock (`now()`), so
//! workers whose clocks differ agree on when a lease ends.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::{PgStore, LOCK, LOCK_CLAIM};
use crate::store::StoreError;

/// What to claim.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The worker's id (`workers.id`), written as the holder of each lease.
    pub worker: &'a str,
    /// At most this many sources.
    pub batch: usize,
    /// At most this many leases held per host, by all workers together (`[fetch] per_host`).
    pub per_host: usize,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// Sources whose `next_fetch` is after this are not due.
    pub now: DateTime<Utc>,
}

/// Leases due sources to `claim.worker`: unleased or whose lease expired, not gone, due by
/// `claim.now`, oldest due first; per host no more than `per_host` leases held by all workers. Returns
/// their names.
pub fn claim(store: &PgStore, claim: &Claim<'_>) -> Result<Vec<String>, StoreError> {
    let names = store.block(async {
        let mut client = store.client().await?;
        claim_on(&mut client, claim).await.map_err(store.db())
    })??;
    Ok(names)
}

/// [`claim`] on one connection: the tests race two of them.
pub(super) async fn claim_on(
    client: &mut tokio_postgres::Client,
    claim: &Claim<'_>,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute(LOCK, &[&LOCK_CLAIM]).await?;
    let batch = i64::try_from(claim.batch).unwrap_or(i64::MAX);
    let per_host = i64::try_from(claim.per_host).unwrap_or(i64::MAX);
    let rows = tx
        .query(
            "WITH free AS (
                 SELECT name, host, coalesce(next_fetch, 0) AS due, rank FROM sources
                 WHERE (lease_until IS NULL OR lease_until <= now()) AND gone_since IS NULL
                   AND (next_fetch IS NULL OR next_fetch <= $1)
                 FOR UPDATE SKIP LOCKED
             ), held AS (
                 SELECT host, count(*) AS n FROM sources
                 WHERE lease_until > now() AND host IS NOT NULL GROUP BY host
             ), ranked AS (
                 SELECT name, host, due, rank,
                        row_number() OVER (PARTITION BY host ORDER BY due, rank NULLS LAST, name) AS nth
                 FROM free
             )
             SELECT r.name FROM ranked r LEFT JOIN held h ON h.host = r.host
             WHERE r.host IS NULL OR r.nth <= $2 - coalesce(h.n, 0)
             ORDER BY r.due, r.rank NULLS LAST, r.name
             LIMIT $3",
            &[&claim.now.timestamp(), &per_host, &batch],
        )
        .await?;
    let names: Vec<String> = rows.into_iter().map(|r| r.get(0)).collect();
    if !names.is_empty() {
        tx.execute(
            "UPDATE sources SET leased_by = $1, lease_until = now() + make_interval(secs => $2)
             WHERE name = ANY($3)",
            &[&claim.worker, &claim.lease.as_secs_f64(), &names],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(names)
}

/// Extends every lease `worker` still holds by `lease` from now (the heartbeat, every lease/3); a lease
/// already expired is not renewed, as another worker may have taken it. Returns how many were.
pub fn renew(store: &PgStore, worker: &str, lease: Duration) -> Result<u64, StoreError> {
    let n = store.block(async {
        let client = store.client().await?;
        renew_on(&**client, worker, lease).await.map_err(store.db())
    })??;
    Ok(n)
}

pub(super) async fn renew_on(
    client: &impl GenericClient,
    worker: &str,
    lease: Duration,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "UPDATE sources SET lease_until = now() + make_interval(secs => $2)
             WHERE leased_by = $1 AND lease_until > now()",
            &[&worker, &lease.as_secs_f64()],
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

/// A worker's heartbeat: its `workers.heartbeat` and its live leases ([`renew`]) moved on together,
/// in one transaction, so a worker seen alive holds its leases. Returns how many leases were renewed.
pub fn heartbeat(store: &PgStore, worker: &str, lease: Duration) -> Result<u64, StoreError> {
    let n = store.block(async {
        let mut client = store.client().await?;
        let tx = client.transaction().await.map_err(store.db())?;
        tx.execute("UPDATE workers SET heartbeat = now() WHERE id = $1", &[&worker]).await.map_err(store.db())?;
        let n = renew_on(&*tx, worker, lease).await.map_err(store.db())?;
        tx.commit().await.map_err(store.db())?;
        Ok::<_, super::PgError>(n)
    })??;
    Ok(n)
}
