//! Audio/video tag headers for JS (`chunk.chunk.msg` of 'audio' and 'video').

use napi_derive::napi;

use crate::proto::media::{audio_header, classify_bytes, video_header, TagHeader};

/// A decoded audio or video tag header; absent fields do not apply to the form.
#[napi(object)]
pub struct MediaHeader {
    pub ex_header: bool,
    pub frame_type: Option<u32>,
    pub codec_id: Option<u32>,
    pub sound_format: Option<u32>,
    pub sound_rate: Option<u32>,
    pub sound_size: Option<u32>,
    pub sound_type: Option<u32>,
    pub packet_type: Option<u32>,
    pub four_cc: Option<String>,
    pub composition_time: Option<i32>,
    pub timestamp_offset_nanos: Option<u32>,
    pub multitrack_type: Option<u32>,
    pub track_id: Option<u32>,
    /// Multitrack: every track, with where its data starts and its size.
    pub tracks: Option<Vec<MediaTrack>>,
    pub payload_offset: u32,
    /// True when the header is shorter than its form requires.
    pub malformed: bool,
    /// What the message is to a player, as the relay classifies it: 'config' (a decoder
    /// configuration, or its end), 'keyframe', 'frame' (other video), 'audio'.
    pub role: String,
    /// For a 'config': 'sequenceStart', 'multichannelConfig', 'metadata' (video
    /// colorInfo) or 'sequenceEnd'.
    pub config: Option<String>,
}

/// One track of a multitrack audio or video message.
#[napi(object)]
pub struct MediaTrack {
    pub track_id: u32,
    pub four_cc: String,
    pub offset: u32,
    pub size: u32,
}

impl From<TagHeader> for MediaHeader {
    fn from(h: TagHeader) -> Self {
        let n = |v: Option<u8>| v.map(u32::from);
        Self {
            ex_header: h.ex_header,
            frame_type: n(h.frame_type),
            codec_id: n(h.codec_id),
            sound_format: n(h.sound_format),
            sound_rate: n(h.sound_rate),
            sound_size: n(h.sound_size),
            sound_type: n(h.sound_type),
            packet_type: n(h.packet_type),
            four_cc: h.fourcc.map(|f| String::from_utf8_lossy(&f).into_owned()),
            composition_time: h.composition_time,
            timestamp_offset_nanos: h.timestamp_offset_nanos,
            multitrack_type: n(h.multitrack_type),
            track_id: n(h.track_id),
            tracks: (!h.tracks.is_empty()).then(|| {
                h.tracks
                    .iter()
                    .map(|t| MediaTrack {
                        track_id: u32::from(t.id),
                        four_cc: String::from_utf8_lossy(&t.fourcc).into_owned(),
                        offset: t.offset as u32,
                        size: t.size as u32,
                    })
                    .collect()
            }),
            payload_offset: h.payload_offset as u32,
            malformed: false,
            role: String::new(),
            config: None,
        }
    }
}

/// Decodes the tag header of an audio (8) or video (9) payload, with its role.
#[napi(catch_unwind)]
pub fn decode_media_header(type_id: u32, data: &[u8]) -> MediaHeader {
    let decoded = if type_id == 9 {
        video_header(data)
    } else {
        audio_header(data)
    };
    let mut header = decoded.map(MediaHeader::from).unwrap_or(MediaHeader {
        ex_header: false,
        frame_type: None,
        codec_id: None,
        sound_format: None,
        sound_rate: None,
        sound_size: None,
        sound_type: None,
        packet_type: None,
        four_cc: None,
        composition_time: None,
        timestamp_offset_nanos: None,
        multitrack_type: None,
        track_id: None,
        tracks: None,
        payload_offset: 0,
        malformed: true,
        role: String::new(),
        config: None,
    });
    let class = classify_bytes(if type_id == 9 { 9 } else { 8 }, data);
    header.role = class.role.name().to_owned();
    header.config = class.config.map(|k| k.name().to_owned());
    header
}

/// One sub-message of an aggregate to build.
#[napi(object)]
pub struct AggregatePart {
    /// 8 audio, 9 video, 18 data.
    pub r#type: u32,
    pub timestamp: u32,
    pub data: napi::bindgen_prelude::Buffer,
}

/// Builds an aggregate message payload (type 22, RTMP 1.0 §7.1.6); send it with the
/// first part's timestamp.
#[napi(catch_unwind)]
pub fn build_aggregate(parts: Vec<AggregatePart>) -> napi::bindgen_prelude::Buffer {
    let list: Vec<(u8, u32, &[u8])> = parts
        .iter()
        .map(|p| (p.r#type as u8, p.timestamp, &p.data[..]))
        .collect();
    crate::proto::aggregate::build(&list).to_vec().into()
}
