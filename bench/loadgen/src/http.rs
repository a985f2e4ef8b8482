//! An HTTP-FLV player that reads and discards: `GET PATH` (HTTP/1.1, RFC 9112), a 200
//! status required, then every byte after the response head counted (the body as
//! sent, chunked transfer-coding framing included: a few bytes per FLV tag).

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, SemaphorePermit};

use crate::{read_some, Counter};

/// The most of a response head read before the body (bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Plays until the connection ends; `opened` fires (and `permit` is released) once the
/// response head has arrived with status 200.
pub async fn play(
    addr: &str,
    path: &str,
    counter: &Counter,
    permit: SemaphorePermit<'_>,
    opened: oneshot::Sender<()>,
) -> std::io::Result<()> {
    let mut sock = TcpStream::connect(addr).await?;
    sock.set_nodelay(true)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: rtmp-loadgen\r\nAccept: */*\r\n\r\n"
    );
    sock.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut body = 0usize;
    while body == 0 {
        read_some(&sock, |d| head.extend_from_slice(d)).await?;
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            body = end + 4;
        } else if head.len() > MAX_HEAD {
            return Err(std::io::Error::other("no end of the HTTP response head"));
        }
    }
    let status = head
        .split(|&b| b == b' ')
        .nth(1)
        .map(|s| String::from_utf8_lossy(s).into_owned());
    if status.as_deref() != Some("200") {
        return Err(std::io::Error::other(format!(
            "HTTP status {}",
            status.unwrap_or_default()
        )));
    }
    counter.bytes.set((head.len() - body) as u64);
    drop(head);
    counter.open.set(true);
    drop(permit);
    let _ = opened.send(());
    loop {
        read_some(&sock, |d| {
            counter.bytes.set(counter.bytes.get() + d.len() as u64)
        })
        .await?;
    }
}
