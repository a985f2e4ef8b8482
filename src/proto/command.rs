//! Command messages (RTMP 1.0 §7.1.1, §7.2) and data messages (§7.1.2), with the field
//! names node-rtmpapi gave each command's values.

use bytes::{BufMut, BytesMut};

use super::amf::amf0::{self, Amf0Value};
use super::amf::AmfError;
use super::message::type_id;

/// A command: its name and its values, named per [`field_names`].
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub fields: Vec<(&'static str, Amf0Value)>,
}

/// Field names of the values after the command name (node-rtmpapi's table), or
/// `None` for commands it did not know.
pub fn field_names(cmd: &str) -> Option<&'static [&'static str]> {
    Some(match cmd {
        "_result" | "onStatus" | "onFCPublish" => &["transId", "cmdObj", "info"],
        "_error" => &["transId", "cmdObj", "info", "streamId"],
        "releaseStream" | "getStreamLength" | "getMovLen" | "FCPublish" | "deleteStream" => {
            &["transId", "cmdObj", "streamId"]
        }
        "connect" | "call" => &["transId", "cmdObj", "args"],
        "createStream" | "close" => &["transId", "cmdObj"],
        "play" => &[
            "transId",
            "cmdObj",
            "streamName",
            "start",
            "duration",
            "reset",
        ],
        "play2" => &["transId", "cmdObj", "params"],
        "receiveAudio" | "receiveVideo" => &["transId", "cmdObj", "bool"],
        "publish" => &["transId", "cmdObj", "name", "type"],
        "seek" => &["transId", "cmdObj", "ms"],
        "pause" => &["transId", "cmdObj", "pause", "ms"],
        _ => return None,
    })
}

/// Fields every unknown command gets before its `args`.
const UNKNOWN_FIELDS: &[&str] = &["transId", "cmdObj"];

impl Command {
    /// Names the values following the command name. Unknown commands keep every value
    /// after `cmdObj` in `args`; surplus values of known commands go to `extra`.
    pub fn from_values(name: String, values: Vec<Amf0Value>) -> Self {
        let (names, rest_name) = match field_names(&name) {
            Some(names) => (names, "extra"),
            None => (UNKNOWN_FIELDS, "args"),
        };
        let mut values = values.into_iter();
        let mut fields: Vec<(&'static str, Amf0Value)> = names
            .iter()
            .zip(values.by_ref())
            .map(|(n, v)| (*n, v))
            .collect();
        let rest: Vec<Amf0Value> = values.collect();
        if !rest.is_empty() || (rest_name == "args" && fields.len() == names.len()) {
            fields.push((rest_name, Amf0Value::StrictArray(rest)));
        }
        Self { name, fields }
    }

    /// The value of a field.
    pub fn get(&self, field: &str) -> Option<&Amf0Value> {
        self.fields
            .iter()
            .find(|(n, _)| *n == field)
            .map(|(_, v)| v)
    }

    /// The values to encode after the name: the table's fields in order, then the
    /// elements of `args` (unknown commands) or `extra`.
    pub fn values(&self) -> Vec<&Amf0Value> {
        let names = field_names(&self.name).unwrap_or(UNKNOWN_FIELDS);
        let mut out: Vec<&Amf0Value> = names.iter().filter_map(|n| self.get(n)).collect();
        let rest = if field_names(&self.name).is_some() {
            "extra"
        } else {
            "args"
        };
        if let Some(Amf0Value::StrictArray(items)) = self.get(rest) {
            out.extend(items);
        }
        out
    }
}

/// Decodes an AMF0 command message (type 20).
pub fn decode_amf0_command(payload: &[u8]) -> Result<Command, AmfError> {
    let mut values = amf0::decode_all(payload)?.into_iter();
    let name = match values.next() {
        Some(Amf0Value::String(s)) => s,
        _ => {
            return Err(AmfError::Invalid(
                "a command starts with its name as a string",
            ))
        }
    };
    Ok(Command::from_values(name, values.collect()))
}

/// Decodes an AMF3 command message (type 17): a format byte (0), then AMF0 values in
/// which single values may switch to AMF3 (marker 0x11).
pub fn decode_amf3_command(payload: &[u8]) -> Result<Command, AmfError> {
    decode_amf0_command(skip_format_byte(payload)?)
}

/// Encodes an AMF0 command message.
pub fn encode_amf0_command(cmd: &Command, out: &mut BytesMut) {
    amf0::encode(&Amf0Value::String(cmd.name.clone()), out);
    for v in cmd.values() {
        amf0::encode(v, out);
    }
}

/// Encodes an AMF3 command message (type 17): format byte 0, then AMF0.
pub fn encode_amf3_command(cmd: &Command, out: &mut BytesMut) {
    out.put_u8(0);
    encode_amf0_command(cmd, out);
}

/// Decodes an AMF0 data message (type 18), e.g. `@setDataFrame`, `onMetaData`, {...}.
pub fn decode_data(payload: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    amf0::decode_all(payload)
}

/// Decodes an AMF3 data message (type 15): a format byte, then AMF0 with switches.
pub fn decode_amf3_data(payload: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    decode_data(skip_format_byte(payload)?)
}

fn skip_format_byte(payload: &[u8]) -> Result<&[u8], AmfError> {
    payload.get(1..).ok_or(AmfError::Truncated {
        offset: 0,
        needed: 1,
    })
}

/// Whether a command message of type `type_id` (20 AMF0, 17 AMF3 with its leading
/// format byte) is named one of `names`, read from the first bytes of its payload
/// (`head`, at least the name's AMF0 string) without decoding it: the name is an AMF0
/// string, marker 0x02, a u16 big-endian length, the UTF-8 (AMF0 §2.4; RTMP 1.0 §7.1.1).
pub fn is_command_named(type_id: u8, head: &[u8], names: &[&str]) -> bool {
    let body = match type_id {
        type_id::AMF0_COMMAND => head,
        type_id::AMF3_COMMAND => head.get(1..).unwrap_or_default(),
        _ => return false,
    };
    let [0x02, hi, lo, rest @ ..] = body else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    names
        .iter()
        .any(|name| name.len() == len && rest.get(..len) == Some(name.as_bytes()))
}

#[cfg(test)]
mod name_tests {
    use super::*;

    fn encoded(name: &str, amf3: bool) -> Vec<u8> {
        let cmd = Command::from_values(name.into(), vec![Amf0Value::Number(0.0)]);
        let mut out = BytesMut::new();
        if amf3 {
            encode_amf3_command(&cmd, &mut out);
        } else {
            encode_amf0_command(&cmd, &mut out);
        }
        out.to_vec()
    }

    #[test]
    fn a_command_is_known_by_its_name_in_either_encoding() {
        let names = ["publish", "play"];
        assert!(is_command_named(20, &encoded("publish", false), &names));
        assert!(is_command_named(17, &encoded("play", true), &names));
        assert!(!is_command_named(20, &encoded("play2", false), &names));
        assert!(!is_command_named(20, &encoded("pla", false), &names));
        assert!(!is_command_named(20, &encoded("connect", false), &names));
        // Not a command type; a truncated or non-string head.
        assert!(!is_command_named(18, &encoded("play", false), &names));
        assert!(!is_command_named(20, &[0x02, 0x00], &names));
        assert!(!is_command_named(20, &[0x00, 0x00, 0x04], &names));
        assert!(!is_command_named(17, &[], &names));
    }
}
