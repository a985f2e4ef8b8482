//! Native recording of a live stream into an FLV file (FLV v10.1 annex E), off the JS
//! thread: the recorder is an FLV sink of the stream's hub (`flv_sink`), and a tokio
//! task hands what the sink received to one blocking write (`spawn_blocking`, a
//! vectored write) at a time. While a write is in progress the sink's bounded queue
//! takes the next frames, with the players' drop policy: a slow disk costs frames
//! (counted in [`RecordSummary::dropped`]), never unbounded memory.
//!
//! The file: the FLV header, an `onMetaData` tag (the publisher's properties, then
//! `duration` and `filesize`; `flv::file_metadata`), then every tag the sink received
//! at the publication's own timestamps. It ends with the publication (or
//! [`Recording::stop`], or the hub going); it is then finalized in place: `duration`
//! (seconds from the first to the last audio/video timestamp), `filesize` (bytes) and
//! the header's audio/video flags are overwritten, and the file is synced. A failed
//! create or write ends the recording with [`RuntimeError::Record`]; what was written
//! is still finalized as far as the disk lets it. Written to a pipe, the file is left
//! as streamed (nothing to seek back to).

use std::fs::File;
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::flv_sink::{flv_sink, FlvSink};
use super::{tokio_handle, Hub, RuntimeError, SinkKind};
use crate::proto::chunk::Payload;
use crate::proto::flv::{self, FileMetadata};
use crate::proto::outbound::{DropStats, SharedFrame, MAX_IOVECS};

/// How a recording ended.
#[derive(Debug)]
pub struct RecordSummary {
    pub path: PathBuf,
    /// The file's size.
    pub bytes: u64,
    /// From the first to the last audio/video timestamp written.
    pub duration_ms: u64,
    /// Frames the drop policy dropped because the disk was slower than the stream.
    pub dropped: DropStats,
    /// Why it ended early, if it did.
    pub error: Option<RuntimeError>,
}

/// A recording in progress.
pub struct Recording {
    sink: Arc<FlvSink>,
}

impl Recording {
    /// Ends the recording: what the sink holds is written, then the file is finalized
    /// and the recording's `done` is called.
    pub fn stop(&self) {
        self.sink.close();
    }

    /// Bytes received from the stream and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.sink.queued_bytes()
    }

    /// What the drop policy dropped so far.
    pub fn dropped(&self) -> DropStats {
        self.sink.dropped()
    }
}

/// Starts recording `hub` into a new file at `path` (created, or truncated), with at
/// most `media_limit` bytes of media waiting for the disk. `done` is called once, on a
/// runtime thread, after the file is finalized or the recording failed.
pub fn record(
    hub: &Hub,
    path: PathBuf,
    media_limit: usize,
    done: impl FnOnce(RecordSummary) + Send + 'static,
) -> Result<Recording, RuntimeError> {
    let runtime = tokio_handle()?;
    let (feed, sink) = flv_sink(media_limit);
    let sink = Arc::new(sink);
    hub.add_flv_sink(feed, SinkKind::Output);
    let task_sink = sink.clone();
    runtime.spawn(async move {
        let recorder = tokio::spawn(run(task_sink.clone(), path.clone()));
        let (bytes, duration_ms, error) = match recorder.await {
            Ok(outcome) => outcome,
            Err(e) => (0, 0, Some(RuntimeError::Panic(e.to_string()))),
        };
        task_sink.close();
        done(RecordSummary {
            path,
            bytes,
            duration_ms,
            dropped: task_sink.dropped(),
            error,
        });
    });
    Ok(Recording { sink })
}

/// Runs `work` on the blocking pool (a panic there becomes an I/O error).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| io::Error::other(e.to_string()))
}

/// Records until the sink ends; returns the file's size, the duration and the error
/// that ended it early, if any.
async fn run(sink: Arc<FlvSink>, path: PathBuf) -> (u64, u64, Option<RuntimeError>) {
    let failed = |source| RuntimeError::Record {
        path: path.display().to_string(),
        source,
    };
    let open_path = path.clone();
    let mut file = match blocking(move || FlvFile::create(&open_path)).await {
        Ok(Ok(file)) => file,
        Ok(Err(e)) | Err(e) => return (0, 0, Some(failed(e))),
    };
    let mut frames = Vec::new();
    let mut error = None;
    let mut started = false;
    loop {
        let more = sink.recv(&mut frames).await;
        let metadata = (!started).then(|| {
            started = true;
            flv::file_metadata(take_published_metadata(&mut frames).as_deref())
        });
        if !more && metadata.is_none() {
            break;
        }
        let written = blocking(move || {
            let result = match metadata {
                Some(metadata) => file.start(&metadata),
                None => Ok(()),
            }
            .and_then(|()| file.write(&frames));
            frames.clear();
            (file, frames, result)
        })
        .await;
        match written {
            Ok((f, fr, Ok(()))) => (file, frames) = (f, fr),
            Ok((f, _, Err(e))) => {
                file = f;
                error = Some(failed(e));
                break;
            }
            Err(e) => return (0, 0, Some(failed(e))),
        }
        if !more {
            break;
        }
    }
    sink.close();
    let duration_ms = file.duration_ms();
    match blocking(move || (file.finish(), file.bytes)).await {
        Ok((result, bytes)) => {
            let error = error.or(result.err().map(failed));
            (bytes, duration_ms, error)
        }
        Err(e) => (0, duration_ms, Some(error.unwrap_or(failed(e)))),
    }
}

/// The first frame if it is the publisher's `onMetaData` (a script data tag): taken
/// out, as its payload, to become the file's own metadata.
fn take_published_metadata(frames: &mut Vec<Arc<SharedFrame>>) -> Option<Vec<u8>> {
    let first = frames.first()?;
    let header = flv::read_tag_header(first.parts.first()?)?;
    let payload = Payload::from_parts(flv::tag_payload(&first.parts).to_vec());
    if header.tag_type != flv::TAG_SCRIPT || !payload.starts_with(flv::ON_META_DATA) {
        return None;
    }
    frames.remove(0);
    Some(payload.contiguous().into_owned())
}

/// The file being written, on the blocking pool.
struct FlvFile {
    file: File,
    bytes: u64,
    /// Where the metadata's `duration` and `filesize` doubles are in the file.
    patch_at: Option<(u64, u64)>,
    /// First and last audio/video timestamps written.
    span: Option<(u32, u32)>,
    has_audio: bool,
    has_video: bool,
}

impl FlvFile {
    fn create(path: &Path) -> io::Result<Self> {
        let mut file = Self {
            file: File::create(path)?,
            bytes: 0,
            patch_at: None,
            span: None,
            has_audio: false,
            has_video: false,
        };
        // Both flags until the file is finalized with what it holds.
        file.write_all(&[Bytes::copy_from_slice(&flv::file_header(true, true))])?;
        Ok(file)
    }

    /// Writes the metadata tag the file starts with.
    fn start(&mut self, metadata: &FileMetadata) -> io::Result<()> {
        let payload = Payload::from(metadata.payload.clone());
        let parts = flv::tag(flv::TAG_SCRIPT, 0, &payload)
            .ok_or_else(|| io::Error::other("metadata longer than an FLV tag"))?;
        let at = self.bytes + flv::TAG_HEADER_LEN as u64;
        self.write_all(&parts)?;
        self.patch_at = Some((
            at + metadata.duration_at as u64,
            at + metadata.filesize_at as u64,
        ));
        Ok(())
    }

    fn write(&mut self, frames: &[Arc<SharedFrame>]) -> io::Result<()> {
        for frame in frames {
            let Some(header) = frame.parts.first().and_then(|h| flv::read_tag_header(h)) else {
                continue;
            };
            let ts = header.timestamp;
            match header.tag_type {
                flv::TAG_AUDIO => self.has_audio = true,
                flv::TAG_VIDEO => self.has_video = true,
                _ => continue,
            }
            self.span = Some(self.span.map_or((ts, ts), |(a, b)| (a, b.max(ts))));
        }
        let parts: Vec<Bytes> = frames
            .iter()
            .flat_map(|f| f.parts.iter().cloned())
            .collect();
        self.write_all(&parts)
    }

    /// Writes every buffer, [`MAX_IOVECS`] at a time.
    fn write_all(&mut self, parts: &[Bytes]) -> io::Result<()> {
        for group in parts.chunks(MAX_IOVECS) {
            let mut slices: Vec<IoSlice<'_>> = group.iter().map(|p| IoSlice::new(p)).collect();
            let mut left = &mut slices[..];
            while !left.is_empty() {
                let n = self.file.write_vectored(left)?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                self.bytes += n as u64;
                IoSlice::advance_slices(&mut left, n);
            }
        }
        Ok(())
    }

    fn duration_ms(&self) -> u64 {
        self.span.map_or(0, |(first, last)| u64::from(last - first))
    }

    /// Patches duration, filesize and the header's flags in place, then syncs. Output
    /// that cannot seek (a pipe) is left as streamed: a valid FLV stream, unpatched.
    fn finish(&mut self) -> io::Result<()> {
        match self.file.seek(SeekFrom::Start(0)) {
            Err(e) if e.kind() == io::ErrorKind::NotSeekable => return Ok(()),
            other => other?,
        };
        let mut patch = |at: u64, bytes: &[u8]| {
            self.file.seek(SeekFrom::Start(at))?;
            self.file.write_all(bytes)
        };
        if let Some((duration_at, filesize_at)) = self.patch_at {
            let seconds = self.span.map_or(0, |(first, last)| last - first) as f64 / 1000.0;
            patch(duration_at, &seconds.to_be_bytes())?;
            patch(filesize_at, &(self.bytes as f64).to_be_bytes())?;
        }
        let flags = flv::type_flags(self.has_audio, self.has_video);
        patch(flv::FLAGS_OFFSET as u64, &[flags])?;
        self.file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto::chunk::Message;
    use crate::proto::message::type_id;
    use crate::runtime::MergeWindows;

    fn message(type_id: u8, timestamp: u32, payload: &[u8]) -> Message {
        Message {
            csid: 4,
            timestamp,
            type_id,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::copy_from_slice(payload).into(),
        }
    }

    /// `record` with `done` turned into a future.
    fn start(
        hub: &Hub,
        path: PathBuf,
    ) -> (Recording, tokio::sync::oneshot::Receiver<RecordSummary>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let recording = record(hub, path, 1 << 20, move |s| {
            let _ = tx.send(s);
        })
        .expect("runtime");
        (recording, rx)
    }

    async fn summary(rx: tokio::sync::oneshot::Receiver<RecordSummary>) -> RecordSummary {
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("finalized in time")
            .expect("done called")
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("rtmpapi-{}-{name}.flv", std::process::id()))
    }

    #[tokio::test]
    async fn a_publication_is_recorded_whole_and_finalized_when_the_publisher_leaves() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let path = temp_path("whole");
        let (_recording, done) = start(&hub, path.clone());
        let mut meta = b"\x02\x00\x0d@setDataFrame".to_vec();
        meta.extend_from_slice(&flv::file_metadata(None).payload);
        hub.publish(&message(type_id::AMF0_DATA, 0, &meta));
        hub.publish(&message(type_id::AUDIO, 0, &[0xAF, 0, 0x12, 0x10]));
        hub.publish(&message(type_id::AUDIO, 0, &[0xAF, 1, 1]));
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 1, 0, 0, 0, 2]));
        hub.publish(&message(type_id::AUDIO, 1500, &[0xAF, 1, 3]));
        hub.flush_players();
        hub.publisher_left();
        let s = summary(done).await;
        assert!(s.error.is_none(), "{:?}", s.error);
        assert_eq!(s.duration_ms, 1500);
        let file = std::fs::read(&path).expect("written");
        std::fs::remove_file(&path).ok();
        assert_eq!(s.bytes, file.len() as u64);
        assert_eq!(&file[..13], &flv::file_header(true, true));
        // Then the metadata, patched: 1.5 s and the file's size.
        let meta = flv::file_metadata(None);
        let at = 13 + 11;
        let number = |i: usize| f64::from_be_bytes(file[at + i..at + i + 8].try_into().unwrap());
        assert_eq!(number(meta.duration_at), 1.5);
        assert_eq!(number(meta.filesize_at), file.len() as f64);
        // Then each message as a tag, in order, audio before the keyframe included.
        let mut pos = at + meta.payload.len() + 4;
        let mut tags = Vec::new();
        while pos < file.len() {
            let h = flv::read_tag_header(&file[pos..]).expect("a tag");
            let end = pos + 11 + h.data_size as usize;
            tags.push((h.tag_type, h.timestamp, file[pos + 11..end].to_vec()));
            assert_eq!(&file[end..end + 4], &(11 + h.data_size).to_be_bytes());
            pos = end + 4;
        }
        assert_eq!(
            tags,
            [
                (8, 0, vec![0xAF, 0, 0x12, 0x10]),
                (8, 0, vec![0xAF, 1, 1]),
                (9, 0, vec![0x17, 1, 0, 0, 0, 2]),
                (8, 1500, vec![0xAF, 1, 3]),
            ]
        );
    }

    #[tokio::test]
    async fn a_recording_started_mid_stream_starts_with_configs_then_the_gop_keyframe() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 0, 0, 0, 0, 1]));
        hub.publish(&message(type_id::VIDEO, 0, &[0x17, 1, 0, 0, 0, 2]));
        hub.publish(&message(type_id::VIDEO, 40, &[0x27, 1, 0, 0, 0, 3]));
        hub.publish(&message(type_id::VIDEO, 80, &[0x17, 1, 0, 0, 0, 4]));
        hub.publish(&message(type_id::VIDEO, 120, &[0x27, 1, 0, 0, 0, 5]));
        hub.flush_players();
        let path = temp_path("mid");
        let (recording, done) = start(&hub, path.clone());
        hub.publish(&message(type_id::VIDEO, 160, &[0x27, 1, 0, 0, 0, 6]));
        hub.flush_players();
        // Stopped, not unpublished: still finalized.
        tokio::time::sleep(Duration::from_millis(50)).await;
        recording.stop();
        let s = summary(done).await;
        assert!(s.error.is_none(), "{:?}", s.error);
        let file = std::fs::read(&path).expect("written");
        std::fs::remove_file(&path).ok();
        let mut pos = 13 + 11 + flv::file_metadata(None).payload.len() + 4;
        let mut got = Vec::new();
        while pos < file.len() {
            let h = flv::read_tag_header(&file[pos..]).expect("a tag");
            got.push((h.timestamp, file[pos + 11 + 5]));
            pos += 11 + h.data_size as usize + 4;
        }
        // The config restamped to the GOP's start, then the GOP from its keyframe.
        assert_eq!(got, [(80, 1), (80, 4), (120, 5), (160, 6)]);
        assert_eq!(s.duration_ms, 80);
        assert_eq!(file[flv::FLAGS_OFFSET], 0x01, "video only");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_created_or_written_ends_the_recording_with_an_error() {
        let hub = Hub::new(1 << 20, MergeWindows::NONE);
        let missing = std::env::temp_dir().join("rtmpapi-no-such-dir/x.flv");
        let (_recording, done) = start(&hub, missing);
        let s = summary(done).await;
        let error = s.error.expect("an error");
        assert_eq!(error.code(), "ERR_RTMP_RECORD");
        assert!(error.to_string().contains("rtmpapi-no-such-dir"), "{error}");

        if Path::new("/dev/full").exists() {
            let (_recording, done) = start(&hub, "/dev/full".into());
            hub.publish(&message(type_id::AUDIO, 0, &[0xAF, 1, 1]));
            hub.flush_players();
            let s = summary(done).await;
            let error = s.error.expect("disk full");
            assert_eq!(error.code(), "ERR_RTMP_RECORD");
        }
    }
}
