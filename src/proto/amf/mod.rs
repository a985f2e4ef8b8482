//! AMF (Action Message Format) codecs.
/// Placeholder until the AMF branch lands.
#[derive(Debug, thiserror::Error)]
#[error("amf")]
pub struct AmfError;
