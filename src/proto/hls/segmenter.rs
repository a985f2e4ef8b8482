//! Cuts a live stream's messages into CMAF segments and parts (RFC 8216bis §4.4.4.9,
//! §4.4.4.9.1 EXT-X-PART) held in a bounded window.
//!
//! Tracks: the default video track (track 0: a legacy or ExHeader message, or track 0
//! of a multitrack one) and the default audio track; other tracks are left out. The
//! leading track — video if the publication has it, else audio — decides the cuts:
//! a new segment at one of its keyframes once the segment is at least
//! [`HlsConfig::segment_min_ms`] long (so the target duration follows the GOP), a new
//! part once adding the next frame would pass the part target, and a new part at
//! every keyframe, so each part that holds one starts with it (`INDEPENDENT=YES`).
//! A sample's duration is the distance to the next sample of its track; the last one
//! of a part gets the distance to the cut (leading track) or its predecessor's.
//!
//! Nothing is kept before the first keyframe of the leading track. Times: FLV
//! millisecond timestamps (32-bit, unwrapped), made relative to the publication's
//! first frame, then converted to each track's timescale; `EXT-X-PROGRAM-DATE-TIME`
//! is the wall clock the caller passed with the first frame, advanced by media time.
//!
//! A decoder configuration that changes after the init segment was made starts a new
//! generation: the window is emptied and every name changes (the init segment is part
//! of every URL's identity). Players reload the playlist and start over.

use std::collections::VecDeque;

use bytes::Bytes;

use super::fmp4::{self, Run, Sample, TrackKind, TrackSetup};
use super::HlsError;
use crate::proto::amf::amf0;
use crate::proto::chunk::Payload;
use crate::proto::flv;
use crate::proto::media::{audio_header, classify, video_header, ConfigKind, MediaRole, TagHeader};
use crate::proto::message::type_id;

/// How segments and parts are cut and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlsConfig {
    /// `PART-TARGET` (RFC 8216bis §4.4.3.7): parts are at most this long, unless one
    /// frame is longer.
    pub part_target_ms: u32,
    /// A segment ends at the first keyframe past this length.
    pub segment_min_ms: u32,
    /// A segment ends here even without a keyframe (a stream with rare keyframes stays
    /// bounded in memory).
    pub segment_max_ms: u32,
    /// Complete segments kept (and listed in the playlist).
    pub window: usize,
}

impl Default for HlsConfig {
    fn default() -> Self {
        Self {
            part_target_ms: 200,
            segment_min_ms: 1000,
            segment_max_ms: 10_000,
            window: 7,
        }
    }
}

/// One part: one `moof` + `mdat`.
#[derive(Debug, Clone)]
pub struct Part {
    pub data: Bytes,
    pub duration_ms: u32,
    /// Starts with a keyframe of the leading track (RFC 8216bis §4.4.4.9 INDEPENDENT).
    pub independent: bool,
}

/// A complete segment: its parts, in order. Its bytes are theirs, one after the other
/// ([`Segment::payload`]); they are not joined into one buffer, which would copy every
/// byte of the stream once more for requests that may never come (LL-HLS players fetch
/// the parts).
#[derive(Debug, Clone)]
pub struct Segment {
    pub msn: u64,
    pub parts: Vec<Part>,
    pub duration_ms: u32,
    /// Wall-clock time of its first sample, ms since the Unix epoch.
    pub program_date_ms: i64,
}

impl Segment {
    /// The segment's bytes: its parts' buffers, shared.
    pub fn payload(&self) -> Payload {
        Payload::from_parts(self.parts.iter().map(|p| p.data.clone()).collect())
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.parts.iter().map(|p| p.data.len()).sum()
    }
}

/// The segment being cut.
#[derive(Debug)]
struct OpenSegment {
    msn: u64,
    parts: Vec<Part>,
    start_ms: i64,
    program_date_ms: i64,
}

struct Pending {
    /// In the track's timescale, from the publication's first frame.
    dts: i64,
    cts: i32,
    sync: bool,
    data: Payload,
}

struct Track {
    setup: TrackSetup,
    samples: Vec<Pending>,
    /// The last sample duration written, in the track's timescale.
    last_duration: u32,
}

impl Track {
    fn to_scale(&self, ms: i64) -> i64 {
        ms * i64::from(self.setup.timescale) / 1000
    }
}

/// What a name asks for ([`Segmenter::lookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The bytes: one buffer (the init segment, a part) or a segment's parts.
    Found(Payload),
    /// The part is the next one to be cut: wait for it (a preload hint's target).
    Pending,
    NotFound,
}

/// Whether a blocking playlist request (`_HLS_msn`, `_HLS_part`; RFC 8216bis
/// §6.2.5.2) can be answered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocking {
    Ready,
    Wait,
    /// Too far in the future: answer 400 at once.
    BadRequest,
}

/// A publication's segmenter and its window.
pub struct Segmenter {
    config: HlsConfig,
    /// Names' prefix: the caller's publication id and the generation.
    id: String,
    generation: u32,
    prefix: String,
    /// The default tracks' latest configurations (FourCC, record).
    video_config: Option<([u8; 4], Bytes)>,
    audio_config: Option<([u8; 4], Bytes)>,
    /// From the publisher's onMetaData.
    size: (u16, u16),
    /// The muxed tracks, leading track first; empty until the first segment opens.
    tracks: Vec<Track>,
    init: Option<Bytes>,
    /// (last raw timestamp, its unwrapped value), and the first frame's.
    clock: Option<(u32, i64)>,
    base_ms: i64,
    /// Wall clock minus media time, from the first frame.
    wall_offset_ms: i64,
    part_start_ms: i64,
    /// The leading track's last frame spacing.
    lead_frame_ms: i64,
    last_ms: i64,
    segments: VecDeque<Segment>,
    open: Option<OpenSegment>,
    next_msn: u64,
    fragments: u32,
    /// Bytes of the samples not yet in a part.
    pending_bytes: usize,
    ended: bool,
    /// Why a track was left out, if one was.
    pub skipped: Option<HlsError>,
}

/// A part's samples at most: a part is cut here whatever its duration (a publisher's
/// timestamps may not advance), so memory stays bounded by bytes too.
pub const MAX_PART_BYTES: usize = 8 << 20;
/// A segment ends past this many bytes even without a keyframe.
pub const MAX_SEGMENT_BYTES: usize = 64 << 20;

/// Leading bytes enough for a tag header (see `media::classify`).
const HEAD: usize = 64;

impl Segmenter {
    /// A segmenter whose names start with `id` (letters and digits: no `_`).
    pub fn new(id: &str, config: HlsConfig) -> Self {
        let config = HlsConfig {
            part_target_ms: config.part_target_ms.max(1),
            window: config.window.max(1),
            ..config
        };
        Self {
            config,
            id: id.to_string(),
            generation: 0,
            prefix: id.to_string(),
            video_config: None,
            audio_config: None,
            size: (0, 0),
            tracks: Vec::new(),
            init: None,
            clock: None,
            base_ms: 0,
            wall_offset_ms: 0,
            part_start_ms: 0,
            lead_frame_ms: 0,
            last_ms: 0,
            segments: VecDeque::new(),
            open: None,
            next_msn: 0,
            fragments: 0,
            pending_bytes: 0,
            ended: false,
            skipped: None,
        }
    }

    pub fn config(&self) -> &HlsConfig {
        &self.config
    }

    /// The names' prefix now.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn init(&self) -> Option<&Bytes> {
        self.init.as_ref()
    }

    /// Complete segments, oldest first.
    pub fn segments(&self) -> &VecDeque<Segment> {
        &self.segments
    }

    /// The segment being cut: its msn and finished parts.
    pub fn open(&self) -> Option<(u64, &[Part])> {
        self.open.as_ref().map(|o| (o.msn, &o.parts[..]))
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether the muxed tracks include video.
    pub fn has_video(&self) -> bool {
        self.tracks.iter().any(|t| t.setup.kind == TrackKind::Video)
    }

    /// The muxed tracks' sample entries (`avc1`, `mp4a`, ...).
    pub fn codecs(&self) -> Vec<[u8; 4]> {
        self.tracks.iter().map(|t| t.setup.fourcc).collect()
    }

    /// Bytes held by the window (segments and the open segment's parts).
    pub fn held_bytes(&self) -> usize {
        let open: usize = self
            .open
            .iter()
            .flat_map(|o| &o.parts)
            .map(|p| p.data.len())
            .sum();
        self.segments.iter().map(Segment::size).sum::<usize>() + open
    }

    /// Takes one message (type, FLV timestamp, payload as the relay keeps it: metadata
    /// without `@setDataFrame`) received at `now_ms` (ms since the Unix epoch). True
    /// when a part was completed.
    pub fn push(
        &mut self,
        message_type: u8,
        timestamp: u32,
        payload: &Payload,
        now_ms: i64,
    ) -> bool {
        if self.ended {
            return false;
        }
        match message_type {
            type_id::AUDIO | type_id::VIDEO => self.media(message_type, timestamp, payload, now_ms),
            _ => {
                if payload.starts_with(flv::ON_META_DATA) {
                    self.metadata(&payload.contiguous());
                }
                false
            }
        }
    }

    /// Width and height from `onMetaData` (FLV v10.1 §E.5).
    fn metadata(&mut self, payload: &[u8]) {
        let Ok(values) = amf0::decode_all(payload) else {
            return;
        };
        let Some(props) = values.get(1) else { return };
        let dim = |key| {
            props
                .get(key)
                .and_then(|v| v.as_f64())
                .filter(|v| (0.0..=65535.0).contains(v))
                .map_or(0, |v| v as u16)
        };
        self.size = (dim("width"), dim("height"));
    }

    /// Unwraps a 32-bit timestamp against the last one (RTMP timestamps wrap, RTMP 1.0
    /// §5.3.1.3).
    fn unwrap_time(&mut self, ts: u32) -> i64 {
        let ms = match self.clock {
            None => i64::from(ts),
            Some((last, ms)) => ms + i64::from(ts.wrapping_sub(last) as i32),
        };
        self.clock = Some((ts, ms));
        ms
    }

    fn media(&mut self, message_type: u8, timestamp: u32, payload: &Payload, now_ms: i64) -> bool {
        let class = classify(message_type, payload);
        let video = message_type == type_id::VIDEO;
        let read = |bytes: &[u8]| match video {
            true => video_header(bytes),
            false => audio_header(bytes),
        };
        let head = payload.head(HEAD);
        let header = match read(&head) {
            Err(_) if head.len() < payload.len() => read(&payload.contiguous()),
            other => other,
        };
        let Ok(header) = header else { return false };
        if header.track_id.unwrap_or(0) != 0 {
            return false;
        }
        let Some(fourcc) = codec_of(&header, video) else {
            // A codec HLS does not carry is named once; a message with no codec at
            // all (an Enhanced RTMP command frame) is not media.
            let name = match (header.fourcc, header.codec_id.or(header.sound_format)) {
                (Some(f), _) => Some(String::from_utf8_lossy(&f).into_owned()),
                (None, Some(id)) => {
                    let kind = if video { "video" } else { "audio" };
                    Some(format!("{kind} codec id {id}"))
                }
                (None, None) => None,
            };
            if let Some(name) = name.filter(|_| self.skipped.is_none()) {
                self.skipped = Some(HlsError::UnsupportedCodec(name));
            }
            return false;
        };
        let end = match header.multitrack_type {
            Some(1 | 2) => header
                .tracks
                .first()
                .map_or(payload.len(), |t| t.offset + t.size),
            _ => payload.len(),
        };
        if header.payload_offset > end || end > payload.len() {
            return false;
        }
        let data = payload.skip(header.payload_offset);
        let data = match end - header.payload_offset {
            n if n == data.len() => data,
            n => Payload::from(data.to_bytes().slice(..n)),
        };
        match class.role {
            MediaRole::Config => {
                if class.config == Some(ConfigKind::SequenceStart) {
                    self.configure(video, fourcc, data.to_bytes());
                }
                false
            }
            _ => {
                let ms = self.unwrap_time(timestamp);
                let keyframe = !video || header.frame_type == Some(1);
                let cts = header.composition_time.unwrap_or(0);
                self.frame(video, ms, cts, keyframe, data, now_ms)
            }
        }
    }

    fn configure(&mut self, video: bool, fourcc: [u8; 4], record: Bytes) {
        let slot = match video {
            true => &mut self.video_config,
            false => &mut self.audio_config,
        };
        if slot
            .as_ref()
            .is_some_and(|(f, r)| *f == fourcc && *r == record)
        {
            return;
        }
        *slot = Some((fourcc, record));
        let kind = if video {
            TrackKind::Video
        } else {
            TrackKind::Audio
        };
        if self.tracks.iter().any(|t| t.setup.kind == kind) {
            self.new_generation();
        }
    }

    /// Empties the window and changes every name (a changed decoder configuration).
    fn new_generation(&mut self) {
        self.generation += 1;
        self.prefix = format!("{}{}", self.id, self.generation);
        self.tracks.clear();
        self.init = None;
        self.segments.clear();
        self.open = None;
        self.pending_bytes = 0;
    }

    /// Builds the tracks and the init segment for a first frame; false when this frame
    /// cannot start the publication's first segment.
    fn start(&mut self, video: bool, keyframe: bool) -> bool {
        let setups = match (&self.video_config, video) {
            // Video leads: start at its first keyframe.
            (Some(_), false) => return false,
            (Some(_), true) if !keyframe => return false,
            (None, true) => return false,
            _ => {
                let mut setups = Vec::new();
                if let Some((fourcc, record)) = &self.video_config {
                    match fmp4::video_setup(*fourcc, record, self.size.0, self.size.1) {
                        Ok(s) => setups.push(s),
                        Err(e) => {
                            self.skipped = Some(e);
                            return false;
                        }
                    }
                }
                if let Some((fourcc, config)) = &self.audio_config {
                    match fmp4::audio_setup(*fourcc, config) {
                        Ok(s) => setups.push(s),
                        Err(e) => self.skipped = Some(e),
                    }
                }
                setups
            }
        };
        if setups.is_empty() {
            return false;
        }
        match fmp4::init_segment(&setups) {
            Ok(init) => self.init = Some(init),
            Err(e) => {
                self.skipped = Some(e);
                return false;
            }
        }
        self.tracks = setups
            .into_iter()
            .map(|setup| Track {
                setup,
                samples: Vec::new(),
                last_duration: 0,
            })
            .collect();
        true
    }

    fn frame(
        &mut self,
        video: bool,
        ms: i64,
        cts_ms: i32,
        keyframe: bool,
        data: Payload,
        now_ms: i64,
    ) -> bool {
        if self.tracks.is_empty() {
            if !self.start(video, keyframe) {
                return false;
            }
            if self.generation == 0 {
                // The first frame is media time 0, at the wall clock it came at.
                self.base_ms = ms;
                self.wall_offset_ms = now_ms;
            }
        }
        let kind = if video {
            TrackKind::Video
        } else {
            TrackKind::Audio
        };
        let Some(index) = self.tracks.iter().position(|t| t.setup.kind == kind) else {
            return false;
        };
        let at = (ms - self.base_ms).max(0);
        let mut completed = false;
        if index == 0 {
            completed = self.cut(at, keyframe);
        }
        if self.pending_bytes + data.len() > MAX_PART_BYTES {
            // Timestamps that do not advance never reach the part target: bytes do.
            self.finish_part(self.last_ms.max(self.part_start_ms));
            completed = true;
        }
        if self.open.is_none() {
            // Only the leading track opens a segment (at a keyframe, by `start`).
            return completed;
        }
        let track = &mut self.tracks[index];
        let dts = track.to_scale(at);
        let cts = track.to_scale(i64::from(cts_ms)) as i32;
        self.pending_bytes += data.len();
        track.samples.push(Pending {
            dts,
            cts,
            sync: keyframe,
            data,
        });
        self.last_ms = self.last_ms.max(at);
        completed
    }

    /// Cuts before a leading-track frame at `at` ms; true if a part was completed.
    fn cut(&mut self, at: i64, sync: bool) -> bool {
        let Some(open) = &self.open else {
            // The first frame of a generation, a keyframe (`start`).
            self.open_segment(at);
            return false;
        };
        let segment_ms = at - open.start_ms;
        let part_ms = at - self.part_start_ms;
        let has_samples = !self.tracks[0].samples.is_empty();
        let spacing = at
            - self.tracks[0].samples.last().map_or(at, |s| {
                s.dts * 1000 / i64::from(self.tracks[0].setup.timescale)
            });
        if spacing > 0 {
            self.lead_frame_ms = spacing;
        }
        let segment_bytes: usize = open.parts.iter().map(|p| p.data.len()).sum();
        let ends_segment = (sync && segment_ms >= i64::from(self.config.segment_min_ms))
            || segment_ms >= i64::from(self.config.segment_max_ms)
            || segment_bytes >= MAX_SEGMENT_BYTES;
        if ends_segment {
            self.finish_part(at);
            self.finish_segment();
            self.open_segment(at);
            return true;
        }
        // Every audio frame is a sync sample: only video keyframes start parts.
        let keyframe = sync && self.tracks[0].setup.kind == TrackKind::Video;
        let ends_part = has_samples
            && (keyframe || part_ms + self.lead_frame_ms > i64::from(self.config.part_target_ms));
        if ends_part {
            self.finish_part(at);
        }
        ends_part
    }

    fn open_segment(&mut self, at: i64) {
        self.open = Some(OpenSegment {
            msn: self.next_msn,
            parts: Vec::new(),
            start_ms: at,
            program_date_ms: self.wall_offset_ms + at,
        });
        self.next_msn += 1;
        self.part_start_ms = at;
    }

    /// Makes a part of every track's pending samples, up to `end` ms.
    fn finish_part(&mut self, end: i64) {
        let Some(open) = &mut self.open else { return };
        if self.tracks.iter().all(|t| t.samples.is_empty()) {
            return;
        }
        self.pending_bytes = 0;
        let mut runs_samples = Vec::with_capacity(self.tracks.len());
        for (i, track) in self.tracks.iter_mut().enumerate() {
            let end_dts = track.to_scale(end);
            let n = track.samples.len();
            let mut samples = Vec::with_capacity(n);
            for (j, s) in track.samples.iter().enumerate() {
                let next = match track.samples.get(j + 1) {
                    Some(next) => next.dts,
                    None if i == 0 => end_dts,
                    None => {
                        s.dts + i64::from(track.last_duration.max(default_duration(&track.setup)))
                    }
                };
                let duration = u32::try_from(next - s.dts).unwrap_or(0);
                if j + 1 < n || i == 0 {
                    track.last_duration = duration;
                }
                samples.push(Sample {
                    duration,
                    cts: s.cts,
                    sync: s.sync,
                    data: s.data.clone(),
                });
            }
            let base = track.samples.first().map_or(0, |s| s.dts.max(0) as u64);
            track.samples.clear();
            runs_samples.push((i as u32 + 1, base, samples));
        }
        let independent = runs_samples[0].2.first().is_some_and(|s| s.sync);
        let runs: Vec<Run<'_>> = runs_samples
            .iter()
            .filter(|(_, _, s)| !s.is_empty())
            .map(|(id, base, samples)| Run {
                track_id: *id,
                base_decode_time: *base,
                samples,
            })
            .collect();
        self.fragments = self.fragments.wrapping_add(1);
        let Ok(data) = fmp4::fragment(self.fragments, &runs) else {
            return;
        };
        let duration_ms = u32::try_from(end - self.part_start_ms).unwrap_or(0);
        open.parts.push(Part {
            data,
            duration_ms,
            independent,
        });
        self.part_start_ms = end;
    }

    fn finish_segment(&mut self) {
        let Some(open) = self.open.take() else { return };
        if open.parts.is_empty() {
            return;
        }
        self.segments.push_back(Segment {
            msn: open.msn,
            duration_ms: open.parts.iter().map(|p| p.duration_ms).sum(),
            parts: open.parts,
            program_date_ms: open.program_date_ms,
        });
        while self.segments.len() > self.config.window {
            self.segments.pop_front();
        }
    }

    /// The publication ended: what is pending becomes the last part and segment, and
    /// the playlist gets `EXT-X-ENDLIST`.
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        let end = self.last_ms + self.lead_frame_ms.max(1);
        self.finish_part(end);
        self.finish_segment();
        self.ended = true;
    }

    /// Whether a blocking playlist request for segment `msn` (and part `part` of it)
    /// can be answered (RFC 8216bis §6.2.5.2): the playlist holds that segment (that
    /// part; a part index past a complete segment's last part means the next
    /// segment's first). More than one segment past the one being cut is a bad
    /// request.
    pub fn blocking(&self, msn: u64, part: Option<u32>) -> Blocking {
        if self.ended {
            return Blocking::Ready;
        }
        let Some(open) = &self.open else {
            return match msn <= self.next_msn + 1 {
                true => Blocking::Wait,
                false => Blocking::BadRequest,
            };
        };
        if msn > open.msn + 1 {
            return Blocking::BadRequest;
        }
        let ready = match part {
            None => msn < open.msn,
            Some(p) if msn < open.msn => match self.segments.iter().find(|s| s.msn == msn) {
                Some(s) if (p as usize) >= s.parts.len() => {
                    msn + 1 < open.msn || !open.parts.is_empty()
                }
                _ => true,
            },
            Some(p) if msn == open.msn => (p as usize) < open.parts.len(),
            Some(_) => false,
        };
        match ready {
            true => Blocking::Ready,
            false => Blocking::Wait,
        }
    }

    /// The bytes a name (a URL's last path segment) refers to.
    pub fn lookup(&self, name: &str) -> Lookup {
        let Some(rest) = name
            .strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('_'))
        else {
            return Lookup::NotFound;
        };
        if rest == "init.mp4" {
            return self
                .init
                .clone()
                .map_or(Lookup::NotFound, |init| Lookup::Found(init.into()));
        }
        let Some(rest) = rest.strip_suffix(".m4s") else {
            return Lookup::NotFound;
        };
        let mut numbers = rest.split('_').map(|n| n.parse::<u64>().ok());
        let (msn, part) = match (numbers.next(), numbers.next(), numbers.next()) {
            (Some(Some(msn)), None, None) => (msn, None),
            (Some(Some(msn)), Some(Some(part)), None) => (msn, Some(part as usize)),
            _ => return Lookup::NotFound,
        };
        if let Some(segment) = self.segments.iter().find(|s| s.msn == msn) {
            return match part {
                None => Lookup::Found(segment.payload()),
                Some(p) => segment
                    .parts
                    .get(p)
                    .map_or(Lookup::NotFound, |p| Lookup::Found(p.data.clone().into())),
            };
        }
        match (&self.open, part) {
            (Some(open), Some(p)) if open.msn == msn => match open.parts.get(p) {
                Some(part) => Lookup::Found(part.data.clone().into()),
                None if p == open.parts.len() && !self.ended => Lookup::Pending,
                None => Lookup::NotFound,
            },
            _ => Lookup::NotFound,
        }
    }
}

/// A sample's duration when nothing follows it: a frame of AAC (1024 samples) or of
/// Opus (20 ms), a video frame at 25 fps.
fn default_duration(setup: &TrackSetup) -> u32 {
    match (&setup.fourcc, setup.kind) {
        (b"mp4a", _) => 1024,
        (_, TrackKind::Audio) => setup.timescale / 50,
        (_, TrackKind::Video) => setup.timescale / 25,
    }
}

/// The sample entry of a message's codec, if HLS output carries it: Enhanced RTMP's
/// FourCC, or the legacy ids (video 7 AVC, 12 HEVC, 13 AV1 as some encoders send
/// them; audio 10 AAC).
fn codec_of(header: &TagHeader, video: bool) -> Option<[u8; 4]> {
    let fourcc = match (header.fourcc, video) {
        (Some(f), _) => f,
        (None, true) => match header.codec_id? {
            7 => *b"avc1",
            12 => *b"hvc1",
            13 => *b"av01",
            _ => return None,
        },
        (None, false) => match header.sound_format? {
            10 => *b"mp4a",
            _ => return None,
        },
    };
    matches!(&fourcc, b"avc1" | b"hvc1" | b"av01" | b"mp4a" | b"Opus").then_some(fourcc)
}
