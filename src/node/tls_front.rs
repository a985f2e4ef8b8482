//! `NativeTlsFront`: an HTTPS/WSS listener whose TLS ends natively (see
//! `runtime::tls_front`); each connection reaches JS as the descriptor of a plaintext
//! socket for Node's HTTP server.

use std::net::SocketAddr;
use std::os::fd::IntoRawFd;

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use super::server::TlsOptions;
use super::{invalid_arg, js_error};
use crate::runtime::TlsFront;

/// A connection whose TLS handshake completed, as JS gets it.
#[napi(object)]
pub struct TlsFrontConnection {
    /// What `NativeFlvPlayer.startTls` names the connection by.
    pub id: f64,
    /// Node's end of the plaintext socket pair, now Node's to close.
    pub fd: i32,
    pub remote_address: String,
    pub remote_port: u32,
    pub remote_family: String,
}

type ConnectionFn = ThreadsafeFunction<TlsFrontConnection, (), TlsFrontConnection, Status, false>;

#[napi]
pub struct NativeTlsFront {
    pub(crate) front: TlsFront,
}

#[napi]
impl NativeTlsFront {
    /// Listens on `host`:`port` (0: any free port) with `tls` (cert and key);
    /// `onConnection(connection)` is called for each client whose handshake completed.
    /// The listener keeps Node alive until `close()`.
    #[napi(factory, catch_unwind)]
    pub fn listen(
        host: String,
        port: u32,
        tls: TlsOptions,
        on_connection: Function<'_, TlsFrontConnection, ()>,
    ) -> napi::Result<Self> {
        let port = u16::try_from(port).map_err(|_| invalid_arg(format!("port {port}")))?;
        let ip = host
            .parse()
            .map_err(|_| invalid_arg(format!("host must be an IP address, got {host:?}")))?;
        let tls = tls.server()?;
        let call: ConnectionFn = on_connection
            .build_threadsafe_function::<TlsFrontConnection>()
            .callee_handled::<false>()
            .build()?;
        let front = TlsFront::listen(SocketAddr::new(ip, port), tls, move |c| {
            call.call(
                TlsFrontConnection {
                    id: c.id as f64,
                    fd: c.fd.into_raw_fd(),
                    remote_address: c.peer.ip().to_string(),
                    remote_port: u32::from(c.peer.port()),
                    remote_family: if c.peer.is_ipv4() { "IPv4" } else { "IPv6" }.into(),
                },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        })
        .map_err(js_error)?;
        Ok(Self { front })
    }

    /// The port it listens on.
    #[napi(getter, catch_unwind)]
    pub fn port(&self) -> u32 {
        u32::from(self.front.local_addr().port())
    }

    /// Stops listening (connections already accepted go on) and lets Node exit.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.front.close();
    }
}
