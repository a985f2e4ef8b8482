// Process helpers for the benchmarks: start a server that prints its listening line,
// read its CPU time and RSS from /proc, stop it, and never leave a child behind.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const LISTENING = /listening on rtmp:\/\/[^:\s]+:(\d+)/
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
})()

/** Every child started here; SIGKILLed when the benchmark exits or is interrupted. */
const children = new Set()
const killAll = () => { for (const c of children) c.kill('SIGKILL') }
process.once('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { killAll(); process.exit(130) })

/**
 * CPU seconds of a process's live threads at nanosecond resolution: the sum of the
 * first field of /proc/PID/task/TID/schedstat (time on a CPU). utime + stime count in
 * clock ticks (10 ms here), too coarse for a publish that costs 30 ms.
 */
function threadCpuSeconds(pid) {
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch { /* the thread ended */ }
  }
  return ns / 1e9
}

/**
 * CPU time (all threads, seconds) and RSS (KB) of a process; null once it is gone.
 * Children's time is not included: the measured command must be the server.
 * @returns {{ cpu: number, rssKb: number } | null}
 */
export function procStats(pid) {
  let stat, status, cpu
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
    cpu = existsSync(`/proc/${pid}/schedstat`) ? threadCpuSeconds(pid) : null
  } catch { return null }
  if (cpu === null) {
    // Fields after "(comm)": utime is field 14, stime field 15 (proc(5)).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK
  }
  return { cpu, rssKb: rssKbOf(status) }
}

/** VmRSS (KB) of a /proc/PID/status text. */
const rssKbOf = (status) => Number(/VmRSS:\s+(\d+)/.exec(status)[1])

/** CPU seconds of a process, or null once it is gone. */
export const cpuSeconds = (pid) => procStats(pid)?.cpu ?? null

/** Polls a process's CPU time every 50 ms so the last value survives the process exiting. */
export function cpuSampler(pid) {
  let last = cpuSeconds(pid)
  const timer = setInterval(() => { last = cpuSeconds(pid) ?? last }, 50)
  return {
    start: last,
    /** Final value; if the process lives, waits until its CPU time settles (≤ 2 s). */
    async stop() {
      clearInterval(timer)
      for (let i = 0; i < 40; i++) {
        const now = cpuSeconds(pid)
        // Settled: under 1 ms of CPU in 50 ms (idle threads still tick a little).
        if (now === null || now - last < 0.001) break
        last = now
        await sleep(50)
      }
      return last
    },
  }
}

/**
 * Samples a process's RSS every 100 ms until stopped; `stop()` returns the mean (KB).
 * A live server's RSS swings with what it keeps per stream (an LL-HLS window gains and
 * drops a segment of ~1.5 MB every GOP), so one read at a random phase of that swing
 * moved "RSS per player" at 100 players by ±15 KB; the mean of a window a GOP or longer
 * does not.
 */
export function rssSampler(pid) {
  let sum = 0
  let n = 0
  const sample = () => {
    try {
      sum += rssKbOf(readFileSync(`/proc/${pid}/status`, 'utf8'))
      n++
    } catch { /* gone: the mean is of what was read */ }
  }
  sample()
  const timer = setInterval(sample, 100)
  return {
    stop() {
      clearInterval(timer)
      sample()
      return sum / n
    },
  }
}

/** The mean RSS (KB) of a process over the next `ms`, sampled every 100 ms. */
export async function meanRssKb(pid, ms) {
  const sampler = rssSampler(pid)
  await sleep(ms)
  return sampler.stop()
}

/**
 * Spawns a process (`file` + `args`, or `sh -c "exec CMD"` when `args` is null so the pid is
 * the command's own), draining its stdout and keeping the tail of its stderr.
 */
export function startCommand(file, args, { env = {}, cwd = ROOT, stdin = 'ignore' } = {}) {
  const stdio = [stdin, 'pipe', 'pipe']
  const child = args === null
    ? spawn('/bin/sh', ['-c', `exec ${file}`], { cwd, env: { ...process.env, ...env }, stdio })
    : spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  child.stderrTail = () => stderr
  return child
}

/**
 * Resolves once `child` prints the listening line (`/listening on rtmp:\/\/host:PORT/`) on
 * stdout, with its port; kills it and rejects if it exits first or takes over `timeoutMs`.
 * @returns {Promise<number>}
 */
export function awaitListening(child, what, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`no "listening on rtmp://…" line within ${timeoutMs / 1000} s`)), timeoutMs)
    const fail = (e) => { clearTimeout(timer); child.kill('SIGKILL'); reject(new Error(`${what}: ${e.message}\n${child.stderrTail()}`)) }
    const onExit = (code, sig) => fail(new Error(`exited with ${code ?? sig} before listening`))
    child.on('error', fail)
    child.on('exit', onExit)
    child.stdout.setEncoding('utf8').on('data', (d) => {
      if (out === null) return // keep draining stdout
      out += d
      const m = LISTENING.exec(out)
      if (m) {
        out = null
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve(Number(m[1]))
      }
    })
  })
}

/**
 * Starts a server command under the contract of bench/README.md (env PORT=0, RTMP_QUIET=1;
 * it prints its listening line).
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, port: number }>}
 */
export async function startServer(cmd, env = {}) {
  const child = startCommand(cmd, null, { env: { PORT: '0', RTMP_QUIET: '1', ...env } })
  return { child, port: await awaitListening(child, `server \`${cmd}\``) }
}

/** SIGTERM, then SIGKILL after 2 s; resolves once the process is gone. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  if (await Promise.race([exited.then(() => true), sleep(2000)]) !== true) child.kill('SIGKILL')
  await exited
}
