//! One accepted connection: a reader task (socket → core → batches for the app) and a
//! writer task (queued output → socket), sharing the core session behind a mutex that
//! is never held across an await.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

use super::shutdown::{Shutdown, ShutdownSignal};
use super::transport::{Reader, Transport, Writer};
use super::{BatchBuilder, EventSink, RuntimeError, ServerConfig, Warning};
use crate::proto::chunk::{Message, OutgoingHeader};
use crate::proto::command::is_command_named;
use crate::proto::handshake::{Role, RANDOM_SIZE};
use crate::proto::message::{type_id, ControlMessage};
use crate::proto::outbound::{DropStats, Offer, SendQueue, SharedFrame, MAX_IOVECS};
use crate::proto::session::{Counters, Event, Session, Windows};

/// Bytes handed to one vectored write.
const WRITE_SIZE: usize = 256 * 1024;

/// Least time between two warnings of media dropped for one slow peer, in ms.
const DROP_WARNING_INTERVAL_MS: u64 = 10_000;

/// The commands after which a connection with
/// [`ServerConfig::pause_on_stream_commands`] stops reading until the app resumes it.
const PAUSING_COMMANDS: [&str; 2] = ["publish", "play"];

/// Bytes of a command's payload that hold its name if it is one of
/// [`PAUSING_COMMANDS`]: an AMF3 format byte, the AMF0 string header, "publish".
const PAUSING_NAME_BYTES: usize = 1 + 3 + 7;

/// Buffers [`ConnectionHandle::relay_now`] reuses from one player to the next.
#[derive(Default)]
pub(super) struct RelayScratch {
    frames: Vec<(u32, Arc<SharedFrame>)>,
}

/// Where a publishing connection's audio, video and data messages go: the relay's hub
/// of a live stream (`relay::Hub`). A trait, so that the connection does not depend on
/// the relay that depends on it.
pub trait PublishTarget: Send + Sync {
    /// Takes one published message.
    fn publish(&self, msg: &Message);
    /// Sends the players what was published since the last flush.
    fn flush_players(&self);
    /// Flushes if what is pending is due at `now`; otherwise says when it will be.
    fn flush_players_when_due(&self, now: Instant) -> Option<Instant>;
    /// The publisher stopped (unpublished, or its connection closed).
    fn publisher_left(&self);
}

/// Where a connection's published messages go.
struct Publishing {
    target: Arc<dyn PublishTarget>,
    stream_id: u32,
    emit: bool,
}

/// The core session and the queue of what is waiting to be written, under one lock so
/// that the session's own messages and shared media frames keep their order.
pub(super) struct ConnState {
    pub(super) session: Session,
    pub(super) queue: SendQueue,
    /// The plain TCP socket while the writer task runs, for [`ConnectionHandle::relay_now`].
    direct: Option<Arc<TcpStream>>,
    /// A direct write left bytes the socket did not take: the write path is busy until
    /// the writer task has taken the queue, and relayed frames only join the queue
    /// meanwhile (merged into the writer's next write) instead of trying a `sendmsg`
    /// the full socket would refuse.
    backed_up: bool,
}

impl ConnState {
    /// Moves what the session encoded into the send queue.
    fn flush(&mut self) {
        let out = self.session.take_output();
        self.queue.push_own(out.freeze());
    }
}

struct Shared {
    id: u64,
    remote: SocketAddr,
    local: SocketAddr,
    config: ServerConfig,
    state: Mutex<ConnState>,
    wake_writer: Notify,
    /// Held by whoever is writing to the socket (the writer task, or a
    /// [`ConnectionHandle::relay_now`] caller), so that writes keep the queue's order.
    writing: AtomicBool,
    /// How the app asked the connection to stop; read for every relayed message
    /// (an atomic load).
    shutdown: ShutdownSignal,
    /// Whether received Acknowledgements go to the app (see
    /// [`ConnectionHandle::set_deliver_acks`]).
    deliver_acks: AtomicBool,
    /// Set while this connection publishes a stream to a relay hub.
    publishing: Mutex<Option<Publishing>>,
    /// The session clock's origin (timestamps of pings and the handshake).
    started: Instant,
    /// Where drains and warnings of this connection are reported.
    sink: Arc<dyn EventSink>,
    /// Reading stopped after a publish or play command, until
    /// [`ConnectionHandle::resume_reading`].
    paused: AtomicBool,
    resume: Notify,
    /// The app waits for the send queue to empty ([`ConnectionHandle::request_drain`]).
    want_drain: AtomicBool,
    /// The session clock's ms before which a slow-peer warning is not repeated.
    next_drop_warning_ms: AtomicU64,
}

/// The app's handle on a connection: send messages, read its state, close it.
#[derive(Clone)]
pub struct ConnectionHandle {
    shared: Arc<Shared>,
}

impl ConnectionHandle {
    /// The handle of a new connection between `addrs` (remote, local) writing through
    /// `writer`, reporting drains and warnings to `sink`.
    fn new(
        id: u64,
        (remote, local): (SocketAddr, SocketAddr),
        config: ServerConfig,
        session: Session,
        writer: &Writer,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        let shared = Arc::new(Shared {
            id,
            remote,
            local,
            config,
            state: Mutex::new(ConnState {
                session,
                queue: SendQueue::new(config.send_queue_limit),
                direct: writer.direct(),
                backed_up: false,
            }),
            wake_writer: Notify::new(),
            writing: AtomicBool::new(false),
            deliver_acks: AtomicBool::new(true),
            shutdown: ShutdownSignal::new(),
            publishing: Mutex::new(None),
            started: Instant::now(),
            sink,
            paused: AtomicBool::new(false),
            resume: Notify::new(),
            want_drain: AtomicBool::new(false),
            next_drop_warning_ms: AtomicU64::new(0),
        });
        Self { shared }
    }

    pub fn id(&self) -> u64 {
        self.shared.id
    }

    pub fn remote_addr(&self) -> SocketAddr {
        self.shared.remote
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    fn state(&self) -> MutexGuard<'_, ConnState> {
        // A panic while the lock was held already ended this session's tasks; the
        // state itself stays consistent enough to report and close.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_open(&self) -> bool {
        self.shared.shutdown.get() == Shutdown::Running
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
            let mut state = self.state();
            f(&mut state.session)?;
            state.flush();
            state.queue.queued_bytes()
        };
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
        self.state().session.windows()
    }

    pub fn bytes_received(&self) -> u32 {
        self.state().session.bytes_received()
    }

    /// Bytes and messages so far (shared frames included), the last ping RTT, and
    /// what the send queue dropped.
    pub fn counters(&self) -> (Counters, DropStats) {
        let state = self.state();
        let mut c = state.session.counters();
        c.bytes_out += state.queue.shared_bytes();
        (c, state.queue.dropped())
    }

    /// Sends a PingRequest on the session clock; its answer sets the RTT.
    pub fn ping(&self) -> Result<bool, RuntimeError> {
        let now_ms = self.shared.started.elapsed().as_millis() as u32;
        self.queue(|s| Ok(s.send_ping(now_ms)?))
    }

    /// Bytes waiting to be written to the peer.
    pub fn queued_bytes(&self) -> usize {
        self.state().queue.queued_bytes()
    }

    /// Media frames the send queue's drop policy refused.
    pub fn dropped(&self) -> DropStats {
        self.state().queue.dropped()
    }

    /// True until the connection starts closing.
    pub fn is_running(&self) -> bool {
        self.is_open()
    }

    /// Queues a shared frame past the drop policy (a joining player's burst).
    pub(super) fn push_frame(&self, csid: u32, encode: impl FnOnce(u32) -> Arc<SharedFrame>) {
        if !self.is_open() {
            return;
        }
        {
            let mut state = self.state();
            state.flush();
            let frame = encode(state.session.windows().send_chunk_size);
            state.queue.push_shared(frame);
            state.session.forget_chunk_stream(csid);
        }
        self.wake_writer();
    }

    pub(super) fn wake_writer(&self) {
        self.shared.wake_writer.notify_one();
    }

    /// Offers relayed media frames to the send queue's drop policy, then writes what is
    /// queued from the calling task (the publisher's reader) if the write path is idle:
    /// a vectored write that never waits, instead of waking the writer task, often on
    /// the other worker thread (nginx-rtmp, on one thread, writes to its players the
    /// same way). `encode` gives the frames `(csid, frame)` for this connection's send
    /// chunk size; it runs under the lock, so the size cannot change meanwhile. What
    /// the socket does not take now, and everything on TLS, is left to the writer task;
    /// while it has work (it is mid-write, or a direct write left bytes), frames only
    /// join the queue and go out merged in its next write.
    pub(super) fn relay_now(
        &self,
        encode: impl FnOnce(u32, &mut Vec<(u32, Arc<SharedFrame>)>),
        scratch: &mut RelayScratch,
    ) {
        if !self.is_open() {
            return;
        }
        let shared = &self.shared;
        let claimed = !shared.writing.swap(true, Ordering::SeqCst);
        let mut dropped = false;
        let writer_needed = {
            // The write never waits, so holding the lock meanwhile costs little.
            let mut guard = self.state();
            let state = &mut *guard;
            state.flush();
            encode(state.session.windows().send_chunk_size, &mut scratch.frames);
            for (csid, frame) in scratch.frames.drain(..) {
                match state.queue.offer(frame) {
                    Offer::Queued => state.session.forget_chunk_stream(csid),
                    Offer::Dropped => dropped = true,
                }
            }
            if claimed {
                if let Some(socket) = state.direct.as_ref().filter(|_| !state.backed_up) {
                    write_without_waiting(socket, &mut state.queue);
                    state.backed_up = !state.queue.is_empty();
                }
                shared.writing.store(false, Ordering::SeqCst);
            }
            // Unclaimed: the writer is mid-write and takes the queue after it. A
            // drain the app waits for is reported by the writer task.
            !state.queue.is_empty() || !self.is_open() || shared.want_drain.load(Ordering::SeqCst)
        };
        if writer_needed {
            self.wake_writer();
        }
        if dropped {
            self.warn_dropping();
        }
    }

    /// Reports media dropped for this peer: at once the first time, then at most every
    /// [`DROP_WARNING_INTERVAL_MS`].
    fn warn_dropping(&self) {
        let shared = &self.shared;
        let now = shared.started.elapsed().as_millis() as u64;
        let due = shared.next_drop_warning_ms.load(Ordering::Relaxed);
        if now < due
            || shared
                .next_drop_warning_ms
                .compare_exchange(
                    due,
                    now + DROP_WARNING_INTERVAL_MS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let d = self.dropped();
        shared.sink.warning(
            shared.id,
            Warning::SlowPeer {
                video: d.video_frames,
                audio: d.audio_frames,
                limit: shared.config.send_queue_limit,
            },
        );
    }

    /// Reading resumes after a publish or play command paused it
    /// ([`ServerConfig::pause_on_stream_commands`]); what the peer sent meanwhile is
    /// then read in order. No effect on a connection that is not paused.
    pub fn resume_reading(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
        self.shared.resume.notify_one();
    }

    /// Whether the connection stops reading after `msg` until the app resumes it.
    fn pauses_after(&self, msg: &Message) -> bool {
        self.shared.config.pause_on_stream_commands
            && matches!(msg.type_id, type_id::AMF0_COMMAND | type_id::AMF3_COMMAND)
            && is_command_named(
                msg.type_id,
                &msg.payload.head(PAUSING_NAME_BYTES),
                &PAUSING_COMMANDS,
            )
    }

    /// True if nothing waits to be written; otherwise the sink's `drained` is called
    /// once it has all been written (or never, if the connection closes first).
    pub fn request_drain(&self) -> bool {
        let state = self.state();
        if state.queue.is_empty() {
            return true;
        }
        self.shared.want_drain.store(true, Ordering::SeqCst);
        false
    }

    /// Whether received Acknowledgements (RTMP 1.0 §5.4.3) are delivered to the app, as
    /// every message is by default. A peer acknowledges every window of bytes it gets,
    /// so a server with many players gets a steady stream of them; an app that cannot
    /// see them (no handler or listener for them) turns them off, and they then never
    /// wake the JS thread.
    pub fn set_deliver_acks(&self, deliver: bool) {
        self.shared.deliver_acks.store(deliver, Ordering::Relaxed);
    }

    /// Forwards this connection's audio, video and data messages on message stream
    /// `stream_id` to `target`; `emit` keeps delivering them to the app too.
    pub fn publish(&self, target: Arc<dyn PublishTarget>, stream_id: u32, emit: bool) {
        *self.publishing() = Some(Publishing {
            target,
            stream_id,
            emit,
        });
    }

    /// Stops forwarding; returns the target it published to.
    pub fn unpublish(&self) -> Option<Arc<dyn PublishTarget>> {
        self.publishing().take().map(|p| p.target)
    }

    /// Forwards a received message to the hub this connection publishes to; returns
    /// whether the app should still receive it.
    fn relay(&self, msg: &Message) -> bool {
        let target = match self.publishing().as_ref() {
            Some(p) if p.stream_id == msg.stream_id && matches!(msg.type_id, 8 | 9 | 18) => {
                Some((p.target.clone(), p.emit))
            }
            _ => None,
        };
        match target {
            Some((target, emit)) => {
                target.publish(msg);
                emit
            }
            None => true,
        }
    }

    /// Sends the players of the stream this connection publishes what it published
    /// since the last call.
    fn flush_players(&self) {
        if let Some(target) = self.publishing_target() {
            target.flush_players();
        }
    }

    /// [`PublishTarget::flush_players_when_due`] for the stream this connection
    /// publishes: when to flush if no read comes first.
    fn flush_players_when_due(&self) -> Option<Instant> {
        self.publishing_target()?
            .flush_players_when_due(Instant::now())
    }

    fn publishing_target(&self) -> Option<Arc<dyn PublishTarget>> {
        self.publishing().as_ref().map(|p| p.target.clone())
    }

    /// Whether a received message goes to the app.
    fn delivers(&self, msg: &Message) -> bool {
        msg.type_id != type_id::ACKNOWLEDGEMENT || self.shared.deliver_acks.load(Ordering::Relaxed)
    }

    fn publishing(&self) -> MutexGuard<'_, Option<Publishing>> {
        self.shared
            .publishing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Flushes queued bytes, then closes the connection.
    pub fn end(&self) {
        self.shared.shutdown.end();
        self.shared.wake_writer.notify_one();
    }

    /// Closes the connection now.
    pub fn destroy(&self) {
        self.shared.shutdown.set(Shutdown::Destroy);
        self.shared.wake_writer.notify_one();
    }

    /// Fault injection for tests: makes the connection's reader task panic.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn inject_panic(&self) {
        self.shared.shutdown.set(Shutdown::InjectedPanic);
    }
}

/// Ends the connection however [`run`] ends, unwinding from a panic included: the
/// writer task stops (closing the socket) and a relay publication ends.
struct CloseOnExit(ConnectionHandle);

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        self.0.destroy();
        if let Some(target) = self.0.unpublish() {
            target.publisher_left();
        }
    }
}

/// What the reader does once the app asked the connection to stop.
fn stop_reading(state: Shutdown) -> Result<(), RuntimeError> {
    #[cfg(any(test, feature = "test-hooks"))]
    if state == Shutdown::InjectedPanic {
        panic!("injected panic in the connection's reader task");
    }
    #[cfg(not(any(test, feature = "test-hooks")))]
    let _ = state; // only fault injection tells the ways of stopping apart
    Ok(())
}

/// How a connection gets its transport (TCP connect, TLS handshake). Boxed: the
/// handshake's state (rustls' is kilobytes) is freed once it is done, instead of
/// staying part of every connection task's future.
pub(super) type Establish =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Transport, RuntimeError>> + Send>>;

/// Establishes a connection's transport and runs the session on a task of its own
/// until it closes; the returned future reports the end to the sink. Panics in the
/// connection's tasks are contained and reported as [`RuntimeError::Panic`]. Must be
/// called in the runtime's context. The reporting future holds only the task's
/// handle, not a second copy of the session's state.
pub(super) fn serve(
    id: u64,
    establish: Establish,
    role: Role,
    config: ServerConfig,
    sink: Arc<dyn EventSink>,
) -> impl std::future::Future<Output = ()> + Send {
    let session_sink = sink.clone();
    let session =
        tokio::spawn(async move { run(id, establish.await?, role, config, session_sink).await });
    async move {
        let error = match session.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(join) => Some(RuntimeError::Panic(panic_message(join))),
        };
        sink.closed(id, error);
    }
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

/// A core session with a fresh random C1/S1. Not async: the random bytes stay on the
/// stack instead of becoming part of the connection task's future for its lifetime.
fn new_session(role: Role, config: ServerConfig) -> Result<Session, RuntimeError> {
    let mut random = [0u8; RANDOM_SIZE];
    getrandom::fill(&mut random).map_err(|e| RuntimeError::Io(std::io::Error::other(e)))?;
    Ok(Session::new(role, config.limits, 0, &random))
}

async fn run(
    id: u64,
    stream: Transport,
    role: Role,
    config: ServerConfig,
    sink: Arc<dyn EventSink>,
) -> Result<(), RuntimeError> {
    stream.set_nodelay()?;
    let remote = stream.peer_addr()?;
    let local = stream.local_addr()?;
    let session = new_session(role, config)?;
    let (reader, writer) = stream.split();
    let handle = ConnectionHandle::new(id, (remote, local), config, session, &writer, sink.clone());
    let _close_on_exit = CloseOnExit(handle.clone());
    sink.connection(handle.clone());
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
    mut reader: Reader,
    handle: &ConnectionHandle,
    sink: &Arc<dyn EventSink>,
) -> Result<(), RuntimeError> {
    let config = handle.shared.config;
    let started = handle.shared.started;
    let credits = Arc::new(Semaphore::new(config.in_flight_batches));
    let shutdown = &handle.shared.shutdown;
    // The read buffer is allocated only while bytes are waiting: an idle session
    // holds none.
    let mut input = BytesMut::new();
    let mut batch = BatchBuilder::default();
    let mut established = false;
    // When the players of the stream this connection publishes are due what it sent.
    let mut merge_deadline = None;
    // Parsing stopped after a publish or play with input left in the buffer: it is
    // parsed once the app resumes, before anything more is read.
    let mut held = false;
    // A client writes C0+C1 before reading anything.
    {
        let mut state = handle.state();
        state.session.poll(&mut input, 0)?;
        state.flush();
    }
    handle.shared.wake_writer.notify_one();
    loop {
        let paused = handle.shared.paused.load(Ordering::SeqCst);
        if held && !paused {
            held = false;
        } else {
            let read = reader.read_some(&mut input);
            let read = if established {
                let idle = config.idle_timeout;
                let idle_deadline =
                    tokio::time::sleep(idle.unwrap_or(std::time::Duration::MAX / 4));
                let merge_due = match merge_deadline {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)),
                    None => tokio::time::sleep(std::time::Duration::MAX / 4),
                };
                tokio::select! {
                    r = read, if !paused => r?,
                    // Paused: nothing is read until the app resumes.
                    _ = handle.shared.resume.notified(), if paused => continue,
                    _ = merge_due, if merge_deadline.is_some() => {
                        merge_deadline = None;
                        handle.flush_players();
                        continue;
                    }
                    _ = idle_deadline, if idle.is_some() && !paused => {
                        return Err(RuntimeError::IdleTimeout(idle.unwrap_or_default().as_millis()));
                    }
                    s = shutdown.wait_for(|s| s != Shutdown::Running) => {
                        return stop_reading(s);
                    }
                }
            } else {
                let deadline = tokio::time::Instant::from_std(started + config.handshake_timeout);
                tokio::select! {
                    r = tokio::time::timeout_at(deadline, read) => r.map_err(|_| {
                        RuntimeError::HandshakeTimeout(config.handshake_timeout.as_millis())
                    })??,
                    s = shutdown.wait_for(|s| s != Shutdown::Running) => {
                        return stop_reading(s);
                    }
                }
            };
            if read == 0 {
                handle.flush_players();
                return Ok(());
            }
        }
        loop {
            let now_ms = started.elapsed().as_millis() as u32;
            let event = {
                let mut state = handle.state();
                let event = state.session.poll(&mut input, now_ms);
                if state.session.pending_output() > 0 {
                    state.flush();
                    handle.shared.wake_writer.notify_one();
                    // Replies (acks, ping responses) to a peer that never reads.
                    let queued = state.queue.queued_bytes();
                    if queued > config.max_send_buffer {
                        return Err(RuntimeError::SendBufferFull {
                            queued,
                            limit: config.max_send_buffer,
                        });
                    }
                }
                event?
            };
            match event {
                None => break,
                Some(Event::HandshakeDone) => {
                    established = true;
                    sink.ready(handle.id());
                }
                Some(Event::Message(msg)) => {
                    if !handle.relay(&msg) || !handle.delivers(&msg) {
                        continue;
                    }
                    batch.push(&msg);
                    // After a publish or play the command reaches the app now, and what
                    // follows it waits (unparsed, then in the socket) until it resumes.
                    let pause = handle.pauses_after(&msg);
                    if pause || batch.data_len() >= config.max_batch_bytes {
                        handle.flush_players();
                        let permit = credits.clone().acquire_owned().await.ok();
                        if pause {
                            handle.shared.paused.store(true, Ordering::SeqCst);
                        }
                        sink.batch(handle.id(), batch.take(permit));
                    }
                    if pause {
                        held = true;
                        // Paused until the app decides, which an authorize can make
                        // long, and every player joining at once is paused together.
                        keep_only_waiting_bytes(&mut input);
                        break;
                    }
                }
            }
        }
        merge_deadline = handle.flush_players_when_due();
        if !batch.is_empty() {
            let permit = credits.clone().acquire_owned().await.ok();
            sink.batch(handle.id(), batch.take(permit));
        }
    }
}

/// Keeps the bytes waiting in `input` in a buffer of their own size, giving back the
/// rest of the room a read reserved ([`Reader::read_some`]: 64 KiB, so 6.4 MB for 100
/// players paused at once, which the allocator then kept).
fn keep_only_waiting_bytes(input: &mut BytesMut) {
    if input.capacity() > input.len() {
        *input = BytesMut::from(&input[..]);
    }
}

pub(super) async fn write_loop(
    writer: Writer,
    handle: ConnectionHandle,
) -> Result<(), RuntimeError> {
    let result = write_queued(writer, &handle).await;
    // The socket closes once the reader is done too; no more direct writes to it.
    handle.state().direct = None;
    result
}

/// The writer task: writes the queue whenever woken, until the connection stops.
async fn write_queued(mut writer: Writer, handle: &ConnectionHandle) -> Result<(), RuntimeError> {
    let shared = &handle.shared;
    let mut parts: Vec<Bytes> = Vec::new();
    loop {
        let state = shared.shutdown.get();
        if state == Shutdown::Destroy {
            handle.state().queue.clear();
            return Ok(());
        }
        if shared.writing.swap(true, Ordering::SeqCst) {
            // A direct write is under way; it wakes this task if it leaves work.
            shared.wake_writer.notified().await;
            continue;
        }
        let drained = {
            let mut queued = handle.state();
            queued.queue.take(&mut parts, WRITE_SIZE);
            // What the socket did not take is this task's now: direct writes may try
            // again once it has written it (it holds `writing` meanwhile).
            queued.backed_up = false;
            parts.is_empty() && shared.want_drain.swap(false, Ordering::SeqCst)
        };
        if drained {
            shared.sink.drained(shared.id);
        }
        if !parts.is_empty() {
            let written = tokio::select! {
                // TLS keeps records it could not write yet: flush them too.
                r = async {
                    write_all_vectored(&mut writer, &mut parts).await?;
                    writer.flush().await
                } => Some(r),
                _ = shared.shutdown.wait_for(|s| s == Shutdown::Destroy) => None,
            };
            shared.writing.store(false, Ordering::SeqCst);
            match written {
                Some(r) => r?,
                None => return Ok(()),
            }
            continue;
        }
        shared.writing.store(false, Ordering::SeqCst);
        if state == Shutdown::End {
            // Best effort: the peer may already be gone.
            let _ = writer.shutdown().await;
            return Ok(());
        }
        // The queue is written out: a player's writes go out directly from here on
        // until its socket backs up, so the task gives back its list of buffers (one
        // write of a join burst takes up to WRITE_SIZE of frames, hundreds of them).
        parts = Vec::new();
        shared.wake_writer.notified().await;
    }
}

/// Consumes `written` bytes from the front of `parts[start..]`; returns the index of
/// the first buffer not yet written in full.
fn advance(parts: &mut [Bytes], mut start: usize, mut written: usize) -> usize {
    while written > 0 {
        let part = &mut parts[start];
        let n = written.min(part.len());
        part.advance(n);
        written -= n;
        if part.is_empty() {
            start += 1;
        }
    }
    start
}

/// Writes every buffer of `parts` (emptying it) with vectored writes.
async fn write_all_vectored(writer: &mut Writer, parts: &mut Vec<Bytes>) -> std::io::Result<()> {
    let mut start = 0;
    while start < parts.len() {
        // On the heap: an array would be part of every writer task's future, idle or
        // not (4 KiB per session).
        let slices: Vec<IoSlice<'_>> = parts[start..]
            .iter()
            .take(MAX_IOVECS)
            .map(|b| IoSlice::new(b))
            .collect();
        let written = writer.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        start = advance(parts, start, written);
    }
    parts.clear();
    Ok(())
}

/// Writes as much of `queue` as the socket takes without waiting. A plain `sendmsg`:
/// tokio's readiness is left as it is, and the writer task, if woken for what is left,
/// finds out itself that the socket is full. An error is left for the writer task to
/// meet on its next write. A peer that is gone raises no SIGPIPE: Node ignores it, as
/// tokio's own writes also rely on.
fn write_without_waiting(socket: &TcpStream, queue: &mut SendQueue) {
    let socket = socket2::SockRef::from(socket);
    while queue.write_front(|slices| socket.send_vectored(slices).unwrap_or(0)) > 0 {}
}

/// A server session's handle on one end of a loopback connection, for tests of what
/// holds handles; also its transport halves and the peer's end.
#[cfg(test)]
pub(super) async fn test_handle(id: u64) -> (ConnectionHandle, Reader, Writer, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (peer, _) = listener.accept().await.unwrap();
    let addrs = (stream.peer_addr().unwrap(), stream.local_addr().unwrap());
    let config = ServerConfig::default();
    let (reader, writer) = Transport::Tcp(stream).split();
    let session = new_session(Role::Server, config).unwrap();
    let handle = ConnectionHandle::new(id, addrs, config, session, &writer, Arc::new(NoSink));
    (handle, reader, writer, peer)
}

/// A sink that ignores everything, for tests.
#[cfg(test)]
pub(super) struct NoSink;

#[cfg(test)]
impl EventSink for NoSink {
    fn connection(&self, _: ConnectionHandle) {}
    fn ready(&self, _: u64) {}
    fn batch(&self, _: u64, _: super::Batch) {}
    fn closed(&self, _: u64, _: Option<RuntimeError>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_reader_keeps_its_waiting_bytes_and_no_more_room() {
        let mut input = BytesMut::with_capacity(64 * 1024);
        input.extend_from_slice(b"the next command");
        keep_only_waiting_bytes(&mut input);
        assert_eq!(&input[..], b"the next command");
        assert_eq!(input.capacity(), input.len());
        let mut empty = BytesMut::with_capacity(64 * 1024);
        keep_only_waiting_bytes(&mut empty);
        assert_eq!(empty.capacity(), 0);
    }

    /// An idle session's memory is mostly what its two tasks' futures hold, whatever
    /// state they wait in (BENCHMARKS.md: ~11 KB per idle session, against nginx-rtmp's
    /// 12). An array on the stack of an async fn once added 4 KiB to every session.
    #[tokio::test]
    async fn the_futures_an_idle_session_holds_stay_small() {
        let sink: Arc<dyn EventSink> = Arc::new(NoSink);
        let (handle, reader, writer, other) = test_handle(1).await;
        let config = ServerConfig::default();
        let run = run(2, Transport::Tcp(other), Role::Server, config, sink.clone());
        // Measured: 1248, 944 and 560 bytes.
        let sizes = [
            ("run", std::mem::size_of_val(&run), 1536),
            (
                "read_loop",
                std::mem::size_of_val(&read_loop(reader, &handle, &sink)),
                1024,
            ),
            (
                "write_loop",
                std::mem::size_of_val(&write_loop(writer, handle.clone())),
                1024,
            ),
        ];
        for (name, size, limit) in sizes {
            assert!(
                size <= limit,
                "{name}'s future is {size} bytes, over {limit}"
            );
        }
    }
}
