//! Publishing on PostgreSQL (#21): one publisher at a time under a session advisory lock, the files of
//! the last build in `published`, and the `NOTIFY` that tells every `serve` instance to load them again.
//!
//! The lock is a session lock (`pg_advisory_lock`), not a transaction one: it spans the step "select",
//! the rendering and the folder's write, which are not one transaction. It lives on one pooled
//! connection held by [`PgPublishLock`], and the files are stored on that same connection, so a
//! publisher whose session was lost (and its lock with it) fails to store instead of racing the next.

use std::collections::HashMap;
use std::future::poll_fn;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_postgres::Object;
use tokio_postgres::AsyncMessage;

use super::{PgError, PgStore, LOCK_PUBLISH};
use crate::error::error_chain;
use crate::store::{Publish, PublishedFile, StoreError};

/// The channel a publish notifies, with the schema's name as payload: `serve` instances of states in
/// other schemas of the database ignore it.
const CHANNEL: &str = "feedmill_published";

/// `application_name` of the listening connections.
const LISTENER_NAME: &str = "feedmill serve (listening for new outputs)";

/// The first wait before connecting again after the listening connection dropped; doubled at each
/// failure up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The publish lock, held on one pooled connection; dropped, it is released (or, when the release
/// fails, the connection is closed, which releases it too).
///
/// A connection that carried files' bytes is closed too, not given back to the pool: tokio-postgres
/// keeps a connection's write buffers as large as the largest message it ever sent (a build's
/// `index.html` is 0.7 MiB at 1,000 sources), so with publishes landing on each pooled connection in
/// turn, a `watch` kept up to about 2 MiB more on each of them (heaptrack, bench/README.md). The
/// cost is one connection opened per changed build.
pub struct PgPublishLock {
    store: PgStore,
    client: Option<Object>,
    /// Whether [`Publish::publish`] sent any file's bytes on `client`.
    sent: bool,
}

impl Drop for PgPublishLock {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let held = &client;
        let unlocked = self.store.block(async {
            held.query_one("SELECT pg_advisory_unlock(hashtext(current_schema()), $1)", &[&LOCK_PUBLISH])
                .await
                .and_then(|row| row.try_get::<_, bool>(0))
        });
        if !matches!(unlocked, Ok(Ok(true))) {
            tracing::warn!("{}: cannot release the publish lock; closing its connection", self.store.shown);
            // Out of the pool and dropped: the session ends, and the lock with it.
            drop(Object::take(client));
        } else if self.sent {
            drop(Object::take(client));
        }
    }
}

impl Publish for PgStore {
    type PublishLock = PgPublishLock;

    fn lock_publish(&self) -> Result<PgPublishLock, StoreError> {
        let client = self.block(async {
            let client = self.client().await?;
            client
                .execute("SELECT pg_advisory_lock(hashtext(current_schema()), $1)", &[&LOCK_PUBLISH])
                .await
                .map_err(self.db())?;
            Ok::<_, PgError>(client)
        })??;
        let lock = PgPublishLock { store: self.clone(), client: Some(client), sent: false };
        if let Some(client) = &lock.client {
            // Dropped on the error, the lock is let go.
            self.block(self.check_config(&***client))??;
        }
        Ok(lock)
    }

    fn publish(&self, lock: &mut PgPublishLock, files: &[PublishedFile]) -> Result<(), StoreError> {
        let Some(client) = lock.client.as_mut() else {
            return Err(
                PgError::Setup { url: self.shown.to_string(), message: "the publish lock is gone".into() }.into()
            );
        };
        let etags: Vec<String> = files.iter().map(|f| crate::store::etag_of(&f.bytes)).collect();
        let sent = &mut lock.sent;
        self.block(async {
            let tx = client.transaction().await?;
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut changed = tx.execute("DELETE FROM published WHERE NOT (path = ANY($1))", &[&paths]).await?;
            // Only the files whose ETag (a digest of the bytes) changed are sent: a build rewrites a
            // few of its files. An unchanged file keeps its row, and so its time (`Last-Modified`),
            // as the folder's unchanged files keep their mtime.
            let stored: HashMap<String, String> = tx
                .query("SELECT path, etag FROM published", &[])
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()?;
            let upsert = tx
                .prepare(
                    "INSERT INTO published (path, bytes, etag, published_at) VALUES ($1, $2, $3, now())
                     ON CONFLICT (path) DO UPDATE
                     SET bytes = excluded.bytes, etag = excluded.etag, published_at = excluded.published_at",
                )
                .await?;
            for (file, etag) in files.iter().zip(&etags) {
                if stored.get(&file.path) != Some(etag) {
                    *sent = true;
                    changed += tx.execute(&upsert, &[&file.path, &file.bytes, etag]).await?;
                }
            }
            if changed > 0 {
                // Delivered at the commit, and only then: a listener never loads half a build.
                tx.execute("SELECT pg_notify($1, current_schema())", &[&CHANNEL]).await?;
            }
            tx.commit().await
        })?
        .map_err(self.db())?;
        Ok(())
    }
}

/// One published file, as `serve` loads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRow {
    /// Under the output folder, `/` separated: `all/rss.xml`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub etag: String,
    /// When these bytes were first published (`Last-Modified`).
    pub published_at: SystemTime,
}

async fn read_published(client: &tokio_postgres::Client) -> Result<Vec<PublishedRow>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT path, bytes, etag, FLOOR(EXTRACT(EPOCH FROM published_at))::BIGINT FROM published ORDER BY path",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let secs: i64 = r.try_get(3)?;
            Ok(PublishedRow {
                path: r.try_get(0)?,
                bytes: r.try_get(1)?,
                etag: r.try_get(2)?,
                published_at: UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0)),
            })
        })
        .collect()
}

impl PgStore {
    /// The files of the last build published, one snapshot.
    pub async fn published(&self) -> Result<Vec<PublishedRow>, StoreError> {
        let client = self.client().await?;
        Ok(read_published(&client).await.map_err(self.db())?)
    }

    /// Listens for new builds on a connection of its own (not the pool's) and hands each one to
    /// `loaded`, whole; never returns. When the connection drops it connects again, waiting longer
    /// after each failure, and loads everything again once listening, since notifications sent
    /// meanwhile were lost. While the database is unreachable `loaded` is not called: the caller keeps
    /// what it had.
    pub async fn listen_published(&self, mut loaded: impl FnMut(Vec<PublishedRow>) + Send) {
        let mut backoff = BACKOFF_MIN;
        loop {
            match self.listen_once(&mut loaded, &mut backoff).await {
                Ok(()) => tracing::warn!("{}: the connection listening for new outputs closed", self.shown),
                Err(e) => tracing::warn!("listening for new outputs: {}", error_chain(&e)),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    async fn listen_once(
        &self,
        loaded: &mut (impl FnMut(Vec<PublishedRow>) + Send),
        backoff: &mut Duration,
    ) -> Result<(), PgError> {
        let (config, tls) = &*self.connect;
        let mut config = config.clone();
        // Named, so an operator sees in `pg_stat_activity` which connections are serves listening.
        config.application_name(LISTENER_NAME);
        let (client, mut connection) = config.connect(tls.clone()).await.map_err(self.db())?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let shown = self.shown.clone();
        // The connection's messages: the notifications, forwarded; the end of the connection ends the
        // channel, and so the loop below.
        let driver = tokio::spawn(async move {
            while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if tx.send(n.payload().to_owned()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("{shown}: the connection listening for new outputs failed: {e}");
                        break;
                    }
                }
            }
        });
        let _driver = AbortOnDrop(driver);
        let schema: Option<String> =
            client.query_one("SELECT current_schema()", &[]).await.and_then(|r| r.try_get(0)).map_err(self.db())?;
        let schema = schema.unwrap_or_default();
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(self.db())?;
        // Loaded once listening: a build committed before is in this load, one committed after notifies.
        loaded(read_published(&client).await.map_err(self.db())?);
        *backoff = BACKOFF_MIN;
        while let Some(payload) = rx.recv().await {
            let mut ours = payload == schema;
            // Builds notified meanwhile are all in the one load.
            while let Ok(more) = rx.try_recv() {
                ours |= more == schema;
            }
            if ours {
                loaded(read_published(&client).await.map_err(self.db())?);
            }
        }
        Ok(())
    }
}

/// Ends a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::testing::{fresh_schema_url, server_url, RUNTIME};
    use super::*;

    /// Round `round` of publisher `t`: its own bytes, and a file only even rounds have, so a build
    /// also removes the previous one's files.
    fn build(t: usize, round: usize) -> Vec<PublishedFile> {
        let mut files = vec![
            PublishedFile { path: "index.html".into(), bytes: format!("<html>{t} {round}").into_bytes() },
            PublishedFile { path: "all/rss.xml".into(), bytes: format!("<rss>{t} {round}").into_bytes() },
        ];
        if round.is_multiple_of(2) {
            files.push(PublishedFile { path: format!("extra/{t}-{round}.xml"), bytes: vec![b'x'; round] });
        }
        files
    }

    #[test]
    fn two_publishers_never_write_at_once_and_the_last_build_is_stored_whole() {
        let Some(server) = server_url() else { return };
        let url = crate::store::postgres::testing::state_url(&fresh_schema_url(&server));
        let stores: Vec<PgStore> = (0..2).map(|_| PgStore::open(&url, RUNTIME.handle().clone()).unwrap()).collect();
        let start = Instant::now();
        let mut held: Vec<(Duration, Duration, Vec<PublishedFile>)> = std::thread::scope(|s| {
            let handles: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(t, store)| {
                    s.spawn(move || {
                        let mut held = Vec::new();
                        for round in 0..8 {
                            let mut lock = store.lock_publish().unwrap();
                            let from = start.elapsed();
                            let files = build(t, round);
                            // As a build takes a while: without the lock the other publisher's turn
                            // would start inside this one.
                            std::thread::sleep(Duration::from_millis(15));
                            store.publish(&mut lock, &files).unwrap();
                            held.push((from, start.elapsed(), files));
                            drop(lock);
                        }
                        held
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        held.sort_by_key(|(from, _, _)| *from);
        assert_eq!(held.len(), 16);
        for pair in held.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "two publishers held the lock at once: {:?} and {:?}",
                pair[0].0..pair[0].1,
                pair[1].0..pair[1].1
            );
        }
        let last = &held.last().unwrap().2;
        let mut expected: Vec<(String, Vec<u8>, String)> =
            last.iter().map(|f| (f.path.clone(), f.bytes.clone(), crate::store::etag_of(&f.bytes))).collect();
        expected.sort();
        let stored = RUNTIME.block_on(stores[0].published()).unwrap();
        let stored: Vec<(String, Vec<u8>, String)> = stored.into_iter().map(|r| (r.path, r.bytes, r.etag)).collect();
        assert_eq!(stored, expected, "the rows are the last build's files, and only those");
    }

    #[test]
    fn a_connection_that_sent_files_leaves_the_pool_and_an_unchanged_build_sends_none() {
        let Some(server) = server_url() else { return };
        let url = crate::store::postgres::testing::state_url(&fresh_schema_url(&server));
        let store = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
        let backend = |lock: &PgPublishLock| -> i32 {
            RUNTIME.block_on(async {
                lock.client.as_ref().unwrap().query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0)
            })
        };
        let files = build(0, 2);
        let mut lock = store.lock_publish().unwrap();
        let sent_on = backend(&lock);
        store.publish(&mut lock, &files).unwrap();
        assert!(lock.sent);
        drop(lock);

        let mut lock = store.lock_publish().unwrap();
        let next = backend(&lock);
        assert_ne!(next, sent_on, "the connection that carried the files was closed, not pooled again");
        store.publish(&mut lock, &files).unwrap();
        assert!(!lock.sent, "the same build again: no file's bytes are sent");
        drop(lock);
        let lock = store.lock_publish().unwrap();
        assert_eq!(backend(&lock), next, "a connection that sent no file goes back to the pool");
        drop(lock);
        let stored = RUNTIME.block_on(store.published()).unwrap();
        assert_eq!(stored.iter().map(|r| &r.path).collect::<Vec<_>>(), ["all/rss.xml", "extra/0-2.xml", "index.html"]);
    }

    #[test]
    fn an_unchanged_file_keeps_its_time_and_a_lost_lock_session_fails_the_store() {
        let Some(server) = server_url() else { return };
        let url = crate::store::postgres::testing::state_url(&fresh_schema_url(&server));
        let store = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
        let publish = |files: &[PublishedFile]| {
            let mut lock = store.lock_publish().unwrap();
            store.publish(&mut lock, files).unwrap();
        };
        publish(&build(0, 1));
        let first = RUNTIME.block_on(store.published()).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let mut next = build(0, 1);
        next[1].bytes = b"<rss>changed".to_vec();
        publish(&next);
        let second = RUNTIME.block_on(store.published()).unwrap();
        let time = |rows: &[PublishedRow], path: &str| rows.iter().find(|r| r.path == path).unwrap().published_at;
        assert_eq!(time(&first, "index.html"), time(&second, "index.html"), "unchanged: its time stays");
        assert!(time(&second, "all/rss.xml") > time(&first, "all/rss.xml"), "changed: a new time");

        // The lock's session ends (a restarted server, a dropped connection): its store must fail, as
        // another publisher may hold the lock by now.
        let mut lock = store.lock_publish().unwrap();
        RUNTIME.block_on(async {
            let client = lock.client.as_ref().unwrap();
            let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
            let (other, connection) = tokio_postgres::connect(url.expose_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            other.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
        });
        assert!(store.publish(&mut lock, &build(0, 2)).is_err());
        drop(lock);
        let after = RUNTIME.block_on(store.published()).unwrap();
        assert_eq!(after, second, "nothing of the failed store was kept");
        // And the next publisher is not stuck behind a lock nobody holds.
        publish(&build(0, 3));
    }
}
