//! The soak's server (`refresh serve`): the refresh corpus on the loopback server for as long as a
//! long-running `feedmill watch` is measured against it, with a share of the feeds gaining a post at a
//! steady pace.
//!
//! It writes `feeds.toml` (the bench's config: the same sources, categories and concurrency) into the
//! given folder, then `addr` with the server's address once it listens, and from then on, every
//! `--change-every` seconds, gives `--percent` of the feeds one more post. The feeds that change rotate
//! (tick `k` changes the feeds whose index is `k` modulo `100 / percent`), so every feed gains posts over
//! the run and the store keeps growing at a real feed's pace rather than churning one category. It
//! prints a line per tick with the server's counters, and stops on SIGTERM/SIGINT (the default action).
//! `--change-every 0` never changes a feed and `--delay-ms` delays every answer: `bench/workers.sh`
//! serves its latency-bound corpus this way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context as _};
use clap::Args as ClapArgs;

use crate::server::{self, Doc, Site};

#[derive(Debug, ClapArgs)]
pub struct Serve {
    /// Folder for `feeds.toml` (its `out/` and `.feedmill/` are feedmill's) and `addr`.
    pub dir: PathBuf,
    /// Feeds to serve (each source is one feed).
    #[arg(long, default_value_t = 1000)]
    pub sources: u64,
    /// Entries per feed.
    #[arg(long, default_value_t = 50)]
    pub entries: usize,
    /// `concurrency` of the generated config (and its `per_host`, unless `--per-host` is given).
    #[arg(long, default_value_t = 64)]
    pub concurrency: u64,
    /// `per_host` of the generated config [default: `--concurrency`].
    #[arg(long)]
    pub per_host: Option<u64>,
    /// Seconds between two rounds of new posts; 0: the feeds never change.
    #[arg(long, default_value_t = 20)]
    pub change_every: u64,
    /// Milliseconds the server waits before every answer.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Loopback addresses to serve from (127.0.0.1, 127.0.0.2, …), the sources spread over them in
    /// turn: as many hosts to a per-host limit.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=250))]
    pub hosts: u8,
    /// Percent of the feeds that gain a post each round (a divisor of 100).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub percent: u64,
}

pub fn serve(args: &Serve) -> anyhow::Result<()> {
    ensure!(100 % args.percent == 0, "--percent must divide 100");
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let delay = Duration::from_millis(args.delay_ms);
    let site = Arc::new(Site::with_delay(crate::generate(args.sources, args.entries), delay));
    let docs = site.docs();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let addrs = runtime.block_on(async {
        let mut addrs = Vec::new();
        for host in 1..=args.hosts {
            addrs.push(server::listen_on(Arc::clone(&site), std::net::Ipv4Addr::new(127, 0, 0, host)).await?);
        }
        Ok::<_, std::io::Error>(addrs)
    })?;
    let bases: Vec<String> = addrs.iter().map(|addr| format!("http://{addr}")).collect();
    let per_host = args.per_host.unwrap_or(args.concurrency);
    crate::write(&args.dir.join("feeds.toml"), &crate::feeds_toml(&bases, &docs, args.concurrency, per_host))?;
    // Written last: the harness waits for it, so the config is complete once it exists. Every address
    // serves every feed and the same counters.
    crate::write(&args.dir.join("addr"), &format!("{}\n", addrs[0]))?;
    eprintln!("serving {} feeds on {}", docs.len(), bases.join(", "));

    if args.change_every == 0 {
        loop {
            std::thread::park();
        }
    }
    let groups = 100 / args.percent;
    let mut before = site.served();
    for tick in 0u64.. {
        std::thread::sleep(Duration::from_secs(args.change_every));
        let group = tick % groups;
        let mut changed = 0;
        for (i, doc) in site.docs().iter().enumerate().filter(|(i, _)| *i as u64 % groups == group) {
            site.replace(i, Doc::new(doc.spec.next_revision(), doc.is_gzipped()));
            changed += 1;
        }
        let now = site.served();
        let s = now - before;
        before = now;
        eprintln!(
            "tick {tick}: {changed} feeds gained a post; since the last tick {} requests, {} full, {} not modified",
            s.requests, s.full, s.not_modified
        );
    }
    Ok(())
}
