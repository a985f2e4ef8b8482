//! Shared object messages (RTMP 1.0 §7.1.3): types 19 (AMF0) and 16 (AMF3, a leading
//! format byte, then the same layout). A header (name, version, flags) and a list of
//! events, each a type byte, a 4-byte length and its data.

use bytes::{BufMut, BytesMut};

use super::amf::amf0::{self, Amf0Value};
use super::amf::AmfError;

/// Event types (§7.1.3).
pub mod event {
    pub const USE: u8 = 1;
    pub const RELEASE: u8 = 2;
    pub const REQUEST_CHANGE: u8 = 3;
    pub const CHANGE: u8 = 4;
    pub const SUCCESS: u8 = 5;
    pub const SEND_MESSAGE: u8 = 6;
    pub const STATUS: u8 = 7;
    pub const CLEAR: u8 = 8;
    pub const REMOVE: u8 = 9;
    pub const REQUEST_REMOVE: u8 = 10;
    pub const USE_SUCCESS: u8 = 11;
}

/// The name of an event type.
pub fn event_name(t: u8) -> &'static str {
    match t {
        event::USE => "use",
        event::RELEASE => "release",
        event::REQUEST_CHANGE => "requestChange",
        event::CHANGE => "change",
        event::SUCCESS => "success",
        event::SEND_MESSAGE => "sendMessage",
        event::STATUS => "status",
        event::CLEAR => "clear",
        event::REMOVE => "remove",
        event::REQUEST_REMOVE => "requestRemove",
        event::USE_SUCCESS => "useSuccess",
        _ => "unknown",
    }
}

/// One event. `pairs` holds the name/value pairs of change, requestChange and success
/// events; `values` the AMF values of sendMessage and status events; `name` the slot
/// name of remove, requestRemove and success events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SoEvent {
    pub event_type: u8,
    pub name: Option<String>,
    pub pairs: Vec<(String, Amf0Value)>,
    pub values: Vec<Amf0Value>,
}

/// A shared object message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SharedObjectMessage {
    pub name: String,
    pub version: u32,
    /// The 8 flag bytes; the first 4 are 2 for a persistent object.
    pub persistent: bool,
    pub events: Vec<SoEvent>,
}

fn short_string(b: &[u8], pos: &mut usize) -> Result<String, AmfError> {
    let len_bytes = b.get(*pos..*pos + 2).ok_or(AmfError::Truncated {
        offset: *pos,
        needed: 2,
    })?;
    let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let s = b.get(*pos + 2..*pos + 2 + len).ok_or(AmfError::Truncated {
        offset: *pos + 2,
        needed: len,
    })?;
    let out =
        String::from_utf8(s.to_vec()).map_err(|_| AmfError::InvalidUtf8 { offset: *pos + 2 })?;
    *pos += 2 + len;
    Ok(out)
}

fn u32_at(b: &[u8], pos: usize) -> Result<u32, AmfError> {
    let s = b.get(pos..pos + 4).ok_or(AmfError::Truncated {
        offset: pos,
        needed: 4,
    })?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes a shared object message of type 19, or of type 16 after its format byte.
pub fn decode_typed(type_id: u8, payload: &[u8]) -> Result<SharedObjectMessage, AmfError> {
    if type_id == super::message::type_id::AMF3_SHARED_OBJECT {
        decode(payload.get(1..).unwrap_or_default())
    } else {
        decode(payload)
    }
}

/// Decodes a type-19 payload (for type 16, skip the format byte first).
pub fn decode(payload: &[u8]) -> Result<SharedObjectMessage, AmfError> {
    let mut pos = 0;
    let name = short_string(payload, &mut pos)?;
    let version = u32_at(payload, pos)?;
    let persistent = u32_at(payload, pos + 4)? == 2;
    u32_at(payload, pos + 8)?;
    pos += 12;
    let mut events = Vec::new();
    while pos < payload.len() {
        let event_type = payload[pos];
        let len = u32_at(payload, pos + 1)? as usize;
        let start = pos + 5;
        let data = payload
            .get(start..start.saturating_add(len))
            .ok_or(AmfError::Truncated {
                offset: start,
                needed: len,
            })?;
        let mut e = SoEvent {
            event_type,
            ..SoEvent::default()
        };
        match event_type {
            event::CHANGE | event::REQUEST_CHANGE | event::SUCCESS if !data.is_empty() => {
                let mut p = 0;
                while p < data.len() {
                    let key = short_string(data, &mut p)?;
                    if event_type == event::SUCCESS {
                        e.name = Some(key);
                        continue;
                    }
                    let (value, used) = amf0::decode_one(&data[p..])?;
                    p += used;
                    e.pairs.push((key, value));
                }
            }
            event::REMOVE | event::REQUEST_REMOVE => {
                let mut p = 0;
                e.name = Some(short_string(data, &mut p)?);
            }
            event::SEND_MESSAGE | event::STATUS => e.values = amf0::decode_all(data)?,
            _ => {}
        }
        events.push(e);
        pos = start + len;
    }
    Ok(SharedObjectMessage {
        name,
        version,
        persistent,
        events,
    })
}

fn put_short_string(out: &mut BytesMut, s: &str) {
    out.put_u16(s.len() as u16);
    out.put_slice(s.as_bytes());
}

/// Encodes a type-19 payload.
pub fn encode(msg: &SharedObjectMessage, out: &mut BytesMut) {
    put_short_string(out, &msg.name);
    out.put_u32(msg.version);
    out.put_u32(if msg.persistent { 2 } else { 0 });
    out.put_u32(0);
    for e in &msg.events {
        let mut data = BytesMut::new();
        if let Some(name) = &e.name {
            put_short_string(&mut data, name);
        }
        for (k, v) in &e.pairs {
            put_short_string(&mut data, k);
            amf0::encode(v, &mut data);
        }
        amf0::encode_all(&e.values, &mut data);
        out.put_u8(e.event_type);
        out.put_u32(data.len() as u32);
        out.put_slice(&data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_and_a_change_event_have_the_layout_of_section_7_1_3() {
        #[rustfmt::skip]
        let bytes = [
            0x00, 0x02, b's', b'o',          // name "so"
            0, 0, 0, 3,                      // version 3
            0, 0, 0, 2, 0, 0, 0, 0,          // flags: persistent
            1, 0, 0, 0, 0,                   // Use, no data
            4, 0, 0, 0, 12,                  // Change, 12 bytes:
            0x00, 0x01, b'x', 0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, // x = 1.0
        ];
        let msg = decode(&bytes).unwrap();
        assert_eq!(
            (msg.name.as_str(), msg.version, msg.persistent),
            ("so", 3, true)
        );
        assert_eq!(msg.events[0].event_type, event::USE);
        assert_eq!(
            msg.events[1].pairs,
            vec![("x".to_string(), Amf0Value::Number(1.0))]
        );
        let mut out = BytesMut::new();
        encode(&msg, &mut out);
        assert_eq!(&out[..], &bytes);
        for cut in 0..bytes.len() {
            if cut != 16 && cut != 21 {
                assert!(decode(&bytes[..cut]).is_err(), "cut {cut}");
            }
        }
    }

    #[test]
    fn remove_status_and_send_message_events_round_trip() {
        let msg = SharedObjectMessage {
            name: "chat".into(),
            version: 1,
            persistent: false,
            events: vec![
                SoEvent {
                    event_type: event::REMOVE,
                    name: Some("old".into()),
                    ..SoEvent::default()
                },
                SoEvent {
                    event_type: event::STATUS,
                    values: vec![
                        Amf0Value::String("full".into()),
                        Amf0Value::String("error".into()),
                    ],
                    ..SoEvent::default()
                },
                SoEvent {
                    event_type: event::SEND_MESSAGE,
                    values: vec![Amf0Value::String("hi".into())],
                    ..SoEvent::default()
                },
                SoEvent {
                    event_type: event::CLEAR,
                    ..SoEvent::default()
                },
            ],
        };
        let mut out = BytesMut::new();
        encode(&msg, &mut out);
        assert_eq!(decode(&out).unwrap(), msg);
    }
}
