//! The two helpers the benchmark runs as child processes of itself.
//!
//! - [`fetch`] is the bare client, the fetch ceiling: reqwest (the crate and features feedmill uses),
//!   one client, a tokio runtime with one worker per core as `feedmill run` has, `concurrency` requests
//!   in flight, every body read to the end and dropped. Given validators it sends them, like feedmill.
//! - [`measure`] runs one command and reports its wall time, CPU time and peak RSS. It exists so that
//!   `getrusage(RUSAGE_CHILDREN)` — which reports the *largest* child ever waited for, not the last —
//!   has exactly one child to report on: every measured run gets a fresh wrapper.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures_util::stream::{self, StreamExt};
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::TimeVal;

/// GETs every URL of `list` (lines of `url[\tetag\tlast-modified]`); fails if any request failed.
pub fn fetch(list: &Path, concurrency: usize) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(list).with_context(|| format!("cannot read {}", list.display()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    let client = reqwest::Client::builder().gzip(true).build()?;
    let failures: Vec<String> = runtime.block_on(
        stream::iter(text.lines())
            .map(|line| get(&client, line))
            .buffer_unordered(concurrency)
            .filter_map(|r| async move { r.err().map(|e| format!("{e:#}")) })
            .collect(),
    );
    if let Some(first) = failures.first() {
        bail!("{} requests failed, the first: {first}", failures.len());
    }
    Ok(())
}

async fn get(client: &reqwest::Client, line: &str) -> anyhow::Result<()> {
    let mut fields = line.split('\t');
    let url = fields.next().unwrap_or_default();
    let mut request = client.get(url);
    if let (Some(etag), Some(date)) = (fields.next(), fields.next()) {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag).header(reqwest::header::IF_MODIFIED_SINCE, date);
    }
    let response = request.send().await.with_context(|| url.to_owned())?;
    if !(response.status().is_success() || response.status() == reqwest::StatusCode::NOT_MODIFIED) {
        bail!("{url}: {}", response.status());
    }
    response.bytes().await.with_context(|| url.to_owned())?;
    Ok(())
}

/// What [`measure`] prints about its one child, as one line `wall_ns cpu_ns max_rss_kb exit_code`.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub wall: Duration,
    /// User plus system time.
    pub cpu: Duration,
    pub max_rss_kb: u64,
    pub exit_code: i32,
}

impl Usage {
    pub fn parse(line: &str) -> Option<Usage> {
        let mut f = line.split_whitespace();
        let mut next = || f.next()?.parse::<i64>().ok();
        Some(Usage {
            wall: Duration::from_nanos(next()?.try_into().ok()?),
            cpu: Duration::from_nanos(next()?.try_into().ok()?),
            max_rss_kb: next()?.try_into().ok()?,
            exit_code: next()?.try_into().ok()?,
        })
    }
}

/// Runs `command` (its stdout discarded, its stderr passed through) and prints its [`Usage`].
pub fn measure(command: &[OsString]) -> anyhow::Result<()> {
    let Some((program, args)) = command.split_first() else { bail!("nothing to measure") };
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", program.to_string_lossy()))?;
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let cpu = duration(usage.user_time()) + duration(usage.system_time());
    // Linux reports ru_maxrss in KiB.
    println!("{} {} {} {}", wall.as_nanos(), cpu.as_nanos(), usage.max_rss(), status.code().unwrap_or(-1));
    Ok(())
}

fn duration(t: TimeVal) -> Duration {
    Duration::from_secs(t.tv_sec().max(0) as u64) + Duration::from_micros(t.tv_usec().max(0) as u64)
}
