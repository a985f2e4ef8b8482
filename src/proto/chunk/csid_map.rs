//! Per-chunk-stream state keyed by chunk stream id, hashed cheaply: the decoder and the
//! encoder look a CSID up on every chunk, and SipHash (std's default, built against
//! adversarial keys) cost more than the header parsing itself. A peer chooses its CSIDs,
//! but it can open at most `Limits::max_chunk_streams` of them, so colliding keys cost
//! it nothing it could not already do.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from chunk stream id to `V`.
pub type CsidMap<V> = HashMap<u32, V, BuildHasherDefault<CsidHasher>>;

/// Fibonacci hashing of a `u32`: one multiplication, high bits well mixed.
#[derive(Debug, Default, Clone, Copy)]
pub struct CsidHasher(u64);

impl Hasher for CsidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_csid_of_the_protocol_range_keeps_its_own_entry() {
        let mut map = CsidMap::default();
        for csid in 2..=65599u32 {
            map.insert(csid, csid);
        }
        assert_eq!(map.len(), 65598);
        assert!((2..=65599u32).all(|csid| map[&csid] == csid));
    }
}
