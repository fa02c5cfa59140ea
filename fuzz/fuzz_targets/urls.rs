//! The canonical form dedup compares links by. Property: it is a fixed point. Putting the URL's own
//! scheme back on `canonical(u)` and canonicalizing again gives `canonical(u)`, so a link read from a
//! feed and the same link read back from the store's canonical form can never count as two stories.
#![no_main]

use feedmill::normalize::urls::{canonical, resolve};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let base = Url::parse("https://www.example.org/news/").expect("static URL");
    // Every link normalize keeps went through `resolve`, so most inputs are read the same way; raw
    // `Url::parse` covers the rest of what the url crate accepts (other schemes, odd hosts).
    let candidates = [resolve(Some(&base), &text), Url::parse(&text).ok()];
    for u in candidates.into_iter().flatten() {
        let c = canonical(&u);
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        let again = Url::parse(&format!("{}://{c}", u.scheme()))
            .unwrap_or_else(|e| panic!("canonical {c:?} of {:?} does not parse back: {e}", u.as_str()));
        assert_eq!(canonical(&again), c, "canonical of {:?} is not a fixed point", u.as_str());
    }
});
