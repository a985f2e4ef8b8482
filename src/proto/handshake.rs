//! The RTMP handshake (RTMP 1.0 §5.2), plain and digest (see [`super::digest`]).
//!
//! C0/S0 is one version byte (3). C1/S1 are 1536 bytes: a 4-byte time, 4 zero bytes and
//! 1528 random bytes. C2/S2 echo the peer's C1/S1 with the second time field set to
//! when it was read. The server sends S0+S1 as soon as C0+C1 are in and S2 right after,
//! without waiting for C2 (FFmpeg reads S0, S1 and S2 before it writes C2).

use bytes::{Buf, BufMut, BytesMut};

use super::digest::{find_digest, sign_echo, sign_first, Signer, DIGEST_SIZE};
use super::ProtoError;

/// The version field our C1/S1 carry in the digest handshake (Flash Player and FMS
/// put their version there; FFmpeg checks S1's digest when the first byte is >= 3).
const CLIENT_VERSION: [u8; 4] = [9, 0, 124, 2];
const SERVER_VERSION: [u8; 4] = [4, 5, 0, 1];

/// The only version byte defined for plain RTMP (§5.2.2).
pub const RTMP_VERSION: u8 = 3;
pub use super::digest::HANDSHAKE_SIZE;
/// Size of the random field of C1/S1 (§5.2.3).
pub const RANDOM_SIZE: usize = HANDSHAKE_SIZE - 8;

/// Which side of the handshake this endpoint plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts a connection: waits for C0+C1.
    Server,
    /// Opens a connection: sends C0+C1 first.
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Client only: C0+C1 not yet written.
    Start,
    /// Waiting for the peer's version byte and first packet (C0+C1 or S0+S1).
    AwaitVersionAndFirst,
    /// Waiting for the peer's echo (C2 or S2).
    AwaitEcho,
    Done,
}

/// The handshake state machine of one session. Bytes to send are appended to `out`.
#[derive(Debug)]
pub struct Handshake {
    role: Role,
    stage: Stage,
    /// Our C1/S1, kept until it is sent (then freed: an idle session keeps nothing).
    own_first: Option<Box<[u8; HANDSHAKE_SIZE]>>,
    /// The digest of the client's C1 (a client: its own; a server: the peer's), when
    /// the digest handshake is in use.
    client_digest: Option<[u8; DIGEST_SIZE]>,
}

impl Handshake {
    /// Starts a handshake. `epoch_ms` fills the time field of our C1/S1 and `random`
    /// its random field (the caller supplies randomness: the core reads no OS state).
    pub fn new(role: Role, epoch_ms: u32, random: &[u8; RANDOM_SIZE]) -> Self {
        let mut own_first = Box::new([0u8; HANDSHAKE_SIZE]);
        own_first[0..4].copy_from_slice(&epoch_ms.to_be_bytes());
        own_first[8..].copy_from_slice(random);
        let stage = match role {
            Role::Server => Stage::AwaitVersionAndFirst,
            Role::Client => Stage::Start,
        };
        let mut client_digest = None;
        if role == Role::Client {
            // Clients always offer the digest handshake; plain servers ignore it.
            own_first[4..8].copy_from_slice(&CLIENT_VERSION);
            client_digest = Some(sign_first(&mut own_first, Signer::Client));
        }
        Self {
            role,
            stage,
            own_first: Some(own_first),
            client_digest,
        }
    }

    /// A handshake that is already complete, for a session whose handshake ran
    /// elsewhere (node-rtmpapi's `rtmpMessage` over a queue past the handshake).
    pub fn completed(role: Role) -> Self {
        Self {
            role,
            stage: Stage::Done,
            own_first: None,
            client_digest: None,
        }
    }

    /// True once the peer's echo has been read.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Consumes handshake bytes from `input` and appends our replies to `out`.
    /// Returns true when the handshake is complete; bytes after it stay in `input`.
    pub fn process(
        &mut self,
        input: &mut BytesMut,
        now_ms: u32,
        out: &mut BytesMut,
    ) -> Result<bool, ProtoError> {
        loop {
            match self.stage {
                Stage::Start => {
                    out.put_u8(RTMP_VERSION);
                    if let Some(own) = self.own_first.take() {
                        out.put_slice(&own[..]);
                    }
                    self.stage = Stage::AwaitVersionAndFirst;
                }
                Stage::AwaitVersionAndFirst => {
                    let Some(&version) = input.first() else {
                        return Ok(false);
                    };
                    if version != RTMP_VERSION {
                        return Err(ProtoError::UnsupportedVersion(version));
                    }
                    if input.len() < 1 + HANDSHAKE_SIZE {
                        return Ok(false);
                    }
                    input.advance(1);
                    let mut peer_first = [0u8; HANDSHAKE_SIZE];
                    peer_first.copy_from_slice(&input.split_to(HANDSHAKE_SIZE));
                    match self.role {
                        Role::Server => self.answer_first(&peer_first, now_ms, out),
                        Role::Client => self.answer_server_first(&peer_first, now_ms, out),
                    }
                    self.stage = Stage::AwaitEcho;
                }
                Stage::AwaitEcho => {
                    if input.len() < HANDSHAKE_SIZE {
                        return Ok(false);
                    }
                    input.advance(HANDSHAKE_SIZE);
                    self.stage = Stage::Done;
                }
                Stage::Done => return Ok(true),
            }
        }
    }
}

impl Handshake {
    /// Server: S0+S1+S2 for a C1. A C1 with a valid client digest gets the digest
    /// handshake (S1 signed with the server key, S2 signed over the C1 digest); any
    /// other C1 the plain one.
    fn answer_first(&mut self, c1: &[u8; HANDSHAKE_SIZE], now_ms: u32, out: &mut BytesMut) {
        let Some(mut s1) = self.own_first.take() else {
            return;
        };
        out.put_u8(RTMP_VERSION);
        match find_digest(c1, Signer::Client) {
            Some(c1_digest) => {
                let mut s2 = *s1;
                s1[4..8].copy_from_slice(&SERVER_VERSION);
                sign_first(&mut s1, Signer::Server);
                sign_echo(&mut s2, Signer::Server, &c1_digest);
                out.put_slice(&s1[..]);
                out.put_slice(&s2[..]);
                self.client_digest = Some(c1_digest);
            }
            None => {
                out.put_slice(&s1[..]);
                put_echo(out, c1, now_ms);
            }
        }
    }

    /// Client: C2 for an S1: signed over the S1 digest when the server answered the
    /// digest handshake, else the plain echo.
    fn answer_server_first(&mut self, s1: &[u8; HANDSHAKE_SIZE], now_ms: u32, out: &mut BytesMut) {
        match find_digest(s1, Signer::Server) {
            Some(s1_digest) => {
                let mut c2 = *s1;
                sign_echo(&mut c2, Signer::Client, &s1_digest);
                out.put_slice(&c2[..]);
            }
            None => put_echo(out, s1, now_ms),
        }
    }

    /// True when the digest handshake was used (server: the client's C1 had a digest).
    pub fn used_digest(&self) -> bool {
        self.role == Role::Server && self.client_digest.is_some()
    }
}

/// C2/S2 (§5.2.4): the peer's time, the time we read its packet, its random echo.
fn put_echo(out: &mut BytesMut, peer_first: &[u8], now_ms: u32) {
    out.put_slice(&peer_first[0..4]);
    out.put_u32(now_ms);
    out.put_slice(&peer_first[8..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c0c1(time: u32, fill: u8) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_u8(3);
        b.put_u32(time);
        b.put_u32(0);
        b.put_bytes(fill, RANDOM_SIZE);
        b
    }

    #[test]
    fn server_sends_s0_s1_s2_as_soon_as_c0_c1_are_in_without_waiting_for_c2() {
        let mut hs = Handshake::new(Role::Server, 77, &[0xAB; RANDOM_SIZE]);
        let mut input = c0c1(0x0102_0304, 0x5A);
        let mut out = BytesMut::new();
        assert!(!hs.process(&mut input, 9, &mut out).unwrap());
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE, "S0+S1+S2 all written");
        assert_eq!(out[0], 3, "S0 version");
        assert_eq!(&out[1..5], &77u32.to_be_bytes(), "S1 time");
        assert_eq!(&out[5..9], &[0, 0, 0, 0], "S1 zero field");
        assert!(out[9..1 + HANDSHAKE_SIZE].iter().all(|&b| b == 0xAB));
        let s2 = &out[1 + HANDSHAKE_SIZE..];
        assert_eq!(&s2[0..4], &[1, 2, 3, 4], "S2 echoes C1 time");
        assert_eq!(
            &s2[4..8],
            &9u32.to_be_bytes(),
            "S2 time2 = when C1 was read"
        );
        assert!(s2[8..].iter().all(|&b| b == 0x5A), "S2 echoes C1 random");
    }

    #[test]
    fn server_completes_after_c2_and_leaves_following_bytes_in_input() {
        let mut hs = Handshake::new(Role::Server, 0, &[1; RANDOM_SIZE]);
        let mut input = c0c1(0, 7);
        input.put_bytes(0, HANDSHAKE_SIZE);
        input.put_slice(&[0x02, 0xAA]);
        let mut out = BytesMut::new();
        assert!(hs.process(&mut input, 0, &mut out).unwrap());
        assert_eq!(&input[..], &[0x02, 0xAA]);
    }

    #[test]
    fn bytes_fed_one_at_a_time_give_the_same_result() {
        let mut hs = Handshake::new(Role::Server, 0, &[1; RANDOM_SIZE]);
        let mut all = c0c1(5, 9);
        all.put_bytes(0, HANDSHAKE_SIZE);
        let mut input = BytesMut::new();
        let mut out = BytesMut::new();
        let mut done = false;
        for &b in all.iter() {
            assert!(!done);
            input.put_u8(b);
            done = hs.process(&mut input, 0, &mut out).unwrap();
        }
        assert!(done);
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
    }

    #[test]
    fn wrong_version_byte_is_rejected_before_c1_arrives() {
        let mut hs = Handshake::new(Role::Server, 0, &[1; RANDOM_SIZE]);
        let mut input = BytesMut::from(&b"GET / HTTP/1.1\r\n"[..]);
        let err = hs.process(&mut input, 0, &mut BytesMut::new()).unwrap_err();
        assert!(matches!(err, ProtoError::UnsupportedVersion(b'G')));
    }

    #[test]
    fn a_digest_c1_gets_a_digest_s1_and_an_s2_signed_over_the_c1_digest() {
        use crate::proto::digest::{find_digest, verify_echo, Signer};
        let mut client = Handshake::new(Role::Client, 1, &[2; RANDOM_SIZE]);
        let mut server = Handshake::new(Role::Server, 3, &[4; RANDOM_SIZE]);
        let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
        client.process(&mut to_client, 0, &mut to_server).unwrap();
        let c1: [u8; HANDSHAKE_SIZE] = to_server[1..].try_into().unwrap();
        let c1_digest = find_digest(&c1, Signer::Client).expect("the client signs C1");
        server.process(&mut to_server, 0, &mut to_client).unwrap();
        assert!(server.used_digest());
        let s1: [u8; HANDSHAKE_SIZE] = to_client[1..1 + HANDSHAKE_SIZE].try_into().unwrap();
        assert_eq!(
            &s1[4..8],
            &SERVER_VERSION,
            "FFmpeg validates S1 when this is >= 3"
        );
        let s1_digest = find_digest(&s1, Signer::Server).expect("S1 carries the server digest");
        assert!(
            verify_echo(&to_client[1 + HANDSHAKE_SIZE..], Signer::Server, &c1_digest),
            "S2 signature"
        );
        assert!(client.process(&mut to_client, 0, &mut to_server).unwrap());
        assert!(
            verify_echo(&to_server[..], Signer::Client, &s1_digest),
            "C2 signature"
        );
        assert!(server.process(&mut to_server, 0, &mut to_client).unwrap());
    }

    #[test]
    fn a_plain_c1_falls_back_to_the_plain_handshake() {
        let mut server = Handshake::new(Role::Server, 0, &[1; RANDOM_SIZE]);
        let mut input = c0c1(0, 7);
        let mut out = BytesMut::new();
        server.process(&mut input, 0, &mut out).unwrap();
        assert!(!server.used_digest());
        assert_eq!(&out[5..9], &[0, 0, 0, 0], "plain S1 keeps the zero field");
    }

    #[test]
    fn client_and_server_complete_against_each_other() {
        let mut client = Handshake::new(Role::Client, 1, &[2; RANDOM_SIZE]);
        let mut server = Handshake::new(Role::Server, 3, &[4; RANDOM_SIZE]);
        let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
        assert!(!client.process(&mut to_client, 0, &mut to_server).unwrap());
        assert!(!server.process(&mut to_server, 0, &mut to_client).unwrap());
        assert!(client.process(&mut to_client, 0, &mut to_server).unwrap());
        assert!(server.process(&mut to_server, 0, &mut to_client).unwrap());
        assert!(to_client.is_empty() && to_server.is_empty());
    }
}
