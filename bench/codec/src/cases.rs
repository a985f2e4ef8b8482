//! The inputs and the work each contender does on them. Both sides get the same bytes and
//! the same messages; every call checks what it produced and hands it to `black_box`.

use std::hint::black_box;
use std::io::Cursor;

use bytes::{Bytes, BytesMut};
use node_rtmpapi::proto::amf::{amf0, Amf0Value};
use node_rtmpapi::proto::chunk::{
    encode_standalone, ChunkDecoder, ChunkEncoder, OutgoingHeader, Payload,
};
use node_rtmpapi::proto::Limits;
use rml_rtmp::chunk_io::{ChunkDeserializer, ChunkSerializer};
use rml_rtmp::messages::MessagePayload;
use rml_rtmp::rml_amf0;
use rml_rtmp::time::RtmpTimestamp;

/// Socket-sized reads the decoders are fed.
const READ_SIZE: usize = 64 * 1024;
/// Video frames in the stream (40 s at 25 fps); two audio messages follow each.
const VIDEO_FRAMES: u32 = 1000;
/// AMF0 decodes per call of the connect case.
pub const CONNECT_REPEATS: usize = 100_000;

/// A live-like stream: H.264-sized video frames (a ~100 KB keyframe every 50 frames,
/// 10–40 KB otherwise) on chunk stream 6, ~200-byte AAC-sized audio on chunk stream 4,
/// message stream 1, and its chunked bytes at one chunk size.
pub struct MediaStream {
    chunk_size: u32,
    messages: Vec<(OutgoingHeader, Bytes)>,
    rml_messages: Vec<MessagePayload>,
    wire: Vec<u8>,
    pub payload_bytes: usize,
}

impl MediaStream {
    pub fn new(chunk_size: u32) -> Self {
        let mut seed = 0x2545_f491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut messages = Vec::new();
        for frame in 0..VIDEO_FRAMES {
            let ts = frame * 40;
            let video_len = if frame % 50 == 0 {
                100_000
            } else {
                10_000 + (next() % 30_000) as usize
            };
            messages.push((header(6, ts, 9), payload(video_len, frame as u8)));
            for a in 0..2 {
                let audio_len = 180 + (next() % 40) as usize;
                messages.push((header(4, ts + a * 20, 8), payload(audio_len, a as u8)));
            }
        }
        let rml_messages = messages
            .iter()
            .map(|(h, data)| MessagePayload {
                timestamp: RtmpTimestamp::new(h.timestamp),
                type_id: h.type_id,
                message_stream_id: h.stream_id,
                data: data.clone(),
            })
            .collect();
        let mut encoder = ChunkEncoder::default();
        encoder
            .set_chunk_size(chunk_size)
            .expect("valid chunk size");
        let mut wire = BytesMut::new();
        for (h, data) in &messages {
            encoder.encode(h, data, &mut wire);
        }
        let payload_bytes = messages.iter().map(|(_, d)| d.len()).sum();
        Self {
            chunk_size,
            messages,
            rml_messages,
            wire: wire.to_vec(),
            payload_bytes,
        }
    }

    /// Asserts that a decoder saw every message and every payload byte.
    fn check(&self, count: usize, bytes: usize) {
        assert_eq!(
            (count, bytes),
            (self.messages.len(), self.payload_bytes),
            "decoded (messages, payload bytes)"
        );
    }

    /// Each read is copied into the buffer a socket read fills, as for rml below: here
    /// that is the decoder's input, whose payload bytes the messages then share.
    pub fn decode_ours(&self) {
        let mut decoder = ChunkDecoder::new(Limits::default());
        decoder
            .set_chunk_size(self.chunk_size)
            .expect("valid chunk size");
        let mut buf = BytesMut::with_capacity(2 * READ_SIZE);
        let (mut count, mut bytes) = (0, 0);
        for read in self.wire.chunks(READ_SIZE) {
            buf.extend_from_slice(read);
            while let Some(msg) = decoder.decode(&mut buf).expect("valid stream") {
                count += 1;
                bytes += msg.payload.len();
                black_box(msg);
            }
        }
        self.check(count, bytes);
    }

    /// Each read is copied into the buffer a socket read fills, then handed to rml's
    /// deserializer, whose API takes a slice (it keeps what it needs in its own buffer).
    pub fn decode_rml(&self) {
        let mut decoder = ChunkDeserializer::new();
        decoder
            .set_max_chunk_size(self.chunk_size as usize)
            .expect("valid chunk size");
        let mut socket_buffer = vec![0u8; READ_SIZE];
        let (mut count, mut bytes) = (0, 0);
        for read in self.wire.chunks(READ_SIZE) {
            let filled = &mut socket_buffer[..read.len()];
            filled.copy_from_slice(read);
            let mut next = decoder.get_next_message(filled).expect("valid stream");
            while let Some(msg) = next {
                count += 1;
                bytes += msg.data.len();
                black_box(msg);
                next = decoder.get_next_message(&[]).expect("valid stream");
            }
        }
        self.check(count, bytes);
    }

    pub fn encode_ours(&self) {
        let mut encoder = ChunkEncoder::default();
        encoder
            .set_chunk_size(self.chunk_size)
            .expect("valid chunk size");
        let mut out = BytesMut::new();
        let mut wire = 0;
        for (h, data) in &self.messages {
            encoder.encode(h, data, &mut out);
            let packet = out.split();
            wire += packet.len();
            black_box(packet);
        }
        assert!(wire > self.payload_bytes);
    }

    /// The relay's encoding: each message framed for any player as header and payload
    /// slices for one vectored write, the payload shared rather than copied.
    pub fn encode_vectored_ours(&self) {
        let mut wire = 0;
        for (h, data) in &self.messages {
            let parts = encode_standalone(h, &Payload::from(data.clone()), self.chunk_size);
            wire += parts.iter().map(Bytes::len).sum::<usize>();
            black_box(parts);
        }
        assert!(wire > self.payload_bytes);
    }

    pub fn encode_rml(&self) {
        let mut encoder = ChunkSerializer::new();
        encoder
            .set_max_chunk_size(self.chunk_size, RtmpTimestamp::new(0))
            .expect("valid chunk size");
        let mut wire = 0;
        for msg in &self.rml_messages {
            let packet = encoder.serialize(msg, false, false).expect("valid message");
            wire += packet.bytes.len();
            black_box(packet);
        }
        assert!(wire > self.payload_bytes);
    }
}

fn header(csid: u32, timestamp: u32, type_id: u8) -> OutgoingHeader {
    OutgoingHeader {
        csid,
        timestamp,
        type_id,
        stream_id: 1,
    }
}

fn payload(len: usize, fill: u8) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| fill.wrapping_add(i as u8))
            .collect::<Vec<u8>>(),
    )
}

/// The AMF0 body of the `connect` command FFmpeg 4 sends (command name, transaction id,
/// command object).
pub fn connect_command() -> Vec<u8> {
    let s = |v: &str| Amf0Value::String(v.to_owned());
    let props = vec![
        ("app".to_owned(), s("live")),
        ("type".to_owned(), s("nonprivate")),
        (
            "flashVer".to_owned(),
            s("FMLE/3.0 (compatible; Lavf58.20.100)"),
        ),
        ("tcUrl".to_owned(), s("rtmp://127.0.0.1:1935/live")),
        ("swfUrl".to_owned(), s("rtmp://127.0.0.1:1935/live")),
        ("fpad".to_owned(), Amf0Value::Boolean(false)),
        ("capabilities".to_owned(), Amf0Value::Number(15.0)),
        ("audioCodecs".to_owned(), Amf0Value::Number(4071.0)),
        ("videoCodecs".to_owned(), Amf0Value::Number(252.0)),
        ("videoFunction".to_owned(), Amf0Value::Number(1.0)),
        ("objectEncoding".to_owned(), Amf0Value::Number(0.0)),
    ];
    let mut out = BytesMut::new();
    amf0::encode_all(
        &[
            s("connect"),
            Amf0Value::Number(1.0),
            Amf0Value::Object(props),
        ],
        &mut out,
    );
    out.to_vec()
}

pub fn amf0_decode_ours(input: &[u8]) {
    for _ in 0..CONNECT_REPEATS {
        let values = amf0::decode_all(black_box(input)).expect("valid AMF0");
        assert_eq!(values.len(), 3);
        black_box(values);
    }
}

pub fn amf0_decode_rml(input: &[u8]) {
    for _ in 0..CONNECT_REPEATS {
        let values = rml_amf0::deserialize(&mut Cursor::new(black_box(input))).expect("valid AMF0");
        assert_eq!(values.len(), 3);
        black_box(values);
    }
}
