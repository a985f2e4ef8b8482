//! `NativeHls`: a live stream's HLS output (see `runtime::HlsOutput`). The HTTP side
//! is JS (lib/hls.js): it asks for the playlist and the bytes of a name, and awaits
//! blocking requests here.

use std::time::Duration;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use super::js_error;
use super::session::NativeStream;
use crate::proto::hls::{HlsConfig, Lookup};
use crate::runtime::{HlsOutput, WaitOutcome};

/// How segments and parts are cut (defaults: `HlsConfig::default`).
#[napi(object)]
pub struct HlsOptions {
    pub part_target_ms: Option<u32>,
    pub segment_min_ms: Option<u32>,
    pub segment_max_ms: Option<u32>,
    pub window: Option<u32>,
}

/// An HLS output's counters.
#[napi(object)]
pub struct NativeHlsStats {
    /// The current publication's name prefix.
    pub prefix: String,
    pub segments: u32,
    /// The Media Sequence Number of the segment being cut.
    pub open_msn: Option<f64>,
    pub held_bytes: f64,
    pub has_video: bool,
    pub ended: bool,
    /// Why a track is not in the output (an unsupported codec, a bad config).
    pub skipped: Option<String>,
}

/// A live stream's HLS output, muxed natively.
#[napi]
pub struct NativeHls {
    output: HlsOutput,
}

#[napi]
impl NativeHls {
    #[napi(factory, catch_unwind)]
    pub fn start(stream: &NativeStream, options: Option<HlsOptions>) -> napi::Result<Self> {
        let d = HlsConfig::default();
        let config = match options {
            None => d,
            Some(o) => HlsConfig {
                part_target_ms: o.part_target_ms.unwrap_or(d.part_target_ms),
                segment_min_ms: o.segment_min_ms.unwrap_or(d.segment_min_ms),
                segment_max_ms: o.segment_max_ms.unwrap_or(d.segment_max_ms),
                window: o.window.map_or(d.window, |w| w as usize),
            },
        };
        let output = HlsOutput::start(&stream.hub, config).map_err(js_error)?;
        Ok(Self { output })
    }

    /// Follows the stream's next publication once the current one has ended.
    #[napi(catch_unwind)]
    pub fn attach(&self, stream: &NativeStream) -> napi::Result<()> {
        self.output.attach(&stream.hub).map_err(js_error)
    }

    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.output.stop();
    }

    /// The media playlist, or null before the first segment is complete.
    #[napi(catch_unwind)]
    pub fn playlist(&self) -> Option<String> {
        self.output.playlist()
    }

    /// The bytes of a name (`<id>_init.mp4`, `<id>_<msn>.m4s`, `<id>_<msn>_<part>.m4s`),
    /// or null; `pending` says whether it is the next part to be cut.
    #[napi(catch_unwind)]
    pub fn lookup(&self, name: String) -> Option<Buffer> {
        match self.output.lookup(&name) {
            // A copy the JS Buffer owns (a segment's parts joined here).
            Lookup::Found(payload) => Some(payload.contiguous().into_owned().into()),
            _ => None,
        }
    }

    #[napi(catch_unwind)]
    pub fn pending(&self, name: String) -> bool {
        self.output.lookup(&name) == Lookup::Pending
    }

    /// Waits up to `timeoutMs` until segment `msn` (part `part`) is in the playlist, or
    /// with `name`, until that part exists: "ready", "timeout" or "bad".
    #[napi]
    pub async fn wait(
        &self,
        msn: Option<f64>,
        part: Option<u32>,
        name: Option<String>,
        timeout_ms: u32,
    ) -> String {
        let outcome = self
            .output
            .wait(
                msn.map(|m| m as u64),
                part,
                name.as_deref(),
                Duration::from_millis(u64::from(timeout_ms)),
            )
            .await;
        match outcome {
            WaitOutcome::Ready => "ready",
            WaitOutcome::TimedOut => "timeout",
            WaitOutcome::BadRequest => "bad",
        }
        .to_string()
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeHlsStats {
        let s = self.output.stats();
        NativeHlsStats {
            prefix: s.prefix,
            segments: s.segments as u32,
            open_msn: s.open_msn.map(|m| m as f64),
            held_bytes: s.held_bytes as f64,
            has_video: s.has_video,
            ended: s.ended,
            skipped: s.skipped,
        }
    }

    /// The part target, ms (for the Cache-Control of playlists).
    #[napi(getter, catch_unwind)]
    pub fn part_target_ms(&self) -> u32 {
        self.output.config().part_target_ms
    }
}
