//! HLS output of a live stream, muxed off the JS thread: an FLV sink of the stream's
//! hub (`flv_sink`: the join burst, then every message, through the players' bounded
//! drop policy) feeds a tokio task that hands each message, with the wall clock it
//! arrived at, to the sans-IO [`Segmenter`]. HTTP requests read the window under a
//! short lock (`playlist`, `lookup`) and wait for a part with [`HlsOutput::wait`]
//! (blocking playlist reload and preload hints, RFC 8216bis §6.2.5.2) on a watch
//! channel that counts completed parts.
//!
//! A publication is one segmenter with a fresh random id in every name; when the
//! publisher leaves, the window stays (its playlist ends with `EXT-X-ENDLIST`) until
//! [`HlsOutput::attach`] starts the next publication.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::watch;

use super::flv_sink::{flv_sink, FlvSink};
use super::memory::release_freed_heap;
use super::{tokio_handle, Hub, RuntimeError, SinkKind};
use crate::proto::chunk::Payload;
use crate::proto::flv;
use crate::proto::hls::{media_playlist, Blocking, HlsConfig, Lookup, Segmenter};

/// Media bytes the muxer task may fall behind by before the drop policy applies.
const QUEUE_LIMIT: usize = 16 * 1024 * 1024;

struct Current {
    /// Counts publications: a task feeds only its own.
    epoch: u64,
    segmenter: Segmenter,
    sink: Option<Arc<FlvSink>>,
}

struct Shared {
    config: HlsConfig,
    current: Mutex<Current>,
    /// Bumped whenever a part is completed or a publication starts or ends.
    progress: watch::Sender<u64>,
}

impl Shared {
    fn current(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.progress.send_modify(|n| *n += 1);
    }
}

/// A stream's HLS output.
#[derive(Clone)]
pub struct HlsOutput {
    shared: Arc<Shared>,
}

/// What a wait ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    Ready,
    TimedOut,
    BadRequest,
}

/// Counters of an HLS output.
#[derive(Debug, Clone, Default)]
pub struct HlsStats {
    pub prefix: String,
    pub segments: usize,
    /// The segment being cut (its Media Sequence Number), if any.
    pub open_msn: Option<u64>,
    pub held_bytes: usize,
    pub has_video: bool,
    pub ended: bool,
    /// Why a track of the publication is not in the output, if one is not.
    pub skipped: Option<String>,
}

/// A random publication id: 48 bits in hex.
fn publication_id() -> Result<String, RuntimeError> {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).map_err(|e| RuntimeError::Io(std::io::Error::other(e)))?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl HlsOutput {
    /// An HLS output of `hub`'s current publication (or its next one).
    pub fn start(hub: &Hub, config: HlsConfig) -> Result<Self, RuntimeError> {
        let output = Self {
            shared: Arc::new(Shared {
                config,
                current: Mutex::new(Current {
                    epoch: 0,
                    segmenter: Segmenter::new("", config),
                    sink: None,
                }),
                progress: watch::channel(0).0,
            }),
        };
        output.attach(hub)?;
        Ok(output)
    }

    /// Follows `hub`'s next publication when the current one has ended (a hub ends
    /// its feeds when its publisher leaves): a new id, an empty window, a new feed.
    /// While the hub still feeds this output, nothing changes.
    pub fn attach(&self, hub: &Hub) -> Result<(), RuntimeError> {
        let runtime = tokio_handle()?;
        let id = publication_id()?;
        let (feed, sink) = flv_sink(QUEUE_LIMIT);
        let sink = Arc::new(sink);
        let epoch = {
            let mut current = self.shared.current();
            if current.sink.as_ref().is_some_and(|s| s.is_fed()) {
                return Ok(());
            }
            if let Some(old) = current.sink.take() {
                old.close();
            }
            current.epoch += 1;
            current.segmenter = Segmenter::new(&id, self.shared.config);
            current.sink = Some(sink.clone());
            current.epoch
        };
        hub.add_flv_sink(feed, SinkKind::Output);
        self.shared.bump();
        runtime.spawn(mux(self.shared.clone(), sink, epoch));
        Ok(())
    }

    /// Stops taking the stream's messages; what is held is still served.
    pub fn stop(&self) {
        if let Some(sink) = self.shared.current().sink.take() {
            sink.close();
        }
    }

    /// The media playlist now (`None` before the first segment is complete).
    pub fn playlist(&self) -> Option<String> {
        media_playlist(&self.shared.current().segmenter)
    }

    /// The bytes of a name in the window.
    pub fn lookup(&self, name: &str) -> Lookup {
        self.shared.current().segmenter.lookup(name)
    }

    /// Waits up to `timeout` until segment `msn` (part `part` of it) is in the
    /// playlist, or with `name`, until that part exists (a preload hint).
    pub async fn wait(
        &self,
        msn: Option<u64>,
        part: Option<u32>,
        name: Option<&str>,
        timeout: Duration,
    ) -> WaitOutcome {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut progress = self.shared.progress.subscribe();
        loop {
            progress.borrow_and_update();
            let state = {
                let current = self.shared.current();
                let s = &current.segmenter;
                match (name, msn) {
                    (Some(name), _) => match s.lookup(name) {
                        Lookup::Pending => Blocking::Wait,
                        _ => Blocking::Ready,
                    },
                    (None, Some(msn)) => s.blocking(msn, part),
                    (None, None) => Blocking::Ready,
                }
            };
            match state {
                Blocking::Ready => return WaitOutcome::Ready,
                Blocking::BadRequest => return WaitOutcome::BadRequest,
                Blocking::Wait => {}
            }
            match tokio::time::timeout_at(deadline, progress.changed()).await {
                Ok(Ok(())) => {}
                _ => return WaitOutcome::TimedOut,
            }
        }
    }

    pub fn stats(&self) -> HlsStats {
        let current = self.shared.current();
        let s = &current.segmenter;
        HlsStats {
            prefix: s.prefix().to_string(),
            segments: s.segments().len(),
            open_msn: s.open().map(|(msn, _)| msn),
            held_bytes: s.held_bytes(),
            has_video: s.has_video(),
            ended: s.ended(),
            skipped: s.skipped.as_ref().map(ToString::to_string),
        }
    }

    pub fn config(&self) -> HlsConfig {
        self.shared.config
    }
}

/// Feeds publication `epoch`'s segmenter from the sink until the sink ends (the
/// publication ended, or a new one was attached).
async fn mux(shared: Arc<Shared>, sink: Arc<FlvSink>, epoch: u64) {
    let oldest_msn = |current: &Current| current.segmenter.segments().front().map(|s| s.msn);
    let mut frames = Vec::new();
    while sink.recv(&mut frames).await {
        let now = now_ms();
        let (completed, slid) = {
            let mut current = shared.current();
            if current.epoch != epoch {
                return;
            }
            let oldest = oldest_msn(&current);
            let mut completed = false;
            for frame in frames.drain(..) {
                let Some(header) = frame.parts.first().and_then(|h| flv::read_tag_header(h)) else {
                    continue;
                };
                let body: Vec<Bytes> = flv::tag_payload(&frame.parts).to_vec();
                let payload = Payload::from_parts(body);
                completed |=
                    current
                        .segmenter
                        .push(header.tag_type, header.timestamp, &payload, now);
            }
            (
                completed,
                oldest.is_some() && oldest_msn(&current) != oldest,
            )
        };
        if slid {
            // A segment left the window: its megabyte or more is free heap now. Not
            // under the lock: a trim walks the allocator's free lists.
            release_freed_heap();
        }
        if completed {
            shared.bump();
        }
    }
    let mut current = shared.current();
    if current.epoch == epoch {
        current.segmenter.end();
        current.sink = None;
        drop(current);
        shared.bump();
    }
}
