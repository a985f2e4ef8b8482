//! Chunk basic header (§5.3.1.1) and the 3-byte fields of the message header (§5.3.1.2).

use bytes::{BufMut, BytesMut};

/// Timestamp field value that announces an extended timestamp (§5.3.1.3).
pub const EXTENDED_TIMESTAMP_MARKER: u32 = 0x00FF_FFFF;

/// Message header size for each chunk format (§5.3.1.2.1-4).
pub const MESSAGE_HEADER_SIZE: [usize; 4] = [11, 7, 3, 0];

/// A parsed basic header: format, chunk stream id, and its size in bytes (1, 2 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicHeader {
    pub fmt: u8,
    pub csid: u32,
    pub len: usize,
}

/// Parses a basic header; `None` if `input` is too short.
///
/// §5.3.1.1: low 6 bits 2..63 are the id itself; 0 means id = 64 + next byte
/// (64..319); 1 means id = 64 + next byte + 256 * the byte after (64..65599).
pub fn parse_basic_header(input: &[u8]) -> Option<BasicHeader> {
    let first = *input.first()?;
    let fmt = first >> 6;
    match first & 0x3F {
        0 => Some(BasicHeader {
            fmt,
            csid: 64 + u32::from(*input.get(1)?),
            len: 2,
        }),
        1 => Some(BasicHeader {
            fmt,
            csid: 64 + u32::from(*input.get(1)?) + 256 * u32::from(*input.get(2)?),
            len: 3,
        }),
        id => Some(BasicHeader {
            fmt,
            csid: u32::from(id),
            len: 1,
        }),
    }
}

/// Writes the shortest basic header for `csid` (which must be 2..=65599).
pub fn put_basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt_bits = fmt << 6;
    match csid {
        2..=63 => out.put_u8(fmt_bits | csid as u8),
        64..=319 => out.put_slice(&[fmt_bits, (csid - 64) as u8]),
        _ => {
            let id = csid - 64;
            out.put_slice(&[fmt_bits | 1, id as u8, (id >> 8) as u8]);
        }
    }
}

/// Reads a 24-bit big-endian field.
pub fn read_u24(b: &[u8]) -> u32 {
    u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
}

/// Writes a 24-bit big-endian field.
pub fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_forms_follow_section_5_3_1_1_and_the_319_320_boundary() {
        #[rustfmt::skip]
        let cases: &[(u32, &[u8])] = &[
            (2, &[0x02]),
            (63, &[0x3F]),
            (64, &[0x00, 0x00]),        // 2-byte form: 64 + 0
            (319, &[0x00, 0xFF]),       // 2-byte form: 64 + 255
            (320, &[0x01, 0x00, 0x01]), // 3-byte form: 64 + 0 + 1*256
            (65599, &[0x01, 0xFF, 0xFF]),
        ];
        for &(csid, bytes) in cases {
            let mut out = BytesMut::new();
            put_basic_header(&mut out, 0, csid);
            assert_eq!(&out[..], bytes, "encode csid {csid}");
            let h = parse_basic_header(bytes).unwrap();
            assert_eq!(
                (h.fmt, h.csid, h.len),
                (0, csid, bytes.len()),
                "decode {bytes:?}"
            );
            assert_eq!(parse_basic_header(&bytes[..bytes.len() - 1]), None);
        }
    }

    #[test]
    fn three_byte_form_adds_the_second_byte_times_256() {
        // 64 + 0x10 + 0x02 * 256 = 592 (node-media-server v4 computed (64+b1+b2)<<8).
        let h = parse_basic_header(&[0xC1, 0x10, 0x02]).unwrap();
        assert_eq!((h.fmt, h.csid), (3, 592));
    }
}
