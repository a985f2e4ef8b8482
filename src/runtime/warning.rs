//! What the runtime drops or refuses without ending a session, reported to the app
//! through [`super::EventSink::warning`] (the JS face's `'warning'` event).

/// Something dropped or refused; each kind is rate-limited where it is raised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    /// `accept` failed (EMFILE, ECONNABORTED, ...); the server goes on accepting.
    #[error("accept failed: {0}")]
    AcceptFailed(String),
    /// Connections closed on arrival because `max_connections` were open.
    #[error("refused {refused} connection(s): {limit} are open (maxConnections)")]
    ConnectionLimit { refused: u64, limit: usize },
    /// Relayed media dropped for a peer whose send queue is past its limit: totals
    /// of the connection so far.
    #[error("dropped {video} video and {audio} audio frames for a slow peer (sendQueueLimit {limit} bytes)")]
    SlowPeer {
        video: u64,
        audio: u64,
        limit: usize,
    },
}

impl Warning {
    /// The stable code exposed to JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AcceptFailed(_) => "ERR_RTMP_ACCEPT",
            Self::ConnectionLimit { .. } => "ERR_RTMP_MAX_CONNECTIONS",
            Self::SlowPeer { .. } => "ERR_RTMP_SLOW_PEER",
        }
    }
}
