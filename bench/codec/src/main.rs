//! Codec benchmark: node-rtmpapi's sans-IO proto layer against rml_rtmp on the same work.
//!
//! - chunk decode: one byte stream of chunked audio/video messages, fed in 64 KiB reads
//!   (as a socket delivers them), decoded to whole messages;
//! - chunk encode: the same messages encoded to chunks, one owned buffer per message;
//! - chunk encode for fan-out: ours as the relay frames media for its players (header
//!   and payload slices for a vectored write), rml's serializer as above;
//! - AMF0 decode of an FFmpeg-style `connect` command.
//!
//! Each case runs the two contenders in turn (A B A B …) for `--runs` rounds and reports the
//! median of each contender's rounds and the median of the per-round ratios. Results are
//! checked (message count and payload bytes) and passed through `black_box`.
//!
//! Usage: `cargo run --release -- [--runs N] [--json] [--only SUBSTRING]` (`--only` keeps the
//! cases whose name contains it, e.g. `decode`, for profiling one case).

mod cases;
mod measure;

use measure::{interleave, CaseResult};

fn main() {
    let mut runs = 9;
    let mut json = false;
    let mut only = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--runs needs a positive integer");
            }
            "--json" => json = true,
            "--only" => only = args.next().expect("--only needs a case name substring"),
            other => {
                panic!("unknown argument {other}; usage: [--runs N] [--json] [--only SUBSTRING]")
            }
        }
    }

    let wanted = |name: &str| name.contains(only.as_str());
    let mut results: Vec<CaseResult> = Vec::new();
    for chunk_size in [128, 4096] {
        let input = cases::MediaStream::new(chunk_size);
        let gb = input.payload_bytes as f64 / 1e9;
        let name = format!("chunk decode, chunk size {chunk_size}");
        if wanted(&name) {
            let (ours, rml) = (|| input.decode_ours(), || input.decode_rml());
            results.push(interleave(&name, "GB/s", gb, runs, ours, rml));
        }
        let name = format!("chunk encode, chunk size {chunk_size}");
        if wanted(&name) {
            let (ours, rml) = (|| input.encode_ours(), || input.encode_rml());
            results.push(interleave(&name, "GB/s", gb, runs, ours, rml));
        }
        let name = format!("chunk encode for fan-out, chunk size {chunk_size}");
        if wanted(&name) {
            let (ours, rml) = (|| input.encode_vectored_ours(), || input.encode_rml());
            results.push(interleave(&name, "GB/s", gb, runs, ours, rml));
        }
    }
    let name = "AMF0 decode of a connect command";
    if wanted(name) {
        let connect = cases::connect_command();
        let millions = cases::CONNECT_REPEATS as f64 / 1e6;
        let ours = || cases::amf0_decode_ours(&connect);
        let rml = || cases::amf0_decode_rml(&connect);
        results.push(interleave(name, "M/s", millions, runs, ours, rml));
    }

    for r in &results {
        if json {
            println!("{}", r.json());
        } else {
            println!("{}", r.text());
        }
    }
}
