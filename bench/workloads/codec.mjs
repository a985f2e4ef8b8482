// Codec: the Rust harness in bench/codec (node-rtmpapi's proto layer vs rml_rtmp on the
// same inputs, interleaved rounds), built with cargo on first use.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { ROOT } from '../lib/proc.mjs'

const MANIFEST = path.join(ROOT, 'bench/codec/Cargo.toml')

/** Why the codec bench cannot run (no cargo), or null. */
export function missing() {
  const r = spawnSync('cargo', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? null : 'cargo is not on PATH (the codec bench is a Rust crate: bench/codec)'
}

/**
 * Builds (if needed) and runs the harness with `runs` rounds per case.
 * @returns {{ case: string, unit: string, ours: number, rml: number, ratio: number, runs: number }[]}
 */
export function run({ runs = 9 } = {}) {
  const build = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', MANIFEST, '--target-dir', path.join(ROOT, 'bench/codec/target')], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] })
  if (build.status !== 0) throw new Error(`cargo build of bench/codec failed (${build.status})`)
  const r = spawnSync(path.join(ROOT, 'bench/codec/target/release/rtmp-codec-bench'), ['--runs', String(runs), '--json'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bench/codec failed (${r.status}): ${r.stderr}`)
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l))
}
