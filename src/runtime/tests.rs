//! Runtime tests over loopback with a core client session as the peer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::proto::chunk::OutgoingHeader;
use crate::proto::handshake::{Role, RANDOM_SIZE};
use crate::proto::session::{Event, Session};

/// Records events; keeps batches (and their permits) until told to release them.
#[derive(Default)]
struct Recorder {
    connections: Mutex<Vec<ConnectionHandle>>,
    batches: Mutex<Vec<Batch>>,
    closed: Mutex<Vec<Option<String>>>,
}

impl EventSink for Recorder {
    fn connection(&self, conn: ConnectionHandle) {
        self.connections.lock().unwrap().push(conn);
    }
    fn ready(&self, _conn_id: u64) {}
    fn batch(&self, _conn_id: u64, batch: Batch) {
        self.batches.lock().unwrap().push(batch);
    }
    fn closed(&self, _conn_id: u64, error: Option<RuntimeError>) {
        self.closed
            .lock()
            .unwrap()
            .push(error.map(|e| e.code().to_string()));
    }
}

/// Connects a client core session and completes the handshake.
async fn connect(port: u16) -> (TcpStream, Session) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut client = Session::new(Role::Client, Default::default(), 0, &[7; RANDOM_SIZE]);
    let mut input = BytesMut::new();
    loop {
        let event = client.poll(&mut input, 0).unwrap();
        stream.write_all(&client.take_output()).await.unwrap();
        if event == Some(Event::HandshakeDone) {
            return (stream, client);
        }
        stream.read_buf(&mut input).await.unwrap();
    }
}

fn start(config: ServerConfig) -> (ServerHandle, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let server = bind(
        "127.0.0.1:0".parse().unwrap(),
        config,
        None,
        recorder.clone(),
    )
    .unwrap();
    (server, recorder)
}

async fn eventually(mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 2 s");
}

#[tokio::test]
async fn a_message_reaches_the_sink_packed_with_its_header_fields() {
    let (server, recorder) = start(ServerConfig::default());
    let (mut stream, mut client) = connect(server.local_addr().port()).await;
    let header = OutgoingHeader {
        csid: 6,
        timestamp: 1234,
        type_id: 9,
        stream_id: 1,
    };
    client.send(&header, &[0x17, 0, 1, 2]);
    stream.write_all(&client.take_output()).await.unwrap();
    eventually(|| !recorder.batches.lock().unwrap().is_empty()).await;
    let batch = recorder.batches.lock().unwrap().remove(0);
    assert_eq!(batch.meta, vec![9, 1234, 1, 6, 0, 0, 4]);
    assert_eq!(batch.data, vec![0x17, 0, 1, 2]);
    assert_eq!(recorder.connections.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_app_that_holds_its_batches_stops_the_socket_being_read() {
    let config = ServerConfig {
        in_flight_batches: 2,
        ..ServerConfig::default()
    };
    let (server, recorder) = start(config);
    let (stream, mut client) = connect(server.local_addr().port()).await;
    let (mut rd, mut wr) = stream.into_split();
    // Drain what the server sends so only our direction can block.
    tokio::spawn(async move { while rd.read(&mut [0u8; 4096]).await.is_ok_and(|n| n > 0) {} });
    let writer = tokio::spawn(async move {
        let payload = vec![5u8; 64 * 1024];
        let header = OutgoingHeader {
            csid: 6,
            timestamp: 0,
            type_id: 9,
            stream_id: 1,
        };
        for _ in 0..800 {
            client.send(&header, &payload);
            if wr.write_all(&client.take_output()).await.is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let conn = recorder.connections.lock().unwrap()[0].clone();
    let read = conn.bytes_received() as usize;
    // 50 MB offered; at most 2 batches (+ the batch being filled and one read buffer)
    // may be taken from the socket while the app holds them.
    assert!(
        read < 2 * 1024 * 1024,
        "server read {read} bytes while the app was stalled"
    );
    assert!(
        !writer.is_finished(),
        "the writer is blocked by TCP backpressure"
    );
    // Releasing the batches lets the rest flow.
    recorder.batches.lock().unwrap().clear();
    let recorder2 = recorder.clone();
    let drain = tokio::spawn(async move {
        loop {
            recorder2.batches.lock().unwrap().clear();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    tokio::time::timeout(Duration::from_secs(20), writer)
        .await
        .unwrap()
        .unwrap();
    eventually(|| conn.bytes_received() as usize > 800 * 64 * 1024).await;
    drain.abort();
}

#[tokio::test]
async fn junk_ends_only_its_session_with_a_handshake_error() {
    let (server, recorder) = start(ServerConfig::default());
    let mut junk = TcpStream::connect(server.local_addr()).await.unwrap();
    junk.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    eventually(|| !recorder.closed.lock().unwrap().is_empty()).await;
    assert_eq!(
        recorder.closed.lock().unwrap()[0].as_deref(),
        Some("ERR_RTMP_HANDSHAKE")
    );
    let (_stream, _client) = connect(server.local_addr().port()).await;
    assert_eq!(recorder.connections.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_panic_in_a_connection_task_ends_only_that_session_and_closes_its_socket() {
    let (server, recorder) = start(ServerConfig::default());
    let port = server.local_addr().port();
    let (mut doomed, _) = connect(port).await;
    let (mut healthy, mut client) = connect(port).await;
    eventually(|| recorder.connections.lock().unwrap().len() == 2).await;
    recorder.connections.lock().unwrap()[0].inject_panic();
    eventually(|| !recorder.closed.lock().unwrap().is_empty()).await;
    assert_eq!(
        recorder.closed.lock().unwrap()[0].as_deref(),
        Some("ERR_RTMP_INTERNAL")
    );
    // The panicking session's socket is closed: its writer task did not linger.
    let read = tokio::time::timeout(Duration::from_secs(2), doomed.read(&mut [0u8; 64])).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    // The other session goes on, and the server still accepts.
    let header = OutgoingHeader {
        csid: 6,
        timestamp: 0,
        type_id: 8,
        stream_id: 1,
    };
    client.send(&header, &[0xaf, 1, 2]);
    healthy.write_all(&client.take_output()).await.unwrap();
    eventually(|| !recorder.batches.lock().unwrap().is_empty()).await;
    let (_again, _) = connect(port).await;
    eventually(|| recorder.connections.lock().unwrap().len() == 3).await;
}

#[test]
fn io_threads_default_to_one_and_refuse_what_is_not_a_small_count() {
    assert_eq!(io_threads(None), Ok(1));
    assert_eq!(io_threads(Some(" 4 ")), Ok(4));
    for bad in ["0", "65", "two", "-1", ""] {
        let err = io_threads(Some(bad)).unwrap_err();
        assert!(err.contains(IO_THREADS_VAR), "{err}");
    }
}
