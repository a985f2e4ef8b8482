//! FLV files and streams (FLV spec v10.1, annex E): the file header (§E.2), tag framing
//! (§E.3 body, §E.4.1 tag header) and the `onMetaData` a recorded file starts with.
//!
//! A tag is framed as three kinds of buffers — an 11-byte header, the message's own
//! payload pieces (shared, never copied) and the 4-byte PreviousTagSize — so that one
//! message is framed once and written by every FLV consumer (files, HTTP-FLV,
//! WebSocket-FLV) from the same buffers.
//!
//! Finalizing a recording: the file starts with an `onMetaData` tag whose last two
//! properties are the numbers `duration` and `filesize` ([`file_metadata`]); when the
//! recording ends the writer overwrites their 8 bytes in place (and the header's
//! audio/video flags, [`FLAGS_OFFSET`]). Nothing moves, so finalizing is three small
//! writes at known offsets, whatever the file's size — the approach of FFmpeg's FLV
//! muxer and nginx-rtmp's recorder.

use bytes::{BufMut, Bytes, BytesMut};

use super::amf::amf0::{self, Amf0Value};
use super::chunk::Payload;

/// TagType (§E.4.1): the same numbers as the RTMP message types of the same media.
pub const TAG_AUDIO: u8 = 8;
pub const TAG_VIDEO: u8 = 9;
pub const TAG_SCRIPT: u8 = 18;

/// The FLV header (9 bytes, §E.2) and PreviousTagSize0 (§E.3).
pub const FILE_HEADER_LEN: usize = 13;
/// Where the header's TypeFlags byte is (§E.2: TypeFlagsAudio 0x04, TypeFlagsVideo 0x01).
pub const FLAGS_OFFSET: usize = 4;
/// The tag header (§E.4.1).
pub const TAG_HEADER_LEN: usize = 11;
/// PreviousTagSize after each tag (§E.3).
pub const TRAILER_LEN: usize = 4;
/// Largest tag payload: DataSize is 24 bits (§E.4.1).
pub const MAX_TAG_DATA: usize = 0xFF_FFFF;

/// The header's TypeFlags byte (§E.2).
pub fn type_flags(has_audio: bool, has_video: bool) -> u8 {
    (u8::from(has_audio) << 2) | u8::from(has_video)
}

/// The FLV header (§E.2: "FLV", version 1, TypeFlags, DataOffset 9) followed by
/// PreviousTagSize0 = 0 (§E.3): the first 13 bytes of every FLV file or stream.
pub fn file_header(has_audio: bool, has_video: bool) -> [u8; FILE_HEADER_LEN] {
    let flags = type_flags(has_audio, has_video);
    [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
}

/// One tag as the buffers to write in order (§E.3, §E.4.1): the 11-byte header
/// (TagType with Filter 0, DataSize, Timestamp's low 24 bits then TimestampExtended,
/// StreamID 0), the payload's pieces, then PreviousTagSize (11 + DataSize). The header
/// and trailer share one allocation. `None` when the payload is longer than
/// [`MAX_TAG_DATA`] — an RTMP message never is: its length is 24 bits too (RTMP 1.0
/// §5.3.1.2.1).
pub fn tag(tag_type: u8, timestamp: u32, payload: &Payload) -> Option<Vec<Bytes>> {
    let size = payload.len();
    if size > MAX_TAG_DATA {
        return None;
    }
    let mut head = BytesMut::with_capacity(TAG_HEADER_LEN + TRAILER_LEN);
    head.put_u8(tag_type & 0x1F);
    head.put_uint(size as u64, 3);
    head.put_uint(u64::from(timestamp & 0xFF_FFFF), 3);
    head.put_u8((timestamp >> 24) as u8);
    head.put_uint(0, 3);
    head.put_u32((TAG_HEADER_LEN + size) as u32);
    let mut head = head.freeze();
    let trailer = head.split_off(TAG_HEADER_LEN);
    let mut parts = Vec::with_capacity(payload.parts().len() + 2);
    parts.push(head);
    parts.extend(payload.parts().iter().filter(|p| !p.is_empty()).cloned());
    parts.push(trailer);
    Some(parts)
}

/// The payload pieces of a tag made by [`tag`] (its parts between header and trailer).
pub fn tag_payload(parts: &[Bytes]) -> &[Bytes] {
    parts
        .get(1..parts.len().saturating_sub(1))
        .unwrap_or_default()
}

/// The fields of a tag header (§E.4.1) a writer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagHeader {
    /// TagType with the Filter bit and reserved bits masked off.
    pub tag_type: u8,
    pub data_size: u32,
    /// Timestamp with TimestampExtended as bits 24..31.
    pub timestamp: u32,
}

/// Reads a tag header from the first [`TAG_HEADER_LEN`] bytes of `bytes`.
pub fn read_tag_header(bytes: &[u8]) -> Option<TagHeader> {
    let b: &[u8; TAG_HEADER_LEN] = bytes.get(..TAG_HEADER_LEN)?.try_into().ok()?;
    let u24 = |i: usize| u32::from_be_bytes([0, b[i], b[i + 1], b[i + 2]]);
    Some(TagHeader {
        tag_type: b[0] & 0x1F,
        data_size: u24(1),
        timestamp: u24(4) | (u32::from(b[7]) << 24),
    })
}

/// `onMetaData` as an AMF0 string: what a script data tag of metadata starts with.
pub const ON_META_DATA: &[u8] = b"\x02\x00\x0aonMetaData";

/// An `onMetaData` payload for the start of a file, with where to patch its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMetadata {
    /// The AMF0 payload: "onMetaData", then an ECMA array (§2.10 of AMF0) of the
    /// published properties followed by `duration` and `filesize`.
    pub payload: Bytes,
    /// Offsets in `payload` of the 8-byte big-endian doubles of `duration` (seconds)
    /// and `filesize` (bytes).
    pub duration_at: usize,
    pub filesize_at: usize,
}

/// The properties of a published `onMetaData` payload (AMF0 "onMetaData", then an ECMA
/// array or an object); empty when it is something else or cannot be decoded.
fn published_properties(published: &[u8]) -> Vec<(String, Amf0Value)> {
    let mut decoder = amf0::Decoder::new(published);
    match (decoder.decode(), decoder.decode()) {
        (Ok(Amf0Value::String(name)), Ok(Amf0Value::EcmaArray(p) | Amf0Value::Object(p)))
            if name == "onMetaData" =>
        {
            p
        }
        _ => Vec::new(),
    }
}

/// The header's audio/video flags (§E.2) a stream's published `onMetaData` implies: an
/// `audiocodecid` property means audio, a `videocodecid` one video (FFmpeg, OBS and the
/// FLV spec's onMetaData, §E.5, name the codecs of the tracks there are). `None` when
/// the payload names neither (or is no `onMetaData`).
pub fn metadata_type_flags(published: &[u8]) -> Option<(bool, bool)> {
    let props = published_properties(published);
    let has = |key: &str| props.iter().any(|(k, _)| k == key);
    let (audio, video) = (has("audiocodecid"), has("videocodecid"));
    (audio || video).then_some((audio, video))
}

/// The `onMetaData` a recorded file starts with: the published metadata's properties
/// (if `published` is an `onMetaData` payload) without their `duration` and `filesize`,
/// then `duration` and `filesize` as 0, to be patched when the recording ends.
pub fn file_metadata(published: Option<&[u8]>) -> FileMetadata {
    let mut props = published.map(published_properties).unwrap_or_default();
    props.retain(|(k, _)| k != "duration" && k != "filesize");
    props.push(("duration".into(), Amf0Value::Number(0.0)));
    props.push(("filesize".into(), Amf0Value::Number(0.0)));
    let mut out = BytesMut::new();
    amf0::encode_all(
        &[
            Amf0Value::String("onMetaData".into()),
            Amf0Value::EcmaArray(props),
        ],
        &mut out,
    );
    // The array ends `..."filesize" 0x00 <8 bytes> 0x00 0x00 0x09` (object end,
    // AMF0 §2.11); "duration"'s property is as long, just before it.
    const OBJECT_END: usize = 3;
    const NUMBER_PROPERTY: usize = 2 + 8 + 1 + 8; // key length, "filesize", marker, f64
    let filesize_at = out.len() - OBJECT_END - 8;
    FileMetadata {
        payload: out.freeze(),
        duration_at: filesize_at - NUMBER_PROPERTY,
        filesize_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(parts: &[Bytes]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn the_file_header_is_signature_version_flags_offset_and_previous_tag_size_0() {
        #[rustfmt::skip]
        let expected = [
            b'F', b'L', b'V', 1, // Signature, Version (§E.2)
            0x05,                // TypeFlagsAudio | TypeFlagsVideo
            0, 0, 0, 9,          // DataOffset
            0, 0, 0, 0,          // PreviousTagSize0 (§E.3)
        ];
        assert_eq!(file_header(true, true), expected);
        assert_eq!(file_header(true, false)[FLAGS_OFFSET], 0x04);
        assert_eq!(file_header(false, true)[FLAGS_OFFSET], 0x01);
    }

    #[test]
    fn a_tag_is_header_payload_pieces_and_previous_tag_size_with_the_payload_shared() {
        let pieces = Payload::from_parts(vec![
            Bytes::from_static(&[0xAF, 0x01]),
            Bytes::from_static(&[0x21, 0x10, 0x04]),
        ]);
        // Timestamp 0x0123_4567: low 24 bits 0x234567, TimestampExtended 0x01.
        let parts = tag(TAG_AUDIO, 0x0123_4567, &pieces).expect("small payload");
        assert_eq!(parts.len(), 4, "header, two payload pieces, trailer");
        assert_eq!(
            parts[1].as_ptr(),
            pieces.parts()[0].as_ptr(),
            "payload not copied"
        );
        #[rustfmt::skip]
        let expected = [
            0x08,             // TagType audio, Filter 0
            0x00, 0x00, 0x05, // DataSize
            0x23, 0x45, 0x67, // Timestamp (low 24 bits)
            0x01,             // TimestampExtended
            0x00, 0x00, 0x00, // StreamID
            0xAF, 0x01, 0x21, 0x10, 0x04,
            0x00, 0x00, 0x00, 0x10, // PreviousTagSize = 11 + 5
        ];
        assert_eq!(joined(&parts), expected);
        assert_eq!(tag_payload(&parts), pieces.parts());
        assert_eq!(tag_payload(&[]), &[] as &[Bytes]);
        assert_eq!(
            read_tag_header(&parts[0]),
            Some(TagHeader {
                tag_type: TAG_AUDIO,
                data_size: 5,
                timestamp: 0x0123_4567
            })
        );
    }

    #[test]
    fn an_empty_payload_is_a_tag_of_size_zero_and_a_payload_past_24_bits_is_refused() {
        let parts = tag(TAG_VIDEO, 40, &Payload::default()).expect("empty");
        #[rustfmt::skip]
        let expected = [9, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 11];
        assert_eq!(joined(&parts), expected);
        assert_eq!(parts.len(), 2);
        let huge = Payload::from(Bytes::from(vec![0; MAX_TAG_DATA + 1]));
        assert!(tag(TAG_VIDEO, 0, &huge).is_none());
        let largest = Payload::from(Bytes::from(vec![0; MAX_TAG_DATA]));
        let parts = tag(TAG_VIDEO, 0, &largest).expect("fits");
        assert_eq!(&parts[0][1..4], &[0xFF, 0xFF, 0xFF]);
        assert_eq!(&parts[2][..], &(11 + MAX_TAG_DATA as u32).to_be_bytes());
        assert_eq!(read_tag_header(&parts[0][..10]), None, "short header");
    }

    #[test]
    fn file_metadata_with_nothing_published_is_duration_and_filesize_at_known_offsets() {
        let meta = file_metadata(None);
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x02, 0x00, 0x0A, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a',
            0x08, 0x00, 0x00, 0x00, 0x02, // ECMA array of 2 (AMF0 §2.10)
            0x00, 0x08, b'd', b'u', b'r', b'a', b't', b'i', b'o', b'n',
            0x00, 0, 0, 0, 0, 0, 0, 0, 0,
            0x00, 0x08, b'f', b'i', b'l', b'e', b's', b'i', b'z', b'e',
            0x00, 0, 0, 0, 0, 0, 0, 0, 0,
            0x00, 0x00, 0x09, // object end
        ];
        assert_eq!(&meta.payload[..], expected);
        assert_eq!((meta.duration_at, meta.filesize_at), (29, 48));
    }

    #[test]
    fn file_metadata_keeps_published_properties_and_moves_duration_and_filesize_last() {
        let mut published = BytesMut::new();
        amf0::encode_all(
            &[
                Amf0Value::String("onMetaData".into()),
                Amf0Value::EcmaArray(vec![
                    ("duration".into(), Amf0Value::Number(0.0)),
                    ("width".into(), Amf0Value::Number(320.0)),
                    ("encoder".into(), Amf0Value::String("Lavf59".into())),
                    ("filesize".into(), Amf0Value::Number(0.0)),
                ]),
            ],
            &mut published,
        );
        let mut meta = file_metadata(Some(&published));
        assert!(meta.payload.starts_with(ON_META_DATA));
        let mut patched = meta.payload.to_vec();
        patched[meta.duration_at..][..8].copy_from_slice(&12.5f64.to_be_bytes());
        patched[meta.filesize_at..][..8].copy_from_slice(&4096f64.to_be_bytes());
        meta.payload = patched.into();
        let values = amf0::decode_all(&meta.payload).expect("valid AMF0");
        let Amf0Value::EcmaArray(props) = &values[1] else {
            panic!("an ECMA array: {values:?}");
        };
        let keys: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["width", "encoder", "duration", "filesize"]);
        assert_eq!(values[1].get("duration"), Some(&Amf0Value::Number(12.5)));
        assert_eq!(values[1].get("filesize"), Some(&Amf0Value::Number(4096.0)));
        assert_eq!(values[1].get("width"), Some(&Amf0Value::Number(320.0)));
    }

    #[test]
    fn metadata_names_the_tracks_a_stream_header_flags() {
        let meta = |props: Vec<(String, Amf0Value)>| {
            let mut out = BytesMut::new();
            amf0::encode_all(
                &[
                    Amf0Value::String("onMetaData".into()),
                    Amf0Value::EcmaArray(props),
                ],
                &mut out,
            );
            out
        };
        let id = |k: &str| (k.to_string(), Amf0Value::Number(7.0));
        assert_eq!(
            metadata_type_flags(&meta(vec![id("videocodecid")])),
            Some((false, true))
        );
        assert_eq!(
            metadata_type_flags(&meta(vec![id("audiocodecid"), id("videocodecid")])),
            Some((true, true))
        );
        assert_eq!(metadata_type_flags(&meta(vec![id("width")])), None);
        assert_eq!(metadata_type_flags(b"junk"), None);
    }

    #[test]
    fn file_metadata_of_something_else_than_on_meta_data_is_the_bare_one() {
        let mut other = BytesMut::new();
        amf0::encode_all(
            &[
                Amf0Value::String("onCuePoint".into()),
                Amf0Value::Object(vec![("width".into(), Amf0Value::Number(1.0))]),
            ],
            &mut other,
        );
        assert_eq!(file_metadata(Some(&other)), file_metadata(None));
        assert_eq!(file_metadata(Some(&[0x02, 0xFF])), file_metadata(None));
    }
}
