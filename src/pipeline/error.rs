//! The pipeline's errors. [`RunError`]: why a run stopped before it could write its outputs (the store,
//! the output folder or the HTTP client failed, or a source's task ended without an answer); the report
//! carries it as one line (`output_error`), the wrapped error's own chain, so each variant adds no words
//! of its own but the one that has no error beneath it. [`PreviewError`]: why `parse --source` could not
//! read its source.

use crate::emit::write::WriteError;
use crate::error::error_chain;
use crate::fetch::FetchError;
use crate::store::StoreError;

/// Why a run stopped; see the module's documentation.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP client could not be built from `[fetch]` (boxed: the largest error, and the rarest).
    #[error(transparent)]
    Fetcher(Box<FetchError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output folder could not be written; every published file is as it was.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A source's task was cancelled (a panic is resumed instead, not reported).
    #[error("reading a source stopped: {0}")]
    Stopped(tokio::task::JoinError),
}

impl From<FetchError> for RunError {
    fn from(e: FetchError) -> Self {
        RunError::Fetcher(Box::new(e))
    }
}

/// Why [`super::preview`] could not read its source. Each is shown whole, on one line, after the
/// source's name: a fetch error's causes are in its message, not behind `source()`.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The HTTP client could not be built, or the fetch failed.
    #[error("{}", error_chain(.0.as_ref()))]
    Fetch(Box<FetchError>),
    /// The server answered an unconditional request with 304 Not Modified; `url` is redacted.
    #[error("{url}: 304 Not Modified to an unconditional request")]
    NotModified { url: String },
    /// The body was fetched but could not be read (autodiscovery, pages, parsing).
    #[error("{0}")]
    Read(String),
}

impl From<FetchError> for PreviewError {
    fn from(e: FetchError) -> Self {
        PreviewError::Fetch(Box::new(e))
    }
}
