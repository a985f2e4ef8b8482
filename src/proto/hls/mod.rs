//! HLS output (RFC 8216bis, "HTTP Live Streaming 2nd Edition", with its Low-Latency
//! extensions): a live stream's messages cut into CMAF segments and parts
//! ([`Segmenter`], [`fmp4`]) held in a bounded window, and the media playlist that
//! describes them ([`media_playlist`]). Pure functions of the messages and of the
//! wall-clock times the caller passes in: no clock reads, no I/O.
//!
//! Names: every URL the playlist gives carries the publication's id (a prefix the
//! caller chooses, random per publication) and the segment's Media Sequence Number, so
//! a URL names the same bytes for as long as it exists and caches may keep it
//! forever: `<id>_init.mp4`, `<id>_<msn>.m4s`, `<id>_<msn>_<part>.m4s`.

pub mod fmp4;
mod playlist;
mod segmenter;

pub use playlist::{iso8601, media_playlist};
pub use segmenter::{Blocking, HlsConfig, Lookup, Part, Segment, Segmenter};

/// Why the segmenter could not use what the publisher sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlsError {
    /// A codec HLS output does not carry (VP9, MP3, FLAC, AC-3, ...).
    #[error("codec {0} is not supported by HLS output")]
    UnsupportedCodec(String),
    /// A decoder configuration record that does not parse.
    #[error("bad decoder configuration: {0}")]
    BadConfig(String),
    /// A box could not be encoded.
    #[error("mp4: {0}")]
    Mp4(String),
}

#[cfg(test)]
mod tests;
