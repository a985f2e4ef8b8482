// HTTP-FLV fan-out: the fan-out workload's publisher (the ~6 Mb/s 720p25 fixture paced
// in real time over RTMP) and N HTTP-FLV players (bench/loadgen: GETs of /live/bench.flv
// that read and discard); reports server CPU (% of one core), RSS and RSS per player,
// how many players kept real time (≥ 90 % of the stream's bitrate), the generator's CPU.
import { freePort } from '../../__test__/helpers/process.mjs'
import { startPlayers } from '../lib/loadgen.mjs'
import { sleep } from '../lib/proc.mjs'
import { measurePlayers, pacedPublisher, prepare, steadyBaselineRssKb } from './fanout.mjs'

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
  let list
  try {
    const rss0 = await steadyBaselineRssKb(pid)
    list = await startPlayers({ kind: 'http', port: httpPort, path: '/live/bench.flv', n: players })
    await sleep(2000) // joins and GOP bursts settle
    const m = await measurePlayers(pid, list, seconds)
    return {
      cpuPercent: m.cpuPercent,
      playersPerCore: players / (m.cpuPercent / 100),
      rssMb: m.rssKb / 1024,
      rssPerPlayerKb: (m.rssKb - rss0) / players,
      keptUp: m.rates.filter((r) => r >= 0.9 * bits).length / players,
      minMbps: Math.min(...m.rates) / 1e6,
      loadgenCpuPercent: m.loadgenCpuPercent,
    }
  } finally {
    await list?.stop()
    publisher.stop()
    await publisher.done.catch(() => {})
    await server.stop()
  }
}
