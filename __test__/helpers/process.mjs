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
 * @param {object} [opts]
 * @param {number} [opts.timeoutMs=30000]
 * @param {NodeJS.ProcessEnv} [opts.env] the child's whole environment (default: this process's)
 * @returns {Promise<{ code: number|null, stdout: string, stderr: string }>}
 */
export function runCommand(cmd, args, { timeoutMs = 30000, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
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

/**
 * Starts a server process that prints `listening on rtmp[s]://host:PORT` once it listens
 * (the examples' contract, with PORT=0 in its environment); resolves its port, the
 * child, and its output so far.
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, port: number, output: () => string }>}
 */
export function startListeningServer(cmd, args, { cwd, env = {}, timeoutMs = 30000 } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no listening line within ${timeoutMs} ms: ${out} ${err}`))
    }, timeoutMs)
    const onExit = (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening: ${err}`))
    }
    child.on('exit', onExit)
    child.stdout.on('data', () => {
      const m = /listening on rtmps?:\/\/[^:\s]+:(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve({ child, port: Number(m[1]), output: () => out })
      }
    })
  })
}
