//! `NativeClient`: client sessions on the package's tokio runtime. Events reach one JS
//! callback exactly as a server's do (connection, ready, batch, close).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use napi::bindgen_prelude::Function;
use napi::Env;
use napi_derive::napi;

use super::server::{
    event_args, set_tsfn_ref, EventArgs, EventFn, ServerEvent, ServerOptions, TsfnSink,
};
use super::{invalid_arg, js_error};
use crate::runtime::{self, RuntimeError, ServerConfig};

/// Opens client connections; each gets a session like a server's.
#[napi]
pub struct NativeClient {
    events: Arc<EventFn>,
    config: ServerConfig,
}

#[napi]
impl NativeClient {
    /// `onEvent(kind, id, session, data, meta, errorMessage, errorCode)`: connection (0),
    /// batch (1), close (2), ready (3: the handshake completed).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        on_event: Function<'_, EventArgs, ()>,
        options: Option<ServerOptions>,
    ) -> napi::Result<Self> {
        let events = on_event
            .build_threadsafe_function::<ServerEvent>()
            .callee_handled::<false>()
            .build_callback(|ctx| Ok(event_args(ctx.value)))?;
        Ok(Self {
            events: Arc::new(events),
            config: options.unwrap_or_default().config(),
        })
    }

    /// Starts connecting to `host:port`; returns the connection id its events carry.
    /// A failed connect arrives as a close event with the error.
    #[napi(catch_unwind)]
    pub fn connect(&self, host: String, port: u32) -> napi::Result<u32> {
        let port =
            u16::try_from(port).map_err(|_| invalid_arg(format!("port {port} is out of range")))?;
        let addr: SocketAddr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| js_error(RuntimeError::Io(e)))?
            .next()
            .ok_or_else(|| {
                js_error(RuntimeError::Io(
                    std::io::ErrorKind::AddrNotAvailable.into(),
                ))
            })?;
        let sink = Arc::new(TsfnSink(self.events.clone()));
        let id = runtime::connect(addr, self.config, sink).map_err(js_error)?;
        Ok(id as u32)
    }

    /// Whether pending events keep the Node process alive (false once closed).
    #[napi(catch_unwind)]
    pub fn set_ref(&self, env: Env, referenced: bool) -> napi::Result<()> {
        set_tsfn_ref(&env, &self.events, referenced)
    }
}
