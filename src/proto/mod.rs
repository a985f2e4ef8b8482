//! The sans-IO RTMP core: bytes in, events and bytes out. No tokio, no napi, no sockets,
//! no clock reads (time is passed in by the caller).
pub mod aggregate;
pub mod amf;
pub mod chunk;
pub mod command;
pub mod digest;
mod error;
pub mod flv;
pub mod flv_stream;
pub mod fuzzing;
pub mod handshake;
pub mod hls;
mod limits;
pub mod media;
pub mod message;
pub mod outbound;
pub mod session;
pub mod shared_object;
pub mod ws;

pub use error::ProtoError;
pub use limits::Limits;
