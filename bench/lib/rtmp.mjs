// Raw RTMP clients for the benchmarks, written straight to sockets so that the client
// side costs the same against every server: a plain handshake, pre-encoded chunks, a light
// player that reads and discards, an idle session, a publisher of pre-encoded messages.
import net from 'node:net'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { amf } = require('../../index.js')

const HANDSHAKE_REPLY = 1 + 2 * 1536

/**
 * Chunks one message at `chunkSize` bytes: a format-0 chunk, then format-3 continuations.
 * @returns {Buffer}
 */
export function chunked(csid, type, streamId, payload, { timestamp = 0, chunkSize = 128 } = {}) {
  const parts = []
  const h = Buffer.alloc(12)
  h[0] = csid
  h.writeUIntBE(Math.min(timestamp, 0xffffff), 1, 3)
  h.writeUIntBE(payload.length, 4, 3)
  h[7] = type
  h.writeUInt32LE(streamId, 8)
  parts.push(h)
  const ext = timestamp >= 0xffffff ? Buffer.from([timestamp >>> 24, (timestamp >> 16) & 255, (timestamp >> 8) & 255, timestamp & 255]) : null
  if (ext) parts.push(ext)
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) parts.push(Buffer.from([0xc0 | csid]), ...(ext ? [ext] : []))
    parts.push(payload.subarray(off, off + chunkSize))
  }
  return Buffer.concat(parts)
}

/** A Set Chunk Size protocol control message (§5.4.1). */
export function setChunkSize(size) {
  const p = Buffer.alloc(4)
  p.writeUInt32BE(size)
  return chunked(2, 1, 0, p)
}

/** An AMF0 command message on chunk stream 3 (8 for stream-level commands). */
export function command(cmd, transId, streamId, fields = {}) {
  return chunked(streamId ? 8 : 3, 20, streamId, amf.encodeAmf0Cmd({ cmd, transId, cmdObj: null, ...fields }))
}

/** connect + createStream for app "live" (what every session here starts with). */
function connectCommands(port) {
  return [
    command('connect', 1, 0, { cmdObj: { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; bench)', tcUrl: `rtmp://127.0.0.1:${port}/live` } }),
    command('createStream', 2, 0),
  ]
}

/**
 * Opens a socket and completes a plain handshake (C0+C1 of zeros, then C2 once S0+S1+S2
 * arrived). `onData` gets every byte after S2; `afterHandshake` is written with C2.
 * @returns {{ sock: net.Socket, ready: Promise<void> }}
 */
export function rawSession(port, { afterHandshake = [], onData = () => {} } = {}) {
  const sock = net.connect(port, '127.0.0.1')
  sock.setNoDelay(true)
  let got = 0
  const ready = new Promise((resolve, reject) => {
    sock.once('error', reject)
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)])))
    sock.on('data', (d) => {
      if (got >= HANDSHAKE_REPLY) return onData(d)
      got += d.length
      if (got < HANDSHAKE_REPLY) return
      sock.write(Buffer.concat([Buffer.alloc(1536), ...afterHandshake]))
      resolve()
      if (got > HANDSHAKE_REPLY) onData(d.subarray(d.length - (got - HANDSHAKE_REPLY)))
    })
  })
  ready.catch(() => {})
  sock.on('error', () => {})
  return { sock, ready }
}

/**
 * A light player: connect + createStream + play of `name` in one write after the
 * handshake, then reads and discards, acknowledging every MB.
 * @returns {{ sock: net.Socket, bytes: number }}
 */
export function lightPlayer(port, name) {
  const player = { bytes: 0, sock: null }
  let sinceAck = 0
  const { sock } = rawSession(port, {
    afterHandshake: [...connectCommands(port), command('play', 0, 1, { streamName: name, start: -2 })],
    onData(d) {
      player.bytes += d.length
      sinceAck += d.length
      if (sinceAck >= 1_000_000) {
        sinceAck = 0
        const ack = Buffer.alloc(4)
        ack.writeUInt32BE((player.bytes + HANDSHAKE_REPLY) >>> 0)
        sock.write(chunked(2, 3, 0, ack))
      }
    },
  })
  player.sock = sock
  return player
}

/**
 * A publisher's opening: connect, createStream, publish of `name` on stream 1 and a
 * Set Chunk Size, in one write after the handshake. Servers reply while it goes on
 * sending (every server here accepts that, as FFmpeg's fast path does).
 */
export function publisherOpening(port, name, chunkSize) {
  return [...connectCommands(port), command('publish', 0, 1, { name, type: 'live' }), setChunkSize(chunkSize)]
}

/**
 * Writes `blocks()` (an iterator of Buffers) to `sock`, waiting for 'drain' whenever the
 * socket's buffer is full; resolves when all is written.
 */
export async function writeAll(sock, blocks) {
  for (const b of blocks) {
    if (!sock.write(b)) {
      await new Promise((resolve, reject) => {
        const onClose = () => reject(new Error('socket closed while writing'))
        sock.once('close', onClose)
        sock.once('drain', () => { sock.off('close', onClose); resolve() })
      })
    }
  }
}
