#!/usr/bin/env node
// Ingest benchmark: FFmpeg publishes a ~65 MB FLV as fast as it can (-c copy, no -re) to an
// RTMP server over loopback; reports wall time, throughput and the server's CPU time.
// Usage: node bench/ingest.mjs [--runs N] [--server "CMD"] [--json]   (see bench/README.md)
import os from 'node:os'
import { parseArgs } from 'node:util'
import { ffmpegPath } from '../__test__/helpers/ffmpeg.mjs'
import { freePort } from '../__test__/helpers/process.mjs'
import { NPM_START } from './lib/contenders.mjs'
import { CLK_TCK, sleep, startCommand, startServer, stopProcess } from './lib/proc.mjs'
import { median, textTable } from './lib/stats.mjs'
import { FIXTURE, prepare, publishOnce } from './workloads/ingest.mjs'

const STREAM_PATH = '/live/bench'

process.on('uncaughtException', (e) => { console.error(`ingest: ${e.message}`); process.exit(1) }) // exit kills children

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    server: { type: 'string', default: NPM_START },
    json: { type: 'boolean', default: false },
    // Hidden: a command started once per run that accepts one publish on {port} and exits,
    // e.g. FFmpeg as a listener: --target-cmd '{ffmpeg} -listen 1 -i rtmp://127.0.0.1:{port}/live/bench -f null -'
    'target-cmd': { type: 'string' },
  },
})
const runs = Number(args.runs)
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${args.runs}`)

/** One publish to a fresh --target-cmd process (it exits after the stream). */
async function runOnceTarget(cmd) {
  const port = await freePort()
  const child = startCommand(cmd.replaceAll('{port}', port).replaceAll('{ffmpeg}', ffmpegPath()), null)
  try {
    await sleep(500) // let it listen; it accepts only one connection, so don't probe it
    return await publishOnce(child.pid, `rtmp://127.0.0.1:${port}${STREAM_PATH}`)
  } catch (e) {
    e.message += `\n${child.stderrTail()}`
    throw e
  } finally {
    await stopProcess(child)
  }
}

// --- main ---
const tf = performance.now()
const bytes = await prepare()
const genSeconds = (performance.now() - tf) / 1000
const target = args['target-cmd'] ?? args.server
console.error(`fixture ${FIXTURE} (${(bytes / 1e6).toFixed(1)} MB${genSeconds > 1 ? `, generated in ${genSeconds.toFixed(1)} s` : ''})`)
console.error(`target: ${target} | ffmpeg: ${ffmpegPath()} | node ${process.version} | ${os.cpus().length} CPUs | CLK_TCK ${CLK_TCK}`)

const results = []
let server = null
try {
  if (!args['target-cmd']) {
    server = await startServer(args.server)
    console.error(`server pid ${server.child.pid} on port ${server.port}`)
  }
  for (let i = 1; i <= runs; i++) {
    const { wall, cpu } = server
      ? await publishOnce(server.child.pid, `rtmp://127.0.0.1:${server.port}${STREAM_PATH}`)
      : await runOnceTarget(args['target-cmd'])
    if (server && server.child.exitCode !== null) throw new Error(`server exited during run ${i}\n${server.child.stderrTail()}`)
    results.push({ run: i, mb: bytes / 1e6, wall, mbps: bytes / 1e6 / wall, cpu, cpuPerGb: cpu / (bytes / 1e9) })
  }
} finally {
  if (server) await stopProcess(server.child)
}

const rows = [...results, {
  run: 'median', mb: bytes / 1e6,
  ...Object.fromEntries(['wall', 'mbps', 'cpu', 'cpuPerGb'].map((k) => [k, median(results.map((r) => r[k]))])),
}]
const cols = [['run', 'run', (v) => String(v)], ['MB', 'mb', (v) => v.toFixed(1)], ['wall s', 'wall', (v) => v.toFixed(3)],
  ['MB/s', 'mbps', (v) => v.toFixed(1)], ['server CPU-s', 'cpu', (v) => v.toFixed(2)], ['CPU-s/GB', 'cpuPerGb', (v) => v.toFixed(2)]]
console.log(textTable([cols.map((c) => c[0]), ...rows.map((r) => cols.map(([, k, f]) => f(r[k])))]))
if (args.json) console.log(JSON.stringify({ target, bytes, runs: results, median: rows.at(-1) }))
