// FLV helpers for tests: the package's own reader (lib/flv.js) plus counting helpers.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const flv = require('../../lib/flv.js')

export const { readFlv, TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT } = flv

/**
 * The one keyframe predicate of the tests and the benchmarks: whether a video FLV tag or
 * a recorded video RTMP message (`type` 9, the FLV tag type and RTMP message type id, or
 * 'video', the message's msgTypeText) carries a key frame (FrameType 1) with picture
 * data. AVC sequence headers and end-of-sequence tags do not count; Enhanced RTMP
 * (ExHeader bit set) counts only CodedFrames/CodedFramesX packets.
 * @param {{ type: number | string, data: Buffer }} tag
 */
export function isKeyframe(tag) {
  if ((tag.type !== TAG_VIDEO && tag.type !== 'video') || tag.data.length < 2) return false
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
