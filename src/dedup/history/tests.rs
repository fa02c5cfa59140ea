//! `reconcile` against a backend kept in memory: the decisions, without SQLite.

use chrono::TimeZone;

use super::*;

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 23, h, 0, 0).unwrap()
}

fn entry(id: &str, url: &str, title: &str) -> Entry {
    Entry {
        id: id.into(),
        source: "abai".into(),
        url: Some(url.into()),
        title: title.into(),
        summary_html: Some("<p>Бауыржан Байбек Қызылорда облысына барды.</p>".into()),
        content_html: None,
        authors: vec![],
        categories: vec![],
        published: Some(at(1)),
        updated: None,
        first_seen: at(0),
        language: None,
        enclosures: vec![],
        image: None,
        via: vec![],
    }
}

/// What a backend would hold, and what reconciling asked of it.
#[derive(Default)]
struct Memory {
    kept: Vec<Kept>,
    purged_ids: Vec<String>,
    rewritten: Vec<(i64, String, bool)>,
    added: Vec<Entry>,
    unlisted: Vec<i64>,
}

impl Memory {
    fn keep(&mut self, e: &Entry) {
        let print = super::super::fingerprint(e).map(|p| p.to_vec());
        self.kept.push(Kept {
            handle: self.kept.len() as i64,
            id: e.id.clone(),
            url: super::super::canonical_url(e),
            print,
            first_seen: e.first_seen,
            encoded: serde_json::to_string(e).unwrap(),
            sort_date: Some(e.sort_date()),
            in_feed: true,
            digest: None,
        });
    }
}

impl SourceEntries for Memory {
    type Error = serde_json::Error;
    fn kept(&mut self) -> Result<Vec<Kept>, Self::Error> {
        Ok(self.kept.clone())
    }
    fn purged(&mut self, id: &str, _: Option<&str>, _: Option<&[u8; 32]>) -> Result<bool, Self::Error> {
        Ok(self.purged_ids.iter().any(|p| p == id))
    }
    fn encode(&self, entry: &Entry) -> Result<String, Self::Error> {
        serde_json::to_string(entry)
    }
    fn decode(&self, encoded: &str) -> Option<Entry> {
        serde_json::from_str(encoded).ok()
    }
    fn rewrite(&mut self, k: &Kept, e: &Entry, _: &str, _: &Keys, s: Option<Packed>) -> Result<(), Self::Error> {
        self.rewritten.push((k.handle, e.id.clone(), s.is_some()));
        Ok(())
    }
    fn add(&mut self, entry: Entry, _: String, _: Keys, _: Option<Packed>) -> Result<(), Self::Error> {
        self.added.push(entry);
        Ok(())
    }
    fn unlist(&mut self, kept: &Kept) -> Result<(), Self::Error> {
        self.unlisted.push(kept.handle);
        Ok(())
    }
}

#[test]
fn the_id_then_the_link_then_the_fingerprint_find_the_kept_entry() {
    let mut store = Memory::default();
    let by_id = entry("https://abai.kz/1", "https://abai.kz/news/1", "Бірінші жаңалық туралы");
    let by_link = entry("https://abai.kz/2", "https://abai.kz/news/2", "Екінші жаңалық туралы");
    let by_print = entry("https://abai.kz/3", "https://abai.kz/news/3", "Үшінші жаңалық туралы");
    let gone = entry("https://abai.kz/4", "https://abai.kz/news/4", "Төртінші жаңалық туралы");
    for e in [&by_id, &by_link, &by_print, &gone] {
        store.keep(e);
    }
    store.purged_ids.push("https://abai.kz/5".into());

    let mut edited = by_id.clone();
    edited.title = "Бірінші жаңалық, түзетілген".into();
    let mut moved = by_link.clone();
    moved.id = "urn:other-scheme:2".into();
    moved.url = Some("https://www.abai.kz/news/2?utm_source=tg".into());
    let mut relinked = by_print.clone();
    relinked.id = "urn:other-scheme:3".into();
    relinked.url = Some("https://abai.kz/amp/3".into());
    let purged = entry("https://abai.kz/5", "https://abai.kz/news/5", "Бесінші жаңалық туралы");
    let new = entry("https://abai.kz/6", "https://abai.kz/news/6", "Алтыншы жаңалық туралы");
    let listed = [edited, moved, relinked, purged, new].into_iter().map(Listed::from).collect();

    let r = reconcile(&mut store, listed, at(5) + chrono::Duration::milliseconds(300)).unwrap();
    assert_eq!(r, Reconciled { new: 0, updated: 3, unchanged: 0, tombstoned: 1 });
    // Each match keeps the kept id, whatever key found it; an edit is signed again.
    let ids: Vec<(i64, &str, bool)> = store.rewritten.iter().map(|(h, id, s)| (*h, id.as_str(), *s)).collect();
    assert_eq!(ids, [(0, "https://abai.kz/1", true), (1, "https://abai.kz/2", true), (2, "https://abai.kz/3", true)]);
    assert_eq!(store.added.len(), 1);
    assert_eq!(store.added[0].id, "https://abai.kz/6");
    assert_eq!(store.added[0].first_seen, at(5), "first seen to the second");
    assert_eq!(store.unlisted, [3]);
}

#[test]
fn an_unchanged_entry_still_listed_is_not_written_and_a_kept_entry_is_claimed_once() {
    let mut store = Memory::default();
    let a = entry("https://abai.kz/1", "https://abai.kz/news/1", "Бірінші жаңалық туралы");
    store.keep(&a);
    // The same entry twice under two ids: the second finds the kept one by link, already claimed.
    let mut twin = a.clone();
    twin.id = "https://abai.kz/1-copy".into();
    let r = reconcile(&mut store, vec![Listed::from(a), Listed::from(twin)], at(5)).unwrap();
    assert_eq!(r, Reconciled { new: 0, updated: 0, unchanged: 1, tombstoned: 0 });
    assert!(store.rewritten.is_empty());
    assert_eq!(store.added.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["https://abai.kz/1-copy"]);
    assert!(store.unlisted.is_empty());
}
