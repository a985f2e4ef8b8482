// What compare.mjs reports: each metric, which way is better, and the targets,
// stated on the ratio contender ÷ node-rtmpapi (or on node-rtmpapi's own value).

/**
 * @typedef {{ min?: number, max?: number, text: string }} Target  bounds on the ratio (or value)
 * @typedef {{ workload: string, key: string, label: string, unit: string, better: 'lower'|'higher',
 *   targets?: Record<string, Target>, absolute?: Target }} Metric
 * @type {Metric[]}
 */
export const METRICS = [
  { workload: 'ingest', key: 'cpuPerGb', label: 'Ingest: server CPU per GB', unit: 'CPU-s/GB', better: 'lower',
    targets: { nms: { min: 3, text: 'ours ≤ 1/3 of nms: ratio ≥ 3' }, nginx: { min: 1, text: 'ours ≤ nginx: ratio ≥ 1' } } },
  { workload: 'ingest', key: 'mbps', label: 'Ingest: throughput (FFmpeg-bound)', unit: 'MB/s', better: 'higher' },
  { workload: 'fanout', key: 'playersPerCore', label: 'Fan-out: players per core at N', unit: 'players', better: 'higher',
    targets: { nms: { max: 1 / 3, text: 'ours ≥ 3× nms: ratio ≤ 0.33' }, nginx: { max: 1, text: 'ours ≥ nginx: ratio ≤ 1' } } },
  { workload: 'fanout', key: 'cpuPercent', label: 'Fan-out: server CPU at N', unit: '% core', better: 'lower' },
  { workload: 'fanout', key: 'rssMb', label: 'Fan-out: server RSS at N', unit: 'MB', better: 'lower' },
  { workload: 'fanout', key: 'rssPerPlayerKb', label: 'Fan-out: RSS per player', unit: 'KB', better: 'lower' },
  { workload: 'fanout', key: 'keptUp', label: 'Fan-out: players in real time at N', unit: 'fraction', better: 'higher' },
  { workload: 'fanout', key: 'latencyP50', label: 'Latency at N: publish→player p50', unit: 'ms', better: 'lower' },
  { workload: 'fanout', key: 'latencyP99', label: 'Latency at N: publish→player p99', unit: 'ms', better: 'lower' },
  { workload: 'fanout-max', key: 'maxPlayers', label: 'Fan-out: largest N all in real time', unit: 'players', better: 'higher',
    targets: { nms: { max: 1 / 3, text: 'ours ≥ 3× nms: ratio ≤ 0.33' }, nginx: { max: 1, text: 'ours ≥ nginx: ratio ≤ 1' } } },
  { workload: 'connections', key: 'rssPerSessionKb', label: 'Connections: RSS per idle session', unit: 'KB', better: 'lower',
    targets: { nginx: { min: 1, text: 'ours ≤ nginx: ratio ≥ 1' } } },
  { workload: 'intojs', key: 'msgsPerSec', label: 'Into JS: 200-byte messages to a JS handler', unit: 'msg/s', better: 'higher',
    absolute: { min: 1e6, text: 'ours ≥ 1 M/s' } },
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
