//! A light load generator for the benchmarks (bench/compare.mjs's fan-out workloads): N
//! players of one stream on one thread (tokio current-thread), each a socket and a small
//! task that reads and discards into one buffer shared by all of them, so that players
//! cost the machine little and do not share the latency probe's event loop.
//!
//! ```text
//! rtmp-loadgen rtmp 127.0.0.1:1935 live bench N    # RTMP players (src/rtmp.rs)
//! rtmp-loadgen http 127.0.0.1:8000 /live/bench.flv N  # HTTP-FLV players (src/http.rs)
//! ```
//!
//! Prints `{"ready":true,"open":K,"failed":F,"error":"…"}` once every player has opened
//! (or failed to). Then each line `report` on stdin is answered with one line
//! `{"bytes":[…],"open":K,"failed":F}`: the bytes each player has received so far (after
//! the RTMP handshake, after the HTTP response head), in player order. EOF on stdin ends it.

mod http;
mod rtmp;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::LocalSet;

/// Players opening at once: more would overflow the servers' listen backlogs.
const OPENING_AT_ONCE: usize = 128;
/// The one read buffer all players read into (one task runs at a time).
const READ_BUFFER: usize = 256 * 1024;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUFFER].into_boxed_slice());
}

/// What every player reports: bytes received, and whether it is open.
#[derive(Default)]
pub struct Counter {
    pub bytes: Cell<u64>,
    pub open: Cell<bool>,
    pub failed: Cell<bool>,
}

/// Reads what `sock` has into the shared buffer until it would block; returns the bytes
/// read (0 at EOF is an error). `inspect` sees each read's bytes.
pub async fn read_some(sock: &TcpStream, mut inspect: impl FnMut(&[u8])) -> std::io::Result<usize> {
    loop {
        sock.readable().await?;
        let got = SCRATCH.with(|b| {
            let mut buf = b.borrow_mut();
            let mut total = 0;
            loop {
                match sock.try_read(&mut buf[..]) {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => {
                        inspect(&buf[..n]);
                        total += n;
                        if n < buf.len() {
                            return Ok(total);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(total),
                    Err(e) => return Err(e),
                }
            }
        })?;
        if got > 0 {
            return Ok(got);
        }
    }
}

enum Target {
    Rtmp { app: String, stream: String },
    Http { path: String },
}

fn usage() -> ! {
    eprintln!(
        "usage: rtmp-loadgen rtmp HOST:PORT APP STREAM N | rtmp-loadgen http HOST:PORT PATH N"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (target, addr, n) = match args.as_slice() {
        [kind, addr, app, stream, n] if kind == "rtmp" => (
            Target::Rtmp {
                app: app.clone(),
                stream: stream.clone(),
            },
            addr.clone(),
            n,
        ),
        [kind, addr, path, n] if kind == "http" => {
            (Target::Http { path: path.clone() }, addr.clone(), n)
        }
        _ => usage(),
    };
    let n: usize = n.parse().unwrap_or_else(|_| usage());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    LocalSet::new().block_on(&runtime, run(Rc::new(target), addr, n));
}

async fn run(target: Rc<Target>, addr: String, n: usize) {
    let counters: Rc<Vec<Counter>> = Rc::new((0..n).map(|_| Counter::default()).collect());
    let opening = Rc::new(Semaphore::new(OPENING_AT_ONCE));
    let first_error: Rc<RefCell<Option<String>>> = Rc::default();
    let mut opened = Vec::with_capacity(n);
    for i in 0..n {
        let (target, addr, counters, opening, first_error) = (
            target.clone(),
            addr.clone(),
            counters.clone(),
            opening.clone(),
            first_error.clone(),
        );
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        opened.push(done_rx);
        tokio::task::spawn_local(async move {
            let counter = &counters[i];
            let permit = opening
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let result = match &*target {
                Target::Rtmp { app, stream } => {
                    rtmp::play(&addr, app, stream, counter, permit, done_tx).await
                }
                Target::Http { path } => http::play(&addr, path, counter, permit, done_tx).await,
            };
            counter.open.set(false);
            if let Err(e) = result {
                counter.failed.set(true);
                first_error
                    .borrow_mut()
                    .get_or_insert_with(|| e.to_string());
            }
        });
    }
    for done in opened {
        let _ = done.await;
    }
    let (open, failed) = tally(&counters);
    let error = first_error.borrow().clone().unwrap_or_default();
    let mut stdout = tokio::io::stdout();
    let ready = format!(
        "{{\"ready\":true,\"open\":{open},\"failed\":{failed},\"error\":{}}}\n",
        json_string(&error)
    );
    let _ = stdout.write_all(ready.as_bytes()).await;
    let _ = stdout.flush().await;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim() != "report" {
            continue;
        }
        let (open, failed) = tally(&counters);
        let bytes: Vec<String> = counters.iter().map(|c| c.bytes.get().to_string()).collect();
        let out = format!(
            "{{\"bytes\":[{}],\"open\":{open},\"failed\":{failed}}}\n",
            bytes.join(",")
        );
        if stdout.write_all(out.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
            break;
        }
    }
}

fn tally(counters: &[Counter]) -> (usize, usize) {
    let open = counters.iter().filter(|c| c.open.get()).count();
    let failed = counters.iter().filter(|c| c.failed.get()).count();
    (open, failed)
}

/// A JSON string literal of `s` (RFC 8259 §7).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
