//! The loopback feed server: generated feeds over HTTP/1.1 with keep-alive, validators and gzip.
//!
//! In: one [`FeedSpec`] per source. Out: a server on 127.0.0.1 that answers `GET /f<i>.<ext>` with
//! feed `i`, sends an `ETag` and a `Last-Modified` with every answer, answers 304 when the request's
//! `If-None-Match` matches (or, without one, when `If-Modified-Since` is the exact date it sent, as
//! nginx does by default), and gzips every fourth feed for clients that accept it (pre-compressed, as a
//! static server would). It counts what it served so each phase can report the requests it caused,
//! and how often each feed was asked for (`GET /_counts`, for scripts: several workers must fetch each
//! feed once). An optional delay before every answer makes a run latency-bound, as on the internet.
//! hyper on a 2-thread tokio runtime with a 4096-deep listen backlog: the server must never be what is
//! measured (the delay is a timer, not a blocked thread).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use feedmill_bench::FeedSpec;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// One feed as served.
pub struct Doc {
    pub spec: FeedSpec,
    /// The feed's bytes, uncompressed.
    pub body: Bytes,
    gzipped: Option<Bytes>,
    etag: HeaderValue,
    last_modified: HeaderValue,
}

impl Doc {
    pub fn new(spec: FeedSpec, gzip: bool) -> Doc {
        let body = Bytes::from(spec.generate());
        let gzipped = gzip.then(|| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = encoder.write_all(&body);
            Bytes::from(encoder.finish().unwrap_or_default())
        });
        let etag = format!("\"{}-{}\"", spec.site, spec.revision);
        let last_modified = spec.updated().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        Doc {
            spec,
            body,
            gzipped,
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
            last_modified: HeaderValue::from_str(&last_modified).unwrap_or(HeaderValue::from_static("")),
        }
    }

    pub fn path(&self, index: usize) -> String {
        format!("/f{index}.{}", self.spec.format.extension())
    }

    pub fn is_gzipped(&self) -> bool {
        self.gzipped.is_some()
    }

    /// The validators a client that fetched the current version holds.
    pub fn validators(&self) -> (&str, &str) {
        (self.etag.to_str().unwrap_or_default(), self.last_modified.to_str().unwrap_or_default())
    }
}

/// What the server answered, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    pub requests: u64,
    pub full: u64,
    pub not_modified: u64,
    /// Body bytes sent (compressed size for gzipped answers).
    pub bytes: u64,
}

impl std::ops::Sub for Served {
    type Output = Served;
    fn sub(self, before: Served) -> Served {
        Served {
            requests: self.requests - before.requests,
            full: self.full - before.full,
            not_modified: self.not_modified - before.not_modified,
            bytes: self.bytes - before.bytes,
        }
    }
}

/// Every feed, replaceable between phases, and the counters.
#[derive(Default)]
pub struct Site {
    docs: RwLock<Vec<Arc<Doc>>>,
    /// Requests per feed, by index.
    hits: Vec<AtomicU64>,
    /// Waited before every answer.
    delay: Duration,
    requests: AtomicU64,
    full: AtomicU64,
    not_modified: AtomicU64,
    bytes: AtomicU64,
}

impl Site {
    pub fn new(docs: Vec<Doc>) -> Site {
        Site::with_delay(docs, Duration::ZERO)
    }

    /// A site that answers every request `delay` after it came.
    pub fn with_delay(docs: Vec<Doc>, delay: Duration) -> Site {
        Site {
            hits: docs.iter().map(|_| AtomicU64::new(0)).collect(),
            docs: RwLock::new(docs.into_iter().map(Arc::new).collect()),
            delay,
            ..Site::default()
        }
    }

    pub fn docs(&self) -> Vec<Arc<Doc>> {
        self.docs.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn doc(&self, index: usize) -> Option<Arc<Doc>> {
        self.docs.read().unwrap_or_else(PoisonError::into_inner).get(index).cloned()
    }

    /// Serves a new version of feed `index` from now on.
    pub fn replace(&self, index: usize, doc: Doc) {
        if let Some(slot) = self.docs.write().unwrap_or_else(PoisonError::into_inner).get_mut(index) {
            *slot = Arc::new(doc);
        }
    }

    pub fn served(&self) -> Served {
        Served {
            requests: self.requests.load(Ordering::Relaxed),
            full: self.full.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// The counters as text, not counted as a request: a line `requests full not_modified bytes`, then
    /// one line per feed with the requests it got.
    fn counts(&self) -> Response<Full<Bytes>> {
        let s = self.served();
        let mut text = format!("{} {} {} {}\n", s.requests, s.full, s.not_modified, s.bytes);
        for hits in &self.hits {
            text.push_str(&hits.load(Ordering::Relaxed).to_string());
            text.push('\n');
        }
        Response::new(Full::new(Bytes::from(text)))
    }

    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() == "/_counts" {
            return self.counts();
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let index: Option<usize> =
            request.uri().path().strip_prefix("/f").and_then(|p| p.split('.').next()?.parse().ok());
        if let Some(hits) = index.and_then(|i| self.hits.get(i)) {
            hits.fetch_add(1, Ordering::Relaxed);
        }
        let Some(doc) = index.and_then(|i| self.doc(i)) else {
            return status(StatusCode::NOT_FOUND);
        };
        let headers = request.headers();
        let fresh = match headers.get(header::IF_NONE_MATCH) {
            Some(tag) => *tag == doc.etag,
            None => headers.get(header::IF_MODIFIED_SINCE).is_some_and(|date| *date == doc.last_modified),
        };
        let mut response = if fresh {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            status(StatusCode::NOT_MODIFIED)
        } else {
            self.full.fetch_add(1, Ordering::Relaxed);
            let accepts_gzip = headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|coding| coding.trim().starts_with("gzip")));
            let gzipped = doc.gzipped.as_ref().filter(|_| accepts_gzip);
            let body = gzipped.unwrap_or(&doc.body).clone();
            self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
            let mut response = Response::new(Full::new(body));
            let content_type = HeaderValue::from_static(doc.spec.format.content_type());
            response.headers_mut().insert(header::CONTENT_TYPE, content_type);
            if gzipped.is_some() {
                response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        };
        response.headers_mut().insert(header::ETAG, doc.etag.clone());
        response.headers_mut().insert(header::LAST_MODIFIED, doc.last_modified.clone());
        response
    }
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

/// Starts serving `site` on a free port of 127.0.0.1; call inside the server's runtime.
pub async fn listen(site: Arc<Site>) -> std::io::Result<SocketAddr> {
    listen_on(site, std::net::Ipv4Addr::LOCALHOST).await
}

/// Starts serving `site` on a free port of `ip`, a loopback address: Linux routes all of 127.0.0.0/8
/// to the loopback device, so 127.0.0.2 is another host to a client's per-host limit.
pub async fn listen_on(site: Arc<Site>, ip: std::net::Ipv4Addr) -> std::io::Result<SocketAddr> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((ip, 0)))?;
    let listener = socket.listen(4096)?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let site = Arc::clone(&site);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let response = site.answer(&request);
                    let delay = site.delay;
                    async move {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(addr)
}
