//! Date parsing micro benchmark: `normalize::dates::parse_date` on the shapes feeds write.
//!
//! The RFC 822 and RFC 3339 fast paths read nearly every feed date, so locale-aware reading (#23) must
//! not slow them: this bench is run on the revision before it and after, alternating, and the medians
//! compared (bench/README.md). The lenient rows show what a date off the fast paths costs.
//!
//!     cargo bench -p feedmill-bench --bench dates

use std::hint::black_box;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use criterion::Criterion;
use feedmill::normalize::dates::{parse_date, DateContext};
use feedmill_bench::criterion_dir;

/// (name, input): each input is one a real feed writes.
const CASES: &[(&str, &str)] = &[
    ("rfc822-gmt", "Sun, 29 Nov 2026 14:05:09 GMT"),
    ("rfc822-offset", "Sun, 29 Nov 2026 14:05:09 +0600"),
    ("rfc3339-utc", "2026-11-29T14:05:09Z"),
    ("rfc3339-fraction-offset", "2026-11-29T14:05:09.123+06:00"),
    ("lenient-ru", "29 ноября 2026, 14:05"),
    ("lenient-kk", "11 Шілде, 2019 сағат 12:20"),
];

fn context() -> DateContext {
    DateContext {
        tz: chrono_tz::Asia::Almaty,
        now: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().unwrap_or_default(),
        locale: None,
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let cx = context();
    let mut group = c.benchmark_group("dates");
    for &(name, input) in CASES {
        assert!(parse_date(input, &cx).is_ok(), "{name}: {input:?} must parse");
        group.bench_function(name, |b| b.iter(|| parse_date(black_box(input), black_box(&cx))));
    }
    group.finish();
    c.final_summary();
}
