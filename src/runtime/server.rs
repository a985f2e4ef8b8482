//! The TCP listener: accepts connections and runs each on its own task.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::connection::serve;
use super::listener::listen_socket;
use super::transport::Transport;
use super::{tokio_handle, EventSink, RuntimeError, ServerConfig, TlsClient, TlsServer, Warning};
use crate::proto::handshake::Role;

/// A listening server. Dropping it or calling [`ServerHandle::close`] stops accepting;
/// accepted connections run on until they end.
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections.
    pub fn close(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.close();
    }
}

/// The next connection id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique id for a connection (server or client side).
fn next_connection_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Sets the id the next connection gets: for tests of ids past 2^32 (u64 ids reach
/// JS as Numbers, exact up to 2^53).
#[cfg(any(test, feature = "test-hooks"))]
pub fn set_next_connection_id(id: u64) {
    NEXT_ID.store(id, Ordering::Relaxed);
}

/// Least time between two warnings of refused connections (each counts those since).
const REFUSAL_WARNING_INTERVAL: Duration = Duration::from_secs(1);

/// Connects to an RTMP server (over TLS with `tls`, checking the certificate against
/// `host`) and runs a client session on the package's tokio runtime; everything is
/// reported to `sink` (a failed connect as `closed` with the error, without a
/// `connection` first). Returns the connection id.
pub fn connect(
    host: String,
    addr: SocketAddr,
    config: ServerConfig,
    tls: Option<TlsClient>,
    sink: Arc<dyn EventSink>,
) -> Result<u64, RuntimeError> {
    let rt = tokio_handle()?;
    let id = next_connection_id();
    let timeout = config.handshake_timeout;
    let establish = async move {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| RuntimeError::HandshakeTimeout(timeout.as_millis()))??;
        match tls {
            Some(tls) => tls.connect(&host, stream, timeout).await,
            None => Ok(Transport::Tcp(stream)),
        }
    };
    let _context = rt.enter();
    rt.spawn(serve(id, Box::pin(establish), Role::Client, config, sink));
    Ok(id)
}

/// Binds `addr` (synchronously, so errors are reported to the caller at once) and
/// starts accepting connections on the package's tokio runtime, over TLS with `tls`.
pub fn bind(
    addr: SocketAddr,
    config: ServerConfig,
    tls: Option<TlsServer>,
    sink: Arc<dyn EventSink>,
) -> Result<ServerHandle, RuntimeError> {
    let rt = tokio_handle()?;
    let std_listener = listen_socket(addr, config.reuse_port)?;
    std_listener.set_nonblocking(true)?;
    let local_addr = std_listener.local_addr()?;
    let listener = {
        let _guard = rt.enter();
        TcpListener::from_std(std_listener)?
    };
    let (stop, mut stopped) = watch::channel(false);
    let active = Arc::new(AtomicUsize::new(0));
    rt.spawn(async move {
        // Refused connections not yet reported, and when the last report went out.
        let mut refused = 0u64;
        let mut refusal_reported: Option<Instant> = None;
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.wait_for(|s| *s) => break,
            };
            match accepted {
                // Past the limit a connection is closed at once, before any work.
                Ok((stream, _)) if active.load(Ordering::Relaxed) >= config.max_connections => {
                    drop(stream);
                    refused += 1;
                    if refusal_reported.is_none_or(|at| at.elapsed() >= REFUSAL_WARNING_INTERVAL) {
                        refusal_reported = Some(Instant::now());
                        let limit = config.max_connections;
                        sink.warning(0, Warning::ConnectionLimit { refused, limit });
                        refused = 0;
                    }
                }
                Ok((stream, _)) => {
                    let id = next_connection_id();
                    let sink = sink.clone();
                    let active = active.clone();
                    let tls = tls.clone();
                    let establish = async move {
                        match tls {
                            Some(tls) => tls.accept(stream, config.handshake_timeout).await,
                            None => Ok(Transport::Tcp(stream)),
                        }
                    };
                    active.fetch_add(1, Ordering::Relaxed);
                    let ended = serve(id, Box::pin(establish), Role::Server, config, sink);
                    tokio::spawn(async move {
                        ended.await;
                        active.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                // Per-connection accept errors (EMFILE, ECONNABORTED) must not stop
                // the server; back off briefly.
                Err(e) => {
                    sink.warning(0, Warning::AcceptFailed(e.to_string()));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    });
    Ok(ServerHandle { local_addr, stop })
}
