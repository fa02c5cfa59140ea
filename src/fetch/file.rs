//! A local file as a source: read once, under the same size cap as an HTTP body.
//!
//! Files have no status, validators or redirects, so the result is a plain [`Fetched::Body`] with
//! empty HTTP fields. The cap is enforced on what is read, not only on the size the metadata reports, so
//! a file that grows while being read (or a device such as `/dev/zero`) cannot exhaust memory.

use std::path::Path;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::{Body, FetchError, FetchErrorKind, FetchMeta, Fetched, Validators};

pub(super) async fn read(path: &Path, limit: u64) -> Result<Fetched, FetchError> {
    let started = Instant::now();
    let io_error = |source| FetchError::file(path.to_owned(), FetchErrorKind::File { source });
    let too_large = || FetchError::file(path.to_owned(), FetchErrorKind::FileTooLarge { limit });
    let file = tokio::fs::File::open(path).await.map_err(io_error)?;
    let len = file.metadata().await.map_err(io_error)?.len();
    if len > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).await.map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(Fetched::Body(Body {
        bytes,
        content_type: None,
        validators: Validators::default(),
        meta: FetchMeta::for_file(started.elapsed()),
    }))
}
