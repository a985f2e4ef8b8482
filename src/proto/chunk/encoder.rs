//! Chunk stream encoding (RTMP 1.0 §5.3) with header compression: format 0 only when
//! needed, formats 1/2/3 when fields repeat, continuation chunks as format 3.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};

use super::csid_map::CsidMap;
use super::decoder::MIN_SLICE;
use super::header::{put_basic_header, put_u24, EXTENDED_TIMESTAMP_MARKER};
use super::{validate_chunk_size, OutgoingHeader, Payload, DEFAULT_CHUNK_SIZE};
use crate::proto::ProtoError;

/// The header of the last message sent on a chunk stream.
#[derive(Debug, Clone, Copy)]
struct LastSent {
    timestamp: u32,
    /// The delta of the last format 1/2 header; `None` after a format 0 header, so a
    /// format-3 message never follows a format-0 one (decoders disagree on its delta).
    delta: Option<u32>,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// Chunk encoder of one session's send direction.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    streams: CsidMap<LastSent>,
    /// Bit `c` is set while `streams` holds chunk stream `c` (< 64): the relay resets
    /// its media chunk streams after every frame it queues, usually with nothing to
    /// forget, and this spares it the map lookup.
    low_csids: u64,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: CsidMap::default(),
            low_csids: 0,
        }
    }
}

/// The bit of a chunk stream id below 64 in [`ChunkEncoder::low_csids`].
fn low_csid_bit(csid: u32) -> Option<u64> {
    1u64.checked_shl(csid)
}

impl ChunkEncoder {
    /// The send chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Switches the send chunk size; call after the Set Chunk Size message went out.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ProtoError> {
        self.chunk_size = validate_chunk_size(size)?;
        Ok(())
    }

    /// Forgets what was sent on a chunk stream: its next message gets a format-0
    /// header (used after sending an Abort for it).
    pub fn reset_stream(&mut self, csid: u32) {
        if let Some(bit) = low_csid_bit(csid) {
            if self.low_csids & bit == 0 {
                return;
            }
            self.low_csids &= !bit;
        }
        self.streams.remove(&csid);
    }

    /// Appends `payload` to `out` as chunks. `header.csid` must be 2..=65599.
    pub fn encode(&mut self, header: &OutgoingHeader, payload: &[u8], out: &mut BytesMut) {
        let length = payload.len() as u32;
        let previous = self.streams.get(&header.csid).copied();
        let (fmt, timestamp_field, delta) = match previous {
            Some(p) if p.stream_id == header.stream_id && header.timestamp >= p.timestamp => {
                let delta = header.timestamp - p.timestamp;
                let fmt = if p.length != length || p.type_id != header.type_id {
                    1
                } else if p.delta == Some(delta) {
                    3
                } else {
                    2
                };
                (fmt, delta, Some(delta))
            }
            _ => (0, header.timestamp, None),
        };
        self.low_csids |= low_csid_bit(header.csid).unwrap_or(0);
        self.streams.insert(
            header.csid,
            LastSent {
                timestamp: header.timestamp,
                delta,
                length,
                type_id: header.type_id,
                stream_id: header.stream_id,
            },
        );

        let extended = timestamp_field >= EXTENDED_TIMESTAMP_MARKER;
        let chunk_size = self.chunk_size as usize;
        let chunks = payload.len().div_ceil(chunk_size).max(1);
        out.reserve(payload.len() + 16 + (chunks - 1) * 8);

        put_basic_header(out, fmt, header.csid);
        if fmt < 3 {
            put_u24(
                out,
                if extended {
                    EXTENDED_TIMESTAMP_MARKER
                } else {
                    timestamp_field
                },
            );
        }
        if fmt < 2 {
            put_u24(out, length);
            out.put_u8(header.type_id);
        }
        if fmt == 0 {
            out.put_u32_le(header.stream_id);
        }
        if extended {
            out.put_u32(timestamp_field);
        }
        let mut rest = payload;
        loop {
            let n = rest.len().min(chunk_size);
            out.put_slice(&rest[..n]);
            rest = &rest[n..];
            if rest.is_empty() {
                break;
            }
            // §5.3.1.2.4: continuation chunks use format 3; the extended timestamp is
            // repeated on them (Flash/FMS convention, read by FFmpeg).
            put_basic_header(out, 3, header.csid);
            if extended {
                out.put_u32(timestamp_field);
            }
        }
    }
}

/// Encodes a message so that it can be sent to any peer without knowing what that
/// peer last saw on `header.csid`: a format-0 first chunk, format-3 continuations. The
/// result is a list of buffers (header, payload slices, header, payload slices, ...)
/// that share `payload`'s pieces without copying them, for vectored writes to many
/// peers; with chunks shorter than [`MIN_SLICE`] it is one buffer, a copy.
///
/// The peer's chunk stream state afterwards is that of a format-0 header, so the
/// sender's [`ChunkEncoder`] must forget that chunk stream ([`ChunkEncoder::reset_stream`]).
pub fn encode_standalone(
    header: &OutgoingHeader,
    payload: &Payload,
    chunk_size: u32,
) -> Vec<Bytes> {
    let extended = header.timestamp >= EXTENDED_TIMESTAMP_MARKER;
    let chunk_size = chunk_size.max(1) as usize;
    let mut first = BytesMut::with_capacity(18);
    put_basic_header(&mut first, 0, header.csid);
    put_u24(&mut first, header.timestamp.min(EXTENDED_TIMESTAMP_MARKER));
    put_u24(&mut first, payload.len() as u32);
    first.put_u8(header.type_id);
    first.put_u32_le(header.stream_id);
    let mut continuation = BytesMut::with_capacity(7);
    put_basic_header(&mut continuation, 3, header.csid);
    if extended {
        first.put_u32(header.timestamp);
        continuation.put_u32(header.timestamp);
    }
    let chunks = payload.len().div_ceil(chunk_size).max(1);
    if chunk_size < MIN_SLICE {
        // Short chunks: copying them costs less than a slice (and an iovec) for each.
        let mut out = BytesMut::with_capacity(
            first.len() + payload.len() + (chunks - 1) * continuation.len(),
        );
        out.extend_from_slice(&first);
        cut_into_chunks(payload, chunk_size, |cut| match cut {
            Cut::Continuation => out.extend_from_slice(&continuation),
            Cut::Piece(piece, range) => out.extend_from_slice(&piece[range]),
        });
        return vec![out.freeze()];
    }
    let continuation = continuation.freeze();
    let mut parts = Vec::with_capacity(2 * chunks + payload.parts().len());
    parts.push(first.freeze());
    cut_into_chunks(payload, chunk_size, |cut| match cut {
        Cut::Continuation => parts.push(continuation.clone()),
        Cut::Piece(piece, range) => parts.push(piece.slice(range)),
    });
    parts
}

/// One step of [`cut_into_chunks`].
enum Cut<'a> {
    /// A new chunk starts: its format-3 header goes here.
    Continuation,
    /// Payload bytes of the current chunk, from one of the payload's pieces.
    Piece(&'a Bytes, Range<usize>),
}

/// Walks `payload` cut into chunks of `chunk_size` bytes (§5.3.1), in wire order.
fn cut_into_chunks<'a>(payload: &'a Payload, chunk_size: usize, mut cut: impl FnMut(Cut<'a>)) {
    // Room left in the current chunk.
    let mut room = chunk_size;
    for piece in payload.parts() {
        let mut offset = 0;
        while offset < piece.len() {
            if room == 0 {
                cut(Cut::Continuation);
                room = chunk_size;
            }
            let end = (offset + room).min(piece.len());
            cut(Cut::Piece(piece, offset..end));
            room -= end - offset;
            offset = end;
        }
    }
}
