//! The PostgreSQL state (#21): one database shared by several workers, behind the same traits as the
//! SQLite file (README "Scaling out"): the connection pool and its TLS (`tls.rs`), the schema and its
//! migrations, [`Meta`], [`Outputs`], [`SourceStates`](super::SourceStates), `Entries`, `Stories`,
//! the run's write (`recorder.rs`), the story merge (`merge.rs`), the source leases and the workers
//! (`lease.rs`), publishing (`publish.rs`: the publish lock, the published files and their
//! `LISTEN/NOTIFY`) and `migrate-state`'s side (`copy.rs`).
//!
//! The traits are synchronous (`traits.rs`): each method blocks on the runtime's handle until its
//! statements are done, inside `block_in_place` when called from a worker of the multi-thread
//! runtime (the pool's connections are tasks of that runtime, which must go on meanwhile).
//!
//! Errors name the database by its redacted URL ([`StateUrl::shown`]): never its password.

mod copy;
mod entries;
mod lease;
mod merge;
mod migrations;
mod publish;
mod recorder;
mod sources;
mod stories;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::{Meta, Outputs, StoreError};
use crate::config::StateUrl;

pub use lease::{
    claim, count, heartbeat, register_worker, release, renew, retire, workers, Claim, Worker, WorkerRow, GONE_KEPT,
};
pub use migrations::KNOWN as SCHEMA_VERSION;
pub use publish::{PgPublishLock, PublishedRow};

/// Advisory lock keys, one per thing several workers must do one at a time; arbitrary but fixed, as
/// every feedmill must use the same numbers. Taken with [`LOCK`], which pairs the key with the schema,
/// so states in different schemas of one database (the tests' way) never wait for each other.
const LOCK_MIGRATE: i32 = 1;
const LOCK_CLAIM: i32 = 2;
const LOCK_SOURCES: i32 = 3;
const LOCK_STORIES: i32 = 4;
const LOCK_PUBLISH: i32 = 5;
/// Shared by each source's write, exclusive for dropping every signature after a signature version
/// change (`recorder.rs`): the drop rewrites rows the writes rewrite too, in another order.
const LOCK_SIGNATURES: i32 = 6;

/// Takes an advisory lock (`$1`: one of the keys above) until the transaction ends.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext(current_schema()), $1)";

/// [`LOCK`], shared: any number of holders at once, none while one holds it exclusively.
const LOCK_SHARED: &str = "SELECT pg_advisory_xact_lock_shared(hashtext(current_schema()), $1)";

/// The server's own message when there is one (`tokio_postgres::Error` shows only "db error").
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// How long opening a connection may take before the state is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections kept open: the recorder's, the source tasks' reads, a lease heartbeat.
const POOL_SIZE: usize = 8;

/// A failure of the PostgreSQL state, naming it by its redacted URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    #[error("state database {url}")]
    Db {
        url: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("state database {url}: no connection")]
    Pool {
        url: String,
        #[source]
        source: deadpool_postgres::PoolError,
    },
    #[error("state database {url}: {message}")]
    Setup { url: String, message: String },
    #[error("state database {url} was written by a newer feedmill (schema {found}, this one knows {known}): upgrade feedmill")]
    TooNew { url: String, found: i32, known: i32 },
    #[error(
        "state database {url}: the workers' config changed (a worker started with --adopt-config): this one \
         stops; start it again with the new feeds.toml"
    )]
    ConfigChanged { url: String },
    #[error(
        "state database {url} needs tokio's multi-thread runtime (called from a current-thread one, which cannot block)"
    )]
    CurrentThread { url: String },
}

impl From<PgError> for StoreError {
    fn from(e: PgError) -> StoreError {
        StoreError::Postgres(Box::new(e))
    }
}

/// A PostgreSQL state: a pool of connections to it, and the runtime they run on. A clone shares the
/// pool (the source tasks' [`Listings`](super::Listings) read through one).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    handle: Handle,
    /// The redacted URL, for messages.
    shown: Arc<str>,
    /// The worker this process registered as (`run`, `watch`): its runs read only the sources it
    /// leases. `None` for the commands that only read.
    worker: Option<Arc<Worker>>,
    /// How to open a connection of its own, outside the pool (`serve`'s `LISTEN`).
    connect: Arc<(tokio_postgres::Config, tls::MakeRustls)>,
}

impl PgStore {
    /// Connects to the database `url` names (TLS when its `sslmode` asks: `require`, or `prefer`
    /// against a server that offers it, verified against `[state] ca_file` or the Mozilla roots; see
    /// `tls.rs`) and brings its schema up
    /// to date, under a lock so workers starting together migrate once. The pool's connections run on
    /// `handle`'s runtime, which must outlive the store.
    pub fn open(url: &StateUrl, handle: Handle) -> Result<PgStore, StoreError> {
        let shown: Arc<str> = Arc::from(url.shown());
        let setup = |message: String| PgError::Setup { url: shown.to_string(), message };
        let mut config: tokio_postgres::Config =
            url.expose_url().parse().map_err(|e| setup(crate::redact::text(&format!("{e}"))))?;
        if let Some(password) = url.password() {
            config.password(password);
        }
        config.connect_timeout(CONNECT_TIMEOUT);
        let tls = tls::MakeRustls::new(url.ca_certificates()).map_err(setup)?;
        let connect = Arc::new((config.clone(), tls.clone()));
        let manager = Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| setup(format!("cannot build the connection pool: {e}")))?;
        let store = PgStore { pool, handle, shown, worker: None, connect };
        store.block(async {
            let mut client = store.client().await?;
            migrations::migrate(&mut client, &store.shown).await
        })??;
        Ok(store)
    }

    /// The redacted URL, as messages show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Registers this store's process as `worker` (`workers` row) and starts its heartbeat on the
    /// store's runtime: every third of the lease, the worker's heartbeat time and its live leases move
    /// on together. A heartbeat that fails (the database restarting) is logged and tried again at the
    /// next beat; leases not renewed in time expire, and other workers take those sources over.
    pub fn register(&mut self, worker: Worker) -> Result<tokio::task::JoinHandle<()>, StoreError> {
        register_worker(self, &worker.id, &worker.host, worker.pid)?;
        let worker = Arc::new(worker);
        self.worker = Some(worker.clone());
        let store = self.clone();
        Ok(self.handle.spawn(async move {
            let every = (worker.lease / 3).max(Duration::from_millis(100));
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = lease::beat(&store, &worker.id, worker.lease, &worker.held()).await {
                    tracing::warn!("worker {}: heartbeat failed: {}", worker.id, crate::error::error_chain(&e));
                }
            }
        }))
    }

    /// The digest of the config the workers run (`Config::digest`, kept in `meta`): `digest` when the
    /// state had none yet or `adopt` makes it the one, else the one stored, which the caller compares.
    /// One statement, so two workers starting at once on an empty state agree on the first.
    pub fn config_digest(&self, digest: &str, adopt: bool) -> Result<String, StoreError> {
        let row = self.block(async {
            let client = self.client().await?;
            client
                .query_one(
                    "INSERT INTO meta (key, value) VALUES ('config_digest', $1)
                     ON CONFLICT (key) DO UPDATE SET value = CASE WHEN $2 THEN excluded.value ELSE meta.value END
                     RETURNING value",
                    &[&digest, &adopt],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(row.get(0))
    }

    /// [`PgError::ConfigChanged`] when the config the workers run (`meta`) is no longer this worker's:
    /// another worker adopted a new one. `None` while it is, and for a store that is no worker.
    pub fn config_changed(&self) -> Result<Option<StoreError>, StoreError> {
        Ok(self.block(async {
            let client = self.client().await?;
            match self.check_config(&**client).await {
                Err(e @ PgError::ConfigChanged { .. }) => Ok(Some(e.into())),
                Err(e) => Err(e),
                Ok(()) => Ok(None),
            }
        })??)
    }

    /// Fails with [`PgError::ConfigChanged`] when this store's worker no longer runs the workers'
    /// config: checked before it claims sources and before it publishes, so a worker left running
    /// with an old config neither records nor publishes by it.
    async fn check_config(&self, client: &impl tokio_postgres::GenericClient) -> Result<(), PgError> {
        let Some(worker) = &self.worker else { return Ok(()) };
        let row =
            client.query_opt("SELECT value FROM meta WHERE key = 'config_digest'", &[]).await.map_err(self.db())?;
        match row.map(|r| r.get::<_, String>(0)) {
            Some(digest) if digest != worker.config_digest => {
                Err(PgError::ConfigChanged { url: self.shown.to_string() })
            }
            _ => Ok(()),
        }
    }

    /// The worker registered with [`register`](Self::register).
    pub fn worker(&self) -> Option<&Worker> {
        self.worker.as_deref()
    }

    /// Runs `f` to its end from synchronous code.
    fn block<F: Future>(&self, f: F) -> Result<F::Output, PgError> {
        match Handle::try_current() {
            Err(_) => Ok(self.handle.block_on(f)),
            Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
                Ok(tokio::task::block_in_place(|| self.handle.block_on(f)))
            }
            Ok(_) => Err(PgError::CurrentThread { url: self.shown.to_string() }),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool.get().await.map_err(|source| PgError::Pool { url: self.shown.to_string(), source })
    }

    fn db(&self) -> impl Fn(tokio_postgres::Error) -> PgError + '_ {
        move |source| PgError::Db { url: self.shown.to_string(), source }
    }
}

impl Meta for PgStore {
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self.block(async {
            let client = self.client().await?;
            client.query_opt("SELECT value FROM meta WHERE key = $1", &[&key]).await.map_err(self.db())
        })??;
        Ok(row.map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.block(async {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&key, &value],
                )
                .await
                .map_err(self.db())
        })??;
        Ok(())
    }
}

impl Outputs for PgStore {}
