//! Categorize: stories → one ordered, capped list of entries per output feed.
//!
//! Every story goes to `all` and to each category of every source that carried it (a story merged from
//! a `kz-news` source and a `ru-news` source appears once in each). Order is total and deterministic —
//! newest first by [`Entry::sort_date`], then by id — so identical input gives byte-identical files.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::config::{Source, ALL};
use crate::dedup::Story;
use crate::model::Entry;

/// Entries per category slug, `all` included, each sorted and cut to `max_items`.
pub fn categorize(
    stories: &[Story],
    sources: &[Source],
    slugs: &[&str],
    max_items: usize,
) -> BTreeMap<String, Vec<Entry>> {
    let mut feeds: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    feeds.insert(ALL.to_owned(), Vec::new());
    for slug in slugs {
        feeds.insert((*slug).to_owned(), Vec::new());
    }
    for story in stories {
        let mut slugs: Vec<&str> = vec![ALL];
        for &s in &story.sources {
            if let Some(source) = sources.get(s) {
                slugs.extend(source.categories.iter().map(String::as_str));
            }
        }
        slugs.sort_unstable();
        slugs.dedup();
        for slug in slugs {
            if let Some(list) = feeds.get_mut(slug) {
                list.push(&story.entry);
            }
        }
    }
    feeds
        .into_iter()
        .map(|(slug, mut entries)| {
            entries.sort_by(|a, b| (Reverse(a.sort_date()), &a.id).cmp(&(Reverse(b.sort_date()), &b.id)));
            entries.truncate(max_items);
            (slug, entries.into_iter().cloned().collect())
        })
        .collect()
}
