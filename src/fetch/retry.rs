//! When to try again and how long to wait: pure functions of a status, its headers and the attempt number.
//!
//! Kept apart from the I/O so the rules can be read in one place and tested without a server or a clock.
//! Full jitter (a uniform draw between zero and the exponential ceiling) rather than "exponential plus a
//! little noise" because many feeds share a few hosts: synchronized retries are what keeps a struggling
//! host down. `Retry-After` given as an HTTP-date is measured against the response's own `Date` header,
//! so neither our clock nor clock skew enters the computation.

use std::time::Duration;

use chrono::DateTime;

/// What the fetcher should do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// The failure will not go away by asking again (404, a body over the cap, a bad redirect), or asking
    /// again would cost another whole timeout (a connect, whole-request or read timeout): a host that hung
    /// once in a run is likely to hang again, and three timeouts of one dead host would hold a cron run for
    /// minutes. The source fails and backs off to a later run like any other failure.
    No,
    /// A transient failure: wait an exponential backoff with full jitter.
    Backoff,
    /// The server said how long to wait.
    After(Duration),
}

/// Statuses worth another try: request timeout, rate limiting, and server-side trouble.
pub(crate) fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// Only these statuses give `Retry-After` the meaning "come back later" (on 3xx it means something else).
pub(super) fn honours_retry_after(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// The wait a `Retry-After` value asks for: delay-seconds, or an HTTP-date measured from the response's
/// `Date`. `None` when the value is unreadable, or is a date and the response had no usable `Date`.
pub(super) fn parse_retry_after(value: &str, response_date: Option<&str>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let now = DateTime::parse_from_rfc2822(response_date?.trim()).ok()?;
    // A date in the past means "now"; `to_std` fails exactly then.
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The delay before attempt `failed + 1`: uniform in `[0, base · 2^(failed-1))`, scaled by `unit` in [0, 1).
/// The exponent is capped so a large `tries` cannot overflow.
pub(super) fn backoff(base: Duration, failed: u32, unit: f64) -> Duration {
    let ceiling = base.saturating_mul(1 << failed.saturating_sub(1).min(16));
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(status_is_retryable(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 451] {
            assert!(!status_is_retryable(s), "{s}");
        }
        assert!(honours_retry_after(429) && honours_retry_after(503) && !honours_retry_after(500));
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 120 ", None), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("0", None), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-5", None), None);
        assert_eq!(parse_retry_after("soon", None), None);
    }

    #[test]
    fn retry_after_date_is_relative_to_the_response_date() {
        let date = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:30 GMT", date), Some(Duration::from_secs(150)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", date), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:30 GMT", None), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:30 GMT", Some("garbage")), None);
    }

    #[test]
    fn backoff_grows_exponentially_under_full_jitter() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 1, 0.0), Duration::ZERO);
        assert_eq!(backoff(base, 1, 0.5), Duration::from_millis(250));
        assert_eq!(backoff(base, 2, 0.5), Duration::from_millis(500));
        assert_eq!(backoff(base, 3, 0.5), Duration::from_millis(1000));
        assert!(backoff(base, 3, 0.999_999) < Duration::from_millis(2000));
        assert!(backoff(base, u32::MAX, 1.0) <= base * 65_536);
    }
}
