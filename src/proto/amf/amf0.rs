//! AMF0 (Adobe, "Action Message Format -- AMF 0", 2006). Section numbers below are
//! that document's.

use bytes::{BufMut, BytesMut};

use super::amf3::{self, Amf3Value};
use super::{AmfError, Reader, MAX_DECODED_VALUES, MAX_NESTING_DEPTH};

/// Type markers (§2.1).
pub mod marker {
    pub const NUMBER: u8 = 0x00;
    pub const BOOLEAN: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const OBJECT: u8 = 0x03;
    pub const MOVIECLIP: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const REFERENCE: u8 = 0x07;
    pub const ECMA_ARRAY: u8 = 0x08;
    pub const OBJECT_END: u8 = 0x09;
    pub const STRICT_ARRAY: u8 = 0x0A;
    pub const DATE: u8 = 0x0B;
    pub const LONG_STRING: u8 = 0x0C;
    pub const UNSUPPORTED: u8 = 0x0D;
    pub const RECORDSET: u8 = 0x0E;
    pub const XML_DOCUMENT: u8 = 0x0F;
    pub const TYPED_OBJECT: u8 = 0x10;
    pub const AVMPLUS_OBJECT: u8 = 0x11;
}

/// An AMF0 value. Objects keep their keys in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    /// §2.2
    Number(f64),
    /// §2.3
    Boolean(bool),
    /// §2.4 string, or §2.14 long string (the encoder picks by UTF-8 byte length).
    String(String),
    /// §2.5 anonymous object.
    Object(Vec<(String, Amf0Value)>),
    /// §2.7
    Null,
    /// §2.8
    Undefined,
    /// §2.10 ECMA (associative) array.
    EcmaArray(Vec<(String, Amf0Value)>),
    /// §2.12 strict (dense) array.
    StrictArray(Vec<Amf0Value>),
    /// §2.13: ms since the epoch, and a time zone (reserved, should be 0).
    Date { millis: f64, time_zone: i16 },
    /// §2.17
    XmlDocument(String),
    /// §2.18
    TypedObject {
        class_name: String,
        properties: Vec<(String, Amf0Value)>,
    },
    /// §2.15
    Unsupported,
    /// §3.1: one AMF3 value after the avmplus-object marker.
    Amf3(Amf3Value),
}

impl Amf0Value {
    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number value, if this is a number (or an AMF3 number).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Amf3(Amf3Value::Integer(i)) => Some(f64::from(*i)),
            Self::Amf3(Amf3Value::Double(d)) => Some(*d),
            _ => None,
        }
    }

    /// The property of an object-like value.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        match self {
            Self::Object(p) | Self::EcmaArray(p) | Self::TypedObject { properties: p, .. } => {
                p.iter().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Values in this tree (for the reference expansion budget).
    fn node_count(&self) -> usize {
        1 + match self {
            Self::Object(p) | Self::EcmaArray(p) | Self::TypedObject { properties: p, .. } => {
                p.iter().map(|(_, v)| v.node_count()).sum()
            }
            Self::StrictArray(items) => items.iter().map(Self::node_count).sum(),
            _ => 0,
        }
    }
}

/// Decodes AMF0 values from one payload, keeping the reference table (§2.9) across them.
#[derive(Debug)]
pub struct Decoder<'a> {
    reader: Reader<'a>,
    /// Complex values in order of appearance; `None` while still being decoded.
    references: Vec<Option<(Amf0Value, usize)>>,
    produced: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            reader: Reader::new(input),
            references: Vec::new(),
            produced: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.reader.pos
    }

    /// True when every byte has been consumed.
    pub fn is_done(&self) -> bool {
        self.reader.remaining() == 0
    }

    /// Decodes the next value.
    pub fn decode(&mut self) -> Result<Amf0Value, AmfError> {
        self.value(0)
    }

    fn count(&mut self, n: usize) -> Result<(), AmfError> {
        self.produced += n;
        if self.produced > MAX_DECODED_VALUES {
            return Err(AmfError::TooManyValues);
        }
        Ok(())
    }

    fn short_string(&mut self) -> Result<String, AmfError> {
        let len = usize::from(self.reader.u16()?);
        self.reader.utf8(len)
    }

    fn long_string(&mut self) -> Result<String, AmfError> {
        let len = self.reader.u32()? as usize;
        self.reader.utf8(len)
    }

    /// Key/value pairs up to the object-end marker (§2.5, §2.10, §2.18).
    fn properties(&mut self, depth: usize) -> Result<Vec<(String, Amf0Value)>, AmfError> {
        let mut props = Vec::new();
        loop {
            let key = self.short_string()?;
            if key.is_empty() && self.reader.peek() == Some(marker::OBJECT_END) {
                self.reader.u8()?;
                return Ok(props);
            }
            let value = self.value(depth + 1)?;
            props.push((key, value));
        }
    }

    /// Decodes a complex value, registering it in the reference table first.
    fn complex(
        &mut self,
        depth: usize,
        body: impl FnOnce(&mut Self) -> Result<Amf0Value, AmfError>,
    ) -> Result<Amf0Value, AmfError> {
        if depth >= MAX_NESTING_DEPTH {
            return Err(AmfError::TooDeep);
        }
        let index = self.references.len();
        self.references.push(None);
        let value = body(self)?;
        self.references[index] = Some((value.clone(), value.node_count()));
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, AmfError> {
        self.count(1)?;
        let offset = self.reader.pos;
        let m = self.reader.u8()?;
        Ok(match m {
            marker::NUMBER => Amf0Value::Number(self.reader.f64()?),
            marker::BOOLEAN => Amf0Value::Boolean(self.reader.u8()? != 0),
            marker::STRING => Amf0Value::String(self.short_string()?),
            marker::LONG_STRING => Amf0Value::String(self.long_string()?),
            marker::XML_DOCUMENT => Amf0Value::XmlDocument(self.long_string()?),
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::UNSUPPORTED => Amf0Value::Unsupported,
            marker::DATE => {
                let millis = self.reader.f64()?;
                let time_zone = self.reader.u16()? as i16;
                Amf0Value::Date { millis, time_zone }
            }
            marker::OBJECT => {
                self.complex(depth, |d| Ok(Amf0Value::Object(d.properties(depth)?)))?
            }
            marker::TYPED_OBJECT => self.complex(depth, |d| {
                let class_name = d.short_string()?;
                let properties = d.properties(depth)?;
                Ok(Amf0Value::TypedObject {
                    class_name,
                    properties,
                })
            })?,
            // §2.10: the count is only a hint; the object-end marker ends the array.
            marker::ECMA_ARRAY => self.complex(depth, |d| {
                d.reader.u32()?;
                Ok(Amf0Value::EcmaArray(d.properties(depth)?))
            })?,
            marker::STRICT_ARRAY => self.complex(depth, |d| {
                let count = d.reader.u32()? as usize;
                // Never trust the count for allocation: each item takes at least a byte.
                let mut items = Vec::with_capacity(count.min(d.reader.remaining()));
                for _ in 0..count {
                    items.push(d.value(depth + 1)?);
                }
                Ok(Amf0Value::StrictArray(items))
            })?,
            marker::REFERENCE => {
                let index = usize::from(self.reader.u16()?);
                let len = self.references.len();
                match self.references.get(index) {
                    Some(Some((value, nodes))) => {
                        let (value, nodes) = (value.clone(), *nodes);
                        self.count(nodes)?;
                        value
                    }
                    Some(None) => {
                        return Err(AmfError::Invalid("reference to an object that contains it"))
                    }
                    None => {
                        return Err(AmfError::BadReference {
                            index,
                            table: "AMF0 object",
                            len,
                        })
                    }
                }
            }
            marker::AVMPLUS_OBJECT => {
                let mut decoder = amf3::Decoder::new();
                let value = decoder.decode(&mut self.reader, depth)?;
                Amf0Value::Amf3(value)
            }
            _ => return Err(AmfError::UnknownMarker { marker: m, offset }),
        })
    }
}

/// Decodes one value; returns it and the bytes it took. Empty input is
/// [`AmfError::Empty`].
pub fn decode_one(input: &[u8]) -> Result<(Amf0Value, usize), AmfError> {
    if input.is_empty() {
        return Err(AmfError::Empty);
    }
    let mut d = Decoder::new(input);
    let v = d.decode()?;
    Ok((v, d.position()))
}

/// Decodes every value of a payload. An empty payload is no values: a shared object's
/// message event or a data message may carry none (the JS `amf0Decode` refuses it).
pub fn decode_all(input: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    let mut d = Decoder::new(input);
    let mut out = Vec::new();
    while !d.is_done() {
        out.push(d.decode()?);
    }
    Ok(out)
}

fn put_key(out: &mut BytesMut, key: &str) {
    // Keys are UTF-8 strings of at most 65535 bytes (§2.4); longer keys are cut at a
    // character boundary rather than written with a wrong length.
    let mut end = key.len().min(u16::MAX as usize);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(end as u16);
    out.put_slice(&key.as_bytes()[..end]);
}

fn put_properties(out: &mut BytesMut, props: &[(String, Amf0Value)]) {
    for (k, v) in props {
        put_key(out, k);
        encode(v, out);
    }
    out.put_slice(&[0x00, 0x00, marker::OBJECT_END]);
}

/// Encodes one value (never with references).
pub fn encode(value: &Amf0Value, out: &mut BytesMut) {
    match value {
        Amf0Value::Number(n) => {
            out.put_u8(marker::NUMBER);
            out.put_f64(*n);
        }
        Amf0Value::Boolean(b) => out.put_slice(&[marker::BOOLEAN, u8::from(*b)]),
        Amf0Value::String(s) if s.len() <= u16::MAX as usize => {
            out.put_u8(marker::STRING);
            out.put_u16(s.len() as u16);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::String(s) => {
            out.put_u8(marker::LONG_STRING);
            out.put_u32(s.len() as u32);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::XmlDocument(s) => {
            out.put_u8(marker::XML_DOCUMENT);
            out.put_u32(s.len() as u32);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::Object(props) => {
            out.put_u8(marker::OBJECT);
            put_properties(out, props);
        }
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => {
            out.put_u8(marker::TYPED_OBJECT);
            put_key(out, class_name);
            put_properties(out, properties);
        }
        Amf0Value::EcmaArray(props) => {
            out.put_u8(marker::ECMA_ARRAY);
            out.put_u32(props.len() as u32);
            put_properties(out, props);
        }
        Amf0Value::StrictArray(items) => {
            out.put_u8(marker::STRICT_ARRAY);
            out.put_u32(items.len() as u32);
            for item in items {
                encode(item, out);
            }
        }
        Amf0Value::Date { millis, time_zone } => {
            out.put_u8(marker::DATE);
            out.put_f64(*millis);
            out.put_i16(*time_zone);
        }
        Amf0Value::Null => out.put_u8(marker::NULL),
        Amf0Value::Undefined => out.put_u8(marker::UNDEFINED),
        Amf0Value::Unsupported => out.put_u8(marker::UNSUPPORTED),
        Amf0Value::Amf3(v) => {
            out.put_u8(marker::AVMPLUS_OBJECT);
            amf3::encode(v, out);
        }
    }
}

/// Encodes values one after another.
pub fn encode_all(values: &[Amf0Value], out: &mut BytesMut) {
    for v in values {
        encode(v, out);
    }
}
