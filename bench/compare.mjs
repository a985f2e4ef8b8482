#!/usr/bin/env node
// Side-by-side benchmarks: node-rtmpapi against node-media-server and nginx-rtmp (servers,
// driven by real clients on loopback) and against rml_rtmp (codec). Contenders run in turn
// (A B C, then C B A, …) and the table shows medians and the median of the run-by-run
// ratios contender ÷ node-rtmpapi. See bench/README.md.
//
//   node bench/compare.mjs [--runs N] [--only ingest,fanout,fanout-max,connections,intojs,codec]
//     [--players N] [--ladder 100,200,400] [--sessions N] [--messages N] [--seconds S]
//     [--markdown BENCHMARKS.md] [--json]
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import * as connections from './workloads/connections.mjs'
import * as codec from './workloads/codec.mjs'
import * as fanout from './workloads/fanout.mjs'
import * as ingest from './workloads/ingest.mjs'
import * as intojs from './workloads/intojs.mjs'
import { ALL, ours } from './lib/contenders.mjs'
import { CODEC_TARGET, METRICS, verdict } from './lib/metrics.mjs'
import { fmt, markdownTable, median, textTable } from './lib/stats.mjs'
import { ffmpegPath } from '../__test__/helpers/ffmpeg.mjs'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: 'ingest,fanout,fanout-max,connections,intojs,codec' },
    players: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '8' },
    ladder: { type: 'string', default: '400,800,1600' },
    sessions: { type: 'string', default: '5000' },
    messages: { type: 'string', default: '2000000' },
    markdown: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})
const runs = Number(args.runs)
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${args.runs}`)
const only = new Set(args.only.split(','))
const known = ['ingest', 'fanout', 'fanout-max', 'connections', 'intojs', 'codec']
for (const w of only) if (!known.includes(w)) throw new RangeError(`--only: unknown workload ${w} (known: ${known.join(', ')})`)

/** How each server workload runs against one contender. */
const WORKLOADS = {
  ingest: { contenders: ALL, run: (c) => ingest.run(c) },
  fanout: { contenders: ALL, run: (c) => fanout.run(c, { players: Number(args.players), seconds: Number(args.seconds) }) },
  'fanout-max': { contenders: ALL, run: (c) => fanout.runMax(c, { ladder: args.ladder.split(',').map(Number), seconds: 5 }) },
  connections: { contenders: ALL, run: (c) => connections.run(c, { sessions: Number(args.sessions) }) },
  intojs: { contenders: [ours], run: (c) => intojs.run(c, { messages: Number(args.messages) }) },
}

const loud = (msg) => console.error(`\n!!! ${msg}\n`)
const missing = new Map(ALL.map((c) => [c.id, c.missing()]).filter(([, why]) => why))
for (const [id, why] of missing) loud(`${ALL.find((c) => c.id === id).name} is MISSING and will not be measured: ${why}`)
if (missing.has('ours')) throw new Error(missing.get('ours'))

/** results[workload][contender id] = one result object (or { error }) per run. */
const results = {}
const started = new Date()
for (const w of Object.keys(WORKLOADS).filter((k) => only.has(k))) {
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

// --- the tables ---
const peers = ALL.filter((c) => c !== ours)
const value = (w, id, key) => (results[w]?.[id] ?? []).map((r) => (r.error ? NaN : r[key]))
const serverRows = [['metric', 'unit', 'node-rtmpapi', ...peers.flatMap((p) => [p.name, `${p.id} ÷ ours`, 'target'])]]
for (const m of METRICS.filter((x) => results[x.workload])) {
  const mine = value(m.workload, 'ours', m.key)
  const row = [m.label, m.unit, fmt(median(mine))]
  for (const p of peers) {
    if (!results[m.workload][p.id]) {
      const why = missing.has(p.id) ? 'MISSING' : 'n/a'
      const abs = m.absolute && p === peers[0] ? `${m.absolute.text}: ${verdict(m.absolute, median(mine))}` : ''
      row.push(why, '', abs)
      continue
    }
    const theirs = value(m.workload, p.id, m.key)
    const ratio = median(theirs.map((v, i) => v / mine[i]))
    const t = m.targets?.[p.id]
    row.push(fmt(median(theirs)), fmt(ratio), t ? `${t.text}: ${verdict(t, ratio)}` : '')
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
  `load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${started.toISOString()}, ${((Date.now() - started) / 60000).toFixed(1)} min`,
]
const command = `node bench/compare.mjs ${process.argv.slice(2).join(' ')}`.trim()
const settings = `runs ${runs}; fan-out N = ${args.players} players for ${args.seconds} s, ladder ${args.ladder}; ${args.sessions} idle sessions; ${args.messages} messages into JS`

console.log(`\n${machine.join('\n')}\n${settings}\n`)
console.log(textTable(serverRows))
if (codecTable) console.log(`\n${textTable(codecTable)}`)
if (args.json) console.log(JSON.stringify({ machine, command, settings, results, codec: codecRows }))

if (args.markdown) {
  const block = [
    '<!-- compare:begin (generated by bench/compare.mjs --markdown) -->',
    `Command: \`${command}\` (${settings})`, '',
    ...machine.map((l) => `- ${l}`), '',
    'Ratios are contender ÷ node-rtmpapi, the median of the run-by-run ratios (contenders run in turn, A B C then C B A).', '',
    markdownTable(serverRows), '',
    ...(codecTable ? ['Codec (bench/codec, same inputs, rounds interleaved; ratio in throughput):', '', markdownTable(codecTable), ''] : []),
    '<!-- compare:end -->',
  ].join('\n')
  const old = existsSync(args.markdown) ? readFileSync(args.markdown, 'utf8') : ''
  const re = /<!-- compare:begin[\s\S]*?<!-- compare:end -->/
  writeFileSync(args.markdown, re.test(old) ? old.replace(re, block) : `${old}${old ? '\n' : ''}${block}\n`)
  console.error(`wrote ${args.markdown}`)
}
