//! AMF (Action Message Format) codecs.
