//! Scheduling: when a source may be fetched again.
//!
//! Politeness rules, all in one place:
//! - A healthy source is due again after the longest interval its server asks for — RSS `<ttl>`,
//!   `sy:updatePeriod`/`sy:updateFrequency`, `Cache-Control: max-age`, `Expires` — raised to the
//!   configured `min_interval` and capped at `max_interval`. With no signal and no `min_interval`, a
//!   source is always due: a user who runs feedmill twice by hand gets two (conditional, so cheap) fetches.
//! - A failing source backs off exponentially: 1 min, 2, 4, … after each failure in a row, capped at
//!   `max_interval`, with ±10% jitter so a fleet of failures does not retry in lockstep. A `Retry-After`
//!   longer than the run would wait sets the next fetch directly.
//! - RSS `skipHours` (GMT hours) and `skipDays` make a source not due during those hours and days.
//!
//! Everything here is pure: times come in as arguments.

use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};

/// Freshness hints from the feed and the HTTP response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// RSS `<ttl>`.
    pub ttl: Option<Duration>,
    /// `sy:updatePeriod` divided by `sy:updateFrequency`.
    pub syndication: Option<Duration>,
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// `Expires` minus the response's `Date`.
    pub expires: Option<Duration>,
}

/// Bounds from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min_interval: Option<Duration>,
    pub max_interval: Duration,
}

/// First delay after a failure; doubles with each further failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(60);

/// When a source that was just fetched successfully is due again; `None`: any time.
pub fn after_success(now: DateTime<Utc>, signals: Signals, bounds: Bounds) -> Option<DateTime<Utc>> {
    let asked = [signals.ttl, signals.syndication, signals.max_age, signals.expires].into_iter().flatten().max();
    let interval = match (asked, bounds.min_interval) {
        (None, None) => return None,
        (a, m) => a.unwrap_or_default().max(m.unwrap_or_default()).min(bounds.max_interval),
    };
    Some(now + interval)
}

/// When a source that just failed for the `failures`-th time in a row is due again. `retry_after` is a
/// server's explicit request, honoured (up to `max_interval`) over the computed backoff.
pub fn after_failure(
    now: DateTime<Utc>,
    failures: u32,
    retry_after: Option<Duration>,
    bounds: Bounds,
    jitter: f64,
) -> DateTime<Utc> {
    let backoff = FIRST_BACKOFF.saturating_mul(1 << failures.saturating_sub(1).min(20));
    let backoff = backoff.mul_f64(1.0 + (jitter.clamp(0.0, 1.0) - 0.5) / 5.0);
    let wait = retry_after.unwrap_or(backoff).max(bounds.min_interval.unwrap_or_default()).min(bounds.max_interval);
    now + wait
}

/// Whether `now` falls in the feed's `skipHours` (GMT) or `skipDays`.
pub fn skipped(now: DateTime<Utc>, skip_hours: &[u8], skip_days: &[String]) -> bool {
    let hour = now.hour() as u8;
    let day = match now.weekday() {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    };
    // A feed that skips every hour or every day is broken, not asking never to be read.
    let all_hours = (0..24).all(|h| skip_hours.contains(&h));
    let all_days = skip_days.len() >= 7;
    (!all_hours && skip_hours.contains(&hour)) || (!all_days && skip_days.iter().any(|d| d.eq_ignore_ascii_case(day)))
}

/// `sy:updatePeriod` (hourly, daily, weekly, monthly, yearly) over `sy:updateFrequency` (default 1).
pub fn syndication_interval(period: Option<&str>, frequency: Option<u32>) -> Option<Duration> {
    let period = match period?.trim().to_ascii_lowercase().as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(period / u64::from(frequency.unwrap_or(1).max(1))))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        // A Saturday.
        Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap()
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn bounds(min: Option<u64>) -> Bounds {
        Bounds { min_interval: min.map(Duration::from_secs), max_interval: DAY }
    }

    #[test]
    fn no_signal_and_no_minimum_means_always_due() {
        assert_eq!(after_success(now(), Signals::default(), bounds(None)), None);
        assert_eq!(after_success(now(), Signals::default(), bounds(Some(600))), Some(now() + Duration::from_secs(600)));
    }

    #[test]
    fn the_longest_signal_wins_within_bounds() {
        let s = Signals {
            ttl: Some(Duration::from_secs(3600)),
            max_age: Some(Duration::from_secs(300)),
            ..Signals::default()
        };
        assert_eq!(after_success(now(), s, bounds(None)), Some(now() + Duration::from_secs(3600)));
        assert_eq!(after_success(now(), s, bounds(Some(7200))), Some(now() + Duration::from_secs(7200)));
        let huge = Signals { ttl: Some(DAY * 30), ..Signals::default() };
        assert_eq!(after_success(now(), huge, bounds(None)), Some(now() + DAY));
    }

    #[test]
    fn failures_back_off_exponentially_with_bounded_jitter() {
        let b = bounds(None);
        assert_eq!(after_failure(now(), 1, None, b, 0.5), now() + Duration::from_secs(60));
        assert_eq!(after_failure(now(), 3, None, b, 0.5), now() + Duration::from_secs(240));
        assert_eq!(after_failure(now(), 40, None, b, 0.5), now() + DAY);
        let early = after_failure(now(), 2, None, b, 0.0);
        let late = after_failure(now(), 2, None, b, 1.0);
        assert_eq!(early, now() + Duration::from_secs(108));
        assert_eq!(late, now() + Duration::from_secs(132));
        assert_eq!(after_failure(now(), 1, Some(Duration::from_secs(3600)), b, 0.5), now() + Duration::from_secs(3600));
    }

    #[test]
    fn skip_hours_and_days() {
        assert!(skipped(now(), &[10], &[]));
        assert!(!skipped(now(), &[9, 11], &[]));
        assert!(skipped(now(), &[], &["Saturday".into()]));
        assert!(!skipped(now(), &[], &["Sunday".into()]));
        let every_hour: Vec<u8> = (0..24).collect();
        assert!(!skipped(now(), &every_hour, &[]));
    }

    #[test]
    fn syndication_periods() {
        assert_eq!(syndication_interval(Some("hourly"), Some(2)), Some(Duration::from_secs(1800)));
        assert_eq!(syndication_interval(Some(" Daily "), None), Some(DAY));
        assert_eq!(syndication_interval(Some("sometimes"), None), None);
        assert_eq!(syndication_interval(None, Some(4)), None);
    }
}
