//! The per-session send queue: what is waiting to be written to one peer, in order,
//! with the drop policy that bounds a slow player (nginx-rtmp and SRS drop media by
//! priority rather than buffer without bound).
//!
//! Bytes of the session's own encoder (control messages, commands) are never dropped.
//! Shared media frames are: when the queue is past its limit, video is dropped until
//! the next keyframe (queued inter-frames go too), then audio past twice the limit.
//! Decoder configurations are never dropped.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;

use bytes::Bytes;

use super::media::MediaRole;

/// A media message framed once and shared by every consumer of the same framing: RTMP
/// chunks (by `encode_standalone`) for peers with the same chunk size, chunk stream id
/// and message stream id, or an FLV tag (`flv::tag`) for every FLV consumer.
#[derive(Debug)]
pub struct SharedFrame {
    pub role: MediaRole,
    pub parts: Vec<Bytes>,
    pub len: usize,
}

impl SharedFrame {
    pub fn new(role: MediaRole, parts: Vec<Bytes>) -> Self {
        let len = parts.iter().map(Bytes::len).sum();
        Self { role, parts, len }
    }
}

#[derive(Debug)]
enum Item {
    Own(Bytes),
    Shared(Arc<SharedFrame>),
}

impl Item {
    fn len(&self) -> usize {
        match self {
            Self::Own(b) => b.len(),
            Self::Shared(f) => f.len,
        }
    }

    fn parts(&self) -> &[Bytes] {
        match self {
            Self::Own(b) => std::slice::from_ref(b),
            Self::Shared(f) => &f.parts,
        }
    }
}

/// Buffers handed to one vectored write (below the kernel's IOV_MAX of 1024).
pub const MAX_IOVECS: usize = 256;

/// Items an empty queue keeps room for: a player written to directly has a frame or
/// two queued at a time. A larger queue (a join burst, a backed-up socket) gives its
/// room back once drained, so each player does not keep the room of its burst.
const KEPT_CAPACITY: usize = 4;

/// What happened to a media frame offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    Dropped,
}

/// Counters of what the drop policy did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DropStats {
    pub video_frames: u64,
    pub audio_frames: u64,
}

/// The ordered queue of one peer.
#[derive(Debug)]
pub struct SendQueue {
    items: VecDeque<Item>,
    /// Bytes of the front item already written (a write stopped in the middle of it).
    front_written: usize,
    queued: usize,
    media_limit: usize,
    skipping_video: bool,
    dropped: DropStats,
    /// Bytes of shared frames queued so far.
    shared_bytes: u64,
}

impl SendQueue {
    /// `media_limit`: queued bytes past which media is dropped.
    pub fn new(media_limit: usize) -> Self {
        Self {
            items: VecDeque::new(),
            front_written: 0,
            queued: 0,
            media_limit,
            skipping_video: false,
            dropped: DropStats::default(),
            shared_bytes: 0,
        }
    }

    /// Bytes waiting.
    pub fn queued_bytes(&self) -> usize {
        self.queued
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn dropped(&self) -> DropStats {
        self.dropped
    }

    /// Bytes of shared frames queued so far (what the session's own counter misses).
    pub fn shared_bytes(&self) -> u64 {
        self.shared_bytes
    }

    /// Appends bytes that must be delivered (never dropped).
    pub fn push_own(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.queued += bytes.len();
        self.items.push_back(Item::Own(bytes));
    }

    /// Offers a shared media frame; the drop policy may refuse it.
    pub fn offer(&mut self, frame: Arc<SharedFrame>) -> Offer {
        let over = self.queued + frame.len > self.media_limit;
        let keep = match frame.role {
            MediaRole::Config => true,
            MediaRole::Keyframe | MediaRole::InterFrame => {
                if over {
                    self.start_skipping_video();
                } else if frame.role == MediaRole::Keyframe {
                    self.skipping_video = false;
                }
                !self.skipping_video
            }
            MediaRole::Audio => self.queued + frame.len <= 2 * self.media_limit,
        };
        if !keep {
            match frame.role {
                MediaRole::Audio => self.dropped.audio_frames += 1,
                _ => self.dropped.video_frames += 1,
            }
            return Offer::Dropped;
        }
        self.queued += frame.len;
        self.shared_bytes += frame.len as u64;
        self.items.push_back(Item::Shared(frame));
        Offer::Queued
    }

    /// Queues a shared frame whatever the limit: the burst a joining player gets
    /// (configurations and the cached GOP, bounded by the GOP cache).
    pub fn push_shared(&mut self, frame: Arc<SharedFrame>) {
        self.queued += frame.len;
        self.shared_bytes += frame.len as u64;
        self.items.push_back(Item::Shared(frame));
    }

    /// Takes the front frame whole, for a consumer that handles frames rather than
    /// bytes (an FLV file writer); `None` when the queue is empty or its front is the
    /// session's own bytes or a frame already partly written.
    pub fn pop_frame(&mut self) -> Option<Arc<SharedFrame>> {
        if self.front_written > 0 || !matches!(self.items.front(), Some(Item::Shared(_))) {
            return None;
        }
        let Some(Item::Shared(frame)) = self.items.pop_front() else {
            return None;
        };
        self.queued -= frame.len;
        self.shrink_if_drained();
        Some(frame)
    }

    /// Drops video until the next keyframe, including inter-frames already queued
    /// (they are useless without the frames that are now dropped).
    fn start_skipping_video(&mut self) {
        self.skipping_video = true;
        let before = self.items.len();
        let mut freed = 0;
        // The peer may already have the start of the front item: it goes out whole.
        let mut keep_front = self.front_written > 0;
        self.items.retain(|item| {
            if std::mem::take(&mut keep_front) {
                return true;
            }
            match item {
                Item::Shared(f)
                    if matches!(f.role, MediaRole::Keyframe | MediaRole::InterFrame) =>
                {
                    freed += f.len;
                    false
                }
                _ => true,
            }
        });
        self.queued -= freed;
        self.dropped.video_frames += (before - self.items.len()) as u64;
    }

    /// Moves up to `max_bytes` (at least one item) into `out` for a vectored write.
    pub fn take(&mut self, out: &mut Vec<Bytes>, max_bytes: usize) {
        let mut taken = 0;
        while let Some(item) = self.items.front() {
            let left = item.len() - self.front_written;
            if taken > 0 && taken + left > max_bytes {
                break;
            }
            let Some(item) = self.items.pop_front() else {
                break;
            };
            taken += left;
            self.queued -= left;
            let mut skip = std::mem::take(&mut self.front_written);
            for part in item.parts() {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                out.push(part.slice(skip..));
                skip = 0;
            }
        }
        self.shrink_if_drained();
    }

    /// Hands `write` the front of the queue (at most [`MAX_IOVECS`] buffers) without
    /// taking it out, for a write that never waits, and drops the bytes `write` says
    /// it wrote; returns that count.
    pub fn write_front(&mut self, write: impl FnOnce(&[IoSlice<'_>]) -> usize) -> usize {
        let written = {
            // A Vec, not a [IoSlice; MAX_IOVECS] on the stack: filling that array
            // cost more than the few buffers a player's write usually has.
            let mut slices = Vec::new();
            let mut skip = self.front_written;
            'items: for item in &self.items {
                for part in item.parts() {
                    if skip >= part.len() {
                        skip -= part.len();
                        continue;
                    }
                    if slices.len() == MAX_IOVECS {
                        break 'items;
                    }
                    slices.push(IoSlice::new(&part[skip..]));
                    skip = 0;
                }
            }
            if slices.is_empty() {
                return 0;
            }
            write(&slices)
        };
        self.consume(written);
        written
    }

    /// Drops `n` written bytes from the front.
    fn consume(&mut self, mut n: usize) {
        self.queued -= n;
        while n > 0 {
            let Some(front) = self.items.front() else {
                break;
            };
            let left = front.len() - self.front_written;
            if n < left {
                self.front_written += n;
                break;
            }
            n -= left;
            self.front_written = 0;
            self.items.pop_front();
        }
        self.shrink_if_drained();
    }

    fn shrink_if_drained(&mut self) {
        if self.items.is_empty() && self.items.capacity() > KEPT_CAPACITY {
            self.items.shrink_to(KEPT_CAPACITY);
        }
    }

    /// Drops everything queued (the session is being destroyed).
    pub fn clear(&mut self) {
        self.items.clear();
        self.front_written = 0;
        self.queued = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(role: MediaRole, len: usize) -> Arc<SharedFrame> {
        Arc::new(SharedFrame::new(role, vec![Bytes::from(vec![0u8; len])]))
    }

    fn drain(q: &mut SendQueue) -> usize {
        let mut out = Vec::new();
        q.take(&mut out, usize::MAX);
        out.iter().map(Bytes::len).sum()
    }

    #[test]
    fn within_the_limit_everything_is_queued_in_order() {
        let mut q = SendQueue::new(1000);
        q.push_own(Bytes::from_static(b"cmd"));
        assert_eq!(q.offer(frame(MediaRole::Keyframe, 100)), Offer::Queued);
        assert_eq!(q.offer(frame(MediaRole::Audio, 10)), Offer::Queued);
        let mut out = Vec::new();
        q.take(&mut out, usize::MAX);
        let lens: Vec<usize> = out.iter().map(Bytes::len).collect();
        assert_eq!(lens, [3, 100, 10]);
        assert_eq!(q.queued_bytes(), 0);
    }

    #[test]
    fn past_the_limit_video_is_dropped_until_the_next_keyframe_before_audio() {
        let mut q = SendQueue::new(1000);
        q.offer(frame(MediaRole::Keyframe, 600));
        q.offer(frame(MediaRole::InterFrame, 300));
        // Over the limit: this frame and the queued video go; audio stays.
        q.offer(frame(MediaRole::Audio, 50));
        assert_eq!(q.offer(frame(MediaRole::InterFrame, 300)), Offer::Dropped);
        assert_eq!(q.queued_bytes(), 50);
        assert_eq!(
            q.offer(frame(MediaRole::InterFrame, 10)),
            Offer::Dropped,
            "skipping until a keyframe"
        );
        assert_eq!(q.offer(frame(MediaRole::Audio, 50)), Offer::Queued);
        assert_eq!(
            q.offer(frame(MediaRole::Keyframe, 500)),
            Offer::Queued,
            "catches up on a keyframe"
        );
        assert_eq!(q.offer(frame(MediaRole::InterFrame, 10)), Offer::Queued);
        assert_eq!(q.dropped().video_frames, 4);
        assert_eq!(q.dropped().audio_frames, 0);
    }

    #[test]
    fn control_bytes_and_configs_are_never_dropped_and_audio_only_past_twice_the_limit() {
        let mut q = SendQueue::new(100);
        q.push_own(Bytes::from(vec![0u8; 150]));
        assert_eq!(q.offer(frame(MediaRole::Config, 40)), Offer::Queued);
        assert_eq!(q.offer(frame(MediaRole::Audio, 10)), Offer::Queued);
        assert_eq!(q.offer(frame(MediaRole::Audio, 10)), Offer::Dropped);
        assert_eq!(q.dropped().audio_frames, 1);
        assert_eq!(drain(&mut q), 200);
    }

    #[test]
    fn a_join_burst_is_queued_whole_then_live_frames_follow_the_policy() {
        let mut q = SendQueue::new(100);
        q.push_shared(frame(MediaRole::Keyframe, 150));
        q.push_shared(frame(MediaRole::InterFrame, 50));
        assert_eq!(q.queued_bytes(), 200);
        assert_eq!(q.offer(frame(MediaRole::InterFrame, 10)), Offer::Dropped);
    }

    #[test]
    fn take_respects_the_byte_budget_but_always_moves_one_item() {
        let mut q = SendQueue::new(10_000);
        for _ in 0..3 {
            q.offer(frame(MediaRole::Audio, 400));
        }
        let mut out = Vec::new();
        q.take(&mut out, 500);
        assert_eq!(out.len(), 1);
        q.take(&mut out, 100);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_write_that_stops_mid_frame_resumes_there_and_that_frame_survives_a_video_drop() {
        let mut q = SendQueue::new(100);
        q.offer(frame(MediaRole::Keyframe, 60));
        q.offer(frame(MediaRole::Audio, 5));
        let offered = q.write_front(|slices| {
            assert_eq!(slices.iter().map(|s| s.len()).collect::<Vec<_>>(), [60, 5]);
            20
        });
        assert_eq!(offered, 20);
        assert_eq!(q.queued_bytes(), 45);
        assert_eq!(q.offer(frame(MediaRole::InterFrame, 90)), Offer::Dropped);
        q.write_front(|slices| {
            assert_eq!(slices.iter().map(|s| s.len()).collect::<Vec<_>>(), [40, 5]);
            0
        });
        let mut out = Vec::new();
        q.take(&mut out, usize::MAX);
        assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), [40, 5]);
        assert_eq!(q.queued_bytes(), 0);
        assert_eq!(q.write_front(|_| unreachable!("nothing queued")), 0);
    }

    #[test]
    fn a_drained_queue_gives_back_the_room_of_a_burst_by_either_write_path() {
        let mut q = SendQueue::new(usize::MAX);
        for _ in 0..300 {
            q.push_shared(frame(MediaRole::InterFrame, 10));
        }
        assert!(q.items.capacity() >= 300);
        let written = q.write_front(|slices| slices.iter().map(|s| s.len()).sum());
        assert_eq!(written, 2560, "MAX_IOVECS frames");
        assert!(q.items.capacity() >= 300, "not drained yet");
        let mut out = Vec::new();
        q.take(&mut out, usize::MAX);
        assert!(q.is_empty() && q.items.capacity() <= KEPT_CAPACITY);

        for _ in 0..200 {
            q.push_shared(frame(MediaRole::InterFrame, 10));
        }
        while !q.is_empty() {
            q.write_front(|slices| slices.iter().map(|s| s.len()).sum());
        }
        assert!(q.items.capacity() <= KEPT_CAPACITY);
    }

    #[test]
    fn pop_frame_takes_whole_shared_frames_only() {
        let mut q = SendQueue::new(1000);
        q.offer(frame(MediaRole::Audio, 10));
        q.push_own(Bytes::from_static(b"cmd"));
        assert_eq!(q.pop_frame().map(|f| f.len), Some(10));
        assert!(q.pop_frame().is_none(), "own bytes are not a frame");
        assert_eq!(q.queued_bytes(), 3);
        drain(&mut q);
        q.offer(frame(MediaRole::Audio, 10));
        q.write_front(|_| 4);
        assert!(q.pop_frame().is_none(), "partly written");
    }
}
