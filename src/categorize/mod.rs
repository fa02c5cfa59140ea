//! Categorize: stories → one ordered, capped list of entries per output feed.
//!
//! Every story goes to `all`, to each category of every source that carried it (a story merged from
//! a `kz-news` source and a `ru-news` source appears once in each), and to every category one of whose
//! `[[categories.X.rules]]` it matches. Order is total and deterministic —
//! newest first by [`Entry::sort_date`], then by id — so identical input gives byte-identical files.

pub mod rules;

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::config::{Category, Source, ALL};
use crate::dedup::Story;
use crate::model::Entry;

/// Entries per category slug, `all` included, each sorted and cut to `max_items`. A story is in the
/// categories of its sources, and in every category one of whose rules it matches.
pub fn categorize(
    stories: &[Story],
    sources: &[Source],
    categories: &[Category],
    max_items: usize,
) -> BTreeMap<String, Vec<Entry>> {
    let mut feeds: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    feeds.insert(ALL.to_owned(), Vec::new());
    for c in categories {
        feeds.insert(c.slug.clone(), Vec::new());
    }
    for story in stories {
        let mut slugs: Vec<&str> = vec![ALL];
        let mut source_categories: Vec<String> = Vec::new();
        for &s in &story.sources {
            if let Some(source) = sources.get(s) {
                slugs.extend(source.categories.iter().map(String::as_str));
                source_categories.extend(source.categories.iter().cloned());
            }
        }
        for c in categories {
            if c.rules.iter().any(|r| r.matches(&story.entry, &source_categories)) {
                slugs.push(&c.slug);
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
