//! Giving the allocator's free memory back to the system between the refreshes of a long-running
//! `watch` or `serve --watch`.
//!
//! A refresh over 1,000 sources allocates and frees some 15 MiB (bodies, parsed feeds, the window's
//! signatures) while the heap kept between refreshes stays at about 3.5 MiB (heaptrack over a
//! 10-minute soak: flat, nothing leaked). glibc's malloc keeps freed memory in the arena of the thread
//! that allocated it and returns pages only from the top of each heap; a refresh allocates on several
//! threads (the runtime's workers, the blocking pool, the signing threads), so what it frees is spread
//! over several arenas in holes, and resident memory rose 0.3 to 0.5 MiB a minute for as long as the
//! soak ran (`bench/soak.sh`; with `MALLOC_ARENA_MAX=2` it nearly stopped). `malloc_trim(0)` after
//! each refresh hands every free page of every arena back: figures in bench/README.md, beside the arena
//! limit and jemalloc.

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
}
