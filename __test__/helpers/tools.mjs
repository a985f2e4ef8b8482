// External tools the tests use (nginx, rtmpdump, GStreamer, openssl, FFmpeg): where to find
// them, and what a test does when one is missing. Outside CI it skips, saying how to install
// the tool; under CI=true a missing tool is an error, since .ci/run installs every tool the
// suite uses and a skip there would pass a check that never ran.

import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Whether this is a CI run (`CI=true` or `CI=1`, as .ci/run and CI services set it). */
export const inCI = /^(true|1)$/i.test(process.env.CI ?? '')

/** Whether `p` is a file this process may execute. */
export function isExecutable(p) {
  try { accessSync(p, constants.X_OK); return true } catch { return false }
}

/** First executable named `name` on PATH, or null. */
export function which(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name)
  }
  return null
}

/**
 * The `skip` option of a test that needs a tool.
 * @param {string|false|null|undefined} missing why the tool is missing and how to install
 *   it, or a falsy value when it is there
 * @returns {string|false} false when the tool is there; `missing` outside CI (the test skips)
 * @throws {Error} under CI=true when the tool is missing, which fails the test file
 */
export function toolSkip(missing) {
  if (!missing) return false
  if (inCI) throw new Error(`CI=true and a tool the tests need is missing: ${missing}`)
  return missing
}
