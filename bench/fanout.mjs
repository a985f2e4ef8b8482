#!/usr/bin/env node
// Fan-out benchmark: one publisher at real-time speed (~6 Mbit/s, paced by this process)
// and N light players (handshake, connect, createStream, play, then read and discard,
// sending Acknowledgements) against an RTMP server; reports the server's CPU and RSS,
// whether every player kept up, and the publish-to-player delay of a probe player.
// Usage: node bench/fanout.mjs [--players 50,100,200] [--seconds 10] [--server "CMD"] [--json]
import os from 'node:os'
import { parseArgs } from 'node:util'
import { commandContender, NPM_START } from './lib/contenders.mjs'
import { fmt, textTable } from './lib/stats.mjs'
import { prepare, run } from './workloads/fanout.mjs'

const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '50,100,200' },
    seconds: { type: 'string', default: '10' },
    server: { type: 'string', default: NPM_START },
    json: { type: 'boolean', default: false },
  },
})
const { bits } = await prepare()
console.error(`stream ${(bits / 1e6).toFixed(2)} Mbit/s | server: ${args.server} | ${os.cpus().length} CPUs`)

const server = commandContender(args.server)
const rows = []
for (const players of args.players.split(',').map(Number)) {
  rows.push({ players, ...(await run(server, { players, seconds: Number(args.seconds) })) })
}
if (args.json) console.log(JSON.stringify({ streamMbps: bits / 1e6, rows }, null, 2))
else {
  console.log(textTable([
    ['players', 'server CPU %', 'server RSS MB', 'RSS/player KB', 'slowest Mbit/s', 'kept up', 'delay p50 ms', 'p99 ms'],
    ...rows.map((r) => [r.players, fmt(r.cpuPercent), fmt(r.rssMb), fmt(r.rssPerPlayerKb), fmt(r.minMbps),
      `${Math.round(r.keptUp * r.players)}/${r.players}`, fmt(r.latencyP50), fmt(r.latencyP99)]),
  ]))
}
