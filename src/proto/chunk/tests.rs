//! Chunk layer tests with exact byte vectors (RTMP 1.0 §5.3).

use bytes::{BufMut, Bytes, BytesMut};

use super::*;
use crate::proto::{Limits, ProtoError};

fn header(csid: u32, timestamp: u32, type_id: u8, stream_id: u32) -> OutgoingHeader {
    OutgoingHeader {
        csid,
        timestamp,
        type_id,
        stream_id,
    }
}

/// Decodes every message in `bytes`, fed all at once.
fn decode_all(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Vec<Message> {
    let mut input = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(m) = decoder.decode(&mut input).unwrap() {
        out.push(m);
    }
    assert!(input.is_empty(), "all input consumed");
    out
}

/// Decodes every message in `bytes`, fed one byte at a time.
fn decode_bytewise(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Vec<Message> {
    let mut input = BytesMut::new();
    let mut out = Vec::new();
    for &b in bytes {
        input.put_u8(b);
        while let Some(m) = decoder.decode(&mut input).unwrap() {
            out.push(m);
        }
    }
    out
}

#[test]
fn format_0_header_has_the_layout_of_section_5_3_1_2_1() {
    #[rustfmt::skip]
    let bytes = [
        0x03,                   // fmt 0, csid 3
        0x00, 0x03, 0xE8,       // timestamp 1000
        0x00, 0x00, 0x05,       // length 5
        0x14,                   // type 20 (AMF0 command)
        0x01, 0x00, 0x00, 0x00, // message stream id 1, little-endian
        b'h', b'e', b'l', b'l', b'o',
    ];
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    enc.encode(&header(3, 1000, 20, 1), b"hello", &mut out);
    assert_eq!(&out[..], &bytes);
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &bytes);
    assert_eq!(
        msgs,
        vec![Message {
            csid: 3,
            timestamp: 1000,
            type_id: 20,
            stream_id: 1,
            fmt: 0,
            payload: Bytes::from_static(b"hello").into(),
        }]
    );
}

#[test]
fn continuation_chunks_use_format_3_at_the_chunk_size() {
    let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    enc.encode(&header(4, 0, 9, 1), &payload, &mut out);
    // 12-byte header + 128, then 0xC4 + 128, then 0xC4 + 44.
    assert_eq!(out.len(), 12 + 128 + 1 + 128 + 1 + 44);
    assert_eq!(out[12 + 128], 0xC4);
    assert_eq!(out[12 + 128 + 1 + 128], 0xC4);
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &out);
    assert_eq!(msgs.len(), 1);
    assert_eq!(&msgs[0].payload.contiguous()[..], &payload[..]);
}

#[test]
fn repeated_fields_compress_to_formats_2_and_3_as_in_section_5_3_2_1() {
    // Spec example 1: audio messages of the same length 20 ms apart.
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    for (i, ts) in [1000u32, 1020, 1040, 1060].into_iter().enumerate() {
        let before = out.len();
        enc.encode(&header(4, ts, 8, 12345), &[i as u8; 32], &mut out);
        let chunk = &out[before..];
        match i {
            0 => assert_eq!(
                &chunk[..12],
                &[0x04, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0, 0]
            ),
            1 => assert_eq!(&chunk[..4], &[0x84, 0x00, 0x00, 0x14]), // fmt 2, delta 20
            _ => assert_eq!(chunk[0], 0xC4),                         // fmt 3
        }
    }
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &out);
    let stamps: Vec<u32> = msgs.iter().map(|m| m.timestamp).collect();
    assert_eq!(stamps, [1000, 1020, 1040, 1060]);
    assert!(msgs.iter().all(|m| m.stream_id == 12345 && m.type_id == 8));
}

#[test]
fn a_new_length_or_type_uses_format_1_and_a_new_stream_id_format_0() {
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    enc.encode(&header(6, 0, 9, 1), &[0; 10], &mut out);
    let at = out.len();
    enc.encode(&header(6, 40, 9, 1), &[0; 11], &mut out);
    assert_eq!(&out[at..at + 8], &[0x46, 0, 0, 40, 0, 0, 11, 9]);
    let at = out.len();
    enc.encode(&header(6, 40, 9, 2), &[0; 11], &mut out);
    assert_eq!(out[at], 0x06);
    let at = out.len();
    enc.encode(&header(6, 10, 9, 2), &[0; 11], &mut out);
    assert_eq!(out[at], 0x06, "timestamps going back need format 0");
}

#[test]
fn extended_timestamps_are_written_on_every_chunk_and_read_in_both_conventions() {
    let ts = 0x0100_0000;
    let payload = [7u8; 200];
    let mut enc = ChunkEncoder::default();
    let mut with_repeat = BytesMut::new();
    enc.encode(&header(5, ts, 9, 1), &payload, &mut with_repeat);
    #[rustfmt::skip]
    let first = [0x05, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC8, 0x09, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00];
    assert_eq!(&with_repeat[..16], &first);
    // Flash/FMS: the continuation chunk repeats the 4 extended bytes.
    assert_eq!(
        &with_repeat[16 + 128..16 + 128 + 5],
        &[0xC5, 0x01, 0x00, 0x00, 0x00]
    );
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &with_repeat);
    assert_eq!(
        (msgs[0].timestamp, &msgs[0].payload.contiguous()[..]),
        (ts, &payload[..])
    );

    // librtmp/FFmpeg/old OBS: the continuation chunk omits them.
    let mut without = BytesMut::from(&with_repeat[..16 + 128 + 1]);
    without.put_slice(&with_repeat[16 + 128 + 5..]);
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &without);
    assert_eq!(
        (msgs[0].timestamp, &msgs[0].payload.contiguous()[..]),
        (ts, &payload[..])
    );
}

#[test]
fn timestamp_deltas_wrap_modulo_2_pow_32() {
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    enc.encode(&header(4, 0xFFFF_FFF0, 8, 1), &[1], &mut out);
    // Hand-written fmt 1 chunk: delta 0x20 crosses 2^32.
    out.put_slice(&[0x44, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0x08, 2]);
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &out);
    assert_eq!(msgs[0].timestamp, 0xFFFF_FFF0);
    assert_eq!(msgs[1].timestamp, 0x10);
}

#[test]
fn format_3_starting_a_message_after_format_0_adds_the_format_0_timestamp() {
    // FFmpeg's writer sends fmt 3 when the new delta equals the previous timestamp
    // field, which after a fmt 0 header is the absolute timestamp (libavformat/rtmppkt.c).
    #[rustfmt::skip]
    let bytes = [
        0x04, 0x00, 0x00, 0x28, 0x00, 0x00, 0x01, 0x08, 1, 0, 0, 0, 0xAA, // ts 40
        0xC4, 0xBB,                                                       // ts 80
        0xC4, 0xCC,                                                       // ts 120
    ];
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &bytes);
    let stamps: Vec<u32> = msgs.iter().map(|m| m.timestamp).collect();
    assert_eq!(stamps, [40, 80, 120]);
}

#[test]
fn a_chunk_stream_may_start_with_format_1() {
    // librtmp sends its first ping on a fresh chunk stream with a fmt 1 header.
    let bytes = [0x42, 0, 0, 5, 0, 0, 2, 0x04, 0xAB, 0xCD];
    let msgs = decode_all(&mut ChunkDecoder::new(Limits::default()), &bytes);
    assert_eq!(
        (msgs[0].timestamp, msgs[0].stream_id, msgs[0].type_id),
        (5, 0, 4)
    );
}

#[test]
fn format_2_or_3_on_an_unknown_chunk_stream_is_an_error() {
    for first in [0x83u8, 0xC3] {
        let mut input = BytesMut::from(&[first, 0, 0, 0, 1][..]);
        let err = ChunkDecoder::new(Limits::default())
            .decode(&mut input)
            .unwrap_err();
        assert!(
            matches!(err, ProtoError::NoPreviousHeader { csid: 3, .. }),
            "{err}"
        );
    }
}

#[test]
fn interleaved_messages_and_large_chunk_stream_ids_decode_byte_by_byte() {
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    let a: Vec<u8> = (0..500u32).map(|i| (i * 7) as u8).collect();
    let b: Vec<u8> = (0..260u32).map(|i| (i * 3) as u8).collect();
    // Interleave by encoding each separately then splicing the chunks.
    let mut ea = BytesMut::new();
    enc.encode(&header(319, 10, 9, 1), &a, &mut ea);
    let mut eb = BytesMut::new();
    enc.encode(&header(65599, 20, 8, 1), &b, &mut eb);
    // a: 2-byte basic header (2+11+128), continuation chunks 2+128.
    out.put_slice(&ea[..2 + 11 + 128]);
    out.put_slice(&eb[..3 + 11 + 128]);
    out.put_slice(&ea[2 + 11 + 128..]);
    out.put_slice(&eb[3 + 11 + 128..]);
    let whole = decode_all(&mut ChunkDecoder::new(Limits::default()), &out);
    let bytewise = decode_bytewise(&mut ChunkDecoder::new(Limits::default()), &out);
    assert_eq!(whole, bytewise);
    assert_eq!(whole.len(), 2);
    let by_csid = |c| whole.iter().find(|m| m.csid == c).unwrap();
    assert_eq!(&by_csid(319).payload.contiguous()[..], &a[..]);
    assert_eq!(&by_csid(65599).payload.contiguous()[..], &b[..]);
}

#[test]
fn abort_discards_the_partial_message_of_that_chunk_stream() {
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    enc.encode(&header(4, 0, 9, 1), &[1u8; 200], &mut out);
    let mut dec = ChunkDecoder::new(Limits::default());
    let mut input = BytesMut::from(&out[..12 + 128]);
    assert_eq!(dec.decode(&mut input).unwrap(), None);
    assert_eq!(dec.buffered_bytes(), 128);
    dec.abort(4);
    assert_eq!(dec.buffered_bytes(), 0);
    // The next message on csid 4 starts fresh with a fmt 1 header.
    let msgs = decode_all(&mut dec, &[0x44, 0, 0, 0, 0, 0, 1, 9, 0x55]);
    assert_eq!(&msgs[0].payload.contiguous()[..], &[0x55]);
}

#[test]
fn set_chunk_size_rejects_0_and_values_with_the_top_bit() {
    let mut dec = ChunkDecoder::new(Limits::default());
    assert!(dec.set_chunk_size(0).is_err());
    assert!(dec.set_chunk_size(0x8000_0000).is_err());
    assert!(dec.set_chunk_size(MAX_CHUNK_SIZE).is_ok());
}

#[test]
fn limits_close_the_session_on_oversized_messages_too_many_streams_and_buffered_bytes() {
    let limits = Limits {
        max_message_size: 1000,
        max_chunk_streams: 2,
        max_buffered_bytes: 300,
        ..Limits::default()
    };
    let mut big = BytesMut::from(&[0x03, 0, 0, 0, 0x00, 0x03, 0xE9, 9, 1, 0, 0, 0][..]);
    let err = ChunkDecoder::new(limits).decode(&mut big).unwrap_err();
    assert!(matches!(
        err,
        ProtoError::LimitExceeded {
            what: "message size",
            ..
        }
    ));

    let mut dec = ChunkDecoder::new(limits);
    let mut streams = BytesMut::new();
    for csid in 3..=5u8 {
        streams.put_slice(&[csid, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0, 0xEE]);
    }
    let err = loop {
        match dec.decode(&mut streams) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("limit not hit"),
            Err(e) => break e,
        }
    };
    assert!(matches!(
        err,
        ProtoError::LimitExceeded {
            what: "chunk streams",
            ..
        }
    ));

    let mut dec = ChunkDecoder::new(limits);
    let mut enc = ChunkEncoder::default();
    let mut partials = BytesMut::new();
    for csid in 3..=4 {
        let mut one = BytesMut::new();
        enc.encode(&header(csid, 0, 9, 1), &[0u8; 1000], &mut one);
        partials.put_slice(&one[..12 + 128]);
        partials.put_slice(&[0xC0 | csid as u8]);
        partials.put_slice(&one[12 + 128 + 1..12 + 128 + 1 + 128]);
    }
    let err = dec.decode(&mut partials).unwrap_err();
    assert!(matches!(
        err,
        ProtoError::LimitExceeded {
            what: "buffered message bytes",
            ..
        }
    ));
}

#[test]
fn encode_then_decode_round_trips_many_shapes() {
    // A small deterministic generator (no extra crates): xorshift.
    let mut state = 0x9E37_79B9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for chunk_size in [1u32, 2, 128, 129, 4096, 65536] {
        let mut enc = ChunkEncoder::default();
        enc.set_chunk_size(chunk_size).unwrap();
        let mut dec = ChunkDecoder::new(Limits::default());
        dec.set_chunk_size(chunk_size).unwrap();
        let mut sent = Vec::new();
        let mut out = BytesMut::new();
        let mut ts = [0u32; 4];
        for _ in 0..200 {
            let r = next();
            let lane = (r % 4) as usize;
            let csid = [3, 4, 64, 400][lane];
            ts[lane] =
                ts[lane].wrapping_add(next() % 50 + if r % 97 == 0 { 0x0100_0000 } else { 0 });
            let len = (next() % 700) as usize;
            let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let h = header(
                csid,
                ts[lane],
                [8, 9, 18, 20][(r >> 8) as usize % 4],
                1 + (r >> 16) % 2,
            );
            enc.encode(&h, &payload, &mut out);
            sent.push((h, payload));
        }
        let got = if chunk_size == 128 {
            decode_bytewise(&mut dec, &out)
        } else {
            decode_all(&mut dec, &out)
        };
        assert_eq!(got.len(), sent.len(), "chunk size {chunk_size}");
        for (m, (h, p)) in got.iter().zip(&sent) {
            assert_eq!(
                (
                    m.csid,
                    m.timestamp,
                    m.type_id,
                    m.stream_id,
                    &m.payload.contiguous()[..]
                ),
                (h.csid, h.timestamp, h.type_id, h.stream_id, &p[..]),
                "chunk size {chunk_size}"
            );
        }
    }
}

#[test]
fn a_reset_chunk_stream_starts_again_with_format_0_below_and_above_csid_64() {
    for csid in [4, 63, 64, 300] {
        let mut encoder = ChunkEncoder::default();
        let first_byte = |encoder: &mut ChunkEncoder, timestamp| {
            let mut out = BytesMut::new();
            encoder.encode(&header(csid, timestamp, 8, 1), &[1, 2, 3], &mut out);
            out[0] >> 6
        };
        // Nothing sent yet: a reset is a no-op.
        encoder.reset_stream(csid);
        assert_eq!(first_byte(&mut encoder, 0), 0, "csid {csid}");
        assert_ne!(first_byte(&mut encoder, 10), 0, "csid {csid}: inherits");
        encoder.reset_stream(csid);
        assert_eq!(first_byte(&mut encoder, 20), 0, "csid {csid}: after reset");
        assert_ne!(
            first_byte(&mut encoder, 30),
            0,
            "csid {csid}: inherits again"
        );
    }
}

/// For each piece of `payload`, whether it lies in `input` (a slice, not a copy).
fn sliced_from(payload: &Payload, input: &std::ops::Range<*const u8>) -> Vec<bool> {
    payload
        .parts()
        .iter()
        .map(|p| input.contains(&p.as_ptr()))
        .collect()
}

#[test]
fn long_chunk_payloads_are_slices_of_the_input_and_short_ones_are_copied() {
    let video: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let keyframe = vec![0x17; 3000];
    let mut enc = ChunkEncoder::default();
    enc.set_chunk_size(4096).unwrap();
    let mut wire = BytesMut::new();
    enc.encode(&header(6, 0, 9, 1), &video, &mut wire);
    enc.encode(&header(4, 0, 8, 1), &[0xAF; 300], &mut wire);
    enc.encode(&header(6, 40, 9, 1), &keyframe, &mut wire);
    let mut dec = ChunkDecoder::new(Limits::default());
    dec.set_chunk_size(4096).unwrap();
    let mut input = BytesMut::from(&wire[..]);
    let whole = input.as_ptr_range();
    let msgs: Vec<Message> = std::iter::from_fn(|| dec.decode(&mut input).unwrap()).collect();
    assert_eq!(msgs.len(), 3);

    // 4096 + 4096 + 1808: the last piece is below MIN_SLICE but in the buffer the
    // message already holds slices of, so it is a slice too.
    assert_eq!(msgs[0].payload, video[..]);
    let lens: Vec<usize> = msgs[0].payload.parts().iter().map(Bytes::len).collect();
    assert_eq!(lens, [4096, 4096, 1808]);
    assert_eq!(sliced_from(&msgs[0].payload, &whole), [true, true, true]);
    // A short message in one chunk is copied, a long one is a slice.
    assert_eq!(sliced_from(&msgs[1].payload, &whole), [false]);
    assert_eq!(sliced_from(&msgs[2].payload, &whole), [true]);
    assert_eq!(msgs[2].payload, keyframe[..]);
}

#[test]
fn a_short_piece_is_a_slice_only_in_a_buffer_its_message_already_holds() {
    let message: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let mut enc = ChunkEncoder::default();
    enc.set_chunk_size(4096).unwrap();
    let mut wire = BytesMut::new();
    enc.encode(&header(6, 0, 9, 1), &message, &mut wire);
    let first = 12 + 4096 + 1;
    for same_buffer in [true, false] {
        let mut dec = ChunkDecoder::new(Limits::default());
        dec.set_chunk_size(4096).unwrap();
        let mut input = BytesMut::with_capacity(wire.len());
        input.extend_from_slice(&wire[..first]);
        let before = input.as_ptr_range();
        assert_eq!(dec.decode(&mut input).unwrap(), None);
        let mut other = BytesMut::new();
        let rest = if same_buffer {
            // Appended within its capacity: the same allocation.
            input.extend_from_slice(&wire[first..]);
            &mut input
        } else {
            other.extend_from_slice(&wire[first..]);
            &mut other
        };
        let after = rest.as_ptr_range();
        let msg = dec.decode(rest).unwrap().unwrap();
        assert_eq!(msg.payload, message[..]);
        let last = msg.payload.parts()[1].as_ptr();
        assert!(before.contains(&msg.payload.parts()[0].as_ptr()));
        assert_eq!(
            after.contains(&last),
            same_buffer,
            "same buffer: {same_buffer}"
        );
    }
}

#[test]
fn past_max_sliced_bytes_payload_is_copied_until_the_partial_messages_complete() {
    let limits = Limits {
        max_sliced_bytes: 4096,
        ..Limits::default()
    };
    let message = vec![7u8; 3 * 4096 + 1];
    let mut enc = ChunkEncoder::default();
    enc.set_chunk_size(4096).unwrap();
    let mut wire = BytesMut::new();
    enc.encode(&header(6, 0, 9, 1), &message, &mut wire);
    let mut dec = ChunkDecoder::new(limits);
    dec.set_chunk_size(4096).unwrap();

    // An aborted partial message gives its share of the budget back.
    let mut first_chunk = BytesMut::from(&wire[..12 + 4096]);
    assert_eq!(dec.decode(&mut first_chunk).unwrap(), None);
    dec.abort(6);

    for round in 0..2 {
        let mut input = BytesMut::from(&wire[..]);
        let whole = input.as_ptr_range();
        let msg = dec.decode(&mut input).unwrap().unwrap();
        assert_eq!(msg.payload, message[..], "round {round}");
        // The first chunk fits the budget; the rest is copied into one piece.
        let lens: Vec<usize> = msg.payload.parts().iter().map(Bytes::len).collect();
        assert_eq!(lens, [4096, 2 * 4096 + 1], "round {round}");
        assert_eq!(
            sliced_from(&msg.payload, &whole),
            [true, false],
            "round {round}"
        );
        assert_eq!(dec.buffered_bytes(), 0);
    }
}

#[test]
fn standalone_frames_cut_a_payload_of_several_pieces_at_the_chunk_size() {
    let pieces = vec![Bytes::from(vec![1u8; 100]), Bytes::from(vec![2u8; 5000])];
    let payload = Payload::from_parts(pieces);
    let decode = |parts: &[Bytes], chunk_size| {
        let wire: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let mut dec = ChunkDecoder::new(Limits::default());
        dec.set_chunk_size(chunk_size).unwrap();
        decode_all(&mut dec, &wire)
    };
    let parts = encode_standalone(&header(6, 1000, 9, 1), &payload, 2048);
    let lens: Vec<usize> = parts.iter().map(Bytes::len).collect();
    // Format-0 header, 100 + 1948 bytes, format-3 header, 2048, format-3 header, 1004.
    assert_eq!(lens, [12, 100, 1948, 1, 2048, 1, 1004]);
    assert_eq!(&parts[3][..], &[0xC6]);
    assert_eq!(
        parts[4].as_ptr(),
        payload.parts()[1][1948..].as_ptr(),
        "a slice"
    );
    let msgs = decode(&parts, 2048);
    assert_eq!((&msgs[0].payload, msgs[0].timestamp), (&payload, 1000));

    // Chunks shorter than MIN_SLICE: one buffer, 12 + 5100 + 39 format-3 headers.
    let parts = encode_standalone(&header(6, 1000, 9, 1), &payload, 128);
    assert_eq!(
        parts.iter().map(Bytes::len).collect::<Vec<_>>(),
        [12 + 5100 + 39]
    );
    let msgs = decode(&parts, 128);
    assert_eq!((&msgs[0].payload, msgs[0].timestamp), (&payload, 1000));
}
