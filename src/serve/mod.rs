//! `feedmill serve`: the output folder over HTTP, plus `/metrics` and `/healthz` for operators.
//!
//! Every file goes out with a weak `ETag` (a hash of its bytes; weak, as the one tag stands for every
//! encoding of them), `Last-Modified` (its mtime) and `Cache-Control: public, max-age=N`, where N is
//! the refresh interval: a reader polling more often than feedmill refreshes is answered from its own
//! cache, and a conditional request for an unchanged file gets a 304 without the file being read.
//! Bodies are compressed with gzip or brotli when the client asks for it (`Vary: Accept-Encoding`).
//! `files` decides which file a path names and refuses any path that would lead out of the folder.
//!
//! The server only reads: the folder, and the state database for `/metrics` (opened read-only at each
//! scrape). The refresh loop of `serve --watch` runs beside it in the same process and reports each
//! refresh through [`Server::observe`].
//!
//! With a PostgreSQL state the files come from the database instead ([`Files::published`],
//! `published.rs`): the last build's rows, held in memory and loaded again on each `NOTIFY`, with the
//! ETag and time stored beside the bytes, so every instance gives the same answers; the headers and
//! the path rules are the folder's.

mod files;
mod metrics;
mod published;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use tower_http::compression::CompressionLayer;

use crate::error::error_chain;
use crate::report::RunReport;
use crate::store::postgres::PgStore;
use crate::store::{Entries, SourceStates, Store, StoreError};
pub use files::etag_of;
use files::{Refused, Resolved};
pub use metrics::Observed;
use published::Published;

/// `Cache-Control: max-age` when nothing refreshes in this process: a guess at how often a cron `run`
/// rewrites the folder.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// Where the files served come from.
pub enum Files {
    /// An output folder, read at each request.
    Folder(PathBuf),
    /// A PostgreSQL state's published files ([`Files::published`]).
    Published(Published),
}

impl Files {
    /// The published files of `store`'s state: loaded now (an error when the database cannot be read),
    /// then kept current by a task on the current runtime listening for new builds; the last files
    /// loaded are served while the database is unreachable. Call from inside the runtime.
    pub async fn published(store: &PgStore) -> Result<Files, StoreError> {
        Ok(Files::Published(Published::load(store).await?))
    }
}

/// What the server needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The output folder to serve ([`Server::new`]; [`Server::with_files`] serves its own files).
    pub root: PathBuf,
    /// The state database, read for `/metrics` when it exists.
    pub state_path: PathBuf,
    /// The configured sources' names, in config order.
    pub sources: Vec<String>,
    /// `Cache-Control: max-age` of the files.
    pub max_age: Duration,
    /// `Some(interval)` when this process refreshes (`--watch`): `/healthz` then also wants a refresh
    /// finished within three intervals.
    pub refresh_every: Option<Duration>,
}

/// The server's state, shared by the request handlers and the refresh loop.
pub struct Server {
    settings: Settings,
    files: Files,
    started: Instant,
    observed: Mutex<Observed>,
    etags: files::Etags,
}

impl Server {
    /// A server of the folder `settings.root`.
    pub fn new(settings: Settings) -> Arc<Server> {
        let files = Files::Folder(settings.root.clone());
        Server::with_files(settings, files)
    }

    /// A server of `files`; `settings.root` is not read.
    pub fn with_files(settings: Settings, files: Files) -> Arc<Server> {
        Arc::new(Server {
            settings,
            files,
            started: Instant::now(),
            observed: Mutex::default(),
            etags: files::Etags::default(),
        })
    }

    /// Counts one refresh of the loop running beside the server.
    pub fn observe(&self, now: DateTime<Utc>, report: &RunReport) {
        self.observed().record(now, report);
    }

    fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes: `/metrics`, `/healthz`, and every other path a file of the folder.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/metrics", get(metrics_page))
            .route("/healthz", get(health_page))
            .fallback(file_page)
            .layer(CompressionLayer::new())
            .with_state(Arc::clone(self))
    }

    /// The `/metrics` page: gauges from the state database, counters from [`Server::observe`].
    fn metrics_text(&self) -> Result<String, StoreError> {
        let path = &self.settings.state_path;
        let (states, counts, workers) = if let Files::Published(published) = &self.files {
            let store = published.store();
            (store.sources()?, store.entry_counts()?, crate::store::postgres::workers(store)?)
        } else if path.is_file() {
            let store = Store::open_read_only(path)?;
            (store.sources()?, store.entry_counts()?, Vec::new())
        } else {
            Default::default()
        };
        let observed = self.observed();
        Ok(metrics::render(&metrics::Snapshot {
            sources: &self.settings.sources,
            states: &states,
            counts: &counts,
            observed: &observed,
            workers: &workers,
        }))
    }

    /// `Ok` when the folder has an `index.html` and, when refreshing, a refresh finished lately.
    fn health(&self) -> Result<(), String> {
        match &self.files {
            Files::Folder(root) if !root.join("index.html").is_file() => {
                return Err(format!("no index.html in {} yet", root.display()));
            }
            Files::Published(published) if published.current().get("index.html").is_none() => {
                return Err("no index.html published yet".to_owned());
            }
            _ => {}
        }
        if let Some(every) = self.settings.refresh_every {
            let (since, what) = match self.observed().finished {
                Some(t) => (t.elapsed(), "the last refresh finished"),
                None => (self.started.elapsed(), "no refresh has finished since the start,"),
            };
            if since > every * 3 {
                return Err(format!(
                    "{what} {}s ago: more than 3 × the {}s interval",
                    since.as_secs(),
                    every.as_secs()
                ));
            }
        }
        Ok(())
    }

    /// A file of the folder or of the published build, or why not. Blocking: runs on the blocking pool.
    fn file_response(&self, uri: &Uri, headers: &HeaderMap) -> Response {
        // A published build is held whole for the request: a reload meanwhile does not mix two builds.
        let (site, resolved) = match &self.files {
            Files::Folder(root) => (None, files::resolve(root, uri.path())),
            Files::Published(published) => {
                let site = published.current();
                let resolved = site.resolve(uri.path());
                (Some(site), resolved)
            }
        };
        let path = match resolved {
            Ok(Resolved::File(path)) => path,
            Ok(Resolved::AddSlash) => {
                let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                let location = format!("{}/{query}", uri.path());
                return match HeaderValue::from_str(&location) {
                    Ok(to) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response(),
                    Err(_) => text(StatusCode::BAD_REQUEST, "bad request path"),
                };
            }
            Ok(Resolved::ToTop) => return (StatusCode::FOUND, [(header::LOCATION, "/")]).into_response(),
            Err(Refused::BadRequest(why)) => return text(StatusCode::BAD_REQUEST, why),
            Err(Refused::NotFound) => return text(StatusCode::NOT_FOUND, "not found"),
        };
        if let Some(site) = site {
            let Some(file) = path.to_str().and_then(|p| site.get(p)) else {
                return text(StatusCode::NOT_FOUND, "not found");
            };
            let mut validators = self.validators(&file.etag, file.modified);
            if files::not_modified(headers, &file.etag, file.modified, SystemTime::now()) {
                return (StatusCode::NOT_MODIFIED, validators).into_response();
            }
            validators.insert(header::CONTENT_TYPE, HeaderValue::from_static(files::content_type(&path)));
            validators.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            return (StatusCode::OK, validators, Body::from(file.bytes.clone())).into_response();
        }
        // A conditional request usually ends in a 304 and needs no bytes; any other reads them at once.
        let conditional =
            headers.contains_key(header::IF_NONE_MATCH) || headers.contains_key(header::IF_MODIFIED_SINCE);
        let opened = match self.etags.open(&path, !conditional) {
            Ok(o) => o,
            Err(e) => return unreadable(&path, &e),
        };
        let mut validators = self.validators(&opened.etag, opened.modified);
        if files::not_modified(headers, &opened.etag, opened.modified, SystemTime::now()) {
            return (StatusCode::NOT_MODIFIED, validators).into_response();
        }
        let bytes = match opened.bytes {
            Some(bytes) => bytes,
            // Read now, with the validators of what was read: the file may have been replaced since.
            None => match self.etags.open(&path, true) {
                Ok(again) => {
                    if let Ok(v) = HeaderValue::from_str(&again.etag) {
                        validators.insert(header::ETAG, v);
                    }
                    if let Ok(v) = HeaderValue::from_str(&files::http_date(again.modified)) {
                        validators.insert(header::LAST_MODIFIED, v);
                    }
                    again.bytes.unwrap_or_default()
                }
                Err(e) => return unreadable(&path, &e),
            },
        };
        validators.insert(header::CONTENT_TYPE, HeaderValue::from_static(files::content_type(&path)));
        validators.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        (StatusCode::OK, validators, Body::from(bytes)).into_response()
    }

    /// The headers a file goes out with, 304 or not.
    fn validators(&self, etag: &str, modified: SystemTime) -> HeaderMap {
        let mut validators = HeaderMap::new();
        let cache_control = format!("public, max-age={}", self.settings.max_age.as_secs());
        for (name, value) in [
            (header::ETAG, etag.to_owned()),
            (header::LAST_MODIFIED, files::http_date(modified)),
            (header::CACHE_CONTROL, cache_control),
            (header::VARY, "accept-encoding".to_owned()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                validators.insert(name, v);
            }
        }
        validators
    }
}

/// Serves until `stop` completes, then stops accepting, lets the requests in flight finish and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: Arc<Server>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, server.router()).with_graceful_shutdown(stop).await
}

async fn file_page(State(server): State<Arc<Server>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "method not allowed\n")
            .into_response();
    }
    // HEAD is answered like GET: the router drops the body after compression, so the headers are the
    // ones a GET would get.
    match tokio::task::spawn_blocking(move || server.file_response(&uri, &headers)).await {
        Ok(response) => response,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("internal error: {e}")),
    }
}

async fn metrics_page(State(server): State<Arc<Server>>) -> Response {
    match tokio::task::spawn_blocking(move || server.metrics_text()).await {
        Ok(Ok(page)) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
            page,
        )
            .into_response(),
        Ok(Err(e)) => {
            let message = format!("cannot read the state: {}", error_chain(&e));
            tracing::error!("/metrics: {message}");
            text(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("internal error: {e}")),
    }
}

async fn health_page(State(server): State<Arc<Server>>) -> Response {
    let (status, body) = match server.health() {
        Ok(()) => (StatusCode::OK, "ok".to_owned()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    };
    let mut response = text(status, &body);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn unreadable(path: &std::path::Path, e: &std::io::Error) -> Response {
    tracing::warn!(path = %path.display(), "cannot read: {e}");
    text(StatusCode::NOT_FOUND, "not found")
}

/// A short plain-text answer.
fn text(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}
