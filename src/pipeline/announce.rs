//! WebSub announcements: after a run, the hub (`[output] hub`) is told which feeds changed.
//!
//! A topic is a feed file's public URL, and only files whose bytes changed are announced, so a run
//! that changed one category tells the hub about that category's three files and `all`'s three, and a
//! run that changed nothing tells it nothing. A hub that cannot be reached never fails the run: the
//! problem becomes a warning in the report, and the topics not announced are kept in the store and
//! announced by the next run, so a subscriber is not left waiting for the next change.
//!
//! Time is bounded: topics are announced one after the other, and the first one that fails for a
//! reason that would fail the rest too (no connection, timeouts, 5xx after every retry) ends the
//! announcement; the rest wait for the next run. A hub that refuses one topic (a 4xx) is told the others.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;
use crate::error::error_chain;
use crate::fetch::{status_is_retryable, FetchError, FetchErrorKind, Fetcher};
use crate::report::RunReport;
use crate::store::Outputs;

/// Topics not yet announced (kept in the store as JSON, [`Outputs::pending_announcements`]), and the hub they were meant for: a changed `hub` drops them, since the new
/// hub has no subscribers to those changes yet.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Pending {
    hub: String,
    topics: Vec<String>,
}

pub(super) async fn announce(
    fetcher: &Fetcher,
    config: &Config,
    store: &impl Outputs,
    changed: Vec<String>,
    report: &mut RunReport,
) {
    let Some(hub) = &config.output.hub else { return };
    let pending: Pending = store
        .pending_announcements()
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
        .filter(|p: &Pending| p.hub == hub.as_str())
        .unwrap_or_default();
    let mut topics = pending.topics;
    for t in changed {
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    if topics.is_empty() {
        return;
    }
    let left = ping_all(fetcher, hub, &topics, report).await;
    let value = serde_json::to_string(&Pending { hub: hub.to_string(), topics: left }).unwrap_or_default();
    if let Err(e) = store.set_pending_announcements(&value) {
        tracing::warn!("cannot record the feeds left to announce: {}", error_chain(&e));
    }
}

/// Pings `hub` for each topic in order; returns the topics to try again next run.
async fn ping_all(fetcher: &Fetcher, hub: &Url, topics: &[String], report: &mut RunReport) -> Vec<String> {
    for (i, topic) in topics.iter().enumerate() {
        match fetcher.ping_hub(hub, topic).await {
            Ok(attempts) => {
                tracing::debug!(%hub, topic, attempts, "hub told");
                report.hub_pings += 1;
            }
            Err(e) if refuses_this_topic_only(&e) => {
                report.warnings.push(format!("hub refused {topic}: {}", error_chain(&e)));
            }
            Err(e) => {
                let left = topics[i..].to_vec();
                report.warnings.push(format!(
                    "hub not told of {} changed feed{}, trying again next run: {}",
                    left.len(),
                    if left.len() == 1 { "" } else { "s" },
                    error_chain(&e)
                ));
                return left;
            }
        }
    }
    Vec::new()
}

/// A 4xx answer is about the request, that is the topic; anything else is about the hub.
fn refuses_this_topic_only(e: &FetchError) -> bool {
    matches!(e.kind(), FetchErrorKind::Status { status } if (400..500).contains(status) && !status_is_retryable(*status))
}
