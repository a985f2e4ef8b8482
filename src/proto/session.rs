//! One RTMP session, sans-IO: the handshake, then the chunk layer with the protocol
//! control duties of RTMP 1.0 §5.4 and §7.1.7 done automatically (chunk size, abort,
//! acknowledgements by window, ping responses). Bytes in, events and bytes out; time is
//! passed in.

use std::collections::VecDeque;

use bytes::BytesMut;

use super::chunk::{validate_chunk_size, ChunkDecoder, ChunkEncoder, Message, OutgoingHeader};
use super::handshake::{Handshake, Role, RANDOM_SIZE};
use super::message::{type_id, user_control, ControlMessage, CONTROL_CSID};
use super::{Limits, ProtoError};

/// What a session reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed; messages follow.
    HandshakeDone,
    /// A complete message (control messages included, after the session acted on them).
    Message(Message),
}

/// The receive/send chunk sizes and acknowledgement windows of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Chunk size the peer sends with.
    pub receive_chunk_size: u32,
    /// Chunk size we send with.
    pub send_chunk_size: u32,
    /// Window Acknowledgement Size we announced to the peer (0 if none).
    pub announced_window: u32,
    /// Window Acknowledgement Size the peer announced: we acknowledge by it (0 if none).
    pub peer_window: u32,
}

/// Counters of a session (RTMP 1.0 gives the Ack its u32 count; these do not wrap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub messages_in: u64,
    /// Round-trip time of the last answered [`Session::send_ping`], in ms.
    pub rtt_ms: Option<u32>,
}

/// A sans-IO RTMP session.
#[derive(Debug)]
pub struct Session {
    handshake: Handshake,
    decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    output: BytesMut,
    /// Bytes consumed from the peer, wrapping at 2^32 like the Ack sequence (§5.4.3).
    bytes_received: u32,
    /// `bytes_received` when the last Acknowledgement was sent.
    acked_at: u32,
    peer_window: u32,
    announced_window: u32,
    /// Sub-messages of an aggregate not yet handed out.
    split: VecDeque<Message>,
    counters: Counters,
}

impl Session {
    /// A session in `role`; `epoch_ms` and `random` fill our C1/S1.
    pub fn new(role: Role, limits: Limits, epoch_ms: u32, random: &[u8; RANDOM_SIZE]) -> Self {
        Self::with_handshake(Handshake::new(role, epoch_ms, random), limits)
    }

    /// A session whose handshake already happened: input starts with chunks.
    pub fn established(role: Role, limits: Limits) -> Self {
        Self::with_handshake(Handshake::completed(role), limits)
    }

    fn with_handshake(handshake: Handshake, limits: Limits) -> Self {
        Self {
            handshake,
            decoder: ChunkDecoder::new(limits),
            encoder: ChunkEncoder::default(),
            output: BytesMut::new(),
            bytes_received: 0,
            acked_at: 0,
            peer_window: 0,
            announced_window: 0,
            split: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// Processes bytes at the front of `input` until one event is ready (`Some`) or
    /// more input is needed (`None`). Replies (handshake, acks, pings) are queued in the
    /// output. An error is fatal for the session.
    pub fn poll(&mut self, input: &mut BytesMut, now_ms: u32) -> Result<Option<Event>, ProtoError> {
        let before = input.len();
        let result = self.poll_inner(input, now_ms);
        let consumed = (before - input.len()) as u32;
        self.bytes_received = self.bytes_received.wrapping_add(consumed);
        self.counters.bytes_in += u64::from(consumed);
        if let Ok(Some(Event::Message(_))) = &result {
            self.counters.messages_in += 1;
        }
        if self.peer_window > 0
            && self.bytes_received.wrapping_sub(self.acked_at) >= self.peer_window
        {
            self.send_ack();
        }
        result
    }

    fn poll_inner(
        &mut self,
        input: &mut BytesMut,
        now_ms: u32,
    ) -> Result<Option<Event>, ProtoError> {
        if !self.handshake.is_done() {
            let done = self.handshake.process(input, now_ms, &mut self.output)?;
            return Ok(done.then_some(Event::HandshakeDone));
        }
        if let Some(sub) = self.split.pop_front() {
            return Ok(Some(Event::Message(sub)));
        }
        let msg = loop {
            let Some(msg) = self.decoder.decode(input)? else {
                return Ok(None);
            };
            // §7.1.6: an aggregate is handed out as its sub-messages.
            if msg.type_id != type_id::AGGREGATE {
                break msg;
            }
            self.split = super::aggregate::split(&msg)?.into();
            if let Some(sub) = self.split.pop_front() {
                return Ok(Some(Event::Message(sub)));
            }
        };
        if type_id::is_control(msg.type_id) {
            if let Some(control) = ControlMessage::decode(msg.type_id, &msg.payload.contiguous())? {
                self.on_control(control, now_ms)?;
            }
        }
        Ok(Some(Event::Message(msg)))
    }

    fn on_control(&mut self, control: ControlMessage, now_ms: u32) -> Result<(), ProtoError> {
        match control {
            // The answer to our own PingRequest: its value is our clock when sent.
            ControlMessage::UserControl {
                event_type: user_control::PING_RESPONSE,
                value,
                ..
            } => self.counters.rtt_ms = Some(now_ms.wrapping_sub(value)),
            ControlMessage::SetChunkSize(size) => self.decoder.set_chunk_size(size)?,
            ControlMessage::Abort(csid) => self.decoder.abort(csid),
            ControlMessage::WindowAckSize(size) => self.peer_window = size,
            // §5.4.5: answer with our Window Acknowledgement Size (node-rtmpapi always did).
            ControlMessage::SetPeerBandwidth { size, .. } => {
                self.send_control(ControlMessage::WindowAckSize(size))?
            }
            // §7.1.7: a PingRequest is answered with a PingResponse echoing its timestamp.
            ControlMessage::UserControl {
                event_type: user_control::PING_REQUEST,
                value,
                ..
            } => self.send_control(ControlMessage::UserControl {
                event_type: user_control::PING_RESPONSE,
                value,
                buffer_ms: 0,
            })?,
            ControlMessage::Acknowledgement(_) | ControlMessage::UserControl { .. } => {}
        }
        Ok(())
    }

    /// Queues one message, split into chunks of the send chunk size.
    pub fn send(&mut self, header: &OutgoingHeader, payload: &[u8]) {
        self.encoder.encode(header, payload, &mut self.output);
    }

    /// Queues bytes as they are, bypassing the chunk encoder (node-rtmpapi's
    /// `rtmpChunkSend`): the caller is responsible for valid chunk framing.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Queues a protocol control or user control message on chunk stream 2, message
    /// stream 0 (§5.4). A Set Chunk Size takes effect for the messages after it.
    pub fn send_control(&mut self, control: ControlMessage) -> Result<(), ProtoError> {
        if let ControlMessage::SetChunkSize(size) = control {
            validate_chunk_size(size)?;
        }
        let header = OutgoingHeader {
            csid: CONTROL_CSID,
            timestamp: 0,
            type_id: control.type_id(),
            stream_id: 0,
        };
        self.encoder
            .encode(&header, &control.encode(), &mut self.output);
        match control {
            ControlMessage::SetChunkSize(size) => self.encoder.set_chunk_size(size)?,
            ControlMessage::WindowAckSize(size) => self.announced_window = size,
            ControlMessage::Abort(csid) => self.encoder.reset_stream(csid),
            _ => {}
        }
        Ok(())
    }

    /// Forgets what was sent on a chunk stream, after a message on it was written
    /// outside this session's encoder (a shared frame with a format-0 header).
    pub fn forget_chunk_stream(&mut self, csid: u32) {
        self.encoder.reset_stream(csid);
    }

    /// Queues an Acknowledgement of the bytes received so far (§5.4.3).
    pub fn send_ack(&mut self) {
        self.acked_at = self.bytes_received;
        let header = OutgoingHeader {
            csid: CONTROL_CSID,
            timestamp: 0,
            type_id: type_id::ACKNOWLEDGEMENT,
            stream_id: 0,
        };
        let payload = ControlMessage::Acknowledgement(self.bytes_received).encode();
        self.encoder.encode(&header, &payload, &mut self.output);
    }

    /// Bytes received from the peer so far, wrapping at 2^32.
    pub fn bytes_received(&self) -> u32 {
        self.bytes_received
    }

    /// Bytes queued for the peer and not yet taken.
    pub fn pending_output(&self) -> usize {
        self.output.len()
    }

    /// Takes the bytes queued for the peer, with their buffer: an idle session keeps
    /// none (a split would keep the buffer's spare room, 4 KiB after the handshake).
    pub fn take_output(&mut self) -> BytesMut {
        self.counters.bytes_out += self.output.len() as u64;
        std::mem::take(&mut self.output)
    }

    /// Sends a PingRequest carrying `now_ms`; the PingResponse gives the RTT
    /// ([`Counters::rtt_ms`]).
    pub fn send_ping(&mut self, now_ms: u32) -> Result<(), ProtoError> {
        self.send_control(ControlMessage::UserControl {
            event_type: user_control::PING_REQUEST,
            value: now_ms,
            buffer_ms: 0,
        })
    }

    /// Bytes and messages so far, and the last ping RTT.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Chunk sizes and windows in force.
    pub fn windows(&self) -> Windows {
        Windows {
            receive_chunk_size: self.decoder.chunk_size(),
            send_chunk_size: self.encoder.chunk_size(),
            announced_window: self.announced_window,
            peer_window: self.peer_window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::chunk::OutgoingHeader;

    /// An in-memory client + server pair: no sockets, time passed in.
    struct Pair {
        client: Session,
        server: Session,
        to_server: BytesMut,
        to_client: BytesMut,
    }

    impl Pair {
        fn new() -> Self {
            let mut pair = Self {
                client: Session::new(Role::Client, Limits::default(), 0, &[1; RANDOM_SIZE]),
                server: Session::new(Role::Server, Limits::default(), 0, &[2; RANDOM_SIZE]),
                to_server: BytesMut::new(),
                to_client: BytesMut::new(),
            };
            let (c, s) = pair.exchange();
            assert_eq!(c, vec![Event::HandshakeDone]);
            assert_eq!(s, vec![Event::HandshakeDone]);
            pair
        }

        /// Moves bytes both ways until both sides are idle; returns (client, server) events.
        fn exchange(&mut self) -> (Vec<Event>, Vec<Event>) {
            let (mut ce, mut se) = (Vec::new(), Vec::new());
            loop {
                while let Some(e) = self.client.poll(&mut self.to_client, 0).unwrap() {
                    ce.push(e);
                }
                self.to_server.extend_from_slice(&self.client.take_output());
                while let Some(e) = self.server.poll(&mut self.to_server, 0).unwrap() {
                    se.push(e);
                }
                self.to_client.extend_from_slice(&self.server.take_output());
                if self.to_client.is_empty() && self.to_server.is_empty() {
                    return (ce, se);
                }
            }
        }
    }

    /// The sequence numbers of the Acknowledgements (§5.4.3) among `events`.
    fn ack_numbers(events: &[Event]) -> Vec<u32> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) if m.type_id == 3 => {
                    let p = m.payload.head(4);
                    Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
                }
                _ => None,
            })
            .collect()
    }

    fn types(events: &[Event]) -> Vec<u8> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.type_id),
                Event::HandshakeDone => None,
            })
            .collect()
    }

    #[test]
    fn a_ping_request_is_answered_with_a_ping_response_echoing_its_timestamp() {
        let mut pair = Pair::new();
        let ping = ControlMessage::UserControl {
            event_type: user_control::PING_REQUEST,
            value: 0xCAFE_BABE,
            buffer_ms: 0,
        };
        pair.server.send_control(ping).unwrap();
        let (client_events, server_events) = pair.exchange();
        assert_eq!(types(&client_events), vec![4]);
        let Event::Message(m) = &server_events[0] else {
            panic!("no response")
        };
        assert_eq!(m.payload, [0x00, 0x07, 0xCA, 0xFE, 0xBA, 0xBE][..]);
    }

    #[test]
    fn set_chunk_size_applies_to_the_following_messages_both_ways() {
        let mut pair = Pair::new();
        pair.server
            .send_control(ControlMessage::SetChunkSize(4096))
            .unwrap();
        let big = vec![9u8; 3000];
        let h = OutgoingHeader {
            csid: 6,
            timestamp: 0,
            type_id: 9,
            stream_id: 1,
        };
        pair.server.send(&h, &big);
        let wire_len = pair.server.pending_output();
        assert_eq!(wire_len, 12 + 4 + 12 + 3000, "one chunk at size 4096");
        let (client_events, _) = pair.exchange();
        assert_eq!(types(&client_events), vec![1, 9]);
        assert_eq!(pair.client.windows().receive_chunk_size, 4096);
    }

    #[test]
    fn acknowledgements_are_sent_each_window_with_wrapping_counts() {
        let mut pair = Pair::new();
        pair.client
            .send_control(ControlMessage::WindowAckSize(1000))
            .unwrap();
        let h = OutgoingHeader {
            csid: 6,
            timestamp: 0,
            type_id: 8,
            stream_id: 1,
        };
        for _ in 0..5 {
            pair.client.send(&h, &[0u8; 400]);
        }
        let (client_events, _) = pair.exchange();
        let acks = ack_numbers(&client_events);
        assert_eq!(acks.len(), 2, "{acks:?}");
        assert!(acks.windows(2).all(|w| w[1] - w[0] >= 1000));

        // The count wraps at 2^32 instead of overflowing.
        pair.server.bytes_received = u32::MAX - 10;
        pair.server.acked_at = u32::MAX - 10;
        for _ in 0..3 {
            pair.client.send(&h, &[0u8; 400]);
        }
        let (client_events, _) = pair.exchange();
        assert!(types(&client_events).contains(&3));
        assert!(pair.server.bytes_received() < 2000);
    }

    #[test]
    fn acknowledgements_keep_counting_past_4_gib_received() {
        // 4.3 GiB really pass through the core: 1 MiB messages in 64 KiB chunks.
        let mut pair = Pair::new();
        let window = 256 << 20;
        pair.client
            .send_control(ControlMessage::WindowAckSize(window))
            .unwrap();
        pair.client
            .send_control(ControlMessage::SetChunkSize(64 << 10))
            .unwrap();
        let h = OutgoingHeader {
            csid: 6,
            timestamp: 0,
            type_id: 9,
            stream_id: 1,
        };
        let payload = vec![0u8; 1 << 20];
        let mut acks = Vec::new();
        for _ in 0..4400 {
            pair.client.send(&h, &payload);
            let (client_events, _) = pair.exchange();
            acks.extend(ack_numbers(&client_events));
        }
        assert!(pair.server.counters().bytes_in > 1 << 32);
        assert_eq!(acks.len(), 17, "one Acknowledgement per 256 MiB window");
        // Each ack is one window (and at most one message) after the last, modulo 2^32.
        for w in acks.windows(2) {
            let step = w[1].wrapping_sub(w[0]);
            assert!((window..window + (2 << 20)).contains(&step), "{w:?}");
        }
        assert!(
            acks.windows(2).any(|w| w[1] < w[0]),
            "the sequence number wrapped"
        );
    }

    #[test]
    fn a_stream_longer_than_2_pow_32_ms_keeps_its_timestamps_across_the_wrap() {
        // A virtual clock 49.7 days in: timestamps wrap from 0xFFFF_FFxx to small values.
        let mut pair = Pair::new();
        let start = 0xFFFF_FC18u32; // 1000 ms before the wrap
        let sent: Vec<u32> = (0..60u32).map(|i| start.wrapping_add(i * 40)).collect();
        for &ts in &sent {
            let h = OutgoingHeader {
                csid: 6,
                timestamp: ts,
                type_id: 9,
                stream_id: 1,
            };
            pair.client.send(&h, &[0x27, 1, 0, 0, 0]);
        }
        let (_, server_events) = pair.exchange();
        let got: Vec<u32> = server_events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) if m.type_id == 9 => Some(m.timestamp),
                _ => None,
            })
            .collect();
        assert_eq!(got, sent);
        assert!(got.iter().any(|&t| t < 1000), "the wrap happened");
    }

    #[test]
    fn an_aggregate_arrives_as_its_sub_messages() {
        let mut pair = Pair::new();
        let payload = crate::proto::aggregate::build(&[(9, 100, &[0x17, 1]), (8, 120, &[0xAF, 1])]);
        let h = OutgoingHeader {
            csid: 6,
            timestamp: 7000,
            type_id: type_id::AGGREGATE,
            stream_id: 1,
        };
        pair.client.send(&h, &payload);
        pair.client.send(
            &OutgoingHeader {
                type_id: 8,
                timestamp: 7040,
                ..h
            },
            &[0xAF, 1, 9],
        );
        let (_, server_events) = pair.exchange();
        let got: Vec<(u8, u32)> = server_events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some((m.type_id, m.timestamp)),
                Event::HandshakeDone => None,
            })
            .collect();
        assert_eq!(got, vec![(9, 7000), (8, 7020), (8, 7040)]);
    }

    #[test]
    fn a_ping_gives_the_round_trip_time_on_the_session_clock() {
        let mut pair = Pair::new();
        pair.server.send_ping(1000).unwrap();
        let mut to_client = pair.server.take_output();
        while pair.client.poll(&mut to_client, 0).unwrap().is_some() {}
        // The client answers; the response reaches the server at its clock 1030.
        let mut to_server = pair.client.take_output();
        while pair.server.poll(&mut to_server, 1030).unwrap().is_some() {}
        let c = pair.server.counters();
        assert_eq!(c.rtt_ms, Some(30));
        assert!(c.bytes_in > 0 && c.bytes_out > 0 && c.messages_in >= 1);
    }

    #[test]
    fn set_peer_bandwidth_is_answered_with_a_window_acknowledgement_size() {
        let mut pair = Pair::new();
        pair.server
            .send_control(ControlMessage::SetPeerBandwidth {
                size: 2_500_000,
                limit_type: 2,
            })
            .unwrap();
        let (_, server_events) = pair.exchange();
        assert_eq!(types(&server_events), vec![5]);
        assert_eq!(pair.server.windows().peer_window, 2_500_000);
    }
}
