//! Named limits on everything a peer controls. A peer that exceeds one gets its session
//! closed with [`ProtoError::LimitExceeded`](super::ProtoError::LimitExceeded).

/// Per-session limits enforced by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message payload accepted, in bytes. The chunk header's length field is
    /// 24-bit (§5.3.1.2.1), so 16 MiB - 1 is the protocol's own maximum; 4K keyframes
    /// exceed 1 MB.
    pub max_message_size: u32,
    /// Most chunk streams (CSIDs) one peer may open.
    pub max_chunk_streams: usize,
    /// Most bytes held in partially received messages across all chunk streams.
    pub max_buffered_bytes: usize,
    /// Most bytes of partially received messages held as slices of the buffers they
    /// were read into rather than copied; beyond it, payload is copied. A slice keeps
    /// its whole read buffer alive, and slices are at least
    /// [`MIN_SLICE`](super::chunk::MIN_SLICE) long, so the memory they hold is at most
    /// this × (read buffer size ÷ `MIN_SLICE`).
    pub max_sliced_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 0x00FF_FFFF,
            max_chunk_streams: 256,
            max_buffered_bytes: 64 * 1024 * 1024,
            max_sliced_bytes: 2 * 1024 * 1024,
        }
    }
}
