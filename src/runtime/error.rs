//! The runtime's one error type.

use crate::proto::ProtoError;

/// Why a connection or server failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Proto(#[from] ProtoError),
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("handshake not completed within {0} ms")]
    HandshakeTimeout(u128),
    #[error("no data from the peer for {0} ms")]
    IdleTimeout(u128),
    #[error("send buffer of {queued} bytes exceeds the limit of {limit}")]
    SendBufferFull { queued: usize, limit: usize },
    #[error("tls: {0}")]
    Tls(std::io::Error),
    #[error("tls configuration: {0}")]
    TlsConfig(String),
    #[error("session is closed")]
    Closed,
    #[error("internal error (panic) in the session: {0}")]
    Panic(String),
    /// A WebSocket-FLV player's client broke RFC 6455.
    #[error(transparent)]
    WebSocket(#[from] crate::proto::ws::WsError),
    /// A player's socket took nothing for this long (its client stopped reading).
    #[error("the player took no bytes for {0} ms")]
    WriteTimeout(u128),
    /// A recording's file could not be created or written.
    #[error("record {path}: {source}")]
    Record {
        path: String,
        source: std::io::Error,
    },
}

impl RuntimeError {
    /// The stable error code exposed to JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Proto(e) => e.code(),
            Self::Io(_) => "ERR_RTMP_SOCKET",
            Self::HandshakeTimeout(_) => "ERR_RTMP_HANDSHAKE_TIMEOUT",
            Self::IdleTimeout(_) => "ERR_RTMP_IDLE_TIMEOUT",
            Self::SendBufferFull { .. } => "ERR_RTMP_LIMIT",
            Self::Tls(_) | Self::TlsConfig(_) => "ERR_RTMP_TLS",
            Self::Closed => "ERR_RTMP_CLOSED",
            Self::Panic(_) => "ERR_RTMP_INTERNAL",
            Self::Record { .. } => "ERR_RTMP_RECORD",
            Self::WebSocket(_) => "ERR_RTMP_WEBSOCKET",
            Self::WriteTimeout(_) => "ERR_RTMP_WRITE_TIMEOUT",
        }
    }
}
