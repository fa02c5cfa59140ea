//! feedmill's benchmark kit: a deterministic feed corpus, the baselines feedmill is measured against,
//! and a reader for criterion's results.
//!
//! In: a [`FeedSpec`] (format, site, entry count, body size, revision). Out: the bytes of a feed that
//! looks like what the sources feedmill was built for publish — RSS 2.0 from WordPress with CDATA HTML
//! in `content:encoded`, Atom with `html` and `xhtml` content, RSS 1.0, JSON Feed 1.1 and a
//! windows-1251 RSS — in Kazakh, Russian and English, with entities, relative links, images and the odd
//! `<script>` a sanitizer must remove. The corpus is generated at bench time from a fixed seed rather
//! than committed: 5 MB feeds do not belong in git, and a generator can grow any size on demand while
//! every run still measures the same bytes.
//!
//! The benches (`benches/parse.rs`, `benches/emit.rs`) and the refresh macro benchmark
//! (`src/bin/refresh/`) share this crate so they measure the same feeds.

mod corpus;
mod estimates;
mod text;

use chrono::{DateTime, Utc};
use feedmill::normalize;
use feedmill::parse::ParseError;
use feedmill::pipeline::{self, Understood};
use serde::de::IgnoredAny;

pub use corpus::{FeedSpec, Format, SIZES, TYPICAL_HTML_BYTES};
pub use estimates::{criterion_dir, Estimates};

/// The clock every benchmark hands feedmill: after every generated date, fixed so runs compare.
pub fn bench_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default() // 2026-01-01T00:00:00Z
}

/// feedmill's decode → parse → normalize of one generated feed, as `feedmill run` does it.
pub fn understand(spec: &FeedSpec, bytes: &[u8]) -> Result<Understood, ParseError> {
    let url = spec.feed_url();
    let source = format!("site{}", spec.site);
    let cx = normalize::Context {
        source: &source,
        doc_url: Some(&url),
        timezone: chrono_tz::UTC,
        now: bench_now(),
        strip_tracking: true,
        locale: None,
    };
    pipeline::understand(bytes, Some(spec.format.content_type()), Some(&url), &cx)
}

/// Reads every event of `$bytes` with quick-xml crate `$qx` and drops it; for JSON, serde_json into
/// `IgnoredAny`. One body for both quick-xml versions the parse bench compares.
macro_rules! raw_loop {
    ($qx:ident, $bytes:expr) => {{
        let bytes: &[u8] = $bytes;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            return usize::from(serde_json::from_slice::<IgnoredAny>(bytes).is_ok());
        }
        let mut reader = $qx::Reader::from_reader(bytes);
        // The end-name check is off in feedmill's reader too (it repairs mismatched tags itself).
        reader.config_mut().check_end_names = false;
        let mut events = 0;
        loop {
            match reader.read_event() {
                Ok($qx::events::Event::Eof) | Err(_) => return events,
                Ok(_) => events += 1,
            }
        }
    }};
}

/// The ceiling for reading a feed: every XML event of the document read by quick-xml (the version and
/// settings feedmill uses) and dropped, so nothing is decoded, unescaped or built. For JSON Feed, the
/// same idea with serde_json: the whole document validated into `IgnoredAny`. Returns the number of
/// events (1 for JSON), so the work cannot be optimized away.
pub fn raw_scan(bytes: &[u8]) -> usize {
    raw_loop!(quick_xml, bytes)
}

/// [`raw_scan`] with quick-xml 0.42, to measure the next version against the one feedmill uses. On the
/// windows-1251 documents this loop stops almost at once (measured 200–4,000× "faster"): those rows do not
/// compare.
pub fn raw_scan_next(bytes: &[u8]) -> usize {
    raw_loop!(quick_xml_next, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedmill_reads_every_entry_of_every_format() {
        for format in Format::ALL {
            let spec = FeedSpec::new(format, 3, 12, 900);
            let bytes = spec.generate();
            let u = understand(&spec, &bytes).unwrap_or_else(|e| panic!("{}: {e}", format.name()));
            assert_eq!(u.normalized.candidates.len(), 12, "{}", format.name());
            assert!(u.raw.warnings.is_empty(), "{}: {:?}", format.name(), u.raw.warnings);
            assert!(u.normalized.warnings.is_empty(), "{}: {:?}", format.name(), u.normalized.warnings);
            let entries = || u.normalized.candidates.iter().map(|c| &c.entry);
            assert!(entries().all(|e| e.published.is_some()), "{}", format.name());
            let content: String = entries().filter_map(|e| e.content_html.as_deref()).collect();
            assert!(!content.contains("<script") && !content.contains("onclick"), "{}: sanitized", format.name());
            assert!(content.contains(r#"href="https://"#), "{}: links kept", format.name());
            assert!(
                !content.contains(r#"href="/"#) && !content.contains(r#"src="/"#),
                "{}: made absolute",
                format.name()
            );
            if format == Format::Rss2Windows1251 {
                assert!(u.decoded_as.starts_with("windows-1251"), "{}", u.decoded_as);
            }
        }
    }

    #[test]
    fn raw_scan_sees_the_whole_document() {
        let xml = FeedSpec::new(Format::Rss2, 1, 10, 500).generate();
        assert!(raw_scan(&xml) > 10 * 20);
        assert_eq!(raw_scan(&FeedSpec::new(Format::JsonFeed, 1, 10, 500).generate()), 1);
    }
}
