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
pub struct FetchError {
    /// `None` only when no request could be built at all (the HTTP client). Boxed because a `Url` is
    /// large and this error rides in every fetch's `Result`.
    target: Option<Box<Location>>,
    attempts: u32,
    kind: FetchErrorKind,
}

/// Written by hand: a derived `Debug` would print the `Url` with its userinfo, and a `{:?}` in a log line
/// or a panic message must not leak it. The message, redacted, says everything `Debug` needs to.
impl fmt::Debug for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchError")
            .field("message", &crate::redact::text(&self.to_string()))
            .field("attempts", &self.attempts)
            .finish()
    }
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
    /// Shown whole (`reason`'s causes included) after `bad redirect: `, redacted: a Location may carry
    /// credentials.
    #[error("bad redirect: {}", crate::error::error_chain(.reason))]
    BadRedirect { reason: RedirectError },
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

/// Why a redirect was not followed.
#[derive(Debug, thiserror::Error)]
pub enum RedirectError {
    #[error("no usable Location header")]
    NoLocation,
    #[error("Location `{location}`")]
    Unresolvable {
        location: String,
        #[source]
        source: url::ParseError,
    },
    /// Only http(s) is followed: a remote server must not send the fetcher to a `file:` URL.
    #[error("Location `{location}`: scheme `{scheme}:` is not followed")]
    Scheme { location: String, scheme: String },
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

    /// Records the attempts the retry loop made. Only requests count: a file is read once, and a client
    /// that could not be built made none.
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn at(url: &str, attempts: u32, kind: FetchErrorKind) -> String {
        FetchError::http(&Url::parse(url).unwrap(), kind).with_attempts(attempts).to_string()
    }

    /// The texts users, logs and stored `last_error`s already know, kind by kind.
    #[test]
    fn messages_name_the_target_and_the_attempts_of_retried_kinds() {
        let u = "http://example.org/feed";
        let cases = [
            (
                at(u, 2, FetchErrorKind::Timeout { after: Duration::from_millis(1500) }),
                "http://example.org/feed: no complete response within 1.5s (after 2 attempts)",
            ),
            (
                at(u, 1, FetchErrorKind::Stalled { idle: Duration::from_secs(2) }),
                "http://example.org/feed: body stalled, nothing received for 2s",
            ),
            (at(u, 3, FetchErrorKind::Status { status: 404 }), "http://example.org/feed: HTTP 404 Not Found (after 3 attempts)"),
            (at(u, 1, FetchErrorKind::Status { status: 599 }), "http://example.org/feed: HTTP 599"),
            (at(u, 3, FetchErrorKind::TooLarge { limit: 10 }), "http://example.org/feed: body larger than the 10-byte limit"),
            (at(u, 2, FetchErrorKind::TooManyRedirects { limit: 3 }), "http://example.org/feed: more than 3 redirects"),
            (
                at(u, 2, FetchErrorKind::NotTls),
                "http://example.org/feed: the server does not speak TLS on this port (plain HTTP? try http://)",
            ),
            (
                at(u, 1, FetchErrorKind::Refused { reason: "127.0.0.1 is loopback".into() }),
                "http://example.org/feed: refused: 127.0.0.1 is loopback and [fetch] allow_private_networks = false",
            ),
            (
                at(u, 2, FetchErrorKind::RetryAfterTooLong { wait: Duration::from_secs(3600), cap: Duration::from_secs(60) }),
                "http://example.org/feed: server asks to retry in 3600s, longer than the 60s this run waits; try again later",
            ),
            (
                at(u, 1, FetchErrorKind::BadRedirect { reason: RedirectError::NoLocation }),
                "http://example.org/feed: bad redirect: no usable Location header",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn a_url_is_printed_redacted() {
        let got = at("https://alice:s3cret@example.org/feed", 1, FetchErrorKind::Status { status: 500 });
        assert!(!got.contains("s3cret"), "{got}");
        assert!(got.contains("example.org/feed: HTTP 500"), "{got}");
        let url = Url::parse("https://alice:s3cret@example.org/feed?token=t0k").unwrap();
        let debug = format!("{:?}", FetchError::http(&url, FetchErrorKind::Status { status: 500 }));
        assert!(!debug.contains("s3cret") && !debug.contains("t0k"), "{debug}");
        assert!(debug.contains("HTTP 500"), "{debug}");
    }

    #[test]
    fn a_file_is_read_once_and_its_cause_is_not_repeated() {
        let path = PathBuf::from("feeds/a.xml");
        let big = FetchError::file(path.clone(), FetchErrorKind::FileTooLarge { limit: 10 }).with_attempts(3);
        assert_eq!(big.attempts(), 1);
        assert_eq!(big.to_string(), format!("{}: file larger than the 10-byte limit", path.display()));
        let gone = FetchError::file(path.clone(), FetchErrorKind::File { source: std::io::Error::other("boom") });
        assert_eq!(gone.to_string(), format!("{}: cannot read", path.display()));
        assert_eq!(gone.source().map(ToString::to_string).as_deref(), Some("boom"));
        assert_eq!(gone.target(), Some(&Location::File(path)));
    }
}
