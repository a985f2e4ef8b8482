// HLS output benchmark, one command (`npm run bench:hls`): on this process, an RTMP
// server whose LiveStreams each have an HLS output (stream.hls) served over node:http.
//  1. origin CPU per HLS stream: N publications in real time (FFmpeg -re, H.264 + AAC)
//     for a while with no HLS output, then the same with one; the difference per stream;
//  2. latency to the live edge: hls.js in headless Chromium, low-latency mode
//     (wall clock − PROGRAM-DATE-TIME of what is on screen, and hls.latency);
//  3. players through a cache: P LL-HLS pull players through nginx proxy_cache; what
//     reached the origin, the hit ratio, the origin's CPU meanwhile.
// Options: --streams N (4) --seconds S (10) --players P (32) --bitrate (2M).
// Prints a Markdown table (rows for BENCHMARKS.md).

import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { makeFlv, publish } from '../__test__/helpers/ffmpeg.mjs'
import { startHlsOrigin } from '../__test__/helpers/hls-origin.mjs'
import { playWithHlsJs } from '../__test__/helpers/hls-player.mjs'
import { pullPlayer, startNginxCache } from '../__test__/helpers/hls-cache.mjs'

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
    players: { type: 'string', default: '32' },
    bitrate: { type: 'string', default: '2M' },
  },
})
const streams = Number(values.streams)
const seconds = Number(values.seconds)
const playerCount = Number(values.players)
const here = path.dirname(fileURLToPath(import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const fixture = await makeFlv(path.join(here, '..', '__test__', 'fixtures', `bench-hls-${values.bitrate}.flv`),
  { seconds: seconds * 3 + 20, fps: 30, gop: 30, width: 1280, height: 720, videoBitrate: values.bitrate, noise: 10 })

/** CPU seconds this process used while `fn` ran, and its wall time. */
async function cpuDuring(fn) {
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const result = await fn()
  const c = process.cpuUsage(c0)
  return { cpu: (c.user + c.system) / 1e6, wall: Number(process.hrtime.bigint() - t0) / 1e9, result }
}

/** Publishes `count` streams named `${prefix}${i}` in real time; `stop()` ends them. */
function publishAll(origin, prefix, count) {
  const abort = new AbortController()
  const running = Array.from({ length: count }, (_, i) =>
    publish(`rtmp://127.0.0.1:${origin.rtmpPort}/live/${prefix}${i}`, fixture,
      { realtime: true, timeoutMs: 300_000, signal: abort.signal }).catch(() => {}))
  return { stop: () => { abort.abort(); return Promise.all(running) } }
}

const rows = []
const row = (metric, value, unit, note = '') => rows.push({ metric, value, unit, note })

// 1. CPU per stream, without and with HLS output (same publications).
for (const withHls of [false, true]) {
  const origin = await startHlsOrigin({}, { hls: withHls })
  const running = publishAll(origin, withHls ? 'hls' : 'plain', streams)
  await sleep(3000)
  const { cpu, wall } = await cpuDuring(() => sleep(seconds * 1000))
  const held = withHls ? [...origin.streams.values()].map((s) => s.hls().stats().heldBytes) : []
  await running.stop()
  await origin.close()
  if (withHls) {
    row(`Origin CPU, ${streams} streams ingested with HLS output`, (cpu / wall * 100).toFixed(1), '% core')
    row('HLS window held per stream (7 segments of 1 s)', (held.reduce((a, b) => a + b, 0) / held.length / 1e6).toFixed(2), 'MB')
    rows.cpuWith = cpu / wall
  } else {
    row(`Origin CPU, ${streams} streams ingested, HLS output closed`, (cpu / wall * 100).toFixed(1), '% core')
    rows.cpuWithout = cpu / wall
  }
}
row('Origin CPU per HLS stream (muxing, difference)', ((rows.cpuWith - rows.cpuWithout) / streams * 100).toFixed(2), '% core',
  `${values.bitrate} 720p30 H.264 + AAC, parts 200 ms`)

// 2 and 3 on one publication.
{
  const origin = await startHlsOrigin()
  const running = publishAll(origin, 'live', 1)
  await sleep(3000)
  const report = await playWithHlsJs(`http://127.0.0.1:${origin.httpPort}/live/live0/index.m3u8`, { seconds })
  const samples = report.samples.slice(-Math.floor(seconds * 2))
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  if (report.fatal || samples.length === 0) {
    row('hls.js latency to the live edge', 'n/a', 's', `fatal: ${report.fatal}; ${report.errors.join(', ')}`)
  } else {
    row('hls.js (low-latency mode) latency: wall clock − PROGRAM-DATE-TIME, median', median(samples.map((s) => s.pdtLatency)).toFixed(2), 's',
      `max ${Math.max(...samples.map((s) => s.pdtLatency)).toFixed(2)} s; Chromium ${report.pageOrigin} → 127.0.0.1`)
    row('hls.js hls.latency, median', median(samples.map((s) => s.latency)).toFixed(2), 's')
  }

  const cache = await startNginxCache(origin.httpPort)
  origin.requests.clear()
  const url = `http://127.0.0.1:${cache.port}/live/live0/index.m3u8`
  const { cpu, wall, result: players } = await cpuDuring(() =>
    Promise.all(Array.from({ length: playerCount }, () => pullPlayer(url, { seconds }))))
  const clientRequests = players.reduce((n, p) => n + p.requests, 0)
  const clientBytes = players.reduce((n, p) => n + p.bytes, 0)
  const media = [...origin.requests].filter(([u]) => /\.(m4s|mp4)$/.test(u))
  const originRequests = [...origin.requests.values()].reduce((a, b) => a + b, 0)
  const errors = players.flatMap((p) => p.errors)
  row(`${playerCount} LL-HLS players through nginx proxy_cache: requests`, clientRequests, 'requests', `${(clientBytes / 1e6).toFixed(1)} MB in ${seconds} s`)
  row('... of which reached the origin', originRequests, 'requests',
    `${media.length} distinct media URLs, at most ${Math.max(...media.map(([, n]) => n))} origin request each; ${errors.length} errors`)
  row('... cache hit ratio', ((1 - originRequests / clientRequests) * 100).toFixed(1), '%')
  row('... bench process CPU meanwhile (origin + 32 pull loops in JS)', (cpu / wall * 100).toFixed(1), '% core', 'nginx not counted')
  cache.close()
  await running.stop()
  await origin.close()
}

const cpus = os.cpus()
console.log(`HLS bench: ${cpus.length} × ${cpus[0]?.model}, node ${process.version}, ${new Date().toISOString()}`)
console.log(`Command: node bench/hls.mjs --streams ${streams} --seconds ${seconds} --players ${playerCount} --bitrate ${values.bitrate}\n`)
console.log('| metric | value | unit | note |\n| --- | --- | --- | --- |')
for (const r of rows) console.log(`| ${r.metric} | ${r.value} | ${r.unit} | ${r.note} |`)
process.exit(0)
