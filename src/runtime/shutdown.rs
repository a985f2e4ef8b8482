//! How the app asks a connection to stop, and how its tasks wait for that.
//!
//! An atomic state and one [`Notify`] instead of a `tokio::sync::watch` channel: a
//! watch channel allocates its shared state with eight `Notify`s (a few hundred
//! bytes) per connection, and its receivers add to every task future that waits on
//! one — memory every idle session pays for (BENCHMARKS.md, idle sessions).

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// How the app asked the connection to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shutdown {
    Running = 0,
    /// Flush what is queued, then close.
    End = 1,
    /// Close now, dropping what is queued.
    Destroy = 2,
    /// Fault injection: the reader task panics when it sees this, as a bug in the
    /// core would make it (tests prove such a panic ends only its own session).
    #[cfg(any(test, feature = "test-hooks"))]
    InjectedPanic = 3,
}

impl Shutdown {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Running,
            1 => Self::End,
            #[cfg(any(test, feature = "test-hooks"))]
            3 => Self::InjectedPanic,
            _ => Self::Destroy,
        }
    }
}

/// The connection's [`Shutdown`] state, which only moves away from `Running`.
pub(super) struct ShutdownSignal {
    state: AtomicU8,
    changed: Notify,
}

impl ShutdownSignal {
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU8::new(Shutdown::Running as u8),
            changed: Notify::new(),
        }
    }

    pub(super) fn get(&self) -> Shutdown {
        Shutdown::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Sets `End` if the connection is still running (a destroy is never undone).
    pub(super) fn end(&self) {
        let ended = self
            .state
            .compare_exchange(
                Shutdown::Running as u8,
                Shutdown::End as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if ended {
            self.changed.notify_waiters();
        }
    }

    /// Sets `state` whatever it was.
    pub(super) fn set(&self, state: Shutdown) {
        self.state.store(state as u8, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Waits until the state satisfies `done`, and returns it.
    pub(super) async fn wait_for(&self, done: impl Fn(Shutdown) -> bool) -> Shutdown {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the state is read, so a change in between still wakes it.
            changed.as_mut().enable();
            let state = self.get();
            if done(state) {
                return state;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_waiter_wakes_when_the_state_it_waits_for_is_set() {
        let signal = Arc::new(ShutdownSignal::new());
        let waiter = tokio::spawn({
            let signal = signal.clone();
            async move { signal.wait_for(|s| s == Shutdown::Destroy).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        signal.end();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "End is not what it waits for");
        signal.set(Shutdown::Destroy);
        let state = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(state, Shutdown::Destroy);
    }

    #[test]
    fn end_does_not_undo_a_destroy() {
        let signal = ShutdownSignal::new();
        signal.set(Shutdown::Destroy);
        signal.end();
        assert_eq!(signal.get(), Shutdown::Destroy);
        let running = ShutdownSignal::new();
        running.end();
        assert_eq!(running.get(), Shutdown::End);
    }
}
