//! Spreading a batch of CPU work over the cores: signing a run's new entries, finding every copy's
//! near-duplicates before a merge from scratch. Scoped threads, one contiguous chunk each.

use std::ops::Range;

/// `work` over `0..len` cut into one contiguous range per core; the results in range order. A panic in
/// a worker is raised again here.
pub(crate) fn over_cores<R: Send>(len: usize, work: impl Fn(Range<usize>) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = len.div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            (0..len).step_by(chunk).map(|from| scope.spawn(move || work(from..(from + chunk).min(len)))).collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_once_in_order() {
        for len in [0, 1, 2, 3, 1001] {
            let parts = over_cores(len, |r| r.collect::<Vec<_>>());
            assert_eq!(parts.concat(), (0..len).collect::<Vec<_>>(), "len {len}");
        }
    }
}
