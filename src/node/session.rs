//! `NativeSession`: the JS handle on one RTMP session, either an accepted tokio
//! connection or a detached core driven by bytes from a JS stream (`rtmpSession` over a
//! `net.Socket`, a TLS socket or any Duplex).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use napi::bindgen_prelude::{Buffer, Uint32Array};
use napi_derive::napi;

use super::{invalid_arg, js_error};
use crate::proto::chunk::OutgoingHeader;
use crate::proto::handshake::{Role, RANDOM_SIZE};
use crate::proto::message::ControlMessage;
use crate::proto::session::{Event, Session, Windows};
use crate::proto::Limits;
use crate::runtime::{BatchBuilder, ConnectionHandle, Hub, MergeWindows, RuntimeError};

/// A core session fed by JS: bytes in through `feed`, bytes out through `takeOutput`.
struct Detached {
    session: Session,
    input: BytesMut,
    started: Instant,
    closed: bool,
}

enum Backend {
    Connection(ConnectionHandle),
    Detached(Box<Detached>),
}

/// Messages packed for JS: `data` holds the payloads, `meta` 7 u32 per message
/// (type id, timestamp, message stream id, chunk stream id, format, offset, length).
#[napi(object)]
pub struct MessageBatch {
    pub data: Buffer,
    pub meta: Uint32Array,
}

/// What one `feed` call produced.
#[napi(object)]
pub struct FeedResult {
    /// True on the call that completed the handshake.
    pub handshake_done: bool,
    pub batch: Option<MessageBatch>,
}

/// Chunk sizes and acknowledgement windows, with node-rtmpapi's names.
#[napi(object)]
pub struct ChunkSizes {
    /// Chunk size the peer sends with.
    pub rcv: u32,
    /// Chunk size we send with.
    pub snd: u32,
    /// Window Acknowledgement Size we announced.
    pub rcv_win_size: u32,
    /// Window Acknowledgement Size the peer announced.
    pub snd_win_size: u32,
}

impl From<Windows> for ChunkSizes {
    fn from(w: Windows) -> Self {
        Self {
            rcv: w.receive_chunk_size,
            snd: w.send_chunk_size,
            rcv_win_size: w.announced_window,
            snd_win_size: w.peer_window,
        }
    }
}

pub(crate) fn batch_to_js(data: Vec<u8>, meta: Vec<u32>) -> MessageBatch {
    MessageBatch {
        data: data.into(),
        meta: meta.into(),
    }
}

/// Statistics of a session.
#[napi(object)]
pub struct SessionStats {
    pub bytes_in: f64,
    pub bytes_out: f64,
    pub messages_in: f64,
    /// Round-trip time of the last answered `ping()`, in ms.
    pub rtt_ms: Option<u32>,
    pub dropped_video: f64,
    pub dropped_audio: f64,
    pub queued_bytes: f64,
}

/// Media frames the send queue dropped for a slow peer.
#[napi(object)]
pub struct DroppedFrames {
    pub video: f64,
    pub audio: f64,
}

/// A live stream's native fan-out point (see `runtime::Hub`).
#[napi]
pub struct NativeStream {
    pub(super) hub: Arc<Hub>,
}

/// Statistics of a native stream.
#[napi(object)]
pub struct StreamStats {
    pub players: u32,
    /// FLV consumers: recordings, HTTP-FLV and WebSocket-FLV players.
    pub flv_sinks: u32,
    pub messages: f64,
    pub gop_messages: u32,
    pub gop_bytes: u32,
}

#[napi]
impl NativeStream {
    /// A stream caching at most `gopCacheBytes` of the current group of pictures, whose
    /// audio and data wait for the next video frame, to go out to each player in one
    /// write with it, at most `mergeWritesMs` (default 0) for RTMP players and
    /// `flvMergeWritesMs` (default 40) for HTTP-FLV and WebSocket-FLV players.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        gop_cache_bytes: Option<u32>,
        merge_writes_ms: Option<u32>,
        flv_merge_writes_ms: Option<u32>,
    ) -> Self {
        let defaults = MergeWindows::default();
        let ms = |v: Option<u32>, default: Duration| {
            v.map_or(default, |v| Duration::from_millis(v.into()))
        };
        Self {
            hub: Arc::new(Hub::new(
                gop_cache_bytes.map_or(16 * 1024 * 1024, |v| v as usize),
                MergeWindows {
                    rtmp: ms(merge_writes_ms, defaults.rtmp),
                    flv: ms(flv_merge_writes_ms, defaults.flv),
                },
            )),
        }
    }

    /// Adds a player on its message stream `streamId`: metadata, decoder
    /// configurations and the cached GOP go out at once, then every message live.
    #[napi(catch_unwind)]
    pub fn add_player(&self, session: &NativeSession, stream_id: u32) -> napi::Result<()> {
        let Backend::Connection(c) = &session.backend else {
            return Err(invalid_arg(
                "native relay needs a session accepted by rtmpServer()".into(),
            ));
        };
        self.hub.add_player(c.clone(), stream_id);
        Ok(())
    }

    /// Removes a player; true if it was playing this stream.
    #[napi(catch_unwind)]
    pub fn remove_player(&self, session: &NativeSession) -> bool {
        match &session.backend {
            Backend::Connection(c) => self.hub.remove_player(c.id()),
            Backend::Detached(_) => false,
        }
    }

    /// The publisher left: caches are cleared, players wait for the next publisher.
    #[napi(catch_unwind)]
    pub fn publisher_left(&self) {
        self.hub.publisher_left();
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> StreamStats {
        let s = self.hub.stats();
        StreamStats {
            players: s.players as u32,
            flv_sinks: s.flv_sinks as u32,
            messages: s.messages as f64,
            gop_messages: s.gop_messages as u32,
            gop_bytes: s.gop_bytes as u32,
        }
    }
}

/// One RTMP session as seen from JS.
#[napi]
pub struct NativeSession {
    backend: Backend,
}

impl NativeSession {
    pub(crate) fn from_connection(handle: ConnectionHandle) -> Self {
        Self {
            backend: Backend::Connection(handle),
        }
    }

    fn addr(&self, remote: bool) -> Option<SocketAddr> {
        match &self.backend {
            Backend::Connection(c) if remote => Some(c.remote_addr()),
            Backend::Connection(c) => Some(c.local_addr()),
            Backend::Detached(_) => None,
        }
    }

    /// Queues bytes for the peer; false past the high-water mark.
    fn queue(
        &mut self,
        connection: impl FnOnce(&ConnectionHandle) -> Result<bool, RuntimeError>,
        detached: impl FnOnce(&mut Session) -> Result<(), RuntimeError>,
    ) -> napi::Result<bool> {
        match &mut self.backend {
            Backend::Connection(c) => connection(c).map_err(js_error),
            Backend::Detached(d) if d.closed => Err(js_error(RuntimeError::Closed)),
            Backend::Detached(d) => detached(&mut d.session).map(|()| true).map_err(js_error),
        }
    }

    fn control(&mut self, control: ControlMessage) -> napi::Result<bool> {
        self.queue(
            |c| c.send_control(control),
            |s| Ok(s.send_control(control)?),
        )
    }
}

#[napi]
impl NativeSession {
    /// A session driven by bytes from JS (`feed`/`takeOutput`) instead of a socket of
    /// its own. A client session starts its handshake at once (see `takeOutput`).
    #[napi(factory, catch_unwind)]
    pub fn detached(is_client: bool) -> napi::Result<Self> {
        let mut random = [0u8; RANDOM_SIZE];
        getrandom::fill(&mut random)
            .map_err(|e| js_error(RuntimeError::Io(std::io::Error::other(e))))?;
        let role = if is_client {
            Role::Client
        } else {
            Role::Server
        };
        let mut detached = Detached {
            session: Session::new(role, Limits::default(), 0, &random),
            input: BytesMut::new(),
            started: Instant::now(),
            closed: false,
        };
        // A client writes C0+C1 without waiting for input.
        detached
            .session
            .poll(&mut detached.input, 0)
            .map_err(js_error)?;
        Ok(Self {
            backend: Backend::Detached(Box::new(detached)),
        })
    }

    /// A session past its handshake, fed chunk-layer bytes (`rtmpMessage`/`rtmpChunk`
    /// over a read-queue).
    #[napi(factory, catch_unwind)]
    pub fn chunk_stream(is_client: bool) -> Self {
        let role = if is_client {
            Role::Client
        } else {
            Role::Server
        };
        Self {
            backend: Backend::Detached(Box::new(Detached {
                session: Session::established(role, Limits::default()),
                input: BytesMut::new(),
                started: Instant::now(),
                closed: false,
            })),
        }
    }

    /// Feeds bytes read from the JS stream; returns the messages now complete.
    /// Throws (with a `code`) on a protocol error; the session is then closed.
    #[napi(catch_unwind)]
    pub fn feed(&mut self, data: &[u8]) -> napi::Result<FeedResult> {
        let Backend::Detached(d) = &mut self.backend else {
            return Err(js_error(RuntimeError::Closed));
        };
        if d.closed {
            return Err(js_error(RuntimeError::Closed));
        }
        d.input.extend_from_slice(data);
        let now_ms = d.started.elapsed().as_millis() as u32;
        let mut batch = BatchBuilder::default();
        let mut handshake_done = false;
        loop {
            match d.session.poll(&mut d.input, now_ms) {
                Ok(None) => break,
                Ok(Some(Event::HandshakeDone)) => handshake_done = true,
                Ok(Some(Event::Message(m))) => batch.push(&m),
                Err(e) => {
                    d.closed = true;
                    return Err(js_error(e));
                }
            }
        }
        let batch = (!batch.is_empty()).then(|| {
            let b = batch.take(None);
            batch_to_js(b.data, b.meta)
        });
        Ok(FeedResult {
            handshake_done,
            batch,
        })
    }

    /// Takes the bytes to write to the JS stream (detached sessions only).
    #[napi(catch_unwind)]
    pub fn take_output(&mut self) -> Option<Buffer> {
        match &mut self.backend {
            Backend::Detached(d) if d.session.pending_output() > 0 => {
                Some(d.session.take_output().to_vec().into())
            }
            _ => None,
        }
    }

    /// The connection id its events carry (0 for a detached session); a Number,
    /// exact up to 2^53.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> f64 {
        match &self.backend {
            Backend::Connection(c) => c.id() as f64,
            Backend::Detached(_) => 0.0,
        }
    }

    /// Reading resumes after a `publish` or `play` command paused it (server option
    /// `pauseOnStreamCommands`). No effect otherwise.
    #[napi(catch_unwind)]
    pub fn resume_reading(&self) {
        if let Backend::Connection(c) = &self.backend {
            c.resume_reading();
        }
    }

    /// True if nothing waits to be written; otherwise a drain event (kind 4) follows
    /// once it has all been written. A detached session's output is the feeder's.
    #[napi(catch_unwind)]
    pub fn request_drain(&self) -> bool {
        match &self.backend {
            Backend::Connection(c) => c.request_drain(),
            Backend::Detached(d) => d.session.pending_output() == 0,
        }
    }

    #[napi(getter, catch_unwind)]
    pub fn remote_address(&self) -> Option<String> {
        self.addr(true).map(|a| a.ip().to_string())
    }

    #[napi(getter, catch_unwind)]
    pub fn remote_port(&self) -> Option<u32> {
        self.addr(true).map(|a| u32::from(a.port()))
    }

    #[napi(getter, catch_unwind)]
    pub fn remote_family(&self) -> Option<String> {
        self.addr(true)
            .map(|a| if a.is_ipv4() { "IPv4" } else { "IPv6" }.to_string())
    }

    #[napi(getter, catch_unwind)]
    pub fn local_address(&self) -> Option<String> {
        self.addr(false).map(|a| a.ip().to_string())
    }

    #[napi(getter, catch_unwind)]
    pub fn local_port(&self) -> Option<u32> {
        self.addr(false).map(|a| u32::from(a.port()))
    }

    /// Sends one message with its own timestamp and message stream id, split into
    /// chunks with header compression. Returns false past the high-water mark.
    #[napi(catch_unwind)]
    pub fn send_message(
        &mut self,
        csid: u32,
        type_id: u32,
        stream_id: u32,
        timestamp: u32,
        data: &[u8],
    ) -> napi::Result<bool> {
        if !(crate::proto::chunk::MIN_CSID..=crate::proto::chunk::MAX_CSID).contains(&csid) {
            return Err(invalid_arg(format!(
                "chunk stream id {csid} is outside 2..65599"
            )));
        }
        let header = OutgoingHeader {
            csid,
            timestamp,
            type_id: type_id as u8,
            stream_id,
        };
        self.queue(
            |c| c.send(&header, data),
            |s| {
                s.send(&header, data);
                Ok(())
            },
        )
    }

    /// Writes bytes as they are, bypassing the chunk encoder (`rtmpChunkSend`).
    #[napi(catch_unwind)]
    pub fn send_raw(&mut self, data: &[u8]) -> napi::Result<bool> {
        self.queue(
            |c| c.send_raw(data),
            |s| {
                s.send_raw(data);
                Ok(())
            },
        )
    }

    /// Set Chunk Size (§5.4.1); later messages use the new size.
    #[napi(catch_unwind)]
    pub fn send_set_chunk_size(&mut self, size: u32) -> napi::Result<bool> {
        self.control(ControlMessage::SetChunkSize(size))
    }

    /// Abort Message (§5.4.2) for a chunk stream.
    #[napi(catch_unwind)]
    pub fn send_abort(&mut self, csid: u32) -> napi::Result<bool> {
        self.control(ControlMessage::Abort(csid))
    }

    /// Acknowledgement (§5.4.3) of the bytes received so far.
    #[napi(catch_unwind)]
    pub fn send_ack(&mut self) -> napi::Result<bool> {
        self.queue(
            |c| c.send_ack(),
            |s| {
                s.send_ack();
                Ok(())
            },
        )
    }

    /// Window Acknowledgement Size (§5.4.4).
    #[napi(catch_unwind)]
    pub fn send_window_ack_size(&mut self, size: u32) -> napi::Result<bool> {
        self.control(ControlMessage::WindowAckSize(size))
    }

    /// Set Peer Bandwidth (§5.4.5); limit type 0 hard, 1 soft, 2 dynamic.
    #[napi(catch_unwind)]
    pub fn send_set_peer_bandwidth(&mut self, size: u32, limit_type: u32) -> napi::Result<bool> {
        self.control(ControlMessage::SetPeerBandwidth {
            size,
            limit_type: limit_type as u8,
        })
    }

    /// User Control message (§7.1.7): event type, its stream id or timestamp, and the
    /// buffer length in ms for SetBufferLength (3).
    #[napi(catch_unwind)]
    pub fn send_user_control(
        &mut self,
        event_type: u32,
        value: u32,
        buffer_ms: u32,
    ) -> napi::Result<bool> {
        self.control(ControlMessage::UserControl {
            event_type: event_type as u16,
            value,
            buffer_ms,
        })
    }

    /// Chunk sizes and windows in force.
    #[napi(catch_unwind)]
    pub fn chunk_sizes(&self) -> ChunkSizes {
        match &self.backend {
            Backend::Connection(c) => c.windows().into(),
            Backend::Detached(d) => d.session.windows().into(),
        }
    }

    /// Bytes received so far (wrapping at 2^32 like the Ack sequence).
    #[napi(catch_unwind)]
    pub fn bytes_received(&self) -> u32 {
        match &self.backend {
            Backend::Connection(c) => c.bytes_received(),
            Backend::Detached(d) => d.session.bytes_received(),
        }
    }

    /// Flushes what is queued, then closes.
    #[napi(catch_unwind)]
    pub fn end(&mut self) {
        match &mut self.backend {
            Backend::Connection(c) => c.end(),
            Backend::Detached(d) => d.closed = true,
        }
    }

    /// Forwards this session's audio, video and data messages on message stream
    /// `stream_id` to `stream` natively (no JS per packet); `emit` also delivers them
    /// to JS. Only sessions accepted by a server can publish natively.
    #[napi(catch_unwind)]
    pub fn publish(&self, stream: &NativeStream, stream_id: u32, emit: bool) -> napi::Result<()> {
        let Backend::Connection(c) = &self.backend else {
            return Err(invalid_arg(
                "native relay needs a session accepted by rtmpServer()".into(),
            ));
        };
        c.publish(stream.hub.clone(), stream_id, emit);
        Ok(())
    }

    /// Stops forwarding to the stream published to (its caches are cleared).
    #[napi(catch_unwind)]
    pub fn unpublish(&self) {
        if let Backend::Connection(c) = &self.backend {
            if let Some(hub) = c.unpublish() {
                hub.publisher_left();
            }
        }
    }

    /// Bytes and messages in and out, the last ping RTT, dropped media, queued bytes.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> SessionStats {
        let (c, d, queued) = match &self.backend {
            Backend::Connection(conn) => {
                let (c, d) = conn.counters();
                (c, d, conn.queued_bytes())
            }
            Backend::Detached(det) => (
                det.session.counters(),
                Default::default(),
                det.session.pending_output(),
            ),
        };
        SessionStats {
            bytes_in: c.bytes_in as f64,
            bytes_out: c.bytes_out as f64,
            messages_in: c.messages_in as f64,
            rtt_ms: c.rtt_ms,
            dropped_video: d.video_frames as f64,
            dropped_audio: d.audio_frames as f64,
            queued_bytes: queued as f64,
        }
    }

    /// Whether received Acknowledgements are delivered (the default); the JS session
    /// turns them off while nothing of the app's could see them. A detached session
    /// hands every message to its feeder.
    #[napi(catch_unwind)]
    pub fn set_deliver_acks(&self, deliver: bool) {
        if let Backend::Connection(c) = &self.backend {
            c.set_deliver_acks(deliver);
        }
    }

    /// Sends a PingRequest; the peer's PingResponse sets `stats().rttMs`.
    #[napi(catch_unwind)]
    pub fn ping(&mut self) -> napi::Result<bool> {
        match &mut self.backend {
            Backend::Connection(c) => c.ping().map_err(js_error),
            Backend::Detached(d) => {
                let now_ms = d.started.elapsed().as_millis() as u32;
                d.session.send_ping(now_ms).map_err(js_error)?;
                Ok(true)
            }
        }
    }

    /// Bytes waiting to be written to the peer.
    #[napi(catch_unwind)]
    pub fn queued_bytes(&self) -> f64 {
        match &self.backend {
            Backend::Connection(c) => c.queued_bytes() as f64,
            Backend::Detached(d) => d.session.pending_output() as f64,
        }
    }

    /// Media frames dropped for this (slow) peer: `{ video, audio }`.
    #[napi(catch_unwind)]
    pub fn dropped(&self) -> DroppedFrames {
        match &self.backend {
            Backend::Connection(c) => {
                let d = c.dropped();
                DroppedFrames {
                    video: d.video_frames as f64,
                    audio: d.audio_frames as f64,
                }
            }
            Backend::Detached(_) => DroppedFrames {
                video: 0.0,
                audio: 0.0,
            },
        }
    }

    /// Closes now.
    #[napi(catch_unwind)]
    pub fn destroy(&mut self) {
        match &mut self.backend {
            Backend::Connection(c) => c.destroy(),
            Backend::Detached(d) => d.closed = true,
        }
    }
}

/// Only in an addon built with the `test-hooks` feature (`npm run build:test-hooks`).
#[cfg(feature = "test-hooks")]
#[napi]
impl NativeSession {
    /// Fault injection for tests of panic containment: panics in this call (`inTask`
    /// false; catch_unwind makes it a JS Error) or in the connection's reader task
    /// (the session ends with ERR_RTMP_INTERNAL). Not part of the public API.
    #[napi(catch_unwind, js_name = "__injectPanic")]
    pub fn inject_panic(&self, in_task: bool) {
        match (&self.backend, in_task) {
            (Backend::Connection(c), true) => c.inject_panic(),
            _ => panic!("injected panic in a native call"),
        }
    }
}
