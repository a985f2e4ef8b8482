// Process and port helpers for tests and benchmarks.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

/**
 * A loopback port free at the time of the call (for servers that cannot report theirs).
 * @returns {Promise<number>}
 */
export async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

/**
 * Runs a command to completion, killing it after `timeoutMs`.
 * @returns {Promise<{ code: number|null, stdout: string, stderr: string }>}
 */
export function runCommand(cmd, args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
