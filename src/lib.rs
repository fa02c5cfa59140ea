//! feedmill: a feed aggregator and generator.
//!
//! ```text
//! feeds.toml ─▶ config ─▶ fetch ─▶ decode ─▶ parse ─▶ normalize ─▶ filter ─▶ dedup ─▶ categorize ─▶ emit ─▶ output/
//! ```
//!
//! Each stage is a module named after it; [`pipeline`] runs them in order and [`report`] turns what
//! happened into a summary and an exit status. Stages take data in and hand data out: the clock reaches
//! them as an argument, and only `emit::write` writes files. [`serve`] puts the output folder on HTTP.

pub mod categorize;
pub mod config;
mod cores;
pub mod decode;
pub mod dedup;
pub mod emit;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod filter;
pub mod import;
pub mod init;
pub mod model;
pub mod normalize;
pub mod parse;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod store;
