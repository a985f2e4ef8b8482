//! FLV consumers of a relay hub (recordings, the HLS muxer, HTTP-FLV and WebSocket-FLV
//! players): each gets the hub's messages as FLV tags framed once per message for
//! all of them (`flv::tag`, shared [`SharedFrame`]s), through a bounded queue with the
//! RTMP players' drop policy ([`SendQueue`]: past its limit video is dropped to the next
//! keyframe, then audio past twice the limit; decoder configurations and metadata
//! never), so a slow consumer — a slow disk, a slow browser — is bounded like a slow
//! player.
//!
//! [`flv_sink`] makes the two ends: the hub holds the [`FlvSinkFeed`] (see
//! `Hub::add_flv_sink`); the consumer holds the [`FlvSink`] and awaits frames with
//! [`FlvSink::recv`]. Dropping the feed (the hub does when the publication ends, or when
//! the hub goes) ends the sink once its queue is drained; [`FlvSink::close`] (or dropping
//! it) tells the hub to stop feeding it.
//!
//! A consumer that can take frames without waiting (a player's socket: [`WriteNow`])
//! lends that to the feed while its own task waits with nothing to write: the feed then
//! writes each flush's frames at once from the hub's task (the publisher's reader), as
//! RTMP players are written, and the consumer's task is woken only when the socket did
//! not take everything.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::proto::outbound::{DropStats, SendQueue, SharedFrame};

/// A consumer's way to take frames at once, from the feeding task.
pub trait WriteNow: Send + Sync {
    /// Writes `frames`, in order, without waiting; false if the socket did not take all
    /// of it: the rest is kept for the consumer's task to write first.
    fn write_now(&self, frames: &[Arc<SharedFrame>]) -> bool;
}

struct State {
    queue: SendQueue,
    /// The hub still holds the feed.
    fed: bool,
    /// The consumer still takes frames.
    open: bool,
    /// How the consumer takes frames at once ([`FlvSink::write_directly`]).
    direct: Option<Arc<dyn WriteNow>>,
    /// The consumer's task waits with nothing to write: the feed writes through
    /// `direct`.
    lent: bool,
    /// A direct write left bytes: the consumer's task writes them next.
    handed_back: bool,
    /// Frames taken out of the queue for a direct write (kept for its capacity).
    scratch: Vec<Arc<SharedFrame>>,
}

struct Shared {
    state: Mutex<State>,
    /// Frames were queued, or one end went.
    changed: Notify,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A sink's two ends; media past `media_limit` queued bytes is dropped by the policy
/// of [`SendQueue`].
pub fn flv_sink(media_limit: usize) -> (FlvSinkFeed, FlvSink) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: SendQueue::new(media_limit),
            fed: true,
            open: true,
            direct: None,
            lent: false,
            handed_back: false,
            scratch: Vec::new(),
        }),
        changed: Notify::new(),
    });
    (
        FlvSinkFeed {
            shared: shared.clone(),
        },
        FlvSink { shared },
    )
}

/// The hub's end of a sink.
pub struct FlvSinkFeed {
    shared: Arc<Shared>,
}

impl FlvSinkFeed {
    /// Whether the consumer still takes frames.
    pub(super) fn is_open(&self) -> bool {
        self.shared.state().open
    }

    /// Queues a join burst (metadata, configurations, the cached GOP) whatever the
    /// limit: it is bounded by the hub's GOP cache.
    pub(super) fn push_burst(&self, frames: impl IntoIterator<Item = Arc<SharedFrame>>) {
        self.queue_with(frames, |q, f| q.push_shared(f));
    }

    /// Offers live frames to the drop policy.
    pub(super) fn offer(&self, frames: impl IntoIterator<Item = Arc<SharedFrame>>) {
        self.queue_with(frames, |q, f| {
            q.offer(f);
        });
    }

    fn queue_with(
        &self,
        frames: impl IntoIterator<Item = Arc<SharedFrame>>,
        mut queue: impl FnMut(&mut SendQueue, Arc<SharedFrame>),
    ) {
        let mut state = self.shared.state();
        if !state.open {
            return;
        }
        let before = state.queue.queued_bytes();
        for frame in frames {
            queue(&mut state.queue, frame);
        }
        let mut queued = state.queue.queued_bytes() != before;
        if queued && state.lent {
            let state = &mut *state;
            if let Some(direct) = &state.direct {
                while let Some(frame) = state.queue.pop_frame() {
                    state.scratch.push(frame);
                }
                // Taken whole: the consumer's task sleeps on.
                queued = !direct.write_now(&state.scratch);
                state.scratch.clear();
                state.lent = !queued;
                state.handed_back = queued;
            }
        }
        drop(state);
        if queued {
            self.shared.changed.notify_one();
        }
    }
}

impl Drop for FlvSinkFeed {
    fn drop(&mut self) {
        self.shared.state().fed = false;
        self.shared.changed.notify_one();
    }
}

/// The consumer's end of a sink.
pub struct FlvSink {
    shared: Arc<Shared>,
}

impl FlvSink {
    /// Waits until frames are queued, then moves all of them, in order, into `out`.
    /// False once nothing is queued and nothing more will be: the hub dropped the feed
    /// or [`Self::close`] was called. While it waits, frames go to the consumer's
    /// [`WriteNow`] if it has one ([`Self::write_directly`]); it returns true, maybe
    /// with no frames, when that left bytes for the caller to write. A caller that
    /// stops waiting (a `select!`) calls [`Self::reclaim`] before writing itself.
    pub async fn recv(&self, out: &mut Vec<Arc<SharedFrame>>) -> bool {
        loop {
            {
                let mut state = self.shared.state();
                let before = out.len();
                while let Some(frame) = state.queue.pop_frame() {
                    out.push(frame);
                }
                let handed_back = std::mem::take(&mut state.handed_back);
                if out.len() > before || handed_back {
                    state.lent = false;
                    return true;
                }
                if !state.fed || !state.open {
                    state.lent = false;
                    return false;
                }
                state.lent = state.direct.is_some();
            }
            // A notification between the unlock and here is kept for this wait.
            self.shared.changed.notified().await;
        }
    }

    /// Frames go to `direct` from the feeding task while [`Self::recv`] waits.
    pub fn write_directly(&self, direct: Arc<dyn WriteNow>) {
        self.shared.state().direct = Some(direct);
    }

    /// Ends direct writes (a waiting [`Self::recv`] was given up): once this returns
    /// none is under way and none starts until the next `recv`.
    pub fn reclaim(&self) {
        self.shared.state().lent = false;
    }

    /// Stops taking frames: the hub stops feeding this sink (it forgets it at its next
    /// flush), and writes no more to it directly; what is queued can still be received.
    pub fn close(&self) {
        let mut state = self.shared.state();
        state.open = false;
        state.lent = false;
        state.direct = None;
        drop(state);
        self.shared.changed.notify_one();
    }

    /// Whether the hub still feeds this sink (false once the publication ended).
    pub fn is_fed(&self) -> bool {
        let state = self.shared.state();
        state.fed && state.open
    }

    /// What the drop policy dropped so far.
    pub fn dropped(&self) -> DropStats {
        self.shared.state().queue.dropped()
    }

    /// Bytes waiting to be received.
    pub fn queued_bytes(&self) -> usize {
        self.shared.state().queue.queued_bytes()
    }
}

impl Drop for FlvSink {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        state.open = false;
        state.lent = false;
        state.direct = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::proto::media::MediaRole;

    fn frame(role: MediaRole, len: usize) -> Arc<SharedFrame> {
        Arc::new(SharedFrame::new(role, vec![Bytes::from(vec![0u8; len])]))
    }

    fn roles(frames: &[Arc<SharedFrame>]) -> Vec<MediaRole> {
        frames.iter().map(|f| f.role).collect()
    }

    #[tokio::test]
    async fn a_slow_consumer_loses_video_to_the_next_keyframe_then_audio_never_configs() {
        use MediaRole::*;
        let (feed, sink) = flv_sink(1000);
        feed.push_burst([frame(Config, 50), frame(Keyframe, 600)]);
        // Live, nothing taken: past 1000 bytes video goes (the queued keyframe too)
        // until the next keyframe; audio stays up to twice the limit; configs always.
        feed.offer([
            frame(InterFrame, 300),
            frame(Audio, 100),
            frame(InterFrame, 300),
            frame(Audio, 100),
            frame(Config, 2000),
            frame(Audio, 100),
        ]);
        let dropped = sink.dropped();
        assert_eq!((dropped.video_frames, dropped.audio_frames), (3, 1));
        let mut got = Vec::new();
        assert!(sink.recv(&mut got).await);
        assert_eq!(roles(&got), [Config, Audio, Audio, Config]);
        feed.offer([frame(InterFrame, 10), frame(Keyframe, 10), frame(Audio, 10)]);
        got.clear();
        assert!(sink.recv(&mut got).await);
        assert_eq!(roles(&got), [Keyframe, Audio], "caught up on a keyframe");
        assert_eq!(sink.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn what_is_queued_is_received_after_the_feed_ends_then_the_sink_ends() {
        let (feed, sink) = flv_sink(1000);
        let waiting = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut ends = 0;
            while sink.recv(&mut got).await {
                ends += 1;
            }
            (got.len(), ends)
        });
        tokio::task::yield_now().await;
        feed.offer([frame(MediaRole::Audio, 10)]);
        drop(feed);
        let (frames, receives) = waiting.await.expect("no panic");
        assert_eq!(frames, 1);
        assert!(receives >= 1);
    }

    /// A consumer's [`WriteNow`] that takes frames while `takes` says so.
    #[derive(Default)]
    struct Direct {
        takes: std::sync::atomic::AtomicBool,
        got: Mutex<Vec<MediaRole>>,
    }

    impl WriteNow for Direct {
        fn write_now(&self, frames: &[Arc<SharedFrame>]) -> bool {
            self.got.lock().unwrap().extend(roles(frames));
            self.takes.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn frames_go_out_directly_while_the_consumer_waits_and_wake_it_only_when_left() {
        use std::sync::atomic::Ordering::SeqCst;
        use MediaRole::*;
        let (feed, sink) = flv_sink(1000);
        let direct = Arc::new(Direct::default());
        direct.takes.store(true, SeqCst);
        sink.write_directly(direct.clone());
        let sink = Arc::new(sink);
        // Not waiting yet: frames are queued for recv.
        feed.offer([frame(Keyframe, 10)]);
        let mut got = Vec::new();
        assert!(sink.recv(&mut got).await);
        assert_eq!(roles(&got), [Keyframe]);
        let waiter = sink.clone();
        let mut waiting = tokio::spawn(async move {
            let mut got = Vec::new();
            let more = waiter.recv(&mut got).await;
            (more, got.len())
        });
        tokio::task::yield_now().await;
        feed.offer([frame(Audio, 10), frame(InterFrame, 10)]);
        assert_eq!(*direct.got.lock().unwrap(), [Audio, InterFrame]);
        let woken = tokio::time::timeout(Duration::from_millis(50), &mut waiting).await;
        assert!(woken.is_err(), "taken whole: the consumer sleeps on");
        // The socket leaves bytes: the consumer is woken (with no frames: they went to
        // its writer), and what comes until it waits again is queued for it.
        direct.takes.store(false, SeqCst);
        feed.offer([frame(Audio, 10)]);
        assert_eq!(waiting.await.unwrap(), (true, 0));
        feed.offer([frame(Audio, 20)]);
        assert_eq!(direct.got.lock().unwrap().len(), 3);
        assert_eq!(sink.queued_bytes(), 20);
        sink.close();
        feed.offer([frame(Audio, 10)]);
        assert_eq!(direct.got.lock().unwrap().len(), 3, "closed: no more");
    }

    #[tokio::test]
    async fn a_closed_sink_is_not_fed_and_says_so_to_the_hub() {
        let (feed, sink) = flv_sink(1000);
        feed.offer([frame(MediaRole::Audio, 10)]);
        sink.close();
        assert!(!feed.is_open());
        feed.offer([frame(MediaRole::Audio, 10)]);
        let mut got = Vec::new();
        assert!(sink.recv(&mut got).await, "what was queued before");
        assert_eq!(got.len(), 1);
        assert!(!sink.recv(&mut got).await);
        drop(sink);
        assert!(!feed.is_open());
    }
}
