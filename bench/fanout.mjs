#!/usr/bin/env node
// Fan-out benchmark: one FFmpeg publisher at real-time speed (~6 Mbit/s) and N light
// players (handshake, connect, createStream, play, then read and discard, sending
// Acknowledgements) against an RTMP server; reports the server's CPU and RSS and
// whether every player kept up.
// Usage: node bench/fanout.mjs [--players 50,100,200] [--seconds 10] [--server "CMD"] [--json]
import { spawn, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { makeFlv, publish, ffmpegPath } from '../__test__/helpers/ffmpeg.mjs'
import { readFlv } from '../__test__/helpers/flv.mjs'

const require = createRequire(import.meta.url)
const { amf } = require('../index.js')
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FIXTURE = fileURLToPath(new URL('fixtures/fanout-720p25-6M-40s.flv', import.meta.url))
const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '50,100,200' },
    seconds: { type: 'string', default: '10' },
    server: { type: 'string', default: 'node examples/server.js' },
    json: { type: 'boolean', default: false },
  },
})
const counts = args.players.split(',').map(Number)
const seconds = Number(args.seconds)
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
  return { cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, rssKb }
}

function startServer(cmd) {
  const child = spawn('/bin/sh', ['-c', `exec ${cmd}`], { cwd: ROOT, env: { ...process.env, PORT: '0', RTMP_QUIET: '1' }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on rtmp:\/\/[^:\s]+:(\d+)/.exec(out)
      if (m) resolve({ child, port: Number(m[1]) })
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

/** One chunk (format 0, one chunk: payload below the 128-byte chunk size is not needed). */
function chunked(csid, type, streamId, payload) {
  const parts = []
  for (let off = 0; off < payload.length || off === 0; off += 128) {
    const body = payload.subarray(off, off + 128)
    if (off === 0) {
      const h = Buffer.alloc(12)
      h[0] = csid
      h.writeUIntBE(payload.length, 4, 3)
      h[7] = type
      h.writeUInt32LE(streamId, 8)
      parts.push(h, body)
    } else {
      parts.push(Buffer.from([0xc0 | csid]), body)
    }
    if (payload.length === 0) break
  }
  return Buffer.concat(parts)
}

/** A light player: plays `name` and counts the bytes it reads, acknowledging them. */
function lightPlayer(port, name) {
  const sock = net.connect(port, '127.0.0.1')
  const player = { bytes: 0, sock }
  let handshake = 0
  let sinceAck = 0
  sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)])))
  sock.on('data', (d) => {
    if (handshake < 3073) {
      handshake += d.length
      if (handshake >= 3073) {
        sock.write(Buffer.concat([
          Buffer.alloc(1536),
          chunked(3, 20, 0, amf.encodeAmf0Cmd({ cmd: 'connect', transId: 1, cmdObj: { app: 'live', tcUrl: `rtmp://127.0.0.1:${port}/live` } })),
          chunked(3, 20, 0, amf.encodeAmf0Cmd({ cmd: 'createStream', transId: 2, cmdObj: null })),
          chunked(8, 20, 1, amf.encodeAmf0Cmd({ cmd: 'play', transId: 0, cmdObj: null, streamName: name, start: -2 })),
        ]))
      }
      return
    }
    player.bytes += d.length
    sinceAck += d.length
    if (sinceAck >= 1_000_000) {
      sinceAck = 0
      const ack = Buffer.alloc(4)
      ack.writeUInt32BE((player.bytes + handshake) >>> 0)
      sock.write(chunked(2, 3, 0, ack))
    }
  })
  sock.on('error', () => {})
  return player
}

await makeFlv(FIXTURE, { seconds: 40, width: 1280, height: 720, fps: 25, gop: 50, videoBitrate: '6M', noise: 8, timeoutMs: 600_000 })
const { tags } = readFlv(FIXTURE)
const streamBits = tags.reduce((s, t) => s + t.size, 0) * 8 / (tags[tags.length - 1].timestamp / 1000)
console.error(`stream ${(streamBits / 1e6).toFixed(2)} Mbit/s | server: ${args.server} | ffmpeg ${ffmpegPath()} | ${os.cpus().length} CPUs`)

const rows = []
for (const n of counts) {
  const { child, port } = await startServer(args.server)
  const stop = new AbortController()
  const publishing = publish(`rtmp://127.0.0.1:${port}/live/bench`, FIXTURE, { realtime: true, timeoutMs: 120_000, signal: stop.signal }).catch(() => {})
  await sleep(1000)
  const players = []
  for (let i = 0; i < n; i++) players.push(lightPlayer(port, 'bench'))
  await sleep(2000) // joins and GOP bursts settle
  const start = players.map((p) => p.bytes)
  const s0 = procStats(child.pid)
  const t0 = performance.now()
  await sleep(seconds * 1000)
  const wall = (performance.now() - t0) / 1000
  const s1 = procStats(child.pid)
  const rates = players.map((p, i) => (p.bytes - start[i]) * 8 / wall)
  const keptUp = rates.filter((r) => r >= 0.9 * streamBits).length
  rows.push({ players: n, cpuPercent: 100 * (s1.cpu - s0.cpu) / wall, rssMb: s1.rssKb / 1024, minMbps: Math.min(...rates) / 1e6, keptUp })
  for (const p of players) p.sock.destroy()
  stop.abort()
  await publishing
  child.kill('SIGKILL')
  await sleep(300)
}

if (args.json) console.log(JSON.stringify({ streamMbps: streamBits / 1e6, rows }, null, 2))
else {
  console.log('players  server CPU %  server RSS MB  slowest player Mbit/s  kept up')
  for (const r of rows) {
    console.log(`${String(r.players).padStart(7)}  ${r.cpuPercent.toFixed(1).padStart(12)}  ${r.rssMb.toFixed(1).padStart(13)}  ${r.minMbps.toFixed(2).padStart(21)}  ${r.keptUp}/${r.players}`)
  }
}
