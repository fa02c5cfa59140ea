//! The step "select": decides whether the output folder needs building at all, and if so reads each
//! feed's newest stories, assembled and cut to `max_items`, for the step "write".

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::stories::modes_in_use;
use super::{RunError, RunOptions};
use crate::categorize::Feeds;
use crate::config::{Config, ALL};
use crate::dedup;
use crate::emit;
use crate::error::error_chain;
use crate::model::Entry;
use crate::report::{RunReport, SourceReport};
use crate::store::{Entries, Health, Outputs, SourceState, SourceStates, StoreError, StoredStory, Stories, StoryHead};

/// What the step "write" builds, and how to record that it did.
pub(super) struct Build {
    /// Where to write; the store records `build_key` for it once the files are in place.
    pub out_dir: PathBuf,
    /// What the folder will hold ([`build_key`]).
    pub build_key: String,
    /// Each source's state, for `index.html` and the OPML.
    pub states: HashMap<String, SourceState>,
    /// Each feed's entries, newest first ([`feeds`]).
    pub feeds: BTreeMap<String, Vec<Entry>>,
}

/// The build to write, or `None` when nothing is to be written: the folder already holds what the store
/// and the config would produce (`outputs_current`), or nothing could be read and nothing is stored.
/// Counts, per source, the entries folded into other sources' stories.
pub(super) fn select<S: SourceStates + Entries + Stories + Outputs>(
    config: &Config,
    store: &S,
    opts: &RunOptions,
    report: &mut RunReport,
) -> Result<Option<Build>, RunError> {
    // Outputs are a function of the stored entries and the config: when neither changed since the last
    // build into this folder, there is nothing to render and nothing to compare.
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| config.output.dir.clone());
    let health = store.health()?;
    let build_key = build_key(config, &out_dir, store.content_version()?, &health);
    if store.built(&out_dir)?.as_deref() == Some(build_key.as_str()) && out_dir.join("index.html").is_file() {
        report.outputs_current = true;
        return Ok(None);
    }

    let states = store.sources()?;
    // Counted where every source meets every other: in `all`, merged by `[dedup]`.
    let folded = store.folded(&config.dedup)?;
    for row in &mut report.sources {
        row.duplicates += folded.get(&row.name).copied().unwrap_or(0);
    }
    let per_source: HashMap<&str, usize> =
        config.sources.iter().map(|s| (s.name.as_str(), folded.get(&s.name).copied().unwrap_or(0))).collect();
    if let Err(e) = store.set_last_folded(&per_source) {
        tracing::warn!("cannot record the entries folded into stories: {}", error_chain(&e));
    }
    let feeds = feeds(config, store)?;
    if feeds.get(ALL).is_none_or(Vec::is_empty) && report.sources.iter().all(SourceReport::failed) {
        // Writing now would replace whatever was published with empty feeds.
        tracing::error!("no source could be read and nothing is stored; outputs left as they were");
        return Ok(None);
    }
    tracing::debug!("{} feeds' stories read", feeds.len());
    Ok(Some(Build { out_dir, build_key, states, feeds }))
}

/// Each feed's entries (`all` and every category), newest first and cut to `max_items`. Per dedup mode,
/// the kept stories are walked newest first until the feeds using that mode are full; only the stories
/// chosen are read and assembled, so a build holds `max_items` stories per feed, whatever the store holds.
pub fn feeds(config: &Config, store: &impl Stories) -> Result<BTreeMap<String, Vec<Entry>>, StoreError> {
    let positions: HashMap<&str, usize> =
        config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let mut out = BTreeMap::new();
    for mode in modes_in_use(config) {
        let slugs = std::iter::once(ALL)
            .filter(|_| config.dedup == mode)
            .chain(config.categories.iter().filter(|c| c.dedup == mode).map(|c| c.slug.as_str()));
        let mut chosen: Feeds<StoryHead> =
            Feeds::new(slugs, &config.sources, &config.categories, config.output.max_items);
        // Each story chosen is read and assembled once, however many feeds show it.
        let mut assembled: HashMap<StoryHead, Option<Entry>> = HashMap::new();
        let mut published = |head: &StoryHead| -> Result<Option<Entry>, StoreError> {
            if let Some(entry) = assembled.get(head) {
                return Ok(entry.clone());
            }
            let entry = published_entry(store.story(&mode, head, &positions)?);
            assembled.insert(head.clone(), entry.clone());
            Ok(entry)
        };
        store.stories_newest_first(&mode, |head, sources| {
            let sources: Vec<usize> = sources.iter().filter_map(|s| positions.get(s.as_str()).copied()).collect();
            // Rules match what the story publishes: its text as upgraded by richer copies.
            let entry = if chosen.needs_entry() { published(head)? } else { None };
            chosen.offer(head, &sources, entry.as_ref());
            Ok(!chosen.full())
        })?;
        let lists = chosen.into_lists();
        // The stories chosen and not read during the walk, read together.
        let mut unread: Vec<&StoryHead> = lists.values().flatten().collect();
        unread.sort();
        unread.dedup();
        unread.retain(|head| !assembled.contains_key(*head));
        for (head, story) in unread.iter().zip(store.stories(&mode, &unread, &positions)?) {
            assembled.insert((*head).clone(), published_entry(story));
        }
        for (slug, heads) in lists {
            let entries = heads.iter().filter_map(|head| assembled.get(head).cloned().flatten()).collect();
            out.insert(slug, entries);
        }
    }
    Ok(out)
}

/// Identifies what an output folder holds: the config parts that shape outputs, the folder, the store's
/// content version and feedmill's version.
/// The entry a stored story publishes: its copies assembled, richer ones upgrading the head's text.
fn published_entry(story: Option<StoredStory>) -> Option<Entry> {
    story.and_then(|StoredStory { copies, head }| dedup::assemble(copies, head)).map(|s| s.entry)
}

fn build_key(config: &Config, out_dir: &Path, content_version: u64, health: &HashMap<String, Health>) -> String {
    let sources: Vec<_> =
        config.sources.iter().map(|s| (&s.name, &s.url, &s.categories, &s.title, s.publish_url)).collect();
    // index.html shows each source's health. Only what it shows counts, and the last success by its day:
    // with the time of day, every fetch would rebuild every output.
    // As a tuple, so the key is the one states built before `Health` was a struct already hold.
    let health: Vec<_> =
        config.sources.iter().map(|s| health.get(&s.name).map(|h| (h.failing, &h.error, h.last_success_day))).collect();
    let described = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{content_version}|{health:?}|{}",
        config.output,
        config.dedup,
        config.categories,
        sources,
        out_dir.display(),
        emit::GENERATOR
    );
    let digest = Sha256::digest(described.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::pipeline::Steps as _;
    use crate::store::{EntriesUpdate, SourceUpdate, Store};

    fn entry(source: &str, id: &str, content: &str, first_seen: DateTime<Utc>) -> Entry {
        serde_json::from_value(serde_json::json!({
            "id": id, "source": source, "url": "https://origin.kz/news/aitys", "title": "Байбек айтыс туралы",
            "summary_html": null, "content_html": content, "authors": [], "categories": [],
            "published": "2019-07-11T06:20:00Z", "updated": null, "first_seen": first_seen,
            "language": "kk", "enclosures": [], "image": null, "via": []
        }))
        .unwrap()
    }

    fn update(source: &str, entries: Vec<Entry>) -> SourceUpdate {
        SourceUpdate {
            name: source.into(),
            configured_url: format!("https://{source}.kz/rss"),
            state: SourceState::default(),
            entries: EntriesUpdate::Parsed(entries.into_iter().map(dedup::Listed::from).collect()),
            filtered: None,
        }
    }

    #[test]
    fn rules_match_the_text_a_richer_copy_brought_to_the_published_one() {
        let toml = r#"
            [categories.aitys]
            [[categories.aitys.rules]]
            include = { content = "айтыскер*" }

            [[sources]]
            name = "abai"
            url = "https://abai.kz/rss"

            [[sources]]
            name = "qazaq"
            url = "https://qazaq.kz/rss"
        "#;
        let config = Config::parse(toml, "feeds.toml", Path::new("/srv/feeds")).unwrap();
        let names = ["abai", "qazaq"];
        let (first, later) = (
            Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 11, 23, 11, 0, 0).unwrap(),
        );
        let mut store = Store::in_memory().unwrap();
        store
            .record(first, &[update("abai", vec![entry("abai", "https://abai.kz/1", "<p>Қысқа хабар.</p>", first)])])
            .unwrap();
        store.update_stories(&modes_in_use(&config), &names).unwrap();
        assert!(feeds(&config, &store).unwrap()["aitys"].is_empty());

        let rich = "<p>Қысқа хабар. Облыстық айтыскерлер Қызылордада бас қосып, айтыс өнерін қайта жандандыру жолдарын талқылады.</p>";
        store.record(later, &[update("qazaq", vec![entry("qazaq", "https://qazaq.kz/1", rich, later)])]).unwrap();
        store.update_stories(&modes_in_use(&config), &names).unwrap();
        let feeds = feeds(&config, &store).unwrap();
        let shown = &feeds["aitys"];
        assert_eq!(shown.len(), 1, "{feeds:#?}");
        assert_eq!(shown[0].id, "https://abai.kz/1", "abai's copy stays published");
        assert_eq!(shown[0].content_html.as_deref(), Some(rich), "with qazaq's text");
        assert_eq!(feeds[ALL].len(), 1);
    }
}
