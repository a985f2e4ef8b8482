//! Native fan-out: a hub per live stream receives the publisher's audio, video and data
//! messages (in the publisher's reader task) and, after a read of the publisher, hands
//! what is due to every player as shared frames, written to each player's socket from
//! the publisher's task. Each message is encoded once per distinct (chunk
//! size, message stream id) and keeps its encodings while cached. Late joiners first get
//! the metadata, the decoder configurations and the cached group of pictures starting
//! at its keyframe (the same frames the live players got), so they start at once.
//!
//! What a read of the publisher brought goes out at once to each player whose write path
//! is idle; a player whose socket is backed up gets it merged into its writer's next
//! write (`ConnectionHandle::relay_now`). With a merge window (as SRS's `mw_latency`)
//! audio and data also wait for the next video frame, at most that long, so a player
//! gets one write per video frame instead of one per message: on loopback most of a
//! relay's CPU is the kernel's cost per write (BENCHMARKS.md), and an audio/video stream
//! is about 40 % video messages. RTMP players and FLV players (HTTP-FLV, WebSocket-FLV)
//! each have their own window ([`MergeWindows`]): RTMP players' is zero by default
//! (latency first), FLV players' 40 ms (a browser's MSE player buffers far more).
//!
//! FLV consumers (a recording; `flv_sink`) get the same join burst and the same live
//! messages, each framed once as an FLV tag for all of them, queued under the hub's lock
//! in the flush that takes the messages. Outputs (a recording, the HLS muxer) pay
//! nothing per write: with no FLV player they get each read of the publisher at once,
//! otherwise they go with the FLV players' merged writes.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::connection::{PublishTarget, RelayScratch};
use super::flv_sink::FlvSinkFeed;
use super::ConnectionHandle;
use crate::proto::chunk::{encode_standalone, Message, OutgoingHeader, Payload};
use crate::proto::flv;
use crate::proto::media::{classify, ConfigCache, MediaClass, MediaRole};
use crate::proto::message::type_id;
use crate::proto::outbound::SharedFrame;

/// Chunk streams relayed media goes out on (the session's own commands use 3).
pub const AUDIO_CSID: u32 = 4;
pub const DATA_CSID: u32 = 5;
pub const VIDEO_CSID: u32 = 6;

/// `@setDataFrame` as an AMF0 string: publishers prefix their metadata with it; players
/// get the rest (`onMetaData`, {...}).
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// A published message as the hub keeps it (pending, in the GOP cache, or as metadata
/// or a decoder configuration); clones share its encodings.
#[derive(Clone)]
struct Cached {
    type_id: u8,
    timestamp: u32,
    payload: Payload,
    role: MediaRole,
    encoded: Arc<Encodings>,
}

/// The framings a cached message keeps, shared by its clones.
#[derive(Default)]
struct Encodings {
    /// RTMP chunks per (chunk size, message stream id).
    rtmp: Mutex<Vec<Encoded>>,
    /// The FLV tag every FLV consumer gets (`None`: too long for a tag).
    flv: OnceLock<Option<Arc<SharedFrame>>>,
}

/// What an FLV consumer is to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// An output of the publication (a recording, the HLS muxer): it ends with the
    /// publication, and nothing waits for the merge window for it (it pays nothing
    /// per write).
    Output,
    /// A player on a network connection (HTTP-FLV, WebSocket-FLV): its writes are
    /// merged, with the FLV players' merge window ([`MergeWindows`]); with `stays` it stays when
    /// the publisher leaves and gets the next publication, as RTMP players do,
    /// otherwise it ends with the publication.
    Player { stays: bool },
}

/// An FLV consumer of the hub and where it is in the stream, as [`Player`] is.
struct Sink {
    feed: FlvSinkFeed,
    kind: SinkKind,
    waiting_for_keyframe: bool,
    joined_after: u64,
}

struct Player {
    conn: ConnectionHandle,
    stream_id: u32,
    /// Joined with no keyframe to start from: media waits for the next one.
    waiting_for_keyframe: bool,
    /// The hub's message count when it joined: its burst had every message up to it.
    joined_after: u64,
}

#[derive(Default)]
struct HubState {
    metadata: Option<Cached>,
    /// Every track's decoder configurations (and multichannel layouts, HDR metadata).
    configs: ConfigCache<Cached>,
    /// The video track whose keyframes start a group of pictures: that of the
    /// publication's first keyframe (track 0, the default track, unless the publisher
    /// sends only multitrack video). Other tracks' keyframes count as inter frames.
    gop_track: Option<u8>,
    /// The current group of pictures, from its keyframe; empty when unknown or over
    /// the limit.
    gop: Vec<Cached>,
    gop_bytes: usize,
    /// A video message was published: players that joined with no keyframe to start
    /// from wait for one. An audio-only stream has none to wait for.
    has_video: bool,
    last_timestamp: u32,
    players: Vec<Player>,
    sinks: Vec<Sink>,
    messages: u64,
    /// Messages published since the RTMP players were last sent what was published.
    pending: Pending,
    /// Messages published since the FLV consumers were last sent what was published.
    flv_pending: Pending,
}

/// Messages published since a group of consumers was last sent what was published:
/// the last `items.len()` of the hub's `messages`.
#[derive(Default)]
struct Pending {
    items: Vec<Cached>,
    bytes: usize,
    /// When the oldest of them was published.
    since: Option<Instant>,
}

impl Pending {
    fn push(&mut self, item: Cached) {
        if self.items.is_empty() {
            self.since = Some(Instant::now());
        }
        self.bytes += item.payload.len();
        self.items.push(item);
    }

    fn take(&mut self) -> Vec<Cached> {
        self.bytes = 0;
        self.since = None;
        std::mem::take(&mut self.items)
    }

    /// When these must go out if nothing else sends them first, waiting at most
    /// `window` for a video frame; `None`: now (a video frame is pending, the window is
    /// zero, or the bytes reached [`MERGE_MAX_BYTES`]).
    fn deadline(&self, window: Duration) -> Option<Instant> {
        let holds = !window.is_zero()
            && self.bytes < MERGE_MAX_BYTES
            && !self.items.iter().any(|i| i.type_id == type_id::VIDEO);
        holds.then_some(self.since? + window)
    }
}

/// How long audio and data may wait for the next video frame, to reach a player in one
/// write with it: for RTMP players and for FLV players (HTTP-FLV, WebSocket-FLV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeWindows {
    pub rtmp: Duration,
    pub flv: Duration,
}

impl MergeWindows {
    /// No merging for any player: every publisher read goes out at once.
    #[cfg(test)]
    pub const NONE: Self = Self {
        rtmp: Duration::ZERO,
        flv: Duration::ZERO,
    };
}

impl Default for MergeWindows {
    /// RTMP players: none (each read of the publisher goes out at once). FLV players:
    /// 40 ms, a frame at 25 fps — a browser's MSE player buffers hundreds of ms
    /// whatever the server does, and one write per video frame instead of one per
    /// message halves what each such player costs (BENCHMARKS.md, HTTP-FLV).
    fn default() -> Self {
        Self {
            rtmp: Duration::ZERO,
            flv: Duration::from_millis(40),
        }
    }
}

/// Statistics of a hub.
#[derive(Debug, Clone, Copy, Default)]
pub struct HubStats {
    pub players: usize,
    /// FLV consumers still taking frames (recordings, HTTP-FLV and WebSocket-FLV players).
    pub flv_sinks: usize,
    pub messages: u64,
    pub gop_messages: usize,
    pub gop_bytes: usize,
}

/// One live stream's fan-out point.
pub struct Hub {
    state: Mutex<HubState>,
    gop_limit: usize,
    merge: MergeWindows,
}

/// Pending bytes that go out at once, whatever the merge window: a merged write stays
/// the size of a video frame, not of what a publisher sending faster than real time
/// sends in a window.
const MERGE_MAX_BYTES: usize = 64 * 1024;

fn csid_for(type_id: u8) -> u32 {
    match type_id {
        type_id::AUDIO => AUDIO_CSID,
        type_id::VIDEO => VIDEO_CSID,
        _ => DATA_CSID,
    }
}

/// A player to send a flush's messages to, read under the hub's lock.
struct Due {
    conn: ConnectionHandle,
    stream_id: u32,
    waiting_for_keyframe: bool,
    /// Leading messages its join burst already had.
    skip: usize,
}

/// A message encoded for one (chunk size, message stream id).
type Encoded = ((u32, u32), Arc<SharedFrame>);

/// Encodings a message keeps for reuse: players on more distinct (chunk size, message
/// stream id) pairs than this get theirs encoded each time, so what a message holds
/// stays bounded whatever its players ask for.
const MAX_KEPT_ENCODINGS: usize = 4;

impl Cached {
    /// This message at its own timestamp, encoded for `chunk_size` on message stream
    /// `stream_id`: once, then shared by every player that needs the same, live or in
    /// a join burst (the GOP cache keeps the encodings with the messages).
    fn frame(&self, chunk_size: u32, stream_id: u32) -> Arc<SharedFrame> {
        let key = (chunk_size, stream_id);
        let mut encoded = self.encoded.rtmp.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, frame)) = encoded.iter().find(|(k, _)| *k == key) {
            return frame.clone();
        }
        let frame = frame_for(self, chunk_size, stream_id, self.timestamp);
        if encoded.len() < MAX_KEPT_ENCODINGS {
            encoded.push((key, frame.clone()));
        }
        frame
    }

    /// This message at its own timestamp as an FLV tag: framed once, then shared by
    /// every FLV consumer, live or in a join burst.
    fn flv_frame(&self) -> Option<Arc<SharedFrame>> {
        let frame = self
            .encoded
            .flv
            .get_or_init(|| flv_frame_for(self, self.timestamp));
        frame.clone()
    }
}

/// `item` as an FLV tag at `timestamp` (FLV v10.1 §E.4.1).
fn flv_frame_for(item: &Cached, timestamp: u32) -> Option<Arc<SharedFrame>> {
    let parts = flv::tag(item.type_id, timestamp, &item.payload)?;
    Some(Arc::new(SharedFrame::new(item.role, parts)))
}

/// What a consumer joining now gets before live messages: the metadata (at 0) and
/// every track's decoder configurations stamped with the time the cached GOP starts at
/// (`Some`), then the cached GOP at its own timestamps (`None`). RTMP players and FLV
/// sinks both.
fn join_burst(state: &HubState) -> impl Iterator<Item = (&Cached, Option<u32>)> {
    let start = state
        .gop
        .first()
        .map_or(state.last_timestamp, |c| c.timestamp);
    // Metadata at timestamp 0, as a publisher sends it first: FFmpeg's FLV reader
    // takes an onMetaData with a later timestamp for a text (subtitle) track.
    let metadata = state.metadata.iter().map(|item| (item, Some(0)));
    let configs = state
        .configs
        .in_join_order()
        .map(move |item| (item, Some(start)));
    metadata
        .chain(configs)
        .chain(state.gop.iter().map(|item| (item, None)))
}

/// The messages of a flush a consumer gets: those after the first `skip` (its join
/// burst had them), and while it waits for a keyframe only configurations and data
/// until one.
fn deliverable(
    items: &[Cached],
    skip: usize,
    mut waiting: bool,
) -> impl Iterator<Item = (usize, &Cached)> {
    items
        .iter()
        .enumerate()
        .skip(skip)
        .filter(move |(_, item)| {
            if waiting {
                match item.role {
                    MediaRole::Keyframe => waiting = false,
                    MediaRole::Config => {}
                    _ => return false,
                }
            }
            true
        })
}

/// One flush's frames: the last one used of each message, so that players on the same
/// (chunk size, message stream id), usually all of them, lock a message's encodings once
/// per flush rather than once each.
struct FlushFrames(Vec<Option<Encoded>>);

impl FlushFrames {
    fn new(messages: usize) -> Self {
        Self(vec![None; messages])
    }

    /// Message `index` (`item`) for `chunk_size` on message stream `stream_id`.
    fn get(
        &mut self,
        index: usize,
        item: &Cached,
        chunk_size: u32,
        stream_id: u32,
    ) -> Arc<SharedFrame> {
        let key = (chunk_size, stream_id);
        match &self.0[index] {
            Some((k, frame)) if *k == key => frame.clone(),
            _ => {
                let frame = item.frame(chunk_size, stream_id);
                self.0[index] = Some((key, frame.clone()));
                frame
            }
        }
    }
}

fn frame_for(item: &Cached, chunk_size: u32, stream_id: u32, timestamp: u32) -> Arc<SharedFrame> {
    let header = OutgoingHeader {
        csid: csid_for(item.type_id),
        timestamp,
        type_id: item.type_id,
        stream_id,
    };
    Arc::new(SharedFrame::new(
        item.role,
        encode_standalone(&header, &item.payload, chunk_size),
    ))
}

impl Hub {
    /// A hub caching at most `gop_limit` bytes of the current group of pictures, whose
    /// audio and data wait for the next video frame at most as long as `merge` says
    /// for each kind of player (zero: every publisher read goes out at once).
    pub fn new(gop_limit: usize, merge: MergeWindows) -> Self {
        Self {
            state: Mutex::new(HubState::default()),
            gop_limit,
            merge,
        }
    }

    fn state(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one message from the publisher: updates the caches and keeps it for
    /// [`Self::flush_players`].
    pub fn publish(&self, msg: &Message) {
        let (payload, class) = match msg.type_id {
            type_id::AUDIO | type_id::VIDEO => (
                msg.payload.clone(),
                Some(classify(msg.type_id, &msg.payload)),
            ),
            _ if msg.payload.starts_with(SET_DATA_FRAME) => {
                (msg.payload.skip(SET_DATA_FRAME.len()), None)
            }
            _ => (msg.payload.clone(), None),
        };
        let mut state = self.state();
        let role = match class {
            Some(class) if class.role == MediaRole::Keyframe => {
                let track = class.tracks.first().unwrap_or(0);
                match *state.gop_track.get_or_insert(track) == track {
                    true => MediaRole::Keyframe,
                    false => MediaRole::InterFrame,
                }
            }
            Some(class) => class.role,
            // Data messages are never dropped.
            None => MediaRole::Config,
        };
        // A payload in pieces (the chunks it arrived in) is made one buffer once when
        // players will write it: one iovec per frame instead of one per piece, in every
        // player's writes. With no players it is kept as it is, copied never.
        let payload = match payload.parts().len() {
            1 => payload,
            _ if state.players.is_empty() => payload,
            _ => payload.to_bytes().into(),
        };
        let item = Cached {
            type_id: msg.type_id,
            timestamp: msg.timestamp,
            payload,
            role,
            encoded: Arc::default(),
        };
        state.messages += 1;
        state.last_timestamp = msg.timestamp;
        state.has_video |= msg.type_id == type_id::VIDEO;
        self.remember(&mut state, &item, class.as_ref(), msg);
        state.flv_pending.push(item.clone());
        state.pending.push(item);
    }

    /// [`Self::flush_players`] for each kind of player whose pending messages are due at
    /// `now`: a video frame is pending, the oldest message has waited the merge window,
    /// or the pending bytes reached [`MERGE_MAX_BYTES`]. Returns when the rest will be
    /// due; the publisher's reader calls this after each read, and again at that time if
    /// no read came first. With no players of a kind nothing waits for them.
    pub fn flush_players_when_due(&self, now: Instant) -> Option<Instant> {
        self.flush(Some(now))
    }

    /// Sends every player and FLV consumer the messages published since the last call,
    /// in one pass over the players, so that they go out to each in one vectored write.
    /// The hub's lock is not held while writing to RTMP players.
    pub fn flush_players(&self) {
        self.flush(None);
    }

    /// The flush of both: `now` asks whether what is pending is due yet.
    fn flush(&self, now: Option<Instant>) -> Option<Instant> {
        let flv_deadline = self.flush_flv(now);
        let rtmp_deadline = self.flush_rtmp(now);
        match (rtmp_deadline, flv_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The pending messages of a kind of player if they are due at `now` (always, with
    /// `now` `None` or no player of the kind waiting for merged writes); otherwise when
    /// they will be.
    fn take_due(
        pending: &mut Pending,
        window: Duration,
        merged: bool,
        now: Option<Instant>,
    ) -> Result<Vec<Cached>, Option<Instant>> {
        if pending.items.is_empty() {
            return Err(None);
        }
        if let Some(now) = now.filter(|_| merged) {
            match pending.deadline(window) {
                Some(deadline) if now < deadline => return Err(Some(deadline)),
                _ => {}
            }
        }
        Ok(pending.take())
    }

    /// Offers the FLV consumers their due messages, each framed once as an FLV tag:
    /// queued under the hub's lock (a player's feed writes them at once if its socket
    /// is idle).
    fn flush_flv(&self, now: Option<Instant>) -> Option<Instant> {
        let mut guard = self.state();
        let state = &mut *guard;
        let merged = state.sinks.iter().any(|s| s.kind != SinkKind::Output);
        let items = match Self::take_due(&mut state.flv_pending, self.merge.flv, merged, now) {
            Ok(items) => items,
            Err(deadline) => return deadline,
        };
        let first = state.messages + 1 - items.len() as u64;
        let keyframe_at = items.iter().position(|i| i.role == MediaRole::Keyframe);
        let has_video = state.has_video;
        state.sinks.retain_mut(|sink| {
            if !sink.feed.is_open() {
                return false;
            }
            let skip = (sink.joined_after + 1).saturating_sub(first) as usize;
            let waiting = sink.waiting_for_keyframe && has_video;
            sink.feed
                .offer(deliverable(&items, skip, waiting).filter_map(|(_, item)| item.flv_frame()));
            sink.waiting_for_keyframe &= keyframe_at.is_none_or(|k| k < skip);
            true
        });
        None
    }

    /// Writes the RTMP players their due messages, encoded once per (chunk size,
    /// message stream id), from the calling task.
    fn flush_rtmp(&self, now: Option<Instant>) -> Option<Instant> {
        let (items, due) = {
            let mut guard = self.state();
            let state = &mut *guard;
            let merged = !state.players.is_empty();
            let items = match Self::take_due(&mut state.pending, self.merge.rtmp, merged, now) {
                Ok(items) => items,
                Err(deadline) => return deadline,
            };
            let first = state.messages + 1 - items.len() as u64;
            let keyframe_at = items.iter().position(|i| i.role == MediaRole::Keyframe);
            let mut due = Vec::with_capacity(state.players.len());
            let has_video = state.has_video;
            state.players.retain_mut(|player| {
                if !player.conn.is_running() {
                    return false;
                }
                let skip = (player.joined_after + 1).saturating_sub(first) as usize;
                due.push(Due {
                    conn: player.conn.clone(),
                    stream_id: player.stream_id,
                    waiting_for_keyframe: player.waiting_for_keyframe && has_video,
                    skip,
                });
                // It starts at the first keyframe it is sent, not one its burst skipped.
                player.waiting_for_keyframe &= keyframe_at.is_none_or(|k| k < skip);
                true
            });
            (items, due)
        };
        if due.is_empty() {
            return None;
        }
        let mut frames = FlushFrames::new(items.len());
        let mut scratch = RelayScratch::default();
        for player in due {
            player.conn.relay_now(
                |chunk_size, out| {
                    let due = deliverable(&items, player.skip, player.waiting_for_keyframe);
                    for (i, item) in due {
                        let frame = frames.get(i, item, chunk_size, player.stream_id);
                        out.push((csid_for(item.type_id), frame));
                    }
                },
                &mut scratch,
            );
        }
        None
    }

    /// Updates metadata, decoder configurations and the GOP cache.
    fn remember(
        &self,
        state: &mut HubState,
        item: &Cached,
        class: Option<&MediaClass>,
        msg: &Message,
    ) {
        let Some(class) = class else {
            if msg.payload.starts_with(SET_DATA_FRAME) || msg.payload.starts_with(flv::ON_META_DATA)
            {
                state.metadata = Some(item.clone());
            }
            return;
        };
        if class.role == MediaRole::Config {
            let bytes = item.payload.len();
            state
                .configs
                .update(msg.type_id, class, bytes, item.clone());
            return;
        }
        if item.role == MediaRole::Keyframe {
            state.gop.clear();
            state.gop_bytes = 0;
        }
        if !state.gop.is_empty() || item.role == MediaRole::Keyframe {
            if state.gop_bytes + item.payload.len() > self.gop_limit {
                // Too long to cache: late joiners wait for the next keyframe instead.
                state.gop.clear();
                state.gop_bytes = 0;
            } else {
                state.gop_bytes += item.payload.len();
                state.gop.push(item.clone());
            }
        }
    }

    /// Adds a player on its message stream `stream_id`: it gets the metadata, the
    /// configurations and the cached GOP now, then every message live.
    pub fn add_player(&self, conn: ConnectionHandle, stream_id: u32) {
        let mut state = self.state();
        for (item, restamp) in join_burst(&state) {
            conn.push_frame(csid_for(item.type_id), |cs| match restamp {
                Some(timestamp) => frame_for(item, cs, stream_id, timestamp),
                None => item.frame(cs, stream_id),
            });
        }
        let waiting_for_keyframe = state.gop.is_empty();
        state.players.retain(|p| p.conn.id() != conn.id());
        let joined_after = state.messages;
        state.players.push(Player {
            conn,
            stream_id,
            waiting_for_keyframe,
            joined_after,
        });
    }

    /// Adds an FLV consumer: it gets the join burst now, then every message live. One
    /// that joins before the publication has sent video waits for no keyframe (a
    /// recording started with the publication gets all of it); otherwise it starts at
    /// the cached GOP's keyframe, or waits for the next one. A recording ends with the
    /// publication ([`Self::publisher_left`]); a player as its [`SinkKind`] says.
    pub fn add_flv_sink(&self, feed: FlvSinkFeed, kind: SinkKind) {
        let mut state = self.state();
        feed.push_burst(
            join_burst(&state).filter_map(|(item, restamp)| match restamp {
                Some(timestamp) => flv_frame_for(item, timestamp),
                None => item.flv_frame(),
            }),
        );
        let waiting_for_keyframe = state.gop.is_empty() && state.has_video;
        let joined_after = state.messages;
        state.sinks.push(Sink {
            feed,
            kind,
            waiting_for_keyframe,
            joined_after,
        });
    }

    /// Removes a player; true if it was there.
    pub fn remove_player(&self, conn_id: u64) -> bool {
        let mut state = self.state();
        let before = state.players.len();
        state.players.retain(|p| p.conn.id() != conn_id);
        state.players.len() != before
    }

    /// The publisher stopped: caches go; players stay and wait for the next one; FLV
    /// sinks end (once they have received what was published), but players that stay
    /// ([`SinkKind::Player`]) wait for the next one's keyframe.
    pub fn publisher_left(&self) {
        self.flush_players();
        let mut state = self.state();
        state
            .sinks
            .retain(|s| s.kind == SinkKind::Player { stays: true } && s.feed.is_open());
        for s in &mut state.sinks {
            s.waiting_for_keyframe = true;
        }
        state.metadata = None;
        state.configs.clear();
        state.gop_track = None;
        state.gop.clear();
        state.gop_bytes = 0;
        state.has_video = false;
        for p in &mut state.players {
            p.waiting_for_keyframe = true;
        }
    }

    pub fn stats(&self) -> HubStats {
        let state = self.state();
        HubStats {
            players: state.players.iter().filter(|p| p.conn.is_running()).count(),
            flv_sinks: state.sinks.iter().filter(|s| s.feed.is_open()).count(),
            messages: state.messages,
            gop_messages: state.gop.len(),
            gop_bytes: state.gop_bytes,
        }
    }
}

/// A publishing connection's messages go to its stream's hub.
impl PublishTarget for Hub {
    fn publish(&self, msg: &Message) {
        Hub::publish(self, msg);
    }

    fn flush_players(&self) {
        Hub::flush_players(self);
    }

    fn flush_players_when_due(&self, now: Instant) -> Option<Instant> {
        Hub::flush_players_when_due(self, now)
    }

    fn publisher_left(&self) {
        Hub::publisher_left(self);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn video(payload: &'static [u8]) -> Cached {
        Cached {
            type_id: type_id::VIDEO,
            timestamp: 40,
            payload: payload.into(),
            role: MediaRole::Keyframe,
            encoded: Arc::default(),
        }
    }

    #[test]
    fn a_message_is_encoded_once_per_chunk_size_and_stream_for_all_its_players() {
        let item = video(&[0x17, 1, 0, 0, 0, 9, 9, 9]);
        let copy = item.clone();
        let first = item.frame(4096, 1);
        assert!(Arc::ptr_eq(&first, &copy.frame(4096, 1)), "clones share it");
        assert!(!Arc::ptr_eq(&first, &item.frame(4096, 2)));
        assert!(!Arc::ptr_eq(&first, &item.frame(128, 1)));
        assert_eq!(first.len, 12 + 8);

        // Past MAX_KEPT_ENCODINGS distinct pairs, frames are encoded each time.
        item.frame(128, 2);
        let extra = item.frame(60_000, 7);
        assert!(!Arc::ptr_eq(&extra, &item.frame(60_000, 7)));
        assert!(Arc::ptr_eq(&first, &item.frame(4096, 1)));
    }

    #[tokio::test]
    async fn a_payload_in_pieces_is_joined_once_only_when_players_will_write_it() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        // A keyframe, then an inter frame (FLV frame type 1, then 2; codec 7, AVC).
        let in_pieces = |timestamp, first_byte| Message {
            csid: 6,
            timestamp,
            type_id: type_id::VIDEO,
            stream_id: 1,
            fmt: 0,
            payload: Payload::from_parts(vec![
                Bytes::from(vec![first_byte; 3000]),
                Bytes::from(vec![1; 3000]),
            ]),
        };
        hub.publish(&in_pieces(0, 0x17));
        let (player, _reader, _writer, _peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player, 1);
        hub.publish(&in_pieces(40, 0x27));
        let state = hub.state();
        let parts: Vec<usize> = state.gop.iter().map(|c| c.payload.parts().len()).collect();
        assert_eq!(
            parts,
            [2, 1],
            "kept in pieces with no player, joined with one"
        );
        assert_eq!(state.gop[1].payload, in_pieces(40, 0x27).payload);
    }

    #[test]
    fn every_tracks_configs_are_cached_and_only_the_default_tracks_keyframes_start_a_gop() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let message = |type_id, timestamp, payload: &[u8]| Message {
            csid: 6,
            timestamp,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::copy_from_slice(payload).into(),
        };
        // FFmpeg's two audio tracks and two video tracks: track 0 as a plain (legacy or
        // ExHeader) message, track 1 in a OneTrack multitrack wrapper.
        hub.publish(&message(
            type_id::AMF0_DATA,
            0,
            b"\x02\x00\x0aonMetaData\x05",
        ));
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 0, 0, 0, 0, 1]));
        hub.publish(&message(type_id::VIDEO, 0, b"\x96\x00hvc1\x01\x01"));
        hub.publish(&message(type_id::AUDIO, 0, &[0xAF, 0, 0x12, 0x10]));
        hub.publish(&message(type_id::AUDIO, 0, b"\x95\x00mp4a\x01\x12\x10"));
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 1, 0, 0, 0, 9]));
        hub.publish(&message(
            type_id::VIDEO,
            0,
            b"\x96\x01hvc1\x01\x00\x00\x00\x09",
        ));
        hub.publish(&message(type_id::AUDIO, 20, b"\x95\x01mp4a\x01\x21"));
        hub.publish(&message(type_id::VIDEO, 40, &[0x27, 1, 0, 0, 0, 9]));
        // Track 1's next keyframe does not restart the GOP; track 0's does.
        hub.publish(&message(
            type_id::VIDEO,
            80,
            b"\x96\x01hvc1\x01\x00\x00\x00\x09",
        ));
        let state = hub.state();
        assert_eq!(
            state.configs.len(),
            4,
            "both tracks' audio and video configs"
        );
        assert!(state.metadata.is_some());
        let roles: Vec<MediaRole> = state.gop.iter().map(|c| c.role).collect();
        use MediaRole::*;
        assert_eq!(roles, [Keyframe, InterFrame, Audio, InterFrame, InterFrame]);
        drop(state);
        hub.publish(&message(type_id::VIDEO, 120, &[0x17, 1, 0, 0, 0, 9]));
        assert_eq!(hub.state().gop.len(), 1);
        hub.publisher_left();
        let state = hub.state();
        assert!(state.configs.is_empty() && state.gop_track.is_none());
    }

    /// What the peer has been sent within `wait`.
    async fn received(peer: &mut tokio::net::TcpStream, wait: Duration) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while let Ok(Ok(n @ 1..)) = tokio::time::timeout(wait, peer.read(&mut buf)).await {
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    #[tokio::test]
    async fn audio_waits_for_the_next_video_frame_at_most_the_merge_window() {
        let window = Duration::from_millis(40);
        let hub = Hub::new(
            1 << 20,
            MergeWindows {
                rtmp: window,
                flv: window,
            },
        );
        let (player, _reader, _writer, mut peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player, 1);
        let message = |type_id, payload: &[u8]| Message {
            csid: 4,
            timestamp: 0,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::copy_from_slice(payload).into(),
        };
        let keyframe = message(type_id::VIDEO, &[0x17, 1, 0, 0, 0, 7]);
        let audio = message(type_id::AUDIO, &[0xaf, 1, 5]);
        let now = Instant::now();

        hub.publish(&keyframe);
        assert_eq!(hub.flush_players_when_due(now), None, "video goes at once");
        assert!(!received(&mut peer, Duration::from_millis(100))
            .await
            .is_empty());

        hub.publish(&audio);
        let deadline = hub.flush_players_when_due(now).expect("audio waits");
        assert!(deadline <= Instant::now() + window);
        assert!(received(&mut peer, Duration::from_millis(50))
            .await
            .is_empty());
        hub.publish(&message(type_id::VIDEO, &[0x27, 1, 0, 0, 0, 8]));
        assert_eq!(hub.flush_players_when_due(now), None);
        // Both in one write, in order: an audio message (type 8 at byte 7 of a type 0
        // chunk header, RTMP 1.0 §5.3.1.2.1), 3 bytes, then the video message (type 9).
        let both = received(&mut peer, Duration::from_millis(100)).await;
        assert_eq!((both.len(), both[7], both[15 + 7]), (12 + 3 + 12 + 6, 8, 9));

        hub.publish(&audio);
        let deadline = hub
            .flush_players_when_due(Instant::now())
            .expect("audio waits");
        assert_eq!(
            hub.flush_players_when_due(deadline),
            None,
            "due at the deadline"
        );
        assert_eq!(
            received(&mut peer, Duration::from_millis(100)).await.len(),
            12 + 3
        );
    }

    #[tokio::test]
    async fn an_idle_player_gets_audio_at_once_without_a_merge_window() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let (player, _reader, _writer, mut peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player, 1);
        let audio = Message {
            csid: 4,
            timestamp: 0,
            type_id: type_id::AUDIO,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(&[0xaf, 1, 5]).into(),
        };
        for _ in 0..3 {
            hub.publish(&audio);
            assert_eq!(hub.flush_players_when_due(Instant::now()), None, "no wait");
            // Written by the flush itself: no writer task runs here.
            let got = received(&mut peer, Duration::from_millis(100)).await;
            assert_eq!((got.len(), got[7]), (12 + 3, type_id::AUDIO));
        }
    }

    #[tokio::test]
    async fn flv_players_wait_their_own_merge_window_while_rtmp_players_get_audio_at_once() {
        let hub = Hub::new(1 << 20, MergeWindows::default());
        let (player, _reader, _writer, mut peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player, 1);
        let (feed, sink) = super::super::flv_sink::flv_sink(1 << 20);
        hub.add_flv_sink(feed, SinkKind::Player { stays: true });
        let audio = Message {
            csid: 4,
            timestamp: 0,
            type_id: type_id::AUDIO,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(&[0xaf, 1, 5]).into(),
        };
        let burst = sink.queued_bytes();
        hub.publish(&audio);
        let deadline = hub
            .flush_players_when_due(Instant::now())
            .expect("the FLV player's audio waits");
        assert!(deadline <= Instant::now() + MergeWindows::default().flv);
        let got = received(&mut peer, Duration::from_millis(100)).await;
        assert_eq!(
            (got.len(), got[7]),
            (12 + 3, type_id::AUDIO),
            "RTMP: at once"
        );
        assert_eq!(sink.queued_bytes(), burst, "FLV: not yet");
        assert_eq!(hub.flush_players_when_due(deadline), None);
        // One FLV tag: an 11-byte header, the 3 bytes, the 4-byte previous tag size.
        assert_eq!(sink.queued_bytes(), burst + 11 + 3 + 4);
        assert!(received(&mut peer, Duration::from_millis(50))
            .await
            .is_empty());
    }

    #[tokio::test]
    async fn a_backed_up_player_gets_what_comes_meanwhile_merged_in_its_writers_next_write() {
        use tokio::io::AsyncReadExt;
        let hub = Hub::new(1 << 30, MergeWindows::NONE);
        let (player, _reader, writer, mut peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player.clone(), 1);
        let message = |type_id, payload: Bytes| Message {
            csid: 6,
            timestamp: 0,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: payload.into(),
        };
        // Keyframes until the peer, not reading, leaves bytes in the player's queue.
        let mut frame = vec![0x27; 1 << 20];
        frame[0] = 0x17;
        let keyframe = Bytes::from(frame);
        let mut sent = 0;
        while player.queued_bytes() == 0 {
            assert!(sent < 64, "the socket never filled");
            hub.publish(&message(type_id::VIDEO, keyframe.clone()));
            hub.flush_players();
            sent += 1;
        }
        let backlog = player.queued_bytes();
        // The peer reads a little, making room; what comes now still joins the queue,
        // behind what the socket did not take, without a write of its own.
        let mut buf = vec![0; 1 << 20];
        peer.read_exact(&mut buf).await.unwrap();
        let audio: &'static [u8] = &[0xaf, 1, 5];
        for _ in 0..2 {
            hub.publish(&message(type_id::AUDIO, Bytes::from_static(audio)));
            hub.flush_players();
        }
        assert_eq!(
            player.queued_bytes(),
            backlog + 2 * (12 + 3),
            "queued, not written"
        );
        // The writer task writes the backlog and the audio: everything, in order.
        let task = tokio::spawn(super::super::connection::write_loop(writer, player.clone()));
        // Each keyframe: a type 0 chunk header, then a 1-byte type 3 header per further
        // chunk (RTMP 1.0 §5.3.1); each audio message one chunk.
        let chunk = player.windows().send_chunk_size as usize;
        let total = sent * (12 + (1 << 20) + ((1 << 20) - 1) / chunk) + 2 * 15;
        let mut got = buf.clone();
        got.resize(total, 0);
        peer.read_exact(&mut got[buf.len()..]).await.unwrap();
        assert_eq!(got[total - 30 + 7], type_id::AUDIO);
        assert_eq!(
            &got[total - 15 + 12..],
            audio,
            "the last audio message, last"
        );
        assert_eq!(player.queued_bytes(), 0);
        player.destroy();
        let _ = task.await;
    }

    #[tokio::test]
    async fn what_waits_goes_out_when_the_publisher_leaves_and_never_waits_without_players() {
        let hub = Hub::new(
            1 << 20,
            MergeWindows {
                rtmp: Duration::from_secs(5),
                flv: Duration::from_secs(5),
            },
        );
        let audio = Message {
            csid: 4,
            timestamp: 0,
            type_id: type_id::AUDIO,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(&[0xaf, 1, 0x12, 0x10]).into(),
        };
        hub.publish(&audio);
        assert_eq!(
            hub.flush_players_when_due(Instant::now()),
            None,
            "no players"
        );
        assert!(hub.state().pending.items.is_empty());

        let (player, _reader, _writer, mut peer) = super::super::connection::test_handle(1).await;
        hub.add_player(player, 1);
        received(&mut peer, Duration::from_millis(100)).await;
        hub.publish(&audio);
        assert!(hub.flush_players_when_due(Instant::now()).is_some());
        hub.publisher_left();
        assert_eq!(
            received(&mut peer, Duration::from_millis(100)).await.len(),
            12 + 4
        );
    }

    #[tokio::test]
    async fn flv_sinks_share_one_framing_per_message_and_get_the_join_burst() {
        let hub = Hub::new(
            1 << 20,
            MergeWindows {
                rtmp: Duration::from_secs(5),
                flv: Duration::from_secs(5),
            },
        );
        let message = |type_id, timestamp, payload: &'static [u8]| Message {
            csid: 6,
            timestamp,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(payload).into(),
        };
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 0, 0, 0, 0, 1]));
        hub.publish(&message(type_id::VIDEO, 40, &[0x17, 1, 0, 0, 0, 2]));
        hub.flush_players();
        let (feed_a, a) = crate::runtime::flv_sink(1 << 20);
        let (feed_b, b) = crate::runtime::flv_sink(1 << 20);
        hub.add_flv_sink(feed_a, SinkKind::Output);
        hub.add_flv_sink(feed_b, SinkKind::Output);
        hub.publish(&message(type_id::AUDIO, 60, &[0xAF, 1, 7]));
        // With only FLV sinks nothing waits for the merge window.
        assert_eq!(hub.flush_players_when_due(Instant::now()), None);
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        assert!(a.recv(&mut got_a).await && b.recv(&mut got_b).await);
        let stamps: Vec<(u32, MediaRole)> = got_a
            .iter()
            .map(|f| (flv::read_tag_header(&f.parts[0]).unwrap().timestamp, f.role))
            .collect();
        assert_eq!(
            stamps,
            [
                (40, MediaRole::Config),
                (40, MediaRole::Keyframe),
                (60, MediaRole::Audio)
            ],
            "the config at the GOP's start, the GOP, then live"
        );
        assert!(Arc::ptr_eq(&got_a[1], &got_b[1]), "GOP framed once");
        assert!(Arc::ptr_eq(&got_a[2], &got_b[2]), "live framed once");
        hub.publisher_left();
        assert!(!a.recv(&mut got_a).await, "ended with the publication");
    }
}
