//! One accepted connection: a reader task (socket → core → batches for the app) and a
//! writer task (queued output → socket), sharing the core session behind a mutex that
//! is never held across an await.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, Semaphore};

use super::{BatchBuilder, EventSink, RuntimeError, ServerConfig};
use crate::proto::chunk::OutgoingHeader;
use crate::proto::handshake::{Role, RANDOM_SIZE};
use crate::proto::message::ControlMessage;
use crate::proto::session::{Event, Session, Windows};

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 64 * 1024;

/// How the app asked the connection to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Running,
    /// Flush what is queued, then close.
    End,
    /// Close now, dropping what is queued.
    Destroy,
}

struct Shared {
    id: u64,
    remote: SocketAddr,
    local: SocketAddr,
    config: ServerConfig,
    session: Mutex<Session>,
    wake_writer: Notify,
    /// Bytes taken from the session by the writer and not yet written.
    writing: AtomicUsize,
    shutdown: watch::Sender<Shutdown>,
}

/// The app's handle on a connection: send messages, read its state, close it.
#[derive(Clone)]
pub struct ConnectionHandle {
    shared: Arc<Shared>,
}

impl ConnectionHandle {
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    pub fn remote_addr(&self) -> SocketAddr {
        self.shared.remote
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while the lock was held already ended this session's tasks; the
        // session state itself stays consistent enough to report and close.
        self.shared
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_open(&self) -> bool {
        *self.shared.shutdown.borrow() == Shutdown::Running
    }

    /// Runs `f` on the session and wakes the writer. Returns false when the queued
    /// bytes are past the high-water mark (like `socket.write`).
    fn queue<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, RuntimeError>,
    ) -> Result<bool, RuntimeError> {
        if !self.is_open() {
            return Err(RuntimeError::Closed);
        }
        let queued = {
            let mut session = self.session();
            f(&mut session)?;
            session.pending_output()
        } + self.shared.writing.load(Ordering::Relaxed);
        self.shared.wake_writer.notify_one();
        if queued > self.shared.config.max_send_buffer {
            let err = RuntimeError::SendBufferFull {
                queued,
                limit: self.shared.config.max_send_buffer,
            };
            self.destroy();
            return Err(err);
        }
        Ok(queued <= self.shared.config.send_high_water)
    }

    /// Queues a message (split into chunks by the core).
    pub fn send(&self, header: &OutgoingHeader, payload: &[u8]) -> Result<bool, RuntimeError> {
        self.queue(|s| {
            s.send(header, payload);
            Ok(())
        })
    }

    /// Queues bytes as they are, bypassing the chunk encoder.
    pub fn send_raw(&self, bytes: &[u8]) -> Result<bool, RuntimeError> {
        self.queue(|s| {
            s.send_raw(bytes);
            Ok(())
        })
    }

    /// Queues a protocol control or user control message.
    pub fn send_control(&self, control: ControlMessage) -> Result<bool, RuntimeError> {
        self.queue(|s| Ok(s.send_control(control)?))
    }

    /// Queues an Acknowledgement of the bytes received so far.
    pub fn send_ack(&self) -> Result<bool, RuntimeError> {
        self.queue(|s| {
            s.send_ack();
            Ok(())
        })
    }

    pub fn windows(&self) -> Windows {
        self.session().windows()
    }

    pub fn bytes_received(&self) -> u32 {
        self.session().bytes_received()
    }

    /// Flushes queued bytes, then closes the connection.
    pub fn end(&self) {
        self.shared.shutdown.send_if_modified(|s| {
            let change = *s == Shutdown::Running;
            if change {
                *s = Shutdown::End;
            }
            change
        });
        self.shared.wake_writer.notify_one();
    }

    /// Closes the connection now.
    pub fn destroy(&self) {
        self.shared.shutdown.send_replace(Shutdown::Destroy);
        self.shared.wake_writer.notify_one();
    }
}

/// Runs a connection until it closes, then reports to the sink. Panics in the
/// connection's tasks are contained and reported as [`RuntimeError::Panic`].
pub(super) async fn serve(
    id: u64,
    stream: TcpStream,
    config: ServerConfig,
    sink: Arc<dyn EventSink>,
) {
    let outcome = tokio::spawn(run(id, stream, config, sink.clone())).await;
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(join) => Some(RuntimeError::Panic(panic_message(join))),
    };
    sink.closed(id, error);
}

fn panic_message(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into()),
        Err(e) => e.to_string(),
    }
}

async fn run(
    id: u64,
    stream: TcpStream,
    config: ServerConfig,
    sink: Arc<dyn EventSink>,
) -> Result<(), RuntimeError> {
    stream.set_nodelay(true)?;
    let remote = stream.peer_addr()?;
    let local = stream.local_addr()?;
    let mut random = [0u8; RANDOM_SIZE];
    getrandom::fill(&mut random).map_err(|e| RuntimeError::Io(std::io::Error::other(e)))?;
    let (shutdown, _) = watch::channel(Shutdown::Running);
    let shared = Arc::new(Shared {
        id,
        remote,
        local,
        config,
        session: Mutex::new(Session::new(Role::Server, config.limits, 0, &random)),
        wake_writer: Notify::new(),
        writing: AtomicUsize::new(0),
        shutdown,
    });
    let handle = ConnectionHandle { shared };
    sink.connection(handle.clone());
    let (reader, writer) = stream.into_split();
    let mut writer_task = tokio::spawn(write_loop(writer, handle.clone()));
    let read_result = tokio::select! {
        r = read_loop(reader, &handle, &sink) => r,
        w = &mut writer_task => return flatten(w),
    };
    match read_result {
        // The peer closed its side: flush what is queued, then close.
        Ok(()) => handle.end(),
        Err(_) => handle.destroy(),
    }
    let write_result = flatten(writer_task.await);
    read_result.and(write_result)
}

fn flatten(
    joined: Result<Result<(), RuntimeError>, tokio::task::JoinError>,
) -> Result<(), RuntimeError> {
    joined.map_err(|e| RuntimeError::Panic(panic_message(e)))?
}

async fn read_loop(
    reader: OwnedReadHalf,
    handle: &ConnectionHandle,
    sink: &Arc<dyn EventSink>,
) -> Result<(), RuntimeError> {
    let config = handle.shared.config;
    let started = Instant::now();
    let credits = Arc::new(Semaphore::new(config.in_flight_batches));
    let mut shutdown = handle.shared.shutdown.subscribe();
    // The read buffer is allocated only while bytes are waiting: an idle session
    // holds none.
    let mut input = BytesMut::new();
    let mut batch = BatchBuilder::default();
    let mut established = false;
    loop {
        let readable = reader.readable();
        if established {
            tokio::select! {
                r = readable => r?,
                _ = shutdown.wait_for(|s| *s != Shutdown::Running) => return Ok(()),
            }
        } else {
            let deadline = tokio::time::Instant::from_std(started + config.handshake_timeout);
            tokio::select! {
                r = tokio::time::timeout_at(deadline, readable) => r.map_err(|_| {
                    RuntimeError::HandshakeTimeout(config.handshake_timeout.as_millis())
                })??,
                _ = shutdown.wait_for(|s| *s != Shutdown::Running) => return Ok(()),
            }
        }
        input.reserve(READ_SIZE);
        match reader.try_read_buf(&mut input) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.into()),
        }
        loop {
            let now_ms = started.elapsed().as_millis() as u32;
            let event = {
                let mut session = handle.session();
                let event = session.poll(&mut input, now_ms);
                if session.pending_output() > 0 {
                    handle.shared.wake_writer.notify_one();
                }
                event?
            };
            match event {
                None => break,
                Some(Event::HandshakeDone) => established = true,
                Some(Event::Message(msg)) => {
                    batch.push(&msg);
                    if batch.data_len() >= config.max_batch_bytes {
                        let permit = credits.clone().acquire_owned().await.ok();
                        sink.batch(handle.id(), batch.take(permit));
                    }
                }
            }
        }
        if !batch.is_empty() {
            let permit = credits.clone().acquire_owned().await.ok();
            sink.batch(handle.id(), batch.take(permit));
        }
        if input.is_empty() {
            input = BytesMut::new();
        }
    }
}

async fn write_loop(
    mut writer: OwnedWriteHalf,
    handle: ConnectionHandle,
) -> Result<(), RuntimeError> {
    let shared = &handle.shared;
    loop {
        let state = *shared.shutdown.borrow();
        if state == Shutdown::Destroy {
            return Ok(());
        }
        let out = handle.session().take_output();
        if !out.is_empty() {
            shared.writing.store(out.len(), Ordering::Relaxed);
            let mut shutdown = shared.shutdown.subscribe();
            tokio::select! {
                r = writer.write_all(&out) => r?,
                _ = shutdown.wait_for(|s| *s == Shutdown::Destroy) => return Ok(()),
            }
            shared.writing.store(0, Ordering::Relaxed);
            continue;
        }
        if state == Shutdown::End {
            // Best effort: the peer may already be gone.
            let _ = writer.shutdown().await;
            return Ok(());
        }
        shared.wake_writer.notified().await;
    }
}
