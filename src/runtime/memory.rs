//! Handing freed heap back to the operating system.
//!
//! glibc's allocator keeps the pages that `free` returns inside its arenas: a thread
//! arena shrinks only from its top, so the window of a live HLS output (segments of a
//! megabyte or more, each freed when it leaves the window while newer ones sit above
//! it) leaves tens of megabytes resident that nothing uses. `malloc_trim` returns the
//! free pages of every arena (`madvise(MADV_DONTNEED)`, glibc ≥ 2.8). It walks the
//! arenas' free lists under their locks, so it runs at most once per
//! [`TRIM_INTERVAL_MS`] in the whole process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// The shortest time between two trims.
const TRIM_INTERVAL_MS: u64 = 1000;

/// Returns the heap's free pages to the OS, unless that was done less than
/// [`TRIM_INTERVAL_MS`] ago. Called where a large buffer was just freed.
pub fn release_freed_heap() {
    static START: OnceLock<Instant> = OnceLock::new();
    /// When the next trim may run, in ms since `START`.
    static NEXT_MS: AtomicU64 = AtomicU64::new(0);
    let now = START.get_or_init(Instant::now).elapsed().as_millis() as u64;
    let next = NEXT_MS.load(Ordering::Relaxed);
    let due = now >= next
        && NEXT_MS
            .compare_exchange(
                next,
                now + TRIM_INTERVAL_MS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok();
    if due {
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and only releases pages of free chunks;
    // glibc serializes it with every other allocator call through the arenas' locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators (musl, macOS, Windows) give pages back by themselves or have no
/// such call.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
