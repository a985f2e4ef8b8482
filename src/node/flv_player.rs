//! `NativeFlvPlayer`: an HTTP-FLV or WebSocket-FLV player of a live stream whose socket
//! was taken over from Node (see `runtime::flv_player`); its end reaches one JS callback.

use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use super::session::NativeStream;
#[cfg(unix)]
use super::tls_front::NativeTlsFront;
use super::{invalid_arg, js_error};
use crate::proto::flv_stream::Framing;
use crate::runtime::{self, FlvPlayer, FlvPlayerOptions, FlvPlayerSummary, PlayerSocket};

/// Media bytes a player holds for a slow client before it drops frames: the RTMP
/// players' default send queue limit (`ServerConfig::send_queue_limit`).
const DEFAULT_QUEUE_LIMIT: u32 = 4 * 1024 * 1024;

/// What a player is given besides its socket.
#[napi(object)]
pub struct FlvPlayerConfig {
    /// "chunked" (HTTP/1.1 chunked body), "raw" (body until the connection closes) or
    /// "websocket" (one binary frame per write).
    pub framing: String,
    /// The response head, written first (HTTP status and headers, or the 101).
    pub head: Buffer,
    /// Bytes of the client read past its request (an upgrade's `head`).
    pub early_input: Option<Buffer>,
    pub queue_limit: Option<u32>,
    /// Stays for the next publication when the publisher leaves (default true).
    pub stays: Option<bool>,
}

/// How a player ended, as the JS callback gets it.
#[napi(object)]
pub struct FlvPlayerResult {
    pub bytes: f64,
    pub dropped_video: f64,
    pub dropped_audio: f64,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
}

impl From<FlvPlayerSummary> for FlvPlayerResult {
    fn from(s: FlvPlayerSummary) -> Self {
        Self {
            bytes: s.bytes as f64,
            dropped_video: s.dropped.video_frames as f64,
            dropped_audio: s.dropped.audio_frames as f64,
            error_message: s.error.as_ref().map(ToString::to_string),
            error_code: s.error.as_ref().map(|e| e.code().to_string()),
        }
    }
}

/// A player's counters while it runs.
#[napi(object)]
pub struct FlvPlayerStats {
    pub queued_bytes: f64,
    pub dropped_video: f64,
    pub dropped_audio: f64,
}

type DoneFn = ThreadsafeFunction<FlvPlayerResult, (), FlvPlayerResult, Status, false>;

#[napi]
pub struct NativeFlvPlayer {
    player: FlvPlayer,
}

#[napi]
impl NativeFlvPlayer {
    /// Takes over the connected socket `fd` (a duplicate of it: the caller destroys its
    /// net.Socket right after this returns, in the same tick) and plays `stream` to
    /// it. `onDone(result)` is called once, after the connection is closed; until then
    /// the player keeps Node alive.
    #[napi(factory, catch_unwind)]
    pub fn start(
        stream: &NativeStream,
        fd: i32,
        config: FlvPlayerConfig,
        on_done: Function<'_, FlvPlayerResult, ()>,
    ) -> napi::Result<Self> {
        let socket = runtime::adopt_socket(fd).map_err(js_error)?;
        Self::play(stream, PlayerSocket::Tcp(socket), config, on_done)
    }

    /// Plays `stream` to connection `id` of the HTTPS front `front`, taken away from
    /// Node (the caller destroys its net.Socket right after this returns, in the same
    /// tick): the player writes into the TLS session natively.
    #[cfg(unix)]
    #[napi(factory, catch_unwind)]
    pub fn start_tls(
        stream: &NativeStream,
        front: &NativeTlsFront,
        id: f64,
        config: FlvPlayerConfig,
        on_done: Function<'_, FlvPlayerResult, ()>,
    ) -> napi::Result<Self> {
        let session = front.front.take(id as u64).map_err(js_error)?;
        Self::play(stream, PlayerSocket::Tls(session), config, on_done)
    }

    fn play(
        stream: &NativeStream,
        socket: PlayerSocket,
        config: FlvPlayerConfig,
        on_done: Function<'_, FlvPlayerResult, ()>,
    ) -> napi::Result<Self> {
        let framing = match config.framing.as_str() {
            "chunked" => Framing::HttpChunked,
            "raw" => Framing::HttpRaw,
            "websocket" => Framing::WebSocket,
            other => return Err(invalid_arg(format!("unknown framing {other:?}"))),
        };
        let done: DoneFn = on_done
            .build_threadsafe_function::<FlvPlayerResult>()
            .callee_handled::<false>()
            .build()?;
        let options = FlvPlayerOptions {
            framing,
            head: Bytes::copy_from_slice(&config.head),
            early_input: config
                .early_input
                .map_or_else(Bytes::new, |b| Bytes::copy_from_slice(&b)),
            media_limit: config.queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT) as usize,
            stays: config.stays.unwrap_or(true),
        };
        let player = runtime::play_flv(&stream.hub, socket, options, move |s| {
            done.call(s.into(), ThreadsafeFunctionCallMode::NonBlocking);
        })
        .map_err(js_error)?;
        Ok(Self { player })
    }

    /// Ends the player: what it holds is written, then the stream's end (the last
    /// chunk, or a WebSocket close 1001), then the connection is closed.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.player.close();
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> FlvPlayerStats {
        let dropped = self.player.dropped();
        FlvPlayerStats {
            queued_bytes: self.player.queued_bytes() as f64,
            dropped_video: dropped.video_frames as f64,
            dropped_audio: dropped.audio_frames as f64,
        }
    }
}
