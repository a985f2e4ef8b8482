//! `NativeServer`: a listening socket whose connection events reach one JS callback
//! through a threadsafe function, messages in batches.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, FnArgs, Function, Uint32Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use super::session::NativeSession;
use super::{invalid_arg, js_error};
use crate::proto::Limits;
use crate::runtime::{
    self, Batch, ConnectionHandle, EventSink, RuntimeError, ServerConfig, ServerHandle, TlsClient,
    TlsServer, Trust, Warning,
};

/// Event kinds passed as the first callback argument.
const EVENT_CONNECTION: u32 = 0;
const EVENT_BATCH: u32 = 1;
const EVENT_CLOSE: u32 = 2;
const EVENT_READY: u32 = 3;
const EVENT_DRAIN: u32 = 4;
const EVENT_WARNING: u32 = 5;

/// Callback arguments: (kind, connection id, session, payloads, meta, error message,
/// error code). Connection ids are u64, passed as Numbers: exact up to 2^53.
pub(crate) type EventArgs = FnArgs<(
    u32,
    f64,
    Option<NativeSession>,
    Option<Buffer>,
    Option<Uint32Array>,
    Option<String>,
    Option<String>,
)>;

pub(crate) enum ServerEvent {
    Connection(ConnectionHandle),
    Ready(u64),
    Batch(u64, Batch),
    Closed(u64, Option<RuntimeError>),
    Drained(u64),
    Warning(u64, Warning),
}

pub(crate) type EventFn = ThreadsafeFunction<ServerEvent, (), EventArgs, Status, false>;

/// Delivers runtime events to a JS callback.
pub(crate) struct TsfnSink(pub(crate) Arc<EventFn>);

impl EventSink for TsfnSink {
    fn connection(&self, conn: ConnectionHandle) {
        self.0.call(
            ServerEvent::Connection(conn),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn ready(&self, conn_id: u64) {
        self.0.call(
            ServerEvent::Ready(conn_id),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn batch(&self, conn_id: u64, batch: Batch) {
        self.0.call(
            ServerEvent::Batch(conn_id, batch),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn closed(&self, conn_id: u64, error: Option<RuntimeError>) {
        self.0.call(
            ServerEvent::Closed(conn_id, error),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn drained(&self, conn_id: u64) {
        self.0.call(
            ServerEvent::Drained(conn_id),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn warning(&self, conn_id: u64, warning: Warning) {
        self.0.call(
            ServerEvent::Warning(conn_id, warning),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

/// Converts one event into callback arguments on the JS thread. The batch's permit
/// is released here: the batch is then in JS's hands.
pub(crate) fn event_args(event: ServerEvent) -> EventArgs {
    match event {
        ServerEvent::Ready(id) => (EVENT_READY, id as f64, None, None, None, None, None),
        ServerEvent::Drained(id) => (EVENT_DRAIN, id as f64, None, None, None, None, None),
        ServerEvent::Warning(id, w) => (
            EVENT_WARNING,
            id as f64,
            None,
            None,
            None,
            Some(w.to_string()),
            Some(w.code().to_string()),
        ),
        ServerEvent::Connection(c) => (
            EVENT_CONNECTION,
            c.id() as f64,
            Some(NativeSession::from_connection(c)),
            None,
            None,
            None,
            None,
        ),
        ServerEvent::Batch(id, batch) => (
            EVENT_BATCH,
            id as f64,
            None,
            Some(batch.data.into()),
            Some(batch.meta.into()),
            None,
            None,
        ),
        ServerEvent::Closed(id, error) => (
            EVENT_CLOSE,
            id as f64,
            None,
            None,
            None,
            error.as_ref().map(ToString::to_string),
            error.as_ref().map(|e| e.code().to_string()),
        ),
    }
    .into()
}

/// Limits and timeouts of a server; every field optional (defaults in README).
#[napi(object)]
#[derive(Default)]
pub struct ServerOptions {
    pub handshake_timeout_ms: Option<u32>,
    /// Close an established session that receives nothing for this long (default: never).
    pub idle_timeout_ms: Option<u32>,
    /// Most connections at once (default 100000); more are closed as they arrive.
    pub max_connections: Option<u32>,
    pub max_message_size: Option<u32>,
    pub max_chunk_streams: Option<u32>,
    pub max_buffered_bytes: Option<u32>,
    pub in_flight_batches: Option<u32>,
    pub send_high_water: Option<u32>,
    pub max_send_buffer: Option<u32>,
    pub send_queue_limit: Option<u32>,
    /// Listen with SO_REUSEPORT so other processes can listen on the same port (the JS
    /// face turns it on in node:cluster workers).
    pub reuse_port: Option<bool>,
    /// Stop reading a session after each `publish` or `play` command until
    /// `NativeSession.resumeReading()` (the live server's authorize).
    pub pause_on_stream_commands: Option<bool>,
}

impl ServerOptions {
    pub(crate) fn config(&self) -> ServerConfig {
        let d = ServerConfig::default();
        let l = Limits::default();
        ServerConfig {
            limits: Limits {
                max_message_size: self.max_message_size.unwrap_or(l.max_message_size),
                max_chunk_streams: self
                    .max_chunk_streams
                    .map_or(l.max_chunk_streams, |v| v as usize),
                max_buffered_bytes: self
                    .max_buffered_bytes
                    .map_or(l.max_buffered_bytes, |v| v as usize),
                ..l
            },
            handshake_timeout: self.handshake_timeout_ms.map_or(d.handshake_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            }),
            idle_timeout: self
                .idle_timeout_ms
                .map(|ms| Duration::from_millis(u64::from(ms))),
            max_connections: self
                .max_connections
                .map_or(d.max_connections, |v| v as usize),
            in_flight_batches: self
                .in_flight_batches
                .map_or(d.in_flight_batches, |v| v.max(1) as usize),
            max_batch_bytes: d.max_batch_bytes,
            send_high_water: self
                .send_high_water
                .map_or(d.send_high_water, |v| v as usize),
            max_send_buffer: self
                .max_send_buffer
                .map_or(d.max_send_buffer, |v| v as usize),
            send_queue_limit: self
                .send_queue_limit
                .map_or(d.send_queue_limit, |v| v as usize),
            reuse_port: self.reuse_port.unwrap_or(d.reuse_port),
            pause_on_stream_commands: self
                .pause_on_stream_commands
                .unwrap_or(d.pause_on_stream_commands),
        }
    }
}

/// RTMPS settings, PEM-encoded (the JS face turns strings into Buffers).
#[napi(object)]
pub struct TlsOptions {
    /// Server: the certificate chain, leaf first.
    pub cert: Option<Buffer>,
    /// Server: the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<Buffer>,
    /// Client: the certificates to trust instead of Mozilla's roots.
    pub ca: Option<Buffer>,
    /// Client: false accepts any certificate (default true).
    pub reject_unauthorized: Option<bool>,
}

impl TlsOptions {
    /// The server side; a TypeError when the certificate or key is missing or bad.
    pub(crate) fn server(&self) -> napi::Result<TlsServer> {
        let (Some(cert), Some(key)) = (&self.cert, &self.key) else {
            return Err(invalid_arg("tls needs both cert and key".into()));
        };
        TlsServer::from_pem(cert, key).map_err(|e| invalid_arg(e.to_string()))
    }

    /// The client side; a TypeError when `ca` holds no usable certificate.
    pub(crate) fn client(&self) -> napi::Result<TlsClient> {
        let trust = match (&self.ca, self.reject_unauthorized) {
            (_, Some(false)) => Trust::AnyCertificate,
            (Some(ca), _) => Trust::Pem(ca),
            (None, _) => Trust::WebPkiRoots,
        };
        TlsClient::new(trust).map_err(|e| invalid_arg(e.to_string()))
    }
}

/// The bound address, as `net.Server#address()` reports it.
#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub family: String,
    pub port: u32,
}

/// Wraps the JS event callback of a server or client in a threadsafe function.
pub(crate) fn event_callback(on_event: Function<'_, EventArgs, ()>) -> napi::Result<Arc<EventFn>> {
    let events = on_event
        .build_threadsafe_function::<ServerEvent>()
        .callee_handled::<false>()
        .build_callback(|ctx| Ok(event_args(ctx.value)))?;
    Ok(Arc::new(events))
}

/// Resolves `host:port` (a RangeError-like TypeError for a bad port).
pub(crate) fn resolve_addr(host: &str, port: u32) -> napi::Result<SocketAddr> {
    let port =
        u16::try_from(port).map_err(|_| invalid_arg(format!("port {port} is out of range")))?;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| js_error(RuntimeError::Io(e)))?
        .next()
        .ok_or_else(|| {
            js_error(RuntimeError::Io(
                std::io::ErrorKind::AddrNotAvailable.into(),
            ))
        })
}

/// Whether pending events of `events` keep the Node process alive.
pub(crate) fn set_tsfn_ref(env: &Env, events: &EventFn, referenced: bool) -> napi::Result<()> {
    let raw = events.raw();
    // SAFETY: napi_(un)ref_threadsafe_function must run on the JS thread of the env that
    // made the function, with a live handle. This is called from a JS method, so on that
    // thread with its env. `raw` is live: `events` is borrowed, so napi-rs has not
    // released it (it does on drop of the last clone), and Node frees a threadsafe
    // function only once released or at env teardown, when no JS method runs. The safe
    // `ThreadsafeFunction::refer`/`unref` need `&mut`, which the shared `Arc` cannot give.
    let status = unsafe {
        if referenced {
            napi::sys::napi_ref_threadsafe_function(env.raw(), raw)
        } else {
            napi::sys::napi_unref_threadsafe_function(env.raw(), raw)
        }
    };
    if status == napi::sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(
            "cannot change the reference of the event callback",
        ))
    }
}

/// A native RTMP listener.
#[napi]
pub struct NativeServer {
    events: Arc<EventFn>,
    config: ServerConfig,
    tls: Option<TlsServer>,
    listener: Option<ServerHandle>,
}

#[napi]
impl NativeServer {
    /// `onEvent(kind, id, session, data, meta, errorMessage, errorCode)` receives
    /// connection (0), batch (1) and close (2) events. With `tls` the server speaks
    /// RTMPS: a failed TLS handshake is a close event with no connection before it.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        on_event: Function<'_, EventArgs, ()>,
        options: Option<ServerOptions>,
        tls: Option<TlsOptions>,
    ) -> napi::Result<Self> {
        Ok(Self {
            tls: tls.as_ref().map(TlsOptions::server).transpose()?,
            events: event_callback(on_event)?,
            config: options.unwrap_or_default().config(),
            listener: None,
        })
    }

    /// Binds and starts accepting. Throws (code ERR_RTMP_SOCKET) if the address cannot
    /// be bound; the JS face turns that into an 'error' event.
    #[napi(catch_unwind)]
    pub fn listen(&mut self, host: String, port: u32) -> napi::Result<AddressInfo> {
        let addr = resolve_addr(&host, port)?;
        let sink = Arc::new(TsfnSink(self.events.clone()));
        let handle = runtime::bind(addr, self.config, self.tls.clone(), sink).map_err(js_error)?;
        let local = handle.local_addr();
        self.listener = Some(handle);
        Ok(AddressInfo {
            address: local.ip().to_string(),
            family: if local.is_ipv4() { "IPv4" } else { "IPv6" }.into(),
            port: u32::from(local.port()),
        })
    }

    /// Stops accepting; accepted connections run on until they end.
    #[napi(catch_unwind)]
    pub fn close(&mut self) {
        self.listener = None;
    }

    /// Whether pending events keep the Node process alive (`server.ref()/unref()`).
    #[napi(catch_unwind)]
    pub fn set_ref(&mut self, env: Env, referenced: bool) -> napi::Result<()> {
        set_tsfn_ref(&env, &self.events, referenced)
    }
}

/// Only in an addon built with the `test-hooks` feature (`npm run build:test-hooks`).
#[cfg(feature = "test-hooks")]
#[napi]
impl NativeServer {
    /// Sets the id the next connection gets (tests of ids past 2^32). Not part of
    /// the public API.
    #[napi(catch_unwind, js_name = "__setNextConnectionId")]
    pub fn set_next_connection_id(id: f64) -> napi::Result<()> {
        if !(id.fract() == 0.0 && (1.0..=9_007_199_254_740_991.0).contains(&id)) {
            return Err(invalid_arg(format!(
                "connection id {id} is not an integer in 1..2^53"
            )));
        }
        runtime::set_next_connection_id(id as u64);
        Ok(())
    }
}
