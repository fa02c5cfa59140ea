//! Date strings as feeds and pages write them, read leniently and with an explicit `date_format`.
//!
//! Input: the first byte picks the context (zone, fetch time, locale); the rest is UTF-8 (lossy). With
//! a newline in it, the part before is a `date_format` pattern and the part after the date; without
//! one, the whole is the date. Checks that whatever is read survives an RFC 3339 round trip.
#![no_main]

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use feedmill::normalize::dates::{parse_date, parse_date_with_format, DateContext, DateFormat, Locale};
use libfuzzer_sys::fuzz_target;

const ZONES: [Tz; 8] = [
    chrono_tz::UTC,
    chrono_tz::Asia::Almaty,
    chrono_tz::Europe::Moscow,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    // Half-hour DST and a zone that skipped a whole day (30 Dec 2011).
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Apia,
    chrono_tz::America::Sao_Paulo,
];

/// Fetch times: the tests' clock, New Year's Eve (year-less dates near the boundary), a leap day.
const NOWS: [&str; 4] =
    ["2025-03-15T10:00:00Z", "2025-12-31T23:30:00Z", "2024-02-29T12:00:00Z", "2000-01-01T00:00:00Z"];

const LOCALES: [Option<Locale>; 4] = [None, Some(Locale::Kk), Some(Locale::Ru), Some(Locale::En)];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let pick = usize::from(pick);
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(NOWS[(pick >> 3) % NOWS.len()]).expect("static").to_utc();
    let cx = DateContext { tz: ZONES[pick % ZONES.len()], now, locale: None };
    let locale = LOCALES[(pick >> 5) % LOCALES.len()];
    let text = String::from_utf8_lossy(rest);
    let (pattern, input) = match text.split_once('\n') {
        Some((pattern, input)) => (Some(pattern), input),
        None => (None, &*text),
    };

    if let Ok(t) = parse_date(input, &cx) {
        round_trips(t, &cx, input);
    }
    if let Some(Ok(format)) = pattern.map(DateFormat::parse) {
        if let Ok(t) = parse_date_with_format(input, &format, locale, &cx) {
            round_trips(t, &cx, input);
        }
    }
});

/// What one parse produced reads back to the same instant.
fn round_trips(t: DateTime<Utc>, cx: &DateContext, input: &str) {
    let again = parse_date(&t.to_rfc3339(), cx);
    assert_eq!(again, Ok(t), "{input:?} read as {t}, which does not read back");
}
