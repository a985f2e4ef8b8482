//! The napi binding: server and session handles, event delivery to JS, AMF <-> JS
//! conversion and error mapping. No protocol logic lives here.

pub mod amf;
mod client;
mod flv_player;
mod hls;
pub mod media;
mod record;
mod server;
mod session;
#[cfg(unix)]
mod tls_front;

use crate::runtime::RuntimeError;

/// The one place runtime errors become JS errors. The message starts with the stable
/// code (e.g. `ERR_RTMP_CHUNK: chunk: ...`); the JS face moves it to `err.code`.
pub(crate) fn js_error(e: impl Into<RuntimeError>) -> napi::Error {
    let e = e.into();
    napi::Error::new(napi::Status::GenericFailure, format!("{}: {e}", e.code()))
}

/// A bad argument from the caller; the JS face throws it as a TypeError/RangeError.
pub(crate) fn invalid_arg(message: String) -> napi::Error {
    napi::Error::new(
        napi::Status::InvalidArg,
        format!("ERR_INVALID_ARG_VALUE: {message}"),
    )
}
