//! Audio and video tag headers (FLV spec v10.1 §E.4.2.1, §E.4.3.1) and their Enhanced
//! RTMP v2 forms (veovera/enhanced-rtmp: ExHeader, FourCC, packet types, ModEx,
//! multitrack). Decoding stops at the first track's payload; `payload_offset` is where
//! the codec data starts, so an app can reach it without copying.

/// Enhanced RTMP video packet types.
pub mod video_packet {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    pub const CODED_FRAMES_X: u8 = 3;
    pub const METADATA: u8 = 4;
    pub const MPEG2TS_SEQUENCE_START: u8 = 5;
    pub const MULTITRACK: u8 = 6;
    pub const MOD_EX: u8 = 7;
}

/// Enhanced RTMP audio packet types.
pub mod audio_packet {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    pub const MULTICHANNEL_CONFIG: u8 = 4;
    pub const MULTITRACK: u8 = 5;
    pub const MOD_EX: u8 = 7;
}

/// A decoded audio or video tag header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagHeader {
    /// Enhanced RTMP ExHeader form.
    pub ex_header: bool,
    /// Video: frame type (1 keyframe, 2 inter, 3 disposable, 4 generated, 5 command).
    pub frame_type: Option<u8>,
    /// Legacy video codec id (7 AVC, 12 HEVC as some CDNs send it, ...).
    pub codec_id: Option<u8>,
    /// Legacy audio: format (10 AAC, 2 MP3, ...), rate (0-3), size (0/1), type (0/1).
    pub sound_format: Option<u8>,
    pub sound_rate: Option<u8>,
    pub sound_size: Option<u8>,
    pub sound_type: Option<u8>,
    /// Legacy AVCPacketType / AACPacketType, or the Enhanced RTMP packet type.
    pub packet_type: Option<u8>,
    /// Enhanced RTMP FourCC ('avc1', 'hvc1', 'av01', 'vp09', 'Opus', 'mp4a', ...).
    pub fourcc: Option<[u8; 4]>,
    /// SI24 composition time offset (AVC/HEVC coded frames).
    pub composition_time: Option<i32>,
    /// ModEx TimestampOffsetNano.
    pub timestamp_offset_nanos: Option<u32>,
    /// Multitrack: AvMultitrackType (0 one track, 1 many tracks, 2 many tracks many codecs).
    pub multitrack_type: Option<u8>,
    /// Multitrack: the first track's id.
    pub track_id: Option<u8>,
    /// Multitrack: every track (id, FourCC, where its data starts, its size).
    pub tracks: Vec<Track>,
    /// Where the (first track's) codec data starts in the payload.
    pub payload_offset: usize,
}

/// One track of a multitrack message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track {
    pub id: u8,
    pub fourcc: [u8; 4],
    /// Where the track's data starts in the payload.
    pub offset: usize,
    pub size: usize,
}

/// Why a tag header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tag header truncated at byte {0}")]
pub struct TruncatedHeader(pub usize);

/// How much of a multitrack message to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tracks {
    /// Every track: the whole payload is given.
    All,
    /// The first track's header only: enough to classify a message from its first
    /// bytes (its data and the other tracks may be cut off).
    First,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    tracks: Tracks,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8], tracks: Tracks) -> Self {
        Self { b, pos: 0, tracks }
    }

    fn u8(&mut self) -> Result<u8, TruncatedHeader> {
        let v = *self.b.get(self.pos).ok_or(TruncatedHeader(self.pos))?;
        self.pos += 1;
        Ok(v)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], TruncatedHeader> {
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or(TruncatedHeader(self.pos))?;
        self.pos += n;
        Ok(s)
    }

    fn fourcc(&mut self) -> Result<[u8; 4], TruncatedHeader> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    fn si24(&mut self) -> Result<i32, TruncatedHeader> {
        let s = self.take(3)?;
        Ok((i32::from(s[0]) << 24 | i32::from(s[1]) << 16 | i32::from(s[2]) << 8) >> 8)
    }

    fn u24(&mut self) -> Result<u32, TruncatedHeader> {
        let s = self.take(3)?;
        Ok(u32::from(s[0]) << 16 | u32::from(s[1]) << 8 | u32::from(s[2]))
    }

    /// ModEx (packet type 7): data size (UI8 + 1, or UI16 + 1 when that is 256), data,
    /// then a byte: ModExType (high 4 bits) | the real packet type (low 4 bits).
    fn mod_ex(&mut self, h: &mut TagHeader, first: u8, mod_ex: u8) -> Result<u8, TruncatedHeader> {
        let mut packet_type = first;
        while packet_type == mod_ex {
            let mut size = usize::from(self.u8()?) + 1;
            if size == 256 {
                let s = self.take(2)?;
                size = usize::from(u16::from_be_bytes([s[0], s[1]])) + 1;
            }
            let data_at = self.pos;
            self.take(size)?;
            let next = self.u8()?;
            if next >> 4 == 0 && size >= 3 {
                let d = &self.b[data_at..data_at + 3];
                h.timestamp_offset_nanos =
                    Some(u32::from(d[0]) << 16 | u32::from(d[1]) << 8 | u32::from(d[2]));
            }
            packet_type = next & 0x0F;
        }
        Ok(packet_type)
    }

    /// Multitrack: AvMultitrackType | packet type, a FourCC unless every track has its
    /// own; then the first track: its FourCC (many codecs), its id, and its size
    /// unless there is one track.
    fn multitrack(&mut self, h: &mut TagHeader) -> Result<u8, TruncatedHeader> {
        let b = self.u8()?;
        let kind = b >> 4;
        h.multitrack_type = Some(kind);
        let shared = if kind != 2 {
            Some(self.fourcc()?)
        } else {
            None
        };
        // One track: its data runs to the end. Many: each has a UI24 size.
        loop {
            let fourcc = match shared {
                Some(f) => f,
                None => self.fourcc()?,
            };
            let id = self.u8()?;
            let size = if kind == 0 {
                self.b.len() - self.pos
            } else {
                self.u24()? as usize
            };
            let offset = self.pos;
            if h.tracks.is_empty() {
                h.fourcc = Some(fourcc);
                h.track_id = Some(id);
                h.payload_offset = offset;
            }
            h.tracks.push(Track {
                id,
                fourcc,
                offset,
                size,
            });
            if self.tracks == Tracks::First {
                break;
            }
            self.take(size)?;
            if kind == 0 || self.pos >= self.b.len() {
                break;
            }
        }
        self.pos = h.payload_offset;
        Ok(b & 0x0F)
    }
}

/// Decodes a video tag header (message type 9).
pub fn video_header(payload: &[u8]) -> Result<TagHeader, TruncatedHeader> {
    read_video_header(payload, Tracks::All)
}

/// Decodes an audio tag header (message type 8).
pub fn audio_header(payload: &[u8]) -> Result<TagHeader, TruncatedHeader> {
    read_audio_header(payload, Tracks::All)
}

/// The video tag header, reading `tracks` of a multitrack message.
pub(super) fn read_video_header(
    payload: &[u8],
    tracks: Tracks,
) -> Result<TagHeader, TruncatedHeader> {
    let mut c = Cursor::new(payload, tracks);
    let first = c.u8()?;
    let mut h = TagHeader {
        frame_type: Some((first >> 4) & 0x07),
        ..TagHeader::default()
    };
    if first & 0x80 == 0 {
        let codec = first & 0x0F;
        h.codec_id = Some(codec);
        if matches!(codec, 7 | 12 | 13) {
            h.packet_type = Some(c.u8()?);
            h.composition_time = Some(c.si24()?);
        }
        h.payload_offset = c.pos;
        return Ok(h);
    }
    h.ex_header = true;
    let mut packet_type = c.mod_ex(&mut h, first & 0x0F, video_packet::MOD_EX)?;
    // Enhanced RTMP v2 ExVideoTagHeader: a command frame (VideoFrameType 5) carries a
    // VideoCommand byte and no FourCC, unless its packet is Metadata (as FFmpeg sends
    // HEVC colorInfo: frame type 5, 'hvc1', AMF).
    if h.frame_type == Some(5) && packet_type != video_packet::METADATA {
    } else if packet_type == video_packet::MULTITRACK {
        packet_type = c.multitrack(&mut h)?;
    } else {
        h.fourcc = Some(c.fourcc()?);
    }
    h.packet_type = Some(packet_type);
    if packet_type == video_packet::CODED_FRAMES
        && matches!(h.fourcc.as_ref(), Some(b"avc1" | b"hvc1"))
    {
        h.composition_time = Some(c.si24()?);
    }
    h.payload_offset = c.pos;
    Ok(h)
}

/// The audio tag header, reading `tracks` of a multitrack message.
pub(super) fn read_audio_header(
    payload: &[u8],
    tracks: Tracks,
) -> Result<TagHeader, TruncatedHeader> {
    let mut c = Cursor::new(payload, tracks);
    let first = c.u8()?;
    let format = first >> 4;
    let mut h = TagHeader::default();
    if format != 9 {
        h.sound_format = Some(format);
        h.sound_rate = Some((first >> 2) & 0x03);
        h.sound_size = Some((first >> 1) & 0x01);
        h.sound_type = Some(first & 0x01);
        if format == 10 {
            h.packet_type = Some(c.u8()?);
        }
        h.payload_offset = c.pos;
        return Ok(h);
    }
    h.ex_header = true;
    let mut packet_type = c.mod_ex(&mut h, first & 0x0F, audio_packet::MOD_EX)?;
    if packet_type == audio_packet::MULTITRACK {
        packet_type = c.multitrack(&mut h)?;
    } else {
        h.fourcc = Some(c.fourcc()?);
    }
    h.packet_type = Some(packet_type);
    h.payload_offset = c.pos;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_video_avc_nalu_with_a_negative_composition_time() {
        // §E.4.3.1: keyframe (1) AVC (7), AVCPacketType 1, CTS -40 (0xFFFFD8).
        let h = video_header(&[0x17, 0x01, 0xFF, 0xFF, 0xD8, 0xAA]).unwrap();
        assert_eq!(
            (h.frame_type, h.codec_id, h.packet_type, h.composition_time),
            (Some(1), Some(7), Some(1), Some(-40))
        );
        assert_eq!(h.payload_offset, 5);
        assert!(!h.ex_header);
    }

    #[test]
    fn legacy_audio_aac_and_mp3() {
        // §E.4.2.1: AAC (10), 44 kHz (3), 16-bit (1), stereo (1) = 0xAF; raw (1).
        let h = audio_header(&[0xAF, 0x01, 0x21]).unwrap();
        assert_eq!(
            (
                h.sound_format,
                h.sound_rate,
                h.sound_size,
                h.sound_type,
                h.packet_type
            ),
            (Some(10), Some(3), Some(1), Some(1), Some(1))
        );
        assert_eq!(h.payload_offset, 2);
        let mp3 = audio_header(&[0x2E, 0xFF]).unwrap();
        assert_eq!(
            (mp3.sound_format, mp3.packet_type, mp3.payload_offset),
            (Some(2), None, 1)
        );
    }

    #[test]
    fn enhanced_video_hevc_coded_frames_and_av1_sequence_start() {
        // ExHeader | keyframe (1) | CodedFrames (1), 'hvc1', CTS 33.
        let h = video_header(&[0x91, b'h', b'v', b'c', b'1', 0x00, 0x00, 0x21, 0x01]).unwrap();
        assert!(h.ex_header);
        assert_eq!(
            (h.frame_type, h.packet_type, h.fourcc, h.composition_time),
            (Some(1), Some(1), Some(*b"hvc1"), Some(33))
        );
        assert_eq!(h.payload_offset, 8);
        // CodedFramesX (3) carries no composition time.
        let x = video_header(&[0xA3, b'h', b'v', b'c', b'1', 0x42]).unwrap();
        assert_eq!(
            (
                x.frame_type,
                x.packet_type,
                x.composition_time,
                x.payload_offset
            ),
            (Some(2), Some(3), None, 5)
        );
        let av1 = video_header(&[0x90, b'a', b'v', b'0', b'1', 0x81]).unwrap();
        assert_eq!(
            (av1.packet_type, av1.fourcc, av1.payload_offset),
            (Some(0), Some(*b"av01"), 5)
        );
    }

    #[test]
    fn enhanced_video_mod_ex_timestamp_offset_nanos() {
        // ModEx (7): size-1 = 2 (3 bytes: 0x0F4240 = 1,000,000 ns), then type 0 | CodedFramesX.
        let h = video_header(&[
            0x97, 0x02, 0x0F, 0x42, 0x40, 0x03, b'v', b'p', b'0', b'9', 0x55,
        ])
        .unwrap();
        assert_eq!(
            (
                h.timestamp_offset_nanos,
                h.packet_type,
                h.fourcc,
                h.payload_offset
            ),
            (Some(1_000_000), Some(3), Some(*b"vp09"), 10)
        );
    }

    #[test]
    fn enhanced_multitrack_one_track_and_many_codecs() {
        // Multitrack (6): OneTrack (0) | CodedFramesX (3), 'av01', track 2.
        let one = video_header(&[0x96, 0x03, b'a', b'v', b'0', b'1', 0x02, 0xEE]).unwrap();
        assert_eq!(
            (
                one.multitrack_type,
                one.track_id,
                one.fourcc,
                one.packet_type,
                one.payload_offset
            ),
            (Some(0), Some(2), Some(*b"av01"), Some(3), 7)
        );
        // Audio Multitrack (5): ManyTracksManyCodecs (2) | CodedFrames (1); tracks:
        // 'Opus' id 1 size 3, 'mp4a' id 2 size 1.
        #[rustfmt::skip]
        let bytes = [0x95, 0x21,
            b'O', b'p', b'u', b's', 0x01, 0x00, 0x00, 0x03, 1, 2, 3,
            b'm', b'p', b'4', b'a', 0x02, 0x00, 0x00, 0x01, 9];
        let many = audio_header(&bytes).unwrap();
        assert_eq!(
            (
                many.multitrack_type,
                many.track_id,
                many.fourcc,
                many.packet_type,
                many.payload_offset
            ),
            (Some(2), Some(1), Some(*b"Opus"), Some(1), 10)
        );
        assert_eq!(
            many.tracks,
            vec![
                Track {
                    id: 1,
                    fourcc: *b"Opus",
                    offset: 10,
                    size: 3
                },
                Track {
                    id: 2,
                    fourcc: *b"mp4a",
                    offset: 21,
                    size: 1
                },
            ]
        );
        // ManyTracks (1) sharing a FourCC, with a truncated second track: an error.
        assert!(
            video_header(&[0x96, 0x13, b'a', b'v', b'0', b'1', 1, 0, 0, 1, 7, 2, 0, 0, 5, 1])
                .is_err()
        );
    }

    #[test]
    fn enhanced_audio_sequence_start_and_truncation_errors() {
        let h = audio_header(&[0x90, b'f', b'L', b'a', b'C', 0x00]).unwrap();
        assert_eq!(
            (h.packet_type, h.fourcc, h.payload_offset),
            (Some(0), Some(*b"fLaC"), 5)
        );
        for bad in [
            &[][..],
            &[0x17, 0x01][..],
            &[0x91, b'h', b'v'][..],
            &[0x97, 0x05, 1][..],
            &[0x95][..],
        ] {
            assert!(
                video_header(bad).is_err() || audio_header(bad).is_err(),
                "{bad:02x?}"
            );
        }
    }
}
