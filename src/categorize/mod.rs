//! Categorize: stories → one ordered, capped list per output feed.
//!
//! Every story goes to `all`, to each category of every source that carried it (a story merged from
//! a `kz-news` source and a `ru-news` source appears once in each), and to every category one of whose
//! `[[categories.X.rules]]` it matches. Stories are offered newest first — by [`Entry::sort_date`], then
//! by id, the order the store walks them in — and each feed keeps the first `max_items` it is offered:
//! identical input gives byte-identical files, and a build stops reading stories once every feed is full.

pub mod rules;

use std::collections::BTreeMap;

use crate::dedup::DedupMode;
use crate::model::Entry;
use rules::CompiledRule;

/// The name of the category every entry belongs to.
pub const ALL: &str = "all";

/// A category of the output: its feeds' metadata, the rules that add entries to it, and how its stories
/// are merged. Declared in `[categories.<slug>]`, or met in a source's `categories` (then with defaults).
#[derive(Debug, Clone)]
pub struct Category {
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    /// Entries matching any of these join the category, whatever their source.
    pub rules: Vec<CompiledRule>,
    /// How stories are merged in this category's feeds: `[dedup]`, unless the category sets its own.
    pub dedup: DedupMode,
}

impl PartialEq for Category {
    fn eq(&self, other: &Self) -> bool {
        let names = |c: &Category| c.rules.iter().map(|r| r.name().to_owned()).collect::<Vec<_>>();
        (&self.slug, &self.title, &self.description, names(self), self.dedup)
            == (&other.slug, &other.title, &other.description, names(other), other.dedup)
    }
}

/// A configured source as categorize sees it: the categories its stories go to.
pub trait Categorized {
    fn categories(&self) -> &[String];
}

/// The feeds being filled, each with the stories (`H`, however the caller names them) it has taken.
pub struct Feeds<'a, H> {
    /// Each configured source's categories, in config order.
    sources: Vec<&'a [String]>,
    categories: &'a [Category],
    max_items: usize,
    lists: BTreeMap<String, Vec<H>>,
}

impl<'a, H: Clone> Feeds<'a, H> {
    /// Empty feeds for `slugs` (`all` and category slugs).
    pub fn new<'s>(
        slugs: impl IntoIterator<Item = &'s str>,
        sources: &'a [impl Categorized],
        categories: &'a [Category],
        max_items: usize,
    ) -> Feeds<'a, H> {
        let lists = slugs.into_iter().map(|s| (s.to_owned(), Vec::new())).collect();
        let sources = sources.iter().map(Categorized::categories).collect();
        Feeds { sources, categories, max_items, lists }
    }

    /// Whether placing the next story needs its published entry: a feed with rules still has room.
    pub fn needs_entry(&self) -> bool {
        self.open().any(|slug| category(self.categories, slug).is_some_and(|c| !c.rules.is_empty()))
    }

    /// Whether every feed has taken `max_items` stories.
    pub fn full(&self) -> bool {
        self.open().next().is_none()
    }

    /// Offers the next story (older than every story offered before): `story_sources` are the config
    /// indexes of the sources that carried it, `entry` its published entry when [`needs_entry`](Self::needs_entry).
    pub fn offer(&mut self, story: &H, story_sources: &[usize], entry: Option<&Entry>) {
        let sources: Vec<&[String]> = story_sources.iter().filter_map(|&i| self.sources.get(i).copied()).collect();
        let mut source_categories: Option<Vec<String>> = None;
        for (slug, list) in &mut self.lists {
            if list.len() >= self.max_items {
                continue;
            }
            let category = category(self.categories, slug);
            let wanted = slug == ALL
                || sources.iter().any(|s| s.contains(slug))
                || match (category, entry) {
                    (Some(c), Some(entry)) if !c.rules.is_empty() => {
                        let cats = source_categories
                            .get_or_insert_with(|| sources.iter().flat_map(|s| s.iter().cloned()).collect());
                        c.rules.iter().any(|r| r.matches(entry, cats))
                    }
                    _ => false,
                };
            if wanted {
                list.push(story.clone());
            }
        }
    }

    /// Each feed's stories, newest first.
    pub fn into_lists(self) -> BTreeMap<String, Vec<H>> {
        self.lists
    }

    fn open(&self) -> impl Iterator<Item = &str> {
        self.lists.iter().filter(|(_, l)| l.len() < self.max_items).map(|(s, _)| s.as_str())
    }
}

fn category<'c>(categories: &'c [Category], slug: &str) -> Option<&'c Category> {
    categories.iter().find(|c| c.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> Config {
        let toml = r#"
            [output]
            max_items = 2

            [[sources]]
            name = "kz"
            url = "https://kz.example/rss"
            categories = ["news"]

            [[sources]]
            name = "ru"
            url = "https://ru.example/rss"
            categories = ["ru"]

            [categories.news]
            [categories.ru]
            [categories.sport]
            [[categories.sport.rules]]
            include = { title = "футбол" }
        "#;
        Config::parse(toml, "feeds.toml", std::path::Path::new("/srv/feeds")).unwrap()
    }

    fn entry(title: &str) -> Entry {
        serde_json::from_value(serde_json::json!({
            "id": title, "source": "kz", "url": null, "title": title, "summary_html": null,
            "content_html": null, "authors": [], "categories": [], "published": null, "updated": null,
            "first_seen": "2024-11-23T10:00:00Z", "language": null, "enclosures": [], "image": null, "via": []
        }))
        .unwrap()
    }

    #[test]
    fn each_feed_takes_the_newest_stories_offered_until_it_is_full() {
        let config = config();
        let mut feeds: Feeds<&str> = Feeds::new(["all", "news", "ru", "sport"], &config.sources, &config.categories, 2);
        // Stories, newest first: (name, sources that carried it, title).
        let offered = [
            ("s1", vec![0], "Футбол: Қайрат жеңді"),
            ("s2", vec![0, 1], "Сайлау нәтижелері"),
            ("s3", vec![1], "Погода в Алматы"),
            ("s4", vec![1], "Футбол: итоги тура"),
            ("s5", vec![0], "Ескі жаңалық"),
        ];
        let mut taken = 0;
        for (name, sources, title) in &offered {
            if feeds.full() {
                break;
            }
            let entry = feeds.needs_entry().then(|| entry(title));
            feeds.offer(name, sources, entry.as_ref());
            taken += 1;
        }
        assert_eq!(taken, 4, "every feed is full after s4: s5 is never read");
        let lists = feeds.into_lists();
        assert_eq!(lists["all"], ["s1", "s2"]);
        assert_eq!(lists["news"], ["s1", "s2"], "s2 is in both of its sources' categories");
        assert_eq!(lists["ru"], ["s2", "s3"]);
        assert_eq!(lists["sport"], ["s1", "s4"], "by rule, on the story's title");
    }

    #[test]
    fn a_full_set_of_feeds_needs_no_more_stories_and_no_text() {
        let config = config();
        let mut feeds: Feeds<u32> = Feeds::new(["all", "sport"], &config.sources, &config.categories, 1);
        assert!(feeds.needs_entry(), "sport has rules and room");
        feeds.offer(&1, &[0], Some(&entry("Футбол")));
        assert!(feeds.full());
        assert!(!feeds.needs_entry());
    }
}
