// Fan-out and latency: one publisher at real-time speed (the ~6 Mb/s 720p25 fixture's
// tags, paced by their timestamps from this process, so each message's send time is
// known), N players that read and discard (bench/loadgen, another process), and one probe
// player in this process that decodes the stream and times each message from its write
// by the publisher to its arrival.
import { fileURLToPath } from 'node:url'
import { makeFlv } from '../../__test__/helpers/ffmpeg.mjs'
import { chunked, connectClient, play, publisherOpening, rawSession } from '../../__test__/helpers/rtmp-client.mjs'
import { readFlv, TAG_AUDIO, TAG_VIDEO } from '../../__test__/helpers/flv.mjs'
import { startPlayers } from '../lib/loadgen.mjs'
import { meanRssKb, procStats, rssSampler, sleep } from '../lib/proc.mjs'
import { percentile } from '../lib/stats.mjs'

export const FIXTURE = fileURLToPath(new URL('../fixtures/fanout-720p25-6M-40s.flv', import.meta.url))
export const FIXTURE_OPTS = { seconds: 40, width: 1280, height: 720, fps: 25, gop: 50, videoBitrate: '6M', noise: 8, timeoutMs: 600_000 }

/**
 * How long the publisher runs before the server's RSS is read as the baseline of "RSS
 * per player": until what the server keeps per stream has stopped growing. node-rtmpapi
 * (`npm start`) muxes LL-HLS for every publication and keeps 7 segments of it (~1.5 MB
 * each of this fixture): read 1.5 s in, the baseline missed most of that window, which
 * then filled during the measurement and was counted as the players' (102 KB "per player"
 * at 100 players, 64 at 200). The window's 7 segments, the one being cut and a GOP to spare.
 */
export const STEADY_STREAM_MS = (7 + 2) * 1000 * FIXTURE_OPTS.gop / FIXTURE_OPTS.fps
/**
 * How long the RSS baseline is averaged over, from {@link STEADY_STREAM_MS} on: three
 * GOPs. Our RSS still swings by a segment or two (1.5-3 MB) as the HLS window slides
 * and freed pages go back to the OS, so a mean over one GOP depended on where in that
 * swing it fell (up to 0.5 MB, 5 KB per player at 100 players).
 */
const BASELINE_MS = 3 * 1000 * FIXTURE_OPTS.gop / FIXTURE_OPTS.fps

/** The RSS baseline (KB): the mean over {@link BASELINE_MS} once the stream is steady. */
export async function steadyBaselineRssKb(pid) {
  await sleep(STEADY_STREAM_MS)
  return meanRssKb(pid, BASELINE_MS)
}

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

/** An AVC or AAC sequence header (sent once, before the first loop's media). */
const isConfig = (t) => t.data[1] === 0 && (t.type === TAG_AUDIO ? t.data[0] >> 4 === 10 : (t.data[0] & 0x0f) === 7)

/**
 * Publishes `tags` to `port` as live/`name` in real time (each tag written when its
 * timestamp is due), looping the fixture until stopped (timestamps go on, configs are
 * not sent again), so that a ladder step whose players take long to open still
 * measures a live stream; `sent` maps "type:timestamp" to the time of its write.
 */
export function pacedPublisher(port, tags, name = STREAM) {
  const sent = new Map()
  const { sock, ready } = rawSession(port, { afterHandshake: publisherOpening(port, name, CHUNK_SIZE) })
  const media = tags.filter((t) => !isConfig(t))
  const loopMs = tags.at(-1).timestamp + 40
  let stopped = false
  const done = (async () => {
    await ready
    await sleep(300) // the publish is accepted before media flows
    const t0 = performance.now()
    let queue = tags
    let offset = 0
    let i = 0
    while (!stopped) {
      const now = performance.now() - t0
      for (; i < queue.length && queue[i].timestamp + offset <= now; i++) {
        const t = queue[i]
        const timestamp = t.timestamp + offset
        sock.write(chunked(t.type === TAG_AUDIO ? 4 : 6, t.type, 1, t.data, { timestamp, chunkSize: CHUNK_SIZE }))
        sent.set(key(t.type, timestamp), performance.now())
      }
      if (i === queue.length) {
        queue = media
        offset += loopMs
        i = 0
      }
      await sleep(4)
    }
  })()
  return { sent, done, stop: () => { stopped = true; sock.destroy() } }
}

/**
 * Server CPU (% of a core) and the load generator's over `seconds` with `players` open,
 * the server's mean RSS over that time (KB), each player's receive rate (bits/s), and
 * when the interval began (t0).
 */
export async function measurePlayers(serverPid, players, seconds) {
  const before = await players.report()
  const s0 = procStats(serverPid)
  const g0 = procStats(players.pid)
  const rss = rssSampler(serverPid)
  const t0 = performance.now()
  await sleep(seconds * 1000)
  const rssKb = rss.stop()
  const after = await players.report()
  const wall = (performance.now() - t0) / 1000
  const s1 = procStats(serverPid)
  const g1 = procStats(players.pid)
  if (after.open < after.bytes.length) throw new Error(`${after.bytes.length - after.open} players were closed while measured`)
  return {
    t0,
    cpuPercent: 100 * (s1.cpu - s0.cpu) / wall,
    loadgenCpuPercent: 100 * (g1.cpu - g0.cpu) / wall,
    rssKb,
    rates: after.bytes.map((b, i) => (b - before.bytes[i]) * 8 / wall),
  }
}

/**
 * Measures one contender at `players` players over `seconds`: server CPU (% of one
 * core), RSS and RSS per player (the growth of the mean RSS from a baseline taken once
 * the stream is steady, {@link steadyBaselineRssKb}), players per core, how many kept
 * real time (≥ 90 % of the stream's bitrate), the load generator's CPU, and the probe's
 * publish-to-player delay (p50/p99 ms, of all its audio and video messages, and of each
 * kind alone). A probe that matched too few messages is an error unless `probeOptional`
 * (the ladder, which judges the players alone).
 */
export async function run(contender, { players = 100, seconds = 8, probeOptional = false } = {}) {
  const { tags, bits } = await prepare()
  const server = await contender.start()
  const pid = server.child.pid
  const publisher = pacedPublisher(server.port, tags)
  let probe, list
  try {
    // The ladder judges real time alone: its RSS figures are not reported.
    let rss0 = 0
    if (probeOptional) await sleep(1500)
    else rss0 = await steadyBaselineRssKb(pid)
    probe = await connectClient(server.port, 'live')
    play(probe, STREAM)
    list = await startPlayers({ kind: 'rtmp', port: server.port, stream: STREAM, n: players })
    await sleep(2000) // joins and GOP bursts settle
    const firstProbe = probe.messages.length
    const m = await measurePlayers(pid, list, seconds)
    const tEnd = performance.now()
    const delays = []
    const byType = { audio: [], video: [] }
    for (const msg of probe.messages.slice(firstProbe)) {
      const at = publisher.sent.get(key(msg.type === 'audio' ? TAG_AUDIO : TAG_VIDEO, msg.timestamp))
      if ((msg.type === 'audio' || msg.type === 'video') && at !== undefined && at >= m.t0 && msg.at <= tEnd) {
        delays.push(msg.at - at)
        byType[msg.type].push(msg.at - at)
      }
    }
    if (delays.length < seconds * 10 && !probeOptional) throw new Error(`${contender.name}: the probe player matched only ${delays.length} messages to the publisher's`)
    return {
      cpuPercent: m.cpuPercent,
      playersPerCore: players / (m.cpuPercent / 100),
      rssMb: m.rssKb / 1024,
      rssPerPlayerKb: (m.rssKb - rss0) / (players + 1),
      keptUp: m.rates.filter((r) => r >= 0.9 * bits).length / players,
      minMbps: Math.min(...m.rates) / 1e6,
      loadgenCpuPercent: m.loadgenCpuPercent,
      probeMessages: delays.length,
      latencyP50: percentile(delays, 50),
      latencyP99: percentile(delays, 99),
      videoP50: percentile(byType.video, 50),
      videoP99: percentile(byType.video, 99),
      audioP50: percentile(byType.audio, 50),
      audioP99: percentile(byType.audio, 99),
    }
  } finally {
    await list?.stop()
    probe?.sock.destroy()
    publisher.stop()
    await publisher.done.catch(() => {})
    await server.stop()
  }
}

/**
 * The largest N of `ladder` (ascending) at which every player kept real time: runs
 * `run` at each step until one fails (or cannot open its players). 0 if the first step
 * fails. Also the load generator's CPU at the last step that ran, and that step.
 */
export async function runMax(contender, { ladder = [100, 200, 400], seconds = 5 } = {}) {
  let best = 0
  let last = {}
  for (const n of ladder) {
    let r
    try {
      r = await run(contender, { players: n, seconds, probeOptional: true })
    } catch (e) {
      last = { ...last, failedAt: n, failure: e.message }
      break
    }
    last = { loadgenCpuPercent: r.loadgenCpuPercent, lastN: n, keptUp: r.keptUp, serverCpuPercent: r.cpuPercent }
    if (r.keptUp < 1) break
    best = n
  }
  return { maxPlayers: best, ...last }
}
