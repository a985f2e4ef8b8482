// A small FLV reader (FLV spec v10.1, annex E): header, tags, PreviousTagSize checks.

import { readFileSync } from 'node:fs';

/**
 * Reads an FLV file or buffer into its tags.
 * @param {Buffer | string} input
 * @returns {{ hasAudio: boolean, hasVideo: boolean, tags: { type: number, timestamp: number, size: number, data: Buffer }[] }}
 */
export function readFlv(input) {
  const buf = typeof input === 'string' ? readFileSync(input) : input;
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') throw new Error('not an FLV file');
  const flags = buf[4];
  const headerSize = buf.readUInt32BE(5);
  if (headerSize < 9) throw new Error(`bad FLV header size ${headerSize}`);
  let pos = headerSize;
  if (buf.readUInt32BE(pos) !== 0) throw new Error('PreviousTagSize0 is not 0');
  pos += 4;
  const tags = [];
  while (pos + 11 <= buf.length) {
    const type = buf[pos] & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    // E.4.1: 24-bit timestamp, then TimestampExtended as the upper 8 bits.
    const timestamp = (buf[pos + 7] * 0x1000000 + buf.readUIntBE(pos + 4, 3)) >>> 0;
    const end = pos + 11 + size;
    if (end + 4 > buf.length) throw new Error(`truncated tag at ${pos}`);
    const previous = buf.readUInt32BE(end);
    if (previous !== size + 11) throw new Error(`PreviousTagSize ${previous} != ${size + 11} at ${end}`);
    tags.push({ type, timestamp, size, data: buf.subarray(pos + 11, end) });
    pos = end + 4;
  }
  return { hasAudio: Boolean(flags & 4), hasVideo: Boolean(flags & 1), tags };
}

/**
 * Counts tags per kind.
 * @param {{ type: number, size: number, data: Buffer }[]} tags
 */
export function summarize(tags) {
  const out = { audio: { count: 0, bytes: 0 }, video: { count: 0, bytes: 0, keyframes: 0 }, data: { count: 0, bytes: 0 } };
  for (const t of tags) {
    const kind = t.type === 8 ? 'audio' : t.type === 9 ? 'video' : 'data';
    out[kind].count += 1;
    out[kind].bytes += t.size;
    if (kind === 'video' && t.data[0] >> 4 === 1) out.video.keyframes += 1;
  }
  return out;
}
