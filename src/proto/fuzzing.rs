//! Fuzzing entry points over the core's input paths, in the manner of rustls'
//! `pub mod fuzzing`: the targets under `fuzz/` call them with libFuzzer's bytes, and
//! `cargo test` replays the seed corpus (`fuzz/corpus/`) through them. Each must never
//! panic on any input and asserts the invariants of its layer: bytes consumed never
//! exceed bytes given, limits hold, replies stay bounded, and decoding what we encoded
//! gives back what was encoded.

use bytes::{Bytes, BytesMut};

use super::amf::{amf0, amf3, AmfError, DecodeOne};
use super::chunk::{encode_standalone, ChunkDecoder, ChunkEncoder, OutgoingHeader, Payload};
use super::handshake::{Handshake, Role, HANDSHAKE_SIZE, RANDOM_SIZE};
use super::message::{type_id, ControlMessage};
use super::session::{Event, Session};
use super::{command, media, shared_object, Limits};

/// Limits small enough for a fuzzer to reach them.
const FUZZ_LIMITS: Limits = Limits {
    max_message_size: 1 << 20,
    max_chunk_streams: 64,
    max_buffered_bytes: 4 << 20,
    max_sliced_bytes: 64 << 10,
};

/// Most bytes one call of the handshake may write: S0 + S1 + S2 (or C0 + C1 + C2).
const MAX_HANDSHAKE_OUTPUT: usize = 1 + 2 * HANDSHAKE_SIZE;

/// Most bytes one poll of an established session may queue in reply: one control
/// message (a PingResponse, the largest, is a 12-byte header, 4-byte extended
/// timestamp and 6-byte body) and one Acknowledgement.
const MAX_REPLY_PER_POLL: usize = 64;

/// Splits fuzz input into a selector byte and the rest; the selector picks how the
/// rest is cut into the reads a socket might deliver (1 to 8129 bytes each).
fn selector_and_step(data: &[u8]) -> Option<(u8, usize, &[u8])> {
    let (&selector, rest) = data.split_first()?;
    Some((selector, usize::from(selector >> 1) * 64 + 1, rest))
}

/// The handshake (§5.2) as server or client, fed in arbitrary pieces.
pub fn handshake(data: &[u8]) {
    let Some((selector, step, rest)) = selector_and_step(data) else {
        return;
    };
    let role = if selector & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let mut hs = Handshake::new(role, 0, &[0x5a; RANDOM_SIZE]);
    let mut input = BytesMut::new();
    let mut out = BytesMut::new();
    let mut fed = 0;
    for piece in rest.chunks(step) {
        input.extend_from_slice(piece);
        fed += piece.len();
        let done = match hs.process(&mut input, 0, &mut out) {
            Ok(done) => done,
            Err(_) => return,
        };
        assert!(
            fed - input.len() <= MAX_HANDSHAKE_OUTPUT,
            "consumed past C2"
        );
        assert!(
            out.len() <= MAX_HANDSHAKE_OUTPUT,
            "replied more than S0+S1+S2"
        );
        if done {
            assert!(hs.is_done());
            return;
        }
    }
}

/// The chunk decoder (§5.3) alone, applying Set Chunk Size and Abort as a session
/// would; payload bytes out never exceed bytes in, and the limits hold.
pub fn chunk_decoder(data: &[u8]) {
    let Some((_, step, rest)) = selector_and_step(data) else {
        return;
    };
    let mut decoder = ChunkDecoder::new(FUZZ_LIMITS);
    let mut input = BytesMut::new();
    let mut fed = 0;
    let mut payload_out = 0;
    for piece in rest.chunks(step) {
        input.extend_from_slice(piece);
        fed += piece.len();
        loop {
            let before = input.len();
            let msg = match decoder.decode(&mut input) {
                Ok(Some(msg)) => msg,
                Ok(None) => break,
                Err(_) => return,
            };
            assert!(input.len() <= before);
            assert!(msg.payload.len() <= FUZZ_LIMITS.max_message_size as usize);
            let parts = msg.payload.parts();
            assert_eq!(
                parts.iter().map(Bytes::len).sum::<usize>(),
                msg.payload.len()
            );
            assert!(parts.len() == 1 || parts.iter().all(|p| !p.is_empty()));
            payload_out += msg.payload.len();
            let applied = match ControlMessage::decode(msg.type_id, &msg.payload.contiguous()) {
                Ok(Some(ControlMessage::SetChunkSize(size))) => decoder.set_chunk_size(size),
                Ok(Some(ControlMessage::Abort(csid))) => {
                    decoder.abort(csid);
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if applied.is_err() {
                return;
            }
        }
        assert!(decoder.buffered_bytes() <= FUZZ_LIMITS.max_buffered_bytes);
        assert!(
            payload_out + decoder.buffered_bytes() <= fed,
            "made up payload bytes"
        );
    }
}

/// Reads fuzz bytes as a list of messages to send; each record is
/// `csid(2) timestamp(4) type(1) stream id(1) flags(1) length(2)` then the payload.
/// Flag bit 0 asks for a standalone frame, bits 1-7 how the payload is split into
/// pieces (as the decoder hands it on: slices of its read buffers).
fn messages_to_send(mut data: &[u8]) -> Vec<(OutgoingHeader, bool, Payload)> {
    let mut messages = Vec::new();
    while data.len() >= 11 {
        let (head, rest) = data.split_at(11);
        let csid = 2 + u32::from(u16::from_be_bytes([head[0], head[1]])) % 65598;
        let header = OutgoingHeader {
            csid,
            timestamp: u32::from_be_bytes([head[2], head[3], head[4], head[5]]),
            type_id: head[6],
            stream_id: u32::from(head[7]),
        };
        let standalone = head[8] & 1 == 1;
        let len = usize::from(u16::from_be_bytes([head[9], head[10]])).min(rest.len());
        let (payload, rest) = rest.split_at(len);
        let piece = 1 + usize::from(head[8] >> 1) * 37;
        let pieces = payload.chunks(piece).map(Bytes::copy_from_slice).collect();
        messages.push((header, standalone, Payload::from_parts(pieces)));
        data = rest;
    }
    messages
}

/// Chunk encoding then decoding (§5.3) gives back every message: header compression,
/// extended timestamps, timestamp wrap and standalone (relay) frames included.
pub fn chunk_round_trip(data: &[u8]) {
    let Some((chunk_size_bytes, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let chunk_size = u32::from(u16::from_be_bytes(*chunk_size_bytes)).max(1);
    let messages = messages_to_send(rest);
    let mut encoder = ChunkEncoder::default();
    let mut wire = BytesMut::new();
    encoder
        .set_chunk_size(chunk_size)
        .expect("1..=65535 is a valid chunk size");
    for (header, standalone, payload) in &messages {
        if *standalone {
            for part in encode_standalone(header, payload, chunk_size) {
                wire.extend_from_slice(&part);
            }
            encoder.reset_stream(header.csid);
        } else {
            encoder.encode(header, &payload.contiguous(), &mut wire);
        }
    }
    let limits = Limits {
        max_chunk_streams: 65600,
        ..Limits::default()
    };
    let mut decoder = ChunkDecoder::new(limits);
    decoder
        .set_chunk_size(chunk_size)
        .expect("1..=65535 is a valid chunk size");
    for (header, _, payload) in &messages {
        let msg = decoder
            .decode(&mut wire)
            .expect("our own chunks decode")
            .expect("every message encoded is decoded");
        assert_eq!(
            (msg.csid, msg.timestamp, msg.type_id, msg.stream_id),
            (
                header.csid,
                header.timestamp,
                header.type_id,
                header.stream_id
            )
        );
        assert_eq!(&msg.payload, payload);
    }
    assert!(wire.is_empty(), "bytes left after the last message");
}

/// The invariants of an AMF codec: decoding one value takes at most the input, and
/// what decodes re-encodes to bytes that decode to the same encoding.
fn amf_round_trip<V>(
    data: &[u8],
    decode_one: DecodeOne<V>,
    decode_all: fn(&[u8]) -> Result<Vec<V>, AmfError>,
    encode: fn(&V, &mut BytesMut),
) {
    if let Ok((_, used)) = decode_one(data) {
        assert!(used <= data.len());
    }
    let Ok(values) = decode_all(data) else {
        return;
    };
    let encode_all = |values: &[V]| {
        let mut out = BytesMut::new();
        values.iter().for_each(|v| encode(v, &mut out));
        out
    };
    let first = encode_all(&values);
    let again = decode_all(&first).expect("our own encoding decodes");
    assert_eq!(first, encode_all(&again));
}

/// AMF0 decoding (§2), the AMF3 switch included.
pub fn amf0(data: &[u8]) {
    amf_round_trip(data, amf0::decode_one, amf0::decode_all, amf0::encode);
}

/// AMF3 decoding (§3) with its reference tables.
pub fn amf3(data: &[u8]) {
    amf_round_trip(data, amf3::decode_one, amf3::decode_all, amf3::encode);
}

/// Decodes a message body as the JS face does for `chunk.msg` (lib/message.js);
/// errors are the caller's to report, never panics.
fn decode_body(type_id: u8, payload: &[u8]) {
    match type_id {
        type_id::AUDIO | type_id::VIDEO => {
            let class = media::classify(type_id, &Payload::from(Bytes::copy_from_slice(payload)));
            assert_eq!(
                class.config.is_some(),
                class.role == media::MediaRole::Config
            );
            match type_id {
                type_id::AUDIO => drop(media::audio_header(payload)),
                _ => drop(media::video_header(payload)),
            }
        }
        type_id::AMF3_DATA => drop(command::decode_amf3_data(payload)),
        type_id::AMF0_DATA => drop(command::decode_data(payload)),
        type_id::AMF3_COMMAND => drop(command::decode_amf3_command(payload)),
        type_id::AMF0_COMMAND => drop(command::decode_amf0_command(payload)),
        type_id::AMF3_SHARED_OBJECT | type_id::AMF0_SHARED_OBJECT => {
            drop(shared_object::decode_typed(type_id, payload))
        }
        _ => {}
    }
}

/// A whole server session's input path: handshake (or an established session),
/// chunks, protocol control, aggregates and every message body decoder.
pub fn session(data: &[u8]) {
    let Some((selector, step, rest)) = selector_and_step(data) else {
        return;
    };
    let mut session = if selector & 1 == 0 {
        Session::new(Role::Server, FUZZ_LIMITS, 0, &[0x5a; RANDOM_SIZE])
    } else {
        Session::established(Role::Server, FUZZ_LIMITS)
    };
    let mut input = BytesMut::new();
    let mut fed = 0;
    for (now_ms, piece) in (0u32..).zip(rest.chunks(step)) {
        input.extend_from_slice(piece);
        fed += piece.len();
        loop {
            let before = input.len();
            let event = session.poll(&mut input, now_ms);
            assert!(input.len() <= before);
            let reply = session.take_output().len();
            assert!(
                reply <= MAX_HANDSHAKE_OUTPUT + MAX_REPLY_PER_POLL,
                "one poll replied {reply} bytes"
            );
            match event {
                Ok(Some(Event::Message(msg))) => {
                    assert!(msg.payload.len() <= FUZZ_LIMITS.max_message_size as usize);
                    decode_body(msg.type_id, &msg.payload.contiguous());
                }
                Ok(Some(Event::HandshakeDone)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(session.counters().bytes_in <= fed as u64);
    }
}

/// A fuzz target: arbitrary bytes in, a panic on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target by the name of its `fuzz/fuzz_targets/<name>.rs` and corpus folder.
pub const TARGETS: [(&str, Target); 6] = [
    ("handshake", handshake),
    ("chunk_decoder", chunk_decoder),
    ("chunk_round_trip", chunk_round_trip),
    ("amf0", amf0),
    ("amf3", amf3),
    ("session", session),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn every_seed_of_every_target_replays_without_a_failure() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in super::TARGETS {
            let dir = corpus.join(target);
            let mut seeds = 0;
            for entry in std::fs::read_dir(&dir).expect("the seed corpus exists") {
                let path = entry.expect("a corpus entry").path();
                let input = std::fs::read(&path).expect("a corpus file");
                let outcome = std::panic::catch_unwind(|| run(&input));
                assert!(outcome.is_ok(), "{target} fails on {}", path.display());
                seeds += 1;
            }
            assert!(seeds > 0, "{} holds no seeds", dir.display());
        }
    }
}
