//! The core's one error type. Every variant names the protocol cause; the binding maps
//! [`ProtoError::code`] to the stable JS error `code`.

use super::amf::AmfError;

/// Why a session's input could not be processed. Decode errors are sticky: the session
/// that produced one must be closed.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    /// RTMP 1.0 §5.2.2: C0 carries the version; only 3 is defined for plain RTMP.
    #[error("handshake: unsupported RTMP version {0} (expected 3)")]
    UnsupportedVersion(u8),
    /// §5.3.1.2: a type 1, 2 or 3 chunk header refers to a chunk stream that has no
    /// previous header to inherit fields from.
    #[error("chunk: format {fmt} header on chunk stream {csid} without a previous header")]
    NoPreviousHeader { fmt: u8, csid: u32 },
    /// §5.4.1: the chunk size is 1..=2^31-1.
    #[error("chunk: invalid chunk size {0}")]
    InvalidChunkSize(u32),
    /// A protocol control or user control message is shorter than its fixed layout.
    #[error("message: {what} payload too short ({len} bytes)")]
    ShortControlMessage { what: &'static str, len: usize },
    /// §7.1.6: an aggregate message whose sub-message headers overrun its payload.
    #[error("message: malformed aggregate message (sub-message at byte {at} overruns it)")]
    MalformedAggregate { at: usize },
    /// A limit of [`crate::proto::Limits`] was exceeded by the peer.
    #[error("limit: {what} {value} exceeds the limit of {limit}")]
    LimitExceeded {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// An AMF payload could not be decoded.
    #[error("amf: {0}")]
    Amf(#[from] AmfError),
}

impl ProtoError {
    /// The stable error code exposed to JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedVersion(_) => "ERR_RTMP_HANDSHAKE",
            Self::NoPreviousHeader { .. } | Self::InvalidChunkSize(_) => "ERR_RTMP_CHUNK",
            Self::ShortControlMessage { .. } | Self::MalformedAggregate { .. } => {
                "ERR_RTMP_MESSAGE"
            }
            Self::LimitExceeded { .. } => "ERR_RTMP_LIMIT",
            Self::Amf(_) => "ERR_RTMP_AMF",
        }
    }
}
