//! Any document, as fetched: format sniffing and every parser on the lossy UTF-8 text, then the whole
//! decode → parse → normalize path the pipeline runs. Beyond "never panics", checks the invariants
//! normalize promises its callers: absolute http(s) links, non-empty titles, no dates far in the future.
#![no_main]

use chrono::{DateTime, Utc};
use feedmill::normalize;
use libfuzzer_sys::fuzz_target;
use url::Url;

fn http_url(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sniffed = feedmill::parse::sniff(&text);
    let parsed = feedmill::parse::parse(&text);
    // sniff is parse's first step: a document sniff rejects cannot parse.
    if sniffed.is_err() {
        assert!(parsed.is_err(), "sniff failed ({sniffed:?}) but parse succeeded");
    }

    let doc_url = Url::parse("https://example.org/news/feed.xml").expect("static URL");
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-03-15T10:00:00Z").expect("static date").to_utc();
    let cx = normalize::Context {
        source: "fuzz",
        doc_url: None,
        timezone: chrono_tz::Asia::Almaty,
        now,
        strip_tracking: true,
        locale: None,
    };
    let Ok(understood) = feedmill::pipeline::understand(data, None, Some(&doc_url), &cx) else {
        return;
    };
    let _ = feedmill::pipeline::format_label(&understood.raw);
    let n = understood.normalized;
    if let Some(site) = &n.site_url {
        assert!(http_url(site), "site_url {site:?}");
    }
    for c in &n.candidates {
        let e = &c.entry;
        assert!(!e.title.is_empty(), "empty title");
        if let Some(u) = &e.url {
            assert!(http_url(u), "entry url {u:?}");
        }
        for enc in &e.enclosures {
            assert!(http_url(&enc.url), "enclosure url {:?}", enc.url);
        }
        for d in [e.published, e.updated].into_iter().flatten() {
            assert!(d <= now + chrono::Duration::hours(24), "date {d} in the future");
        }
    }
});
