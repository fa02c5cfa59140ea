//! Near-duplicate detection at scale (issue #7): 100,000 stored entries, then 1,000 new ones, each
//! queried against the LSH index and inserted, as `feedmill run` does when it merges a build. The
//! baseline, measured in the same run, is what the index saves: the same queries as a scan comparing
//! every stored signature. Figures are medians of `ROUNDS` rounds.
//!
//! `cargo bench -p feedmill-bench --bench near`

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use feedmill::dedup::near::{compare, NearIndex, Signature, DEFAULT_THRESHOLD};

const STORED: usize = 100_000;
const NEW: usize = 1_000;
/// Queries timed for the linear-scan baseline (a full scan per query is slow; 100 are plenty).
const SCANNED: usize = 100;
const ROUNDS: usize = 3;

fn main() {
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().expect("valid date");
    let mut texts = synthetic_texts(STORED + NEW, 42);
    // Every tenth new entry is a stored story with one word of its lede changed: it must be found.
    let mut planted = Vec::new();
    for i in (STORED..STORED + NEW).step_by(10) {
        let original = (i * 97) % STORED;
        let mut copy = texts[original].clone();
        copy[6] = "edited".to_owned();
        texts[i] = copy;
        planted.push((i, original));
    }
    let texts: Vec<String> = texts.into_iter().map(|words| words.join(" ")).collect();

    let mut sign = Vec::new();
    let mut read = Vec::new();
    let mut build = Vec::new();
    let mut add = Vec::new();
    let mut scan = Vec::new();
    let (mut candidates, mut hits, mut others, mut stored_bytes) = (0, 0, 0, 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let sigs: Vec<Signature> = texts.iter().map(|t| Signature::new("", t, "", Some("kk"))).collect();
        sign.push(t.elapsed());

        // What a build does instead of signing: read the stored bytes back.
        let bytes: Vec<Vec<u8>> = sigs[..STORED].iter().map(Signature::to_bytes).collect();
        stored_bytes = bytes.iter().map(Vec::len).sum::<usize>();
        let t = Instant::now();
        let stored: Vec<Signature> = bytes.iter().map(|b| Signature::from_bytes(b).expect("just written")).collect();
        read.push(t.elapsed());

        // Every stored entry inside the window: the worst case (a real 72 h window holds a few days).
        let window = Duration::days(365);
        let t = Instant::now();
        let mut index = NearIndex::new();
        for (i, sig) in stored.into_iter().enumerate() {
            index.insert(i as u64, sig, start + Duration::seconds(i as i64));
        }
        build.push(t.elapsed());

        let t = Instant::now();
        let mut found = HashMap::new();
        candidates = 0;
        for (i, sig) in sigs.iter().enumerate().skip(STORED) {
            let at = start + Duration::seconds(i as i64);
            let all: Vec<_> = index.candidates(sig, at, window).collect();
            candidates += all.len();
            if let Some((id, _)) = all.into_iter().find(|(_, c)| c.is_duplicate(DEFAULT_THRESHOLD)) {
                found.insert(i, id as usize);
            }
            index.insert(i as u64, sig.clone(), at);
        }
        add.push(t.elapsed());
        hits = planted.iter().filter(|(i, original)| found.get(i) == Some(original)).count();
        others = found.len() - hits;

        let t = Instant::now();
        let matched: usize = sigs[STORED..STORED + SCANNED]
            .iter()
            .map(|q| sigs[..STORED].iter().filter(|s| compare(q, s).is_duplicate(DEFAULT_THRESHOLD)).count())
            .sum();
        std::hint::black_box(matched);
        scan.push(t.elapsed());
    }

    let ms = |d: StdDuration, n: usize| d.as_secs_f64() * 1000.0 / n as f64;
    let (add_ms, scan_ms) = (ms(median(&mut add), NEW), ms(median(&mut scan), SCANNED));
    println!("near index: {STORED} stored + {NEW} new synthetic entries, all inside one window; median of {ROUNDS}");
    println!("  signature from text     {:.4} ms/entry", ms(median(&mut sign), STORED + NEW));
    println!(
        "  signature from store    {:.4} ms/entry ({:.0} bytes/entry)",
        ms(median(&mut read), STORED),
        stored_bytes as f64 / STORED as f64
    );
    println!("  index build             {:.4} ms/entry", ms(median(&mut build), STORED));
    println!("  query + insert          {add_ms:.4} ms/entry ({:.1} candidates/query)", candidates as f64 / NEW as f64);
    println!("  baseline: linear scan   {scan_ms:.4} ms/entry");
    println!("  ratio index/scan        {:.5} ({:.0}x faster)", add_ms / scan_ms, scan_ms / add_ms);
    println!("  planted copies found    {hits}/{}; other matches {others}", planted.len());
}

fn median(v: &mut [StdDuration]) -> StdDuration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Synthetic news: 60-word texts drawn from a Zipf vocabulary of 50,000 words (the commonest about 6%
/// of all words, as in real text), so unrelated entries share common word pairs the way real ones do; a
/// uniform vocabulary would make the index look better than it is.
fn synthetic_texts(count: usize, seed: u64) -> Vec<Vec<String>> {
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let ln_vocabulary = 50_000f64.ln();
    (0..count)
        .map(|_| {
            (0..60)
                .map(|_| {
                    let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
                    format!("w{}", (u * ln_vocabulary).exp() as u64)
                })
                .collect()
        })
        .collect()
}
