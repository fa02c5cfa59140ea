//! The sanitizer's fast path against ammonia: whenever the fast path reads a fragment, its output must be
//! ammonia's, byte for byte. That is what makes it as safe as ammonia (`sanitize` checks the output is
//! inert; this checks the two paths cannot drift apart).
//!
//! Input: the first byte picks the base URL (none, or a page); the rest is the fragment (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let html = String::from_utf8_lossy(rest);
    let page = Url::parse("https://abai.kz/post/95211").expect("static URL");
    let base = (pick % 2 == 1).then_some(&page);
    if let Some((fast, ammonia)) = feedmill::normalize::html::fast_and_ammonia(&html, base) {
        assert_eq!(fast, ammonia, "the fast path differs from ammonia on {html:?}");
    }
});
