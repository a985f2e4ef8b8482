#!/usr/bin/env node
// Ingest benchmark: FFmpeg publishes a ~65 MB FLV as fast as it can (-c copy, no -re) to an
// RTMP server over loopback; reports wall time, throughput and the server's CPU time.
// Usage: node bench/ingest.mjs [--runs N] [--server "CMD"] [--json]   (see bench/README.md)
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ffmpegPath, makeFlv, publish } from '../__test__/helpers/ffmpeg.mjs'
import { freePort } from '../__test__/helpers/process.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FIXTURE = fileURLToPath(new URL('fixtures/ingest-720p25-20M-25s.flv', import.meta.url))
const FIXTURE_OPTS = { seconds: 25, width: 1280, height: 720, fps: 25, gop: 50, videoBitrate: '20M', noise: 12, timeoutMs: 300_000 }
const LISTENING = /listening on rtmp:\/\/[^:\s]+:(\d+)/
const STREAM_PATH = '/live/bench'

process.on('uncaughtException', (e) => { console.error(`ingest: ${e.message}`); process.exit(1) }) // exit kills children

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    server: { type: 'string', default: 'node examples/server.js' },
    json: { type: 'boolean', default: false },
    // Hidden: a command started once per run that accepts one publish on {port} and exits,
    // e.g. FFmpeg as a listener: --target-cmd '{ffmpeg} -listen 1 -i rtmp://127.0.0.1:{port}/live/bench -f null -'
    'target-cmd': { type: 'string' },
  },
})
const runs = Number(args.runs)
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${args.runs}`)

const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
})()

/**
 * CPU time of a process (all its threads) in seconds: utime + stime; null once it is gone.
 * Children's time is not included: the measured command must be the server process itself.
 */
function cpuSeconds(pid) {
  let stat
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  // Fields after "(comm)": state is field 3, utime field 14, stime field 15 (proc(5)).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

/** Polls cpuSeconds(pid) every 50 ms so the last value survives the process exiting. */
function cpuSampler(pid) {
  let last = cpuSeconds(pid)
  const timer = setInterval(() => { last = cpuSeconds(pid) ?? last }, 50)
  return {
    start: last,
    /** Final value; if the process lives, waits until its CPU time stops moving (≤ 2 s). */
    async stop() {
      clearInterval(timer)
      for (let i = 0; i < 40; i++) {
        const now = cpuSeconds(pid)
        if (now === null || now === last) break
        last = now
        await sleep(50)
      }
      return last
    },
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const children = new Set()
const killAll = () => { for (const c of children) c.kill('SIGKILL') }
process.once('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { killAll(); process.exit(130) })

/** Starts `cmd` through sh with `exec`, so the child's pid is the command's own. */
function startCommand(cmd, env = {}) {
  const child = spawn('/bin/sh', ['-c', `exec ${cmd}`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  child.stderrTail = () => stderr
  return child
}

/** Starts the server (contract: PORT=0 RTMP_QUIET=1, prints "listening on rtmp://host:port"). */
function startServer(cmd) {
  const child = startCommand(cmd, { PORT: '0', RTMP_QUIET: '1' })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error('no "listening on rtmp://…" line within 30 s')), 30_000)
    const fail = (e) => { clearTimeout(timer); child.kill('SIGKILL'); reject(new Error(`server \`${cmd}\`: ${e.message}\n${child.stderrTail()}`)) }
    child.on('error', fail)
    const onExit = (code, sig) => fail(new Error(`exited with ${code ?? sig} before listening`))
    child.on('exit', onExit)
    child.stdout.setEncoding('utf8').on('data', (d) => {
      if (out === null) return // keep draining stdout
      out += d
      const m = LISTENING.exec(out)
      if (m) {
        out = null
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve({ child, port: Number(m[1]) })
      }
    })
  })
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  if (await Promise.race([exited.then(() => true), sleep(2000)]) !== true) child.kill('SIGKILL')
  await exited
}

/** One publish to a running server; returns { wall, cpu }. */
async function runOnce(pid, url) {
  const cpu = cpuSampler(pid)
  const t0 = performance.now()
  const r = await publish(url, FIXTURE, { timeoutMs: 300_000 })
  const wall = (performance.now() - t0) / 1000
  if (r.code !== 0) throw new Error(`ffmpeg publish exited with ${r.code ?? r.signal}:\n${r.stderr}`)
  const end = await cpu.stop()
  return { wall, cpu: cpu.start === null || end === null ? NaN : end - cpu.start }
}

/** One publish to a fresh --target-cmd process (it exits after the stream). */
async function runOnceTarget(cmd) {
  const port = await freePort()
  const child = startCommand(cmd.replaceAll('{port}', port).replaceAll('{ffmpeg}', ffmpegPath()))
  try {
    await sleep(500) // let it listen; it accepts only one connection, so don't probe it
    const res = await runOnce(child.pid, `rtmp://127.0.0.1:${port}${STREAM_PATH}`)
    return res
  } catch (e) {
    e.message += `\n${child.stderrTail()}`
    throw e
  } finally {
    await stopServer(child)
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

// --- main ---
const tf = performance.now()
await makeFlv(FIXTURE, FIXTURE_OPTS)
const genSeconds = (performance.now() - tf) / 1000
const bytes = statSync(FIXTURE).size
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
      ? await runOnce(server.child.pid, `rtmp://127.0.0.1:${server.port}${STREAM_PATH}`)
      : await runOnceTarget(args['target-cmd'])
    if (server && server.child.exitCode !== null) throw new Error(`server exited during run ${i}\n${server.child.stderrTail()}`)
    results.push({ run: i, mb: bytes / 1e6, wall, mbps: bytes / 1e6 / wall, cpu, cpuPerGb: cpu / (bytes / 1e9) })
  }
} finally {
  if (server) await stopServer(server.child)
}

const rows = [...results, {
  run: 'median', mb: bytes / 1e6,
  ...Object.fromEntries(['wall', 'mbps', 'cpu', 'cpuPerGb'].map((k) => [k, median(results.map((r) => r[k]))])),
}]
const cols = [['run', 'run', (v) => String(v)], ['MB', 'mb', (v) => v.toFixed(1)], ['wall s', 'wall', (v) => v.toFixed(3)],
  ['MB/s', 'mbps', (v) => v.toFixed(1)], ['server CPU-s', 'cpu', (v) => v.toFixed(2)], ['CPU-s/GB', 'cpuPerGb', (v) => v.toFixed(2)]]
const table = [cols.map((c) => c[0]), ...rows.map((r) => cols.map(([, k, fmt]) => fmt(r[k])))]
const widths = cols.map((_, j) => Math.max(...table.map((row) => row[j].length)))
for (const row of table) console.log(row.map((cell, j) => cell.padStart(widths[j])).join('  '))
if (args.json) console.log(JSON.stringify({ target, bytes, runs: results, median: rows.at(-1) }))
