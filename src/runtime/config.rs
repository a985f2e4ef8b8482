//! Server and session settings, each a named limit with a default.

use std::time::Duration;

use crate::proto::Limits;

/// Settings of a server and the sessions it accepts.
#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    /// Limits the core enforces on what a peer sends.
    pub limits: Limits,
    /// Time a peer has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Time an established session may go without receiving a byte (None: forever).
    pub idle_timeout: Option<Duration>,
    /// Most connections a server holds at once; more are closed as they arrive.
    pub max_connections: usize,
    /// Batches of one connection delivered to the app but not yet consumed; past
    /// this the connection stops reading its socket (TCP pushes back on the peer).
    pub in_flight_batches: usize,
    /// Payload bytes after which a batch is handed over without waiting for more.
    pub max_batch_bytes: usize,
    /// Bytes queued for a peer after which `send*` reports backpressure (false).
    pub send_high_water: usize,
    /// Bytes queued for a peer after which the session is closed.
    pub max_send_buffer: usize,
    /// Bytes queued for a peer after which relayed media is dropped (video until the
    /// next keyframe first, audio past twice this).
    pub send_queue_limit: usize,
    /// Listen with `SO_REUSEPORT`, sharing the port with other processes that do too
    /// (node:cluster workers); the kernel spreads connections across them.
    pub reuse_port: bool,
    /// Stop reading a connection after each `publish` or `play` command it sends until
    /// the app calls [`super::ConnectionHandle::resume_reading`]: media sent before the
    /// app decided (to authorize, to set up the relay) waits in the socket, as
    /// nginx-rtmp's `on_publish` makes it wait.
    pub pause_on_stream_commands: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: None,
            max_connections: 100_000,
            in_flight_batches: 4,
            max_batch_bytes: 256 * 1024,
            send_high_water: 1024 * 1024,
            max_send_buffer: 64 * 1024 * 1024,
            send_queue_limit: 4 * 1024 * 1024,
            reuse_port: false,
            pause_on_stream_commands: false,
        }
    }
}
