//! Chunk stream decoding (RTMP 1.0 §5.3): reassembles messages from interleaved chunks.

use bytes::{Buf, Bytes, BytesMut};

use super::csid_map::CsidMap;
use super::header::{parse_basic_header, read_u24, EXTENDED_TIMESTAMP_MARKER, MESSAGE_HEADER_SIZE};
use super::{validate_chunk_size, Message, Payload, DEFAULT_CHUNK_SIZE};
use crate::proto::{Limits, ProtoError};

/// Pieces of payload at least this long are kept as slices of the input buffer; shorter
/// ones are copied, since a slice keeps its whole input buffer alive, unless their
/// message already holds a slice of the same buffer (a message's short last chunk).
/// So a message held (in a cache, a send queue) keeps at most (input buffer size ÷
/// `MIN_SLICE`) times its length alive: 32 with the runtime's 64 KiB reads.
/// Publishers' media chunks are larger (4096 bytes and up; FFmpeg takes the server's
/// chunk size).
pub const MIN_SLICE: usize = 2048;

/// A message being reassembled (§5.3.1): the pieces of payload received so far.
#[derive(Debug, Default)]
struct Partial {
    /// Pieces taken from the input without copying, and copied runs of short pieces.
    parts: Vec<Bytes>,
    /// Short pieces copied since the last sliced one.
    copied: BytesMut,
    /// Bytes received so far.
    len: usize,
    /// How many of them are held as slices of input buffers.
    sliced: usize,
    /// Pieces to make room for at the first slice.
    expected_pieces: usize,
    /// The [`ChunkDecoder::buffer`] generation of the last slice taken.
    sliced_from: Option<u64>,
}

impl Partial {
    /// A message of `length` bytes in chunks of `chunk_size`: its pieces get room at
    /// the first slice (for at most 32: the length is what the peer declares).
    fn for_message(length: u32, chunk_size: u32) -> Self {
        let chunks = (length / chunk_size).saturating_add(2).min(32);
        Self {
            expected_pieces: chunks as usize,
            ..Self::default()
        }
    }

    /// Moves `n` bytes from the front of `input` (of generation `buffer`) into the
    /// message: as a slice when `may_slice` and the piece is long or lies in a buffer
    /// the message already holds a slice of; copied otherwise.
    fn take(
        &mut self,
        input: &mut BytesMut,
        n: usize,
        message_len: usize,
        may_slice: bool,
        buffer: u64,
    ) {
        if may_slice && (n >= MIN_SLICE || self.sliced_from == Some(buffer)) {
            self.sliced_from = Some(buffer);
            if self.parts.capacity() == 0 {
                self.parts.reserve_exact(self.expected_pieces);
            }
            if !self.copied.is_empty() {
                self.parts.push(self.copied.split().freeze());
            }
            self.parts.push(input.split_to(n).freeze());
            self.sliced += n;
        } else {
            if self.copied.capacity() == 0 {
                // Sized by what has arrived, not by what the peer declares: the
                // message's bytes already in `input` are reserved at once, so a large
                // message is not copied again each time the buffer doubles.
                self.copied
                    .reserve((message_len - self.len).min(input.len()));
            }
            self.copied.extend_from_slice(&input[..n]);
            input.advance(n);
        }
        self.len += n;
    }

    fn finish(mut self) -> Payload {
        if !self.copied.is_empty() {
            self.parts.push(self.copied.freeze());
        }
        Payload::from_parts(self.parts)
    }
}

/// What the decoder remembers of one chunk stream (§5.3.1.2: later headers inherit
/// the fields they omit).
#[derive(Debug, Default)]
struct ChunkStream {
    /// Timestamp of the current (or last) message.
    timestamp: u32,
    /// The last timestamp field: a delta for formats 1 and 2, the absolute value for
    /// format 0 (a format-3 chunk that starts a message adds it, as FFmpeg's writer
    /// expects).
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Format of the chunk that started the current message.
    fmt: u8,
    /// Whether the last format 0-2 header carried an extended timestamp, and its value.
    extended: Option<u32>,
    /// The message being reassembled; `None` between messages.
    partial: Option<Partial>,
}

impl ChunkStream {
    /// The completed message with this stream's header fields.
    fn message(&self, csid: u32, payload: Payload) -> Message {
        Message {
            csid,
            timestamp: self.timestamp,
            type_id: self.type_id,
            stream_id: self.stream_id,
            fmt: self.fmt,
            payload,
        }
    }
}

/// The chunk of payload currently being read: which stream, how many bytes remain.
#[derive(Debug, Clone, Copy)]
struct PendingChunk {
    csid: u32,
    remaining: usize,
}

/// Incremental chunk decoder: feed it bytes as they arrive, take whole messages out.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    streams: CsidMap<ChunkStream>,
    pending: Option<PendingChunk>,
    /// Bytes held in partial messages across all chunk streams.
    buffered: usize,
    /// How many of them are slices of input buffers.
    sliced: usize,
    /// Generation of the input buffer: it changes when a call's `input` is not the
    /// buffer the last call left (a reallocation), see [`InputMark`].
    buffer: u64,
    /// Where the last call left `input`.
    left: InputMark,
    limits: Limits,
}

/// The start and end of an input buffer's unread part and spare room, as addresses.
/// Two inputs with the same mark and room to spare are the same allocation: the
/// earlier one's region `start..end` is alive while a message holds a slice of it, so
/// no other allocation overlaps it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct InputMark {
    start: usize,
    end: usize,
}

impl InputMark {
    fn of(input: &BytesMut) -> Self {
        let start = input.as_ptr() as usize;
        Self {
            start,
            end: start + input.capacity(),
        }
    }
}

impl ChunkDecoder {
    pub fn new(limits: Limits) -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: CsidMap::default(),
            pending: None,
            buffered: 0,
            sliced: 0,
            buffer: 0,
            left: InputMark::default(),
            limits,
        }
    }

    /// The receive chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Applies a Set Chunk Size received from the peer (§5.4.1).
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ProtoError> {
        self.chunk_size = validate_chunk_size(size)?;
        Ok(())
    }

    /// Discards the partially received message of a chunk stream (§5.4.2 Abort).
    pub fn abort(&mut self, csid: u32) {
        if let Some(partial) = self.streams.get_mut(&csid).and_then(|s| s.partial.take()) {
            self.release(&partial);
        }
    }

    /// Stops counting a partial message that is complete or dropped.
    fn release(&mut self, partial: &Partial) {
        self.buffered -= partial.len;
        self.sliced -= partial.sliced;
    }

    /// Bytes currently held in partially received messages.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Consumes bytes from `input` until one message is complete (`Some`) or more
    /// input is needed (`None`). Errors are sticky: the session must be closed.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Message>, ProtoError> {
        let mark = InputMark::of(input);
        if mark != self.left || mark.start == mark.end {
            self.buffer += 1;
        }
        let result = self.decode_from(input);
        self.left = InputMark::of(input);
        result
    }

    fn decode_from(&mut self, input: &mut BytesMut) -> Result<Option<Message>, ProtoError> {
        loop {
            if let Some(pending) = self.pending {
                let progress = self.read_payload(pending, input);
                self.check_buffered()?;
                match progress {
                    PayloadProgress::NeedMore => return Ok(None),
                    PayloadProgress::ChunkDone => continue,
                    PayloadProgress::Message(msg) => return Ok(Some(msg)),
                }
            }
            if !self.read_chunk_header(input)? {
                return Ok(None);
            }
        }
    }

    /// Parses one chunk header from the front of `input` and consumes it; false if it
    /// is not complete yet (nothing consumed).
    fn read_chunk_header(&mut self, input: &mut BytesMut) -> Result<bool, ProtoError> {
        let Some(basic) = parse_basic_header(input) else {
            return Ok(false);
        };
        let fmt = basic.fmt;
        let mut pos = basic.len;
        let header_len = MESSAGE_HEADER_SIZE[usize::from(fmt)];
        if input.len() < pos + header_len {
            return Ok(false);
        }
        let h = &input[pos..pos + header_len];
        pos += header_len;

        if !self.streams.contains_key(&basic.csid) {
            if fmt >= 2 {
                return Err(ProtoError::NoPreviousHeader {
                    fmt,
                    csid: basic.csid,
                });
            }
            if self.streams.len() >= self.limits.max_chunk_streams {
                return Err(ProtoError::LimitExceeded {
                    what: "chunk streams",
                    value: self.streams.len() as u64 + 1,
                    limit: self.limits.max_chunk_streams as u64,
                });
            }
        }
        let stream = self.streams.entry(basic.csid).or_default();

        // §5.3.1.3: a timestamp field of 0xFFFFFF is followed by a 4-byte extended one.
        let timestamp_field = (fmt < 3).then(|| read_u24(h));
        let extended = match timestamp_field {
            Some(EXTENDED_TIMESTAMP_MARKER) => {
                let Some(ext) = input.get(pos..pos + 4) else {
                    return Ok(false);
                };
                pos += 4;
                Some(u32::from_be_bytes([ext[0], ext[1], ext[2], ext[3]]))
            }
            Some(_) => None,
            // Type 3 after a header with an extended timestamp: Flash/FMS repeat the
            // 4 bytes, librtmp/FFmpeg/older OBS may omit them. Accept both by
            // comparing the next 4 bytes with the stored value (as SRS does).
            None => match stream.extended {
                Some(stored) => {
                    let Some(ext) = input.get(pos..pos + 4) else {
                        return Ok(false);
                    };
                    if u32::from_be_bytes([ext[0], ext[1], ext[2], ext[3]]) == stored {
                        pos += 4;
                    }
                    None
                }
                None => None,
            },
        };
        let timestamp_value = extended.or(timestamp_field);

        let starts_message = stream.partial.is_none();
        let mut dropped = None;
        match fmt {
            0 => {
                let length = read_u24(&h[3..6]);
                let stream_id = u32::from_le_bytes([h[7], h[8], h[9], h[10]]);
                check_message_size(length, &self.limits)?;
                if !starts_message {
                    // A new format-0 header replaces the unfinished message.
                    dropped = stream.partial.take();
                }
                let ts = timestamp_value.unwrap_or(0);
                stream.timestamp = ts;
                stream.delta = ts;
                stream.length = length;
                stream.type_id = h[6];
                stream.stream_id = stream_id;
                stream.extended = extended;
            }
            1 | 2 => {
                if fmt == 1 {
                    let length = read_u24(&h[3..6]);
                    check_message_size(length, &self.limits)?;
                    stream.length = length;
                    stream.type_id = h[6];
                }
                let delta = timestamp_value.unwrap_or(0);
                stream.delta = delta;
                stream.extended = extended;
                if !starts_message {
                    dropped = stream.partial.take();
                }
                stream.timestamp = stream.timestamp.wrapping_add(delta);
            }
            _ => {
                if starts_message {
                    stream.timestamp = stream.timestamp.wrapping_add(stream.delta);
                }
            }
        }
        if starts_message || fmt < 3 {
            stream.fmt = fmt;
            stream.partial = Some(Partial::for_message(stream.length, self.chunk_size));
        }
        let received = stream.partial.as_ref().map_or(0, |p| p.len);
        let remaining_in_message = stream.length as usize - received;
        let remaining = remaining_in_message.min(self.chunk_size as usize);
        if let Some(dropped) = dropped {
            self.release(&dropped);
        }
        input.advance(pos);
        self.pending = Some(PendingChunk {
            csid: basic.csid,
            remaining,
        });
        Ok(true)
    }

    /// Moves payload bytes of the pending chunk from `input` into its message.
    fn read_payload(&mut self, pending: PendingChunk, input: &mut BytesMut) -> PayloadProgress {
        let Some(stream) = self.streams.get_mut(&pending.csid) else {
            self.pending = None;
            return PayloadProgress::ChunkDone;
        };
        let Some(partial) = stream.partial.as_mut() else {
            self.pending = None;
            return PayloadProgress::ChunkDone;
        };
        let message_len = stream.length as usize;
        // Fast path: a whole message in one chunk, all in the buffer.
        if partial.len == 0 && pending.remaining == message_len && input.len() >= message_len {
            let payload = if message_len >= MIN_SLICE {
                input.split_to(message_len).freeze()
            } else {
                let copy = Bytes::copy_from_slice(&input[..message_len]);
                input.advance(message_len);
                copy
            };
            stream.partial = None;
            self.pending = None;
            return PayloadProgress::Message(stream.message(pending.csid, payload.into()));
        }
        let n = pending.remaining.min(input.len());
        if n == 0 && pending.remaining > 0 {
            return PayloadProgress::NeedMore;
        }
        let may_slice = self.sliced + n <= self.limits.max_sliced_bytes;
        let sliced_before = partial.sliced;
        partial.take(input, n, message_len, may_slice, self.buffer);
        self.sliced += partial.sliced - sliced_before;
        self.buffered += n;
        let remaining = pending.remaining - n;
        if remaining > 0 {
            self.pending = Some(PendingChunk {
                remaining,
                ..pending
            });
            return PayloadProgress::NeedMore;
        }
        self.pending = None;
        if partial.len < message_len {
            return PayloadProgress::ChunkDone;
        }
        let partial = stream.partial.take().unwrap_or_default();
        self.buffered -= partial.len;
        self.sliced -= partial.sliced;
        let payload = partial.finish();
        PayloadProgress::Message(stream.message(pending.csid, payload))
    }

    /// Checks the buffered-bytes limit after payload was consumed.
    fn check_buffered(&self) -> Result<(), ProtoError> {
        if self.buffered > self.limits.max_buffered_bytes {
            return Err(ProtoError::LimitExceeded {
                what: "buffered message bytes",
                value: self.buffered as u64,
                limit: self.limits.max_buffered_bytes as u64,
            });
        }
        Ok(())
    }
}

enum PayloadProgress {
    NeedMore,
    ChunkDone,
    Message(Message),
}

fn check_message_size(length: u32, limits: &Limits) -> Result<(), ProtoError> {
    if length > limits.max_message_size {
        return Err(ProtoError::LimitExceeded {
            what: "message size",
            value: u64::from(length),
            limit: u64::from(limits.max_message_size),
        });
    }
    Ok(())
}
