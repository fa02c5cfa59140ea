//! Emit micro benchmark: one 10,000-entry category written as RSS 2.0, Atom 1.0 and JSON Feed 1.1.
//!
//! The entries are the refresh benchmark's: 200 generated sources × 50 entries (all six corpus formats),
//! understood and identified exactly as `feedmill run` does, then sorted newest first. The table at the
//! end gives the median per format against the target (under 150 ms each).
//!
//!     cargo bench -p feedmill-bench --bench emit

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use feedmill::emit::{self, FeedDoc, FeedUrls};
use feedmill::model::Entry;
use feedmill_bench::{criterion_dir, Estimates, FeedSpec, Format, TYPICAL_HTML_BYTES};

const SOURCES: u64 = 200;
const ENTRIES_PER_SOURCE: usize = 50;
const GROUP: &str = "emit-10000";

type Render = fn(&FeedDoc) -> String;
const RENDERERS: [(&str, Render); 3] =
    [("rss", emit::rss::render), ("atom", emit::atom::render), ("json-feed", emit::json_feed::render)];

fn main() {
    let started = SystemTime::now();
    let dir = criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).warm_up_time(Duration::from_secs(1)).configure_from_args();

    let entries = category();
    let urls = FeedUrls {
        rss: "https://feeds.example.org/kz-news/rss.xml".into(),
        atom: "https://feeds.example.org/kz-news/atom.xml".into(),
        json: "https://feeds.example.org/kz-news/feed.json".into(),
    };
    let doc = FeedDoc {
        slug: "kz-news",
        title: "Kazakh news",
        description: Some("Қазақ тіліндегі жаңалықтар"),
        home_url: Some("https://feeds.example.org/"),
        urls: Some(&urls),
        hub: None,
        language: None,
        updated: entries.iter().map(Entry::last_modified).max().unwrap_or_default(),
        id: &urls.atom,
        entries: &entries,
        sources: None,
    };

    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(entries.len() as u64)).sampling_mode(SamplingMode::Flat).sample_size(10);
    for (name, render) in RENDERERS {
        group.bench_function(name, |b| b.iter(|| render(black_box(&doc))));
    }
    group.finish();
    c.final_summary();

    let estimates = Estimates::new(&dir, started);
    println!(
        "\nemit, {} entries, one thread, criterion medians of this run (target: under 150 ms per format)",
        entries.len()
    );
    for (name, render) in RENDERERS {
        if let Some(t) = estimates.median(GROUP, name) {
            let size = render(&doc).len() as f64 / 1e6;
            println!(
                "{name:<10} {:>7.1} ms  {size:>6.1} MB  {:>6.0} MB/s",
                t.as_secs_f64() * 1e3,
                size / t.as_secs_f64()
            );
        }
    }
}

/// 10,000 entries as the pipeline hands them to emit: normalized, identified, newest first.
fn category() -> Vec<Entry> {
    let mut entries = Vec::new();
    for site in 0..SOURCES {
        let format = Format::ALL[site as usize % Format::ALL.len()];
        let spec = FeedSpec::new(format, site, ENTRIES_PER_SOURCE, TYPICAL_HTML_BYTES);
        let understood = feedmill_bench::understand(&spec, &spec.generate()).expect("feedmill reads the corpus");
        let identified = feedmill::dedup::identify(&format!("site{site}"), understood.normalized.candidates);
        entries.extend(identified.entries.into_iter().map(|l| l.entry));
    }
    entries.sort_by(|a, b| b.sort_date().cmp(&a.sort_date()).then_with(|| a.id.cmp(&b.id)));
    entries
}
