//! What one source adds to its requests: its own user agent, extra headers, HTTP Basic auth and proxy.
//!
//! The shared client keeps the run's defaults; these go on each request instead, so a thousand sources
//! with a thousand API keys still share one connection pool. Only a proxy needs a client of its own
//! (`Fetcher::client_for`). Headers and auth are credentials: they are sent to the source's own host
//! only, never to a host a redirect leads to (what reqwest does with its own redirects, and curl with
//! `--location` without `--location-trusted`).

use reqwest::header::{HeaderName, HeaderValue};

use crate::redact::Secret;

/// A source's request settings; the default adds nothing to the shared client's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestSettings {
    /// Replaces `[fetch] user_agent`.
    pub user_agent: Option<HeaderValue>,
    /// Sent with every request to `credentials_host`; values are marked sensitive (their `Debug` is
    /// `Sensitive`, and hyper never logs them).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub auth: Option<BasicAuth>,
    /// Replaces `[fetch] proxy`.
    pub proxy: Option<Secret>,
    /// The host headers and auth go to: the configured URL's. `None` sends them nowhere.
    pub credentials_host: Option<String>,
}

/// HTTP Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

impl RequestSettings {
    /// Whether a request to `host` carries the headers and auth.
    pub(super) fn credentials_for(&self, host: Option<&str>) -> bool {
        host.is_some() && self.credentials_host.as_deref() == host
    }
}
