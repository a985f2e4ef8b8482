// The servers compared: node-rtmpapi (examples/server.js, the native relay), node-media-server
// (bench/contenders/nms.js) and nginx-rtmp (a generated nginx.conf). Each starts on a free
// loopback port and is measured as one process (its pid's own CPU time and RSS).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { NGINX, NGINX_MODULE, nginxConf } from '../../__test__/helpers/nginx.mjs'
import { freePort } from '../../__test__/helpers/process.mjs'
import { ROOT, sleep, startCommand, startServer, stopProcess } from './proc.mjs'

const NMS_PACKAGE = path.join(ROOT, 'bench/node_modules/node-media-server/package.json')

/** Resolves once a TCP connect to the port succeeds (at most `timeoutMs`). */
async function waitForPort(port, child, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${child.stderrTail()}`)
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`not listening on ${port} within ${timeoutMs} ms`)
}

/**
 * @typedef {{ child: import('node:child_process').ChildProcess, port: number, stop: () => Promise<void> }} Running
 * @typedef {{ id: string, name: string, missing: () => string|null, version: () => string, start: () => Promise<Running> }} Contender
 */

/**
 * A server started by a shell command under bench/README.md's contract (it prints
 * "listening on rtmp://host:PORT"; env PORT=0 RTMP_QUIET=1), with `baseEnv` added to
 * its environment.
 * @returns {Contender}
 */
export function commandContender(cmd, fields = {}, baseEnv = {}) {
  return {
    id: cmd,
    name: cmd,
    missing: () => null,
    version: () => '',
    /** @param {object} [env] - added to the server's environment (e.g. HTTP_PORT) */
    async start(env = {}) {
      const { child, port } = await startServer(cmd, { ...baseEnv, ...env })
      return { child, port, stop: () => stopProcess(child) }
    },
    ...fields,
  }
}

/**
 * `npm start`'s command (package.json's scripts.start: `node [options] examples/server.js`),
 * which our contenders and the standalone benchmarks' default server run as it is.
 */
export const NPM_START = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start

/** `node [options]` of {@link NPM_START}, with this process's node binary. */
const NODE = (() => {
  const match = /^node((?: --\S+)*) examples\/server\.js$/.exec(NPM_START)
  if (!match) throw new Error(`package.json scripts.start is not "node [options] examples/server.js": ${NPM_START}`)
  return `${process.execPath}${match[1]}`
})()

/**
 * node-rtmpapi as `npm start` serves it (examples/server.js); its HTTP side (HTTP-FLV, HLS,
 * the player page) only when the workload passes HTTP_PORT, so no run binds port 8000.
 * @type {Contender}
 */
export const ours = commandContender(`${NODE} examples/server.js`, {
  id: 'ours',
  name: 'node-rtmpapi',
  missing: () => (existsSync(path.join(ROOT, 'binding.js')) ? null : 'the addon is not built: run `npm install` at the repo root'),
  version: () => JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
}, { HTTP_PORT: '' })

/** @type {Contender} */
export const nms = commandContender(`${process.execPath} bench/contenders/nms.js`, {
  id: 'nms',
  name: 'node-media-server',
  missing: () => (existsSync(NMS_PACKAGE) ? null : 'node-media-server is not installed: run `npm install --prefix bench`'),
  version: () => JSON.parse(readFileSync(NMS_PACKAGE, 'utf8')).version,
})

/** examples/server.js's live server with no HLS output (`hls: false`): the HLS workload's baseline. */
export const oursNoHls = commandContender(`${NODE} bench/contenders/ours-no-hls.js`, {
  id: 'ours-no-hls',
  name: 'node-rtmpapi without HLS',
  missing: ours.missing,
  version: ours.version,
}, { HTTP_PORT: '' })

/** @type {Contender} */
export const nginx = {
  id: 'nginx',
  name: 'nginx-rtmp',
  missing: () => (existsSync(NGINX) && existsSync(NGINX_MODULE)
    ? null
    : `nginx with the RTMP module is not installed (${NGINX}, ${NGINX_MODULE}): apt-get install nginx libnginx-mod-rtmp`),
  version: () => {
    const r = startCommand(NGINX, ['-v'])
    return new Promise((resolve) => r.on('exit', () => resolve(r.stderrTail().trim().replace(/^nginx version: /, ''))))
  },
  async start() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-nginx-'))
    const port = await freePort()
    writeFileSync(path.join(dir, 'nginx.conf'), nginxConf({ dir, port, connections: 16384, openFiles: 20000 }))
    const child = startCommand(NGINX, ['-c', path.join(dir, 'nginx.conf'), '-p', dir])
    const stop = async () => {
      await stopProcess(child)
      rmSync(dir, { recursive: true, force: true })
    }
    try {
      await waitForPort(port, child)
    } catch (e) {
      await stop()
      throw new Error(`nginx-rtmp: ${e.message}`)
    }
    return { child, port, stop }
  },
}

export const ALL = [ours, nms, nginx]
