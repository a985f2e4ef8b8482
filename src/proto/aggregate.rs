//! Aggregate messages (RTMP 1.0 §7.1.6): a sequence of sub-messages, each an FLV-tag-like
//! header (type, 24-bit size, timestamp with its extended byte, 24-bit stream id), the
//! payload and a 4-byte back pointer. Sub-message timestamps are relative to the first
//! one, offset by the aggregate's own timestamp.

use bytes::{BufMut, Bytes, BytesMut};

use super::chunk::Message;
use super::ProtoError;

const SUB_HEADER: usize = 11;
const BACK_POINTER: usize = 4;

/// Splits an aggregate into its sub-messages (payloads share the aggregate's bytes).
pub fn split(aggregate: &Message) -> Result<Vec<Message>, ProtoError> {
    let p = aggregate.payload.to_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut first_timestamp = None;
    while pos < p.len() {
        let header = p
            .get(pos..pos + SUB_HEADER)
            .ok_or(ProtoError::MalformedAggregate { at: pos })?;
        let size =
            (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
        let timestamp = u32::from(header[7]) << 24
            | u32::from(header[4]) << 16
            | u32::from(header[5]) << 8
            | u32::from(header[6]);
        let start = pos + SUB_HEADER;
        let end = start + size;
        if end + BACK_POINTER > p.len() {
            return Err(ProtoError::MalformedAggregate { at: pos });
        }
        let base = *first_timestamp.get_or_insert(timestamp);
        out.push(Message {
            csid: aggregate.csid,
            timestamp: aggregate
                .timestamp
                .wrapping_add(timestamp.wrapping_sub(base)),
            type_id: header[0],
            stream_id: aggregate.stream_id,
            fmt: aggregate.fmt,
            payload: p.slice(start..end).into(),
        });
        pos = end + BACK_POINTER;
    }
    Ok(out)
}

/// Builds an aggregate payload from (type, timestamp, payload) sub-messages; send it
/// with the first sub-message's timestamp.
pub fn build(messages: &[(u8, u32, &[u8])]) -> Bytes {
    let mut out = BytesMut::new();
    for &(type_id, timestamp, payload) in messages {
        out.put_u8(type_id);
        out.put_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        out.put_slice(&timestamp.to_be_bytes()[1..]);
        out.put_u8((timestamp >> 24) as u8);
        out.put_slice(&[0, 0, 0]);
        out.put_slice(payload);
        out.put_u32((SUB_HEADER + payload.len()) as u32);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(payload: Bytes, timestamp: u32) -> Message {
        Message {
            csid: 6,
            timestamp,
            type_id: 22,
            stream_id: 1,
            fmt: 0,
            payload: payload.into(),
        }
    }

    #[test]
    fn sub_messages_get_the_aggregate_timestamp_plus_their_offset() {
        #[rustfmt::skip]
        let bytes = Bytes::from_static(&[
            // video, 2 bytes, ts 1000 (0x0003E8), stream 0
            0x09, 0, 0, 2, 0x00, 0x03, 0xE8, 0x00, 0, 0, 0, 0x17, 0x01, 0, 0, 0, 13,
            // audio, 1 byte, ts 1020
            0x08, 0, 0, 1, 0x00, 0x03, 0xFC, 0x00, 0, 0, 0, 0xAF, 0, 0, 0, 12,
        ]);
        let subs = split(&aggregate(bytes, 5000)).unwrap();
        let got: Vec<(u8, u32, Vec<u8>)> = subs
            .iter()
            .map(|m| (m.type_id, m.timestamp, m.payload.contiguous().to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(9, 5000, vec![0x17, 0x01]), (8, 5020, vec![0xAF])]
        );
        assert!(subs.iter().all(|m| m.stream_id == 1));
    }

    #[test]
    fn build_then_split_round_trips_and_truncations_are_errors() {
        let built = build(&[
            (9, 40, &[1, 2, 3]),
            (8, 60, &[4]),
            (18, 0x0100_0000 + 40, &[5, 6]),
        ]);
        let subs = split(&aggregate(built.clone(), 40)).unwrap();
        let got: Vec<(u8, u32, Vec<u8>)> = subs
            .iter()
            .map(|m| (m.type_id, m.timestamp, m.payload.contiguous().to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (9, 40, vec![1, 2, 3]),
                (8, 60, vec![4]),
                (18, 0x0100_0000 + 40, vec![5, 6])
            ]
        );
        // A cut between sub-messages is a shorter aggregate; any other cut is an error.
        let boundaries = [11 + 3 + 4, 11 + 3 + 4 + 11 + 1 + 4];
        for cut in 1..built.len() {
            let result = split(&aggregate(built.slice(..cut), 0));
            assert_eq!(result.is_ok(), boundaries.contains(&cut), "cut at {cut}");
        }
    }
}
