// Fan-out and latency: one publisher at real-time speed (the ~6 Mb/s 720p25 fixture's
// tags, paced by their timestamps from this process, so each message's send time is
// known), N light players that read and discard, and one probe player that decodes the
// stream and times each message from its write by the publisher to its arrival.
import { fileURLToPath } from 'node:url'
import { makeFlv } from '../../__test__/helpers/ffmpeg.mjs'
import { chunked, connectClient, lightPlayer, play, publisherOpening, rawSession } from '../../__test__/helpers/rtmp-client.mjs'
import { readFlv, TAG_AUDIO, TAG_VIDEO } from '../../__test__/helpers/flv.mjs'
import { procStats, sleep } from '../lib/proc.mjs'
import { percentile } from '../lib/stats.mjs'

export const FIXTURE = fileURLToPath(new URL('../fixtures/fanout-720p25-6M-40s.flv', import.meta.url))
export const FIXTURE_OPTS = { seconds: 40, width: 1280, height: 720, fps: 25, gop: 50, videoBitrate: '6M', noise: 8, timeoutMs: 600_000 }
const STREAM = 'bench'
const CHUNK_SIZE = 4096

let cached
/** The fixture's audio and video tags and its bitrate (bits/s), generated once. */
export async function prepare() {
  if (cached) return cached
  await makeFlv(FIXTURE, FIXTURE_OPTS)
  const tags = readFlv(FIXTURE).tags.filter((t) => t.type === TAG_AUDIO || t.type === TAG_VIDEO)
  const bits = tags.reduce((s, t) => s + t.size, 0) * 8 / (tags.at(-1).timestamp / 1000)
  cached = { tags, bits }
  return cached
}

const key = (type, ts) => `${type}:${ts}`

/**
 * Publishes `tags` to `port` as live/`name` in real time (each tag written when its
 * timestamp is due); `sent` maps "type:timestamp" to the time of its write.
 */
export function pacedPublisher(port, tags, name = STREAM) {
  const sent = new Map()
  const { sock, ready } = rawSession(port, { afterHandshake: publisherOpening(port, name, CHUNK_SIZE) })
  let stopped = false
  const done = (async () => {
    await ready
    await sleep(300) // the publish is accepted before media flows
    const t0 = performance.now()
    let i = 0
    while (!stopped && i < tags.length) {
      const now = performance.now() - t0
      for (; i < tags.length && tags[i].timestamp <= now; i++) {
        const t = tags[i]
        sock.write(chunked(t.type === TAG_AUDIO ? 4 : 6, t.type, 1, t.data, { timestamp: t.timestamp, chunkSize: CHUNK_SIZE }))
        sent.set(key(t.type, t.timestamp), performance.now())
      }
      await sleep(4)
    }
  })()
  return { sent, done, stop: () => { stopped = true; sock.destroy() } }
}

/**
 * Measures one contender at `players` light players over `seconds`: server CPU (% of one
 * core), RSS and RSS per player, players per core, how many kept real time (≥ 90 % of the
 * stream's bitrate), and the probe's publish-to-player delay (p50/p99 ms, of all its audio
 * and video messages, and of each kind alone).
 */
export async function run(contender, { players = 100, seconds = 8 } = {}) {
  const { tags, bits } = await prepare()
  const server = await contender.start()
  const pid = server.child.pid
  const publisher = pacedPublisher(server.port, tags)
  const list = []
  let probe
  try {
    await sleep(1500)
    const rss0 = procStats(pid).rssKb
    probe = await connectClient(server.port, 'live')
    play(probe, STREAM)
    for (let i = 0; i < players; i++) list.push(lightPlayer(server.port, STREAM))
    await sleep(2000) // joins and GOP bursts settle
    const start = list.map((p) => p.bytes)
    const firstProbe = probe.messages.length
    const s0 = procStats(pid)
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const wall = (performance.now() - t0) / 1000
    const s1 = procStats(pid)
    const tEnd = performance.now()
    const rates = list.map((p, i) => (p.bytes - start[i]) * 8 / wall)
    const delays = []
    const byType = { audio: [], video: [] }
    for (const m of probe.messages.slice(firstProbe)) {
      const at = publisher.sent.get(key(m.type === 'audio' ? TAG_AUDIO : TAG_VIDEO, m.timestamp))
      if ((m.type === 'audio' || m.type === 'video') && at !== undefined && at >= t0 && m.at <= tEnd) {
        delays.push(m.at - at)
        byType[m.type].push(m.at - at)
      }
    }
    if (delays.length < seconds * 10) throw new Error(`${contender.name}: the probe player matched only ${delays.length} messages to the publisher's`)
    const cpuPercent = 100 * (s1.cpu - s0.cpu) / wall
    return {
      cpuPercent,
      playersPerCore: players / (cpuPercent / 100),
      rssMb: s1.rssKb / 1024,
      rssPerPlayerKb: (s1.rssKb - rss0) / (players + 1),
      keptUp: rates.filter((r) => r >= 0.9 * bits).length / players,
      minMbps: Math.min(...rates) / 1e6,
      latencyP50: percentile(delays, 50),
      latencyP99: percentile(delays, 99),
      videoP50: percentile(byType.video, 50),
      videoP99: percentile(byType.video, 99),
      audioP50: percentile(byType.audio, 50),
      audioP99: percentile(byType.audio, 99),
    }
  } finally {
    for (const p of list) p.sock.destroy()
    probe?.sock.destroy()
    publisher.stop()
    await publisher.done.catch(() => {})
    await server.stop()
  }
}

/**
 * The largest N of `ladder` (ascending) at which every player kept real time: runs
 * `run` at each step until one fails. 0 if the first step fails.
 */
export async function runMax(contender, { ladder = [100, 200, 400], seconds = 5 } = {}) {
  let best = 0
  for (const n of ladder) {
    const r = await run(contender, { players: n, seconds })
    if (r.keptUp < 1) break
    best = n
  }
  return { maxPlayers: best }
}
