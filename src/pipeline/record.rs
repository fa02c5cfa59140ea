//! The step "record": each source's update goes into the run's one write as its task ends. The
//! decisions are dedup's: which kept entry a listed one is (`dedup::history::reconcile`, run here over
//! the entries the recorder lends) and each new entry's signature (`Packed::of`, which the recorder
//! calls a batch at a time over the cores); the store only persists them.

use chrono::{DateTime, Utc};

use crate::dedup::history;
use crate::dedup::near::Packed;
use crate::store::{Record, RunWrite, SourceUpdate, StoreError};

/// Starts the run's write: the store's write lock is taken here, before any source is fetched.
pub(super) fn begin<S: Record>(store: &mut S, now: DateTime<Utc>) -> Result<S::Recorder<'_>, StoreError> {
    store.recorder(now, Packed::of)
}

/// Records one source's update: its state, and its parsed entries reconciled with the kept ones.
pub(super) fn record(recorder: &mut impl RunWrite, update: SourceUpdate, now: DateTime<Utc>) -> Result<(), StoreError> {
    recorder.add(update, &mut |kept, listed| history::reconcile(kept, listed, now))
}

/// A run's record and merge steps as the store's tests drive them, one call each.
#[cfg(test)]
pub(crate) trait Steps {
    /// Records `updates` as one run at `now` (begin, record each, commit); returns what each parsed
    /// source's entries were.
    fn record(
        &mut self,
        now: DateTime<Utc>,
        updates: &[SourceUpdate],
    ) -> Result<std::collections::HashMap<String, history::Reconciled>, StoreError>;

    /// [`super::stories::update_stories`].
    fn update_stories(&mut self, modes: &[crate::dedup::DedupMode], sources: &[&str]) -> Result<usize, StoreError>;
}

#[cfg(test)]
impl<S: Record> Steps for S {
    fn record(
        &mut self,
        now: DateTime<Utc>,
        updates: &[SourceUpdate],
    ) -> Result<std::collections::HashMap<String, history::Reconciled>, StoreError> {
        let mut recorder = begin(self, now)?;
        for u in updates {
            record(&mut recorder, u.clone(), now)?;
        }
        recorder.commit()
    }

    fn update_stories(&mut self, modes: &[crate::dedup::DedupMode], sources: &[&str]) -> Result<usize, StoreError> {
        super::stories::update_stories(self, modes, sources)
    }
}
