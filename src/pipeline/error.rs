//! The pipeline's errors. [`RunError`]: why a run stopped before it could write its outputs (the store,
//! the output folder or the HTTP client failed, or a source's task ended without an answer); the report
//! carries it as one line (`output_error`), the wrapped error's own chain, so each variant adds no words
//! of its own but the one that has no error beneath it. [`ReadError`]: why a fetched body gave no
//! entries (a run reports it as the source's error, `error_chain` of it). [`PreviewError`]: why
//! `parse --source` could not read its source.

use std::fmt;

use crate::emit::write::WriteError;
use crate::error::error_chain;
use crate::fetch::FetchError;
use crate::parse::sitemap::SitemapError;
use crate::parse::ParseError;
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
    #[error("{}", error_chain(.0))]
    Read(ReadError),
}

impl From<FetchError> for PreviewError {
    fn from(e: FetchError) -> Self {
        PreviewError::Fetch(Box::new(e))
    }
}

/// Why a source's body gave no entries: the feed, page, folder or sitemap could not be read. Each
/// variant's message names the document (its URL, redacted only at the edge by `error_chain`) and
/// leaves the cause to its `source()`, so `error_chain` of it is the line the report shows.
#[derive(thiserror::Error)]
pub enum ReadError {
    #[error("an html source needs an http(s) URL or a file path")]
    HtmlNeedsUrl,
    #[error("a sitemap source needs an http(s) URL or a file path")]
    SitemapNeedsUrl,
    #[error("a folder source needs a local folder path")]
    NeedsFolder,
    /// The body (at `at`: the document's URL, or the source's when it has none) is not a feed.
    #[error("{at}")]
    Parse {
        at: String,
        #[source]
        source: ParseError,
    },
    /// A document with no URL to name it by (a path that makes no `file:` URL) that is not a feed; an
    /// HTML page there is [`ReadError::LocalPage`].
    #[error(transparent)]
    Unreadable(ParseError),
    #[error("not a feed, and a local page cannot advertise one")]
    LocalPage,
    #[error(
        "{page} is an HTML page that advertises no feed; run `feedmill discover {page}` for a kind = \"html\" config"
    )]
    NoFeedAdvertised { page: String },
    /// The feed `page` advertises could not be fetched.
    #[error("the feed {page} advertises")]
    AdvertisedFetch {
        page: String,
        #[source]
        source: Box<FetchError>,
    },
    /// The feed `page` advertises, fetched from `feed`, is not a feed either.
    #[error("the feed {page} advertises ({feed})")]
    AdvertisedParse {
        page: String,
        feed: String,
        #[source]
        source: ParseError,
    },
    /// A page or an advertised feed fetched without validators answered 304 Not Modified.
    #[error("{url}: 304 to an unconditional request")]
    NotModified { url: String },
    /// An article page, or a folder's listing, could not be fetched; the error names its target.
    #[error(transparent)]
    Fetch(Box<FetchError>),
    #[error("the selector `item` matched no story on {url}")]
    NoStory { url: String },
    #[error("{url}")]
    Sitemap {
        url: String,
        #[source]
        source: SitemapError,
    },
    #[error("{url}: `url_include` / `url_exclude` left none of its {skipped} pages")]
    NoPageSelected { url: String, skipped: usize },
    #[error("{url}: the sitemap lists no page")]
    NoPage { url: String },
    /// The blocking pool's semaphore was closed (it never is: it lives as long as the process).
    #[error("page reader stopped")]
    Stopped(#[source] tokio::sync::AcquireError),
    /// The CPU work on the blocking pool panicked or was cancelled.
    #[error("page reader crashed")]
    Crashed(#[source] tokio::task::JoinError),
}

impl From<FetchError> for ReadError {
    fn from(e: FetchError) -> Self {
        ReadError::Fetch(Box::new(e))
    }
}

/// Written by hand: a derived `Debug` would print the URLs as they came, userinfo included (the source's
/// own URL names a document when it has no other). The redacted message says everything.
impl fmt::Debug for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadError").field(&error_chain(self)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines a report row and `parse --source` showed when these errors were strings.
    #[test]
    fn read_errors_chain_into_the_messages_reports_show() {
        let page = "https://a.example/blog/".to_owned();
        let cases = [
            (
                ReadError::Parse { at: "https://a.example/feed".into(), source: ParseError::Empty },
                "https://a.example/feed: the document is empty",
            ),
            (
                ReadError::AdvertisedParse {
                    page: page.clone(),
                    feed: "https://a.example/feed.xml".into(),
                    source: ParseError::NotAFeed { found: "an HTML page".into() },
                },
                "the feed https://a.example/blog/ advertises (https://a.example/feed.xml): not a feed: the document is an HTML page",
            ),
            (
                ReadError::Sitemap { url: "https://a.example/sitemap.xml".into(), source: SitemapError::Empty },
                "https://a.example/sitemap.xml: not a sitemap: no root element",
            ),
            (ReadError::Unreadable(ParseError::Empty), "the document is empty"),
            (ReadError::HtmlNeedsUrl, "an html source needs an http(s) URL or a file path"),
            (ReadError::SitemapNeedsUrl, "a sitemap source needs an http(s) URL or a file path"),
            (
                ReadError::NoFeedAdvertised { page },
                "https://a.example/blog/ is an HTML page that advertises no feed; \
                 run `feedmill discover https://a.example/blog/` for a kind = \"html\" config",
            ),
        ];
        for (error, want) in cases {
            assert_eq!(error_chain(&error), want);
        }
    }

    #[test]
    fn a_fetch_error_beneath_reads_as_it_did_alone() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let Err(fetch) = crate::fetch::folder::list(&missing) else { panic!("a missing folder was listed") };
        let alone = error_chain(&fetch);
        let page = "https://a.example/".to_owned();
        let advertised = ReadError::AdvertisedFetch { page, source: Box::new(fetch) };
        assert_eq!(error_chain(&advertised), format!("the feed https://a.example/ advertises: {alone}"));
        let Err(fetch) = crate::fetch::folder::list(&missing) else { panic!("a missing folder was listed") };
        let preview = PreviewError::Read(fetch.into());
        assert_eq!(preview.to_string(), alone);
    }

    #[test]
    fn neither_message_nor_debug_shows_a_password() {
        let error = ReadError::Parse { at: "https://reader:hunter2@a.example/feed".into(), source: ParseError::Empty };
        assert!(!error_chain(&error).contains("hunter2"), "{}", error_chain(&error));
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        assert!(format!("{error:?}").contains("the document is empty"), "{error:?}");
    }
}
