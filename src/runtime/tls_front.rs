//! HTTPS and WSS with TLS terminated here (rustls), so that a connection JS routes to
//! an HTTP-FLV or WebSocket-FLV player can be played natively: TLS state that lives in
//! Node (its `tls` module, OpenSSL) can never leave it, so Node never gets the TLS.
//!
//! Each accepted connection completes its TLS handshake here, then gets a Unix socket
//! pair: one end goes to Node (a `net.Socket` its HTTP server parses, as if the client
//! spoke plain HTTP), and a pump moves plaintext between the TLS session and the other
//! end. When JS gives the connection to a player ([`TlsFront::take`]), the pump writes
//! what Node already wrote to its end (a previous keep-alive response), stops, and
//! hands the TLS session over; its end of the pair is dropped without a byte sent
//! through it, and from then on the player writes into the TLS session directly.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::server;

use super::flv_player::WRITE_STALL;
use super::listener::listen_socket;
use super::{tokio_handle, RuntimeError, TlsServer};

/// A client's TLS session, as a player takes it over.
pub type TlsSession = server::TlsStream<TcpStream>;

/// How long a client may take to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Plaintext bytes moved per read: one TLS record's largest (RFC 8446 §5.1).
const PUMP_READ: usize = 16 * 1024;

/// A connection whose handshake completed, for Node.
pub struct TlsAccepted {
    /// What [`TlsFront::take`] names it by.
    pub id: u64,
    /// Node's end of the plaintext socket pair (Node owns it from now on).
    pub fd: OwnedFd,
    pub peer: SocketAddr,
}

type Handover = oneshot::Sender<TlsSession>;
type OnConnection = Box<dyn Fn(TlsAccepted) + Send + Sync>;

struct Shared {
    /// Connections being pumped, by id: where a takeover is asked for.
    pumps: Mutex<HashMap<u64, oneshot::Sender<Handover>>>,
    /// None once the listener is closed: handshakes still running then are dropped.
    on_connection: Mutex<Option<OnConnection>>,
}

impl Shared {
    // The locks are taken poisoned or not: a panic while one was held (in the app's
    // connection callback, say) must not turn every later accept, takeover and close
    // into a panic too, close() being called from JS.
    fn pumps(&self) -> MutexGuard<'_, HashMap<u64, oneshot::Sender<Handover>>> {
        self.pumps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn on_connection(&self) -> MutexGuard<'_, Option<OnConnection>> {
        self.on_connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A listening HTTPS/WSS front (see the module doc).
pub struct TlsFront {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl TlsFront {
    /// Listens on `addr`; `on_connection` gets each connection once its handshake is
    /// done (called on a runtime thread). A client whose handshake fails (one that
    /// does not trust the certificate, or does not speak TLS) is dropped.
    pub fn listen(
        addr: SocketAddr,
        tls: TlsServer,
        on_connection: impl Fn(TlsAccepted) + Send + Sync + 'static,
    ) -> Result<Self, RuntimeError> {
        let runtime = tokio_handle()?;
        let listener = {
            let _entered = runtime.enter();
            let std_listener = listen_socket(addr, false)?;
            std_listener.set_nonblocking(true)?;
            TcpListener::from_std(std_listener)?
        };
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            pumps: Mutex::new(HashMap::new()),
            on_connection: Mutex::new(Some(Box::new(on_connection))),
        });
        let accept = runtime.spawn(accept_loop(listener, tls, shared.clone()));
        Ok(Self {
            shared,
            local_addr,
            accept,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops listening; connections already accepted go on.
    pub fn close(&self) {
        self.accept.abort();
        self.shared.on_connection().take();
    }

    /// Takes connection `id` away from Node: the receiver gets its TLS session once
    /// the pump has written what Node wrote before. Call it before Node closes its
    /// end of the pair (in the same turn of its event loop).
    pub fn take(&self, id: u64) -> Result<oneshot::Receiver<TlsSession>, RuntimeError> {
        let gone = || {
            RuntimeError::Io(io::Error::new(
                io::ErrorKind::NotConnected,
                "the TLS connection has closed",
            ))
        };
        let ask = self.shared.pumps().remove(&id).ok_or_else(gone)?;
        let (handover, session) = oneshot::channel();
        ask.send(handover).map_err(|_| gone())?;
        Ok(session)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.close();
    }
}

async fn accept_loop(listener: TcpListener, tls: TlsServer, shared: Arc<Shared>) {
    let mut next_id = 1u64;
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            // EMFILE and the like: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let id = next_id;
        next_id += 1;
        let (tls, shared) = (tls.clone(), shared.clone());
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(session) = tls.handshake(tcp, HANDSHAKE_TIMEOUT).await else {
                return;
            };
            let Ok((ours, node)) = std::os::unix::net::UnixStream::pair() else {
                return;
            };
            let Ok(ours) = ours
                .set_nonblocking(true)
                .and_then(|()| UnixStream::from_std(ours))
            else {
                return;
            };
            let (ask, asked) = oneshot::channel();
            shared.pumps().insert(id, ask);
            {
                let on_connection = shared.on_connection();
                let Some(on_connection) = on_connection.as_ref() else {
                    shared.pumps().remove(&id);
                    return;
                };
                on_connection(TlsAccepted {
                    id,
                    fd: node.into(),
                    peer,
                });
            }
            pump(session, ours, asked).await;
            shared.pumps().remove(&id);
        });
    }
}

/// Writes `bytes` and flushes them (rustls may hold plaintext until flushed); a peer
/// that takes nothing for [`WRITE_STALL`] is an error.
async fn send(w: &mut (impl AsyncWriteExt + Unpin), bytes: &[u8]) -> io::Result<()> {
    let write = async {
        w.write_all(bytes).await?;
        w.flush().await
    };
    tokio::time::timeout(WRITE_STALL, write)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

/// Moves plaintext both ways until either side ends, or a takeover is asked for.
async fn pump(mut tls: TlsSession, mut pair: UnixStream, mut asked: oneshot::Receiver<Handover>) {
    let mut from_client = vec![0; PUMP_READ];
    let mut from_node = vec![0; PUMP_READ];
    let mut client_open = true;
    loop {
        let handover = tokio::select! {
            // A takeover comes first: Node closes its end right after asking.
            biased;
            handover = &mut asked => match handover {
                Ok(handover) => handover,
                Err(_) => return,
            },
            read = tls.read(&mut from_client), if client_open => {
                match read {
                    Ok(n @ 1..) => {
                        if send(&mut pair, &from_client[..n]).await.is_err() {
                            return;
                        }
                    }
                    // The client's end: Node sees the end of its input.
                    _ => {
                        client_open = false;
                        let _ = pair.shutdown().await;
                    }
                }
                continue;
            }
            read = pair.read(&mut from_node) => {
                match read {
                    Ok(n @ 1..) => {
                        if send(&mut tls, &from_node[..n]).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    // Node's end closed: unless it was for a takeover asked just now,
                    // the connection ends (close_notify, then the TCP FIN).
                    _ => match asked.try_recv() {
                        Ok(handover) => handover,
                        Err(_) => {
                            let _ = tls.shutdown().await;
                            return;
                        }
                    },
                }
            }
        };
        // What Node wrote before it asked is in the pair's buffer: it goes first.
        while let Ok(n @ 1..) = pair.try_read(&mut from_node) {
            if send(&mut tls, &from_node[..n]).await.is_err() {
                return;
            }
        }
        let _ = handover.send(tls);
        return;
    }
}
