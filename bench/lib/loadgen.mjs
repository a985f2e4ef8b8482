// The players of the fan-out workloads: bench/loadgen (a Rust crate of its own, built here
// with cargo on first use and whenever its sources or the package's change — cargo
// decides), N RTMP or HTTP-FLV players on one thread of another process, so that they
// cost little and do not share the latency probe's event loop. It answers "report" with
// each player's received bytes.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT, startCommand, stopProcess } from './proc.mjs'

const DIR = path.join(ROOT, 'bench/loadgen')
const BIN = path.join(DIR, 'target/release/rtmp-loadgen')

let built = null
/** Builds bench/loadgen (once per process; a no-op for cargo when nothing changed). */
export function build() {
  if (built) return built
  const r = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', path.join(DIR, 'Cargo.toml'), '--target-dir', path.join(DIR, 'target')],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.error) throw new Error(`cargo is needed to build the load generator (bench/loadgen): ${r.error.message}`)
  if (r.status !== 0) throw new Error(`cargo build of bench/loadgen failed (${r.status})`)
  built = BIN
  return built
}

/**
 * Starts `n` players: `{ kind: 'rtmp', port, stream }` (rtmp://127.0.0.1:port/live/stream)
 * or `{ kind: 'http', port, path }`; resolves once every player opened or failed (throws
 * if any failed, or if they have not all opened within max(30 s, 10 ms per player)).
 * @returns {Promise<{ pid: number, report: () => Promise<{ bytes: number[], open: number, failed: number }>, stop: () => Promise<void> }>}
 */
export async function startPlayers({ kind, port, stream = 'bench', path: urlPath, n }) {
  const bin = build()
  const args = kind === 'rtmp' ? ['rtmp', `127.0.0.1:${port}`, 'live', stream, String(n)] : ['http', `127.0.0.1:${port}`, urlPath, String(n)]
  const child = startCommand(bin, args, { stdin: 'pipe' })
  const waiting = []
  let exited = null
  child.on('exit', (code, sig) => {
    exited = `the load generator exited (${code ?? sig}): ${child.stderrTail()}`
    for (const w of waiting.splice(0)) w.reject(new Error(exited))
  })
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)))
  const next = () => new Promise((resolve, reject) => (exited ? reject(new Error(exited)) : waiting.push({ resolve, reject })))
  const stop = () => { child.stdin.end(); return stopProcess(child) }
  // A server saturated by the joins' GOP bursts may never let every player open: that
  // step has failed, it does not hang the ladder.
  const openMs = Math.max(30_000, n * 10)
  let timer
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), openMs) })
  const ready = await Promise.race([next(), timedOut]).finally(() => clearTimeout(timer))
  if (!ready) {
    await stop()
    throw new Error(`${n} ${kind} players did not all open within ${openMs / 1000} s`)
  }
  if (ready.failed > 0) {
    await stop()
    throw new Error(`${ready.failed} of ${n} ${kind} players failed to open (e.g. ${ready.error})`)
  }
  return {
    pid: child.pid,
    report: () => { const r = next(); child.stdin.write('report\n'); return r },
    stop,
  }
}
