//! The step "merge stories": the new entries join the kept stories, once per dedup mode in use. Also
//! the same merge from scratch and in memory, for `feedmill explain`.

use std::collections::HashMap;

use super::RunError;
use crate::config::{Config, DedupMode};
use crate::dedup;
use crate::report::Merged;
use crate::store::{Entries, Record, SourceStates, StoreError};

/// Merges the entries recorded since the last merge into the kept stories, sources taken in the order
/// the store first met them, so a tie goes to the same copy whatever the config's order.
pub(super) fn merge_stories(config: &Config, store: &mut (impl Record + SourceStates)) -> Result<(), RunError> {
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let first_met = store.first_met_order(&names)?;
    let merged = update_stories(store, &modes_in_use(config), &first_met)?;
    tracing::debug!("{merged} entries merged into stories");
    Ok(())
}

/// Brings the kept stories of every mode in `modes` up to date with the stored entries of `sources`
/// (in the order they were first met, [`SourceStates::first_met_order`]), in one write: dedup merges
/// (`dedup::stories::update`) over the stories the store lends. Returns how many entries were merged.
pub(crate) fn update_stories(
    store: &mut impl Record,
    modes: &[DedupMode],
    sources: &[&str],
) -> Result<usize, StoreError> {
    store.merge_stories(|stories| dedup::stories::update(stories, modes, sources))
}

/// The dedup modes in use: `[dedup]`'s (for `all`), then each other one a category sets.
pub(super) fn modes_in_use(config: &Config) -> Vec<DedupMode> {
    let mut modes = vec![config.dedup];
    for c in &config.categories {
        if !modes.contains(&c.dedup) {
            modes.push(c.dedup);
        }
    }
    modes
}

/// Every stored entry of the configured sources, merged into stories once per dedup mode in use (first
/// by `[dedup]`), from scratch: what the kept stories hold, with every copy's entry, to explain them.
pub fn stories(config: &Config, store: &(impl SourceStates + Entries)) -> Result<Vec<Merged>, StoreError> {
    let position: HashMap<&str, usize> = config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    // Merged in the order the run's merge uses (`merge_stories`), so ties pick the copy it published;
    // the stories then name their sources by config position.
    let first_met = store.first_met_order(&names)?;
    let rank: HashMap<&str, usize> = first_met.iter().enumerate().map(|(r, name)| (*name, r)).collect();
    let config_position: Vec<usize> = first_met.iter().map(|name| position.get(name).copied().unwrap_or(0)).collect();
    let mut per_source: Vec<(usize, Vec<dedup::Signed>)> = (0..first_met.len()).map(|r| (r, Vec::new())).collect();
    for s in store.entries(&names)? {
        if let Some(&r) = rank.get(s.entry.source.as_str()) {
            per_source[r].1.push(dedup::Signed { entry: s.entry, signature: s.signature });
        }
    }
    let in_config_order = |mut stories: Vec<dedup::Story>| {
        for story in &mut stories {
            for s in &mut story.sources {
                *s = config_position.get(*s).copied().unwrap_or(*s);
            }
            if let Some(others) = story.sources.get_mut(1..) {
                others.sort_unstable();
            }
        }
        stories
    };
    let modes = modes_in_use(config);
    let last = modes.len() - 1;
    Ok(modes
        .into_iter()
        .enumerate()
        .map(|(n, mode)| {
            // The last mode takes the entries; the others merge a copy.
            let input = if n == last { std::mem::take(&mut per_source) } else { per_source.clone() };
            Merged { mode, stories: in_config_order(dedup::merge(input, &mode).0) }
        })
        .collect())
}
