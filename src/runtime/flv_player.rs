//! Live FLV players over HTTP (HTTP-FLV) and WebSocket (WebSocket-FLV): an FLV sink of
//! the stream's hub (`flv_sink`, `SinkKind::Player`) whose frames go to the player's
//! connection. A plain TCP socket is written as RTMP players are: at once from the hub's
//! task (the publisher's reader) with a non-blocking `sendmsg` while the player's own
//! task waits, and by that task (woken for it) only what the socket did not take, and
//! what comes meanwhile. A TLS session is written by the player's task alone (a rustls
//! session is not written from another task). JS routes and authorizes the request, then hands the
//! accepted socket over (see [`adopt_socket`]); from then on no JS runs per tag.
//!
//! On the wire, in order: the response head JS composed (HTTP status and headers, or
//! the WebSocket handshake's 101), then the FLV stream framed as
//! [`Framing`](crate::proto::flv_stream::Framing) says: the FLV header (held until the
//! first frames, so that its audio/video flags are those of the publication — as SRS
//! does), then the join burst (metadata, decoder configurations, the GOP from its
//! keyframe) and live tags. Each write is what one receive of the sink gave: one HTTP
//! chunk or one WebSocket binary frame of whole tags, the tags' bytes shared with every
//! other FLV consumer (one framing per message, `Hub`'s `flv_frame`).
//!
//! A slow player is bounded like an RTMP player: while its socket is full the sink's
//! queue takes the frames with the same drop policy (`SendQueue`), and a socket that
//! takes nothing for [`WRITE_STALL`] ends the player. The read side only watches for
//! the client leaving (HTTP) or answers its pings and close (WebSocket, `proto::ws`).

use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::sync::oneshot;

use super::flv_sink::{flv_sink, FlvSink, WriteNow};
use super::{tokio_handle, Hub, RuntimeError, SinkKind};
use crate::proto::flv::{self, TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO};
use crate::proto::flv_stream::Framing;
use crate::proto::media::{self, MediaRole};
use crate::proto::outbound::{DropStats, SharedFrame, MAX_IOVECS};
use crate::proto::ws::{self, ClientFrame};

/// How long a player's socket may take no bytes before the player is ended.
pub const WRITE_STALL: Duration = Duration::from_secs(30);
/// Bytes read from an HTTP player's client per read (they are discarded).
const DISCARD_READ: usize = 4096;
/// Frames the player's task keeps room for between writes.
const KEPT_FRAMES: usize = 4;

/// What a player is given besides its socket.
pub struct FlvPlayerOptions {
    pub framing: Framing,
    /// Written first: the HTTP response head, or the WebSocket handshake's 101.
    pub head: Bytes,
    /// Bytes of the client already read past its request (an upgrade's `head`).
    pub early_input: Bytes,
    /// Media bytes queued for a slow player before frames are dropped.
    pub media_limit: usize,
    /// Stays when the publisher leaves and gets the next publication.
    pub stays: bool,
}

/// How a player ended.
#[derive(Debug)]
pub struct FlvPlayerSummary {
    /// Bytes written to the socket (head included).
    pub bytes: u64,
    /// What the drop policy dropped because the player was slower than the stream.
    pub dropped: DropStats,
    /// Why it ended, when not because the client or the stream went, or close().
    pub error: Option<RuntimeError>,
}

/// A player in progress.
pub struct FlvPlayer {
    sink: Arc<FlvSink>,
}

impl FlvPlayer {
    /// Ends the player: what is queued is still written, then the stream ends (the last
    /// HTTP chunk, or a WebSocket close 1001) and the connection is closed.
    pub fn close(&self) {
        self.sink.close();
    }

    pub fn queued_bytes(&self) -> usize {
        self.sink.queued_bytes()
    }

    pub fn dropped(&self) -> DropStats {
        self.sink.dropped()
    }
}

/// A socket Node accepted, as this process's own duplicate of its descriptor `fd`, so
/// that Node can close its copy (`socket.destroy()`, never `end()`: that would send a
/// FIN) while the connection stays open here. The caller must stop Node from reading
/// it in the same turn of its event loop (bytes Node reads are gone).
#[cfg(unix)]
pub fn adopt_socket(fd: i32) -> io::Result<std::net::TcpStream> {
    use std::os::fd::BorrowedFd;
    if fd < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not an open socket descriptor",
        ));
    }
    // SAFETY: `fd` is open for the duration of this call: the caller (the binding,
    // called synchronously from JS) passes the descriptor of a live net.Socket, which
    // Node closes only after this returns; the borrow ends with this function, and
    // what is kept is a duplicate (`fcntl(F_DUPFD_CLOEXEC)`) this process owns.
    let owned = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()?;
    let socket = socket2::Socket::from(owned);
    // A descriptor of something else than a stream socket (a pipe, a file) is refused.
    if socket.r#type()? != socket2::Type::STREAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a stream socket",
        ));
    }
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// No descriptors to take over here: players there are written from JS.
#[cfg(not(unix))]
pub fn adopt_socket(_fd: i32) -> io::Result<std::net::TcpStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "taking a socket over from Node needs Unix",
    ))
}

/// The connection a player writes to.
pub enum PlayerSocket {
    /// A TCP socket taken over from Node ([`adopt_socket`]).
    Tcp(std::net::TcpStream),
    /// A TLS session the HTTPS front hands over once it has stopped pumping it
    /// (`TlsFront::take`).
    #[cfg(unix)]
    Tls(oneshot::Receiver<super::TlsSession>),
}

/// Starts playing `hub` to `socket`. `done` is called once, on a runtime thread, when
/// the player has ended and its connection is closed.
pub fn play_flv(
    hub: &Hub,
    socket: PlayerSocket,
    options: FlvPlayerOptions,
    done: impl FnOnce(FlvPlayerSummary) + Send + 'static,
) -> Result<FlvPlayer, RuntimeError> {
    let runtime = tokio_handle()?;
    let socket = match socket {
        PlayerSocket::Tcp(socket) => {
            let _entered = runtime.enter();
            let socket = TcpStream::from_std(socket)?;
            let _ = socket.set_nodelay(true);
            let direct = socket2::SockRef::from(&socket).try_clone()?;
            Ready::Tcp(socket, direct)
        }
        #[cfg(unix)]
        PlayerSocket::Tls(session) => Ready::Tls(session),
    };
    let (feed, sink) = flv_sink(options.media_limit);
    let sink = Arc::new(sink);
    hub.add_flv_sink(
        feed,
        SinkKind::Player {
            stays: options.stays,
        },
    );
    let task_sink = sink.clone();
    runtime.spawn(async move {
        let run_sink = task_sink.clone();
        let player = tokio::spawn(async move {
            match socket {
                Ready::Tcp(socket, direct) => {
                    let (reader, writer) = socket.into_split();
                    run(run_sink, reader, writer, Some(direct), options).await
                }
                #[cfg(unix)]
                Ready::Tls(session) => match session.await {
                    Ok(session) => {
                        let (reader, writer) = tokio::io::split(session);
                        run(run_sink, reader, writer, None, options).await
                    }
                    // The connection closed before the front could hand it over.
                    Err(_) => (0, None),
                },
            }
        });
        let (bytes, error) = match player.await {
            Ok(outcome) => outcome,
            Err(e) => (0, Some(RuntimeError::Panic(e.to_string()))),
        };
        task_sink.close();
        done(FlvPlayerSummary {
            bytes,
            dropped: task_sink.dropped(),
            error,
        });
    });
    Ok(FlvPlayer { sink })
}

/// A [`PlayerSocket`] made ready for the runtime.
enum Ready {
    /// The socket, and a duplicate of its descriptor for the hub's direct writes
    /// ([`Out`]).
    Tcp(TcpStream, socket2::Socket),
    #[cfg(unix)]
    Tls(oneshot::Receiver<super::TlsSession>),
}

/// The bytes of an FLV stream's writes, in a [`Framing`].
pub struct StreamWriter {
    framing: Framing,
    header_sent: bool,
}

impl StreamWriter {
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            header_sent: false,
        }
    }

    /// One write of `frames` (one receive of the sink) into `out`: framed as one HTTP
    /// chunk or one WebSocket message, the FLV header first in the first one. Channel
    /// layouts the codec configuration implies are left out
    /// ([`media::is_implied_channel_layout`]: browsers' demuxers refuse them).
    pub fn write(&mut self, frames: &[Arc<SharedFrame>], out: &mut Vec<Bytes>) {
        let kept = || frames.iter().filter(|f| !is_implied_layout(f));
        let header = (!self.header_sent).then(|| {
            self.header_sent = true;
            let (audio, video) = type_flags(kept());
            Bytes::copy_from_slice(&flv::file_header(audio, video))
        });
        let len = header.as_ref().map_or(0, Bytes::len) + kept().map(|f| f.len).sum::<usize>();
        out.extend(self.framing.prefix(len));
        out.extend(header);
        for frame in kept() {
            out.extend(frame.parts.iter().cloned());
        }
        out.extend(self.framing.suffix());
    }

    /// What ends the stream (`ws_code` for a WebSocket close).
    pub fn end(&self, ws_code: u16) -> Option<Bytes> {
        self.framing.end(ws_code)
    }
}

/// Whether `frame` is an audio tag of a channel layout its codec configuration implies.
fn is_implied_layout(frame: &SharedFrame) -> bool {
    frame.role == MediaRole::Config
        && frame
            .parts
            .first()
            .and_then(|h| flv::read_tag_header(h))
            .map(|h| h.tag_type)
            == Some(TAG_AUDIO)
        && media::is_implied_channel_layout(&flv::tag_payload(&frame.parts).concat())
}

/// The FLV header's flags for a stream whose first write is `frames`: those the
/// publication's metadata names, else the kinds of tags there, else both.
fn type_flags<'a>(frames: impl Iterator<Item = &'a Arc<SharedFrame>> + Clone) -> (bool, bool) {
    let tag_type = |f: &SharedFrame| {
        f.parts
            .first()
            .and_then(|h| flv::read_tag_header(h))
            .map(|h| h.tag_type)
    };
    let named = frames.clone().find_map(|f| {
        if tag_type(f)? != TAG_SCRIPT {
            return None;
        }
        let payload = flv::tag_payload(&f.parts).concat();
        flv::metadata_type_flags(&payload)
    });
    named.unwrap_or_else(|| {
        let has = |t| frames.clone().any(|f| tag_type(f) == Some(t));
        match (has(TAG_AUDIO), has(TAG_VIDEO)) {
            (false, false) => (true, true),
            seen => seen,
        }
    })
}

/// A player's stream framing, shared by its task and (through [`WriteNow`], while the
/// task waits) the hub's: the bytes a write without waiting left, which the task writes
/// before anything else, and the bytes written so far.
struct Out {
    /// A duplicate of a plain TCP socket's descriptor, written to from the hub's task;
    /// none for a TLS session (written by the player's task alone).
    direct: Option<socket2::Socket>,
    state: Mutex<OutState>,
}

struct OutState {
    writer: StreamWriter,
    /// Framed bytes not written yet, in order.
    left: Vec<Bytes>,
    written: u64,
}

impl Out {
    fn state(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What was left, then `frames` framed as one write; taken for the task to write.
    fn take(&self, frames: &[Arc<SharedFrame>]) -> Vec<Bytes> {
        let mut state = self.state();
        let mut parts = std::mem::take(&mut state.left);
        if !frames.is_empty() {
            state.writer.write(frames, &mut parts);
        }
        parts
    }

    /// Writes all of `parts` from the task, waiting for the connection.
    async fn write_all(
        &self,
        w: &mut (impl AsyncWrite + Unpin),
        parts: &[Bytes],
    ) -> Result<(), RuntimeError> {
        let n = write_all(w, parts).await?;
        self.state().written += n;
        Ok(())
    }
}

impl WriteNow for Out {
    /// A plain non-blocking `sendmsg` as `ConnectionHandle::relay_now` does (tokio's
    /// readiness is left as it is; the task finds out itself that the socket is full).
    /// An error is left for the task's next write to meet.
    fn write_now(&self, frames: &[Arc<SharedFrame>]) -> bool {
        let mut guard = self.state();
        let state = &mut *guard;
        let mut parts = std::mem::take(&mut state.left);
        state.writer.write(frames, &mut parts);
        let (mut index, mut offset) = (0, 0);
        if let Some(socket) = &self.direct {
            while index < parts.len() {
                let slices = slices_from(&parts, index, offset);
                let Ok(n @ 1..) = socket.send_vectored(&slices) else {
                    break;
                };
                state.written += n as u64;
                (index, offset) = advance(&parts, index, offset, n);
            }
        }
        if index < parts.len() {
            parts[index] = parts[index].slice(offset..);
            parts.drain(..index);
            state.left = parts;
            return false;
        }
        true
    }
}

/// At most [`MAX_IOVECS`] buffers of `parts` from `offset` bytes into `parts[index]`.
fn slices_from(parts: &[Bytes], index: usize, offset: usize) -> Vec<IoSlice<'_>> {
    parts[index..]
        .iter()
        .take(MAX_IOVECS)
        .enumerate()
        .map(|(i, p)| IoSlice::new(if i == 0 { &p[offset..] } else { p }))
        .collect()
}

/// Where `parts` stands after `n` more bytes from (`index`, `offset`) were written.
fn advance(parts: &[Bytes], mut index: usize, mut offset: usize, mut n: usize) -> (usize, usize) {
    while n > 0 {
        let left = parts[index].len() - offset;
        if n < left {
            offset += n;
            break;
        }
        n -= left;
        index += 1;
        offset = 0;
    }
    while index < parts.len() && parts[index].len() == offset {
        index += 1;
        offset = 0;
    }
    (index, offset)
}

/// Writes all of `parts` in vectored writes of at most [`MAX_IOVECS`] buffers, then
/// flushes (a TLS session may hold plaintext until then); a socket that takes nothing
/// for [`WRITE_STALL`] is an error.
async fn write_all(
    w: &mut (impl AsyncWrite + Unpin),
    parts: &[Bytes],
) -> Result<u64, RuntimeError> {
    let (mut index, mut offset) = (0, 0);
    let mut total = 0u64;
    while index < parts.len() {
        let slices = slices_from(parts, index, offset);
        let n = match tokio::time::timeout(WRITE_STALL, w.write_vectored(&slices)).await {
            Err(_) => return Err(RuntimeError::WriteTimeout(WRITE_STALL.as_millis())),
            Ok(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Ok(r) => r?,
        };
        total += n as u64;
        (index, offset) = advance(parts, index, offset, n);
    }
    match tokio::time::timeout(WRITE_STALL, w.flush()).await {
        Err(_) => Err(RuntimeError::WriteTimeout(WRITE_STALL.as_millis())),
        Ok(r) => r.map(|()| total).map_err(Into::into),
    }
}

/// What the read side saw.
enum Heard {
    /// Nothing to do yet.
    Nothing,
    /// Bytes to send back (a pong).
    Reply(Bytes),
    /// The client closed (a WebSocket close, or the end of its side): send what ends
    /// the stream with this code and close.
    Gone(u16),
}

/// Handles what a client sent: discarded on HTTP; on a WebSocket the frames are read
/// for pings and a close.
fn hear(framing: Framing, input: &mut BytesMut) -> Result<Heard, RuntimeError> {
    if framing != Framing::WebSocket {
        input.clear();
        return Ok(Heard::Nothing);
    }
    let mut replies = BytesMut::new();
    while let Some(frame) = ws::decode_client_frame(input)? {
        match frame {
            ClientFrame::Ping(data) => replies.extend_from_slice(&ws::pong(&data)),
            // Echo the status (§5.5.1), or 1000 for a close without one.
            ClientFrame::Close(code) => {
                return Ok(Heard::Gone(
                    code.filter(|c| (1000..5000).contains(c))
                        .unwrap_or(ws::CLOSE_NORMAL),
                ))
            }
            ClientFrame::Other => {}
        }
    }
    Ok(match replies.is_empty() {
        true => Heard::Nothing,
        false => Heard::Reply(replies.freeze()),
    })
}

/// Plays until the sink ends, the client leaves or breaks the protocol; returns the
/// bytes written and the error that ended it, if any. With `direct` (a plain TCP
/// socket's duplicate descriptor) frames go out from the hub's task while this one
/// waits.
async fn run(
    sink: Arc<FlvSink>,
    mut reader: impl AsyncRead + Unpin,
    mut w: impl AsyncWrite + Unpin,
    direct: Option<socket2::Socket>,
    options: FlvPlayerOptions,
) -> (u64, Option<RuntimeError>) {
    let framing = options.framing;
    let lends = direct.is_some();
    let out = Arc::new(Out {
        direct,
        state: Mutex::new(OutState {
            writer: StreamWriter::new(framing),
            left: Vec::new(),
            written: 0,
        }),
    });
    let mut input = BytesMut::from(&options.early_input[..]);
    let mut frames = Vec::new();
    let mut outcome: Result<Option<u16>, RuntimeError> =
        out.write_all(&mut w, &[options.head]).await.map(|_| None);
    // The stream's last bytes: the end of the chunked body, or a close frame.
    let mut end_code = ws::CLOSE_GOING_AWAY;
    if let Ok(None) = outcome {
        outcome = match hear(framing, &mut input) {
            Ok(Heard::Gone(code)) => Ok(Some(code)),
            Ok(Heard::Reply(pong)) => out.write_all(&mut w, &[pong]).await.map(|_| None),
            Ok(Heard::Nothing) => Ok(None),
            Err(e) => Err(e),
        };
    }
    // From here a plain socket's frames go out from the hub's task while this one
    // waits in recv.
    if lends {
        sink.write_directly(out.clone());
    }
    while let Ok(None) = outcome {
        tokio::select! {
            more = sink.recv(&mut frames) => {
                if !more {
                    break;
                }
                let parts = out.take(&frames);
                frames.clear();
                // The join burst hands over a GOP of frames at once; after it a plain
                // socket is written to directly, so the room it grew is given back.
                frames.shrink_to(KEPT_FRAMES);
                outcome = out.write_all(&mut w, &parts).await.map(|_| None);
            }
            read = reader.read_buf(&mut input) => {
                sink.reclaim();
                outcome = match read {
                    // The client closed its side (or reset): nothing more to write.
                    Ok(0) | Err(_) => {
                        sink.close();
                        let written = out.state().written;
                        return (written, None);
                    }
                    Ok(_) => match hear(framing, &mut input) {
                        Ok(Heard::Gone(code)) => Ok(Some(code)),
                        // What a direct write left goes first: a pong between frames.
                        Ok(Heard::Reply(pong)) => {
                            let mut parts = out.take(&[]);
                            parts.push(pong);
                            out.write_all(&mut w, &parts).await.map(|_| None)
                        }
                        Ok(Heard::Nothing) => {
                            if framing != Framing::WebSocket {
                                input = BytesMut::with_capacity(DISCARD_READ);
                            }
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    },
                };
            }
        }
    }
    sink.close();
    let error = match outcome {
        Ok(Some(code)) => {
            end_code = code;
            None
        }
        Ok(None) => None,
        Err(e) => {
            if let RuntimeError::WebSocket(ws_error) = &e {
                end_code = ws_error.close_code();
            }
            Some(e)
        }
    };
    let broken_socket = matches!(
        error,
        Some(RuntimeError::Io(_) | RuntimeError::WriteTimeout(_))
    );
    if !broken_socket {
        let mut parts = out.take(&[]);
        let end = out.state().writer.end(end_code);
        parts.extend(end);
        let _ = out.write_all(&mut w, &parts).await;
        let _ = w.shutdown().await;
    }
    let written = out.state().written;
    (written, error)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto::chunk::Message;
    use crate::proto::message::type_id;
    use crate::runtime::MergeWindows;

    async fn pair() -> (std::net::TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (server.into_std().unwrap(), client)
    }

    fn message(type_id: u8, timestamp: u32, payload: &'static [u8]) -> Message {
        Message {
            csid: 6,
            timestamp,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(payload).into(),
        }
    }

    async fn read_for(peer: &mut TcpStream, wait: Duration) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while let Ok(Ok(n @ 1..)) = tokio::time::timeout(wait, peer.read(&mut buf)).await {
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    fn options(framing: Framing) -> FlvPlayerOptions {
        FlvPlayerOptions {
            framing,
            head: Bytes::from_static(b"HEAD"),
            early_input: Bytes::new(),
            media_limit: 1 << 20,
            stays: true,
        }
    }

    /// A player of `hub` on one end of a loopback pair: the player, the client's end,
    /// and how the player ended.
    async fn start(
        hub: &Hub,
        options: FlvPlayerOptions,
    ) -> (
        FlvPlayer,
        TcpStream,
        tokio::sync::oneshot::Receiver<FlvPlayerSummary>,
    ) {
        let (server, client) = pair().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let player = play_flv(hub, PlayerSocket::Tcp(server), options, move |s| {
            let _ = tx.send(s);
        })
        .unwrap();
        (player, client, rx)
    }

    #[tokio::test]
    async fn an_http_player_gets_its_head_then_chunks_of_an_flv_stream_flagged_as_published() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        // Video only: a config and a keyframe before the player joins.
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 0, 0, 0, 0, 1]));
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 1, 0, 0, 0, 2]));
        hub.flush_players();
        let (player, mut client, rx) = start(&hub, options(Framing::HttpChunked)).await;
        let got = read_for(&mut client, Duration::from_millis(200)).await;
        // HEAD, then one chunk: 13 (header) + 2 tags of 11 + 6 + 4.
        let body = 13 + 2 * 21;
        let expected_start = format!("HEAD{body:X}\r\nFLV\x01\x01");
        assert!(
            got.starts_with(expected_start.as_bytes()),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        assert_eq!(got.len(), 4 + 4 + body + 2);
        assert!(got.ends_with(b"\r\n"));
        // A publication ending keeps a player that stays; close() ends the body.
        hub.publisher_left();
        player.close();
        let rest = read_for(&mut client, Duration::from_millis(200)).await;
        assert_eq!(rest, b"0\r\n\r\n");
        let summary = rx.await.unwrap();
        assert!(summary.error.is_none());
        assert_eq!(summary.bytes as usize, got.len() + rest.len());
    }

    #[tokio::test]
    async fn a_websocket_player_answers_pings_and_echoes_the_clients_close() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        // A ping arrived with the upgrade request (masked "hi" with a zero mask).
        let mut opts = options(Framing::WebSocket);
        opts.early_input = Bytes::from_static(&[0x89, 0x82, 0, 0, 0, 0, b'h', b'i']);
        let (_player, mut client, rx) = start(&hub, opts).await;
        let got = read_for(&mut client, Duration::from_millis(200)).await;
        assert_eq!(got, b"HEAD\x8a\x02hi");
        hub.publish(&message(type_id::AUDIO, 0, &[0xAF, 0, 0x12, 0x10]));
        hub.flush_players();
        let got = read_for(&mut client, Duration::from_millis(200)).await;
        // One binary frame: the header (audio only) and the tag.
        assert_eq!(&got[..2], [0x82, 13 + 11 + 4 + 4]);
        assert_eq!(&got[2..7], b"FLV\x01\x04");
        client
            .write_all(&[0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2])
            .await
            .unwrap();
        let got = read_for(&mut client, Duration::from_millis(200)).await;
        assert_eq!(got, [0x88, 2, 0x03, 0xe8], "close 1000 echoed, then EOF");
        assert!(rx.await.unwrap().error.is_none());
    }

    #[tokio::test]
    async fn an_unmasked_client_frame_closes_with_a_protocol_error() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let (_player, mut client, rx) = start(&hub, options(Framing::WebSocket)).await;
        client.write_all(&[0x89, 0]).await.unwrap();
        let got = read_for(&mut client, Duration::from_millis(200)).await;
        assert_eq!(got, b"HEAD\x88\x02\x03\xea", "close 1002");
        let error = rx.await.unwrap().error.expect("a protocol error");
        assert_eq!(error.code(), "ERR_RTMP_WEBSOCKET");
    }

    #[tokio::test]
    async fn an_http_player_ends_when_its_client_goes() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let (_player, client, rx) = start(&hub, options(Framing::HttpChunked)).await;
        drop(client);
        let summary = tokio::time::timeout(Duration::from_secs(2), rx)
            .await
            .unwrap()
            .unwrap();
        assert!(summary.error.is_none());
        assert_eq!(hub.stats().flv_sinks, 0);
    }

    #[test]
    fn a_descriptor_that_is_not_a_socket_is_refused() {
        let file = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        assert!(adopt_socket(file.as_raw_fd()).is_err());
        assert!(adopt_socket(-1).is_err());
    }
}
