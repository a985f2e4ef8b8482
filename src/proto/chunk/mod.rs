//! The chunk layer (RTMP 1.0 §5.3): messages split into chunks of the negotiated chunk
//! size, each with a basic header (format + chunk stream id) and a message header whose
//! size depends on the format.

mod csid_map;
mod decoder;
mod encoder;
mod header;
mod payload;

pub use decoder::{ChunkDecoder, MIN_SLICE};
pub use encoder::{encode_standalone, ChunkEncoder};
pub use payload::Payload;

/// The chunk size every session starts with (§5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest chunk size: 31 bits, the top bit must be zero (§5.4.1).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Smallest and largest chunk stream ids (§5.3.1.1): 0 and 1 select the 2- and 3-byte
/// forms; 2 is reserved for protocol control messages.
pub const MIN_CSID: u32 = 2;
pub const MAX_CSID: u32 = 65599;

/// Checks a chunk size against §5.4.1 (1..=2^31-1).
pub fn validate_chunk_size(size: u32) -> Result<u32, crate::proto::ProtoError> {
    if size == 0 || size > MAX_CHUNK_SIZE {
        return Err(crate::proto::ProtoError::InvalidChunkSize(size));
    }
    Ok(size)
}

/// A complete message as assembled by the chunk layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The chunk stream id it arrived on.
    pub csid: u32,
    /// Absolute timestamp in ms, deltas applied modulo 2^32 (§5.3.1.2).
    pub timestamp: u32,
    /// Message type id (§5.4, §7.1).
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// Header format (0..3) of the chunk that started the message.
    pub fmt: u8,
    pub payload: Payload,
}

/// The header fields of a message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingHeader {
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
}

#[cfg(test)]
mod tests;
