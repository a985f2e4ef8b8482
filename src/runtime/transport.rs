//! The byte stream a session runs over: plain TCP, or TLS over TCP (RTMPS). Split into
//! a read side and a write side, each driven by its own task.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::TlsStream;

/// Bytes asked of a plain TCP socket per read.
const READ_SIZE: usize = 64 * 1024;
/// Bytes reserved for a TLS read: one TLS record's largest plaintext (RFC 8446 §5.1),
/// held by an idle RTMPS session while it waits.
const TLS_READ_SIZE: usize = 16 * 1024;

/// A connected stream, plain or TLS.
pub enum Transport {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Tcp(s) => s,
            Self::Tls(s) => s.get_ref().0,
        }
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }

    pub fn set_nodelay(&self) -> io::Result<()> {
        self.tcp().set_nodelay(true)
    }

    pub fn split(self) -> (Reader, Writer) {
        match self {
            Self::Tcp(s) => {
                let s = Arc::new(s);
                (Reader::Tcp(s.clone()), Writer::Tcp(s))
            }
            Self::Tls(s) => {
                let (r, w) = tokio::io::split(*s);
                (Reader::Tls(r), Writer::Tls(w))
            }
        }
    }
}

/// The read side of a [`Transport`].
pub enum Reader {
    Tcp(Arc<TcpStream>),
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

impl Reader {
    /// Waits for bytes and appends them to `input`; 0 means the peer closed. Cancel
    /// safe. On plain TCP the buffer grows only once bytes are waiting, so an idle
    /// session holds none; TLS decrypts into it, so room for a record is reserved
    /// before waiting.
    pub async fn read_some(&mut self, input: &mut BytesMut) -> io::Result<usize> {
        match self {
            Self::Tcp(r) => loop {
                r.readable().await?;
                input.reserve(READ_SIZE);
                match r.try_read_buf(input) {
                    // Readiness stays set until a read would block, so this is how
                    // every wait after a read ends: give the room back before waiting.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if input.is_empty() {
                            *input = BytesMut::new();
                        }
                    }
                    read => return read,
                }
            },
            Self::Tls(r) => {
                input.reserve(TLS_READ_SIZE);
                r.read_buf(input).await
            }
        }
    }
}

/// The write side of a [`Transport`]. On plain TCP the socket is shared with the read
/// side and with [`Writer::direct`]'s callers, which write without awaiting.
pub enum Writer {
    Tcp(Arc<TcpStream>),
    Tls(WriteHalf<TlsStream<TcpStream>>),
}

impl Writer {
    /// The socket, for writes from other tasks that never wait (plain TCP only: TLS
    /// records are framed by this side's state).
    pub fn direct(&self) -> Option<Arc<TcpStream>> {
        match self {
            Self::Tcp(w) => Some(w.clone()),
            Self::Tls(_) => None,
        }
    }

    /// Writes some of `bufs`, waiting until the socket takes at least one byte.
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(w) => loop {
                w.writable().await?;
                match w.try_write_vectored(bufs) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    written => return written,
                }
            },
            Self::Tls(w) => w.write_vectored(bufs).await,
        }
    }

    /// Writes out what TLS keeps buffered (nothing to do on plain TCP).
    pub async fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(_) => Ok(()),
            Self::Tls(w) => w.flush().await,
        }
    }

    /// Ends the write direction (TCP FIN; TLS close_notify first).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(w) => socket2::SockRef::from(w.as_ref()).shutdown(std::net::Shutdown::Write),
            Self::Tls(w) => w.shutdown().await,
        }
    }
}
