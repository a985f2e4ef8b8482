//! A synthetic publication through the segmenter and the playlist.

use bytes::Bytes;

use super::fmp4::VIDEO_TIMESCALE;
use super::*;
use crate::proto::chunk::Payload;
use crate::proto::message::type_id;

/// Wall clock of the first frame: 2024-05-01T12:00:00.000Z.
const T0: i64 = 1_714_564_800_000;

fn payload(bytes: Vec<u8>) -> Payload {
    Bytes::from(bytes).into()
}

/// A legacy AVC message (FLV v10.1 §E.4.3.1): frame type, AVCPacketType, CTS, data.
fn avc(keyframe: bool, packet_type: u8, cts: i32, data: &[u8]) -> Payload {
    let mut b = vec![if keyframe { 0x17 } else { 0x27 }, packet_type];
    b.extend_from_slice(&cts.to_be_bytes()[1..]);
    b.extend_from_slice(data);
    payload(b)
}

fn aac(packet_type: u8, data: &[u8]) -> Payload {
    let mut b = vec![0xAF, packet_type];
    b.extend_from_slice(data);
    payload(b)
}

/// Configs, then `seconds` of 25 fps video (a keyframe each second) and AAC every
/// 23 ms (44.1 kHz), interleaved by time as FFmpeg's FLV muxer does.
fn publish(s: &mut Segmenter, seconds: u32) {
    let avcc = super::fmp4::tests::AVCC;
    s.push(type_id::VIDEO, 0, &avc(true, 0, 0, avcc), T0);
    s.push(type_id::AUDIO, 0, &aac(0, &[0x12, 0x10]), T0);
    let mut audio_ms = 0;
    for frame in 0..seconds * 25 {
        let ms = frame * 40;
        while audio_ms <= ms {
            s.push(
                type_id::AUDIO,
                audio_ms,
                &aac(1, &[0x21; 10]),
                T0 + i64::from(audio_ms),
            );
            audio_ms += 23;
        }
        let nal = [0, 0, 0, 2, 0x65, frame as u8];
        s.push(
            type_id::VIDEO,
            ms,
            &avc(frame % 25 == 0, 1, 40, &nal),
            T0 + i64::from(ms),
        );
    }
}

#[test]
fn segments_are_cut_at_keyframes_and_parts_at_the_part_target() {
    let mut s = Segmenter::new("abc", HlsConfig::default());
    publish(&mut s, 4);
    // Keyframes at 0, 1, 2, 3 s: three complete segments of 1 s, the fourth open.
    let msns: Vec<u64> = s.segments().iter().map(|x| x.msn).collect();
    assert_eq!(msns, [0, 1, 2]);
    for seg in s.segments() {
        assert_eq!(seg.duration_ms, 1000);
        // 200 ms parts: five frames each; the first starts with the keyframe.
        let parts: Vec<(u32, bool)> = seg
            .parts
            .iter()
            .map(|p| (p.duration_ms, p.independent))
            .collect();
        assert_eq!(
            parts,
            [
                (200, true),
                (200, false),
                (200, false),
                (200, false),
                (200, false)
            ]
        );
        let joined: Vec<u8> = seg.parts.iter().flat_map(|p| p.data.to_vec()).collect();
        assert_eq!(
            seg.payload().contiguous().as_ref(),
            &joined[..],
            "a segment is its parts"
        );
        assert_eq!(seg.size(), joined.len());
    }
    assert_eq!(s.segments()[1].program_date_ms, T0 + 1000);
    let (open, parts) = s.open().unwrap();
    assert_eq!((open, parts.len()), (3, 4));
    assert!(s.has_video() && s.codecs() == [*b"avc1", *b"mp4a"]);
}

#[test]
fn a_part_holds_both_tracks_with_exact_decode_times() {
    let mut s = Segmenter::new("abc", HlsConfig::default());
    publish(&mut s, 2);
    let part = &s.segments()[0].parts[1];
    let mut buf = &part.data[..];
    use mp4_atom::Decode;
    let moof = mp4_atom::Moof::decode(&mut buf).unwrap();
    assert_eq!(moof.traf.len(), 2);
    let video = &moof.traf[0];
    assert_eq!(
        video.tfdt.as_ref().unwrap().base_media_decode_time,
        200 * 90
    );
    let entries: Vec<_> = video.trun[0].samples.iter().collect();
    assert_eq!(entries.len(), 5);
    assert!(entries
        .iter()
        .all(|e| e.duration == Some(40 * 90) && e.cts == Some(40 * 90)));
    assert_eq!(entries[0].size, Some(6));
    let audio = &moof.traf[1];
    // The first audio frame at or after 200 ms: 207 ms (9 × 23), in 44.1 kHz units.
    assert_eq!(
        audio.tfdt.as_ref().unwrap().base_media_decode_time,
        207 * 44_100 / 1000
    );
    assert_eq!(VIDEO_TIMESCALE, 90_000);
}

#[test]
fn the_window_is_bounded_and_names_stay_with_their_bytes() {
    let config = HlsConfig {
        window: 3,
        ..HlsConfig::default()
    };
    let mut s = Segmenter::new("p1", config);
    publish(&mut s, 8);
    let msns: Vec<u64> = s.segments().iter().map(|x| x.msn).collect();
    assert_eq!(msns, [4, 5, 6]);
    let five = s.segments()[1].payload();
    assert_eq!(s.lookup("p1_5.m4s"), Lookup::Found(five));
    assert_eq!(
        s.lookup("p1_5_2.m4s"),
        Lookup::Found(s.segments()[1].parts[2].data.clone().into())
    );
    assert_eq!(s.lookup("p1_3.m4s"), Lookup::NotFound, "left the window");
    assert_eq!(
        s.lookup("p0_5.m4s"),
        Lookup::NotFound,
        "another publication"
    );
    assert!(matches!(s.lookup("p1_init.mp4"), Lookup::Found(_)));
    let (open, parts) = s.open().unwrap();
    let next = format!("p1_{open}_{}.m4s", parts.len());
    assert_eq!(s.lookup(&next), Lookup::Pending, "the preload hint's part");
    assert_eq!(
        s.lookup(&format!("p1_{open}_{}.m4s", parts.len() + 1)),
        Lookup::NotFound
    );
    assert_eq!(s.lookup("p1_x.m4s"), Lookup::NotFound);
    // Twice the stream, the same memory: three segments and the open one.
    let mut longer = Segmenter::new("p1", config);
    publish(&mut longer, 16);
    let (a, b) = (s.held_bytes(), longer.held_bytes());
    assert!(b.abs_diff(a) * 20 < a, "{a} vs {b}");
}

#[test]
fn blocking_requests_wait_for_their_part_and_far_ones_are_refused() {
    let mut s = Segmenter::new("abc", HlsConfig::default());
    publish(&mut s, 4);
    // Segments 0-2 complete, 3 open with parts 0-3.
    assert_eq!(s.blocking(2, None), Blocking::Ready);
    assert_eq!(s.blocking(3, None), Blocking::Wait);
    assert_eq!(s.blocking(3, Some(3)), Blocking::Ready);
    assert_eq!(s.blocking(3, Some(4)), Blocking::Wait);
    assert_eq!(s.blocking(4, Some(0)), Blocking::Wait);
    assert_eq!(s.blocking(5, Some(0)), Blocking::BadRequest);
    // Past a complete segment's last part: the next segment's first.
    assert_eq!(s.blocking(2, Some(5)), Blocking::Ready);
    s.end();
    assert_eq!(
        s.blocking(9, None),
        Blocking::Ready,
        "ended: answer with the last"
    );
}

#[test]
fn the_playlist_lists_segments_parts_and_the_preload_hint() {
    let mut s = Segmenter::new("abc", HlsConfig::default());
    assert!(
        media_playlist(&s).is_none(),
        "nothing before a complete segment"
    );
    publish(&mut s, 4);
    let text = media_playlist(&s).unwrap();
    let expected_head = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n\
        #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600\n\
        #EXT-X-PART-INF:PART-TARGET=0.200\n#EXT-X-MEDIA-SEQUENCE:0\n\
        #EXT-X-MAP:URI=\"abc_init.mp4\"\n\
        #EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.000Z\n\
        #EXTINF:1.000,\nabc_0.m4s\n\
        #EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:01.000Z\n\
        #EXT-X-PART:DURATION=0.200,URI=\"abc_1_0.m4s\",INDEPENDENT=YES\n\
        #EXT-X-PART:DURATION=0.200,URI=\"abc_1_1.m4s\"\n";
    assert!(text.starts_with(expected_head), "{text}");
    assert!(
        text.ends_with(
            "#EXT-X-PART:DURATION=0.200,URI=\"abc_3_3.m4s\"\n\
         #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"abc_3_4.m4s\"\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("#EXTINF").count(), 3);
    s.end();
    let text = media_playlist(&s).unwrap();
    assert!(text.ends_with("abc_3.m4s\n#EXT-X-ENDLIST\n"), "{text}");
    assert!(!text.contains("PRELOAD-HINT"));
}

#[test]
fn a_changed_config_starts_a_new_generation_and_other_codecs_are_named() {
    let mut s = Segmenter::new("abc", HlsConfig::default());
    publish(&mut s, 2);
    assert!(!s.segments().is_empty());
    let mut other = super::fmp4::tests::AVCC.to_vec();
    other[3] = 0x1f; // another level
    s.push(type_id::VIDEO, 2000, &avc(true, 0, 0, &other), T0 + 2000);
    assert!(s.segments().is_empty() && s.init().is_none());
    assert_eq!(s.prefix(), "abc1");
    s.push(
        type_id::VIDEO,
        2000,
        &avc(true, 1, 0, &[0, 0, 0, 1, 0x65]),
        T0 + 2000,
    );
    assert!(s.init().is_some());

    let mut vp9 = Segmenter::new("v", HlsConfig::default());
    vp9.push(
        type_id::VIDEO,
        0,
        &payload(b"\x90vp09\x01\x00".to_vec()),
        T0,
    );
    assert_eq!(vp9.skipped, Some(HlsError::UnsupportedCodec("vp09".into())));
}

#[test]
fn an_audio_only_publication_is_cut_by_time() {
    let mut s = Segmenter::new("a", HlsConfig::default());
    s.push(type_id::AUDIO, 0, &aac(0, &[0x12, 0x10]), T0);
    for i in 0..200u32 {
        s.push(
            type_id::AUDIO,
            i * 23,
            &aac(1, &[1; 8]),
            T0 + i64::from(i * 23),
        );
    }
    assert!(!s.has_video());
    let seg = &s.segments()[0];
    assert!(
        (1000..1030).contains(&seg.duration_ms),
        "{}",
        seg.duration_ms
    );
    assert!(seg.parts.len() >= 4 && seg.parts.iter().all(|p| p.duration_ms <= 200));
}

#[test]
fn timestamps_that_never_advance_still_leave_memory_bounded_by_bytes() {
    let config = HlsConfig {
        window: 2,
        ..HlsConfig::default()
    };
    let mut s = Segmenter::new("h", config);
    s.push(
        type_id::VIDEO,
        0,
        &avc(true, 0, 0, super::fmp4::tests::AVCC),
        T0,
    );
    let big = vec![7u8; 256 << 10];
    s.push(type_id::VIDEO, 0, &avc(true, 1, 0, &big), T0);
    for _ in 0..600 {
        s.push(type_id::VIDEO, 0, &avc(false, 1, 0, &big), T0);
    }
    let bound = (config.window + 1) * (segmenter::MAX_SEGMENT_BYTES + segmenter::MAX_PART_BYTES);
    assert!(s.held_bytes() <= bound, "{} > {bound}", s.held_bytes());
    assert_eq!(s.segments().len(), 2, "segments were cut by size");
    assert!(s.segments()[0]
        .parts
        .iter()
        .all(|p| p.data.len() <= segmenter::MAX_PART_BYTES + 4096));
}
