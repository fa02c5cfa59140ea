//! The storage interface: every part of the state the pipeline, the commands and `serve` read or
//! write, as traits a backend implements. SQLite ([`Store`](super::Store)) is the one backend today;
//! the PostgreSQL one (#21) implements the same traits, with several worker processes writing at once.
//!
//! | trait | state | written by |
//! |---|---|---|
//! | [`SourceStates`] | per source: validators, schedule, health, the last body, renames | the run's recorder, [`SourceStates::identify_sources`] |
//! | [`Entries`] | entries, tombstones, what the filters dropped, counts, the content version | the run's recorder, [`Entries::purge`] |
//! | [`Stories`] | the kept stories, as a build reads them | the merge (`dedup::stories::StoryStore`) |
//! | [`Outputs`] | what was built into which folder, announcements pending, the last build's counts | the steps "select", "write", "announce" |
//! | [`Publish`] | the publish lock; the files of the last build, for `serve` (PostgreSQL) | the steps "select" and "write" |
//! | [`Meta`] | small named values (`meta` table) the others keep | any of the above |
//! | [`Record`], [`RunWrite`] | a run's write, the story merge, and [`Listings`] for the source tasks | the steps "record" and "merge stories" |
//!
//! [`Backend`] names them all. A run's entries and stories are written through two interfaces defined
//! by dedup, which a backend lends inside its write and the pipeline runs dedup over:
//! `dedup::history::SourceEntries` (from [`RunWrite::add`]) and `dedup::stories::StoryStore` (from
//! [`Record::merge_stories`]).
//!
//! **Synchronous on purpose.** The recorder runs on the run's one thread while the source tasks fetch;
//! a backend on an async client (tokio-postgres) blocks on its handle there, as SQLite blocks on its
//! file. Async traits would make every step async for no gain: the steps after reading are sequential.
//!
//! **Callers are generic** (`S: SourceStates + Entries`, …), not `&dyn`: some methods take closures
//! (`impl FnMut`), which a trait object cannot, and the steps are compiled once per backend, which two
//! backends afford.
//!
//! **Several writers.** Each method documents what a backend shared by several processes must
//! guarantee. In general: a read sees one committed state (one snapshot per call, never half a run's
//! write); a write is one transaction, all or nothing; and where two workers could decide from the same
//! read, the method names the lock that orders them.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    FilteredEntry, Health, RawBody, Reconciled, Renamed, SourceState, SourceUpdate, StoreError, StoredEntry,
    StoredStory, StoryHead,
};
use crate::dedup::history::SourceEntries;
use crate::dedup::near::Packed;
use crate::dedup::stories::StoryStore;
use crate::dedup::{DedupMode, Listed};
use crate::model::Entry;
use crate::normalize::RawDigest;

/// Signs an entry for the near-duplicate search: dedup's `Packed::of`, given by the caller so a backend
/// only calls it, a batch at a time over the cores.
pub type Signer = fn(&Entry) -> Packed;

/// Every part of the state: what `pipeline::run` asks of a backend.
pub trait Backend: Record + SourceStates + Entries + Stories + Outputs + Publish {}

impl<T: Record + SourceStates + Entries + Stories + Outputs + Publish> Backend for T {}

/// A run's writes. Several writers (#21): each worker records its own sources (the ones it holds a
/// lease on) in writes of its own; the merge runs one worker at a time.
pub trait Record {
    /// The error of the interfaces lent to dedup (SQLite: rusqlite's), made a [`StoreError`] with the
    /// database's name when the write ends.
    type Lent;

    /// One run's write ([`RunWrite`]).
    type Recorder<'a>: RunWrite<Lent = Self::Lent>
    where
        Self: 'a;

    /// Starts recording a run at `now`: [`RunWrite::add`] each source's update as it arrives, then
    /// [`RunWrite::commit`]. `sign` signs the new entries that come unsigned, a batch at a time over the
    /// cores, and every kept entry after a signature version change. A backend with one writer (SQLite)
    /// takes its write lock here, before any fetch, and writes one transaction from here to the commit;
    /// dropped without a commit, nothing of the run is kept. Several writers (PostgreSQL): one
    /// transaction per [`RunWrite::add`], locking only that source's row (and the content version, for
    /// its commit), so workers recording other sources do not wait; a run dropped midway keeps the
    /// sources it added.
    fn recorder(&mut self, now: DateTime<Utc>, sign: Signer) -> Result<Self::Recorder<'_>, StoreError>;

    /// Lends the kept stories to `merge` (the pipeline passes `dedup::stories::update`) inside one write,
    /// committed when it succeeds and rolled back whole when it fails. Several writers: under one lock
    /// (one merger at a time), so copies recorded at once by two workers end in one story.
    fn merge_stories<T>(
        &mut self,
        merge: impl FnOnce(&mut dyn StoryStore<Error = Self::Lent>) -> Result<T, Self::Lent>,
    ) -> Result<T, StoreError>;

    /// What the sources' feeds listed at the last commit, for the source tasks to reuse while the run
    /// writes; `None` when no other reader can see the state (a store in memory).
    fn listings(&self) -> Option<Arc<dyn Listings>>;

    /// The worker's leases when several workers share the sources (PostgreSQL, #21): a run reads only
    /// the sources it claims. `None` (the default): this process is the state's one writer (SQLite,
    /// under the run lock) and a run reads every configured source.
    fn leases(&self) -> Option<Arc<dyn Leases>> {
        None
    }
}

/// What a run asks [`Leases::claim`] for.
#[derive(Debug, Clone)]
pub struct ClaimAsk<'a> {
    /// The configured sources that may be read (enabled ones), with the URL and the shaping digest
    /// their config gives now: a source whose stored digest differs is due whatever its schedule.
    pub candidates: &'a [Candidate],
    /// This run, among every run of every worker: a source is never claimed twice under it.
    pub run: &'a str,
    /// At most this many sources.
    pub batch: usize,
    /// The run's clock: due by it. Not fetched at or after it either, or at or after the clock of the
    /// earliest run in progress when this one first claimed (runs that overlap share their sources).
    pub now: DateTime<Utc>,
    /// `run --force`: due whatever the schedule, dead ones too.
    pub force: bool,
    /// `run --reparse`: these are due whatever the schedule.
    pub reparse: &'a [String],
    /// A source with no schedule of its own is due this long after its last fetch (`watch`);
    /// `None`: always due.
    pub default_interval: Option<std::time::Duration>,
}

/// A configured source as [`ClaimAsk`] offers it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub url: String,
    pub digest: String,
}

/// What a claim gave.
#[derive(Debug, Default)]
pub struct Claimed {
    /// The sources now leased to this worker, with their state read under the lease (fresher than
    /// the run's first read: another worker may have recorded them since).
    pub sources: Vec<(String, SourceState)>,
    /// Due sources held back by the `per_host` limit (other workers hold the host's leases): worth
    /// asking again shortly.
    pub held_back: u64,
}

/// A worker's leases on sources (#21). Called from the run's thread and the source tasks.
pub trait Leases: Send + Sync {
    /// Leases due sources to this worker (see [`ClaimAsk`]), the `per_host` limit counted over every
    /// worker's live leases. One decider at a time: two workers never hold one source.
    fn claim(&self, ask: &ClaimAsk<'_>) -> Result<Claimed, StoreError>;

    /// Gives back the leases on `names`: sources not recorded (not read after all, or the run stopped).
    fn release(&self, names: &[String]) -> Result<(), StoreError>;

    /// `name` was recorded ([`RunWrite::add`]), which gave its lease back in the same transaction:
    /// the worker no longer holds it.
    fn recorded(&self, name: &str);

    /// The run `run` ([`ClaimAsk::run`]) claims no more: runs starting from now on do not join its
    /// round (they read again what it read).
    fn end_run(&self, run: &str) -> Result<(), StoreError>;
}

/// What [`RunWrite::add`] runs for a parsed feed: the source's kept entries lent (errors `E`), and the
/// entries its feed lists now; the pipeline passes `dedup::history::reconcile`.
pub type Reconcile<'r, E> = &'r mut dyn FnMut(&mut dyn SourceEntries<Error = E>, Vec<Listed>) -> Result<Reconciled, E>;

/// One run's write, from [`Record::recorder`].
pub trait RunWrite {
    /// [`Record::Lent`].
    type Lent;

    /// Writes one source's state and, when its feed was parsed, its entries as `reconcile` matches them
    /// with the kept ones (the pipeline passes `dedup::history::reconcile`). A later `add` of the same
    /// source in the run sees the entries an earlier one wrote.
    fn add(&mut self, update: SourceUpdate, reconcile: Reconcile<'_, Self::Lent>) -> Result<(), StoreError>;

    /// Writes what is still held back, commits the run; returns every parsed source's reconciliation.
    fn commit(self) -> Result<HashMap<String, Reconciled>, StoreError>;
}

/// What each source's feed listed at the last commit, read by the source tasks (on other threads) while
/// the run's write is open: a reader sees the last commit and never waits for the writer.
pub trait Listings: Send + Sync {
    /// The entries `source`'s feed listed whose raw digest is among `digests`.
    fn entries(&self, source: &str, digests: &[RawDigest]) -> Result<HashMap<RawDigest, Entry>, StoreError>;

    /// The last body `source` was read from, when one is kept ([`SourceStates::raw_body`]).
    fn raw_body(&self, source: &str) -> Result<Option<RawBody>, StoreError>;
}

/// Per source: what is remembered between runs. A source's state is written with its entries, by the
/// run's recorder, in the run's one write (one transaction); a backend shared by several workers holds
/// the source's row locked from reading its state for a fetch to that write (#21: a lease), so two
/// workers never fetch or record one source at once.
pub trait SourceStates {
    /// Finds each configured source (name, URL, in config order) in the state, so a source keeps its
    /// identity when the config renames it or points it elsewhere, and moves a renamed source's state,
    /// entries and stories to its new name. One transaction; several writers: under one lock over all
    /// sources (a rename touches two names; two workers must not rank new sources twice).
    fn identify_sources(&mut self, configured: &[(&str, &str)]) -> Result<Vec<Renamed>, StoreError>;

    /// Every source's remembered state, by name, without its last body. One snapshot.
    fn sources(&self) -> Result<HashMap<String, SourceState>, StoreError>;

    /// What `index.html` shows of each source's health, by name. One snapshot.
    fn health(&self) -> Result<HashMap<String, Health>, StoreError>;

    /// The last body `name` was read from, when one is kept.
    fn raw_body(&self, name: &str) -> Result<Option<RawBody>, StoreError>;

    /// `names` in the order their sources were first met (ranks written by
    /// [`identify_sources`](Self::identify_sources)); names the state does not know come last, as given.
    fn first_met_order<'a>(&self, names: &[&'a str]) -> Result<Vec<&'a str>, StoreError>;
}

/// The stored entries, as read after a run, and retention.
pub trait Entries {
    /// Every stored entry of the given sources. One snapshot.
    fn entries(&self, sources: &[&str]) -> Result<Vec<StoredEntry>, StoreError>;

    /// Canonical URLs of the entries stored for `source`: pages already fetched for full text.
    fn known_urls(&self, source: &str) -> Result<HashSet<String>, StoreError>;

    /// Entries kept per source. One snapshot.
    fn entry_counts(&self) -> Result<HashMap<String, usize>, StoreError>;

    /// Per source, how many entries of its last parsed document `[filters]` dropped.
    fn filtered_counts(&self) -> Result<HashMap<String, usize>, StoreError>;

    /// The dropped entries whose source id, link or canonical link is `query`.
    fn find_filtered(&self, query: &str) -> Result<Vec<FilteredEntry>, StoreError>;

    /// Deletes entries last seen before `cutoff`, leaving tombstones (written at `now`) so a source
    /// that lists them again does not bring them back, and takes them out of their stories. Returns
    /// how many were purged. One transaction; several writers: each purged entry's source row locked,
    /// as a recording worker holds it, so an entry is never purged while its source is reconciled.
    fn purge(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize, StoreError>;

    /// A number that changes whenever stored entries or source titles change, in the same transaction
    /// as the change: outputs built from the same version (and the same config) are the same bytes.
    fn content_version(&self) -> Result<u64, StoreError>;
}

/// The kept stories, as a build reads them (the merge writes them through `StoryStore`). Several
/// writers: a build reads one snapshot, taken after the merge it follows committed.
pub trait Stories {
    /// Walks the stories of `mode`, newest first (by the published copy's date, then id), giving each
    /// one's published copy and the sources of all its copies; stops when `visit` returns false.
    fn stories_newest_first(
        &self,
        mode: &DedupMode,
        visit: impl FnMut(&StoryHead, &[String]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;

    /// The story `head` publishes under `mode`, with every copy's entry; `positions` maps source names
    /// to their config index. `None` when its published entry is gone or unreadable.
    fn story(
        &self,
        mode: &DedupMode,
        head: &StoryHead,
        positions: &HashMap<&str, usize>,
    ) -> Result<Option<StoredStory>, StoreError>;

    /// [`Stories::story`] of each of `heads`, in one read where the backend can (a build reads a
    /// story per item of every feed: on a database, a round trip each).
    fn stories(
        &self,
        mode: &DedupMode,
        heads: &[&StoryHead],
        positions: &HashMap<&str, usize>,
    ) -> Result<Vec<Option<StoredStory>>, StoreError> {
        heads.iter().map(|head| self.story(mode, head, positions)).collect()
    }

    /// Per source: its stored entries folded into another source's story under `mode`.
    fn folded(&self, mode: &DedupMode) -> Result<HashMap<String, usize>, StoreError>;
}

/// Small named values kept beside the state (SQLite: table `meta`). Each call is its own transaction
/// unless made inside a write; a value is replaced whole, the last writer wins.
pub trait Meta {
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;
}

/// Meta key of the JSON map: source name → its stored entries folded into another source's story, as
/// the last build counted them (`feedmill status` shows it). Kept under its first name, so a state
/// written by an older feedmill reads the same.
const FOLDED_KEY: &str = "duplicates_collapsed";

/// Meta key of the WebSub topics a failed announcement left for the next run.
const PENDING_ANNOUNCEMENTS_KEY: &str = "websub_pending";

/// What was published: which build each output folder holds, the announcements still to make, and
/// the last build's counts. Provided on [`Meta`], under the keys SQLite has always used.
///
/// Several writers (#21): one publisher at a time builds, writes the folder and records its build key
/// under the [`Publish`] lock, held from [`built`](Self::built) to [`set_built`](Self::set_built).
pub trait Outputs: Meta {
    /// The build key last recorded for `out_dir` ([`set_built`](Self::set_built)).
    fn built(&self, out_dir: &Path) -> Result<Option<String>, StoreError> {
        self.meta(&format!("outputs:{}", out_dir.display()))
    }

    /// Records that `out_dir` now holds the build `key`, once every file is in place.
    fn set_built(&self, out_dir: &Path, key: &str) -> Result<(), StoreError> {
        self.set_meta(&format!("outputs:{}", out_dir.display()), key)
    }

    /// The WebSub announcements a failed run left (JSON, the announce step's own form).
    fn pending_announcements(&self) -> Result<Option<String>, StoreError> {
        self.meta(PENDING_ANNOUNCEMENTS_KEY)
    }

    /// Replaces the announcements left for the next run.
    fn set_pending_announcements(&self, json: &str) -> Result<(), StoreError> {
        self.set_meta(PENDING_ANNOUNCEMENTS_KEY, json)
    }

    /// Per source, its entries folded into another source's story, as the last build counted them.
    fn last_folded(&self) -> Result<Option<HashMap<String, usize>>, StoreError> {
        Ok(self.meta(FOLDED_KEY)?.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Records the counts of [`last_folded`](Self::last_folded).
    fn set_last_folded(&self, folded: &HashMap<&str, usize>) -> Result<(), StoreError> {
        self.set_meta(FOLDED_KEY, &serde_json::to_string(folded).unwrap_or_default())
    }
}

/// A file's weak ETag, a function of its bytes alone, so every `serve` (of a folder or of a
/// state's published files) gives the same: the first 128 bits of the SHA-256 of the bytes, quoted. Weak because the body
/// sent may be gzip, brotli or the bytes as they are, all with this one tag: a strong tag promises the
/// same bytes, which different encodings are not (RFC 9110 §8.8.3).
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// One file of a build, as [`Publish::publish`] stores it: its path under the output folder (`/`
/// separated: `all/rss.xml`) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Publishing a build: one publisher at a time, and where `serve` finds the files.
///
/// A backend with one writer (SQLite) has nothing to do: its run lock already makes one publisher, and
/// `serve` reads the output folder. Several writers (PostgreSQL): the lock is taken before the step
/// "select" compares build keys and held until the files are stored, so a second publisher waits, then
/// finds the build already made (same key) or builds the changes it recorded meanwhile.
pub trait Publish {
    /// Held while one build is selected, written and stored; released when dropped.
    type PublishLock;

    /// Takes the publish lock, waiting for the publisher that holds it.
    fn lock_publish(&self) -> Result<Self::PublishLock, StoreError>;

    /// Stores every file of a build (changed or not) under `lock`, replacing the last build's: files
    /// the build no longer has are removed, unchanged ones keep their time, each kept with its ETag
    /// (`serve::etag_of`, a function of the bytes alone, as the folder is served with). One
    /// transaction, which also tells the `serve` instances listening that the files changed.
    fn publish(&self, lock: &mut Self::PublishLock, files: &[PublishedFile]) -> Result<(), StoreError>;
}
