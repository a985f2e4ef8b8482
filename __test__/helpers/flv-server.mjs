// A small live server for the FLV playback tests, built on the low-level API: RTMP
// publishers go into LiveStreams keyed "app/name" (made on demand, kept after the
// publisher leaves, so players may wait for one), and an HTTP server serves them with
// flvHttpHandler (HTTP-FLV, WebSocket-FLV, CORS preflight).

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { probeFrames } from './ffmpeg.mjs'
import { isKeyframe } from './flv.mjs'

const require = createRequire(import.meta.url)
const { rtmpServer, LiveStream, flvHttpHandler, readFlv, amf } = require('../../index.js')

/**
 * @param {{ authorize?: Function, known?: (app: string, name: string) => boolean, cors?: string|false, rtmpPort?: number, httpPort?: number }} [opts]
 *   `known`: which unknown keys get a waiting stream (default: every key but those named "unknown")
 */
export async function startFlvServer(opts = {}) {
  const { known = (app, name) => name !== 'unknown', rtmpPort = 0, httpPort = 0, ...handlerOpts } = opts
  /** @type {Map<string, import('../../index.js').LiveStream>} */
  const streams = new Map()
  const streamFor = (key) => {
    let s = streams.get(key)
    if (!s) streams.set(key, (s = new LiveStream(key)))
    return s
  }
  const rtmp = rtmpServer().createServer((session) => {
    const published = new Map()
    let app = ''
    const end = (id) => {
      const stream = published.get(id)
      if (!stream) return
      published.delete(id)
      stream.removePublisher(session)
    }
    const onCommand = (chunk) => {
      const { msg, msgStreamId } = chunk.chunk
      const reply = (cmdObj, info) => chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: msg.transId, cmdObj, info })
      switch (msg.cmd) {
        case 'connect':
          app = String(msg.cmdObj && msg.cmdObj.app || '')
          chunk.sendSetChunkSize(4096)
          reply({ fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success' })
          break
        case 'releaseStream': case 'FCPublish': case 'FCUnpublish':
          reply(null, undefined)
          break
        case 'createStream':
          reply(null, 1)
          break
        case 'publish': {
          const stream = streamFor(`${app}/${msg.name}`)
          stream.setPublisher(session, msgStreamId)
          published.set(msgStreamId, stream)
          session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: msg.name })
          break
        }
        case 'deleteStream':
          end(msg.streamId)
          break
        default:
      }
    }
    session.msg.loop(null, { amf0cmd: onCommand, amf3cmd: onCommand })
    session.on('error', () => {})
    session.on('close', () => { for (const id of [...published.keys()]) end(id) })
  })
  rtmp.listen(rtmpPort, '127.0.0.1')
  await once(rtmp, 'listening')

  const players = new Set()
  const flv = flvHttpHandler({
    streams: (app, name) => (known(app, name) ? streamFor(`${app}/${name}`) : undefined),
    onPlayer: (p) => { players.add(p); p.once('close', () => players.delete(p)) },
    ...handlerOpts,
  })
  const http = createServer((req, res) => {
    if (!flv.request(req, res)) { res.writeHead(404); res.end() }
  })
  http.on('upgrade', (req, socket, head) => {
    if (!flv.upgrade(req, socket, head)) socket.destroy()
  })
  http.listen(httpPort, '127.0.0.1')
  await once(http, 'listening')
  return {
    streams,
    players,
    rtmpPort: rtmp.address().port,
    httpPort: http.address().port,
    async close() {
      for (const p of players) p.stop()
      await Promise.all([...players].map((p) => once(p, 'close')))
      http.close()
      rtmp.close()
    },
  }
}

/** The whole FLV tags at the front of a recording cut anywhere (header included). */
export function wholeTags(buf) {
  let pos = 13
  while (pos + 11 <= buf.length) {
    const end = pos + 11 + buf.readUIntBE(pos + 1, 3) + 4
    if (end > buf.length) break
    pos = end
  }
  return buf.subarray(0, pos)
}

/**
 * Checks what an FLV player recorded (`buf`, cut anywhere): the FLV header with both
 * flags, then onMetaData, the AVC and AAC sequence headers, then a keyframe before any
 * other video, more than `minVideo` video tags; written to `dir`/`name`.flv, it decodes
 * cleanly. Returns the parsed file.
 */
export async function checkFlvRecording(name, buf, dir, { minVideo = 40 } = {}) {
  const whole = wholeTags(buf)
  const flv = readFlv(whole)
  assert.ok(flv.hasAudio && flv.hasVideo, `${name}: header flags audio and video`)
  const [first, ...rest] = flv.tags
  assert.equal(first.type, 18, `${name}: starts with a script tag`)
  assert.equal(amf.amf0Decode(first.data)[0], 'onMetaData')
  const video = rest.filter((t) => t.type === 9)
  const audio = rest.filter((t) => t.type === 8)
  assert.deepEqual([...video[0].data.subarray(0, 2)], [0x17, 0x00], `${name}: the AVC sequence header first`)
  assert.deepEqual([...audio[0].data.subarray(0, 2)], [0xaf, 0x00], `${name}: the AAC sequence header first`)
  assert.ok(isKeyframe(video[1]), `${name}: then a keyframe`)
  assert.ok(video.length > minVideo, `${name}: ${video.length} video tags`)
  const file = path.join(dir, `${name}.flv`)
  writeFileSync(file, whole)
  const probe = await probeFrames(file)
  assert.equal(probe.errors, '', `${name}: decodes cleanly`)
  assert.ok(probe.frames.video > minVideo, `${name}: ${probe.frames.video} frames decoded`)
  return flv
}
