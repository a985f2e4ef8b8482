//! Crafted byte vectors of every form [`classify`] tells apart (FLV v10.1 §E.4.2,
//! §E.4.3; Enhanced RTMP v2 "Enhanced Video", "Enhanced Audio", ModEx, multitrack).

use bytes::Bytes;

use super::*;

/// Both entry points, which must agree.
fn both(message_type: u8, bytes: &[u8]) -> MediaClass {
    let class = classify(message_type, &Payload::from(Bytes::copy_from_slice(bytes)));
    assert_eq!(classify_bytes(message_type, bytes), class, "{bytes:02x?}");
    class
}

fn video(bytes: &[u8]) -> MediaClass {
    both(type_id::VIDEO, bytes)
}

fn audio(bytes: &[u8]) -> MediaClass {
    both(type_id::AUDIO, bytes)
}

fn class(role: MediaRole, config: Option<ConfigKind>, tracks: &[u8]) -> MediaClass {
    let mut set = TrackSet::default();
    tracks.iter().for_each(|&t| set.insert(t));
    MediaClass {
        role,
        config,
        tracks: set,
    }
}

use ConfigKind::*;
use MediaRole::*;

#[test]
fn legacy_avc_and_aac_classify_as_config_keyframe_or_frame() {
    assert_eq!(
        video(&[0x17, 0x00, 0, 0, 0]),
        class(Config, Some(SequenceStart), &[0])
    );
    assert_eq!(video(&[0x17, 0x01, 0, 0, 0]), class(Keyframe, None, &[0]));
    assert_eq!(video(&[0x27, 0x01, 0, 0, 0]), class(InterFrame, None, &[0]));
    assert_eq!(
        video(&[0x17, 0x02, 0, 0, 0]),
        class(Config, Some(SequenceEnd), &[0])
    );
    // Sorenson H.263 (2), keyframe: no configuration in that codec.
    assert_eq!(video(&[0x12, 0x00]), class(Keyframe, None, &[0]));
    assert_eq!(
        audio(&[0xAF, 0x00, 0x12, 0x10]),
        class(Config, Some(SequenceStart), &[0])
    );
    assert_eq!(audio(&[0xAF, 0x01, 0x21]), class(Audio, None, &[0]));
    assert_eq!(audio(&[0x2F, 0xFF]), class(Audio, None, &[0])); // MP3
}

#[test]
fn enhanced_single_track_forms() {
    // ExHeader | keyframe | SequenceStart, 'hvc1'.
    assert_eq!(
        video(b"\x90hvc1\x01"),
        class(Config, Some(SequenceStart), &[0])
    );
    // ExHeader | keyframe | CodedFrames, 'hvc1', CTS 0.
    assert_eq!(
        video(b"\x91hvc1\x00\x00\x00\x26"),
        class(Keyframe, None, &[0])
    );
    // ExHeader | inter | CodedFramesX, 'av01'.
    assert_eq!(video(b"\xA3av01\x12"), class(InterFrame, None, &[0]));
    // MPEG2TSSequenceStart (5), the AV1 video descriptor.
    assert_eq!(
        video(b"\x95av01\x80"),
        class(Config, Some(SequenceStart), &[0])
    );
    // Metadata (4): AMF "colorInfo".
    assert_eq!(
        video(b"\x94vp09\x02\x00\x09colorInfo"),
        class(Config, Some(Metadata), &[0])
    );
    assert_eq!(video(b"\x92vp09"), class(Config, Some(SequenceEnd), &[0]));
    // A command frame (frame type 5) carries no FourCC and no media.
    assert_eq!(video(&[0xD1, 0x00]), class(InterFrame, None, &[0]));
    // ... unless its packet is Metadata: FFmpeg's HEVC colorInfo is frame type 5.
    assert_eq!(
        video(b"\xD4hvc1\x02\x00\x09colorInfo"),
        class(Config, Some(Metadata), &[0])
    );
    assert_eq!(
        video_header(b"\xD4hvc1\x02").unwrap().fourcc,
        Some(*b"hvc1")
    );
    assert_eq!(
        audio(b"\x90Opus\x01"),
        class(Config, Some(SequenceStart), &[0])
    );
    assert_eq!(audio(b"\x91fLaC\xFF\xF8"), class(Audio, None, &[0]));
    // MultichannelConfig (4), 'ac-3': channel order 1 (native), 6 channels, flags.
    assert_eq!(
        audio(b"\x94ac-3\x01\x06\x00\x00\x00\x3F"),
        class(Config, Some(MultichannelConfig), &[0])
    );
    assert_eq!(audio(b"\x92Opus"), class(Config, Some(SequenceEnd), &[0]));
}

#[test]
fn mod_ex_wrapped_packets_classify_by_the_packet_they_wrap() {
    // ModEx (7) with TimestampOffsetNano 1,000,000 (3 bytes), then ModExType 0 |
    // SequenceStart: a configuration, though the frame type says keyframe.
    #[rustfmt::skip]
    let start = [0x97, 0x02, 0x0F, 0x42, 0x40, 0x00, b'h', b'v', b'c', b'1', 0x01];
    assert_eq!(video(&start), class(Config, Some(SequenceStart), &[0]));
    #[rustfmt::skip]
    let key = [0x97, 0x02, 0x0F, 0x42, 0x40, 0x01, b'h', b'v', b'c', b'1', 0, 0, 0, 0x26];
    assert_eq!(video(&key), class(Keyframe, None, &[0]));
    #[rustfmt::skip]
    let opus = [0x97, 0x02, 0x00, 0x01, 0x00, 0x01, b'O', b'p', b'u', b's', 0xFC];
    assert_eq!(audio(&opus), class(Audio, None, &[0]));
    // ModEx around Multitrack around SequenceStart.
    #[rustfmt::skip]
    let both = [0x97, 0x02, 0x00, 0x00, 0x01, 0x06, 0x00, b'a', b'v', b'0', b'1', 0x01, 0x81];
    assert_eq!(video(&both), class(Config, Some(SequenceStart), &[1]));
}

#[test]
fn multitrack_configs_are_configs_of_their_tracks() {
    // The bug this module replaced: Multitrack (6) | keyframe, OneTrack | SequenceStart,
    // 'hvc1', track 1, was taken for a keyframe.
    assert_eq!(
        video(b"\x96\x00hvc1\x01\x01\x02"),
        class(Config, Some(SequenceStart), &[1])
    );
    assert_eq!(
        video(b"\x96\x01hvc1\x01\x00\x00\x00\x26"),
        class(Keyframe, None, &[1])
    );
    assert_eq!(
        video(b"\xA6\x03hvc1\x01\x55"),
        class(InterFrame, None, &[1])
    );
    // Audio Multitrack (5): OneTrack | SequenceStart, 'mp4a', track 1 (FFmpeg's second
    // AAC track).
    assert_eq!(
        audio(b"\x95\x00mp4a\x01\x12\x10"),
        class(Config, Some(SequenceStart), &[1])
    );
    assert_eq!(audio(b"\x95\x01mp4a\x01\x21"), class(Audio, None, &[1]));
    // OneTrack | MultichannelConfig, 'Opus', track 2.
    assert_eq!(
        audio(b"\x95\x04Opus\x02\x00\x02"),
        class(Config, Some(MultichannelConfig), &[2])
    );
}

#[test]
fn many_tracks_many_codecs_configs_name_every_track() {
    // Audio ManyTracksManyCodecs (2) | SequenceStart: 'Opus' track 1 (3 bytes), 'mp4a'
    // track 3 (2 bytes).
    #[rustfmt::skip]
    let bytes = [0x95, 0x20,
        b'O', b'p', b'u', b's', 0x01, 0x00, 0x00, 0x03, 1, 2, 3,
        b'm', b'p', b'4', b'a', 0x03, 0x00, 0x00, 0x02, 0x12, 0x10];
    assert_eq!(audio(&bytes), class(Config, Some(SequenceStart), &[1, 3]));
    // The same tracks' coded frames: the first track names the message.
    #[rustfmt::skip]
    let frames = [0x95, 0x21,
        b'O', b'p', b'u', b's', 0x01, 0x00, 0x00, 0x01, 0xFC,
        b'm', b'p', b'4', b'a', 0x03, 0x00, 0x00, 0x01, 0x21];
    assert_eq!(audio(&frames), class(Audio, None, &[1]));
    // Video ManyTracks (1) sharing 'av01' | SequenceStart: tracks 0 and 2.
    #[rustfmt::skip]
    let video_tracks = [0x96, 0x10, b'a', b'v', b'0', b'1',
        0x00, 0x00, 0x00, 0x01, 0x81,
        0x02, 0x00, 0x00, 0x01, 0x81];
    assert_eq!(
        video(&video_tracks),
        class(Config, Some(SequenceStart), &[0, 2])
    );
}

#[test]
fn a_large_coded_frame_in_pieces_is_classified_from_its_first_bytes() {
    let mut frame = b"\x96\x11hvc1\x01\x00\x10\x00".to_vec();
    frame.extend(std::iter::repeat_n(0xAB, 4096));
    let pieces: Vec<Bytes> = frame.chunks(128).map(Bytes::copy_from_slice).collect();
    let payload = Payload::from_parts(pieces);
    assert_eq!(
        classify(type_id::VIDEO, &payload),
        class(Keyframe, None, &[1])
    );
    // A ModEx header longer than the head is read from the whole payload.
    let mut long = vec![0x97, 99];
    long.extend([0; 100]);
    long.extend(b"\x00hvc1\x01");
    let pieces: Vec<Bytes> = long.chunks(16).map(Bytes::copy_from_slice).collect();
    let payload = Payload::from_parts(pieces);
    assert_eq!(
        classify(type_id::VIDEO, &payload),
        class(Config, Some(SequenceStart), &[0])
    );
}

#[test]
fn malformed_or_empty_headers_are_plain_frames() {
    assert_eq!(video(&[]), class(InterFrame, None, &[0]));
    assert_eq!(audio(&[]), class(Audio, None, &[0]));
    assert_eq!(video(b"\x90hv"), class(InterFrame, None, &[0]));
    assert_eq!(audio(&[0x95]), class(Audio, None, &[0]));
}

#[test]
fn track_sets() {
    let mut set = TrackSet::of(200);
    set.insert(3);
    assert!(set.contains(3) && set.contains(200) && !set.contains(0));
    assert_eq!(set.first(), Some(3));
    assert!(set.intersects(&TrackSet::of(200)));
    assert!(!set.intersects(&TrackSet::of(4)));
    assert_eq!(TrackSet::default().first(), None);
}

#[test]
fn only_a_single_track_mono_or_stereo_channel_layout_is_implied_by_the_codec_config() {
    // MultichannelConfig (4) 'Opus': native order, 2 channels, FrontLeft|FrontRight.
    assert!(is_implied_channel_layout(
        b"\x94Opus\x01\x02\x00\x00\x00\x03"
    ));
    assert!(is_implied_channel_layout(
        b"\x94Opus\x01\x01\x00\x00\x00\x04"
    ));
    assert!(
        is_implied_channel_layout(b"\x94fLaC\x00\x02"),
        "unspecified order"
    );
    // Six channels, a custom map, an odd stereo mask, another packet type: kept.
    assert!(!is_implied_channel_layout(
        b"\x94ac-3\x01\x06\x00\x00\x00\x3F"
    ));
    assert!(!is_implied_channel_layout(b"\x94Opus\x02\x02\x00\x01"));
    assert!(!is_implied_channel_layout(
        b"\x94Opus\x01\x02\x00\x00\x00\x09"
    ));
    assert!(!is_implied_channel_layout(b"\x90Opus\x01\x02"));
    assert!(!is_implied_channel_layout(&[0xAF, 0x00, 0x12, 0x10]));
}
