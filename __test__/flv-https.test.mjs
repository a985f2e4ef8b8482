// HTTPS-FLV and WSS-FLV (createFlvHttpsServer): TLS terminated natively, the players'
// bytes written into the TLS session natively. A certificate made at test time
// (openssl) for a test CA; FFmpeg publishes to a live server whose HTTP side
// (httpHandler) is mounted on the HTTPS server; a node:https client and a wss:// client
// (the `ws` package) trusting the CA record what they get; it must start on the FLV
// header, metadata, configs and a keyframe, and decode. Clients that do not trust the
// certificate, or do not speak TLS, fail their handshake and the server goes on. npm
// start with TLS_CERT/TLS_KEY; headless Chromium (--ignore-certificate-errors) plays
// wss:// and https:// with mpegts.js.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import http from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { makeFlv, publish } from './helpers/ffmpeg.mjs'
import { checkFlvRecording, wholeTags } from './helpers/flv-server.mjs'
import { MPEGTS_PAGE } from './helpers/mpegts-page.mjs'
import { isExecutable, toolSkip, which } from './helpers/tools.mjs'
import { startListeningServer } from './helpers/process.mjs'

const require = createRequire(import.meta.url)
const { createLiveServer, createFlvHttpsServer } = require('../index.js')
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const fixtures = path.join(here, 'fixtures')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const skip = toolSkip(!which('openssl') && 'openssl is not installed: it makes the test certificate (.ci/run installs it: apt-get install openssl)')
if (skip) console.error(`SKIPPING the HTTPS-FLV tests: ${skip}`)

let dir
let tls
let ca
let fixture
let live
let web
let base

before(async () => {
  if (skip) return
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-flvtls-'))
  // As in rtmps.test.mjs: a test CA and a leaf for localhost and 127.0.0.1.
  const file = (name) => path.join(dir, name)
  const run = (...args) => execFileSync('openssl', args, { stdio: 'ignore' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  run('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=node-rtmpapi test CA')
  run('req', ...ec, '-keyout', file('key.pem'), '-out', file('leaf.csr'), '-subj', '/CN=localhost')
  writeFileSync(file('leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n')
  run('x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('cert.pem'), '-days', '1', '-extfile', file('leaf.ext'))
  tls = { cert: readFileSync(file('cert.pem'), 'utf8'), key: readFileSync(file('key.pem')) }
  ca = readFileSync(file('ca.pem'), 'utf8')
  fixture = await makeFlv(path.join(fixtures, 'flv-https.flv'), { seconds: 8, fps: 25, gop: 25 })

  live = createLiveServer({ quiet: true })
  live.listen(0, '127.0.0.1')
  await once(live, 'listening')
  const handler = live.httpHandler()
  web = createFlvHttpsServer(tls, (req, res) => {
    if (!handler.request(req, res)) { res.writeHead(404); res.end('not here\n') }
  })
  web.on('upgrade', (req, socket, head) => { if (!handler.upgrade(req, socket, head)) socket.destroy() })
  web.listen(0, '127.0.0.1')
  await once(web, 'listening')
  base = `127.0.0.1:${web.address().port}`
})

after(async () => {
  if (web) await new Promise((r) => web.close(r))
  if (live) await new Promise((r) => live.close(r))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** GET over HTTPS: `{ status, headers, body }` (the whole body). */
function get(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, ...options }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
  })
}

/** Records an HTTPS-FLV response until stop(). */
function httpsRecorder(url, options = {}) {
  const chunks = []
  const req = https.get(url, { ca, ...options })
  const started = new Promise((resolve, reject) => {
    req.on('response', (r) => { r.on('data', (c) => chunks.push(c)); r.on('error', () => {}); resolve(r) })
    req.on('error', reject)
  })
  return { started, data: () => Buffer.concat(chunks), stop: () => req.destroy() }
}

const checkRecording = (name, buf) => checkFlvRecording(name, buf, dir, { minVideo: 40 })

test('https:// and wss:// players get header, metadata, configs, a keyframe and live tags that decode', { skip }, async () => {
  const published = publish(`rtmp://127.0.0.1:${live.address().port}/live/tls`, fixture, { realtime: true, timeoutMs: 30000 })
  await sleep(1500)
  // One keep-alive connection: an ordinary request answered by Node first, then the
  // FLV player on the same TLS session (what Node wrote before goes out first).
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca })
  let connections = 0
  const count = () => { connections += 1 }
  web.on('connection', count)
  const page = await get(`https://${base}/streams.json`, { agent })
  assert.equal(page.status, 200)
  assert.ok(Array.isArray(JSON.parse(page.body)) || typeof JSON.parse(page.body) === 'object')
  const player = httpsRecorder(`https://${base}/live/tls.flv`, { agent })
  const messages = []
  const ws = new WebSocket(`wss://${base}/live/tls.flv`, { ca })
  ws.on('message', (m, isBinary) => { assert.ok(isBinary, 'binary frames'); messages.push(m) })
  ws.on('error', () => {})
  const [res] = await Promise.all([player.started, once(ws, 'open')])
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'video/x-flv')
  assert.equal(res.headers['transfer-encoding'], 'chunked')
  assert.equal(res.socket.encrypted, true)
  web.off('connection', count)
  assert.equal(connections, 2, 'the page and the HTTPS player shared one connection; the WebSocket has its own')
  await sleep(2500)
  player.stop()
  ws.close()
  agent.destroy()

  await checkRecording('https', player.data())
  const wsData = Buffer.concat(messages)
  await checkRecording('wss', wsData)
  assert.equal(messages[0].toString('latin1', 0, 3), 'FLV')
  for (const [i, m] of messages.entries()) {
    const body = i === 0 ? m : Buffer.concat([Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'), m])
    assert.equal(wholeTags(body).length, body.length, `message ${i} is whole tags`)
  }
  const r = await published
  assert.equal(r.code, 0, r.stderr)
})

test('a waiting https:// player gets no body until stop(), which ends the response cleanly through TLS', { skip }, async () => {
  const chunks = []
  const req = https.get(`https://${base}/live/waiting.flv`, { ca })
  const [res] = await once(req, 'response')
  res.on('data', (c) => chunks.push(c))
  const ended = once(res, 'end')
  assert.equal(res.statusCode, 200)
  await sleep(300)
  assert.equal(chunks.length, 0, 'no body before a publisher')
  const stream = live.streams.get('live/waiting')
  assert.equal(stream.flvPlayers.size, 1)
  const [player] = stream.flvPlayers
  const [info] = await Promise.all([player.stop(), ended])
  assert.equal(info.error, undefined)
  assert.ok(info.bytes > 0, 'the head and the last chunk were written natively')
})

test('a client that does not trust the certificate, or speaks plain HTTP, fails; the server goes on', { skip }, async () => {
  await assert.rejects(get(`https://${base}/streams.json`, { ca: undefined }), (err) => {
    assert.match(err.code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/)
    return true
  })
  const ws = new WebSocket(`wss://${base}/live/tls.flv`)
  const [err] = await once(ws, 'error')
  assert.match(err.code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/)
  // Plain HTTP to the HTTPS port: no HTTP answer comes back.
  await new Promise((resolve) => {
    const req = http.get(`http://${base}/streams.json`, (res) => { res.resume(); assert.fail(`an HTTP answer ${res.statusCode}`) })
    req.on('error', () => resolve())
    req.setTimeout(5000, () => { req.destroy(); resolve() })
  })
  const ok = await get(`https://${base}/streams.json`)
  assert.equal(ok.status, 200, 'a trusted client is still served')
  assert.equal((await get(`https://${base}/nowhere`)).status, 404)
})

test('createFlvHttpsServer refuses a missing or bad certificate with clear errors', { skip }, async () => {
  assert.throws(() => createFlvHttpsServer({ cert: tls.cert }), { code: 'ERR_INVALID_ARG_VALUE' })
  const bad = createFlvHttpsServer({ cert: 'not a pem', key: tls.key })
  bad.listen(0, '127.0.0.1')
  const [err] = await once(bad, 'error')
  assert.match(err.code, /^ERR_/)
  assert.match(err.message, /certificate/)
  assert.equal(bad.listening, false)
})

test('npm start serves HTTPS and WSS on $HTTP_PORT with TLS_CERT and TLS_KEY', { skip }, async (t) => {
  const started = await startListeningServer(process.execPath, [path.join(root, 'examples', 'server.js')], {
    env: { RTMP_QUIET: '1', HTTP_PORT: '0', TLS_CERT: path.join(dir, 'cert.pem'), TLS_KEY: path.join(dir, 'key.pem') },
  })
  t.after(() => started.child.kill())
  let m
  for (let i = 0; i < 200 && !m; i++) {
    m = /players on https:\/\/127\.0\.0\.1:(\d+)\//.exec(started.output())
    if (!m) await sleep(50)
  }
  assert.ok(m, started.output())
  const at = `127.0.0.1:${m[1]}`
  const published = publish(`rtmp://127.0.0.1:${started.port}/live/npm`, fixture, { realtime: true, timeoutMs: 30000 })
  await sleep(1500)
  const metrics = await get(`https://${at}/metrics`)
  assert.equal(metrics.status, 200)
  assert.match(metrics.body.toString(), /rtmpapi_publishers 1/)
  const player = httpsRecorder(`https://${at}/live/npm.flv`)
  const res = await player.started
  assert.equal(res.statusCode, 200)
  await sleep(2500)
  player.stop()
  await checkRecording('npm-start', player.data())
  started.child.kill('SIGTERM')
  await published
})

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const chromiumSkip = skip || toolSkip(!isExecutable(CHROMIUM) && `no ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)


test('mpegts.js in Chromium plays wss:// and https:// (certificate errors ignored)', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const mpegts = readFileSync(require.resolve('mpegts.js/dist/mpegts.js'))
  const pages = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': req.url === '/mpegts.js' ? 'text/javascript' : 'text/html' })
    res.end(req.url === '/mpegts.js' ? mpegts : MPEGTS_PAGE)
  })
  pages.listen(0, '127.0.0.1')
  await once(pages, 'listening')
  t.after(() => pages.close())
  const puppeteer = require('puppeteer-core')
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    acceptInsecureCerts: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--ignore-certificate-errors'],
  })
  t.after(() => browser.close())
  const published = publish(`rtmp://127.0.0.1:${live.address().port}/live/browser`, fixture, { realtime: true, timeoutMs: 30000 })
  await sleep(1000)
  const page = await browser.newPage()
  await page.goto(`http://localhost:${pages.address().port}/`)
  const url = `${base}/live/browser.flv`
  await page.evaluate((wss, https) => { window.play('wss', wss); window.play('https', https) }, `wss://${url}`, `https://${url}`)
  await sleep(5500)
  const samples = await page.evaluate(() => ({ wss: window.results.wss.sample(), https: window.results.https.sample() }))
  for (const [scheme, s] of Object.entries(samples)) {
    console.log(`# ${scheme}: currentTime ${s.currentTime.toFixed(2)} s (from ${s.start}), ${s.frames} frames decoded`)
    assert.deepEqual(s.errors, [], `${scheme}: ${JSON.stringify(s)}`)
    assert.ok(s.start !== null && s.currentTime - s.start >= 3, `${scheme}: currentTime advanced ≥ 3 s: ${JSON.stringify(s)}`)
    assert.ok(s.frames >= 60, `${scheme}: ≥ 60 frames decoded: ${JSON.stringify(s)}`)
  }
  const r = await published
  assert.equal(r.code, 0, r.stderr)
})
