// A small FLV reader for tests (FLV spec v10.1, annex E). Reads a whole file into memory.
import { readFileSync } from 'node:fs'

export const TAG_AUDIO = 8
export const TAG_VIDEO = 9
export const TAG_SCRIPT = 18

/**
 * @typedef {object} FlvTag
 * @property {number} type      8 audio, 9 video, 18 script data (the filter bit is masked off)
 * @property {number} timestamp ms: the 24-bit field, with TimestampExtended as bits 24..31
 * @property {number} size      DataSize (payload bytes, without the 11-byte tag header)
 * @property {Buffer} data      the payload, a subarray of the input (no copy)
 * @property {number} offset    byte offset of the tag header in the input
 */

/**
 * Parses an FLV file or buffer. Validates the signature, the header size and every
 * PreviousTagSize; throws an Error naming the offset on any mismatch or truncation.
 * @param {Buffer|Uint8Array|string} bufferOrPath
 * @returns {{ version: number, hasAudio: boolean, hasVideo: boolean, tags: FlvTag[] }}
 */
export function readFlv(bufferOrPath) {
  const buf = typeof bufferOrPath === 'string'
    ? readFileSync(bufferOrPath)
    : Buffer.from(bufferOrPath.buffer, bufferOrPath.byteOffset, bufferOrPath.byteLength)
  if (buf.length < 13) throw new Error(`FLV: too short (${buf.length} bytes)`)
  if (buf.toString('latin1', 0, 3) !== 'FLV') throw new Error('FLV: bad signature')
  const version = buf[3]
  const flags = buf[4]
  const headerSize = buf.readUInt32BE(5)
  if (headerSize < 9 || headerSize + 4 > buf.length) {
    throw new Error(`FLV: bad header size ${headerSize}`)
  }
  let pos = headerSize
  const prev0 = buf.readUInt32BE(pos)
  if (prev0 !== 0) throw new Error(`FLV: PreviousTagSize0 is ${prev0}, expected 0`)
  pos += 4

  const tags = []
  while (pos < buf.length) {
    if (pos + 11 > buf.length) throw new Error(`FLV: truncated tag header at ${pos}`)
    const type = buf[pos] & 0x1f
    const size = buf.readUIntBE(pos + 1, 3)
    const timestamp = (buf[pos + 7] * 0x1000000) + buf.readUIntBE(pos + 4, 3)
    const end = pos + 11 + size
    if (end + 4 > buf.length) throw new Error(`FLV: truncated tag (type ${type}, ${size} bytes) at ${pos}`)
    const prev = buf.readUInt32BE(end)
    if (prev !== 11 + size) {
      throw new Error(`FLV: PreviousTagSize ${prev} != ${11 + size} after tag at ${pos}`)
    }
    tags.push({ type, timestamp, size, data: buf.subarray(pos + 11, end), offset: pos })
    pos = end + 4
  }
  return { version, hasAudio: (flags & 0x04) !== 0, hasVideo: (flags & 0x01) !== 0, tags }
}

/**
 * Whether a video tag carries a key frame (FrameType 1) with picture data: AVC sequence
 * headers and end-of-sequence tags are not counted; Enhanced RTMP (ExHeader bit set)
 * counts only CodedFrames/CodedFramesX packets.
 * @param {FlvTag} tag
 */
export function isKeyframe(tag) {
  if (tag.type !== TAG_VIDEO || tag.size < 2) return false
  const b0 = tag.data[0]
  if (b0 & 0x80) return ((b0 >> 4) & 7) === 1 && ((b0 & 0x0f) === 1 || (b0 & 0x0f) === 3)
  return b0 >> 4 === 1 && ((b0 & 0x0f) !== 7 || tag.data[1] === 1)
}

/**
 * Counts tags and payload bytes per kind; `video.keyframes` counts tags for which
 * isKeyframe() is true. Tag types other than 8 and 9 count as data.
 * @param {FlvTag[]} tags
 * @returns {{ audio: {count: number, bytes: number},
 *   video: {count: number, bytes: number, keyframes: number},
 *   data: {count: number, bytes: number} }}
 */
export function summarize(tags) {
  const s = {
    audio: { count: 0, bytes: 0 },
    video: { count: 0, bytes: 0, keyframes: 0 },
    data: { count: 0, bytes: 0 },
  }
  for (const t of tags) {
    const k = t.type === TAG_AUDIO ? s.audio : t.type === TAG_VIDEO ? s.video : s.data
    k.count++
    k.bytes += t.size
    if (isKeyframe(t)) s.video.keyframes++
  }
  return s
}
