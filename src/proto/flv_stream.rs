//! An FLV stream (FLV v10.1 annex E: the header, then tags) as a live player receives it,
//! over one of three framings of the bytes of each write:
//! - HTTP/1.1 chunked transfer coding (RFC 9112 §7.1): each write is one chunk, its
//!   size in hex and CRLF, the data, CRLF; the stream ends with the last chunk `0` CRLF
//!   CRLF. What SRS and node-media-server send (no Content-Length).
//! - HTTP/1.0 or `Connection: close` bodies: the bytes as they are; the stream ends
//!   with the connection (RFC 9112 §6.3, item 8).
//! - WebSocket: each write is one binary frame (RFC 6455 §5.6) holding whole FLV tags
//!   (the first one holds the FLV header); the stream ends with a close frame.

use bytes::Bytes;

use super::ws;

/// How the FLV bytes are framed on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    HttpChunked,
    HttpRaw,
    WebSocket,
}

impl Framing {
    /// What goes before a write of `len` bytes of the stream.
    pub fn prefix(self, len: usize) -> Option<Bytes> {
        match self {
            Self::HttpChunked => Some(Bytes::from(format!("{len:X}\r\n"))),
            Self::HttpRaw => None,
            Self::WebSocket => Some(ws::binary_frame_header(len)),
        }
    }

    /// What goes after a write of the stream.
    pub fn suffix(self) -> Option<Bytes> {
        match self {
            Self::HttpChunked => Some(Bytes::from_static(b"\r\n")),
            Self::HttpRaw | Self::WebSocket => None,
        }
    }

    /// What ends the stream before the connection is closed (a WebSocket close frame
    /// with `ws_code`).
    pub fn end(self, ws_code: u16) -> Option<Bytes> {
        match self {
            Self::HttpChunked => Some(Bytes::from_static(b"0\r\n\r\n")),
            Self::HttpRaw => None,
            Self::WebSocket => Some(ws::close(ws_code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_its_hex_size_crlf_data_crlf_and_the_last_chunk_is_zero() {
        let f = Framing::HttpChunked;
        assert_eq!(f.prefix(0x1a2b).as_deref(), Some(&b"1A2B\r\n"[..]));
        assert_eq!(f.suffix().as_deref(), Some(&b"\r\n"[..]));
        assert_eq!(f.end(1000).as_deref(), Some(&b"0\r\n\r\n"[..]));
    }

    #[test]
    fn a_raw_body_has_no_framing_and_a_websocket_one_frame_per_write() {
        let raw = Framing::HttpRaw;
        assert_eq!(
            (raw.prefix(5), raw.suffix(), raw.end(1000)),
            (None, None, None)
        );
        let ws = Framing::WebSocket;
        assert_eq!(ws.prefix(13).as_deref(), Some(&[0x82, 13][..]));
        assert_eq!(ws.suffix(), None);
        assert_eq!(ws.end(1001).as_deref(), Some(&[0x88, 2, 0x03, 0xe9][..]));
    }
}
