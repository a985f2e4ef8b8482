//! node-rtmpapi: a native RTMP toolkit for Node.js.
//!
//! Layers (dependencies point down only):
//! - [`node`]: the napi binding — handles, event delivery to JS, AMF <-> JS conversion.
//! - [`runtime`]: tokio — listeners, per-connection drivers, limits, timeouts.
//! - [`proto`]: the sans-IO RTMP core — handshake, chunks, messages, AMF.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod node;
pub mod proto;
pub mod runtime;
