//! An RTMP player that reads and discards: the handshake (§5.2), connect (§7.2.1.1),
//! createStream (§7.2.1.3) and play (§7.2.2.1) in one write after C2, then reads; the
//! first messages are decoded (node-rtmpapi's chunk decoder) until the first audio or
//! video message, for the server's Window Acknowledgement Size (§5.4.4) and Set Chunk
//! Size (§5.4.1); after that bytes are only counted, and an Acknowledgement (§5.4.3) is
//! sent each time another window's worth has arrived.

use bytes::BytesMut;
use node_rtmpapi::proto::amf::{amf0, Amf0Value};
use node_rtmpapi::proto::chunk::{ChunkDecoder, ChunkEncoder, OutgoingHeader};
use node_rtmpapi::proto::Limits;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, SemaphorePermit};

use crate::{read_some, Counter};

/// §5.2.3: C1/S1/C2/S2 are 1536 bytes.
const HANDSHAKE_SIZE: usize = 1536;
/// Window when the server sends none (bytes).
const DEFAULT_WINDOW: u64 = 2_500_000;
/// Message type ids (§5.4, §7.1).
const SET_CHUNK_SIZE: u8 = 1;
const ACKNOWLEDGEMENT: u8 = 3;
const WINDOW_ACK_SIZE: u8 = 5;
const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const COMMAND_AMF0: u8 = 20;

fn s(v: &str) -> Amf0Value {
    Amf0Value::String(v.to_owned())
}

/// connect, createStream and play of `stream` on message stream 1, as chunks (§7.2).
fn opening(addr: &str, app: &str, stream: &str) -> BytesMut {
    let mut enc = ChunkEncoder::default();
    let mut out = BytesMut::new();
    let mut command = |csid, stream_id, values: &[Amf0Value], out: &mut BytesMut| {
        let mut body = BytesMut::new();
        amf0::encode_all(values, &mut body);
        enc.encode(
            &OutgoingHeader {
                csid,
                timestamp: 0,
                type_id: COMMAND_AMF0,
                stream_id,
            },
            &body,
            out,
        );
    };
    let connect = Amf0Value::Object(vec![
        ("app".into(), s(app)),
        ("type".into(), s("nonprivate")),
        ("flashVer".into(), s("FMLE/3.0 (compatible; rtmp-loadgen)")),
        ("tcUrl".into(), s(&format!("rtmp://{addr}/{app}"))),
    ]);
    command(
        3,
        0,
        &[s("connect"), Amf0Value::Number(1.0), connect],
        &mut out,
    );
    command(
        3,
        0,
        &[s("createStream"), Amf0Value::Number(2.0), Amf0Value::Null],
        &mut out,
    );
    // The stream id createStream answers is 1 on every server measured (its first).
    let play = [
        s("play"),
        Amf0Value::Number(0.0),
        Amf0Value::Null,
        s(stream),
        Amf0Value::Number(-2.0),
    ];
    command(8, 1, &play, &mut out);
    out
}

/// An Acknowledgement of `received` bytes in all (§5.4.3), on chunk stream 2.
fn acknowledgement(received: u64) -> BytesMut {
    let mut out = BytesMut::new();
    let seq = (received as u32).to_be_bytes();
    ChunkEncoder::default().encode(
        &OutgoingHeader {
            csid: 2,
            timestamp: 0,
            type_id: ACKNOWLEDGEMENT,
            stream_id: 0,
        },
        &seq,
        &mut out,
    );
    out
}

/// Plays until the connection ends; `opened` fires (and `permit` is released) once the
/// play request is written.
pub async fn play(
    addr: &str,
    app: &str,
    stream: &str,
    counter: &Counter,
    permit: SemaphorePermit<'_>,
    opened: oneshot::Sender<()>,
) -> std::io::Result<()> {
    let mut sock = TcpStream::connect(addr).await?;
    sock.set_nodelay(true)?;
    // C0 (version 3) and C1: time 0, zero, then "random" bytes (zeros do; §5.2.3).
    let mut c0c1 = vec![0u8; 1 + HANDSHAKE_SIZE];
    c0c1[0] = 3;
    sock.write_all(&c0c1).await?;
    drop(c0c1);
    // S0 + S1 + S2; C2 echoes S1 (§5.2.4).
    let mut head = Vec::with_capacity(1 + 2 * HANDSHAKE_SIZE);
    let mut extra = Vec::new();
    while head.len() < 1 + 2 * HANDSHAKE_SIZE {
        read_some(&sock, |d| {
            let want = 1 + 2 * HANDSHAKE_SIZE - head.len();
            let take = want.min(d.len());
            head.extend_from_slice(&d[..take]);
            extra.extend_from_slice(&d[take..]);
        })
        .await?;
    }
    let mut c2 = BytesMut::from(&head[1..1 + HANDSHAKE_SIZE]);
    drop(head);
    c2.extend_from_slice(&opening(addr, app, stream));
    sock.write_all(&c2).await?;
    drop(c2);
    counter.open.set(true);
    drop(permit);
    let _ = opened.send(());

    let mut received = (1 + 2 * HANDSHAKE_SIZE) as u64;
    let mut window = DEFAULT_WINDOW;
    let mut acked = received;
    // Decoded until the first media message, then dropped.
    let mut decoder = Some((ChunkDecoder::new(Limits::default()), BytesMut::new()));
    let on_bytes = |d: &[u8],
                    window: &mut u64,
                    decoder: &mut Option<(ChunkDecoder, BytesMut)>|
     -> std::io::Result<()> {
        counter.bytes.set(counter.bytes.get() + d.len() as u64);
        let Some((dec, buf)) = decoder.as_mut() else {
            return Ok(());
        };
        buf.extend_from_slice(d);
        while let Some(msg) = dec.decode(buf).map_err(std::io::Error::other)? {
            let four = || {
                msg.payload
                    .head(4)
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            };
            match msg.type_id {
                SET_CHUNK_SIZE => {
                    if let Some(size) = four() {
                        dec.set_chunk_size(size & 0x7fff_ffff)
                            .map_err(std::io::Error::other)?;
                    }
                }
                WINDOW_ACK_SIZE => *window = four().map_or(DEFAULT_WINDOW, u64::from).max(1),
                AUDIO | VIDEO => {
                    *decoder = None;
                    return Ok(());
                }
                _ => {}
            }
        }
        Ok(())
    };
    if !extra.is_empty() {
        received += extra.len() as u64;
        on_bytes(&extra, &mut window, &mut decoder)?;
        drop(extra);
    }
    loop {
        let mut failed = Ok(());
        received += read_some(&sock, |d| {
            if failed.is_ok() {
                failed = on_bytes(d, &mut window, &mut decoder);
            }
        })
        .await? as u64;
        failed?;
        if received - acked >= window {
            acked = received;
            sock.write_all(&acknowledgement(received)).await?;
        }
    }
}
