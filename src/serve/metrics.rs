//! `/metrics`: Prometheus text exposition format 0.0.4.
//!
//! Two kinds of figures. Gauges about the sources come from the state database at scrape time, so a
//! plain `serve` beside a cron `run` reports what the last run left: sources, sources failing, failures
//! in a row, last success, entries kept. Counters and the fetch-duration histogram count what this
//! process's own refreshes did (`serve --watch`); without `--watch` they stay at zero.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::report::{RunReport, Status};
use crate::store::postgres::WorkerRow;
use crate::store::SourceState;

/// Upper bounds of the fetch-duration buckets, in seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// What this process's refreshes did, accumulated since it started.
#[derive(Debug, Default)]
pub struct Observed {
    pub refreshes: u64,
    /// The clock of the last refresh (when it started).
    pub last_refresh: Option<DateTime<Utc>>,
    /// When the last refresh finished, for `/healthz`.
    pub finished: Option<Instant>,
    /// Per bucket of [`BUCKETS`], observations at most that long (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
    duration_sum: f64,
    duration_count: u64,
    new: HashMap<String, u64>,
    duplicates: HashMap<String, u64>,
}

impl Observed {
    /// Counts one refresh. Sources that were not due were not fetched: they add no duration.
    pub fn record(&mut self, now: DateTime<Utc>, report: &RunReport) {
        self.refreshes += 1;
        self.last_refresh = Some(now);
        self.finished = Some(Instant::now());
        for s in report.sources.iter().filter(|s| !matches!(s.status, Status::Skipped { .. })) {
            let secs = s.elapsed.as_secs_f64();
            if let Some(i) = BUCKETS.iter().position(|le| secs <= *le) {
                self.buckets[i] += 1;
            }
            self.duration_sum += secs;
            self.duration_count += 1;
            *self.new.entry(s.name.clone()).or_default() += s.new as u64;
            *self.duplicates.entry(s.name.clone()).or_default() += s.duplicates as u64;
        }
    }
}

/// Everything one scrape shows.
pub struct Snapshot<'a> {
    /// Configured sources, in config order.
    pub sources: &'a [String],
    /// From the state database; empty when there is none yet.
    pub states: &'a HashMap<String, SourceState>,
    pub counts: &'a HashMap<String, usize>,
    pub observed: &'a Observed,
    /// The workers sharing a PostgreSQL state (none for SQLite), with what each counted.
    pub workers: &'a [WorkerRow],
}

/// What a worker counts in `workers.counters`, after each run: `(key, help)`; each is shown as
/// `feedmill_worker_<key>_total`.
pub const WORKER_COUNTERS: [(&str, &str); 4] = [
    ("runs", "Runs the worker completed."),
    ("sources_read", "Sources the worker read (fetched, or read again from the kept body)."),
    ("sources_failed", "Sources whose read failed on this worker."),
    ("entries_new", "New entries the worker recorded."),
];

pub fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::new();
    head(&mut out, "feedmill_build_info", "gauge", "The running feedmill's version; always 1.");
    let _ = writeln!(out, "feedmill_build_info{{version=\"{}\"}} 1", label(env!("CARGO_PKG_VERSION")));
    render_sources(&mut out, s);
    render_observed(&mut out, s);
    if !s.workers.is_empty() {
        render_workers(&mut out, s.workers);
    }
    out
}

/// Per worker of a PostgreSQL state: its heartbeat, its live leases and its counters, so any `serve`
/// instance shows every worker's.
fn render_workers(out: &mut String, workers: &[WorkerRow]) {
    let labels = |w: &WorkerRow| format!("worker=\"{}\",host=\"{}\"", label(&w.id), label(&w.host));
    head(out, "feedmill_worker_heartbeat_timestamp_seconds", "gauge", "Unix time of the worker's last heartbeat.");
    for w in workers {
        let _ =
            writeln!(out, "feedmill_worker_heartbeat_timestamp_seconds{{{}}} {}", labels(w), w.heartbeat.timestamp());
    }
    head(out, "feedmill_worker_leases", "gauge", "Sources the worker holds a live lease on.");
    for w in workers {
        let _ = writeln!(out, "feedmill_worker_leases{{{}}} {}", labels(w), w.leases);
    }
    for (key, help) in WORKER_COUNTERS {
        let metric = format!("feedmill_worker_{key}_total");
        head(out, &metric, "counter", help);
        for w in workers {
            let value = w.counters.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
            let _ = writeln!(out, "{metric}{{{}}} {value}", labels(w));
        }
    }
}

fn render_sources(out: &mut String, s: &Snapshot<'_>) {
    let state = |name: &str| s.states.get(name);
    head(out, "feedmill_sources", "gauge", "Sources in the config.");
    let _ = writeln!(out, "feedmill_sources {}", s.sources.len());
    head(out, "feedmill_sources_failing", "gauge", "Sources whose last fetch failed.");
    let failing = s.sources.iter().filter(|n| state(n).is_some_and(|st| st.failures > 0)).count();
    let _ = writeln!(out, "feedmill_sources_failing {failing}");
    // One sample per source that has a value.
    let per_source = |out: &mut String, metric: &str, value: &dyn Fn(&str) -> Option<i64>| {
        for n in s.sources {
            if let Some(v) = value(n) {
                let _ = writeln!(out, "{metric}{{source=\"{}\"}} {v}", label(n));
            }
        }
    };
    head(out, "feedmill_source_failures", "gauge", "Failed fetches in a row, per source.");
    per_source(out, "feedmill_source_failures", &|n| Some(state(n).map_or(0, |st| i64::from(st.failures))));
    head(
        out,
        "feedmill_source_last_success_timestamp_seconds",
        "gauge",
        "Unix time of the last successful fetch, per source; absent until one succeeds.",
    );
    per_source(out, "feedmill_source_last_success_timestamp_seconds", &|n| {
        state(n).and_then(|st| st.last_success).map(|t| t.timestamp())
    });
    head(out, "feedmill_source_entries", "gauge", "Entries the state database keeps, per source.");
    per_source(out, "feedmill_source_entries", &|n| Some(s.counts.get(n).map_or(0, |c| *c as i64)));
}

fn render_observed(out: &mut String, s: &Snapshot<'_>) {
    let o = s.observed;
    head(out, "feedmill_refreshes_total", "counter", "Refreshes this process completed (serve --watch).");
    let _ = writeln!(out, "feedmill_refreshes_total {}", o.refreshes);
    if let Some(t) = o.last_refresh {
        head(out, "feedmill_last_refresh_timestamp_seconds", "gauge", "Unix time the last refresh started.");
        let _ = writeln!(out, "feedmill_last_refresh_timestamp_seconds {}", t.timestamp());
    }
    head(
        out,
        "feedmill_fetch_duration_seconds",
        "histogram",
        "Time to fetch and read one source, over this process's refreshes.",
    );
    let mut cumulative = 0;
    for (le, n) in BUCKETS.iter().zip(o.buckets) {
        cumulative += n;
        let _ = writeln!(out, "feedmill_fetch_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "feedmill_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {}", o.duration_count);
    let _ = writeln!(out, "feedmill_fetch_duration_seconds_sum {}", o.duration_sum);
    let _ = writeln!(out, "feedmill_fetch_duration_seconds_count {}", o.duration_count);
    for (name, help, map) in [
        ("feedmill_entries_new_total", "Entries seen for the first time, per source.", &o.new),
        (
            "feedmill_entries_duplicate_total",
            "Entries dropped as duplicates (in the feed, or of another source's story), per source.",
            &o.duplicates,
        ),
    ] {
        head(out, name, "counter", help);
        for n in s.sources {
            let _ = writeln!(out, "{name}{{source=\"{}\"}} {}", label(n), map.get(n).copied().unwrap_or(0));
        }
    }
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::report::SourceReport;

    fn row(name: &str, status: Status, secs: f64, new: usize, duplicates: usize) -> SourceReport {
        SourceReport {
            status,
            new,
            duplicates,
            elapsed: Duration::from_secs_f64(secs),
            ..SourceReport::new(name, "https://example.org/feed")
        }
    }

    #[test]
    fn a_page_from_the_state_and_two_refreshes() {
        let t = Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap();
        let sources = ["abai".to_owned(), "say \"hi\"\\".to_owned()];
        let states = HashMap::from([
            ("abai".to_owned(), SourceState { last_success: Some(t), ..SourceState::default() }),
            ("say \"hi\"\\".to_owned(), SourceState { failures: 3, ..SourceState::default() }),
        ]);
        let counts = HashMap::from([("abai".to_owned(), 42)]);
        let mut observed = Observed::default();
        let failed = Status::Failed { error: "HTTP 500".into() };
        observed.record(
            t,
            &RunReport {
                sources: vec![row("abai", Status::Ok, 0.2, 5, 1), row("say \"hi\"\\", failed, 3.0, 0, 0)],
                ..RunReport::default()
            },
        );
        let later = Status::Skipped { until: t };
        observed.record(
            t + chrono::Duration::minutes(15),
            &RunReport {
                sources: vec![row("abai", Status::NotModified, 0.04, 0, 0), row("say \"hi\"\\", later, 0.0, 0, 0)],
                ..RunReport::default()
            },
        );
        let page = render(&Snapshot {
            sources: &sources,
            states: &states,
            counts: &counts,
            observed: &observed,
            workers: &[],
        });
        let build_info = format!("feedmill_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        for line in [
            build_info.as_str(),
            "feedmill_sources 2",
            "feedmill_sources_failing 1",
            "feedmill_source_failures{source=\"say \\\"hi\\\"\\\\\"} 3",
            "feedmill_source_last_success_timestamp_seconds{source=\"abai\"} 1732356000",
            "feedmill_source_entries{source=\"abai\"} 42",
            "feedmill_source_entries{source=\"say \\\"hi\\\"\\\\\"} 0",
            "feedmill_refreshes_total 2",
            "feedmill_last_refresh_timestamp_seconds 1732356900",
            "feedmill_fetch_duration_seconds_bucket{le=\"0.05\"} 1",
            "feedmill_fetch_duration_seconds_bucket{le=\"0.25\"} 2",
            "feedmill_fetch_duration_seconds_bucket{le=\"2.5\"} 2",
            "feedmill_fetch_duration_seconds_bucket{le=\"5\"} 3",
            "feedmill_fetch_duration_seconds_bucket{le=\"+Inf\"} 3",
            "feedmill_fetch_duration_seconds_count 3",
            "feedmill_entries_new_total{source=\"abai\"} 5",
            "feedmill_entries_duplicate_total{source=\"abai\"} 1",
            "# TYPE feedmill_fetch_duration_seconds histogram",
            "# TYPE feedmill_entries_new_total counter",
        ] {
            assert!(page.lines().any(|l| l == line), "missing {line:?} in\n{page}");
        }
        assert!(!page.contains("last_success_timestamp_seconds{source=\"say"), "never succeeded: absent");
        let sum: f64 =
            page.lines().find_map(|l| l.strip_prefix("feedmill_fetch_duration_seconds_sum ")).unwrap().parse().unwrap();
        assert!((sum - 3.24).abs() < 1e-9, "{sum}");
    }
}
