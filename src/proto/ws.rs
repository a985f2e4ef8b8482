//! The WebSocket framing a WebSocket-FLV player needs (RFC 6455 §5), on top of
//! tungstenite's frame header codec (`FrameHeader::format` / `FrameHeader::parse`):
//! the server's frames are unmasked (§5.1) binary frames (§5.6) whose payload is
//! written from the shared FLV tags themselves, so only their 2 to 10 header bytes are
//! made per write, never a copy of the payload (tungstenite's `Frame` owns its
//! payload, which is why its header alone is used); the client's frames are read only
//! for what the server must answer: a ping with a pong (§5.5.2, §5.5.3) and a close
//! with a close (§5.5.1). Data frames from the client are skipped.

use std::io::Cursor;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// Longest client frame payload read (a data frame longer than this is a protocol
/// violation here: a player sends none; control frames are at most 125 bytes, §5.5).
pub const MAX_CLIENT_PAYLOAD: u64 = 64 * 1024;
/// Longest control frame payload (§5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// Close status codes (§7.4.1).
pub const CLOSE_NORMAL: u16 = 1000;
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
pub const CLOSE_TOO_BIG: u16 = 1009;

/// A server frame's header: FIN set, no mask (§5.1, §5.2).
fn server_header(opcode: OpCode, length: u64) -> Bytes {
    let header = FrameHeader {
        opcode,
        ..FrameHeader::default()
    };
    let mut out = Vec::with_capacity(header.len(length));
    header
        .format(length, &mut out)
        .expect("writing to a Vec cannot fail");
    out.into()
}

/// The header of one binary frame (§5.6) carrying `length` payload bytes: written
/// before the FLV tags that make its payload.
pub fn binary_frame_header(length: usize) -> Bytes {
    server_header(OpCode::Data(Data::Binary), length as u64)
}

/// A pong answering a ping's application data (§5.5.3).
pub fn pong(payload: &[u8]) -> Bytes {
    let mut out =
        BytesMut::from(&server_header(OpCode::Control(Control::Pong), payload.len() as u64)[..]);
    out.put_slice(payload);
    out.freeze()
}

/// A close frame with a status code (§5.5.1).
pub fn close(code: u16) -> Bytes {
    let mut out = BytesMut::from(&server_header(OpCode::Control(Control::Close), 2)[..]);
    out.put_u16(code);
    out.freeze()
}

/// What a client frame asks of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// A ping: answer with a pong of this payload.
    Ping(Bytes),
    /// A close, with the client's status code if it gave one: answer with a close.
    Close(Option<u16>),
    /// Anything else (pong, text, binary, continuation): nothing to answer.
    Other,
}

/// Why the client's frames cannot be read (the connection is then closed with the
/// status [`WsError::close_code`]).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WsError {
    /// Frames from the client must be masked (§5.1).
    #[error("websocket: an unmasked frame from the client (RFC 6455 §5.1)")]
    Unmasked,
    /// A control frame longer than 125 bytes or fragmented (§5.5).
    #[error("websocket: a control frame fragmented or over 125 bytes (RFC 6455 §5.5)")]
    BadControl,
    /// A frame longer than [`MAX_CLIENT_PAYLOAD`].
    #[error("websocket: a client frame of {0} bytes, over the {MAX_CLIENT_PAYLOAD} read")]
    TooBig(u64),
    /// Reserved bits or opcodes without a negotiated extension (§5.2).
    #[error("websocket: {0}")]
    Header(String),
}

impl WsError {
    /// The close status to send before closing (§7.4.1).
    pub fn close_code(&self) -> u16 {
        match self {
            Self::TooBig(_) => CLOSE_TOO_BIG,
            _ => CLOSE_PROTOCOL_ERROR,
        }
    }
}

/// Reads one client frame from the front of `input`: `Ok(None)` when it is not all
/// there yet (nothing consumed), else the frame (consumed).
pub fn decode_client_frame(input: &mut BytesMut) -> Result<Option<ClientFrame>, WsError> {
    let mut cursor = Cursor::new(&input[..]);
    let (header, length) = match FrameHeader::parse(&mut cursor) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return Ok(None),
        Err(e) => return Err(WsError::Header(e.to_string())),
    };
    let header_len = cursor.position() as usize;
    let Some(mask) = header.mask else {
        return Err(WsError::Unmasked);
    };
    if header.rsv1 || header.rsv2 || header.rsv3 {
        return Err(WsError::Header("reserved bits set (RFC 6455 §5.2)".into()));
    }
    let control = matches!(header.opcode, OpCode::Control(_));
    if control && (length > MAX_CONTROL_PAYLOAD || !header.is_final) {
        return Err(WsError::BadControl);
    }
    if length > MAX_CLIENT_PAYLOAD {
        return Err(WsError::TooBig(length));
    }
    let length = length as usize;
    if input.len() < header_len + length {
        return Ok(None);
    }
    input.advance(header_len);
    let mut payload = input.split_to(length);
    // Unmasking (§5.3): octet i XOR mask[i mod 4].
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
    Ok(Some(match header.opcode {
        OpCode::Control(Control::Ping) => ClientFrame::Ping(payload.freeze()),
        OpCode::Control(Control::Close) => ClientFrame::Close(
            (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
        ),
        OpCode::Control(Control::Reserved(op)) | OpCode::Data(Data::Reserved(op)) => {
            return Err(WsError::Header(format!(
                "reserved opcode {op:#x} (RFC 6455 §5.2)"
            )))
        }
        _ => ClientFrame::Other,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame: FIN, `opcode`, masked with `mask` (RFC 6455 §5.2, §5.3).
    fn masked(opcode: u8, payload: &[u8], mask: [u8; 4]) -> BytesMut {
        assert!(payload.len() < 126);
        let mut out = BytesMut::new();
        out.put_u8(0x80 | opcode);
        out.put_u8(0x80 | payload.len() as u8);
        out.put_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn server_binary_frame_headers_use_the_shortest_length_form_and_no_mask() {
        // §5.2: 7-bit length up to 125, then 126 + 16 bits, then 127 + 64 bits.
        assert_eq!(&binary_frame_header(125)[..], [0x82, 125]);
        assert_eq!(&binary_frame_header(126)[..], [0x82, 126, 0, 126]);
        assert_eq!(&binary_frame_header(65_535)[..], [0x82, 126, 0xff, 0xff]);
        #[rustfmt::skip]
        assert_eq!(&binary_frame_header(65_536)[..], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn a_ping_is_unmasked_and_answered_with_a_pong_of_the_same_data() {
        let mut input = masked(0x9, b"hello", [1, 2, 3, 4]);
        input.extend_from_slice(&[0x81]); // the start of the next frame stays
        let frame = decode_client_frame(&mut input).unwrap().unwrap();
        assert_eq!(frame, ClientFrame::Ping(Bytes::from_static(b"hello")));
        assert_eq!(&input[..], [0x81]);
        assert_eq!(&pong(b"hello")[..], b"\x8a\x05hello");
    }

    #[test]
    fn a_close_gives_its_status_and_a_partial_frame_waits() {
        let full = masked(0x8, &1001u16.to_be_bytes(), [9, 8, 7, 6]);
        let mut partial = BytesMut::from(&full[..full.len() - 1]);
        assert_eq!(decode_client_frame(&mut partial), Ok(None));
        assert_eq!(partial.len(), full.len() - 1, "nothing consumed");
        let mut input = full;
        assert_eq!(
            decode_client_frame(&mut input),
            Ok(Some(ClientFrame::Close(Some(1001))))
        );
        assert_eq!(&close(CLOSE_NORMAL)[..], [0x88, 2, 0x03, 0xe8]);
    }

    #[test]
    fn unmasked_oversized_or_fragmented_control_frames_are_refused() {
        let mut unmasked = BytesMut::from(&[0x89u8, 0][..]);
        assert_eq!(decode_client_frame(&mut unmasked), Err(WsError::Unmasked));
        let mut fragmented_ping = masked(0x9, b"x", [0; 4]);
        fragmented_ping[0] &= 0x7f;
        assert_eq!(
            decode_client_frame(&mut fragmented_ping),
            Err(WsError::BadControl)
        );
        // A binary frame declaring 2^20 bytes (127 + 64-bit length), masked.
        let mut big = BytesMut::from(&[0x82u8, 0xff][..]);
        big.put_u64(1 << 20);
        big.put_slice(&[0; 4]);
        let err = decode_client_frame(&mut big).unwrap_err();
        assert_eq!(
            (err.clone(), err.close_code()),
            (WsError::TooBig(1 << 20), CLOSE_TOO_BIG)
        );
        let mut text = masked(0x1, b"hi", [5; 4]);
        assert_eq!(decode_client_frame(&mut text), Ok(Some(ClientFrame::Other)));
    }
}
