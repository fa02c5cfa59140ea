//! Report: one outcome per source, the run's exit status, and the summary table.
//!
//! A failing source is data, not a crash (ripgrep's "errored" flag, lychee's outcome values): the run goes
//! on, the outcome records why, and only here is it turned into an exit status.
//!
//! `feedmill run --summary json` prints a [`RunReport`] through [`RunReport::to_json`] for scripts. Its
//! field names are an interface (listed in the README): fields may be added, none renamed or removed.
//!
//! `explain.rs` holds the view `feedmill explain` prints, from the stories the pipeline merges.

mod explain;
pub use explain::{explain, ExplainedCopy, ExplainedDrop, ExplainedStory, Explanation, Merged};

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// Exit status: everything fine.
pub const EXIT_OK: u8 = 0;
/// Some sources failed; outputs were written from the others.
pub const EXIT_PARTIAL: u8 = 1;
/// Bad config, the state could not be locked or written, or the outputs could not be written.
pub const EXIT_FATAL: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// HTTP 304: nothing changed since the last fetch.
    NotModified,
    Failed {
        error: String,
    },
    /// Not fetched: not due before `until` (its schedule, a backoff, or `skipHours`/`skipDays`).
    Skipped {
        until: chrono::DateTime<chrono::Utc>,
    },
    /// HTTP 410 this run: the source is now dead. A failure (the config should change), so exit 1.
    Gone {
        error: String,
    },
    /// Not fetched: the source answered 410 Gone on an earlier run and its URL has not changed since.
    /// Its stored entries stay published until retention purges them.
    Dead {
        since: chrono::DateTime<chrono::Utc>,
    },
    /// Not fetched: `enabled = false` in the config. Its stored entries stay until retention purges them.
    Disabled,
}

/// What happened to one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub name: String,
    /// As configured, with its secrets written `***` (`crate::redact::url`).
    pub url: String,
    #[serde(flatten)]
    pub status: Status,
    /// Final HTTP status code; `None` for files and for failures before a response.
    pub http_status: Option<u16>,
    /// e.g. `rss 2.0`, `atom 1.0`, `json-feed 1.1`.
    pub format: Option<String>,
    /// e.g. `windows-1251 (XML prolog)`.
    pub encoding: Option<String>,
    /// Entries read from the document.
    pub entries: usize,
    /// Entries seen for the first time.
    pub new: usize,
    /// Entries the store holds for this source (history included).
    pub kept: usize,
    /// Entries dropped as duplicates, inside the feed or of another source's story.
    pub duplicates: usize,
    /// Entries dropped by `[filters]` or the source's own filters.
    pub filtered: usize,
    /// Everything the parser and normalizer forgave or dropped.
    pub warnings: Vec<String>,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl SourceReport {
    /// A row for a source not read yet.
    pub fn new(name: &str, url: &str) -> SourceReport {
        SourceReport {
            name: name.to_owned(),
            url: crate::redact::url(url),
            status: Status::Ok,
            http_status: None,
            format: None,
            encoding: None,
            entries: 0,
            new: 0,
            kept: 0,
            duplicates: 0,
            filtered: 0,
            warnings: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Failed { .. } | Status::Gone { .. })
    }

    /// What went wrong this run, for the `error:` lines.
    pub fn error(&self) -> Option<String> {
        match &self.status {
            Status::Failed { error } => Some(error.clone()),
            Status::Gone { error } => Some(format!("{error}; {GONE_HINT}")),
            _ => None,
        }
    }
}

/// What a 410 means for the next runs, said once when it happens.
const GONE_HINT: &str = "not fetched again until its url changes in the config (run --force to ask again)";

/// What a whole run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub sources: Vec<SourceReport>,
    pub files_written: usize,
    pub files_unchanged: usize,
    /// Nothing changed since the outputs were last built: they were not rendered at all.
    pub outputs_current: bool,
    /// Set when outputs could not be written (or were deliberately left alone); the reason.
    pub output_error: Option<String>,
    /// Feeds the WebSub hub was told changed.
    pub hub_pings: usize,
    /// Problems that did not fail the run (a hub that could not be reached).
    pub warnings: Vec<String>,
}

impl RunReport {
    /// `3 of 4 sources ok, 1 not due; 2 files written, 9 unchanged`.
    pub fn summary_line(&self) -> String {
        let failed = self.sources.iter().filter(|s| s.failed()).count();
        let skipped = self.sources.iter().filter(|s| matches!(s.status, Status::Skipped { .. })).count();
        let dead = self.sources.iter().filter(|s| matches!(s.status, Status::Dead { .. })).count();
        let disabled = self.sources.iter().filter(|s| matches!(s.status, Status::Disabled)).count();
        let ok = self.sources.len() - failed - skipped - dead - disabled;
        let mut out = format!("{ok} of {} ok", counted(self.sources.len(), "source", "sources"));
        if skipped > 0 {
            let _ = write!(out, ", {skipped} not due");
        }
        if dead > 0 {
            let _ = write!(out, ", {dead} dead (HTTP 410)");
        }
        if disabled > 0 {
            let _ = write!(out, ", {disabled} disabled");
        }
        let new: usize = self.sources.iter().map(|s| s.new).sum();
        let _ = write!(out, "; {}; ", counted(new, "new entry", "new entries"));
        if self.outputs_current {
            out.push_str("outputs up to date");
        } else {
            let written = counted(self.files_written, "file", "files");
            let _ = write!(out, "{written} written, {} unchanged", self.files_unchanged);
        }
        if self.hub_pings > 0 {
            let _ = write!(out, "; hub told of {}", counted(self.hub_pings, "changed feed", "changed feeds"));
        }
        out
    }

    /// The report as pretty JSON, with the exit status the run ends with.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Summary<'a> {
            exit_code: u8,
            #[serde(flatten)]
            report: &'a RunReport,
        }
        // Strings, numbers, booleans and dates only: serde_json cannot fail on them.
        serde_json::to_string_pretty(&Summary { exit_code: self.exit_code(), report: self }).unwrap_or_default()
    }

    pub fn exit_code(&self) -> u8 {
        if self.output_error.is_some() {
            EXIT_FATAL
        } else if self.sources.iter().any(SourceReport::failed) {
            EXIT_PARTIAL
        } else {
            EXIT_OK
        }
    }

    /// A fixed-width table, one row per source, then the failures in full.
    pub fn table(&self) -> String {
        let name_w = self.sources.iter().map(|s| s.name.chars().count()).max().unwrap_or(6).max(6);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<name_w$}  {:<9}  {:>4}  {:>7}  {:>4}  {:>4}  {:>4}  {:>8}  {:>7}  format",
            "source", "status", "http", "entries", "new", "kept", "dups", "filtered", "time"
        );
        for s in &self.sources {
            let status = match &s.status {
                Status::Ok if !s.warnings.is_empty() => "warn",
                Status::Ok => "ok",
                Status::NotModified => "unchanged",
                Status::Failed { .. } => "FAILED",
                Status::Skipped { .. } => "skipped",
                Status::Gone { .. } => "GONE",
                Status::Dead { .. } => "dead",
                Status::Disabled => "disabled",
            };
            let http = s.http_status.map_or_else(|| "-".to_owned(), |c| c.to_string());
            let _ = writeln!(
                out,
                "{:<name_w$}  {:<9}  {:>4}  {:>7}  {:>4}  {:>4}  {:>4}  {:>8}  {:>6.2}s  {}",
                s.name,
                status,
                http,
                s.entries,
                s.new,
                s.kept,
                s.duplicates,
                s.filtered,
                s.elapsed.as_secs_f64(),
                s.format.as_deref().unwrap_or("-"),
            );
            // Why a source is `warn`, under its row: the first warning, cut to fit a terminal.
            if let (Status::Ok, Some(first)) = (&s.status, s.warnings.first()) {
                let more = match s.warnings.len() {
                    1 => String::new(),
                    n => format!(" (+{} more in --summary json)", n - 1),
                };
                let _ = writeln!(out, "{:name_w$}  ↳ {}{more}", "", shorten(first, WARNING_CHARS));
            }
        }
        out.push_str(&self.summary_line());
        for s in &self.sources {
            if let Some(error) = s.error() {
                let _ = write!(out, "\nerror: {}: {error}", s.name);
            }
        }
        if let Some(e) = &self.output_error {
            let _ = write!(out, "\nerror: {e}");
        }
        for w in &self.warnings {
            let _ = write!(out, "\nwarning: {w}");
        }
        out
    }
}

/// `1 entry`, `2 entries`: messages count in the singular when there is one.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How much of a `warn` source's first warning the run table shows.
const WARNING_CHARS: usize = 60;

/// The first line of `text`, cut to `max` characters at a word boundary when there is one, with `…`.
fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let Some((cut, _)) = line.char_indices().nth(max) else { return line.to_owned() };
    let head = &line[..cut];
    let head = match head.rfind(' ') {
        Some(space) if space > cut / 2 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// One row of `feedmill status`; serialized for `status --json`, whose field names are an interface
/// (README).
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    /// As configured, its secrets written `***`.
    pub url: String,
    /// `false` for a source with `enabled = false`: it is not fetched.
    pub enabled: bool,
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// Failed fetches in a row.
    pub failures: u32,
    /// When the source is fetched next; `None` when it is due now, or never (`dead_since`).
    pub next_due: Option<chrono::DateTime<chrono::Utc>>,
    /// When the source answered 410 Gone; it is not fetched while its url stays the same.
    pub dead_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries stored for the source.
    pub entries: usize,
    /// Stored entries published as part of another source's story.
    pub duplicates: usize,
    /// Entries of its last parsed document that filters dropped.
    pub filtered: usize,
    pub last_error: Option<String>,
}

/// Counts per source name, as the store gives them.
pub type Counts = std::collections::HashMap<String, usize>;

/// `feedmill status`'s rows, in config order. `folded` counts, per source, its stored entries
/// published as part of another source's story (the last build's `[dedup]` merge); `filtered`, the
/// entries filters dropped from its last parsed document.
pub fn status_rows(
    sources: &[crate::config::Source],
    states: &std::collections::HashMap<String, crate::store::SourceState>,
    counts: &Counts,
    folded: &Counts,
    filtered: &Counts,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<SourceStatus> {
    sources
        .iter()
        .map(|s| {
            let st = states.get(&s.name);
            let dead_since = st.and_then(|st| st.dead_since(&s.url));
            let count = |c: &Counts| c.get(&s.name).copied().unwrap_or(0);
            SourceStatus {
                name: s.name.clone(),
                url: crate::redact::url(&s.url),
                enabled: s.enabled,
                last_success: st.and_then(|st| st.last_success),
                failures: st.map_or(0, |st| st.failures),
                next_due: st.and_then(|st| st.next_fetch).filter(|t| *t > now && dead_since.is_none()),
                dead_since,
                entries: count(counts),
                duplicates: count(folded),
                filtered: count(filtered),
                last_error: st.and_then(|st| st.last_error.as_deref()).map(crate::redact::text),
            }
        })
        .collect()
}

/// `feedmill status`: one row per configured source, times in UTC. A source that answered 410 Gone is
/// due `dead`.
pub fn status_table(rows: &[SourceStatus]) -> String {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    let header = ["source", "last success", "failures", "next due", "entries", "duplicates", "filtered", "last error"];
    // Numbers are right-aligned; the last column is not padded.
    let numeric = [false, false, true, false, true, true, true, false];
    let mut table: Vec<[String; 8]> = vec![header.map(str::to_owned)];
    for r in rows {
        let next = match r.next_due {
            _ if !r.enabled => "disabled".to_owned(),
            _ if r.dead_since.is_some() => "dead".to_owned(),
            Some(t) => when(Some(t)),
            None => "now".to_owned(),
        };
        table.push([
            r.name.clone(),
            when(r.last_success),
            r.failures.to_string(),
            next,
            r.entries.to_string(),
            r.duplicates.to_string(),
            r.filtered.to_string(),
            r.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &table {
        let last = r.len() - 1;
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            match c {
                _ if c == last => out.push_str(cell),
                _ if numeric[c] => out.push_str(&format!("{}{cell}  ", " ".repeat(pad))),
                _ => out.push_str(&format!("{cell}{}  ", " ".repeat(pad))),
            }
        }
        out.push('\n');
    }
    out
}

/// `feedmill status --json`: `{"sources": [...]}`, pretty; with a PostgreSQL state also `"workers"`.
pub fn status_json(rows: &[SourceStatus], workers: Option<&[WorkerStatus]>) -> String {
    #[derive(Serialize)]
    struct Status<'a> {
        sources: &'a [SourceStatus],
        #[serde(skip_serializing_if = "Option::is_none")]
        workers: Option<&'a [WorkerStatus]>,
    }
    // Strings, numbers and dates only: serde_json cannot fail on them.
    serde_json::to_string_pretty(&Status { sources: rows, workers }).unwrap_or_default()
}

/// A worker sharing a PostgreSQL state, as `status` lists it: as the state holds it (its counters
/// included), and whether it is alive.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerStatus {
    #[serde(flatten)]
    pub worker: crate::store::postgres::WorkerRow,
    /// Its heartbeat is younger than a lease: it runs (else it was killed or lost the database, and
    /// the sources it held go to the others as its leases expire).
    pub alive: bool,
}

/// `feedmill status`'s second table with a PostgreSQL state: one row per registered worker.
pub fn workers_table(rows: &[WorkerStatus]) -> String {
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let header = ["worker", "host", "pid", "started", "last heartbeat", "leases"];
    let mut table: Vec<[String; 6]> = vec![header.map(str::to_owned)];
    for WorkerStatus { worker: w, alive } in rows {
        let beat = if *alive { when(w.heartbeat) } else { format!("{} (gone)", when(w.heartbeat)) };
        table.push([w.id.clone(), w.host.clone(), w.pid.to_string(), when(w.started), beat, w.leases.to_string()]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &table {
        let cells: Vec<String> = r.iter().enumerate().map(|(c, cell)| format!("{cell:<w$}", w = widths[c])).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
