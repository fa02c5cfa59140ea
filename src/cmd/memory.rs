//! Keeping a long-running `watch` or `serve`'s resident memory from creeping up in glibc's allocator.
//!
//! A refresh over 1,000 sources allocates and frees some 15 to 25 MiB (bodies, parsed feeds, the
//! window's signatures, a build's files) while the heap kept between refreshes stays at 3 to 5 MiB
//! (heaptrack over 10- and 15-minute soaks: nothing leaked). glibc's malloc keeps freed memory in
//! the arena of the thread that allocated it, and a refresh allocates on several threads (the
//! runtime's workers, the blocking pool, the signing threads). Two things then keep it resident:
//!
//! - holes below live allocations, which glibc never returns by itself: [`give_back`]
//!   (`malloc_trim(0)`) after each refresh hands back every free page inside them;
//! - the free top of each thread's arena, which `malloc_trim` does not touch (it trims the top of
//!   the main arena only). glibc shrinks that top when a `free` leaves more than the trim threshold
//!   there, but glibc raises that threshold to twice the largest block it has given back to the
//!   system (its dynamic mmap threshold), and a refresh frees blocks of several MiB. A PostgreSQL
//!   worker's thread arenas held 4 to 8 MiB each (`malloc_stats`: 2.7 MiB in use, 34 MiB of
//!   anonymous memory resident), more of them as the refreshes went on. [`settle`] pins the
//!   thresholds.
//!
//! Figures in bench/README.md (Soak), beside the arena limit and jemalloc.

/// `mallopt`'s parameters (glibc's `malloc.h`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: std::ffi::c_int = -3;

/// Free memory a `free` may leave at the top of an arena: glibc's default, which it would otherwise
/// raise as it goes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: std::ffi::c_int = 128 * 1024;

/// Blocks from this size on get pages of their own, returned when freed, instead of a place in an
/// arena. glibc starts at 128 KiB and raises it (up to 32 MiB) as blocks are freed; 1 MiB keeps
/// bodies, rows and most files in the arenas, and a build's largest files and the store's largest
/// buffers out of them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: std::ffi::c_int = 1024 * 1024;

/// Pins glibc's trim and mmap thresholds (see the module's comment), for the commands that run for
/// days. Call once, at the start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn settle() {
    extern "C" {
        /// glibc's `int mallopt(int param, int value)`: 1 on success.
        fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
    }
    for (param, value) in [(M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD)] {
        // SAFETY: `mallopt` takes two integers and changes glibc's own settings under its lock.
        if unsafe { mallopt(param, value) } != 1 {
            tracing::debug!(param, value, "mallopt refused");
        }
    }
}

/// Other allocators (musl's, macOS's) have no such thresholds to pin.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn settle() {}

/// Returns the pages the allocator holds free to the system. Call between refreshes, when no other
/// thread is allocating much: glibc locks each arena in turn while it walks it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn give_back() {
    let started = std::time::Instant::now();
    extern "C" {
        /// glibc's `int malloc_trim(size_t pad)`: 1 when memory was released.
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: `malloc_trim` takes no pointer and touches only glibc's own free lists, under their locks.
    let released = unsafe { malloc_trim(0) } != 0;
    tracing::debug!(released, took = ?started.elapsed(), "free memory returned to the system");
}

/// Other allocators (musl's, macOS's) give freed memory back themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back() {}

#[cfg(test)]
mod tests {
    /// Held by each test here: they measure the whole process's memory, so one must not allocate
    /// while another measures.
    static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// The process's anonymous resident memory, in KiB.
    #[cfg(target_os = "linux")]
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_memory_below_a_live_allocation_goes_back_to_the_system() {
        let _alone = MEASURING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // What a refresh leaves behind: 64 MiB of 4 KiB blocks freed on a thread of their own, with every
        // 16th block still alive, so the free memory lies in holes of 60 KiB that glibc does not return
        // by itself (it shrinks a heap only from its top).
        let kept = std::thread::spawn(|| {
            let blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![1 + (i % 200) as u8; 4096]).collect();
            blocks.into_iter().step_by(16).collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        let before = rss_anon_kib();
        super::give_back();
        let after = rss_anon_kib();
        assert!(before - after.min(before) > 32 * 1024, "RssAnon {before} KiB before, {after} KiB after");
        assert_eq!(kept.len(), 1024);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_free_top_of_a_thread_s_arena_goes_back_once_the_thresholds_are_pinned() {
        use std::sync::{Arc, Barrier};
        let _alone = MEASURING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        super::settle();
        // A thread gives a 16 MiB block back (unpinned, glibc would raise its trim threshold to
        // 32 MiB), then fills its arena with 24 MiB of 64 KiB blocks and frees them, first to last:
        // they end as one free top of 24 MiB, which `malloc_trim` does not touch. The thread stays
        // alive, allocating nothing, while this one measures (its exit would empty its arena's
        // cache of small blocks, and the free that follows would trim the top anyway). Each step
        // waits twice: once to let the other side start it, once to know it is done.
        let step = Arc::new(Barrier::new(2));
        let worker = {
            let step = Arc::clone(&step);
            std::thread::spawn(move || {
                drop(std::hint::black_box(vec![1u8; 16 << 20]));
                let blocks: Vec<Vec<u8>> = (0..384).map(|i| vec![1 + (i % 200) as u8; 64 << 10]).collect();
                step.wait();
                step.wait();
                drop(std::hint::black_box(blocks));
                step.wait();
                step.wait();
            })
        };
        step.wait();
        let held = rss_anon_kib();
        step.wait();
        step.wait();
        super::give_back();
        let after = rss_anon_kib();
        step.wait();
        worker.join().unwrap();
        assert!(held - after.min(held) > 16 * 1024, "RssAnon {held} KiB with the blocks, {after} KiB after");
    }
}
