#!/usr/bin/env node
// HTTP-FLV fan-out, side by side: one publisher at real-time speed (the ~6 Mbit/s 720p25
// fixture, paced) and N HTTP-FLV players reading /live/bench.flv, against node-rtmpapi
// (flvHttpHandler: native FLV players) and node-media-server 4 (HTTP-FLV written from
// JS); beside them node-rtmpapi's own RTMP fan-out at the same N (examples/server.js,
// the fanout workload). Contenders alternate run by run; medians are shown.
//   npm run bench:httpflv [-- --players 100 --seconds 8 --runs 1 --json]
import os from 'node:os'
import { parseArgs } from 'node:util'
import { nms, ours, oursHttpFlv } from './lib/contenders.mjs'
import { fmt, median, textTable } from './lib/stats.mjs'
import * as fanout from './workloads/fanout.mjs'
import * as httpflv from './workloads/httpflv.mjs'

const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
})
const players = Number(args.players)
const seconds = Number(args.seconds)
const runs = Number(args.runs)
const cases = [
  { label: 'node-rtmpapi HTTP-FLV', contender: oursHttpFlv, run: (c) => httpflv.run(c, { players, seconds }) },
  { label: 'node-media-server HTTP-FLV', contender: nms, run: (c) => httpflv.run(c, { players, seconds }) },
  { label: 'node-rtmpapi RTMP', contender: ours, run: (c) => fanout.run(c, { players, seconds }) },
]
for (const c of cases) {
  const why = c.contender.missing()
  if (why) throw new Error(`${c.label}: ${why}`)
}
const { bits } = await fanout.prepare()
console.error(`stream ${(bits / 1e6).toFixed(2)} Mbit/s | ${players} players | ${seconds} s | ${runs} run(s) | ${os.cpus().length} CPUs`)
const results = cases.map(() => [])
for (let r = 0; r < runs; r++) {
  const order = r % 2 ? [...cases.keys()].reverse() : [...cases.keys()]
  for (const i of order) {
    console.error(`run ${r + 1}: ${cases[i].label}`)
    results[i].push(await cases[i].run(cases[i].contender))
  }
}
const med = (i, k) => median(results[i].map((x) => x[k]))
const rows = cases.map((c, i) => ({
  label: c.label,
  cpuPercent: med(i, 'cpuPercent'),
  rssMb: med(i, 'rssMb'),
  rssPerPlayerKb: med(i, 'rssPerPlayerKb'),
  keptUp: med(i, 'keptUp'),
  minMbps: med(i, 'minMbps'),
}))
const ratios = {
  cpuVsNms: rows[0].cpuPercent / rows[1].cpuPercent,
  cpuVsOwnRtmp: rows[0].cpuPercent / rows[2].cpuPercent,
}
if (args.json) console.log(JSON.stringify({ streamMbps: bits / 1e6, players, seconds, runs, rows, ratios, raw: results }, null, 2))
else {
  console.log(textTable([
    ['server', 'CPU %', 'RSS MB', 'RSS/player KB', 'kept up', 'slowest Mbit/s'],
    ...rows.map((r) => [r.label, fmt(r.cpuPercent), fmt(r.rssMb), fmt(r.rssPerPlayerKb), `${Math.round(r.keptUp * players)}/${players}`, fmt(r.minMbps)]),
  ]))
  console.log(`HTTP-FLV CPU: ${fmt(ratios.cpuVsNms)}× node-media-server's (target ≤ 0.33), ${fmt(ratios.cpuVsOwnRtmp)}× our RTMP fan-out's (target ≤ 1.2)`)
}
