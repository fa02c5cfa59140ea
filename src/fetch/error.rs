//! Why a source could not be fetched: one [`FetchError`] naming what was being fetched and how many
//! attempts were made, with a [`FetchErrorKind`] saying what went wrong.
//!
//! The context lives on the struct so every kind carries it without repeating it, and the message is
//! assembled in one place (ripgrep's `ignore::Error` shape): callers that decide something (retry, a
//! 410, a hub's refusal) match on [`FetchError::kind`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::Location;

/// A failed fetch: the target (the hop that failed, after redirects, or the path), the attempts made,
/// and the kind of failure.
#[derive(Debug)]
pub struct FetchError {
    /// `None` only when no request could be built at all (the HTTP client). Boxed because a `Url` is
    /// large and this error rides in every fetch's `Result`.
    target: Option<Box<Location>>,
    attempts: u32,
    kind: FetchErrorKind,
}

/// What went wrong; the text is what follows `<target>: ` in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchErrorKind {
    #[error("cannot build the HTTP client")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot connect")]
    Connect {
        #[source]
        source: reqwest::Error,
    },
    /// An https:// URL whose server answered the TLS handshake with something else (plain HTTP, usually).
    #[error("the server does not speak TLS on this port (plain HTTP? try http://)")]
    NotTls,
    #[error("request failed")]
    Request {
        #[source]
        source: reqwest::Error,
    },
    #[error("no complete response within {after:?}")]
    Timeout { after: Duration },
    #[error("body stalled, nothing received for {idle:?}")]
    Stalled { idle: Duration },
    #[error("HTTP {status}{}", reason(*.status))]
    Status { status: u16 },
    #[error("body larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },
    #[error("bad redirect: {}", crate::redact::text(.reason))]
    BadRedirect { reason: String },
    /// The SSRF guard refused the target; `reason` says what the address is.
    #[error("refused: {reason} and [fetch] allow_private_networks = false")]
    Refused { reason: String },
    #[error("reading the body failed")]
    Body {
        #[source]
        source: reqwest::Error,
    },
    #[error("server asks to retry in {}s, longer than the {}s this run waits; try again later", .wait.as_secs(), .cap.as_secs())]
    RetryAfterTooLong { wait: Duration, cap: Duration },
    #[error("cannot read")]
    File {
        #[source]
        source: std::io::Error,
    },
    #[error("file larger than the {limit}-byte limit")]
    FileTooLarge { limit: u64 },
}

impl FetchError {
    /// A failure of a request to `url`; the retry loop fills in the attempts.
    pub(super) fn http(url: &Url, kind: FetchErrorKind) -> Self {
        FetchError { target: Some(Box::new(Location::Http(url.clone()))), attempts: 0, kind }
    }

    /// A failure reading a local file or folder, which is read once.
    pub(super) fn file(path: PathBuf, kind: FetchErrorKind) -> Self {
        FetchError { target: Some(Box::new(Location::File(path))), attempts: 1, kind }
    }

    /// The shared HTTP client could not be built: no request was possible.
    pub(super) fn client(source: reqwest::Error) -> Self {
        FetchError { target: None, attempts: 0, kind: FetchErrorKind::Client { source } }
    }

    /// What was being fetched: the hop that failed (after redirects) or the path.
    pub fn target(&self) -> Option<&Location> {
        self.target.as_deref()
    }

    /// Attempts made before giving up (files are read once; 0 when no request was possible).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn kind(&self) -> &FetchErrorKind {
        &self.kind
    }

    /// Records the attempts the retry loop made; a client that could not be built made none.
    pub(super) fn with_attempts(mut self, n: u32) -> Self {
        if matches!(self.target.as_deref(), Some(Location::Http(_))) {
            self.attempts = n;
        }
        self
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Location` prints a URL redacted.
        if let Some(target) = &self.target {
            write!(f, "{target}: ")?;
        }
        write!(f, "{}", self.kind)?;
        // Kinds that can end a series of retries say how many there were.
        let retried = matches!(
            self.kind,
            FetchErrorKind::Connect { .. }
                | FetchErrorKind::Request { .. }
                | FetchErrorKind::Timeout { .. }
                | FetchErrorKind::Stalled { .. }
                | FetchErrorKind::Status { .. }
                | FetchErrorKind::Body { .. }
        );
        if retried && self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for FetchError {
    /// The kind's own cause, not the kind: its text is already in this error's message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}
