//! Date strings read in a CLDR locale: the locale's month, weekday and relative-time words, its
//! numeric order, non-ASCII digits and CJK marks.
//!
//! Input: the first byte picks the zone and locale; the rest is the date (UTF-8, lossy). Checks that a
//! parse never panics, never lands outside the accepted years, and reads back through RFC 3339.
#![no_main]

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use feedmill::normalize::dates::{parse_date, DateContext, DateLocale};
use libfuzzer_sys::fuzz_target;

const ZONES: [Tz; 4] = [chrono_tz::UTC, chrono_tz::Asia::Almaty, chrono_tz::America::New_York, chrono_tz::Asia::Tokyo];

/// Tags as feeds write them; regions and scripts exercise the fallback.
const TAGS: [&str; 16] = [
    "de-DE", "fr", "tr", "zh-CN", "ja", "ko", "ar-EG", "fa", "th", "en-US", "uk", "ky", "uz-Cyrl", "kk_KZ", "km", "he",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let pick = usize::from(pick);
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-03-15T10:00:00Z").expect("static").to_utc();
    let locale = DateLocale::from_tag(TAGS[(pick >> 2) % TAGS.len()]);
    assert!(locale.is_some(), "every tag in TAGS resolves");
    let cx = DateContext { tz: ZONES[pick % ZONES.len()], now, locale };
    let input = String::from_utf8_lossy(rest);
    if let Ok(t) = parse_date(&input, &cx) {
        assert!((1900..=2199).contains(&t.year()), "{input:?} read as {t}");
        assert_eq!(parse_date(&t.to_rfc3339(), &cx), Ok(t), "{input:?} read as {t}, which does not read back");
    }
});
