//! Audio/video tag headers for JS (`chunk.chunk.msg` of 'audio' and 'video').

use napi_derive::napi;

use crate::proto::media::{
    audio_header, classify_bytes, video_header, ConfigCache, MediaRole, TagHeader,
};
use crate::proto::message::type_id;

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

/// A configuration message kept by [`MediaConfigs`].
#[napi(object)]
pub struct MediaConfig {
    /// 8 audio, 9 video.
    pub r#type: u32,
    pub data: napi::bindgen_prelude::Buffer,
}

/// The decoder configurations a publisher has sent (every kind and track, Enhanced
/// RTMP v2), kept by the relay's own [`ConfigCache`] and recognised by the crate's one
/// classifier ([`classify`]): what `RtmpClient` sends again, before a keyframe, when it
/// republishes to another server (Enhanced RTMP v2, Reconnect Request).
#[napi]
#[derive(Default)]
pub struct MediaConfigs {
    cache: ConfigCache<(u8, Vec<u8>)>,
}

#[napi]
impl MediaConfigs {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Classifies an audio (8) or video (9) message and keeps it when it is a
    /// configuration (a SequenceEnd removes its tracks' configurations). Returns its
    /// role: "config", "keyframe", "frame" or "audio" (as `chunk.msg.role`).
    #[napi(catch_unwind)]
    pub fn take(&mut self, type_id: u32, data: &[u8]) -> napi::Result<String> {
        let message_type = match type_id {
            8 => type_id::AUDIO,
            9 => type_id::VIDEO,
            _ => {
                return Err(super::invalid_arg(format!(
                    "message type {type_id} is not audio (8) or video (9)"
                )))
            }
        };
        let class = classify_bytes(message_type, data);
        if class.role == MediaRole::Config {
            self.cache.update(
                message_type,
                &class,
                data.len(),
                (message_type, data.to_vec()),
            );
        }
        Ok(class.role.name().to_owned())
    }

    /// The configurations kept, in the order a player needs them: video, then audio.
    #[napi(catch_unwind)]
    pub fn configs(&self) -> Vec<MediaConfig> {
        self.cache
            .in_join_order()
            .map(|(t, data)| MediaConfig {
                r#type: u32::from(*t),
                data: data.clone().into(),
            })
            .collect()
    }

    /// Forgets every configuration (a new publication).
    #[napi(catch_unwind)]
    pub fn clear(&mut self) {
        self.cache.clear();
    }
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
