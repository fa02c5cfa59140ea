use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::dedup::NearSettings;
use crate::store::postgres::testing::{backends, Tested};
use crate::store::{EntriesUpdate, SourceState, SourceUpdate};

const SOURCES: [&str; 4] = ["abai", "qazaq", "tengri", "zakon"];

fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 23, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
}

/// Story `k`'s words: Kazakh-looking, distinct per story.
fn words(k: u64, n: usize) -> Vec<String> {
    const SYLLABLES: [&str; 10] = ["ба", "қа", "ла", "ма", "на", "са", "та", "жа", "ға", "ра"];
    (0..n as u64)
        .map(|i| {
            let x = k * 1009 + i * 7 + 1;
            format!(
                "{}{}{}",
                SYLLABLES[(x % 10) as usize],
                SYLLABLES[(x / 10 % 10) as usize],
                SYLLABLES[(x / 100 % 10) as usize]
            )
        })
        .collect()
}

/// A small xorshift: the runs are random but the same every time.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Source `s`'s copy of story `k`, told one of several ways: the wire's id, the origin's link, the
/// same text, a reworded text, a richer text.
fn copy_of(rng: &mut Rng, s: usize, k: u64, run: i64) -> Entry {
    let mut body = words(k, 30);
    if rng.below(3) == 0 {
        body[3] = "өзгерді".into();
    }
    let rich = rng.below(4) == 0;
    let text = format!(
        "<p>{}</p>{}",
        body.join(" "),
        if rich {
            "<p>толығырақ мәтін осында жазылған</p>".repeat(5)
        } else {
            String::new()
        }
    );
    Entry {
        id: match rng.below(3) {
            0 => format!("https://wire.kz/{k}"),
            1 => format!("urn:feedmill:{}:{k}", SOURCES[s]),
            _ => format!("https://{}.kz/{k}", SOURCES[s]),
        },
        source: SOURCES[s].into(),
        url: Some(if rng.below(2) == 0 {
            format!("https://origin.kz/story/{k}?utm_source={}", SOURCES[s])
        } else {
            format!("https://{}.kz/news/{k}", SOURCES[s])
        }),
        title: words(k + 1000, 6).join(" "),
        summary_html: None,
        content_html: Some(text),
        authors: vec![],
        categories: vec![],
        published: Some(at(k as i64 * 5 + rng.below(3) as i64)),
        updated: None,
        first_seen: at(run),
        language: Some("kk".into()),
        enclosures: vec![],
        image: None,
        via: vec![],
    }
}

/// (source, id)
type Key = (String, String);

/// Every mode's stories: (mode, published copy, every copy in joining order).
fn snapshot(store: &dyn Tested) -> BTreeSet<(String, Key, Vec<Key>)> {
    // One text per row (no id here holds a tab), so both backends read it alike.
    let rows = store.texts(
        "SELECT mode || '\t' || head_source || '\t' || head_id || '\t' || source || '\t' || id FROM story_members
         ORDER BY mode, head_source, head_id, seq",
    );
    let mut groups: BTreeMap<(String, Key), Vec<Key>> = BTreeMap::new();
    for row in rows {
        let [mode, head_source, head_id, source, id] =
            <[String; 5]>::try_from(row.split('\t').map(str::to_owned).collect::<Vec<_>>()).expect("five columns");
        groups.entry((mode, (head_source, head_id))).or_default().push((source, id));
    }
    groups.into_iter().map(|((mode, head), members)| (mode, head, members)).collect()
}

fn record(store: &mut dyn Tested, run: i64, per_source: Vec<Vec<Entry>>) {
    record_as(store, run, &SOURCES, per_source);
}

/// `per_source[i]` is the feed of source `names[i]`.
fn record_as(store: &mut dyn Tested, run: i64, names: &[&str], per_source: Vec<Vec<Entry>>) {
    let updates: Vec<SourceUpdate> = per_source
        .into_iter()
        .enumerate()
        .map(|(s, entries)| SourceUpdate {
            name: names[s].into(),
            configured_url: format!("https://{}.kz/rss", names[s]),
            state: SourceState::default(),
            entries: EntriesUpdate::Parsed(entries.into_iter().map(crate::dedup::Listed::from).collect()),
            filtered: None,
        })
        .collect();
    store.record(at(run), &updates).unwrap();
}

#[test]
fn merging_run_by_run_gives_the_stories_merging_from_scratch_gives() {
    let modes = [DedupMode::Exact, DedupMode::Near(NearSettings::default())];
    for seed in 1..=12u64 {
        // Each backend merges the same runs into the same stories.
        let mut first: Option<BTreeSet<(String, Key, Vec<Key>)>> = None;
        for (backend, mut store) in backends() {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut feeds: Vec<Vec<Entry>> = vec![Vec::new(); SOURCES.len()];
            for run in 0..6 {
                // Each run, each source adds a copy of one of the stories told so far or a new one.
                for (s, feed) in feeds.iter_mut().enumerate() {
                    if rng.below(4) == 0 {
                        continue;
                    }
                    let k = rng.below(run as u64 * 2 + 2);
                    let copy = copy_of(&mut rng, s, k, run);
                    if !feed.iter().any(|e: &Entry| e.id == copy.id || e.url == copy.url) {
                        feed.insert(0, copy);
                    }
                }
                record(&mut *store, run, feeds.clone());
                store.update_stories(&modes, &SOURCES).unwrap();
            }
            let run_by_run = snapshot(&*store);
            let entries = store.entries(&SOURCES).unwrap().len();
            for mode in &modes {
                let groups = run_by_run.iter().filter(|g| g.0 == mode.key()).count();
                assert!(
                    groups < entries,
                    "seed {seed}, {mode}: some copies were merged ({groups} stories of {entries})"
                );
                let copies: usize = run_by_run.iter().filter(|g| g.0 == mode.key()).map(|g| g.2.len()).sum();
                assert_eq!(copies, entries, "seed {seed}, {mode}: every entry is in exactly one story");
            }

            store.exec("DELETE FROM meta WHERE key LIKE 'stories:%'", &[]);
            store.update_stories(&modes, &SOURCES).unwrap();
            assert_eq!(snapshot(&*store), run_by_run, "seed {seed}, {backend}");
            match &first {
                None => first = Some(run_by_run),
                Some(first) => assert_eq!(&run_by_run, first, "seed {seed}: {backend} merged otherwise"),
            }
        }
    }
}

#[test]
fn a_crowded_band_merges_run_by_run_as_from_scratch() {
    // 36 sources retelling three stock stories with light edits: band buckets hold far more than
    // `near::MAX_BUCKET` stored entries, so a run's look-up must keep each bucket's newest.
    let names: Vec<String> = (0..36).map(|i| format!("site{i}")).collect();
    let sources: Vec<&str> = names.iter().map(String::as_str).collect();
    let modes = [DedupMode::Near(NearSettings::default())];
    for (backend, mut store) in backends() {
        let mut rng = Rng(0x5eed_cafe);
        let mut feeds: Vec<Vec<Entry>> = vec![Vec::new(); names.len()];
        for run in 0..4 {
            for (s, feed) in feeds.iter_mut().enumerate() {
                for n in 0..3 {
                    let opening = rng.below(3);
                    let text: Vec<String> = (0..14)
                        .map(|k| {
                            if rng.below(12) == 0 {
                                words(rng.below(30), 1).remove(0)
                            } else {
                                words(opening * 20 + k, 1).remove(0)
                            }
                        })
                        .collect();
                    let k = run * 3 + n;
                    feed.insert(
                        0,
                        Entry {
                            id: format!("https://{}.kz/{k}", names[s]),
                            source: names[s].clone(),
                            url: Some(format!("https://{}.kz/news/{k}", names[s])),
                            title: text[..5].join(" "),
                            summary_html: None,
                            // A last word of its own: past the lede, but no two entries of a source share
                            // a fingerprint (the store would take them for one entry, re-dated).
                            content_html: Some(format!(
                                "<p>{} {}</p>",
                                text.join(" "),
                                words(1000 + s as u64 * 100 + k, 1)[0]
                            )),
                            authors: vec![],
                            categories: vec![],
                            published: Some(at(run as i64 * 3 + rng.below(3) as i64)),
                            updated: None,
                            first_seen: at(run as i64),
                            language: Some("kk".into()),
                            enclosures: vec![],
                            image: None,
                            via: vec![],
                        },
                    );
                }
            }
            record_as(&mut *store, run as i64, &sources, feeds.clone());
            store.update_stories(&modes, &sources).unwrap();
        }
        let mut crowded: HashMap<u64, usize> = HashMap::new();
        for bands in store.bytes("SELECT bands FROM entries") {
            for k in near::band_keys_of_bytes(&bands) {
                *crowded.entry(k).or_default() += 1;
            }
        }
        let fullest = crowded.values().max().copied().unwrap_or(0);
        assert!(fullest > 2 * near::MAX_BUCKET, "{backend}: the fullest band holds only {fullest} entries");
        let run_by_run = snapshot(&*store);
        assert!(run_by_run.iter().any(|g| g.2.len() > 3), "{backend}: some stories gather many copies");

        store.exec("DELETE FROM meta WHERE key LIKE 'stories:%'", &[]);
        store.update_stories(&modes, &sources).unwrap();
        assert_eq!(snapshot(&*store), run_by_run, "{backend}");
    }
}

#[test]
fn a_purged_published_copy_hands_its_story_to_the_next_copy() {
    // `Stories` takes closures, so no trait object: each backend by its type.
    purged_head("sqlite", &mut Store::in_memory().unwrap());
    if let Some(mut pg) = crate::store::postgres::testing::fresh() {
        purged_head("postgres", &mut pg);
    }
}

fn purged_head<S: Stories + Tested>(backend: &str, store: &mut S) {
    let mode = DedupMode::Exact;
    let mut rng = Rng(7);
    let mut first = copy_of(&mut rng, 0, 1, 0);
    first.url = Some("https://origin.kz/story/1".into());
    record(store, 0, vec![vec![first.clone()], vec![], vec![], vec![]]);
    store.update_stories(&[mode], &SOURCES).unwrap();
    let mut second = copy_of(&mut rng, 1, 1, 1);
    second.url = first.url.clone();
    record(store, 1, vec![vec![], vec![second.clone()], vec![], vec![]]);
    store.update_stories(&[mode], &SOURCES).unwrap();
    assert_eq!(store.folded(&mode).unwrap().get("qazaq"), Some(&1), "{backend}");

    // abai's copy leaves its feed and is purged; qazaq's still listed.
    record(store, 2, vec![vec![], vec![second.clone()], vec![], vec![]]);
    store.purge(at(2), at(3)).unwrap();
    store.update_stories(&[mode], &SOURCES).unwrap();
    let head = StoryHead { source: "qazaq".into(), id: second.id.clone() };
    let positions: HashMap<&str, usize> = SOURCES.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let story = store.story(&mode, &head, &positions).unwrap().expect("qazaq's copy publishes the story");
    assert_eq!(story.copies.len(), 1, "{backend}");
    assert_eq!(story.copies[0].0.joined, None, "{backend}");
    assert!(store.folded(&mode).unwrap().is_empty(), "{backend}");
    let mut walked = Vec::new();
    store
        .stories_newest_first(&mode, |h, sources| {
            walked.push((h.clone(), sources.to_vec()));
            Ok(true)
        })
        .unwrap();
    assert_eq!(walked, vec![(head, vec!["qazaq".to_owned()])], "{backend}");
}

#[test]
fn stories_are_merged_again_when_the_sources_or_the_mode_change() {
    for (backend, mut store) in backends() {
        let mut rng = Rng(11);
        let a = copy_of(&mut rng, 0, 1, 0);
        let mut b = copy_of(&mut rng, 1, 1, 0);
        b.id = a.id.replace("abai", "qazaq");
        b.url = a.url.clone();
        record(&mut *store, 0, vec![vec![a], vec![b], vec![], vec![]]);
        assert_eq!(store.update_stories(&[DedupMode::Exact], &SOURCES).unwrap(), 2);
        assert_eq!(store.update_stories(&[DedupMode::Exact], &SOURCES).unwrap(), 0, "nothing new");
        // qazaq now comes first: its copy publishes the story (same first-seen time, config order).
        let reordered = ["qazaq", "abai", "tengri", "zakon"];
        assert_eq!(store.update_stories(&[DedupMode::Exact], &reordered).unwrap(), 2);
        let heads: Vec<String> = snapshot(&*store).into_iter().map(|g| g.1 .0).collect();
        assert_eq!(heads, ["qazaq"], "{backend}");
        // Off is its own mode; exact's stories are dropped while unused.
        assert_eq!(store.update_stories(&[DedupMode::Off], &reordered).unwrap(), 2);
        let groups = snapshot(&*store);
        assert_eq!(groups.len(), 2, "{backend}");
        assert!(groups.iter().all(|g| g.0 == "off" && g.2.len() == 1), "{backend}");
    }
}
