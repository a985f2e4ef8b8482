//! Audio and video messages: their tag headers (FLV spec v10.1 §E.4.2, §E.4.3, and
//! the Enhanced RTMP v2 forms: ExHeader, FourCC, ModEx, multitrack) and what a relay,
//! a file writer or a segmenter needs to know of one ([`classify`]). This is the one
//! classifier of media messages in the crate: the relay, the FLV outputs and the JS
//! face all ask it.

mod config_cache;
mod tag_header;

pub use config_cache::{ConfigCache, MAX_CONFIGS, MAX_CONFIG_BYTES};
pub use tag_header::{
    audio_header, audio_packet, video_header, video_packet, TagHeader, Track, TruncatedHeader,
};

use std::borrow::Cow;

use tag_header::{read_audio_header, read_video_header, Tracks};

use super::chunk::Payload;
use super::message::type_id;

/// The role of a media message in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRole {
    /// A decoder configuration or the end of one ([`ConfigKind`]): late joiners need
    /// the configurations before anything else; never dropped.
    Config,
    /// A video keyframe: where a player may start.
    Keyframe,
    /// Any other video frame.
    InterFrame,
    /// An audio frame.
    Audio,
}

impl MediaRole {
    /// The role's name in the JS face (`chunk.msg.role`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Keyframe => "keyframe",
            Self::InterFrame => "frame",
            Self::Audio => "audio",
        }
    }
}

/// What a [`MediaRole::Config`] message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// A decoder configuration record: AVC/HEVC/AV1/VP9 (video PacketTypeSequenceStart
    /// or PacketTypeMPEG2TSSequenceStart, legacy AVCPacketType 0), AAC's
    /// AudioSpecificConfig (legacy AACPacketType 0), Opus/FLAC/AC-3 (audio
    /// PacketTypeSequenceStart).
    SequenceStart,
    /// Audio PacketTypeMultichannelConfig: the channel order and layout of a track.
    MultichannelConfig,
    /// Video PacketTypeMetadata: AMF-encoded `colorInfo` (HDR) of a track.
    Metadata,
    /// PacketTypeSequenceEnd (legacy AVCPacketType 2): the track's configuration ends.
    SequenceEnd,
}

impl ConfigKind {
    /// The kind's name in the JS face (`chunk.msg.config`).
    pub fn name(self) -> &'static str {
        match self {
            Self::SequenceStart => "sequenceStart",
            Self::MultichannelConfig => "multichannelConfig",
            Self::Metadata => "metadata",
            Self::SequenceEnd => "sequenceEnd",
        }
    }
}

/// A set of track ids (Enhanced RTMP v2 multitrack: a UI8 each; a message that is not
/// multitrack is track 0, the default track).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TrackSet([u64; 4]);

impl TrackSet {
    pub fn of(id: u8) -> Self {
        let mut set = Self::default();
        set.insert(id);
        set
    }

    pub fn insert(&mut self, id: u8) {
        self.0[usize::from(id / 64)] |= 1 << (id % 64);
    }

    pub fn contains(&self, id: u8) -> bool {
        self.0[usize::from(id / 64)] & (1 << (id % 64)) != 0
    }

    /// Whether the two sets share a track.
    pub fn intersects(&self, other: &Self) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    /// The lowest id in the set.
    pub fn first(&self) -> Option<u8> {
        (0..=255).find(|&id| self.contains(id))
    }
}

/// A media message as [`classify`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaClass {
    pub role: MediaRole,
    /// What a [`MediaRole::Config`] carries; `None` for every other role.
    pub config: Option<ConfigKind>,
    /// The tracks the message carries: every track of a configuration, the first
    /// track of coded frames (enough to tell the default track's keyframes apart).
    pub tracks: TrackSet,
}

/// How many leading bytes [`classify`] reads: the tag header with ModEx data of up to
/// ~50 bytes and the first track's header. Longer headers are read from the whole
/// payload.
const HEAD: usize = 64;

/// Classifies an audio (8) or video (9) message: configurations (of every kind and
/// track, wrapped in ModEx or multitrack or not), keyframes (the frame type of the
/// first byte applies to every track of the message), other frames. A malformed
/// header classifies as a plain frame, which the relay forwards and may drop.
pub fn classify(message_type: u8, payload: &Payload) -> MediaClass {
    classify_from(message_type, &payload.head(HEAD), payload.len(), || {
        payload.contiguous()
    })
}

/// [`classify`] for a payload in one slice.
pub fn classify_bytes(message_type: u8, payload: &[u8]) -> MediaClass {
    let head = &payload[..payload.len().min(HEAD)];
    classify_from(message_type, head, payload.len(), || Cow::Borrowed(payload))
}

/// Classifies from the first bytes (`head`) of a payload of `len` bytes, reading the
/// whole payload (`whole`) only for a header longer than the head or a configuration
/// of many tracks.
fn classify_from<'a>(
    message_type: u8,
    head: &[u8],
    len: usize,
    whole: impl Fn() -> Cow<'a, [u8]>,
) -> MediaClass {
    let read = |bytes: &[u8], tracks| match message_type {
        type_id::VIDEO => read_video_header(bytes, tracks),
        _ => read_audio_header(bytes, tracks),
    };
    let header = match read(head, Tracks::First) {
        Ok(h) => Ok(h),
        Err(_) if head.len() < len => read(&whole(), Tracks::First),
        Err(e) => Err(e),
    };
    let frame = if message_type == type_id::VIDEO {
        MediaRole::InterFrame
    } else {
        MediaRole::Audio
    };
    let Ok(header) = header else {
        return MediaClass {
            role: frame,
            config: None,
            tracks: TrackSet::of(0),
        };
    };
    let config = if message_type == type_id::VIDEO {
        video_config(&header)
    } else {
        audio_config(&header)
    };
    let role = match (config, header.frame_type) {
        (Some(_), _) => MediaRole::Config,
        (None, Some(1)) if message_type == type_id::VIDEO => MediaRole::Keyframe,
        _ => frame,
    };
    let mut tracks = TrackSet::of(header.track_id.unwrap_or(0));
    // A configuration for many tracks in one message (ManyTracks, ManyTracksManyCodecs)
    // is cached for all of them: read every track (configurations are small).
    if config.is_some() && header.multitrack_type.is_some_and(|kind| kind != 0) {
        if let Ok(all) = read(&whole(), Tracks::All) {
            all.tracks.iter().for_each(|t| tracks.insert(t.id));
        }
    }
    MediaClass {
        role,
        config,
        tracks,
    }
}

/// The configuration a video tag header carries, if any.
fn video_config(h: &TagHeader) -> Option<ConfigKind> {
    if !h.ex_header {
        // Legacy AVC (7), and HEVC/AV1 as codec ids 12/13 some encoders send: the
        // AVCPacketType; other legacy codecs carry no configuration.
        return match (h.codec_id, h.packet_type) {
            (Some(7 | 12 | 13), Some(0)) => Some(ConfigKind::SequenceStart),
            (Some(7 | 12 | 13), Some(2)) => Some(ConfigKind::SequenceEnd),
            _ => None,
        };
    }
    if h.frame_type == Some(5) && h.packet_type != Some(video_packet::METADATA) {
        // A command frame (VideoFrameType 5) carries a command, not media.
        return None;
    }
    match h.packet_type? {
        video_packet::SEQUENCE_START | video_packet::MPEG2TS_SEQUENCE_START => {
            Some(ConfigKind::SequenceStart)
        }
        video_packet::METADATA => Some(ConfigKind::Metadata),
        video_packet::SEQUENCE_END => Some(ConfigKind::SequenceEnd),
        _ => None,
    }
}

/// The configuration an audio tag header carries, if any.
fn audio_config(h: &TagHeader) -> Option<ConfigKind> {
    match (h.ex_header, h.sound_format, h.packet_type?) {
        // Legacy AAC (10): AACPacketType 0 is the AudioSpecificConfig.
        (false, Some(10), 0) => Some(ConfigKind::SequenceStart),
        (true, _, audio_packet::SEQUENCE_START) => Some(ConfigKind::SequenceStart),
        (true, _, audio_packet::MULTICHANNEL_CONFIG) => Some(ConfigKind::MultichannelConfig),
        (true, _, audio_packet::SEQUENCE_END) => Some(ConfigKind::SequenceEnd),
        _ => None,
    }
}

/// AudioChannelOrder (Enhanced RTMP v2, "Audio Multichannel Config"): unspecified,
/// native (a channel mask follows), custom (a channel map follows).
const CHANNEL_ORDER_UNSPECIFIED: u8 = 0;
const CHANNEL_ORDER_NATIVE: u8 = 1;
/// AudioChannelMask bits: FrontLeft, FrontRight, FrontCenter.
const MASK_STEREO: u32 = 0x3;
const MASK_MONO: u32 = 0x4;

/// Whether an audio message is a single-track MultichannelConfig (Enhanced RTMP v2)
/// that says no more than its codec's configuration already does: one or two channels
/// in unspecified order, or native order with the plain mono (FrontCenter) or stereo
/// (FrontLeft, FrontRight) mask. FFmpeg 8+ sends one for every Opus/FLAC/AC-3 track;
/// browsers' FLV demuxers (mpegts.js 1.8) know no such packet and report a format
/// error, so network FLV players leave these out; files and RTMP players keep them.
pub fn is_implied_channel_layout(payload: &[u8]) -> bool {
    let Ok(h) = audio_header(payload) else {
        return false;
    };
    if !h.ex_header
        || h.multitrack_type.is_some()
        || h.packet_type != Some(audio_packet::MULTICHANNEL_CONFIG)
    {
        return false;
    }
    match payload.get(h.payload_offset..) {
        Some([CHANNEL_ORDER_UNSPECIFIED, 1 | 2, ..]) => true,
        Some([CHANNEL_ORDER_NATIVE, count @ (1 | 2), a, b, c, d, ..]) => {
            let mask = u32::from_be_bytes([*a, *b, *c, *d]);
            mask == if *count == 1 { MASK_MONO } else { MASK_STEREO }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
