//! The files of a PostgreSQL state's last build (#21), served from memory: loaded whole at the start,
//! loaded whole again each time a publisher's `NOTIFY` says a new build is stored (and after the
//! listening connection comes back, since notifications sent meanwhile are lost). While the database
//! is unreachable the last files loaded go on being served. Every instance serves the rows as stored,
//! bytes, ETag and time, so any number of them behind a load balancer answer alike.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use axum::body::Bytes;

use super::files::{self, Refused, Resolved};
use crate::store::postgres::{PgStore, PublishedRow};
use crate::store::StoreError;

/// One published file, ready to send.
pub struct SiteFile {
    pub bytes: Bytes,
    pub etag: String,
    pub modified: SystemTime,
}

/// One build's files by path (`all/rss.xml`), and the folders they make.
#[derive(Default)]
pub struct Site {
    files: HashMap<String, SiteFile>,
    folders: HashSet<String>,
}

impl Site {
    fn new(rows: Vec<PublishedRow>) -> Site {
        let mut site = Site::default();
        for row in rows {
            let mut folder = row.path.as_str();
            while let Some((parent, _)) = folder.rsplit_once('/') {
                site.folders.insert(parent.to_owned());
                folder = parent;
            }
            let file = SiteFile { bytes: Bytes::from(row.bytes), etag: row.etag, modified: row.published_at };
            site.files.insert(row.path, file);
        }
        site
    }

    pub fn get(&self, path: &str) -> Option<&SiteFile> {
        self.files.get(path)
    }

    /// Maps the raw request path to a file, as [`files::resolve`] does in a folder: a
    /// [`Resolved::File`] holds the file's path in the build.
    pub fn resolve(&self, raw_path: &str) -> Result<Resolved, Refused> {
        let (segments, wants_folder) = files::segments(raw_path)?;
        let joined = segments.join("/");
        if !wants_folder {
            return if self.files.contains_key(&joined) {
                Ok(Resolved::File(PathBuf::from(joined)))
            } else if self.folders.contains(&joined) {
                Ok(Resolved::AddSlash)
            } else {
                Err(Refused::NotFound)
            };
        }
        let index = if joined.is_empty() { "index.html".to_owned() } else { format!("{joined}/index.html") };
        if self.files.contains_key(&index) {
            Ok(Resolved::File(PathBuf::from(index)))
        } else if !joined.is_empty() && self.folders.contains(&joined) {
            Ok(Resolved::ToTop)
        } else {
            Err(Refused::NotFound)
        }
    }
}

/// The published files of a state, kept current by a task listening for new builds.
pub struct Published {
    site: Arc<RwLock<Arc<Site>>>,
    store: PgStore,
    listener: tokio::task::AbortHandle,
}

impl Published {
    /// Loads the files (failing when the database cannot be read now) and starts listening for new
    /// builds on the current runtime.
    pub async fn load(store: &PgStore) -> Result<Published, StoreError> {
        let site = Arc::new(RwLock::new(Arc::new(Site::new(store.published().await?))));
        let listening = store.clone();
        let shared = Arc::clone(&site);
        let listener = tokio::spawn(async move {
            listening
                .listen_published(move |rows| {
                    let loaded = Arc::new(Site::new(rows));
                    tracing::debug!("{} published files loaded", loaded.files.len());
                    *shared.write().unwrap_or_else(PoisonError::into_inner) = loaded;
                })
                .await;
        })
        .abort_handle();
        Ok(Published { site, store: store.clone(), listener })
    }

    /// The files as last loaded; a request holds one build from start to end.
    pub fn current(&self) -> Arc<Site> {
        Arc::clone(&self.site.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The state, for `/metrics`.
    pub fn store(&self) -> &PgStore {
        &self.store
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, UNIX_EPOCH};

    use axum::http::{header, StatusCode};

    use super::*;
    use crate::serve::{serve, Files, Server, Settings};
    use crate::store::postgres::testing::{fresh_schema_url, server_url, RUNTIME};
    use crate::store::{Publish, PublishedFile};

    fn site(paths: &[&str]) -> Site {
        Site::new(
            paths
                .iter()
                .map(|p| PublishedRow {
                    path: (*p).to_owned(),
                    bytes: p.as_bytes().to_vec(),
                    etag: crate::serve::etag_of(p.as_bytes()),
                    published_at: UNIX_EPOCH,
                })
                .collect(),
        )
    }

    #[test]
    fn paths_name_published_files_as_they_name_a_folders() {
        let site = site(&["index.html", "sources.opml", "all/rss.xml", "tech/atom.xml", "docs/a/index.html"]);
        let file = |p: &str| Ok(Resolved::File(PathBuf::from(p)));
        assert_eq!(site.resolve("/"), file("index.html"));
        assert_eq!(site.resolve("/all/rss.xml"), file("all/rss.xml"));
        assert_eq!(site.resolve("//all//rss.xml"), file("all/rss.xml"));
        assert_eq!(site.resolve("/%61ll/rss.xml"), file("all/rss.xml"));
        assert_eq!(site.resolve("/all/rss.xml/"), Err(Refused::NotFound));
        assert_eq!(site.resolve("/all"), Ok(Resolved::AddSlash));
        assert_eq!(site.resolve("/all/"), Ok(Resolved::ToTop));
        assert_eq!(site.resolve("/docs"), Ok(Resolved::AddSlash));
        assert_eq!(site.resolve("/docs/a/"), file("docs/a/index.html"));
        assert_eq!(site.resolve("/missing.xml"), Err(Refused::NotFound));
        assert_eq!(site.resolve("/missing/"), Err(Refused::NotFound));
        assert!(matches!(site.resolve("/../index.html"), Err(Refused::BadRequest(_))));
        assert!(matches!(site.resolve("/all/..%2f..%2fsecret"), Err(Refused::BadRequest(_))));
        assert_eq!(site.resolve("/.hidden"), Err(Refused::NotFound));
        assert_eq!(Site::default().resolve("/"), Err(Refused::NotFound));
    }

    /// Publishes `files` as one build, from a thread off the runtime (as a worker's run would).
    async fn publish(store: &PgStore, files: &[(&str, &str)]) {
        let store = store.clone();
        let files: Vec<PublishedFile> =
            files.iter().map(|(p, b)| PublishedFile { path: (*p).to_owned(), bytes: b.as_bytes().to_vec() }).collect();
        tokio::task::spawn_blocking(move || {
            let mut lock = store.lock_publish().unwrap();
            store.publish(&mut lock, &files).unwrap();
        })
        .await
        .unwrap();
    }

    /// Status, ETag and body of a GET.
    async fn get(client: &reqwest::Client, base: &str, path: &str) -> (StatusCode, String, String) {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        let status = response.status();
        let etag = response.headers().get(header::ETAG).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, etag, response.text().await.unwrap())
    }

    /// Polls every instance until each serves `body` at `path`, for at most ten seconds.
    async fn until_served(client: &reqwest::Client, bases: &[String], path: &str, body: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for base in bases {
            loop {
                let (_, _, got) = get(client, base, path).await;
                if got == body {
                    break;
                }
                assert!(Instant::now() < deadline, "{base}{path} still serves {got:?}, not {body:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    #[test]
    fn serves_give_the_published_bytes_alike_and_follow_each_notify() {
        let Some(server) = server_url() else { return };
        let url = crate::store::postgres::testing::state_url(&fresh_schema_url(&server));
        let open = || PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
        let publisher = open();
        RUNTIME.block_on(async {
            publish(&publisher, &[("index.html", "<html>one"), ("all/rss.xml", "<rss>one"), ("old.opml", "<opml>")]).await;
            let mut bases = Vec::new();
            for _ in 0..2 {
                let settings = Settings {
                    root: PathBuf::from("/nonexistent"),
                    state_path: PathBuf::from("/nonexistent/state.db"),
                    sources: vec!["abai".into()],
                    max_age: Duration::from_secs(300),
                    refresh_every: None,
                };
                let server = Server::with_files(settings, Files::published(&open()).await.unwrap());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bases.push(format!("http://{}", listener.local_addr().unwrap()));
                tokio::spawn(serve(listener, server, std::future::pending()));
            }
            // A plain client as a reader has: none of the fetcher's settings matter here.
            #[allow(clippy::disallowed_methods)]
            let client = reqwest::Client::new();

            let response = client.get(format!("{}/all/rss.xml", bases[0])).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let headers = response.headers().clone();
            assert_eq!(headers[header::CONTENT_TYPE], "application/rss+xml; charset=utf-8");
            assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
            assert!(headers.contains_key(header::LAST_MODIFIED));
            let etag = headers[header::ETAG].to_str().unwrap().to_owned();
            assert_eq!(etag, crate::serve::etag_of(b"<rss>one"), "the folder's ETag for the same bytes");
            assert_eq!(response.text().await.unwrap(), "<rss>one");
            let again = client
                .get(format!("{}/all/rss.xml", bases[1]))
                .header(header::IF_NONE_MATCH, &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "the other instance gives the same ETag");
            assert_eq!(get(&client, &bases[0], "/").await.2, "<html>one");
            // `/all` → `/all/` → `/`: a feed's folder has no index of its own here either.
            let redirected = client.get(format!("{}/all", bases[0])).send().await.unwrap();
            assert_eq!(redirected.url().path(), "/");
            assert_eq!(redirected.text().await.unwrap(), "<html>one");
            assert_eq!(client.get(format!("{}/healthz", bases[0])).send().await.unwrap().status(), StatusCode::OK);
            assert_eq!(client.get(format!("{}/metrics", bases[1])).send().await.unwrap().status(), StatusCode::OK);

            publish(&publisher, &[("index.html", "<html>two"), ("all/rss.xml", "<rss>two")]).await;
            until_served(&client, &bases, "/all/rss.xml", "<rss>two").await;
            let (a, b) = (get(&client, &bases[0], "/index.html").await, get(&client, &bases[1], "/index.html").await);
            assert_eq!(a, b, "two instances give identical bytes and ETags");
            assert_eq!(a.2, "<html>two");
            assert_eq!(get(&client, &bases[0], "/old.opml").await.0, StatusCode::NOT_FOUND, "a file the build dropped");

            // The listening connections drop (a restarted database): the last files loaded are still
            // served, and a build published while they were away is loaded once they are back.
            let (admin, connection) = tokio_postgres::connect(url.expose_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let killed = admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'feedmill serve%'",
                    &[],
                )
                .await
                .unwrap();
            assert!(killed >= 2, "{killed} listening connections found");
            assert_eq!(get(&client, &bases[1], "/all/rss.xml").await.2, "<rss>two");
            publish(&publisher, &[("index.html", "<html>three"), ("all/rss.xml", "<rss>three")]).await;
            until_served(&client, &bases, "/all/rss.xml", "<rss>three").await;
        });
    }
}
