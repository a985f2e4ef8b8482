//! FLV consumers of a relay hub (a recording file now; HTTP-FLV and WebSocket-FLV
//! players later): each gets the hub's messages as FLV tags framed once per message for
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

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::proto::outbound::{DropStats, SendQueue, SharedFrame};

struct State {
    queue: SendQueue,
    /// The hub still holds the feed.
    fed: bool,
    /// The consumer still takes frames.
    open: bool,
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
        let queued = state.queue.queued_bytes() != before;
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
    /// or [`Self::close`] was called.
    pub async fn recv(&self, out: &mut Vec<Arc<SharedFrame>>) -> bool {
        loop {
            {
                let mut state = self.shared.state();
                let before = out.len();
                while let Some(frame) = state.queue.pop_frame() {
                    out.push(frame);
                }
                if out.len() > before {
                    return true;
                }
                if !state.fed || !state.open {
                    return false;
                }
            }
            // A notification between the unlock and here is kept for this wait.
            self.shared.changed.notified().await;
        }
    }

    /// Stops taking frames: the hub stops feeding this sink (it forgets it at its next
    /// flush); what is queued can still be received.
    pub fn close(&self) {
        self.shared.state().open = false;
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
        self.shared.state().open = false;
    }
}

#[cfg(test)]
mod tests {
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
