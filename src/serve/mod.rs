//! `feedmill serve`: the output folder over HTTP, plus `/metrics` and `/healthz` for operators.
//!
//! Every file goes out with a strong `ETag` (a hash of its bytes), `Last-Modified` (its mtime) and
//! `Cache-Control: public, max-age=N`, where N is the refresh interval: a reader polling more often than
//! feedmill refreshes is answered from its own cache, and a conditional request for an unchanged file
//! gets a 304 without the file being read. Bodies are compressed with gzip or brotli when the client
//! asks for it (`Vary: Accept-Encoding`). `files` decides which file a path names and refuses any path
//! that would lead out of the folder.
//!
//! The server only reads: the folder, and the state database for `/metrics` (opened read-only at each
//! scrape). The refresh loop of `serve --watch` runs beside it in the same process and reports each
//! refresh through [`Server::observe`].

mod files;
mod metrics;

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
use crate::store::{Entries, SourceStates, Store, StoreError};
use files::{Refused, Resolved};
pub use metrics::Observed;

/// `Cache-Control: max-age` when nothing refreshes in this process: a guess at how often a cron `run`
/// rewrites the folder.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// What the server needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The output folder to serve.
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
    started: Instant,
    observed: Mutex<Observed>,
    etags: files::Etags,
}

impl Server {
    pub fn new(settings: Settings) -> Arc<Server> {
        Arc::new(Server {
            settings,
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
        let (states, counts) = if path.is_file() {
            let store = Store::open_read_only(path)?;
            (store.sources()?, store.entry_counts()?)
        } else {
            Default::default()
        };
        let observed = self.observed();
        Ok(metrics::render(&metrics::Snapshot {
            sources: &self.settings.sources,
            states: &states,
            counts: &counts,
            observed: &observed,
        }))
    }

    /// `Ok` when the folder has an `index.html` and, when refreshing, a refresh finished lately.
    fn health(&self) -> Result<(), String> {
        let root = &self.settings.root;
        if !root.join("index.html").is_file() {
            return Err(format!("no index.html in {} yet", root.display()));
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

    /// A file of the folder, or why not. Blocking: runs on the blocking pool.
    fn file_response(&self, uri: &Uri, headers: &HeaderMap) -> Response {
        let path = match files::resolve(&self.settings.root, uri.path()) {
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
        // A conditional request usually ends in a 304 and needs no bytes; any other reads them at once.
        let conditional =
            headers.contains_key(header::IF_NONE_MATCH) || headers.contains_key(header::IF_MODIFIED_SINCE);
        let opened = match self.etags.open(&path, !conditional) {
            Ok(o) => o,
            Err(e) => return unreadable(&path, &e),
        };
        let mut validators = HeaderMap::new();
        let cache_control = format!("public, max-age={}", self.settings.max_age.as_secs());
        for (name, value) in [
            (header::ETAG, opened.etag.clone()),
            (header::LAST_MODIFIED, files::http_date(opened.modified)),
            (header::CACHE_CONTROL, cache_control),
            (header::VARY, "accept-encoding".to_owned()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                validators.insert(name, v);
            }
        }
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
