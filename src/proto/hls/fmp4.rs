//! CMAF / fragmented MP4 (ISO/IEC 14496-12 §8.8, ISO/IEC 23000-19): the init segment
//! (`ftyp` + `moov` with one `trak` and one `trex` per track) and media fragments
//! (`moof` + `mdat`), built with the `mp4-atom` crate's boxes. Each fragment is one HLS
//! part; a segment is its parts concatenated (RFC 8216bis §4.4.4.9).
//!
//! The sample entries come from the FLV decoder configurations as they are (Enhanced
//! RTMP v2 and FLV v10.1 §E.4.3.1): an AVCDecoderConfigurationRecord becomes `avcC`
//! (ISO/IEC 14496-15 §5.3.3.1), an HEVCDecoderConfigurationRecord `hvcC` (§8.3.3.1),
//! an AV1CodecConfigurationRecord `av1C` (AV1-ISOBMFF §2.3), an AAC
//! AudioSpecificConfig the DecoderSpecificInfo of `esds` (ISO/IEC 14496-3 §1.6.2.1),
//! and an Opus identification header (RFC 7845 §5.1) `dOps` (Opus-in-ISOBMFF §4.3.2).
//! Coded frames need no conversion: FLV carries AVC/HEVC as length-prefixed NAL units
//! and AV1 as low-overhead OBUs, the MP4 sample formats.

use bytes::{BufMut, Bytes, BytesMut};
use mp4_atom::{
    Atom, Audio, Av01, Av1c, Avc1, Avcc, Codec, Dinf, Dops, Dref, Encode, Esds, Ftyp, Hdlr, Hvc1,
    Hvcc, Mdhd, Mdia, Mfhd, Minf, Moof, Moov, Mp4a, Mvex, Mvhd, Opus, OpusChannelMapping, Smhd,
    Stbl, Stsd, Tfdt, Tfhd, Tkhd, Traf, Trak, Trex, Trun, TrunEntry, TrunSamples, Url, Visual,
    Vmhd,
};

use super::HlsError;
use crate::proto::chunk::Payload;

/// Video timescale: 90 kHz, as MPEG systems count (gohlslib and FFmpeg do too).
pub const VIDEO_TIMESCALE: u32 = 90_000;
/// Opus always runs at 48 kHz in MP4 (Opus-in-ISOBMFF §4.3.1).
const OPUS_TIMESCALE: u32 = 48_000;

/// `sample_flags` (§8.8.3.1): a sync sample (sample_depends_on = 2, "does not depend
/// on others").
pub const SYNC_SAMPLE: u32 = 0x0200_0000;
/// `sample_flags`: depends on others (1) and sample_is_non_sync_sample.
pub const NON_SYNC_SAMPLE: u32 = 0x0101_0000;

/// What a track is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Video,
    Audio,
}

/// One track of the init segment: its sample entry and timescale, and the FLV
/// configuration it was made from (a changed one is a new track).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSetup {
    pub kind: TrackKind,
    pub timescale: u32,
    pub codec: Codec,
    /// The configuration record as the publisher sent it.
    pub config: Bytes,
    /// The RFC 6381 `CODECS` name's sample entry (`avc1`, `hvc1`, `av01`, `mp4a`, `Opus`).
    pub fourcc: [u8; 4],
}

fn visual(width: u16, height: u16) -> Visual {
    Visual {
        width,
        height,
        ..Visual::default()
    }
}

fn decode_record<T: Atom>(record: &[u8], what: &'static str) -> Result<T, HlsError> {
    let mut buf = record;
    T::decode_body(&mut buf).map_err(|e| HlsError::BadConfig(format!("{what}: {e}")))
}

/// The video track of a decoder configuration record for `fourcc` (`avc1`, `hvc1` or
/// `av01`), `width` × `height` pixels as the publisher's metadata says (0 if unknown:
/// decoders read the size from the record).
pub fn video_setup(
    fourcc: [u8; 4],
    record: &[u8],
    width: u16,
    height: u16,
) -> Result<TrackSetup, HlsError> {
    let codec: Codec = match &fourcc {
        b"avc1" => Avc1 {
            visual: visual(width, height),
            avcc: decode_record::<Avcc>(record, "avcC")?,
            ..Avc1::default()
        }
        .into(),
        b"hvc1" => Hvc1 {
            visual: visual(width, height),
            hvcc: decode_record::<Hvcc>(record, "hvcC")?,
            ..Hvc1::default()
        }
        .into(),
        b"av01" => Av01 {
            visual: visual(width, height),
            av1c: decode_record::<Av1c>(record, "av1C")?,
            ..Av01::default()
        }
        .into(),
        other => return Err(HlsError::UnsupportedCodec(fourcc_name(other))),
    };
    Ok(TrackSetup {
        kind: TrackKind::Video,
        timescale: VIDEO_TIMESCALE,
        codec,
        config: Bytes::copy_from_slice(record),
        fourcc,
    })
}

/// Sampling frequencies by samplingFrequencyIndex (ISO/IEC 14496-3 §1.6.3.4).
const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// (sample rate, channels) of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1):
/// audioObjectType (5 bits, 31 escapes to 6 more), samplingFrequencyIndex (4 bits,
/// 15: a 24-bit rate follows), channelConfiguration (4 bits).
fn aac_params(asc: &[u8]) -> Result<(u32, u16), HlsError> {
    let bad = || HlsError::BadConfig("AudioSpecificConfig too short".into());
    let mut bits = 0u64;
    for (i, b) in asc.iter().take(8).enumerate() {
        bits |= u64::from(*b) << (56 - 8 * i);
    }
    let mut at = 0;
    let mut take = |n: u32| {
        let v = (bits << at) >> (64 - n);
        at += n;
        v as u32
    };
    if asc.len() < 2 {
        return Err(bad());
    }
    if take(5) == 31 {
        take(6);
    }
    let rate = match take(4) {
        15 if asc.len() >= 5 => take(24),
        i => *AAC_RATES.get(i as usize).ok_or_else(bad)?,
    };
    let channels = take(4) as u16;
    Ok((rate, channels))
}

/// The audio track of a decoder configuration for `fourcc` (`mp4a`: an
/// AudioSpecificConfig; `Opus`: an identification header, "OpusHead").
pub fn audio_setup(fourcc: [u8; 4], config: &[u8]) -> Result<TrackSetup, HlsError> {
    let (codec, timescale): (Codec, u32) = match &fourcc {
        b"mp4a" => {
            let (rate, channels) = aac_params(config)?;
            let mut esds = Esds::default();
            let desc = &mut esds.es_desc;
            desc.es_id = 2;
            desc.dec_config.object_type_indication = 0x40; // Audio ISO/IEC 14496-3
            desc.dec_config.stream_type = 5; // AudioStream
            desc.dec_config.dec_specific = Some(mp4_atom::esds::DecoderSpecific {
                raw: config.to_vec(),
                ..Default::default()
            });
            let entry = Mp4a {
                audio: audio_entry(channels.max(1), rate),
                esds,
                btrt: None,
                taic: None,
            };
            (entry.into(), rate)
        }
        b"Opus" => {
            let dops = opus_dops(config)?;
            let entry = Opus {
                audio: audio_entry(u16::from(dops.output_channel_count), OPUS_TIMESCALE),
                dops,
                btrt: None,
            };
            (entry.into(), OPUS_TIMESCALE)
        }
        other => return Err(HlsError::UnsupportedCodec(fourcc_name(other))),
    };
    if timescale == 0 {
        return Err(HlsError::BadConfig("audio sample rate 0".into()));
    }
    Ok(TrackSetup {
        kind: TrackKind::Audio,
        timescale,
        codec,
        config: Bytes::copy_from_slice(config),
        fourcc,
    })
}

fn audio_entry(channels: u16, rate: u32) -> Audio {
    Audio {
        data_reference_index: 1,
        channel_count: channels,
        sample_size: 16,
        // A 16.16 number: rates above 65535 Hz do not fit and are written as 0.
        sample_rate: u16::try_from(rate).unwrap_or(0).into(),
    }
}

/// `dOps` from an Opus identification header (RFC 7845 §5.1: "OpusHead", version,
/// channel count, pre-skip, input rate and gain little-endian, the mapping family and,
/// unless it is 0, the mapping table).
fn opus_dops(head: &[u8]) -> Result<Dops, HlsError> {
    let bad = |why: &str| HlsError::BadConfig(format!("Opus header: {why}"));
    let h = head.strip_prefix(b"OpusHead").unwrap_or(head);
    if h.len() < 11 {
        return Err(bad("too short"));
    }
    let channels = h[1];
    let family = h[10];
    let channel_mapping = match family {
        0 => None,
        _ => {
            let table = h
                .get(11..13 + usize::from(channels))
                .ok_or(bad("no mapping table"))?;
            Some(OpusChannelMapping {
                family,
                stream_count: table[0],
                coupled_count: table[1],
                channel_mapping: table[2..].to_vec(),
            })
        }
    };
    Ok(Dops {
        output_channel_count: channels,
        pre_skip: u16::from_le_bytes([h[2], h[3]]),
        input_sample_rate: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
        output_gain: i16::from_le_bytes([h[8], h[9]]),
        channel_mapping,
    })
}

fn fourcc_name(fourcc: &[u8]) -> String {
    String::from_utf8_lossy(fourcc).into_owned()
}

fn encode(atom: &impl Encode, out: &mut Vec<u8>) -> Result<(), HlsError> {
    atom.encode(out).map_err(|e| HlsError::Mp4(e.to_string()))
}

/// The init segment of `tracks` (track ids 1, 2, ... in order): `ftyp` (CMAF brands,
/// ISO/IEC 23000-19 §7.2) and a `moov` with no samples whose `mvex` says the media
/// comes in fragments.
pub fn init_segment(tracks: &[TrackSetup]) -> Result<Bytes, HlsError> {
    let mut out = Vec::new();
    encode(
        &Ftyp {
            major_brand: b"iso6".into(),
            minor_version: 0,
            compatible_brands: vec![b"iso6".into(), b"cmfc".into(), b"mp41".into()],
        },
        &mut out,
    )?;
    let trak = tracks
        .iter()
        .zip(1u32..)
        .map(|(t, id)| trak(t, id))
        .collect();
    let trex = (1..=tracks.len() as u32)
        .map(|track_id| Trex {
            track_id,
            default_sample_description_index: 1,
            ..Trex::default()
        })
        .collect();
    let moov = Moov {
        mvhd: Mvhd {
            timescale: 1000,
            next_track_id: tracks.len() as u32 + 1,
            ..Mvhd::default()
        },
        mvex: Some(Mvex { mehd: None, trex }),
        trak,
        ..Moov::default()
    };
    encode(&moov, &mut out)?;
    Ok(out.into())
}

fn trak(track: &TrackSetup, track_id: u32) -> Trak {
    let video = track.kind == TrackKind::Video;
    let (width, height) = match &track.codec {
        Codec::Avc1(c) => (c.visual.width, c.visual.height),
        Codec::Hvc1(c) => (c.visual.width, c.visual.height),
        Codec::Av01(c) => (c.visual.width, c.visual.height),
        _ => (0, 0),
    };
    Trak {
        tkhd: Tkhd {
            track_id,
            enabled: true,
            in_movie: true,
            volume: if video { 0.into() } else { 1.into() },
            width: width.into(),
            height: height.into(),
            ..Tkhd::default()
        },
        mdia: Mdia {
            mdhd: Mdhd {
                timescale: track.timescale,
                language: "und".into(),
                ..Mdhd::default()
            },
            hdlr: Hdlr {
                handler: if video { b"vide" } else { b"soun" }.into(),
                name: if video {
                    "VideoHandler"
                } else {
                    "SoundHandler"
                }
                .into(),
            },
            minf: Minf {
                vmhd: video.then(Vmhd::default),
                smhd: (!video).then(Smhd::default),
                dinf: Dinf {
                    dref: Dref {
                        entries: vec![Url::default().into()],
                    },
                },
                stbl: Stbl {
                    stsd: Stsd {
                        codecs: vec![track.codec.clone()],
                    },
                    stco: Some(Default::default()),
                    ..Stbl::default()
                },
                ..Minf::default()
            },
        },
        ..Trak::default()
    }
}

/// One sample of a fragment, in its track's timescale.
#[derive(Debug, Clone)]
pub struct Sample {
    pub duration: u32,
    /// Composition offset (PTS − DTS).
    pub cts: i32,
    pub sync: bool,
    pub data: Payload,
}

/// One track's run of samples in a fragment.
pub struct Run<'a> {
    /// 1-based, as in the init segment.
    pub track_id: u32,
    /// The first sample's decode time (`tfdt`).
    pub base_decode_time: u64,
    pub samples: &'a [Sample],
}

/// A media fragment: `moof` (sequence number `sequence`, one `traf` per run with
/// `tfhd` default-base-is-moof, `tfdt`, and a version 1 `trun` giving every sample's
/// duration, size, flags and signed composition offset) then one `mdat` holding the
/// runs' samples in order (§8.8.4, §8.8.8, §8.8.12; CMAF §7.3.2.3). The samples'
/// bytes are copied once, into the fragment.
pub fn fragment(sequence: u32, runs: &[Run<'_>]) -> Result<Bytes, HlsError> {
    let moof_for = |offsets: &[i32]| Moof {
        mfhd: Mfhd {
            sequence_number: sequence,
        },
        traf: runs
            .iter()
            .zip(offsets)
            .map(|(run, &offset)| Traf {
                tfhd: Tfhd {
                    track_id: run.track_id,
                    default_base_is_moof: true,
                    ..Tfhd::default()
                },
                tfdt: Some(Tfdt {
                    base_media_decode_time: run.base_decode_time,
                }),
                trun: vec![Trun {
                    data_offset: Some(offset),
                    samples: TrunSamples::Explicit(
                        run.samples
                            .iter()
                            .map(|s| TrunEntry {
                                duration: Some(s.duration),
                                size: Some(s.data.len() as u32),
                                flags: Some(if s.sync { SYNC_SAMPLE } else { NON_SYNC_SAMPLE }),
                                cts: Some(i64::from(s.cts)),
                            })
                            .collect(),
                    ),
                }],
                ..Traf::default()
            })
            .collect(),
    };
    // The data offsets are relative to the moof's first byte: encode once to learn
    // its size (it does not depend on the offsets' values), then with the offsets.
    let mut moof = Vec::new();
    encode(&moof_for(&vec![0; runs.len()]), &mut moof)?;
    let mdat_header = 8;
    let mut offsets = Vec::with_capacity(runs.len());
    let mut at = moof.len() + mdat_header;
    for run in runs {
        offsets.push(i32::try_from(at).map_err(|_| HlsError::Mp4("fragment too large".into()))?);
        at += run.samples.iter().map(|s| s.data.len()).sum::<usize>();
    }
    moof.clear();
    encode(&moof_for(&offsets), &mut moof)?;
    let mdat_len =
        u32::try_from(at - moof.len()).map_err(|_| HlsError::Mp4("fragment too large".into()))?;
    let mut out = BytesMut::with_capacity(at);
    out.extend_from_slice(&moof);
    out.put_u32(mdat_len);
    out.extend_from_slice(b"mdat");
    for sample in runs.iter().flat_map(|r| r.samples) {
        for part in sample.data.parts() {
            out.extend_from_slice(part);
        }
    }
    Ok(out.freeze())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mp4_atom::Decode;

    /// An AVCDecoderConfigurationRecord as FFmpeg's libx264 writes it for 320×240:
    /// version 1, High profile (100), level 1.3, 4-byte lengths, one SPS, one PPS,
    /// then the High-profile extension (4:2:0, 8-bit, no SPS extensions).
    #[rustfmt::skip]
    pub(crate) const AVCC: &[u8] = &[
        0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19,
        0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03,
        0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
        0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0,
        0xfd, 0xf8, 0xf8, 0x00,
    ];

    #[test]
    fn an_aac_config_gives_the_rate_and_channels_and_goes_verbatim_into_esds() {
        // AAC-LC (2), 44.1 kHz (index 4), stereo: 0x12 0x10.
        assert_eq!(aac_params(&[0x12, 0x10]).unwrap(), (44100, 2));
        // HE-AAC escape (31 → 6 bits), explicit rate (index 15): 0xF8 ... parsed too.
        assert!(aac_params(&[0x12]).is_err());
        let t = audio_setup(*b"mp4a", &[0x11, 0x90]).unwrap();
        assert_eq!(t.timescale, 48000);
        let init = init_segment(&[t]).unwrap();
        // The ASC sits in a DecoderSpecificInfo descriptor: tag 5, length 2, bytes.
        assert!(
            init.windows(4).any(|w| w == [0x05, 0x02, 0x11, 0x90]),
            "{init:02x?}"
        );
    }

    #[test]
    fn an_opus_head_becomes_dops_big_endian() {
        // OpusHead v1, 2 channels, pre-skip 312, 48000 Hz, gain 0, family 0.
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let t = audio_setup(*b"Opus", &head).unwrap();
        let init = init_segment(&[t]).unwrap();
        // dOps: size 19, version 0, channels 2, pre-skip 0x0138, 48000, gain 0, family 0.
        let dops = [
            0, 0, 0, 19, b'd', b'O', b'p', b's', 0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0,
        ];
        assert!(init.windows(dops.len()).any(|w| w == dops), "{init:02x?}");
        assert!(audio_setup(*b"Opus", b"OpusHead\x01").is_err());
    }

    #[test]
    fn the_init_segment_holds_ftyp_and_a_fragmented_moov_with_the_avcc_verbatim() {
        let video = video_setup(*b"avc1", AVCC, 320, 240).unwrap();
        let audio = audio_setup(*b"mp4a", &[0x12, 0x10]).unwrap();
        let init = init_segment(&[video, audio]).unwrap();
        assert_eq!(&init[4..12], b"ftypiso6");
        let mut buf = &init[..];
        Ftyp::decode(&mut buf).unwrap();
        let moov = Moov::decode(&mut buf).unwrap();
        assert!(buf.is_empty());
        assert_eq!(moov.trak.len(), 2);
        assert_eq!(moov.mvex.as_ref().unwrap().trex.len(), 2);
        assert_eq!(moov.trak[0].mdia.mdhd.timescale, 90_000);
        assert_eq!(moov.trak[1].mdia.mdhd.timescale, 44_100);
        // The record is re-encoded byte for byte.
        let mut avcc = vec![0, 0, 0, 8 + AVCC.len() as u8];
        avcc.extend_from_slice(b"avcC");
        avcc.extend_from_slice(AVCC);
        assert!(init.windows(avcc.len()).any(|w| w == avcc));
        assert!(matches!(
            video_setup(*b"vp09", AVCC, 0, 0),
            Err(HlsError::UnsupportedCodec(_))
        ));
        assert!(video_setup(*b"avc1", &AVCC[..5], 0, 0).is_err());
    }

    #[test]
    fn a_fragment_points_each_run_at_its_samples_in_the_mdat() {
        let sample = |bytes: &'static [u8], sync| Sample {
            duration: 3600,
            cts: -3600,
            sync,
            data: Bytes::from_static(bytes).into(),
        };
        let video = [
            sample(b"\0\0\0\x01\x65", true),
            sample(b"\0\0\0\x01\x41", false),
        ];
        let audio = [sample(b"\x21\x22\x23", true)];
        let bytes = fragment(
            7,
            &[
                Run {
                    track_id: 1,
                    base_decode_time: 90_000,
                    samples: &video,
                },
                Run {
                    track_id: 2,
                    base_decode_time: 44_100,
                    samples: &audio,
                },
            ],
        )
        .unwrap();
        let mut buf = &bytes[..];
        let moof = Moof::decode(&mut buf).unwrap();
        let moof_len = bytes.len() - buf.len();
        assert_eq!(&buf[..8], &[0, 0, 0, 8 + 13, b'm', b'd', b'a', b't']);
        assert_eq!(moof.mfhd.sequence_number, 7);
        let offset = |i: usize| moof.traf[i].trun[0].data_offset.unwrap() as usize;
        assert_eq!(offset(0), moof_len + 8);
        assert_eq!(&bytes[offset(1)..offset(1) + 3], b"\x21\x22\x23");
        assert_eq!(
            moof.traf[1].tfdt.as_ref().unwrap().base_media_decode_time,
            44_100
        );
        let entries: Vec<TrunEntry> = moof.traf[0].trun[0].samples.iter().collect();
        assert_eq!(entries[0].flags, Some(SYNC_SAMPLE));
        assert_eq!(entries[1].flags, Some(NON_SYNC_SAMPLE));
        assert_eq!((entries[1].size, entries[1].cts), (Some(5), Some(-3600)));
    }
}
