//! A message payload held as the chunk payloads it arrived in (RTMP 1.0 §5.3.1: a
//! message is split into chunks with headers between them), so that reassembling a
//! message copies nothing: each piece is a slice of the buffer it was read into.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// The bytes of one message: one buffer, or several pieces in order.
#[derive(Clone, Default)]
pub struct Payload {
    parts: Parts,
    len: usize,
}

#[derive(Clone)]
enum Parts {
    One(Bytes),
    Many(Arc<[Bytes]>),
}

impl Default for Parts {
    fn default() -> Self {
        Self::One(Bytes::new())
    }
}

impl Payload {
    /// A payload of the given pieces, in order; empty pieces are left out.
    pub fn from_parts(mut parts: Vec<Bytes>) -> Self {
        parts.retain(|p| !p.is_empty());
        let len = parts.iter().map(Bytes::len).sum();
        match parts.len() {
            0 => Self::default(),
            1 => Self::from(parts.swap_remove(0)),
            _ => Self {
                parts: Parts::Many(parts.into()),
                len,
            },
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order (one for a payload that arrived in one piece).
    pub fn parts(&self) -> &[Bytes] {
        match &self.parts {
            Parts::One(b) => std::slice::from_ref(b),
            Parts::Many(parts) => parts,
        }
    }

    /// The bytes as one buffer: shared when the payload is one piece, copied otherwise.
    pub fn to_bytes(&self) -> Bytes {
        match &self.parts {
            Parts::One(b) => b.clone(),
            Parts::Many(_) => Bytes::from(self.contiguous().into_owned()),
        }
    }

    /// The bytes as one slice: borrowed when the payload is one piece, copied otherwise.
    pub fn contiguous(&self) -> Cow<'_, [u8]> {
        match &self.parts {
            Parts::One(b) => Cow::Borrowed(b),
            Parts::Many(parts) => {
                let mut all = Vec::with_capacity(self.len);
                for part in parts.iter() {
                    all.extend_from_slice(part);
                }
                Cow::Owned(all)
            }
        }
    }

    /// The first `n` bytes (fewer if the payload is shorter), borrowed when they lie
    /// in the first piece: what a media tag header (FLV §E.4.2, §E.4.3) is read from.
    pub fn head(&self, n: usize) -> Cow<'_, [u8]> {
        let first = &self.parts()[0];
        if first.len() >= n || self.len == first.len() {
            return Cow::Borrowed(&first[..n.min(first.len())]);
        }
        let mut head = Vec::with_capacity(n);
        for part in self.parts() {
            let take = (n - head.len()).min(part.len());
            head.extend_from_slice(&part[..take]);
            if head.len() == n {
                break;
            }
        }
        Cow::Owned(head)
    }

    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        self.len >= prefix.len() && *self.head(prefix.len()) == *prefix
    }

    /// The payload without its first `n` bytes (shares the pieces, copies nothing).
    pub fn skip(&self, n: usize) -> Self {
        let mut rest = n;
        let mut parts = Vec::with_capacity(self.parts().len());
        for part in self.parts() {
            if rest >= part.len() {
                rest -= part.len();
            } else {
                parts.push(part.slice(rest..));
                rest = 0;
            }
        }
        Self::from_parts(parts)
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Self {
            len: bytes.len(),
            parts: Parts::One(bytes),
        }
    }
}

impl From<BytesMut> for Payload {
    fn from(bytes: BytesMut) -> Self {
        Self::from(bytes.freeze())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<&'static [u8]> for Payload {
    fn from(bytes: &'static [u8]) -> Self {
        Self::from(Bytes::from_static(bytes))
    }
}

/// Payloads are equal when their bytes are, however they are split.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.contiguous() == other.contiguous()
    }
}

impl Eq for Payload {}

impl PartialEq<[u8]> for Payload {
    fn eq(&self, other: &[u8]) -> bool {
        self.len == other.len() && *self.contiguous() == *other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("len", &self.len)
            .field("parts", &self.parts().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bytes: &[u8], at: &[usize]) -> Payload {
        let mut parts = Vec::new();
        let mut start = 0;
        for &end in at.iter().chain([&bytes.len()]) {
            parts.push(Bytes::copy_from_slice(&bytes[start..end]));
            start = end;
        }
        Payload::from_parts(parts)
    }

    #[test]
    fn a_payload_reads_the_same_however_it_is_split() {
        let bytes: Vec<u8> = (0..50).collect();
        let one = Payload::from(bytes.clone());
        let many = split(&bytes, &[0, 1, 1, 20, 49]);
        assert_eq!(many.parts().len(), 4, "empty pieces are left out");
        assert_eq!((one.len(), many.len()), (50, 50));
        assert_eq!(one, many);
        assert_eq!(many, bytes[..]);
        assert_eq!(&many.to_bytes()[..], &bytes[..]);
        assert_eq!(&*many.head(3), &[0, 1, 2]);
        assert_eq!(&*many.head(99), &bytes[..]);
        assert!(many.starts_with(&[0, 1, 2]) && !many.starts_with(&[0, 2]));
        assert!(!split(&[1], &[]).starts_with(&[1, 2]));
        assert_eq!(many.skip(0), many);
        assert_eq!(many.skip(21), bytes[21..]);
        assert_eq!(many.skip(50), Payload::default());
        assert_ne!(many, split(&bytes[..49], &[10]));
    }

    #[test]
    fn one_piece_is_shared_not_copied() {
        let bytes = Bytes::from(vec![9u8; 64]);
        let payload = Payload::from(bytes.clone());
        assert_eq!(payload.to_bytes().as_ptr(), bytes.as_ptr());
        assert!(matches!(payload.contiguous(), Cow::Borrowed(_)));
        assert!(matches!(payload.head(8), Cow::Borrowed(_)));
    }
}
