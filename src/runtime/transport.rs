//! The byte stream a session runs over: plain TCP, or TLS over TCP (RTMPS). Split into
//! a read side and a write side, each driven by its own task.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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
                let (r, w) = s.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
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
    Tcp(OwnedReadHalf),
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

/// The write side of a [`Transport`].
pub enum Writer {
    Tcp(OwnedWriteHalf),
    Tls(WriteHalf<TlsStream<TcpStream>>),
}

impl AsyncWrite for Writer {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_write(cx, buf),
            Self::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_write_vectored(cx, bufs),
            Self::Tls(w) => Pin::new(w).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(w) => w.is_write_vectored(),
            Self::Tls(w) => w.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_flush(cx),
            Self::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_shutdown(cx),
            Self::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}
