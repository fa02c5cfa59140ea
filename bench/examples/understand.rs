//! Runs feedmill's decode → parse → normalize on one corpus feed in a loop, and nothing else: a target
//! for profilers, which the criterion bench (corpus generation, sanity checks, statistics) is not.
//!
//!     cargo build --release -p feedmill-bench --example understand
//!     valgrind --tool=callgrind target/release/examples/understand rss2 100 20
//!
//! Arguments: format name (as in the parse bench), entries (10, 100 or 1000), iterations, and optionally
//! the site number, whose remainder by 3 picks the language (0 Kazakh, 1 Russian, 2 English; the parse
//! bench uses site 0).

use feedmill_bench::{FeedSpec, Format, SIZES};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (format, entries, iterations, site) = match args.as_slice() {
        [format, entries, iterations] => (format, entries, iterations, 0),
        [format, entries, iterations, site] => (format, entries, iterations, site.parse()?),
        _ => anyhow::bail!("usage: understand FORMAT ENTRIES ITERATIONS [SITE]"),
    };
    let Some(format) = Format::ALL.into_iter().find(|f| f.name() == format) else {
        anyhow::bail!("unknown format {format}");
    };
    let entries: usize = entries.parse()?;
    let Some((_, html_bytes)) = SIZES.into_iter().find(|(n, _)| *n == entries) else {
        anyhow::bail!("entries must be one of {:?}", SIZES.map(|(n, _)| n));
    };
    let spec = FeedSpec::new(format, site, entries, html_bytes);
    let bytes = spec.generate();
    let mut read = 0;
    for _ in 0..iterations.parse::<usize>()? {
        read += feedmill_bench::understand(&spec, &bytes)?.normalized.candidates.len();
    }
    println!("{read} entries from {} bytes", bytes.len());
    Ok(())
}
