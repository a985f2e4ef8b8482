//! AMF3 (Adobe, "AMF 3 Specification", 2013) as carried by AMF0's avmplus-object marker
//! in RTMP (one value, with fresh reference tables) and on its own. Section numbers are
//! that document's. Externalizable objects of unknown classes are an error.

use bytes::{BufMut, BytesMut};

use super::{AmfError, Reader, MAX_DECODED_VALUES, MAX_NESTING_DEPTH};

/// Type markers (§3.1).
pub mod marker {
    pub const UNDEFINED: u8 = 0x00;
    pub const NULL: u8 = 0x01;
    pub const FALSE: u8 = 0x02;
    pub const TRUE: u8 = 0x03;
    pub const INTEGER: u8 = 0x04;
    pub const DOUBLE: u8 = 0x05;
    pub const STRING: u8 = 0x06;
    pub const XML_DOC: u8 = 0x07;
    pub const DATE: u8 = 0x08;
    pub const ARRAY: u8 = 0x09;
    pub const OBJECT: u8 = 0x0A;
    pub const XML: u8 = 0x0B;
    pub const BYTE_ARRAY: u8 = 0x0C;
    pub const VECTOR_INT: u8 = 0x0D;
    pub const VECTOR_UINT: u8 = 0x0E;
    pub const VECTOR_DOUBLE: u8 = 0x0F;
    pub const VECTOR_OBJECT: u8 = 0x10;
    pub const DICTIONARY: u8 = 0x11;
}

/// Largest and smallest integers of the 29-bit integer type (§3.6).
pub const INTEGER_MAX: i32 = (1 << 28) - 1;
pub const INTEGER_MIN: i32 = -(1 << 28);

/// An AMF3 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf3Value {
    Undefined,
    Null,
    Boolean(bool),
    /// §3.6: 29-bit signed.
    Integer(i32),
    Double(f64),
    String(String),
    /// §3.9 XMLDocument.
    XmlDocument(String),
    /// §3.10: ms since the epoch.
    Date(f64),
    /// §3.11: associative part, then dense part.
    Array {
        assoc: Vec<(String, Amf3Value)>,
        dense: Vec<Amf3Value>,
    },
    /// §3.12: class name ("" for anonymous) and properties, sealed ones first.
    Object {
        class_name: String,
        properties: Vec<(String, Amf3Value)>,
    },
    /// §3.13 XML (E4X).
    Xml(String),
    /// §3.14
    ByteArray(Vec<u8>),
    /// §3.15 Vector.<int>, with its fixed-length flag.
    VectorInt {
        fixed: bool,
        items: Vec<i32>,
    },
    /// §3.15 Vector.<uint>.
    VectorUint {
        fixed: bool,
        items: Vec<u32>,
    },
    /// §3.15 Vector.<Number>.
    VectorDouble {
        fixed: bool,
        items: Vec<f64>,
    },
    /// §3.15 Vector.<Object>, with the item type name ("" for `*`).
    VectorObject {
        fixed: bool,
        type_name: String,
        items: Vec<Amf3Value>,
    },
    /// §3.16 Dictionary, with its weak-keys flag.
    Dictionary {
        weak_keys: bool,
        entries: Vec<(Amf3Value, Amf3Value)>,
    },
}

impl Amf3Value {
    fn node_count(&self) -> usize {
        1 + match self {
            Self::Array { assoc, dense } => {
                assoc.iter().map(|(_, v)| v.node_count()).sum::<usize>()
                    + dense.iter().map(Self::node_count).sum::<usize>()
            }
            Self::Object { properties, .. } => properties.iter().map(|(_, v)| v.node_count()).sum(),
            Self::VectorInt { items, .. } => items.len(),
            Self::VectorUint { items, .. } => items.len(),
            Self::VectorDouble { items, .. } => items.len(),
            Self::VectorObject { items, .. } => items.iter().map(Self::node_count).sum(),
            Self::Dictionary { entries, .. } => entries
                .iter()
                .map(|(k, v)| k.node_count() + v.node_count())
                .sum(),
            _ => 0,
        }
    }
}

/// Class traits (§3.12).
#[derive(Debug, Clone)]
struct Traits {
    class_name: String,
    sealed: Vec<String>,
    dynamic: bool,
}

/// The reference tables of one AMF3 context (§2.2).
#[derive(Debug, Default)]
pub struct Decoder {
    strings: Vec<String>,
    objects: Vec<Option<(Amf3Value, usize)>>,
    traits: Vec<Traits>,
    produced: usize,
}

fn read_u29(r: &mut Reader<'_>) -> Result<u32, AmfError> {
    let mut value = 0u32;
    for i in 0..4 {
        let b = r.u8()?;
        if i == 3 {
            return Ok(value << 8 | u32::from(b));
        }
        value = value << 7 | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok(value)
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one value from `r`; `depth` is the nesting depth of the enclosing AMF0.
    pub(crate) fn decode(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
    ) -> Result<Amf3Value, AmfError> {
        self.value(r, depth)
    }

    fn bad_ref(index: usize, table: &'static str, len: usize) -> AmfError {
        AmfError::BadReference { index, table, len }
    }

    /// §3.8: U29S-ref or U29S-value + UTF-8; non-empty strings enter the table.
    fn string(&mut self, r: &mut Reader<'_>) -> Result<String, AmfError> {
        let header = read_u29(r)? as usize;
        if header & 1 == 0 {
            let index = header >> 1;
            return self
                .strings
                .get(index)
                .cloned()
                .ok_or_else(|| Self::bad_ref(index, "AMF3 string", self.strings.len()));
        }
        let s = r.utf8(header >> 1)?;
        if !s.is_empty() {
            self.strings.push(s.clone());
        }
        Ok(s)
    }

    /// Resolves an object-table reference; `Ok(None)` when the header is inline.
    fn object_ref(&mut self, header: usize) -> Result<Option<Amf3Value>, AmfError> {
        if header & 1 == 1 {
            return Ok(None);
        }
        let index = header >> 1;
        match self.objects.get(index) {
            Some(Some((v, nodes))) => {
                let (v, nodes) = (v.clone(), *nodes);
                self.count(nodes)?;
                Ok(Some(v))
            }
            Some(None) => Err(AmfError::Invalid(
                "AMF3 reference to an object that contains it",
            )),
            None => Err(Self::bad_ref(index, "AMF3 object", self.objects.len())),
        }
    }

    fn count(&mut self, n: usize) -> Result<(), AmfError> {
        self.produced += n;
        if self.produced > MAX_DECODED_VALUES {
            return Err(AmfError::TooManyValues);
        }
        Ok(())
    }

    fn complex(
        &mut self,
        depth: usize,
        body: impl FnOnce(&mut Self) -> Result<Amf3Value, AmfError>,
    ) -> Result<Amf3Value, AmfError> {
        if depth >= MAX_NESTING_DEPTH {
            return Err(AmfError::TooDeep);
        }
        let index = self.objects.len();
        self.objects.push(None);
        let value = body(self)?;
        self.objects[index] = Some((value.clone(), value.node_count()));
        Ok(value)
    }

    fn value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Amf3Value, AmfError> {
        self.count(1)?;
        let offset = r.pos;
        let m = r.u8()?;
        Ok(match m {
            marker::UNDEFINED => Amf3Value::Undefined,
            marker::NULL => Amf3Value::Null,
            marker::FALSE => Amf3Value::Boolean(false),
            marker::TRUE => Amf3Value::Boolean(true),
            // §3.6: sign-extend the 29-bit value.
            marker::INTEGER => Amf3Value::Integer(((read_u29(r)? << 3) as i32) >> 3),
            marker::DOUBLE => Amf3Value::Double(r.f64()?),
            marker::STRING => Amf3Value::String(self.string(r)?),
            marker::XML_DOC | marker::XML | marker::DATE | marker::BYTE_ARRAY => {
                let header = read_u29(r)? as usize;
                if let Some(v) = self.object_ref(header)? {
                    return Ok(v);
                }
                let value = match m {
                    marker::DATE => Amf3Value::Date(r.f64()?),
                    marker::BYTE_ARRAY => Amf3Value::ByteArray(r.bytes(header >> 1)?.to_vec()),
                    marker::XML => Amf3Value::Xml(r.utf8(header >> 1)?),
                    _ => Amf3Value::XmlDocument(r.utf8(header >> 1)?),
                };
                self.objects.push(Some((value.clone(), 1)));
                value
            }
            marker::ARRAY => {
                let header = read_u29(r)? as usize;
                if let Some(v) = self.object_ref(header)? {
                    return Ok(v);
                }
                self.complex(depth, |d| {
                    let mut assoc = Vec::new();
                    loop {
                        let key = d.string(r)?;
                        if key.is_empty() {
                            break;
                        }
                        assoc.push((key, d.value(r, depth + 1)?));
                    }
                    let count = header >> 1;
                    let mut dense = Vec::with_capacity(count.min(r.remaining()));
                    for _ in 0..count {
                        dense.push(d.value(r, depth + 1)?);
                    }
                    Ok(Amf3Value::Array { assoc, dense })
                })?
            }
            marker::OBJECT => {
                let header = read_u29(r)? as usize;
                if let Some(v) = self.object_ref(header)? {
                    return Ok(v);
                }
                self.complex(depth, |d| d.object(r, header, depth))?
            }
            marker::VECTOR_INT
            | marker::VECTOR_UINT
            | marker::VECTOR_DOUBLE
            | marker::VECTOR_OBJECT => {
                let header = read_u29(r)? as usize;
                if let Some(v) = self.object_ref(header)? {
                    return Ok(v);
                }
                let count = header >> 1;
                let fixed = r.u8()? != 0;
                self.complex(depth, |d| d.vector(r, m, count, fixed, depth))?
            }
            marker::DICTIONARY => {
                let header = read_u29(r)? as usize;
                if let Some(v) = self.object_ref(header)? {
                    return Ok(v);
                }
                let count = header >> 1;
                let weak_keys = r.u8()? != 0;
                self.complex(depth, |d| {
                    let mut entries = Vec::with_capacity(count.min(r.remaining()));
                    for _ in 0..count {
                        let k = d.value(r, depth + 1)?;
                        entries.push((k, d.value(r, depth + 1)?));
                    }
                    Ok(Amf3Value::Dictionary { weak_keys, entries })
                })?
            }
            _ => return Err(AmfError::UnknownMarker { marker: m, offset }),
        })
    }

    /// §3.15: the items of a vector (the count never sizes an allocation beyond the
    /// bytes present).
    fn vector(
        &mut self,
        r: &mut Reader<'_>,
        m: u8,
        count: usize,
        fixed: bool,
        depth: usize,
    ) -> Result<Amf3Value, AmfError> {
        let cap = count.min(r.remaining());
        self.count(count.min(MAX_DECODED_VALUES))?;
        Ok(match m {
            marker::VECTOR_INT => Amf3Value::VectorInt {
                fixed,
                items: (0..count)
                    .map(|_| r.u32().map(|v| v as i32))
                    .collect::<Result<Vec<_>, _>>()?,
            },
            marker::VECTOR_UINT => Amf3Value::VectorUint {
                fixed,
                items: (0..count).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?,
            },
            marker::VECTOR_DOUBLE => Amf3Value::VectorDouble {
                fixed,
                items: (0..count).map(|_| r.f64()).collect::<Result<Vec<_>, _>>()?,
            },
            _ => {
                let type_name = self.string(r)?;
                let mut items = Vec::with_capacity(cap);
                for _ in 0..count {
                    items.push(self.value(r, depth + 1)?);
                }
                Amf3Value::VectorObject {
                    fixed,
                    type_name,
                    items,
                }
            }
        })
    }

    /// §3.12: traits (inline or referenced), sealed values, then dynamic members.
    fn object(
        &mut self,
        r: &mut Reader<'_>,
        header: usize,
        depth: usize,
    ) -> Result<Amf3Value, AmfError> {
        let traits = if header & 0b10 == 0 {
            let index = header >> 2;
            self.traits
                .get(index)
                .cloned()
                .ok_or_else(|| Self::bad_ref(index, "AMF3 traits", self.traits.len()))?
        } else {
            if header & 0b100 != 0 {
                return Err(AmfError::Invalid(
                    "externalizable AMF3 object of an unknown class",
                ));
            }
            let dynamic = header & 0b1000 != 0;
            let count = header >> 4;
            let class_name = self.string(r)?;
            let mut sealed = Vec::with_capacity(count.min(r.remaining()));
            for _ in 0..count {
                sealed.push(self.string(r)?);
            }
            let t = Traits {
                class_name,
                sealed,
                dynamic,
            };
            self.traits.push(t.clone());
            t
        };
        let mut properties = Vec::with_capacity(traits.sealed.len());
        for name in &traits.sealed {
            properties.push((name.clone(), self.value(r, depth + 1)?));
        }
        if traits.dynamic {
            loop {
                let key = self.string(r)?;
                if key.is_empty() {
                    break;
                }
                properties.push((key, self.value(r, depth + 1)?));
            }
        }
        Ok(Amf3Value::Object {
            class_name: traits.class_name,
            properties,
        })
    }
}

/// §1.3.1 U29: 1 to 4 bytes, 7 bits each, the fourth 8 bits. `v` must be < 2^29.
fn put_u29(out: &mut BytesMut, v: u32) {
    let v = v & 0x1FFF_FFFF;
    if v < 0x80 {
        out.put_u8(v as u8);
    } else if v < 0x4000 {
        out.put_slice(&[(v >> 7 | 0x80) as u8, (v & 0x7F) as u8]);
    } else if v < 0x20_0000 {
        out.put_slice(&[
            (v >> 14 | 0x80) as u8,
            (v >> 7 & 0x7F | 0x80) as u8,
            (v & 0x7F) as u8,
        ]);
    } else {
        out.put_slice(&[
            (v >> 22 | 0x80) as u8,
            (v >> 15 & 0x7F | 0x80) as u8,
            (v >> 8 & 0x7F | 0x80) as u8,
            v as u8,
        ]);
    }
}

fn put_string(out: &mut BytesMut, s: &str) {
    put_u29(out, (s.len() as u32) << 1 | 1);
    out.put_slice(s.as_bytes());
}

/// Marker, U29 count (inline), and the fixed/weak-keys flag byte (§3.15, §3.16).
fn put_vector_header(out: &mut BytesMut, m: u8, count: usize, flag: bool) {
    out.put_u8(m);
    put_u29(out, (count as u32) << 1 | 1);
    out.put_u8(u8::from(flag));
}

/// Decodes every AMF3 value of a payload, one reference context for all; an empty
/// payload is no values (the JS `amf3Decode` refuses it).
pub fn decode_all(input: &[u8]) -> Result<Vec<Amf3Value>, AmfError> {
    let mut r = Reader::new(input);
    let mut d = Decoder::new();
    let mut out = Vec::new();
    while r.remaining() > 0 {
        out.push(d.decode(&mut r, 0)?);
    }
    Ok(out)
}

/// Decodes one AMF3 value; returns it and the bytes it took. Empty input is
/// [`AmfError::Empty`].
pub fn decode_one(input: &[u8]) -> Result<(Amf3Value, usize), AmfError> {
    if input.is_empty() {
        return Err(AmfError::Empty);
    }
    let mut r = Reader::new(input);
    let v = Decoder::new().decode(&mut r, 0)?;
    Ok((v, r.pos))
}

/// Encodes one value (no references; objects as traits written inline).
pub fn encode(value: &Amf3Value, out: &mut BytesMut) {
    match value {
        Amf3Value::Undefined => out.put_u8(marker::UNDEFINED),
        Amf3Value::Null => out.put_u8(marker::NULL),
        Amf3Value::Boolean(false) => out.put_u8(marker::FALSE),
        Amf3Value::Boolean(true) => out.put_u8(marker::TRUE),
        Amf3Value::Integer(i) if (INTEGER_MIN..=INTEGER_MAX).contains(i) => {
            out.put_u8(marker::INTEGER);
            put_u29(out, *i as u32);
        }
        Amf3Value::Integer(i) => {
            out.put_u8(marker::DOUBLE);
            out.put_f64(f64::from(*i));
        }
        Amf3Value::Double(d) => {
            out.put_u8(marker::DOUBLE);
            out.put_f64(*d);
        }
        Amf3Value::String(s) => {
            out.put_u8(marker::STRING);
            put_string(out, s);
        }
        Amf3Value::XmlDocument(s) | Amf3Value::Xml(s) => {
            let m = if matches!(value, Amf3Value::Xml(_)) {
                marker::XML
            } else {
                marker::XML_DOC
            };
            out.put_u8(m);
            put_string(out, s);
        }
        Amf3Value::Date(ms) => {
            out.put_u8(marker::DATE);
            put_u29(out, 1);
            out.put_f64(*ms);
        }
        Amf3Value::ByteArray(b) => {
            out.put_u8(marker::BYTE_ARRAY);
            put_u29(out, (b.len() as u32) << 1 | 1);
            out.put_slice(b);
        }
        Amf3Value::Array { assoc, dense } => {
            out.put_u8(marker::ARRAY);
            put_u29(out, (dense.len() as u32) << 1 | 1);
            for (k, v) in assoc {
                put_string(out, k);
                encode(v, out);
            }
            put_u29(out, 1);
            for v in dense {
                encode(v, out);
            }
        }
        Amf3Value::VectorInt { fixed, items } => {
            put_vector_header(out, marker::VECTOR_INT, items.len(), *fixed);
            items.iter().for_each(|v| out.put_i32(*v));
        }
        Amf3Value::VectorUint { fixed, items } => {
            put_vector_header(out, marker::VECTOR_UINT, items.len(), *fixed);
            items.iter().for_each(|v| out.put_u32(*v));
        }
        Amf3Value::VectorDouble { fixed, items } => {
            put_vector_header(out, marker::VECTOR_DOUBLE, items.len(), *fixed);
            items.iter().for_each(|v| out.put_f64(*v));
        }
        Amf3Value::VectorObject {
            fixed,
            type_name,
            items,
        } => {
            put_vector_header(out, marker::VECTOR_OBJECT, items.len(), *fixed);
            put_string(out, type_name);
            items.iter().for_each(|v| encode(v, out));
        }
        Amf3Value::Dictionary { weak_keys, entries } => {
            put_vector_header(out, marker::DICTIONARY, entries.len(), *weak_keys);
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        Amf3Value::Object {
            class_name,
            properties,
        } => {
            out.put_u8(marker::OBJECT);
            // §3.12: an empty name ends the dynamic members, so an object with one
            // (a sealed member may have it) is written with sealed traits instead.
            if properties.iter().any(|(k, _)| k.is_empty()) {
                // Inline traits, not dynamic, `len` sealed members: 0b0011 | len << 4.
                put_u29(out, (properties.len() as u32) << 4 | 0b0011);
                put_string(out, class_name);
                properties.iter().for_each(|(k, _)| put_string(out, k));
                properties.iter().for_each(|(_, v)| encode(v, out));
            } else {
                // Inline traits, no sealed members, dynamic: 0b1011.
                put_u29(out, 0b1011);
                put_string(out, class_name);
                for (k, v) in properties {
                    put_string(out, k);
                    encode(v, out);
                }
                put_u29(out, 1);
            }
        }
    }
}
