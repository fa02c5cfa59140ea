//! One attempt at an http(s) location: redirects followed hop by hop, the response classified, the body
//! streamed under its cap. Every HTTP rule of the fetcher lives here, in the spirit of Miniflux's
//! request builder / response handler pair: which validators are sent, what a status means, which
//! headers are kept for the scheduler.
//!
//! An attempt returns the outcome, or a [`Failure`] that says whether trying again could help; the retry
//! loop in `mod.rs` decides whether to. The whole-attempt timeout spans all hops but not the time spent
//! waiting for a host permit: queueing behind our own limit is not the server being slow.

use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::Response;
use tokio::time::Instant;
use url::Url;

use super::guard::{NeverResolves, Refused};
use super::retry::{self, Retry};
use super::{
    Body, Failure, FetchError, FetchErrorKind, FetchMeta, Fetched, Fetcher, RedirectError, RequestSettings, Validators,
};

/// What one request of a redirect chain led to.
enum Hop {
    Redirect { to: Url, permanent: bool },
    Done(Fetched),
}

impl Fetcher {
    /// The SSRF guard's check of a literal address, before connecting: the failure when it refuses. A
    /// name is checked by the client's resolver as it connects.
    pub(super) fn refusal(&self, url: &Url) -> Option<Failure> {
        let refused = self.guard.as_ref()?.check_url(url).err()?;
        Some(refused_failure(url, &refused))
    }

    /// One attempt: follows redirects from `url` and reads the final body.
    pub(super) async fn attempt(
        &self,
        url: &Url,
        validators: &Validators,
        request: &RequestSettings,
    ) -> Result<Fetched, Failure> {
        let mut current = url.clone();
        let mut redirects = 0;
        let mut all_permanent = true;
        let mut budget = self.settings.timeout;
        loop {
            // Literal addresses only: a name is checked by the client's resolver as it connects.
            if let Some(refused) = self.refusal(&current) {
                return Err(refused);
            }
            let permit = self.host_permit(&current).await;
            let hop_started = Instant::now();
            let hop = tokio::time::timeout(budget, self.hop(&current, validators, request)).await;
            drop(permit);
            budget = budget.saturating_sub(hop_started.elapsed());
            let hop = hop.map_err(|_| Failure {
                error: FetchError::http(&current, FetchErrorKind::Timeout { after: self.settings.timeout }),
                retry: Retry::No,
            })??;
            match hop {
                Hop::Done(mut fetched) => {
                    let meta = fetched.meta_mut();
                    meta.final_url = Some(current);
                    meta.redirected_permanently = redirects > 0 && all_permanent;
                    return Ok(fetched);
                }
                Hop::Redirect { to, permanent } => {
                    redirects += 1;
                    if redirects > self.settings.max_redirects {
                        return Err(Failure {
                            error: FetchError::http(
                                url,
                                FetchErrorKind::TooManyRedirects { limit: self.settings.max_redirects },
                            ),
                            retry: Retry::No,
                        });
                    }
                    tracing::debug!(
                        from = %crate::redact::url_of(&current),
                        to = %crate::redact::url_of(&to),
                        permanent,
                        "redirect"
                    );
                    all_permanent &= permanent;
                    current = to;
                }
            }
        }
    }

    async fn hop(&self, url: &Url, validators: &Validators, settings: &RequestSettings) -> Result<Hop, Failure> {
        let client = self.client_for(settings.proxy.as_ref()).map_err(|error| Failure { error, retry: Retry::No })?;
        let mut request = client.get(url.clone());
        if let Some(agent) = &settings.user_agent {
            request = request.header(header::USER_AGENT, agent.clone());
        }
        if settings.credentials_for(url.host_str()) {
            for (name, value) in &settings.headers {
                request = request.header(name.clone(), value.clone());
            }
            if let Some(auth) = &settings.auth {
                request = request.basic_auth(&auth.username, Some(auth.password.expose()));
            }
        }
        // A validator that is not a valid header value cannot have come from a server; skip it.
        if let Some(etag) = validators.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = validators.last_modified.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            request = request.header(header::IF_MODIFIED_SINCE, date);
        }
        let mut response = request.send().await.map_err(|source| send_failure(url, source))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        match status {
            301 | 302 | 303 | 307 | 308 => {
                let to = redirect_target(url, headers).map_err(|reason| Failure {
                    error: FetchError::http(url, FetchErrorKind::BadRedirect { reason }),
                    retry: Retry::No,
                })?;
                return Ok(Hop::Redirect { to, permanent: matches!(status, 301 | 308) });
            }
            304 => {
                let sent = validators;
                let fresh = validators_of(headers);
                let validators = Validators {
                    etag: fresh.etag.or_else(|| sent.etag.clone()),
                    last_modified: fresh.last_modified.or_else(|| sent.last_modified.clone()),
                };
                return Ok(Hop::Done(Fetched::NotModified { validators, meta: meta_of(status, headers) }));
            }
            200..=299 => {}
            _ => return Err(self.status_failure(url, status, headers)),
        }
        let content_type = header_str(headers, header::CONTENT_TYPE).map(str::to_owned);
        let validators = validators_of(headers);
        let meta = meta_of(status, headers);
        let bytes = self.read_body(url, &mut response).await?;
        Ok(Hop::Done(Fetched::Body(Body { bytes, content_type, validators, meta })))
    }

    pub(super) fn status_failure(&self, url: &Url, status: u16, headers: &HeaderMap) -> Failure {
        let error = FetchError::http(url, FetchErrorKind::Status { status });
        if !retry::status_is_retryable(status) {
            return Failure { error, retry: Retry::No };
        }
        let asked = retry::honours_retry_after(status)
            .then(|| header_str(headers, header::RETRY_AFTER))
            .flatten()
            .and_then(|value| retry::parse_retry_after(value, header_str(headers, header::DATE)));
        match asked {
            Some(wait) if wait > self.settings.retry_after_cap => Failure {
                error: FetchError::http(
                    url,
                    FetchErrorKind::RetryAfterTooLong { wait, cap: self.settings.retry_after_cap },
                ),
                retry: Retry::No,
            },
            Some(wait) => Failure { error, retry: Retry::After(wait) },
            None => Failure { error, retry: Retry::Backoff },
        }
    }

    /// Reads the body chunk by chunk (after content decoding), failing as soon as it passes the cap or
    /// the server goes quiet for longer than `read_timeout`.
    async fn read_body(&self, url: &Url, response: &mut Response) -> Result<Vec<u8>, Failure> {
        let limit = self.settings.max_body_bytes;
        let too_large =
            || Failure { error: FetchError::http(url, FetchErrorKind::TooLarge { limit }), retry: Retry::No };
        // Known only for bodies that are not content-encoded: reqwest drops it when it decodes.
        let declared = response.content_length();
        if declared.is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
        loop {
            let chunk = match tokio::time::timeout(self.settings.read_timeout, response.chunk()).await {
                Err(_) => {
                    return Err(Failure {
                        error: FetchError::http(url, FetchErrorKind::Stalled { idle: self.settings.read_timeout }),
                        retry: Retry::No,
                    })
                }
                Ok(Err(source)) => {
                    return Err(Failure {
                        error: FetchError::http(url, FetchErrorKind::Body { source: source.without_url() }),
                        retry: Retry::Backoff,
                    })
                }
                Ok(Ok(None)) => return Ok(bytes),
                Ok(Ok(Some(chunk))) => chunk,
            };
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
    }
}

pub(super) fn send_failure(url: &Url, source: reqwest::Error) -> Failure {
    // The error names the URL itself, userinfo and query included; ours names it redacted.
    let source = source.without_url();
    if let Some(refused) = Refused::find(&source) {
        return refused_failure(url, refused);
    }
    // A builder error (a URL reqwest refuses) and a name that can never resolve are the ones that asking
    // again cannot fix; a connect timeout is one a retry would only pay again (see `Retry::No`).
    let retry = if source.is_builder() || source.is_timeout() || NeverResolves::in_chain(&source) {
        Retry::No
    } else {
        Retry::Backoff
    };
    if url.scheme() == "https" && source.is_connect() && not_tls(&source) {
        return Failure { error: FetchError::http(url, FetchErrorKind::NotTls), retry: Retry::No };
    }
    let error = if source.is_connect() {
        FetchError::http(url, FetchErrorKind::Connect { source })
    } else {
        FetchError::http(url, FetchErrorKind::Request { source })
    };
    Failure { error, retry }
}

/// Whether the TLS handshake failed because the first bytes back were not TLS at all: rustls's
/// `InvalidContentType`, what a plain-HTTP server's `400 Bad Request` looks like to it. rustls is not a
/// direct dependency, so its error is recognized by its message (a test pins it).
fn not_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    super::causes(error).any(|e| e.to_string().contains("InvalidContentType"))
}

/// The guard said no: asking again cannot change that.
pub(super) fn refused_failure(url: &Url, refused: &Refused) -> Failure {
    Failure { error: FetchError::http(url, FetchErrorKind::Refused { reason: refused.0.clone() }), retry: Retry::No }
}

/// The absolute http(s) URL a redirect points to. Other schemes are refused: a remote server must not
/// be able to send the fetcher to `file:///etc/passwd`.
fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, RedirectError> {
    let location = header_str(headers, header::LOCATION).ok_or(RedirectError::NoLocation)?;
    let to =
        from.join(location).map_err(|source| RedirectError::Unresolvable { location: location.to_owned(), source })?;
    match to.scheme() {
        "http" | "https" => Ok(to),
        scheme => Err(RedirectError::Scheme { location: location.to_owned(), scheme: scheme.to_owned() }),
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
}

fn validators_of(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header_str(headers, header::ETAG).map(str::to_owned),
        last_modified: header_str(headers, header::LAST_MODIFIED).map(str::to_owned),
    }
}

fn meta_of(status: u16, headers: &HeaderMap) -> FetchMeta {
    FetchMeta {
        status: Some(status),
        final_url: None,
        redirected_permanently: false,
        attempts: 0,
        elapsed: Duration::ZERO,
        cache_control_max_age: max_age(headers),
        expires: header_str(headers, header::EXPIRES).map(str::to_owned),
        date: header_str(headers, header::DATE).map(str::to_owned),
    }
}

/// `max-age` from every `Cache-Control` header (a server may send several, or one with a list).
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    headers.get_all(header::CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()).find_map(|value| {
        value.split(',').find_map(|directive| {
            let (name, secs) = directive.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("max-age") {
                return None;
            }
            secs.trim().trim_matches('"').parse().ok().map(Duration::from_secs)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn max_age_from_any_cache_control_header() {
        let h = headers(&[("cache-control", "public"), ("cache-control", "no-transform, Max-Age=\"300\"")]);
        assert_eq!(max_age(&h), Some(Duration::from_secs(300)));
        assert_eq!(max_age(&headers(&[("cache-control", "s-maxage=60, no-cache")])), None);
        assert_eq!(max_age(&headers(&[("cache-control", "max-age=soon")])), None);
    }

    #[test]
    fn redirect_targets_resolve_and_stay_on_http() {
        let from = Url::parse("https://example.org/blog/feed").unwrap();
        let to = redirect_target(&from, &headers(&[("location", "../rss.xml")]));
        assert_eq!(to.map(String::from).map_err(|e| e.to_string()), Ok("https://example.org/rss.xml".to_owned()));
        let err = redirect_target(&from, &headers(&[("location", "file:///etc/passwd")]));
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("Location `file:///etc/passwd`: scheme `file:` is not followed".to_owned())
        );
        let err = redirect_target(&from, &headers(&[("location", "http://[::1")]));
        assert_eq!(
            err.map_err(|e| crate::error::error_chain(&e)),
            Err("Location `http://[::1`: invalid IPv6 address".to_owned())
        );
        assert!(matches!(redirect_target(&from, &HeaderMap::new()), Err(RedirectError::NoLocation)));
    }
}
