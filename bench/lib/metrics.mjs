// What compare.mjs reports: each metric, which way is better, and the issues' targets,
// stated on the ratio contender ÷ node-rtmpapi (`targets`, per peer) or on node-rtmpapi's
// own value (`absolute`).

/**
 * @typedef {{ min?: number, max?: number, text: string }} Target  bounds on the ratio (or value)
 * @typedef {{ workload: string, key: string, label: string, unit: string, better: 'lower'|'higher',
 *   targets?: Record<string, Target>, absolute?: Target }} Metric
 */

const AT_MOST_NGINX = { nginx: { min: 1, text: 'ours ≤ nginx: ratio ≥ 1' } }
const LATENCY = [
  ['videoP50', 'video frame p50'], ['videoP99', 'video frame p99'],
  ['audioP50', 'audio message p50'], ['audioP99', 'audio message p99'],
]

/** The fan-out workload at N players (workload name `fanout@N`): issue 21's targets 1 and 3. */
export function fanoutMetrics(n) {
  const workload = `fanout@${n}`
  const at = `at ${n} player${n === 1 ? '' : 's'}`
  const loaded = n >= 100
  return [
    ...(loaded ? [{ workload, key: 'playersPerCore', label: `Fan-out ${at}: players per core`, unit: 'players', better: 'higher',
      targets: { nms: { max: 1 / 3, text: 'ours ≥ 3× nms: ratio ≤ 0.33' }, nginx: { max: 1, text: 'ours ≥ nginx: ratio ≤ 1' } } }] : []),
    { workload, key: 'cpuPercent', label: `Fan-out ${at}: server CPU`, unit: '% core', better: 'lower',
      ...(loaded ? { targets: { nginx: { min: 2, text: 'ours ≤ ½ nginx: ratio ≥ 2' } } } : {}) },
    ...(loaded ? [
      { workload, key: 'rssPerPlayerKb', label: `Fan-out ${at}: RSS per player`, unit: 'KB', better: 'lower',
        absolute: { max: 8, text: '≤ 8 KB' } },
      { workload, key: 'keptUp', label: `Fan-out ${at}: players in real time`, unit: 'fraction', better: 'higher' },
    ] : []),
    ...LATENCY.map(([key, what]) => ({
      workload, key, label: `Latency ${at}: publish→player, ${what}`, unit: 'ms', better: 'lower',
      ...(key.endsWith('P50')
        ? { absolute: { max: 1, text: '≤ 1 ms' }, targets: AT_MOST_NGINX }
        : { absolute: { max: 5, text: '≤ 5 ms' } }),
    })),
  ]
}

/** @type {Metric[]} the workloads other than fanout@N */
export const METRICS = [
  { workload: 'ingest', key: 'cpuPerGb', label: 'Ingest: server CPU per GB', unit: 'CPU-s/GB', better: 'lower',
    targets: { nms: { min: 3, text: 'ours ≤ 1/3 of nms: ratio ≥ 3' }, ...AT_MOST_NGINX } },
  { workload: 'ingest', key: 'mbps', label: 'Ingest: throughput (FFmpeg-bound)', unit: 'MB/s', better: 'higher' },
  { workload: 'ingest@no-hls', key: 'cpuPerGb', label: 'Ingest, our HLS output off (the peers mux none): server CPU per GB', unit: 'CPU-s/GB', better: 'lower',
    targets: { nms: { min: 3, text: 'ours ≤ 1/3 of nms: ratio ≥ 3' }, ...AT_MOST_NGINX } },
  { workload: 'fanout-max', key: 'maxPlayers', label: 'Fan-out: largest N all in real time', unit: 'players', better: 'higher',
    targets: { nms: { max: 1 / 3, text: 'ours ≥ 3× nms: ratio ≤ 0.33' }, nginx: { max: 1, text: 'ours ≥ nginx: ratio ≤ 1' } } },
  { workload: 'fanout-max', key: 'loadgenCpuPercent', label: 'Fan-out ladder: load generator CPU at the last step measured', unit: '% core', better: 'lower' },
  { workload: 'httpflv', key: 'cpuPercent', label: 'HTTP-FLV fan-out: server CPU', unit: '% core', better: 'lower',
    targets: { nms: { min: 3, text: 'ours ≤ 1/3 of nms: ratio ≥ 3' } } },
  { workload: 'httpflv', key: 'cpuVsOwnRtmp', label: 'HTTP-FLV fan-out: CPU ÷ our RTMP fan-out at the same N', unit: 'ratio', better: 'lower',
    absolute: { max: 1.2, text: '≤ 1.2' } },
  { workload: 'httpflv', key: 'rssPerPlayerKb', label: 'HTTP-FLV fan-out: RSS per player', unit: 'KB', better: 'lower' },
  { workload: 'httpflv', key: 'keptUp', label: 'HTTP-FLV fan-out: players in real time', unit: 'fraction', better: 'higher' },
  { workload: 'hls', key: 'cpuPerStream', label: 'HLS origin: server CPU per stream (with − without HLS output)', unit: '% core', better: 'lower' },
  { workload: 'connections', key: 'rssPerSessionKb', label: 'Connections: RSS per idle session', unit: 'KB', better: 'lower',
    targets: { nginx: { min: 1 / 0.8, text: 'ours ≤ 0.8× nginx: ratio ≥ 1.25' } } },
  { workload: 'intojs', key: 'msgsPerSec', label: 'Into JS: 200-byte messages to a JS handler', unit: 'msg/s', better: 'higher',
    absolute: { min: 1e6, text: '≥ 1 M/s' } },
  { workload: 'intojs', key: 'cpuUsPerMsg', label: 'Into JS: server CPU per message', unit: 'µs', better: 'lower' },
]

/** Target for the codec rows (ratio rml_rtmp ÷ node-rtmpapi in throughput). */
export const CODEC_TARGET = { max: 0.5, text: 'ours ≥ 2× rml: ratio ≤ 0.5' }

/** 'met', 'MISSED' or '' (no target or no value). */
export function verdict(target, value) {
  if (!target || value === undefined || Number.isNaN(value)) return ''
  const ok = (target.min === undefined || value >= target.min) && (target.max === undefined || value <= target.max)
  return ok ? 'met' : 'MISSED'
}
