//! The media playlist (RFC 8216bis §4.4) of a [`Segmenter`]'s window, with the
//! Low-Latency HLS tags: `EXT-X-SERVER-CONTROL` (§4.4.3.8), `EXT-X-PART-INF`
//! (§4.4.3.7), `EXT-X-PART` (§4.4.4.9) for the last two complete segments and the one
//! being cut, and `EXT-X-PRELOAD-HINT` (§4.4.5.3) for the next part. A player that
//! does not know LL-HLS skips those tags (§4.1: unknown tags are ignored) and plays
//! the complete segments. Written by hand rather than with `m3u8-rs`, which has no
//! PART, PART-INF, PRELOAD-HINT or SERVER-CONTROL; the output is byte-stable for a
//! given window, which caches like.

use std::fmt::Write;

use super::Segmenter;

/// Complete segments whose parts are listed (RFC 8216bis §4.4.4.9: parts older than
/// three target durations from the end SHOULD be removed).
const SEGMENTS_WITH_PARTS: usize = 2;

/// `ms` as seconds with three decimals.
fn seconds(ms: u32) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Milliseconds since the Unix epoch as an ISO 8601 date and time in UTC with
/// milliseconds (`2024-05-01T12:00:00.000Z`, RFC 8216bis §4.4.4.6), by the civil
/// calendar of days (proleptic Gregorian).
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The media playlist of `s`'s window; `None` before its first segment is complete
/// (nothing to play yet).
pub fn media_playlist(s: &Segmenter) -> Option<String> {
    let first = s.segments().front()?;
    let prefix = s.prefix();
    let config = s.config();
    let target_ms = s
        .segments()
        .iter()
        .map(|x| x.duration_ms)
        .max()
        .unwrap_or(0);
    // EXTINF rounded to the nearest integer must not exceed it (§4.4.3.1).
    let target = target_ms.div_ceil(1000).max(1);
    let part_target = config.part_target_ms;
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:{target}\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={}\n\
         #EXT-X-PART-INF:PART-TARGET={}\n#EXT-X-MEDIA-SEQUENCE:{}\n\
         #EXT-X-MAP:URI=\"{prefix}_init.mp4\"\n",
        // At least three part targets (§4.4.3.8).
        seconds(part_target * 3),
        seconds(part_target),
        first.msn,
    );
    let with_parts = s.segments().len().saturating_sub(SEGMENTS_WITH_PARTS);
    let part_line = |out: &mut String, msn: u64, i: usize, part: &super::Part| {
        let _ = writeln!(
            out,
            "#EXT-X-PART:DURATION={},URI=\"{prefix}_{msn}_{i}.m4s\"{}",
            seconds(part.duration_ms),
            if part.independent {
                ",INDEPENDENT=YES"
            } else {
                ""
            }
        );
    };
    for (n, segment) in s.segments().iter().enumerate() {
        let _ = writeln!(
            out,
            "#EXT-X-PROGRAM-DATE-TIME:{}",
            iso8601(segment.program_date_ms)
        );
        if n >= with_parts {
            for (i, part) in segment.parts.iter().enumerate() {
                part_line(&mut out, segment.msn, i, part);
            }
        }
        let _ = write!(
            out,
            "#EXTINF:{},\n{prefix}_{}.m4s\n",
            seconds(segment.duration_ms),
            segment.msn
        );
    }
    if s.ended() {
        out.push_str("#EXT-X-ENDLIST\n");
        return Some(out);
    }
    if let Some((msn, parts)) = s.open() {
        for (i, part) in parts.iter().enumerate() {
            part_line(&mut out, msn, i, part);
        }
        let _ = writeln!(
            out,
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{prefix}_{msn}_{}.m4s\"",
            parts.len()
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_8601_utc_with_milliseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 23:59:59.999 UTC.
        assert_eq!(iso8601(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
