//! The tokio runtime layer: listeners, per-connection drivers, limits and timeouts.
//! Never imports napi; reports to the binding through [`EventSink`].

mod batch;
mod config;
mod connection;
mod error;
mod listener;
mod relay;
mod server;
mod tls;
mod transport;

pub use batch::{Batch, BatchBuilder, META_FIELDS};
pub use config::ServerConfig;
pub use connection::ConnectionHandle;
pub use error::RuntimeError;
pub use relay::{Hub, HubStats};
pub use server::{bind, connect, ServerHandle};
pub use tls::{TlsClient, TlsServer, Trust};

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
}

/// The process-wide tokio runtime the package runs its sockets on, built on first use.
pub fn tokio_handle() -> Result<&'static tokio::runtime::Runtime, std::io::Error> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
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
