#!/usr/bin/env node
// Side-by-side benchmarks: node-rtmpapi against node-media-server and nginx-rtmp (servers,
// driven by real clients on loopback) and against rml_rtmp (codec). Contenders run in turn
// (A B C, then C B A, …) and the table shows medians and the median of the run-by-run
// ratios contender ÷ node-rtmpapi. See bench/README.md.
//
//   node bench/compare.mjs [--runs N]
//     [--only ingest,fanout,fanout-max,httpflv,hls,connections,intojs,codec]
//     [--players 1,100,200] [--flv-players N] [--ladder 400,800,1600,3200,6400]
//     [--hls-streams N] [--sessions N] [--messages N] [--seconds S] [--markdown BENCHMARKS.md] [--json]
// `npm run bench` is the full run that writes BENCHMARKS.md's block.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import * as connections from './workloads/connections.mjs'
import * as codec from './workloads/codec.mjs'
import * as fanout from './workloads/fanout.mjs'
import * as hls from './workloads/hls.mjs'
import * as httpflv from './workloads/httpflv.mjs'
import * as ingest from './workloads/ingest.mjs'
import * as intojs from './workloads/intojs.mjs'
import { ALL, nginx, nms, ours, oursNoHls } from './lib/contenders.mjs'
import { CODEC_TARGET, METRICS, fanoutMetrics, verdict } from './lib/metrics.mjs'
import { fmt, markdownTable, median, textTable } from './lib/stats.mjs'
import { ffmpegPath } from '../__test__/helpers/ffmpeg.mjs'

const KNOWN = ['ingest', 'fanout', 'fanout-max', 'httpflv', 'hls', 'connections', 'intojs', 'codec']
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: KNOWN.join(',') },
    players: { type: 'string', default: '1,100,200' },
    'flv-players': { type: 'string', default: '100' },
    seconds: { type: 'string', default: '8' },
    ladder: { type: 'string', default: '400,800,1600,3200,6400' },
    'hls-streams': { type: 'string', default: '4' },
    sessions: { type: 'string', default: '5000' },
    messages: { type: 'string', default: '2000000' },
    markdown: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})
const runs = Number(args.runs)
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${args.runs}`)
const only = new Set(args.only.split(','))
for (const w of only) if (!KNOWN.includes(w)) throw new RangeError(`--only: unknown workload ${w} (known: ${KNOWN.join(', ')})`)
const numbers = (name) => {
  const xs = args[name].split(',').map(Number)
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) throw new RangeError(`--${name}: positive integers, got ${args[name]}`)
  return xs
}
const playerCounts = numbers('players')
const [flvPlayers] = numbers('flv-players')
const seconds = Number(args.seconds)

/** How each server workload runs against one contender (fanout: one workload per N). */
const WORKLOADS = {
  ingest: { contenders: ALL, run: (c) => ingest.run(c) },
  // Like for like: the peers mux no HLS, our `npm start` does for every publication.
  'ingest@no-hls': { contenders: [{ ...oursNoHls, id: 'ours' }, nms, nginx], run: (c) => ingest.run(c) },
  ...Object.fromEntries((only.has('fanout') ? playerCounts : []).map((n) =>
    [`fanout@${n}`, { contenders: ALL, run: (c) => fanout.run(c, { players: n, seconds }) }])),
  'fanout-max': { contenders: ALL, run: (c) => fanout.runMax(c, { ladder: numbers('ladder'), seconds: 5 }) },
  httpflv: { contenders: [ours, nms], run: (c) => httpflv.run(c, { players: flvPlayers, seconds }) },
  hls: { contenders: [ours], run: (c) => hls.run(c, { streams: Number(args['hls-streams']), seconds }) },
  connections: { contenders: ALL, run: (c) => connections.run(c, { sessions: Number(args.sessions) }) },
  intojs: { contenders: [ours], run: (c) => intojs.run(c, { messages: Number(args.messages) }) },
}
const selected = (w) => only.has(w.replace(/@.*/, ''))

const loud = (msg) => console.error(`\n!!! ${msg}\n`)
const missing = new Map(ALL.map((c) => [c.id, c.missing()]).filter(([, why]) => why))
for (const [id, why] of missing) loud(`${ALL.find((c) => c.id === id).name} is MISSING and will not be measured: ${why}`)
if (missing.has('ours')) throw new Error(missing.get('ours'))

/** results[workload][contender id] = one result object (or { error }) per run. */
const results = {}
const started = new Date()
const loadAtStart = os.loadavg()
for (const w of Object.keys(WORKLOADS).filter(selected)) {
  const contenders = WORKLOADS[w].contenders.filter((c) => !missing.has(c.id))
  results[w] = Object.fromEntries(contenders.map((c) => [c.id, []]))
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) {
      const t0 = performance.now()
      let r
      try {
        r = await WORKLOADS[w].run(c)
      } catch (e) {
        loud(`${w} run ${i + 1} against ${c.name} FAILED: ${e.message}`)
        r = { error: e.message }
      }
      results[w][c.id].push(r)
      console.error(`${w} ${i + 1}/${runs} ${c.name} (${((performance.now() - t0) / 1000).toFixed(1)} s): ${JSON.stringify(r)}`)
    }
  }
}
let codecRows = null
if (only.has('codec')) {
  const why = codec.missing()
  if (why) loud(`the codec bench is MISSING: ${why}`)
  else codecRows = codec.run({ runs: Math.max(9, 3 * runs) })
}

// HTTP-FLV's CPU against our own RTMP fan-out at the same N, run by run (issue 18's target).
const rtmpAtFlvN = results[`fanout@${flvPlayers}`]?.ours
for (const [i, r] of (results.httpflv?.ours ?? []).entries()) {
  if (!r.error) r.cpuVsOwnRtmp = rtmpAtFlvN?.[i]?.error ? NaN : r.cpuPercent / (rtmpAtFlvN?.[i]?.cpuPercent ?? NaN)
}

// --- the tables ---
const peers = ALL.filter((c) => c !== ours)
const value = (w, id, key) => (results[w]?.[id] ?? []).map((r) => (r.error ? NaN : r[key] ?? NaN))
/** "median [min–max]" of the runs (just the median for one run). */
const spread = (xs) => {
  const ok = xs.filter((x) => !Number.isNaN(x))
  return ok.length > 1 ? `${fmt(median(ok))} [${fmt(Math.min(...ok))}–${fmt(Math.max(...ok))}]` : fmt(median(ok))
}
const judged = (t, v) => (t ? `${t.text}: ${verdict(t, v)}` : '')
const isIngest = (m) => m.workload.startsWith('ingest')
const metrics = [...METRICS.filter(isIngest), ...playerCounts.flatMap(fanoutMetrics), ...METRICS.filter((m) => !isIngest(m))]
const serverRows = [['metric', 'unit', 'node-rtmpapi', 'target', ...peers.flatMap((p) => [p.name, `${p.id} ÷ ours`, 'target'])]]
for (const m of metrics.filter((x) => results[x.workload])) {
  const mine = value(m.workload, 'ours', m.key)
  if (mine.every(Number.isNaN) && !results[m.workload].ours.some((r) => r.error)) continue // not measured (e.g. no generator)
  const row = [m.label, m.unit, spread(mine), judged(m.absolute, median(mine))]
  for (const p of peers) {
    if (!results[m.workload][p.id]) {
      row.push(missing.has(p.id) ? 'MISSING' : 'n/a', '', '')
      continue
    }
    const theirs = value(m.workload, p.id, m.key)
    const ratios = theirs.map((v, i) => v / mine[i])
    row.push(spread(theirs), spread(ratios), judged(m.targets?.[p.id], median(ratios)))
  }
  serverRows.push(row)
}
const codecTable = codecRows && [['case', 'unit', 'node-rtmpapi', 'rml_rtmp', 'rml ÷ ours', 'target'],
  ...codecRows.map((r) => [r.case, r.unit, fmt(r.ours), fmt(r.rml), fmt(r.ratio),
    r.case.startsWith('chunk') ? `${CODEC_TARGET.text}: ${verdict(CODEC_TARGET, r.ratio)}` : ''])]

const cpu = (/model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) || [])[1] || os.cpus()[0]?.model
const versions = Object.fromEntries(await Promise.all(ALL.filter((c) => !missing.has(c.id)).map(async (c) => [c.name, await c.version()])))
const rml = (/name = "rml_rtmp"\nversion = "([^"]+)"/.exec(existsSync('bench/codec/Cargo.lock') ? readFileSync('bench/codec/Cargo.lock', 'utf8') : '') || [])[1]
const machine = [
  `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`,
  `node ${process.version}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ')}${rml ? `; rml_rtmp ${rml}` : ''}; FFmpeg ${ffmpegPath()}`,
  `load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}; ${started.toISOString()}, ${((Date.now() - started) / 60000).toFixed(1)} min`,
]
const command = `node bench/compare.mjs ${process.argv.slice(2).join(' ')}`.trim()
const settings = `runs ${runs}; fan-out and latency at ${args.players} players for ${args.seconds} s; ladder ${args.ladder} (5 s a step); HTTP-FLV at ${flvPlayers} players; HLS with ${args['hls-streams']} streams; ${args.sessions} idle sessions; ${args.messages} messages into JS`

console.log(`\n${machine.join('\n')}\n${settings}\n`)
console.log(textTable(serverRows))
if (codecTable) console.log(`\n${textTable(codecTable)}`)
if (args.json) console.log(JSON.stringify({ machine, command, settings, results, codec: codecRows }))

if (args.markdown) {
  const block = [
    '<!-- compare:begin (generated by bench/compare.mjs --markdown) -->',
    `Command: \`${command}\` (${settings})`, '',
    ...machine.map((l) => `- ${l}`), '',
    'Values are medians of the runs [min–max]; ratios are contender ÷ node-rtmpapi, the median of the run-by-run ratios [min–max] (contenders run in turn, A B C then C B A, each on a fresh server). A target column judges the median.', '',
    markdownTable(serverRows), '',
    ...(codecTable ? ['Codec (bench/codec, same inputs, rounds interleaved; ratio in throughput):', '', markdownTable(codecTable), ''] : []),
    '<!-- compare:end -->',
  ].join('\n')
  const old = existsSync(args.markdown) ? readFileSync(args.markdown, 'utf8') : ''
  const re = /<!-- compare:begin[\s\S]*?<!-- compare:end -->/
  writeFileSync(args.markdown, re.test(old) ? old.replace(re, block) : `${old}${old ? '\n' : ''}${block}\n`)
  console.error(`wrote ${args.markdown}`)
}
