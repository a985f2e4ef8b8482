//! The digest ("complex") handshake of Flash Player 9+ and FMS: C1/S1 carry an
//! HMAC-SHA256 digest at an offset given by one of two schemas; C2/S2 end with an
//! HMAC-SHA256 signature keyed by the peer's digest. Not in the RTMP 1.0 specification;
//! the layout below is the one nginx-rtmp, SRS, FFmpeg and rml_rtmp agree on.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Size of C1/S1 and C2/S2 (RTMP 1.0 §5.2.3, §5.2.4), the packets the digests live in;
/// `handshake` uses it too (the plain handshake depends on this module, not back).
pub const HANDSHAKE_SIZE: usize = 1536;

/// Length of an HMAC-SHA256 digest.
pub const DIGEST_SIZE: usize = 32;

/// The bytes shared by both keys after their text.
const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];
const SERVER_TEXT: &[u8] = b"Genuine Adobe Flash Media Server 001";
const CLIENT_TEXT: &[u8] = b"Genuine Adobe Flash Player 001";

/// Which side's key: the server signs S1 with "Genuine Adobe Flash Media Server 001",
/// the client signs C1 with "Genuine Adobe Flash Player 001".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    Server,
    Client,
}

impl Signer {
    fn text(self) -> &'static [u8] {
        match self {
            Self::Server => SERVER_TEXT,
            Self::Client => CLIENT_TEXT,
        }
    }

    /// The full key (text + tail), used to key the C2/S2 signature.
    fn full_key(self) -> Vec<u8> {
        [self.text(), &KEY_TAIL[..]].concat()
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_SIZE] {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of any length.
        Err(_) => unreachable!("HMAC-SHA256 takes any key length"),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The digest offset of a schema: the sum of 4 bytes at `base` modulo 728, plus
/// `base + 4` (schema 0: base 8; schema 1: base 772).
fn digest_offset(packet: &[u8; HANDSHAKE_SIZE], base: usize) -> usize {
    let sum: usize = packet[base..base + 4].iter().map(|&b| usize::from(b)).sum();
    sum % 728 + base + 4
}

/// Schema bases, schema 1 first (what Flash Player sends).
const SCHEMA_BASES: [usize; 2] = [772, 8];

/// Writes the digest of `signer` into `packet` (a C1/S1 whose random bytes are set),
/// using schema 0. Returns the digest.
pub fn sign_first(packet: &mut [u8; HANDSHAKE_SIZE], signer: Signer) -> [u8; DIGEST_SIZE] {
    let at = digest_offset(packet, 8);
    let digest = hmac(signer.text(), &[&packet[..at], &packet[at + DIGEST_SIZE..]]);
    packet[at..at + DIGEST_SIZE].copy_from_slice(&digest);
    digest
}

/// Finds a valid digest of `signer` in a C1/S1 (either schema); returns it.
pub fn find_digest(packet: &[u8; HANDSHAKE_SIZE], signer: Signer) -> Option<[u8; DIGEST_SIZE]> {
    SCHEMA_BASES.into_iter().find_map(|base| {
        let at = digest_offset(packet, base);
        let expected = hmac(signer.text(), &[&packet[..at], &packet[at + DIGEST_SIZE..]]);
        (packet[at..at + DIGEST_SIZE] == expected).then_some(expected)
    })
}

/// Signs a C2/S2 (random bytes set) answering the peer's digest: its last 32 bytes
/// become HMAC(HMAC(full key of `signer`, peer digest), the first 1504 bytes).
pub fn sign_echo(
    packet: &mut [u8; HANDSHAKE_SIZE],
    signer: Signer,
    peer_digest: &[u8; DIGEST_SIZE],
) {
    let key = hmac(&signer.full_key(), &[peer_digest]);
    let split = HANDSHAKE_SIZE - DIGEST_SIZE;
    let signature = hmac(&key, &[&packet[..split]]);
    packet[split..].copy_from_slice(&signature);
}

/// Checks a C2/S2 signature made by `signer` over our digest.
pub fn verify_echo(packet: &[u8], signer: Signer, own_digest: &[u8; DIGEST_SIZE]) -> bool {
    let key = hmac(&signer.full_key(), &[own_digest]);
    let split = HANDSHAKE_SIZE - DIGEST_SIZE;
    packet.len() == HANDSHAKE_SIZE && hmac(&key, &[&packet[..split]])[..] == packet[split..]
}
