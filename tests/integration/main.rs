//! Integration tests: the real `feedmill` binary against fixture feeds served from 127.0.0.1.
//!
//! One test binary (fast to link, one place to look); modules group the tests by concern.

#![allow(clippy::unwrap_used)]
// Tests write their fixture files directly; the guardrail is about feedmill's own output files.
#![allow(clippy::disallowed_methods)]

#[path = "../../src/emit/strict.rs"]
mod strict;
#[path = "../../src/fetch/test_server.rs"]
mod test_server;
mod util;

mod browser;
mod cli;
mod crash;
mod differential;
mod encodings;
mod exact;
mod failures;
mod filters;
mod formats;
mod history;
mod http;
mod identity;
mod import;
mod lock;
mod migrate;
mod outputs;
mod pg;
mod properties;
mod publisher;
mod round_trip;
mod secrets;
mod serve;
mod sitemaps;
mod sites;
mod watch;
mod websub;
mod workers;
mod xss;
