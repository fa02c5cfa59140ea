//! Writes N corpus feeds (50 entries each, formats in turn, as the refresh benchmark serves them) as
//! files plus a `feeds.toml` reading them, into a folder: a `feedmill run` to profile without a server.
//! A second run on unchanged files takes the same path as an all-304 refresh (identical bodies are not
//! parsed again). `--revise` then rewrites every 100th feed with one more post: the 1%-changed refresh.
//! `--revise K` rewrites them with K more posts, so successive 1%-changed runs each meet new entries.
//!
//!     cargo run --release -p feedmill-bench --example corpus_dir -- /tmp/corpus 1000
//!     perf record -g target/release/feedmill run --config /tmp/corpus/feeds.toml
//!     cargo run --release -p feedmill-bench --example corpus_dir -- /tmp/corpus 1000 --revise

use std::fmt::Write as _;

use feedmill_bench::{FeedSpec, Format, TYPICAL_HTML_BYTES};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, sources, posts) = match args.as_slice() {
        [dir, sources] => (dir, sources, 0),
        [dir, sources, flag] if flag == "--revise" => (dir, sources, 1),
        [dir, sources, flag, k] if flag == "--revise" => (dir, sources, k.parse()?),
        _ => anyhow::bail!("usage: corpus_dir FOLDER SOURCES [--revise [K]]"),
    };
    let revise = posts > 0;
    let dir = std::path::Path::new(dir);
    let sources: u64 = sources.parse()?;
    std::fs::create_dir_all(dir.join("feeds"))?;
    let mut config = String::from("[output]\ndir = \"out\"\nmax_items = 100\n\n");
    for i in 0..sources {
        let format = Format::ALL[i as usize % Format::ALL.len()];
        let spec = FeedSpec::new(format, i, 50, TYPICAL_HTML_BYTES);
        let file = format!("feeds/{i}.feed");
        if revise && i % 100 != 0 {
            continue;
        }
        let bytes = (0..posts).fold(spec, |spec, _| spec.next_revision()).generate();
        std::fs::File::create(dir.join(&file)).and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))?;
        if revise {
            continue;
        }
        let _ = writeln!(config, "[[sources]]\nname = \"s{i}\"\nurl = \"{file}\"\ncategories = [\"c{:02}\"]\n", i % 20);
    }
    if revise {
        return Ok(());
    }
    std::fs::File::create(dir.join("feeds.toml"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, config.as_bytes()))?;
    Ok(())
}
