//! AMF (Action Message Format): AMF0 (Adobe, "AMF 0 Specification", 2006) and the AMF3
//! values that AMF0's avmplus switch marker carries (Adobe, "AMF 3 Specification").

pub mod amf0;
pub mod amf3;

pub use amf0::Amf0Value;
pub use amf3::Amf3Value;

/// Most nested objects/arrays a decoder accepts: deeper input is an attack.
pub const MAX_NESTING_DEPTH: usize = 128;

/// Most values a decoder may produce from one payload, counting each copy a reference
/// expands to: a chain of references cannot blow memory up.
pub const MAX_DECODED_VALUES: usize = 1_000_000;

/// Why AMF bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmfError {
    /// No bytes at all where a value was expected.
    #[error("empty input: no AMF value to decode")]
    Empty,
    #[error("truncated input: {needed} more bytes needed at offset {offset}")]
    Truncated { offset: usize, needed: usize },
    #[error("unknown or unsupported marker 0x{marker:02x} at offset {offset}")]
    UnknownMarker { marker: u8, offset: usize },
    #[error("reference {index} out of range ({table} table holds {len})")]
    BadReference {
        index: usize,
        table: &'static str,
        len: usize,
    },
    #[error("nesting deeper than {MAX_NESTING_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_DECODED_VALUES} values (reference expansion)")]
    TooManyValues,
    #[error("invalid UTF-8 in a string at offset {offset}")]
    InvalidUtf8 { offset: usize },
    #[error("{0}")]
    Invalid(&'static str),
}

/// A codec's "decode one value" function: the value and the bytes it took.
pub type DecodeOne<V> = fn(&[u8]) -> Result<(V, usize), AmfError>;

/// A bounds-checked reader over one AMF payload.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        if self.remaining() < n {
            return Err(AmfError::Truncated {
                offset: self.pos,
                needed: n - self.remaining(),
            });
        }
        let out = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub(crate) fn u16(&mut self) -> Result<u16, AmfError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, AmfError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, AmfError> {
        let b = self.bytes(8)?;
        Ok(f64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    pub(crate) fn utf8(&mut self, n: usize) -> Result<String, AmfError> {
        let offset = self.pos;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| AmfError::InvalidUtf8 { offset })
    }
}

#[cfg(test)]
mod tests;
