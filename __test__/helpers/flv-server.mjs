// A small live server for the FLV playback tests, built on the low-level API: RTMP
// publishers go into LiveStreams keyed "app/name" (made on demand, kept after the
// publisher leaves, so players may wait for one), and an HTTP server serves them with
// flvHttpHandler (HTTP-FLV, WebSocket-FLV, CORS preflight).

import { once } from 'node:events'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { rtmpServer, LiveStream, flvHttpHandler } = require('../../index.js')

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
