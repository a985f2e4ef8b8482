// HTTP-FLV fan-out: the fan-out workload's publisher (the ~6 Mb/s 720p25 fixture paced
// in real time over RTMP) and N HTTP-FLV players (node:http GETs of /live/<name>.flv that
// read and discard); reports server CPU (% of one core), RSS and RSS per player, and
// how many players kept real time (≥ 90 % of the stream's bitrate).
import { request } from 'node:http'
import { freePort } from '../../__test__/helpers/process.mjs'
import { procStats, sleep } from '../lib/proc.mjs'
import { pacedPublisher, prepare } from './fanout.mjs'

/** An HTTP-FLV player that counts the body bytes it reads. */
function httpPlayer(port, path) {
  const player = { bytes: 0, status: 0, req: null }
  player.req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    player.status = res.statusCode
    res.on('data', (c) => { player.bytes += c.length })
    res.on('error', () => {})
  })
  player.req.on('error', () => {})
  player.req.end()
  return player
}

/**
 * @param {{ start: (env?: object) => Promise<{ child, port, stop }> , name: string }} contender -
 *   started with HTTP_PORT in its environment
 */
export async function run(contender, { players = 100, seconds = 8 } = {}) {
  const { tags, bits } = await prepare()
  const httpPort = await freePort()
  const server = await contender.start({ HTTP_PORT: String(httpPort) })
  const pid = server.child.pid
  const publisher = pacedPublisher(server.port, tags)
  const list = []
  try {
    await sleep(1500)
    const rss0 = procStats(pid).rssKb
    for (let i = 0; i < players; i++) list.push(httpPlayer(httpPort, '/live/bench.flv'))
    await sleep(2000) // joins and GOP bursts settle
    const bad = list.filter((p) => p.status !== 200)
    if (bad.length) throw new Error(`${contender.name}: ${bad.length} HTTP-FLV players got no 200 (e.g. ${bad[0].status})`)
    const start = list.map((p) => p.bytes)
    const s0 = procStats(pid)
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const wall = (performance.now() - t0) / 1000
    const s1 = procStats(pid)
    const rates = list.map((p, i) => (p.bytes - start[i]) * 8 / wall)
    const cpuPercent = 100 * (s1.cpu - s0.cpu) / wall
    return {
      cpuPercent,
      playersPerCore: players / (cpuPercent / 100),
      rssMb: s1.rssKb / 1024,
      rssPerPlayerKb: (s1.rssKb - rss0) / players,
      keptUp: rates.filter((r) => r >= 0.9 * bits).length / players,
      minMbps: Math.min(...rates) / 1e6,
    }
  } finally {
    for (const p of list) p.req.destroy()
    publisher.stop()
    await publisher.done.catch(() => {})
    await server.stop()
  }
}
