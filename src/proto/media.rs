//! What the relay needs to know of audio and video payloads: their first bytes are FLV
//! tag headers (FLV spec v10.1 §E.4.2, §E.4.3; Enhanced RTMP v2 ExHeader).

/// The role of a media message in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRole {
    /// A decoder configuration (AVC/HEVC/AV1 sequence start, AAC sequence header):
    /// late joiners need it before anything else; never dropped.
    Config,
    /// A video keyframe: where a player may start.
    Keyframe,
    /// Any other video frame.
    InterFrame,
    /// An audio frame.
    Audio,
}

/// Classifies a video payload (type 9).
pub fn video_role(payload: &[u8]) -> MediaRole {
    let Some(&first) = payload.first() else {
        return MediaRole::InterFrame;
    };
    let frame_type = (first >> 4) & 0x07;
    let is_config = if first & 0x80 != 0 {
        // Enhanced RTMP: IsExHeader, frame type in bits 4-6, packet type in bits 0-3;
        // PacketTypeSequenceStart = 0, PacketTypeMPEG2TSSequenceStart = 5.
        matches!(first & 0x0F, 0 | 5)
    } else {
        // Legacy: codec id in bits 0-3; AVC (7) / HEVC as 12 with AVCPacketType 0.
        matches!(first & 0x0F, 7 | 12 | 13) && payload.get(1) == Some(&0)
    };
    match (is_config, frame_type) {
        (true, _) => MediaRole::Config,
        (false, 1) => MediaRole::Keyframe,
        _ => MediaRole::InterFrame,
    }
}

/// Classifies an audio payload (type 8).
pub fn audio_role(payload: &[u8]) -> MediaRole {
    let Some(&first) = payload.first() else {
        return MediaRole::Audio;
    };
    let sound_format = first >> 4;
    let is_config = match sound_format {
        // AAC: AACPacketType 0 is the AudioSpecificConfig.
        10 => payload.get(1) == Some(&0),
        // Enhanced RTMP ExHeader (9): AudioPacketType SequenceStart = 0.
        9 => first & 0x0F == 0,
        _ => false,
    };
    if is_config {
        MediaRole::Config
    } else {
        MediaRole::Audio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flv_tag_headers_classify_as_config_keyframe_or_frame() {
        assert_eq!(video_role(&[0x17, 0x00, 0, 0, 0]), MediaRole::Config); // AVC seq header
        assert_eq!(video_role(&[0x17, 0x01, 0, 0, 0]), MediaRole::Keyframe); // AVC NALU, key
        assert_eq!(video_role(&[0x27, 0x01, 0, 0, 0]), MediaRole::InterFrame);
        // Enhanced RTMP: 0x90 = ExHeader | keyframe, packet type 0 SequenceStart, 'hvc1'
        assert_eq!(
            video_role(&[0x90, b'h', b'v', b'c', b'1']),
            MediaRole::Config
        );
        // 0x91 = ExHeader | keyframe | CodedFrames
        assert_eq!(
            video_role(&[0x91, b'h', b'v', b'c', b'1']),
            MediaRole::Keyframe
        );
        assert_eq!(
            video_role(&[0xA3, b'a', b'v', b'0', b'1']),
            MediaRole::InterFrame
        );
        assert_eq!(audio_role(&[0xAF, 0x00, 0x12, 0x10]), MediaRole::Config); // AAC ASC
        assert_eq!(audio_role(&[0xAF, 0x01, 0x21]), MediaRole::Audio);
        assert_eq!(
            audio_role(&[0x90, b'O', b'p', b'u', b's']),
            MediaRole::Config
        );
        assert_eq!(audio_role(&[0x2F, 0xFF]), MediaRole::Audio); // MP3
    }
}
