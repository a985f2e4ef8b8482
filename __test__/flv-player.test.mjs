// HTTP-FLV and WebSocket-FLV players (LiveStream#addFlvPlayer, #addWebSocketFlvPlayer,
// flvHttpHandler): FFmpeg publishes in real time; a node:http client and a WebSocket
// client (the `ws` package) record what they get, before the publisher came and
// joining late; the recordings are checked tag by tag and decoded with ffprobe.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { makeFlv, publish } from './helpers/ffmpeg.mjs'
import { checkFlvRecording, startFlvServer, wholeTags } from './helpers/flv-server.mjs'

const require = createRequire(import.meta.url)
const { readFlv } = require('../index.js')
const here = path.dirname(fileURLToPath(import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let dir
let fixture
let server

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rtmpapi-flvplay-'))
  fixture = await makeFlv(path.join(here, 'fixtures', 'flv-play.flv'), { seconds: 8, fps: 25, gop: 25 })
  server = await startFlvServer({ authorize: (req) => !/refused/.test(req.url) })
})

after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Records an HTTP-FLV response: `{ res, data() }`; `stop()` ends it. */
function httpRecorder(url) {
  const chunks = []
  let ended
  const req = request(url)
  const started = new Promise((resolve, reject) => {
    req.on('response', (r) => {
      ended = once(r, 'end').then(() => true, () => false)
      r.on('data', (c) => chunks.push(c))
      r.on('error', () => {})
      resolve(r)
    })
    req.on('error', reject)
  })
  req.end()
  return { started, data: () => Buffer.concat(chunks), stop: () => req.destroy(), ended: () => ended }
}

/** Records a WebSocket-FLV connection: every binary message, in order. */
function wsRecorder(url) {
  const messages = []
  const ws = new WebSocket(url)
  const opened = once(ws, 'open')
  ws.on('message', (m, isBinary) => { assert.ok(isBinary, 'binary frames'); messages.push(m) })
  ws.on('error', () => {})
  return { opened, messages, data: () => Buffer.concat(messages), stop: () => ws.close(), ws }
}

const checkRecording = (name, buf) => checkFlvRecording(name, buf, dir, { minVideo: 50 })

test('players waiting before the publisher and joining late get header, metadata, configs, a keyframe, then live tags that decode', async () => {
  const base = `127.0.0.1:${server.httpPort}/live/a.flv`
  const waitingHttp = httpRecorder(`http://${base}`)
  const waitingWs = wsRecorder(`ws://${base}`)
  const res = await waitingHttp.started
  await waitingWs.opened
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'video/x-flv')
  assert.equal(res.headers['transfer-encoding'], 'chunked')
  assert.equal(res.headers['access-control-allow-origin'], '*')
  await sleep(300)
  assert.equal(waitingHttp.data().length, 0, 'no body before the publisher')
  assert.equal(server.streams.get('live/a').flvPlayers.size, 2)

  const published = publish(`rtmp://127.0.0.1:${server.rtmpPort}/live/a`, fixture, { realtime: true, timeoutMs: 30000 })
  await sleep(2500)
  const lateHttp = httpRecorder(`http://${base}`)
  const lateWs = wsRecorder(`ws://${base}`)
  await Promise.all([lateHttp.started, lateWs.opened])
  await sleep(3500)
  for (const r of [waitingHttp, waitingWs, lateHttp, lateWs]) r.stop()

  const recordings = { waitingHttp, waitingWs, lateHttp, lateWs }
  for (const [name, r] of Object.entries(recordings)) await checkRecording(name, r.data())
  // WebSocket: each binary message holds whole tags (the first also the FLV header).
  for (const r of [waitingWs, lateWs]) {
    assert.equal(r.messages[0].toString('latin1', 0, 3), 'FLV')
    for (const [i, m] of r.messages.entries()) {
      const body = i === 0 ? m : Buffer.concat([Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'), m])
      assert.equal(wholeTags(body).length, body.length, `message ${i} is whole tags`)
    }
  }
  // The waiting players got the publication from its first keyframe at 0.
  const waitingTags = readFlv(wholeTags(waitingHttp.data())).tags.filter((t) => t.type === 9)
  assert.equal(waitingTags[1].timestamp, 0)
  const lateTags = readFlv(wholeTags(lateHttp.data())).tags.filter((t) => t.type === 9)
  assert.ok(lateTags[1].timestamp >= 1000, `the late joiner starts at a later keyframe (${lateTags[1].timestamp} ms)`)
  const r = await published
  assert.equal(r.code, 0, r.stderr)
})

/** Sends a request and resolves `{ status, headers, body }`. */
function fetchRaw(url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('the CORS preflight is answered; unknown streams are 404, refused ones 403, other methods 405', async () => {
  const base = `http://127.0.0.1:${server.httpPort}`
  const pre = await fetchRaw(`${base}/live/a.flv`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://elsewhere.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
  })
  assert.equal(pre.status, 204)
  assert.equal(pre.headers['access-control-allow-origin'], '*')
  assert.match(pre.headers['access-control-allow-methods'], /GET/)
  assert.equal(pre.headers['access-control-allow-headers'], 'range')
  assert.equal((await fetchRaw(`${base}/live/unknown.flv`)).status, 404)
  assert.equal((await fetchRaw(`${base}/live/refused.flv`)).status, 403)
  assert.equal((await fetchRaw(`${base}/live/a.flv`, { method: 'POST' })).status, 405)
  assert.equal((await fetchRaw(`${base}/elsewhere`)).status, 404, 'other paths are left to the app')
  for (const [name, status] of [['unknown', 404], ['refused', 403]]) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/live/${name}.flv`)
    const [, res] = await once(ws, 'unexpected-response')
    assert.equal(res.statusCode, status)
    ws.on('error', () => {})
    ws.terminate()
  }
})

test('a player that does not stay ends with the publication; stop() ends the others with the last chunk', async () => {
  const key = 'live/b'
  const { LiveStream } = require('../index.js')
  const stream = new LiveStream(key)
  server.streams.set(key, stream)
  // A node:http server of our own to pass options to addFlvPlayer directly.
  const { createServer } = await import('node:http')
  const options = []
  const http = createServer((req, res) => options.length && stream.addFlvPlayer(req, res, options.shift()))
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  const url = `http://127.0.0.1:${http.address().port}/b.flv`
  options.push({ stays: false, cors: 'http://app.test' }, { stays: true })
  const leaving = httpRecorder(url)
  const staying = httpRecorder(url)
  const [leavingRes] = await Promise.all([leaving.started, staying.started])
  assert.equal(leavingRes.headers['access-control-allow-origin'], 'http://app.test')
  assert.equal(leavingRes.headers.vary, 'Origin')
  const r = await publish(`rtmp://127.0.0.1:${server.rtmpPort}/${key}`, fixture, { timeoutMs: 30000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(await leaving.ended(), true, 'the response ended cleanly')
  assert.ok(readFlv(wholeTags(leaving.data())).tags.length > 300, 'it got the publication')
  assert.equal(stream.flvPlayers.size, 1, 'the staying player waits for the next one')
  const [player] = stream.flvPlayers
  const [info] = await Promise.all([player.stop(), staying.ended()])
  assert.equal(info.error, undefined)
  assert.ok(info.bytes > staying.data().length, 'head and chunk framing counted too')
  http.close()
})

test('npm start serves /live/<key>.flv over HTTP and WebSocket and a player page with mpegts.js from node_modules', async () => {
  const { startListeningServer } = await import('./helpers/process.mjs')
  const { child, port, output } = await startListeningServer(process.execPath, [path.join(here, '..', 'examples', 'server.js')],
    { env: { RTMP_QUIET: '1', HTTP_PORT: '0' } })
  try {
    let m
    for (let i = 0; i < 100 && !(m = /players on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output())); i++) await sleep(50)
    assert.ok(m, output())
    const base = `127.0.0.1:${m[1]}`
    // A player before the publisher waits for it (the live server makes the stream).
    const waiting = httpRecorder(`http://${base}/live/started.flv`)
    assert.equal((await waiting.started).statusCode, 200)
    const published = publish(`rtmp://127.0.0.1:${port}/live/started`, fixture, { realtime: true, timeoutMs: 30000 })
    await sleep(2000)
    const ws = wsRecorder(`ws://${base}/live/started.flv`)
    await ws.opened
    const page = await fetchRaw(`http://${base}/`)
    assert.equal(page.status, 200)
    assert.match(page.body, /<script src="\/mpegts\.js"><\/script>/)
    const script = await fetchRaw(`http://${base}/mpegts.js`)
    assert.equal(script.status, 200)
    assert.match(script.headers['content-type'], /javascript/)
    assert.match(script.body, /mpegts/)
    const listed = JSON.parse((await fetchRaw(`http://${base}/streams.json`)).body)
    assert.deepEqual(listed.map((s) => `${s.app}/${s.name}`), ['live/started'])
    assert.equal(listed[0].players, 2, 'the HTTP-FLV and WebSocket-FLV players count')
    await sleep(2500)
    waiting.stop()
    ws.stop()
    await checkRecording('npm-start-http', waiting.data())
    await checkRecording('npm-start-ws', ws.data())
    assert.equal((await fetchRaw(`http://${base}/metrics`)).status, 200, '/metrics still served')
    assert.equal((await published).code, 0)
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
})
