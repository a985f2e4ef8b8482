//! `NativeClient`: client sessions on the package's tokio runtime. Events reach one JS
//! callback exactly as a server's do (connection, ready, batch, close).

use std::sync::Arc;

use napi::bindgen_prelude::Function;
use napi::Env;
use napi_derive::napi;

use super::js_error;
use super::server::{
    event_callback, resolve_addr, set_tsfn_ref, EventArgs, EventFn, ServerOptions, TlsOptions,
    TsfnSink,
};
use crate::runtime::{self, ServerConfig};

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
        Ok(Self {
            events: event_callback(on_event)?,
            config: options.unwrap_or_default().config(),
        })
    }

    /// Starts connecting to `host:port`, over TLS with `tls` (RTMPS, the certificate
    /// checked against `host`); returns the connection id its events carry (a Number, exact up to 2^53). A failed
    /// connect or TLS handshake arrives as a close event with the error.
    #[napi(catch_unwind)]
    pub fn connect(&self, host: String, port: u32, tls: Option<TlsOptions>) -> napi::Result<f64> {
        let addr = resolve_addr(&host, port)?;
        let tls = tls.as_ref().map(TlsOptions::client).transpose()?;
        let sink = Arc::new(TsfnSink(self.events.clone()));
        let id = runtime::connect(host, addr, self.config, tls, sink).map_err(js_error)?;
        Ok(id as f64)
    }

    /// Whether pending events keep the Node process alive (false once closed).
    #[napi(catch_unwind)]
    pub fn set_ref(&self, env: Env, referenced: bool) -> napi::Result<()> {
        set_tsfn_ref(&env, &self.events, referenced)
    }
}
