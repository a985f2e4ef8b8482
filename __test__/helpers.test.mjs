// Tests for the test helpers themselves: the FLV reader and the FFmpeg fixtures/publisher.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { rmSync, statSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { ffmpegPath, makeFlv, makeLargeKeyframeFlv, ONE_MB, publish } from './helpers/ffmpeg.mjs'
import { isKeyframe, readFlv, summarize } from './helpers/flv.mjs'
import { freePort } from './helpers/process.mjs'

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url))

// Header (flags: audio + video) + PreviousTagSize0, an audio tag at 16 ms and a video tag
// whose timestamp uses TimestampExtended (0x01 << 24 | 0x123456 = 17,978,454 ms).
// prettier-ignore
const HAND_BUILT = Buffer.from([
  0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, // 'FLV', v1, A+V, header size 9
  0x00, 0x00, 0x00, 0x00,                               // PreviousTagSize0
  0x08, 0x00, 0x00, 0x04,                               // audio, DataSize 4
  0x00, 0x00, 0x10, 0x00,                               // Timestamp 16, TimestampExtended 0
  0x00, 0x00, 0x00,                                     // StreamID
  0xaf, 0x01, 0x12, 0x34,                               // AAC raw
  0x00, 0x00, 0x00, 0x0f,                               // PreviousTagSize 15
  0x09, 0x00, 0x00, 0x05,                               // video, DataSize 5
  0x12, 0x34, 0x56, 0x01,                               // Timestamp 0x123456, extended 0x01
  0x00, 0x00, 0x00,                                     // StreamID
  0x17, 0x01, 0x00, 0x00, 0x00,                         // AVC key frame NALU, CTS 0
  0x00, 0x00, 0x00, 0x10,                               // PreviousTagSize 16
])

describe('readFlv on a hand-built file', () => {
  test('reads the header flags and both tags with exact fields', () => {
    const flv = readFlv(HAND_BUILT)
    assert.equal(flv.version, 1)
    assert.equal(flv.hasAudio, true)
    assert.equal(flv.hasVideo, true)
    assert.equal(flv.tags.length, 2)
    const [a, v] = flv.tags
    assert.deepEqual({ type: a.type, timestamp: a.timestamp, size: a.size, offset: a.offset },
      { type: 8, timestamp: 16, size: 4, offset: 13 })
    assert.deepEqual([...a.data], [0xaf, 0x01, 0x12, 0x34])
    assert.deepEqual({ type: v.type, timestamp: v.timestamp, size: v.size, offset: v.offset },
      { type: 9, timestamp: 0x01123456, size: 5, offset: 32 })
    assert.deepEqual([...v.data], [0x17, 0x01, 0x00, 0x00, 0x00])
    assert.equal(v.data.buffer, HAND_BUILT.buffer, 'data is a subarray, not a copy')
  })

  test('summarize counts tags, bytes and key frames', () => {
    assert.deepEqual(summarize(readFlv(HAND_BUILT).tags), {
      audio: { count: 1, bytes: 4 },
      video: { count: 1, bytes: 5, keyframes: 1 },
      data: { count: 0, bytes: 0 },
    })
  })

  test('an AVC sequence header is not counted as a key frame', () => {
    assert.equal(isKeyframe({ type: 9, size: 5, data: Buffer.from([0x17, 0x00, 0, 0, 0]) }), false)
    assert.equal(isKeyframe({ type: 9, size: 5, data: Buffer.from([0x27, 0x01, 0, 0, 0]) }), false)
  })

  test('a recorded RTMP message is classified like the FLV tag it would be', () => {
    assert.equal(isKeyframe({ type: 'video', data: Buffer.from([0x17, 0x01, 0, 0, 0]) }), true)
    assert.equal(isKeyframe({ type: 'video', data: Buffer.from([0x17, 0x00, 0, 0, 0]) }), false)
    assert.equal(isKeyframe({ type: 'audio', data: Buffer.from([0x17, 0x01, 0, 0, 0]) }), false)
    assert.equal(isKeyframe({ type: 'video', data: Buffer.from([0x91, ...Buffer.from('hvc1')]) }), true, 'Enhanced RTMP CodedFrames')
    assert.equal(isKeyframe({ type: 'video', data: Buffer.from([0x90, ...Buffer.from('hvc1')]) }), false, 'Enhanced RTMP SequenceStart')
  })

  test('accepts a header-only file', () => {
    assert.deepEqual(readFlv(HAND_BUILT.subarray(0, 13)).tags, [])
  })

  test('rejects a bad signature', () => {
    const b = Buffer.from(HAND_BUILT)
    b[0] = 0x47
    assert.throws(() => readFlv(b), /signature/)
  })

  test('rejects a bad header size', () => {
    const b = Buffer.from(HAND_BUILT)
    b.writeUInt32BE(4, 5)
    assert.throws(() => readFlv(b), /header size/)
  })

  test('rejects a PreviousTagSize that does not match the tag', () => {
    const b = Buffer.from(HAND_BUILT)
    b.writeUInt32BE(17, b.length - 4)
    assert.throws(() => readFlv(b), /PreviousTagSize 17 != 16/)
  })

  test('rejects a truncated tag', () => {
    assert.throws(() => readFlv(HAND_BUILT.subarray(0, HAND_BUILT.length - 1)), /truncated/)
    assert.throws(() => readFlv(HAND_BUILT.subarray(0, 20)), /truncated/)
  })
})

describe('FFmpeg fixtures', { timeout: 60_000 }, () => {
  test('makeFlv writes H.264 + AAC with sequence headers first and sane timestamps', async () => {
    const path = await makeFlv(join(FIXTURES, 'small.flv'))
    const flv = readFlv(path)
    assert.ok(flv.hasAudio && flv.hasVideo)
    assert.equal(flv.tags[0].type, 18)
    assert.ok(flv.tags[0].data.includes('onMetaData'))
    const s = summarize(flv.tags)
    assert.ok(s.audio.count > 0 && s.video.count > 0 && s.video.keyframes > 0, JSON.stringify(s))
    const v = flv.tags.find((t) => t.type === 9)
    assert.deepEqual([v.data[0], v.data[1]], [0x17, 0x00], 'AVC sequence header')
    const a = flv.tags.find((t) => t.type === 8)
    assert.deepEqual([a.data[0] >> 4, a.data[1]], [10, 0], 'AAC sequence header')
    const last = { 8: 0, 9: 0 }
    for (const t of flv.tags.filter((t) => t.type !== 18)) {
      assert.ok(t.timestamp >= last[t.type], `timestamps go back at ${t.offset}`)
      last[t.type] = t.timestamp
    }
    assert.ok(last[9] > 4500 && last[9] <= 5100, `video ends at ${last[9]} ms`)
  })

  test('makeFlv reuses a fixture made with the same options', async (t) => {
    const path = join(FIXTURES, 'small.flv')
    await makeFlv(path)
    const before = statSync(path, { bigint: true })
    const t0 = performance.now()
    await makeFlv(path)
    t.diagnostic(`reused in ${(performance.now() - t0).toFixed(1)} ms`)
    const again = statSync(path, { bigint: true })
    assert.deepEqual([again.ino, again.mtimeNs], [before.ino, before.mtimeNs], 'the file was not written again')
  })

  test('makeLargeKeyframeFlv has video tags over 1 MiB', async () => {
    const flv = readFlv(await makeLargeKeyframeFlv(join(FIXTURES, 'large-keyframes.flv')))
    const big = flv.tags.filter((t) => isKeyframe(t) && t.size > ONE_MB)
    assert.ok(big.length >= 1, 'at least one key frame > 1,048,576 bytes')
  })
})

describe('publish', { timeout: 60_000 }, () => {
  const spawned = []
  after(() => { for (const c of spawned) c.kill('SIGKILL') })

  test('sends the file through RTMP unchanged (FFmpeg as the listener)', async () => {
    const src = await makeFlv(join(FIXTURES, 'small.flv'))
    const out = join(FIXTURES, 'received.flv')
    rmSync(out, { force: true })
    const port = await freePort()
    const url = `rtmp://127.0.0.1:${port}/live/test`
    const listener = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-listen', '1', '-i', url, '-c', 'copy', '-f', 'flv', out], { stdio: 'ignore' })
    spawned.push(listener)
    const exited = new Promise((r) => listener.once('exit', r))
    let result
    for (let i = 0; i < 20; i++) { // until the listener is up
      result = await publish(url, src, { timeoutMs: 20_000 })
      if (result.code === 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await exited, 0)
    const a = summarize(readFlv(src).tags)
    const b = summarize(readFlv(out).tags)
    assert.deepEqual([b.audio, b.video], [a.audio, a.video])
  })

  /** Runs fn(url) against a loopback TCP server that accepts but never answers. */
  async function withSilentServer(fn) {
    const sockets = new Set()
    const silent = net.createServer((s) => sockets.add(s)).listen(0, '127.0.0.1')
    await new Promise((r) => silent.once('listening', r))
    try {
      await fn(`rtmp://127.0.0.1:${silent.address().port}/live/test`)
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  }

  test('kills FFmpeg and rejects on timeout', async () => {
    const src = await makeFlv(join(FIXTURES, 'small.flv'))
    await withSilentServer(async (url) => {
      await assert.rejects(publish(url, src, { timeoutMs: 500 }), /timed out after 500 ms/)
    })
  })

  test('kills FFmpeg and rejects when aborted', async () => {
    const src = await makeFlv(join(FIXTURES, 'small.flv'))
    await withSilentServer(async (url) => {
      const signal = AbortSignal.timeout(300)
      await assert.rejects(publish(url, src, { signal }), { name: 'TimeoutError' })
    })
  })
})
