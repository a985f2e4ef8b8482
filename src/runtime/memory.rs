//! Handing freed heap back to the operating system.
//!
//! glibc's allocator keeps the pages that `free` returns inside its arenas: a thread
//! arena shrinks only from its top, so the window of a live HLS output (segments of a
//! megabyte or more, each freed when it leaves the window while newer ones sit above
//! it) leaves megabytes resident that nothing uses. `malloc_trim` returns the free
//! pages of every arena (`madvise(MADV_DONTNEED)`, glibc ≥ 2.8). It walks the arenas'
//! free lists under their locks, so it runs at most once per [`TRIM_INTERVAL_MS`] in
//! the whole process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// The shortest time between two trims.
const TRIM_INTERVAL_MS: u64 = 1000;

/// Lets one caller through per interval, whichever thread asks.
struct RateGate {
    /// When the next caller may pass, in ms of the caller's clock.
    next_ms: AtomicU64,
}

impl RateGate {
    const fn new() -> Self {
        Self {
            next_ms: AtomicU64::new(0),
        }
    }

    /// Whether a caller at `now_ms` passes; if so, the next one passes at
    /// `now_ms + interval_ms` at the earliest.
    fn pass(&self, now_ms: u64, interval_ms: u64) -> bool {
        let next = self.next_ms.load(Ordering::Relaxed);
        now_ms >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now_ms + interval_ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

/// Returns the heap's free pages to the OS, unless that was done less than
/// [`TRIM_INTERVAL_MS`] ago. Called where a large buffer was just freed.
pub fn release_freed_heap() {
    static START: OnceLock<Instant> = OnceLock::new();
    static GATE: RateGate = RateGate::new();
    let now_ms = START.get_or_init(Instant::now).elapsed().as_millis() as u64;
    if GATE.pass(now_ms, TRIM_INTERVAL_MS) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_lets_one_caller_through_per_interval() {
        let gate = RateGate::new();
        assert!(gate.pass(0, 1000), "the first caller passes");
        assert!(!gate.pass(0, 1000));
        assert!(!gate.pass(999, 1000));
        assert!(gate.pass(1000, 1000), "the interval is over");
        assert!(!gate.pass(1500, 1000));
        assert!(gate.pass(5000, 1000));
    }
}
