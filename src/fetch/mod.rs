//! Locations in, raw bytes (or "not modified") out: the only stage that talks to the network.
//!
//! A source's [`Location`] is an http(s) URL or a local file or folder (`file://` URLs and bare paths
//! relative to the config's folder). [`Fetcher::fetch`] turns it into [`Fetched`]: the body with what the later stages
//! and the scheduler need to know about it ([`FetchMeta`]), or [`Fetched::NotModified`] when the
//! validators from the last run still hold. A 304 is an outcome, not an error; everything that is an
//! error is a [`FetchError`] naming the URL or path and the number of attempts.
//!
//! The shape follows the fetchers that run against the open web every day (Miniflux, Feedbin): one shared
//! client; a per-host limit so two dozen feeds on one blog platform do not hammer it; a body cap counted
//! on *decoded* bytes while streaming (a 50 KB gzip bomb must not become 5 GB in memory); a whole-request
//! timeout plus an idle-read timeout (a slowloris server that trickles one byte every few seconds never
//! trips a per-read timeout alone, and never finishes without the total one); retries only for quick
//! failures that can go away (refused or reset connections, 5xx, 408, 429), with `Retry-After` honoured up
//! to a cap beyond which the run gives up on the source and says when to come back. A timeout (connect,
//! whole request, or silence mid-body) is not retried in the same run: it already cost its whole budget,
//! and a host that hung once usually hangs again, so one dead host costs a run one timeout, not `tries`.
//! Redirects are followed here rather than by reqwest, so each hop takes its own host's permit and the
//! caller learns whether the whole chain was permanent (the signal to update a stored URL).
//!
//! A `kind = "folder"` source's folder is listed by `folder` instead: the listing (path, size and
//! mtime of each article file) is its body, so an unchanged folder costs no reading.
//!
//! `websub` sends the publish pings that tell a WebSub hub which feeds changed, under the same rules
//! (host limit, guard, timeout, retries) except that a redirect is not followed.
//!
//! With `[fetch] allow_private_networks = false`, `guard` refuses every target on this machine or a
//! private network, on the first request and on every redirect hop, before connecting.
//!
//! Concurrency *across* sources is the pipeline's (`concurrency` source tasks at a time); this module
//! only limits requests per host, and holds a host's permit only while a request to it is in flight,
//! never during a backoff sleep.

mod error;
pub use error::{FetchError, FetchErrorKind, RedirectError};
mod file;
pub mod folder;
mod guard;
mod http;
mod request;
pub use request::{BasicAuth, RequestSettings};
mod retry;
pub(crate) use retry::status_is_retryable;
#[cfg(test)]
pub(crate) mod test_server;
mod websub;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// Identifies feedmill to server operators, with a page that says what it is.
pub const USER_AGENT: &str =
    concat!("feedmill/", env!("CARGO_PKG_VERSION"), " (+https://github.com/feedmill/feedmill)");

/// Feed formats first, then the generic XML/JSON types servers mislabel feeds with, then HTML (for
/// feedless sites), then anything.
const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
                      application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, text/html;q=0.7, */*;q=0.5";

/// Limits and timeouts for every fetch of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Time allowed to establish a TCP (+TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending the request to the last body byte, redirects included.
    pub timeout: Duration,
    /// Longest silence allowed between two body chunks.
    pub read_timeout: Duration,
    /// Largest body accepted, counted after content decoding.
    pub max_body_bytes: u64,
    /// Attempts in total, the first included (1 = no retries).
    pub tries: u32,
    /// Backoff ceiling after the first failure; it doubles after each further one.
    pub backoff_base: Duration,
    /// Longest `Retry-After` waited for within a run; a longer one fails the source for this run.
    pub retry_after_cap: Duration,
    /// Requests in flight to one host:port at once.
    pub per_host: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    pub user_agent: String,
    /// `false` refuses targets whose address is loopback, private, link-local, CGNAT, unspecified,
    /// multicast or broadcast (see `guard`): for configs whose URLs other people choose.
    pub allow_private_networks: bool,
    /// `[fetch] proxy`: the HTTP proxy requests go through, unless a source names its own. A secret
    /// because a proxy URL may carry credentials.
    pub proxy: Option<crate::redact::Secret>,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(15),
            max_body_bytes: 20 * 1024 * 1024,
            tries: 3,
            backoff_base: Duration::from_millis(500),
            retry_after_cap: Duration::from_secs(60),
            per_host: 2,
            max_redirects: 10,
            user_agent: USER_AGENT.to_owned(),
            allow_private_networks: true,
            proxy: None,
        }
    }
}

/// Where a source's document lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    Http(Url),
    File(PathBuf),
}

impl Location {
    /// Reads a configured location: an `http(s)://` URL, a `file://` URL, or a path (relative paths are
    /// resolved against `base_dir`, the config file's folder). Any other scheme is an error.
    pub fn parse(input: &str, base_dir: &Path) -> Result<Location, LocationError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(LocationError::Empty);
        }
        match Url::parse(trimmed) {
            Ok(url) => match url.scheme() {
                "http" | "https" => Ok(Location::Http(url)),
                "file" => url
                    .to_file_path()
                    .map(Location::File)
                    .map_err(|()| LocationError::NotALocalPath { input: input.to_owned() }),
                // `C:\feeds\a.xml` parses as scheme `c`.
                scheme if scheme.len() == 1 => Ok(Location::File(base_dir.join(trimmed))),
                scheme => Err(LocationError::UnsupportedScheme { input: input.to_owned(), scheme: scheme.to_owned() }),
            },
            Err(url::ParseError::RelativeUrlWithoutBase) => Ok(Location::File(base_dir.join(trimmed))),
            Err(source) => Err(LocationError::InvalidUrl { input: input.to_owned(), source }),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Http(url) => f.write_str(&crate::redact::url_of(url)),
            Location::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A configured location that cannot be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocationError {
    #[error("empty location")]
    Empty,
    #[error("`{}`: unsupported scheme `{scheme}:` (use http://, https://, file:// or a path)", crate::redact::url(.input))]
    UnsupportedScheme { input: String, scheme: String },
    #[error("`{}`: invalid URL", crate::redact::text(.input))]
    InvalidUrl {
        input: String,
        #[source]
        source: url::ParseError,
    },
    #[error("`{}`: a file URL must name a local path", crate::redact::url(.input))]
    NotALocalPath { input: String },
}

/// HTTP cache validators from the previous successful fetch, sent back as a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The outcome of a successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Body(Body),
    /// HTTP 304: the document is unchanged since the validators were stored. `validators` are the ones
    /// to store now (a 304 may refresh them; fields it does not mention keep their old value).
    NotModified {
        validators: Validators,
        meta: FetchMeta,
    },
}

impl Fetched {
    pub fn meta(&self) -> &FetchMeta {
        match self {
            Fetched::Body(body) => &body.meta,
            Fetched::NotModified { meta, .. } => meta,
        }
    }

    fn meta_mut(&mut self) -> &mut FetchMeta {
        match self {
            Fetched::Body(body) => &mut body.meta,
            Fetched::NotModified { meta, .. } => meta,
        }
    }
}

/// A fetched document, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// The `Content-Type` header as sent (decode reads its `charset`); `None` for files.
    pub content_type: Option<String>,
    /// Validators to store for the next run; empty for files and for servers that send none.
    pub validators: Validators,
    pub meta: FetchMeta,
}

/// How a fetch went, for the report, the store and the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchMeta {
    /// Final HTTP status (200, 304, …); `None` for files.
    pub status: Option<u16>,
    /// The URL that answered, after redirects; `None` for files.
    pub final_url: Option<Url>,
    /// At least one redirect was followed and every hop was permanent (301/308): the source has moved.
    pub redirected_permanently: bool,
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// From the first attempt to the end of the body, backoff sleeps included.
    pub elapsed: Duration,
    /// `Cache-Control: max-age` of the final response.
    pub cache_control_max_age: Option<Duration>,
    /// `Expires` of the final response, as sent (it is relative to `date`, not to our clock).
    pub expires: Option<String>,
    /// `Date` of the final response, as sent.
    pub date: Option<String>,
}

impl FetchMeta {
    fn for_file(elapsed: Duration) -> Self {
        FetchMeta {
            status: None,
            final_url: None,
            redirected_permanently: false,
            attempts: 1,
            elapsed,
            cache_control_max_age: None,
            expires: None,
            date: None,
        }
    }
}

/// Fetches locations with one shared HTTP client. Share one `Fetcher` across all the sources of a run.
/// A source with its own proxy gets a client of its own, built once per distinct proxy and shared by
/// every source naming it (a client holds its proxy; user agent, headers and auth go per request).
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    /// Per-source proxies' clients, by proxy URL.
    proxied: Mutex<HashMap<String, reqwest::Client>>,
    settings: FetchSettings,
    /// One semaphore per `host:port`, created on first use.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    jitter: Mutex<fastrand::Rng>,
    /// Set when `allow_private_networks` is off; the client's resolver holds the same one.
    guard: Option<Arc<guard::Guard>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        Fetcher::with_guard(settings, guard::Guard::default())
    }

    fn with_guard(settings: FetchSettings, guard: guard::Guard) -> Result<Self, FetchError> {
        let guard = (!settings.allow_private_networks).then(|| Arc::new(guard));
        let client = build_client(&settings, guard.clone(), settings.proxy.as_ref())?;
        Ok(Fetcher {
            client,
            proxied: Mutex::default(),
            settings,
            hosts: Mutex::default(),
            jitter: Mutex::new(fastrand::Rng::new()),
            guard,
        })
    }

    /// The client for a request through `proxy` (`None`: the shared client).
    fn client_for(&self, proxy: Option<&crate::redact::Secret>) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = proxy else { return Ok(self.client.clone()) };
        let mut clients = self.proxied.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(proxy.expose()) {
            return Ok(client.clone());
        }
        let client = build_client(&self.settings, self.guard.clone(), Some(proxy))?;
        clients.insert(proxy.expose().to_owned(), client.clone());
        Ok(client)
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Fetches one location, retrying transient HTTP failures. `validators` are ignored for files.
    pub async fn fetch(&self, location: &Location, validators: &Validators) -> Result<Fetched, FetchError> {
        self.fetch_with(location, validators, &RequestSettings::default()).await
    }

    /// [`Fetcher::fetch`] with a source's own user agent, headers, auth and proxy.
    pub async fn fetch_with(
        &self,
        location: &Location,
        validators: &Validators,
        request: &RequestSettings,
    ) -> Result<Fetched, FetchError> {
        match location {
            Location::Http(url) => self.fetch_http(url, validators, request).await,
            Location::File(path) => file::read(path, self.settings.max_body_bytes).await,
        }
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
        request: &RequestSettings,
    ) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        let (mut fetched, attempts) = self.retrying(url, || self.attempt(url, validators, request)).await?;
        let meta = fetched.meta_mut();
        meta.attempts = attempts;
        meta.elapsed = started.elapsed();
        Ok(fetched)
    }

    /// Runs `attempt` until it succeeds, `[fetch] tries` are used up, or a failure says asking again
    /// cannot help; between tries, waits the server's `Retry-After` or a jittered backoff. Returns the
    /// result and the attempts made.
    async fn retrying<T, F, Fut>(&self, url: &Url, mut attempt: F) -> Result<(T, u32), FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let tries = self.settings.tries.max(1);
        let mut attempt_no = 1;
        loop {
            let failure = match attempt().await {
                Ok(done) => return Ok((done, attempt_no)),
                Err(failure) => failure,
            };
            let wait = match failure.retry {
                retry::Retry::No => None,
                retry::Retry::After(wait) => Some(wait),
                retry::Retry::Backoff => {
                    let unit = self.jitter.lock().unwrap_or_else(PoisonError::into_inner).f64();
                    Some(retry::backoff(self.settings.backoff_base, attempt_no, unit))
                }
            };
            match wait {
                Some(wait) if attempt_no < tries => {
                    tracing::debug!(url = %crate::redact::url_of(url), attempt = attempt_no, ?wait, error = %failure.error, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt_no += 1;
                }
                _ => return Err(failure.error.with_attempts(attempt_no)),
            }
        }
    }

    /// The permit for `url`'s host; waits while `per_host` requests to it are in flight. `None` only if
    /// the semaphore were closed, which nothing does.
    async fn host_permit(&self, url: &Url) -> Option<OwnedSemaphorePermit> {
        let key = format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0));
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            let per_host = self.settings.per_host.max(1);
            Arc::clone(hosts.entry(key).or_insert_with(|| Arc::new(Semaphore::new(per_host))))
        };
        semaphore.acquire_owned().await.ok()
    }
}

/// The client every request of a run shares (or, with `proxy`, those of the sources naming that proxy).
fn build_client(
    settings: &FetchSettings,
    guard: Option<Arc<guard::Guard>>,
    proxy: Option<&crate::redact::Secret>,
) -> Result<reqwest::Client, FetchError> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
    let builder = reqwest::Client::builder();
    // Tests talk to 127.0.0.1 only: a proxy from the environment must not carry them anywhere else.
    #[cfg(test)]
    let builder = builder.no_proxy();
    let builder = match proxy {
        // The URL was checked with the config; an error here would print it, so it is dropped.
        Some(p) => builder.proxy(reqwest::Proxy::all(p.expose()).map_err(|e| FetchError::client(e.without_url()))?),
        None => builder,
    };
    builder
        .dns_resolver(Arc::new(guard::Resolver(guard)))
        .use_rustls_tls()
        .user_agent(settings.user_agent.as_str())
        .default_headers(headers)
        .connect_timeout(settings.connect_timeout)
        // Followed by hand in `http`: per-hop host permits and the permanent-move signal.
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .build()
        .map_err(|e| FetchError::client(e.without_url()))
}

/// A failed attempt and whether it is worth another.
struct Failure {
    error: FetchError,
    retry: retry::Retry,
}

/// An error and each of its sources in turn.
fn causes<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

#[cfg(test)]
// Tests write their fixture files directly; the guardrail is about output files.
#[allow(clippy::disallowed_methods)]
mod tests;
