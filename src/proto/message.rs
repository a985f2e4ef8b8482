//! Message types (RTMP 1.0 §5.4 protocol control, §6.2 user control, §7.1 the rest)
//! and the fixed layouts of the control messages.

use bytes::{BufMut, Bytes, BytesMut};

use super::ProtoError;

/// Message type ids (§5.4, §7.1).
pub mod type_id {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const AMF3_DATA: u8 = 15;
    pub const AMF3_SHARED_OBJECT: u8 = 16;
    pub const AMF3_COMMAND: u8 = 17;
    pub const AMF0_DATA: u8 = 18;
    pub const AMF0_SHARED_OBJECT: u8 = 19;
    pub const AMF0_COMMAND: u8 = 20;
    pub const AGGREGATE: u8 = 22;

    /// Protocol control messages (§5.4) and User Control (§6.2): types 1-6.
    pub const fn is_control(type_id: u8) -> bool {
        matches!(type_id, SET_CHUNK_SIZE..=SET_PEER_BANDWIDTH)
    }
}

/// The chunk stream protocol control messages go on (§5.4).
pub const CONTROL_CSID: u32 = 2;

/// The handler key node-rtmpapi uses for a message type (`chunk.msgTypeText`).
pub fn type_text(type_id: u8) -> &'static str {
    match type_id {
        1 => "setChunkSize",
        2 => "abort",
        3 => "ack",
        4 => "userControl",
        5 => "setWindowSize",
        6 => "setPeerBw",
        8 => "audio",
        9 => "video",
        15 => "amf3meta",
        16 => "amf3sobject",
        17 => "amf3cmd",
        18 => "amf0meta",
        19 => "amf0sobject",
        20 => "amf0cmd",
        22 => "agg",
        _ => "unknown",
    }
}

/// User control event types (§7.1.7).
pub mod user_control {
    pub const STREAM_BEGIN: u16 = 0;
    pub const STREAM_EOF: u16 = 1;
    pub const STREAM_DRY: u16 = 2;
    pub const SET_BUFFER_LENGTH: u16 = 3;
    pub const STREAM_IS_RECORDED: u16 = 4;
    pub const PING_REQUEST: u16 = 6;
    pub const PING_RESPONSE: u16 = 7;
}

/// A decoded protocol control or user control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMessage {
    /// §5.4.1
    SetChunkSize(u32),
    /// §5.4.2: the value is a chunk stream id.
    Abort(u32),
    /// §5.4.3: bytes received so far (wrapping u32).
    Acknowledgement(u32),
    /// §6.2 / §7.1.7: event type and its first 4-byte field (stream id or timestamp),
    /// plus the buffer length for SetBufferLength.
    UserControl {
        event_type: u16,
        value: u32,
        buffer_ms: u32,
    },
    /// §5.4.4
    WindowAckSize(u32),
    /// §5.4.5: window size and limit type (0 hard, 1 soft, 2 dynamic).
    SetPeerBandwidth { size: u32, limit_type: u8 },
}

fn be_u32(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

impl ControlMessage {
    /// Decodes a message of types 1-6; `None` for other types.
    pub fn decode(type_id: u8, p: &[u8]) -> Result<Option<Self>, ProtoError> {
        let need = |what: &'static str, len: usize| {
            if p.len() < len {
                Err(ProtoError::ShortControlMessage { what, len: p.len() })
            } else {
                Ok(())
            }
        };
        Ok(Some(match type_id {
            type_id::SET_CHUNK_SIZE => {
                need("Set Chunk Size", 4)?;
                Self::SetChunkSize(be_u32(p, 0) & 0x7FFF_FFFF)
            }
            type_id::ABORT => {
                need("Abort", 4)?;
                Self::Abort(be_u32(p, 0))
            }
            type_id::ACKNOWLEDGEMENT => {
                need("Acknowledgement", 4)?;
                Self::Acknowledgement(be_u32(p, 0))
            }
            type_id::USER_CONTROL => {
                need("User Control", 2)?;
                let event_type = u16::from_be_bytes([p[0], p[1]]);
                let value = if p.len() >= 6 { be_u32(p, 2) } else { 0 };
                let buffer_ms = if p.len() >= 10 { be_u32(p, 6) } else { 0 };
                Self::UserControl {
                    event_type,
                    value,
                    buffer_ms,
                }
            }
            type_id::WINDOW_ACK_SIZE => {
                need("Window Acknowledgement Size", 4)?;
                Self::WindowAckSize(be_u32(p, 0))
            }
            type_id::SET_PEER_BANDWIDTH => {
                need("Set Peer Bandwidth", 5)?;
                Self::SetPeerBandwidth {
                    size: be_u32(p, 0),
                    limit_type: p[4],
                }
            }
            _ => return Ok(None),
        }))
    }

    /// The message type id.
    pub fn type_id(&self) -> u8 {
        match self {
            Self::SetChunkSize(_) => type_id::SET_CHUNK_SIZE,
            Self::Abort(_) => type_id::ABORT,
            Self::Acknowledgement(_) => type_id::ACKNOWLEDGEMENT,
            Self::UserControl { .. } => type_id::USER_CONTROL,
            Self::WindowAckSize(_) => type_id::WINDOW_ACK_SIZE,
            Self::SetPeerBandwidth { .. } => type_id::SET_PEER_BANDWIDTH,
        }
    }

    /// Encodes the payload.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(10);
        match *self {
            Self::SetChunkSize(v) => b.put_u32(v & 0x7FFF_FFFF),
            Self::Abort(v) | Self::Acknowledgement(v) | Self::WindowAckSize(v) => b.put_u32(v),
            Self::UserControl {
                event_type,
                value,
                buffer_ms,
            } => {
                b.put_u16(event_type);
                b.put_u32(value);
                if event_type == user_control::SET_BUFFER_LENGTH {
                    b.put_u32(buffer_ms);
                }
            }
            Self::SetPeerBandwidth { size, limit_type } => {
                b.put_u32(size);
                b.put_u8(limit_type);
            }
        }
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_have_the_layouts_of_section_5_4_and_7_1_7() {
        #[rustfmt::skip]
        let cases: &[(ControlMessage, &[u8])] = &[
            (ControlMessage::SetChunkSize(4096), &[0x00, 0x00, 0x10, 0x00]),
            (ControlMessage::Abort(4), &[0, 0, 0, 4]),
            (ControlMessage::Acknowledgement(0xFFFF_FFFF), &[0xFF; 4]),
            (ControlMessage::WindowAckSize(2_500_000), &[0x00, 0x26, 0x25, 0xA0]),
            (ControlMessage::SetPeerBandwidth { size: 2_500_000, limit_type: 2 },
                &[0x00, 0x26, 0x25, 0xA0, 0x02]),
            // StreamBegin, stream 1
            (ControlMessage::UserControl { event_type: 0, value: 1, buffer_ms: 0 },
                &[0x00, 0x00, 0x00, 0x00, 0x00, 0x01]),
            // SetBufferLength, stream 1, 3000 ms
            (ControlMessage::UserControl { event_type: 3, value: 1, buffer_ms: 3000 },
                &[0x00, 0x03, 0, 0, 0, 1, 0x00, 0x00, 0x0B, 0xB8]),
            // PingRequest with timestamp 0x01020304
            (ControlMessage::UserControl { event_type: 6, value: 0x0102_0304, buffer_ms: 0 },
                &[0x00, 0x06, 0x01, 0x02, 0x03, 0x04]),
        ];
        for (msg, bytes) in cases {
            assert_eq!(&msg.encode()[..], *bytes, "{msg:?}");
            assert_eq!(
                ControlMessage::decode(msg.type_id(), bytes).unwrap(),
                Some(*msg)
            );
        }
    }

    #[test]
    fn short_control_payloads_are_errors() {
        for t in 1..=6u8 {
            assert!(ControlMessage::decode(t, &[0]).is_err(), "type {t}");
        }
        assert_eq!(ControlMessage::decode(8, &[]).unwrap(), None);
    }
}
