//! Merging across sources: the copies of one story, told by several sources, become one story.
//!
//! The merge works on [`StoryCopy`]s — what it needs to know about an entry, without its text — so the store
//! can keep its result and a run only merges the entries it just met into the stories already kept
//! ([`Merger::seed`] them, then [`Merger::add`] the new copies). Copies are added in the order they were
//! first seen, then in their sources' order (for the kept stories, the order the sources were first
//! met in: `store::SourceStates::first_met_order`), then in the order their feed listed them (the store's row
//! order): merging a store from scratch and merging it one run at a time give the same stories. For that, a
//! run's near layer sees the stored copies a merge from scratch would reach, in its order
//! ([`Merger::index_stored`]), not the seeded stories' copies. One exception is left: a run looks only
//! at stored copies dated within the window of a new one, while a crowded band's newest
//! [`MAX_BUCKET`](super::near::MAX_BUCKET) in a merge from scratch may include copies dated outside
//! it. [`assemble`] then builds a story's published entry from its copies' entries.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};

use super::near::{Comparison, NearIndex, PlannedDuplicates, PlannedIndex, Signature};
use super::DedupMode;
use super::NearSettings;
use crate::model::{Entry, Via};

/// What the merge knows of one entry.
#[derive(Debug, Clone)]
pub struct StoryCopy {
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

impl StoryCopy {
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
    ) -> StoryCopy {
        let mut keys = Vec::with_capacity(3);
        // A derived urn is only meaningful inside its source; an absolute URI id is global by design.
        if !id.starts_with("urn:feedmill:") {
            keys.push(key(Layer::Id, id.as_bytes()));
        }
        keys.extend(canonical_url.map(|u| key(Layer::Url, u.as_bytes())));
        keys.extend(fingerprint.map(|p| key(Layer::Print, p)));
        StoryCopy { source, id, first_seen, sort_date, size, has_content, keys, signature }
    }

    /// The copy of an entry read from a feed or the store (`shared` is [`StoryCopy::new`]'s rule).
    pub fn of_entry(source: usize, entry: &Entry, shared_url: bool, signature: Option<Signature>) -> StoryCopy {
        let url = super::canonical_url(entry).filter(|_| !shared_url);
        let print = super::fingerprint(entry);
        StoryCopy::new(
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

/// A stored copy as the near layer sees it ([`Merger::index_stored`]).
#[derive(Debug, Clone)]
pub struct NearCopy {
    /// Its source's position in the config.
    pub source: usize,
    pub id: String,
    pub signature: Signature,
    /// The date it sorts by, which the near layer's window is measured from.
    pub sort_date: DateTime<Utc>,
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
    /// The layer that matched: "id", "canonical URL", "content fingerprint", "near-duplicate (…)" or
    /// "same headline (…)".
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
    fn of(copy: &StoryCopy) -> Published {
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

/// "No copy": the end of a group's list.
const NONE: u32 = u32::MAX;

/// A copy the merge has met, numbered in the order it came (seeded or added). A merge from scratch
/// holds one per stored entry, so it is kept small: the id lives in [`Merger::ids`], the members of a
/// group are a list through `next`, and a join is a few numbers until [`Merger::into_groups`] spells it
/// out. Numbers and id offsets are `u32`: a merge holds far fewer than four billion copies, or 4 GB of
/// ids, before it runs out of memory.
#[derive(Debug, Clone)]
struct Met {
    source: u32,
    group: u32,
    /// The group's next member, or `NONE`.
    next: u32,
    /// Where the id ends in `Merger::ids` (it starts where the previous one ends).
    id_end: u32,
    how: How,
}

#[derive(Debug, Clone, Copy)]
enum How {
    /// Started its story.
    Started,
    /// Seeded with a story kept from earlier runs, having joined it then: its `Joined` is in
    /// `Merger::seeded`.
    Seeded,
    /// Joined in this merge: by which layer (near: `shared` of `of` word pairs, and whether the
    /// headlines are the same), the published copy at that moment, and the effect.
    Joined { layer: Matching, head: u32, effect: Effect },
}

#[derive(Debug, Clone, Copy)]
enum Matching {
    Exact(Layer),
    Near { shared: u8, of: u8, headline: bool },
}

#[derive(Debug, Clone, Copy)]
enum Effect {
    None,
    PublishedInstead,
    TextUpgraded,
}

/// A story being merged: its list of copies, its published copy and what deciding it needs.
#[derive(Debug, Clone)]
struct Building {
    first: u32,
    last: u32,
    head: u32,
    published: Published,
    touched: bool,
}

/// Where the near layer looks for candidates: an index filled as copies come, or one planned from
/// every copy before the merge ([`Plan`]).
enum Near {
    Growing(NearIndex),
    Planned(PlannedDuplicates),
}

/// The merge in progress (see the module docs).
pub struct Merger {
    /// `None`: dedup is off and every copy is its own story.
    matching: Option<Option<NearSettings>>,
    met: Vec<Met>,
    /// Every met copy's id, end to end.
    ids: String,
    /// How seeded copies joined their stories, as the store kept it.
    seeded: HashMap<u32, Joined>,
    groups: Vec<Building>,
    by_key: HashMap<Key, u32>,
    /// `Some` when planned: only these keys can match, the others are not indexed.
    shared_keys: Option<HashSet<Key>>,
    near: Near,
}

/// What a merge from scratch learns from a first pass over every copy: the exact keys and the band tags
/// that two or more copies share. Only those can ever match, so the merge indexes only those
/// ([`Merger::planned`]); at 10,000 sources that is a tenth of the tags and almost none of the keys.
pub struct Plan {
    keys: Vec<Key>,
    /// With their dates, in seconds.
    signatures: Vec<Option<(Signature, i64)>>,
}

impl Plan {
    /// A plan for `copies` copies.
    pub fn new(copies: usize) -> Plan {
        Plan { keys: Vec::new(), signatures: vec![None; copies] }
    }

    /// The copy that will be `slot`-th in merge order (copies may come in any order).
    pub fn add(&mut self, slot: usize, copy: StoryCopy) {
        self.keys.extend_from_slice(&copy.keys);
        if let (Some(place), Some(sig)) = (self.signatures.get_mut(slot), copy.signature) {
            *place = Some((sig, copy.sort_date.timestamp()));
        }
    }
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
            met: Vec::new(),
            ids: String::new(),
            seeded: HashMap::new(),
            groups: Vec::new(),
            by_key: HashMap::new(),
            shared_keys: None,
            near: Near::Growing(NearIndex::new()),
        }
    }

    /// A merge of the planned copies from scratch: they must then be [`add`](Self::add)ed in the plan's
    /// slot order, with or without their signatures (the plan holds them), and nothing seeded.
    pub fn planned(mode: &DedupMode, plan: Plan) -> Merger {
        let mut keys = plan.keys;
        keys.sort_unstable_by_key(|k| (k.hash, k.layer as u8));
        let shared = keys.chunk_by(|a, b| a == b).filter(|run| run.len() > 1).map(|run| run[0]).collect();
        drop(keys);
        let slots = plan.signatures.len();
        let near = match mode {
            DedupMode::Near(settings) => {
                Near::Planned(PlannedIndex::new(plan.signatures).into_duplicates(settings.window, settings.threshold))
            }
            _ => Near::Growing(NearIndex::new()),
        };
        let mut merger = Merger { shared_keys: Some(shared), near, ..Merger::new(mode) };
        merger.met.reserve_exact(slots);
        merger.groups.reserve_exact(slots);
        merger
    }

    /// A story kept from earlier runs: its copies in the order they joined (each with its `Joined`) and
    /// the index of the published one. Its keys and signatures are indexed so new copies can join it.
    pub fn seed(&mut self, copies: Vec<(StoryCopy, Option<Joined>)>, head: usize) {
        let Some(h) = copies.get(head).map(|(c, _)| c) else { return };
        let i = self.groups.len() as u32;
        let first = self.met.len() as u32;
        self.groups.push(Building {
            first,
            last: first,
            head: first + head as u32,
            published: Published::of(h),
            touched: false,
        });
        for (n, (copy, joined)) in copies.into_iter().enumerate() {
            if n != head {
                // Upgrades already made are part of what the story publishes.
                self.upgrade(i, &copy);
            }
            let how = match joined {
                Some(j) => {
                    self.seeded.insert(self.met.len() as u32, j);
                    How::Seeded
                }
                None => How::Started,
            };
            self.meet(i, copy, how);
        }
    }

    /// Stored copies the near layer must see before the new copies are added, in merge order: of a run's merge, the stored copies sharing a band with a new
    /// one, the newest `MAX_BUCKET` per band, as a merge from scratch would meet them. Each counts for
    /// the seeded story holding it; one in no seeded story only holds its place in its bands (it is no
    /// new copy's near-duplicate, or its story would have been seeded).
    pub fn index_stored(&mut self, stored: Vec<NearCopy>) {
        let (Some(Some(_)), Near::Growing(index)) = (self.matching, &mut self.near) else { return };
        let groups: HashMap<(u32, &str), u32> = (0..self.met.len() as u32)
            .map(|n| ((self.met[n as usize].source, id_of(&self.met, &self.ids, n)), self.met[n as usize].group))
            .collect();
        for NearCopy { source, id, signature: sig, sort_date: at } in stored {
            let group = groups.get(&(source as u32, id.as_str())).copied().unwrap_or(NONE);
            index.insert(u64::from(group), sig, at);
        }
    }

    /// Merges one new copy: it joins the first story it matches, or starts one. Copies must come in
    /// merge order: first seen, then config order, then row order.
    pub fn add(&mut self, copy: StoryCopy) {
        let found = self.matching.and_then(|near| self.find(&copy, near.as_ref()));
        let Some((i, layer)) = found else {
            let n = self.met.len() as u32;
            let i = self.groups.len() as u32;
            self.groups.push(Building { first: n, last: n, head: n, published: Published::of(&copy), touched: true });
            self.meet(i, copy, How::Started);
            return;
        };
        let n = self.met.len() as u32;
        let g = &self.groups[i as usize];
        let head = g.head;
        tracing::debug!(kept = %id_of(&self.met, &self.ids, head), dropped = %copy.id, matched_by = ?layer, "same story in two sources");
        let effect = if replaces(&copy, &g.published) {
            let g = &mut self.groups[i as usize];
            g.published = Published::of(&copy);
            g.head = n;
            Effect::PublishedInstead
        } else if self.upgrade(i, &copy) {
            Effect::TextUpgraded
        } else {
            Effect::None
        };
        self.groups[i as usize].touched = true;
        self.meet(i, copy, How::Joined { layer, head, effect });
    }

    /// The stories, in the order they were started; each is spelled out only as it is taken.
    pub fn into_groups(self) -> impl Iterator<Item = Group> {
        let threshold = self.matching.flatten().map_or(super::near::DEFAULT_THRESHOLD, |s| s.threshold);
        let Merger { met, ids, mut seeded, groups, .. } = self;
        groups.into_iter().map(move |g| {
            let mut members = Vec::new();
            let mut head = 0;
            let mut n = g.first;
            while let Some(m) = met.get(n as usize) {
                if n == g.head {
                    head = members.len();
                }
                let joined = match m.how {
                    How::Started => None,
                    How::Seeded => seeded.remove(&n),
                    How::Joined { layer, head, effect } => Some(Joined {
                        layer: match layer {
                            Matching::Exact(l) => l.name().to_owned(),
                            Matching::Near { shared, of, headline } => {
                                Comparison { shared: usize::from(shared), of: usize::from(of), headline, refused: None }
                                    .layer(threshold)
                            }
                        },
                        head: id_of(&met, &ids, head).to_owned(),
                        effect: match effect {
                            Effect::None => None,
                            Effect::PublishedInstead => Some("published instead".to_owned()),
                            Effect::TextUpgraded => Some("text upgraded".to_owned()),
                        },
                    }),
                };
                members.push(Member { source: m.source as usize, id: id_of(&met, &ids, n).to_owned(), joined });
                n = m.next;
            }
            Group { members, head, head_date: g.published.sort_date, touched: g.touched }
        })
    }

    /// Records a copy as a member of group `i`, and indexes its keys and signature.
    fn meet(&mut self, i: u32, copy: StoryCopy, how: How) {
        let n = self.met.len() as u32;
        let g = &mut self.groups[i as usize];
        if g.last != n {
            self.met[g.last as usize].next = n;
            g.last = n;
        }
        self.ids.push_str(&copy.id);
        self.met.push(Met { source: copy.source as u32, group: i, next: NONE, id_end: self.ids.len() as u32, how });
        if self.matching.is_none() {
            return;
        }
        for k in &copy.keys {
            if self.shared_keys.as_ref().is_none_or(|shared| shared.contains(k)) {
                self.by_key.entry(*k).or_insert(i);
            }
        }
        if let (Some(Some(_)), Near::Growing(index), Some(sig)) = (self.matching, &mut self.near, copy.signature) {
            index.insert(u64::from(i), sig, copy.sort_date);
        }
    }

    /// Whether group `i` has no copy from `source` yet: a story takes one copy per source.
    fn open(&self, i: u32, source: usize) -> bool {
        let mut n = self.groups[i as usize].first;
        while let Some(m) = self.met.get(n as usize) {
            if m.source as usize == source {
                return false;
            }
            n = m.next;
        }
        true
    }

    fn find(&self, copy: &StoryCopy, near: Option<&NearSettings>) -> Option<(u32, Matching)> {
        let exact = copy
            .keys
            .iter()
            .find_map(|k| self.by_key.get(k).map(|i| (*i, Matching::Exact(k.layer))))
            .filter(|(i, _)| self.open(*i, copy.source));
        // Layer 4: the same story told with other words and links, from another source.
        exact.or_else(|| {
            let settings = near?;
            let found: Vec<(u32, Comparison)> = match &self.near {
                Near::Growing(index) => index
                    .duplicates(copy.signature.as_ref()?, copy.sort_date, settings.window, settings.threshold)
                    .map(|(i, c)| (i as u32, c))
                    .filter(|(i, _)| *i != NONE)
                    .collect(),
                Near::Planned(found) => {
                    found.of(self.met.len()).filter_map(|(slot, c)| Some((self.met.get(slot)?.group, c))).collect()
                }
            };
            // The best score, then the earliest story (as `NearIndex::candidates` orders them).
            found
                .into_iter()
                .filter(|(i, _)| self.open(*i, copy.source))
                .max_by(|(ia, a), (ib, b)| a.score().total_cmp(&b.score()).then(ib.cmp(ia)))
                .map(|(i, c)| (i, Matching::Near { shared: c.shared as u8, of: c.of as u8, headline: c.headline }))
        })
    }

    /// [`upgrade_text`] on sizes: whether `copy`'s text would replace the group's published text.
    fn upgrade(&mut self, group: u32, copy: &StoryCopy) -> bool {
        let p = &mut self.groups[group as usize].published;
        if richness(copy.size, p.text_size) != Some(true) || (!copy.has_content && p.has_content) {
            return false;
        }
        p.text_size = copy.size;
        p.has_content |= copy.has_content;
        true
    }
}

/// The id of the `n`-th copy met.
fn id_of<'a>(met: &[Met], ids: &'a str, n: u32) -> &'a str {
    let end = |n: u32| met.get(n as usize).map_or(0, |m| m.id_end as usize);
    let start = n.checked_sub(1).map_or(0, end);
    ids.get(start..end(n)).unwrap_or_default()
}

/// Whether `candidate` should replace the story's published copy. A copy published in an earlier run
/// wins outright, so an id readers have seen never changes; among copies first seen together, more text
/// wins, then the earlier date.
fn replaces(candidate: &StoryCopy, kept: &Published) -> bool {
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
    let mut copies: Vec<(usize, StoryCopy)> = Vec::new();
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
            copies.push((entries.len(), StoryCopy::of_entry(source, &entry, is_shared, signature)));
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
