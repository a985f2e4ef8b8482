//! `NativeRecording`: a live stream recorded natively into an FLV file (see
//! `runtime::record`); its end reaches one JS callback.

use std::path::PathBuf;

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use super::session::NativeStream;
use super::{invalid_arg, js_error};
use crate::runtime::{self, RecordSummary, Recording};

/// Media bytes a recording holds for a slow disk before it drops frames.
const DEFAULT_QUEUE_LIMIT: u32 = 16 * 1024 * 1024;

/// How a recording ended, as the JS callback gets it.
#[napi(object)]
pub struct RecordResult {
    pub path: String,
    pub bytes: f64,
    pub duration_ms: f64,
    pub dropped_video: f64,
    pub dropped_audio: f64,
    /// Why it ended early, with its code (ERR_RTMP_RECORD).
    pub error_message: Option<String>,
    pub error_code: Option<String>,
}

impl From<RecordSummary> for RecordResult {
    fn from(s: RecordSummary) -> Self {
        Self {
            path: s.path.display().to_string(),
            bytes: s.bytes as f64,
            duration_ms: s.duration_ms as f64,
            dropped_video: s.dropped.video_frames as f64,
            dropped_audio: s.dropped.audio_frames as f64,
            error_message: s.error.as_ref().map(ToString::to_string),
            error_code: s.error.as_ref().map(|e| e.code().to_string()),
        }
    }
}

/// A recording's counters while it runs.
#[napi(object)]
pub struct RecordingStats {
    pub queued_bytes: f64,
    pub dropped_video: f64,
    pub dropped_audio: f64,
}

type DoneFn = ThreadsafeFunction<RecordResult, (), RecordResult, Status, false>;

/// A recording in progress.
#[napi]
pub struct NativeRecording {
    recording: Recording,
}

#[napi]
impl NativeRecording {
    /// Starts recording `stream` into `path` (created or truncated), with at most
    /// `queueLimit` bytes of media waiting for the disk (default 16 MiB).
    /// `onDone(result)` is called once, after the file is finalized or the recording
    /// failed; until then the recording keeps Node alive.
    #[napi(factory, catch_unwind)]
    pub fn start(
        stream: &NativeStream,
        path: String,
        queue_limit: Option<u32>,
        on_done: Function<'_, RecordResult, ()>,
    ) -> napi::Result<Self> {
        if path.is_empty() {
            return Err(invalid_arg("a recording needs a file path".into()));
        }
        let done: DoneFn = on_done
            .build_threadsafe_function::<RecordResult>()
            .callee_handled::<false>()
            .build()?;
        let limit = queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT) as usize;
        let recording = runtime::record(&stream.hub, PathBuf::from(path), limit, move |s| {
            done.call(s.into(), ThreadsafeFunctionCallMode::NonBlocking);
        })
        .map_err(js_error)?;
        Ok(Self { recording })
    }

    /// Ends the recording: what it holds is written, the file finalized, then
    /// `onDone` called.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.recording.stop();
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> RecordingStats {
        let dropped = self.recording.dropped();
        RecordingStats {
            queued_bytes: self.recording.queued_bytes() as f64,
            dropped_video: dropped.video_frames as f64,
            dropped_audio: dropped.audio_frames as f64,
        }
    }
}
