//! The decoder configurations of a live stream, as a player joining it needs them
//! before its first frame: one per message type, [`ConfigKind`] and track (Enhanced
//! RTMP v2 multitrack), each replaced by the next of its kind for the same tracks and
//! removed by a SequenceEnd of its tracks.

use super::{ConfigKind, MediaClass, TrackSet};
use crate::proto::message::type_id;

/// Configurations kept at most: a publisher declaring more tracks than this loses the
/// oldest (a stream of one video and one audio track holds 2 to 4).
pub const MAX_CONFIGS: usize = 32;

/// Bytes of configurations kept at most (a configuration record is some bytes to a
/// few KiB); the oldest go first, and one larger than this is not kept.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

struct Entry<T> {
    message_type: u8,
    kind: ConfigKind,
    tracks: TrackSet,
    bytes: usize,
    item: T,
}

/// Configurations of `T` (the cache's own form of a message), oldest first.
pub struct ConfigCache<T> {
    entries: Vec<Entry<T>>,
    bytes: usize,
}

impl<T> Default for ConfigCache<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            bytes: 0,
        }
    }
}

impl<T> ConfigCache<T> {
    /// Takes a configuration message (`class.config` is `Some`) of `bytes` bytes: a
    /// SequenceEnd removes every configuration of its tracks; any other kind replaces
    /// the one of the same kind that shares a track with it.
    pub fn update(&mut self, message_type: u8, class: &MediaClass, bytes: usize, item: T) {
        let Some(kind) = class.config else {
            return;
        };
        let tracks = class.tracks;
        self.remove(|e| {
            e.message_type == message_type
                && e.tracks.intersects(&tracks)
                && (kind == ConfigKind::SequenceEnd || e.kind == kind)
        });
        if kind == ConfigKind::SequenceEnd || bytes > MAX_CONFIG_BYTES {
            return;
        }
        while self.entries.len() >= MAX_CONFIGS || self.bytes + bytes > MAX_CONFIG_BYTES {
            let oldest = self.entries.remove(0);
            self.bytes -= oldest.bytes;
        }
        self.bytes += bytes;
        self.entries.push(Entry {
            message_type,
            kind,
            tracks,
            bytes,
            item,
        });
    }

    fn remove(&mut self, mut which: impl FnMut(&Entry<T>) -> bool) {
        let mut freed = 0;
        self.entries.retain(|e| {
            let gone = which(e);
            freed += if gone { e.bytes } else { 0 };
            !gone
        });
        self.bytes -= freed;
    }

    /// The configurations in the order a joining player gets them: video, then
    /// audio, each oldest first.
    pub fn in_join_order(&self) -> impl Iterator<Item = &T> {
        let of = move |message_type| {
            self.entries
                .iter()
                .filter(move |e| e.message_type == message_type)
                .map(|e| &e.item)
        };
        of(type_id::VIDEO).chain(of(type_id::AUDIO))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::MediaRole;
    use super::*;

    fn config(kind: ConfigKind, tracks: &[u8]) -> MediaClass {
        let mut set = TrackSet::default();
        tracks.iter().for_each(|&t| set.insert(t));
        MediaClass {
            role: MediaRole::Config,
            config: Some(kind),
            tracks: set,
        }
    }

    fn items(cache: &ConfigCache<&'static str>) -> Vec<&'static str> {
        cache.in_join_order().copied().collect()
    }

    use ConfigKind::*;
    const A: u8 = type_id::AUDIO;
    const V: u8 = type_id::VIDEO;

    #[test]
    fn one_configuration_per_type_kind_and_track_video_first() {
        let mut cache = ConfigCache::default();
        cache.update(A, &config(SequenceStart, &[0]), 2, "aac 0");
        cache.update(V, &config(SequenceStart, &[0]), 40, "avc 0");
        cache.update(A, &config(SequenceStart, &[1]), 2, "aac 1");
        cache.update(A, &config(MultichannelConfig, &[1]), 8, "layout 1");
        cache.update(V, &config(Metadata, &[0]), 30, "hdr 0");
        assert_eq!(
            items(&cache),
            ["avc 0", "hdr 0", "aac 0", "aac 1", "layout 1"]
        );
        // A new configuration of a track replaces its kind only; codecs may change.
        cache.update(V, &config(SequenceStart, &[0]), 50, "hevc 0");
        cache.update(A, &config(SequenceStart, &[1]), 2, "opus 1");
        assert_eq!(
            items(&cache),
            ["hdr 0", "hevc 0", "aac 0", "layout 1", "opus 1"]
        );
    }

    #[test]
    fn many_tracks_in_one_message_and_sequence_end() {
        let mut cache = ConfigCache::default();
        cache.update(A, &config(SequenceStart, &[1, 2]), 4, "opus 1+2");
        cache.update(A, &config(SequenceStart, &[3]), 4, "flac 3");
        cache.update(A, &config(MultichannelConfig, &[3]), 4, "layout 3");
        // A configuration of track 2 alone replaces the one that covered 1 and 2.
        cache.update(A, &config(SequenceStart, &[2]), 4, "aac 2");
        assert_eq!(items(&cache), ["flac 3", "layout 3", "aac 2"]);
        cache.update(A, &config(SequenceEnd, &[3]), 1, "end 3");
        assert_eq!(items(&cache), ["aac 2"]);
        assert_eq!(cache.bytes, 4);
    }

    #[test]
    fn what_is_kept_is_bounded_in_count_and_bytes() {
        let mut cache = ConfigCache::default();
        for track in 0..=255u8 {
            cache.update(A, &config(SequenceStart, &[track]), 10, "x");
        }
        assert_eq!(cache.len(), MAX_CONFIGS);
        cache.update(V, &config(SequenceStart, &[0]), MAX_CONFIG_BYTES - 5, "big");
        assert_eq!(items(&cache), ["big"]);
        cache.update(
            V,
            &config(SequenceStart, &[1]),
            MAX_CONFIG_BYTES + 1,
            "huge",
        );
        assert_eq!(items(&cache), ["big"], "too large to keep");
        cache.clear();
        assert!(cache.is_empty() && cache.bytes == 0);
    }
}
