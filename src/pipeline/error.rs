//! Why a run stopped before it could write its outputs: the store, the output folder or the HTTP client
//! failed, or a source's task ended without an answer. The report carries it as one line
//! (`output_error`), which is the wrapped error's own chain: each variant adds no words of its own but
//! the one that has no error beneath it.

use crate::emit::write::WriteError;
use crate::fetch::FetchError;
use crate::store::StoreError;

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
