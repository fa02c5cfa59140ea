//! Merging across sources: the copies of one story, told by several sources, become one story.
//!
//! The merge works on [`Copy`]s — what it needs to know about an entry, without its text — so the store
//! can keep its result and a run only merges the entries it just met into the stories already kept
//! ([`Merger::seed`] them, then [`Merger::add`] the new copies). Copies are added in the order they were
//! first seen, then in config order, then in the order their feed listed them (the store's row order):
//! merging a store from scratch and merging it one run at a time give the same stories. [`assemble`] then builds a story's published entry from its copies' entries.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};

use super::near::{NearIndex, Signature};
use super::NearSettings;
use crate::config::DedupMode;
use crate::model::{Entry, Via};

/// What the merge knows of one entry.
#[derive(Debug, Clone)]
pub struct Copy {
    /// The source's position in the config.
    pub source: usize,
    pub id: String,
    pub first_seen: DateTime<Utc>,
    pub sort_date: DateTime<Utc>,
    /// Length of its content (else summary) HTML: how rich the copy is ([`text_size`]).
    pub size: usize,
    pub has_content: bool,
    keys: Vec<Key>,
    pub signature: Option<Signature>,
}

/// An exact key (layers 1 to 3), hashed: a merge of 500,000 entries holds 8 bytes per key, not the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    layer: Layer,
    hash: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Layer {
    Id,
    Url,
    Print,
}

impl Layer {
    /// The layer's name, for `explain`.
    fn name(self) -> &'static str {
        match self {
            Layer::Id => "id",
            Layer::Url => "canonical URL",
            Layer::Print => "content fingerprint",
        }
    }
}

fn key(layer: Layer, bytes: &[u8]) -> Key {
    // SipHash with fixed keys: 64 bits make a collision among a million keys a one-in-ten-million event.
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    Key { layer, hash: h.finish() }
}

impl Copy {
    /// `canonical_url` is `None` when the source shares it between several entries (a feed whose every
    /// link is its home page): such a URL identifies nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        source: usize,
        id: String,
        first_seen: DateTime<Utc>,
        sort_date: DateTime<Utc>,
        size: usize,
        has_content: bool,
        canonical_url: Option<&str>,
        fingerprint: Option<&[u8]>,
        signature: Option<Signature>,
    ) -> Copy {
        let mut keys = Vec::with_capacity(3);
        // A derived urn is only meaningful inside its source; an absolute URI id is global by design.
        if !id.starts_with("urn:feedmill:") {
            keys.push(key(Layer::Id, id.as_bytes()));
        }
        keys.extend(canonical_url.map(|u| key(Layer::Url, u.as_bytes())));
        keys.extend(fingerprint.map(|p| key(Layer::Print, p)));
        Copy { source, id, first_seen, sort_date, size, has_content, keys, signature }
    }

    /// The copy of an entry read from a feed or the store (`shared` is [`Copy::new`]'s rule).
    pub fn of_entry(source: usize, entry: &Entry, shared_url: bool, signature: Option<Signature>) -> Copy {
        let url = super::canonical_url(entry).filter(|_| !shared_url);
        let print = super::fingerprint(entry);
        Copy::new(
            source,
            entry.id.clone(),
            entry.first_seen,
            entry.sort_date(),
            text_size(entry),
            entry.content_html.is_some(),
            url.as_deref(),
            print.as_ref().map(|p| p.as_slice()),
            signature,
        )
    }
}

/// How rich an entry's text is: the length of its content HTML, else its summary's.
pub fn text_size(e: &Entry) -> usize {
    e.content_html.as_deref().or(e.summary_html.as_deref()).map_or(0, str::len)
}

/// One copy of a story.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub source: usize,
    pub id: String,
    /// How it joined the story; `None` for the copy that started it.
    pub joined: Option<Joined>,
}

/// How a copy joined a story, for `feedmill explain`.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The layer that matched: "id", "canonical URL", "content fingerprint" or "near-duplicate (…)".
    pub layer: String,
    /// The id of the story's published copy at that moment.
    pub head: String,
    /// What the copy changed: `None`, "published instead" (it replaced a copy first seen in the same run)
    /// or "text upgraded" (richer text, moved into the copy already published).
    pub effect: Option<String>,
}

/// One story: its copies in the order they joined, and which of them is published.
#[derive(Debug, Clone)]
pub struct Group {
    pub members: Vec<Member>,
    /// Index into `members` of the published copy.
    pub head: usize,
    /// The published copy's date, which orders stories in a feed.
    pub head_date: DateTime<Utc>,
    /// Changed by this merge (not only seeded): the store rewrites these.
    pub touched: bool,
}

impl Group {
    pub fn head(&self) -> &Member {
        &self.members[self.head]
    }
}

/// What deciding the published copy needs of a group, besides its members.
#[derive(Debug, Clone)]
struct Published {
    source: usize,
    first_seen: DateTime<Utc>,
    sort_date: DateTime<Utc>,
    size: usize,
    /// The published text, after upgrades from richer copies.
    text_size: usize,
    has_content: bool,
}

impl Published {
    fn of(copy: &Copy) -> Published {
        Published {
            source: copy.source,
            first_seen: copy.first_seen,
            sort_date: copy.sort_date,
            size: copy.size,
            text_size: copy.size,
            has_content: copy.has_content,
        }
    }
}

/// The merge in progress (see the module docs).
pub struct Merger {
    /// `None`: dedup is off and every copy is its own story.
    matching: Option<Option<NearSettings>>,
    groups: Vec<Group>,
    published: Vec<Published>,
    /// Per group, the sources among its members: a story takes one copy per source.
    sources: Vec<Vec<usize>>,
    by_key: HashMap<Key, usize>,
    index: NearIndex,
}

impl Merger {
    pub fn new(mode: &DedupMode) -> Merger {
        let matching = match mode {
            DedupMode::Off => None,
            DedupMode::Exact => Some(None),
            DedupMode::Near(settings) => Some(Some(*settings)),
        };
        Merger {
            matching,
            groups: Vec::new(),
            published: Vec::new(),
            sources: Vec::new(),
            by_key: HashMap::new(),
            index: NearIndex::new(),
        }
    }

    /// A story kept from earlier runs: its copies in the order they joined (each with its `Joined`) and
    /// the index of the published one. Its keys and signatures are indexed so new copies can join it.
    pub fn seed(&mut self, copies: Vec<(Copy, Option<Joined>)>, head: usize) {
        let Some(h) = copies.get(head).map(|(c, _)| c) else { return };
        let i = self.groups.len();
        self.published.push(Published::of(h));
        let head_date = h.sort_date;
        let mut members = Vec::with_capacity(copies.len());
        let mut sources = Vec::with_capacity(copies.len());
        for (n, (mut copy, joined)) in copies.into_iter().enumerate() {
            if n != head {
                // Upgrades already made are part of what the story publishes.
                self.upgrade(i, &copy);
            }
            self.index_copy(i, &mut copy);
            sources.push(copy.source);
            members.push(Member { source: copy.source, id: copy.id, joined });
        }
        self.sources.push(sources);
        self.groups.push(Group { members, head, head_date, touched: false });
    }

    /// Merges one new copy: it joins the first story it matches, or starts one. Copies must come in
    /// merge order: first seen, then config order, then row order.
    pub fn add(&mut self, mut copy: Copy) {
        let found = self.matching.and_then(|near| self.find(&copy, near.as_ref()));
        self.index_copy(found.as_ref().map_or(self.groups.len(), |(i, _)| *i), &mut copy);
        let Some((i, layer)) = found else {
            self.published.push(Published::of(&copy));
            self.sources.push(vec![copy.source]);
            self.groups.push(Group {
                members: vec![Member { source: copy.source, id: copy.id, joined: None }],
                head: 0,
                head_date: copy.sort_date,
                touched: true,
            });
            return;
        };
        let head = self.groups[i].head().id.clone();
        tracing::debug!(kept = %head, dropped = %copy.id, matched_by = %layer, "same story in two sources");
        let effect = if replaces(&copy, &self.published[i]) {
            self.published[i] = Published::of(&copy);
            let g = &mut self.groups[i];
            g.head = g.members.len();
            g.head_date = copy.sort_date;
            Some("published instead")
        } else {
            self.upgrade(i, &copy).then_some("text upgraded")
        };
        let g = &mut self.groups[i];
        g.touched = true;
        g.members.push(Member {
            source: copy.source,
            id: copy.id,
            joined: Some(Joined { layer, head, effect: effect.map(str::to_owned) }),
        });
        self.sources[i].push(copy.source);
    }

    /// The stories, in the order they were started.
    pub fn into_groups(self) -> Vec<Group> {
        self.groups
    }

    fn find(&self, copy: &Copy, near: Option<&NearSettings>) -> Option<(usize, String)> {
        let open = |i: usize| !self.sources[i].contains(&copy.source);
        let exact = copy
            .keys
            .iter()
            .find_map(|k| self.by_key.get(k).map(|i| (*i, k.layer.name().to_owned())))
            .filter(|(i, _)| open(*i));
        // Layer 4: the same story told with other words and links, from another source.
        exact.or_else(|| {
            let (settings, sig) = (near?, copy.signature.as_ref()?);
            // The best score, then the earliest story (as `NearIndex::candidates` orders them).
            self.index
                .duplicates(sig, copy.sort_date, settings.window, settings.threshold)
                .filter(|(i, _)| open(*i as usize))
                .max_by(|(ia, a), (ib, b)| a.score().total_cmp(&b.score()).then(ib.cmp(ia)))
                .map(|(i, c)| (i as usize, format!("near-duplicate ({c})")))
        })
    }

    /// Indexes the copy's keys, and moves its signature into the near index (the copy needs it no more).
    fn index_copy(&mut self, group: usize, copy: &mut Copy) {
        if self.matching.is_none() {
            return;
        }
        for k in &copy.keys {
            self.by_key.entry(*k).or_insert(group);
        }
        if let (Some(Some(_)), Some(sig)) = (self.matching, copy.signature.take()) {
            self.index.insert(group as u64, sig, copy.sort_date);
        }
    }

    /// [`upgrade_text`] on sizes: whether `copy`'s text would replace the group's published text.
    fn upgrade(&mut self, group: usize, copy: &Copy) -> bool {
        let p = &mut self.published[group];
        if richness(copy.size, p.text_size) != Some(true) || (!copy.has_content && p.has_content) {
            return false;
        }
        p.text_size = copy.size;
        p.has_content |= copy.has_content;
        true
    }
}

/// Whether `candidate` should replace the story's published copy. A copy published in an earlier run
/// wins outright, so an id readers have seen never changes; among copies first seen together, more text
/// wins, then the earlier date.
fn replaces(candidate: &Copy, kept: &Published) -> bool {
    if candidate.first_seen != kept.first_seen {
        return candidate.first_seen < kept.first_seen;
    }
    match richness(candidate.size, kept.size) {
        Some(richer) => richer,
        None => {
            candidate.sort_date < kept.sort_date
                || (candidate.sort_date == kept.sort_date && candidate.source < kept.source)
        }
    }
}

/// `Some(true)` when `a` is clearly more text than `b`, `Some(false)` when `b` is; `None` when they are
/// within 10% of each other (equally rich: the earlier one is the original).
fn richness(a: usize, b: usize) -> Option<bool> {
    if a > b + b / 10 {
        Some(true)
    } else if b > a + a / 10 {
        Some(false)
    } else {
        None
    }
}

/// One story as published: the entry kept, and every source that carried it.
#[derive(Debug, Clone)]
pub struct Story {
    pub entry: Entry,
    /// Indexes into the config's sources: the published copy's first, then the others in config order.
    pub sources: Vec<usize>,
    /// Every copy that joined the story, in the order they joined: for `feedmill explain`.
    pub matches: Vec<Matched>,
}

/// One copy that joined a story, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The copy's own id and source.
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    pub how: Joined,
}

/// A story's published entry from its copies (in the order they joined, each with its entry; `head` is
/// the published one's index): the head's entry with the richer text of later copies moved in (its id,
/// link and dates stay), and the other copies listed in `via`, in config order.
pub fn assemble(copies: Vec<(Member, Entry)>, head: usize) -> Option<Story> {
    let matches = copies
        .iter()
        .filter_map(|(m, e)| {
            let how = m.joined.clone()?;
            Some(Matched { id: m.id.clone(), source: e.source.clone(), url: e.url.clone(), how })
        })
        .collect();
    let mut others: Vec<(usize, Entry)> = copies.into_iter().map(|(m, e)| (m.source, e)).collect();
    if head >= others.len() {
        return None;
    }
    let (head_source, mut entry) = others.remove(head);
    for (_, copy) in &others {
        upgrade_text(&mut entry, copy);
    }
    others.sort_by_key(|(source, _)| *source);
    let mut sources = vec![head_source];
    sources.extend(others.iter().map(|(source, _)| *source));
    sources.dedup();
    entry.via = others.into_iter().map(|(_, e)| Via { source: e.source, url: e.url }).collect();
    Some(Story { entry, sources, matches })
}

/// Moves a later copy's richer text into the published copy; returns whether anything changed. A full
/// text beats a summary, so the published copy's summary is kept and the richer copy's full text becomes
/// its content.
fn upgrade_text(kept: &mut Entry, copy: &Entry) -> bool {
    if richness(text_size(copy), text_size(kept)) != Some(true) {
        return false;
    }
    match (&copy.content_html, &kept.content_html) {
        (Some(content), _) => kept.content_html = Some(content.clone()),
        (None, None) => kept.summary_html = copy.summary_html.clone(),
        // A longer summary does not replace a full text, however short.
        (None, Some(_)) => return false,
    }
    if kept.image.is_none() {
        kept.image = copy.image.clone();
    }
    true
}

/// An entry on its way into [`merge`], with its near-duplicate signature when the store kept one
/// (computed from the entry otherwise).
#[derive(Debug, Clone)]
pub struct Signed {
    pub entry: Entry,
    pub signature: Option<Signature>,
}

impl From<Entry> for Signed {
    fn from(entry: Entry) -> Signed {
        Signed { entry, signature: None }
    }
}

/// Merges entries held in memory, all at once (`explain`, and the tests): `per_source` pairs each
/// source's config index with its entries. Returns the stories in the order they were started and, per
/// input position, how many of that source's entries were folded into another source's story.
pub fn merge<E: Into<Signed>>(per_source: Vec<(usize, Vec<E>)>, mode: &DedupMode) -> (Vec<Story>, Vec<usize>) {
    let mut entries: Vec<Option<Entry>> = Vec::new();
    let mut copies: Vec<(usize, Copy)> = Vec::new();
    let mut position: HashMap<usize, usize> = HashMap::new();
    for (pos, (source, list)) in per_source.into_iter().enumerate() {
        position.insert(source, pos);
        let list: Vec<Signed> = list.into_iter().map(Into::into).collect();
        let shared = super::urls_used_more_than_once(list.iter().map(|s| &s.entry));
        for Signed { entry, signature } in list {
            let is_shared = super::canonical_url(&entry).is_some_and(|u| shared.contains_key(&u));
            let signature = match mode {
                DedupMode::Near(_) => Some(signature.unwrap_or_else(|| Signature::of_entry(&entry))),
                _ => None,
            };
            copies.push((entries.len(), Copy::of_entry(source, &entry, is_shared, signature)));
            entries.push(Some(entry));
        }
    }
    // Stable: within one first-seen time and one source, the order the entries came in.
    copies.sort_by_key(|(_, c)| (c.first_seen, position.get(&c.source).copied().unwrap_or(usize::MAX)));
    // Two entries of one source may share an id only in hand-made input; each member takes the first
    // entry left under its (source, id).
    let mut by_id: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    let mut merger = Merger::new(mode);
    for (n, copy) in copies {
        by_id.entry((copy.source, copy.id.clone())).or_default().push(n);
        merger.add(copy);
    }
    let mut folded = vec![0; position.len()];
    let mut stories = Vec::new();
    for group in merger.into_groups() {
        let mut copies = Vec::with_capacity(group.members.len());
        for (n, m) in group.members.iter().enumerate() {
            if n != group.head {
                if let Some(&pos) = position.get(&m.source) {
                    folded[pos] += 1;
                }
            }
            let taken = by_id.get(&(m.source, m.id.clone())).and_then(|ns| ns.iter().find_map(|&k| entries[k].take()));
            copies.extend(taken.map(|e| (m.clone(), e)));
        }
        stories.extend(assemble(copies, group.head));
    }
    (stories, folded)
}
