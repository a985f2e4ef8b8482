//! The tokio runtime layer: listeners, per-connection drivers, limits and timeouts.
//! Never imports napi; reports to the binding through [`EventSink`].

mod batch;
mod config;
mod connection;
mod error;
mod flv_player;
mod flv_sink;
mod hls;
mod listener;
mod memory;
mod record;
mod relay;
mod server;
mod shutdown;
mod tls;
#[cfg(unix)]
mod tls_front;
mod transport;
mod warning;

pub use batch::{Batch, BatchBuilder, META_FIELDS};
pub use config::ServerConfig;
pub use connection::{ConnectionHandle, PublishTarget};
pub use error::RuntimeError;
pub use flv_player::{
    adopt_socket, play_flv, FlvPlayer, FlvPlayerOptions, FlvPlayerSummary, PlayerSocket,
};
pub use flv_sink::{flv_sink, FlvSink, FlvSinkFeed};
pub use hls::{HlsOutput, HlsStats, WaitOutcome};
pub use record::{record, RecordSummary, Recording};
pub use relay::{Hub, HubStats, MergeWindows, SinkKind};
#[cfg(any(test, feature = "test-hooks"))]
pub use server::set_next_connection_id;
pub use server::{bind, connect, ServerHandle};
pub use tls::{TlsClient, TlsServer, Trust};
#[cfg(unix)]
pub use tls_front::{TlsAccepted, TlsFront, TlsSession};
pub use warning::Warning;

use std::sync::OnceLock;

/// Receives what happens on a server's connections. Called from tokio worker threads.
pub trait EventSink: Send + Sync + 'static {
    /// A connection was accepted (before its handshake).
    fn connection(&self, conn: ConnectionHandle);
    /// The handshake completed: messages may be sent.
    fn ready(&self, conn_id: u64);
    /// Messages arrived on a connection. The batch's permit bounds how many batches of
    /// one connection are in flight: drop it once the batch is delivered.
    fn batch(&self, conn_id: u64, batch: Batch);
    /// The connection ended; `error` says why if it was not a clean close.
    fn closed(&self, conn_id: u64, error: Option<RuntimeError>);
    /// The send queue of a connection that asked for it
    /// ([`ConnectionHandle::request_drain`]) was written out.
    fn drained(&self, _conn_id: u64) {}
    /// Something was dropped or refused; `conn_id` 0 for the server's own (accept).
    fn warning(&self, _conn_id: u64, _warning: Warning) {}
}

/// Environment variable setting the number of the runtime's I/O threads.
pub const IO_THREADS_VAR: &str = "RTMPAPI_IO_THREADS";
const MAX_IO_THREADS: usize = 64;

/// The I/O thread count `RTMPAPI_IO_THREADS` asks for; one when unset. One thread by
/// default, like nginx-rtmp's one worker: a relay writes to a stream's players from
/// the publisher's task anyway, and with a second worker idle every wake-up of a task
/// also wakes that worker to look for work to steal (13 % more CPU per GB ingested on
/// two cores, bench/README.md). `node:cluster` workers are the way to more cores.
fn io_threads(value: Option<&str>) -> Result<usize, String> {
    let Some(value) = value else { return Ok(1) };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_IO_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{IO_THREADS_VAR} must be a whole number from 1 to {MAX_IO_THREADS}, got {value:?}"
        )),
    }
}

/// The process-wide tokio runtime the package runs its sockets on, built on first use.
pub fn tokio_handle() -> Result<&'static tokio::runtime::Runtime, std::io::Error> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = io_threads(std::env::var(IO_THREADS_VAR).ok().as_deref())?;
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("rtmpapi-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| std::io::Error::other(e.clone()))
}

#[cfg(test)]
mod tests;
