// Ingest: FFmpeg publishes a ~65 MB FLV (720p25 ~20 Mb/s + AAC) as fast as it can
// (-c copy, no -re); the server's CPU-s per GB published.
import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { makeFlv, publish } from '../../__test__/helpers/ffmpeg.mjs'
import { cpuSampler, sleep } from '../lib/proc.mjs'

export const FIXTURE = fileURLToPath(new URL('../fixtures/ingest-720p25-20M-25s.flv', import.meta.url))
export const FIXTURE_OPTS = { seconds: 25, width: 1280, height: 720, fps: 25, gop: 50, videoBitrate: '20M', noise: 12, timeoutMs: 300_000 }

/** Generates (or reuses) the fixture; returns its size in bytes. */
export async function prepare() {
  await makeFlv(FIXTURE, FIXTURE_OPTS)
  return statSync(FIXTURE).size
}

/**
 * One FFmpeg publish to a running server process; its wall time and the server's CPU
 * seconds (read until they stop moving, so work still queued at FFmpeg's exit counts).
 * @returns {Promise<{ wall: number, cpu: number }>}
 */
export async function publishOnce(pid, url) {
  const cpu = cpuSampler(pid)
  const t0 = performance.now()
  const r = await publish(url, FIXTURE, { timeoutMs: 300_000 })
  const wall = (performance.now() - t0) / 1000
  if (r.code !== 0) throw new Error(`ffmpeg publish exited with ${r.code ?? r.signal}:\n${r.stderr}`)
  const end = await cpu.stop()
  return { wall, cpu: cpu.start === null || end === null ? NaN : end - cpu.start }
}

/**
 * Measures one contender: a fresh server, `publishes` publishes in a row (the server's CPU
 * time is read in clock ticks, 10 ms: one ~0.3 s publish would be a handful of them).
 */
export async function run(contender, { publishes = 6 } = {}) {
  const bytes = await prepare()
  const server = await contender.start()
  try {
    await sleep(300)
    let wall = 0
    let cpu = 0
    for (let i = 0; i < publishes; i++) {
      const r = await publishOnce(server.child.pid, `rtmp://127.0.0.1:${server.port}/live/bench`)
      wall += r.wall
      cpu += r.cpu
    }
    return { cpuPerGb: cpu / (publishes * bytes / 1e9), mbps: publishes * bytes / 1e6 / wall }
  } finally {
    await server.stop()
  }
}
