// HLS origin CPU (node-rtmpapi only; the peers have no comparable in-process HLS output):
// `streams` publications of the fan-out fixture paced in real time into examples/server.js
// (each publication gets its Low-Latency HLS output, createLiveServer's default) and into
// the same live server with `hls: false`; the difference in server CPU per stream is what
// muxing and holding the HLS window costs. The order of the two alternates run by run.
import { oursNoHls } from '../lib/contenders.mjs'
import { procStats, sleep } from '../lib/proc.mjs'
import { pacedPublisher, prepare } from './fanout.mjs'

/** Server CPU (% of a core) over `seconds` with `streams` paced publications. */
async function cpuWith(contender, streams, seconds) {
  const { tags } = await prepare()
  const server = await contender.start()
  const publishers = Array.from({ length: streams }, (_, i) => pacedPublisher(server.port, tags, `hls${i}`))
  try {
    await sleep(2500) // publishes accepted, first segments cut
    const s0 = procStats(server.child.pid)
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const s1 = procStats(server.child.pid)
    return 100 * (s1.cpu - s0.cpu) / ((performance.now() - t0) / 1000)
  } finally {
    for (const p of publishers) p.stop()
    await Promise.all(publishers.map((p) => p.done.catch(() => {})))
    await server.stop()
  }
}

let turn = 0
/** @returns {Promise<{ cpuPerStream: number, cpuWithHls: number, cpuWithoutHls: number }>} */
export async function run(contender, { streams = 4, seconds = 8 } = {}) {
  const cases = [contender, oursNoHls]
  if (turn++ % 2) cases.reverse()
  const cpu = new Map()
  for (const c of cases) cpu.set(c, await cpuWith(c, streams, seconds))
  const withHls = cpu.get(contender)
  const without = cpu.get(oursNoHls)
  return { cpuPerStream: (withHls - without) / streams, cpuWithHls: withHls, cpuWithoutHls: without }
}
