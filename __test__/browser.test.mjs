// Browser playback in a real browser: headless Chromium (Debian's `chromium`, driven by
// puppeteer-core) opens a page of another origin that loads mpegts.js and plays the
// stream over HTTP-FLV and over WebSocket-FLV at once while FFmpeg publishes in real
// time: H.264/AAC, and H.264 with Opus (Enhanced RTMP audio, FFmpeg 8+). Each video's
// currentTime must advance at least 3 s with at least 60 decoded frames and no media
// or network error.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { isExecutable, toolSkip } from './helpers/tools.mjs'
import { makeFlv, makeEnhancedFlv, publish, modernFfmpegPath, modernFfmpegSkip } from './helpers/ffmpeg.mjs'
import { startFlvServer } from './helpers/flv-server.mjs'
import { MPEGTS_PAGE } from './helpers/mpegts-page.mjs'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const fixtures = path.join(here, 'fixtures')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const chromiumSkip = toolSkip(!isExecutable(CHROMIUM) && `no ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))


let server
let pageServer
let pageOrigin
let browser

before(async () => {
  if (chromiumSkip) return
  server = await startFlvServer()
  const mpegts = readFileSync(require.resolve('mpegts.js/dist/mpegts.js'))
  pageServer = createServer((req, res) => {
    if (req.url === '/mpegts.js') { res.writeHead(200, { 'Content-Type': 'text/javascript' }); return res.end(mpegts) }
    res.writeHead(200, { 'Content-Type': 'text/html' })
    res.end(MPEGTS_PAGE)
  })
  // Another origin: another port (and host name) than the FLV server's.
  pageServer.listen(0, '127.0.0.1')
  await once(pageServer, 'listening')
  pageOrigin = `http://localhost:${pageServer.address().port}`
  const puppeteer = require('puppeteer-core')
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  })
})

after(async () => {
  if (browser) await browser.close()
  if (pageServer) pageServer.close()
  if (server) await server.close()
})

/**
 * Publishes `fixture` in real time to live/<name> (with `binary`), plays it in the
 * page over HTTP-FLV and WebSocket-FLV from 1 s in, samples both 6 s later.
 */
async function playInBrowser(name, fixture, binary) {
  const page = await browser.newPage()
  const logs = []
  page.on('console', (m) => logs.push(m.text()))
  await page.goto(`${pageOrigin}/`)
  const published = publish(`rtmp://127.0.0.1:${server.rtmpPort}/live/${name}`, fixture, { realtime: true, timeoutMs: 60000, binary })
  await sleep(1000)
  const flvUrl = `127.0.0.1:${server.httpPort}/live/${name}.flv`
  await page.evaluate((http, ws) => { window.play('http', http); window.play('ws', ws) }, `http://${flvUrl}`, `ws://${flvUrl}`)
  await sleep(6500)
  const samples = await page.evaluate(() => ({ http: window.sample('http'), ws: window.sample('ws') }))
  await page.close()
  const r = await published
  assert.equal(r.code, 0, r.stderr)
  for (const [transport, s] of Object.entries(samples)) {
    const what = `${name} over ${transport}: ${JSON.stringify(s)} ${logs.filter((l) => /error|warn/i.test(l)).join(' | ')}`
    console.log(`# ${name} ${transport}: currentTime ${s.currentTime.toFixed(2)} s (from ${s.start}), ${s.frames} frames decoded, ${s.dropped} dropped, ${s.audioBytes} audio bytes decoded`)
    assert.deepEqual(s.errors, [], what)
    assert.ok(s.start !== null, `playing: ${what}`)
    assert.ok(s.currentTime - s.start >= 3, `currentTime advanced ≥ 3 s: ${what}`)
    assert.ok(s.frames >= 60, `≥ 60 frames decoded: ${what}`)
    assert.ok(s.audioBytes > 0, `audio decoded: ${what}`)
  }
}

test('mpegts.js in Chromium plays H.264/AAC over HTTP-FLV and WebSocket-FLV from another origin', { skip: chromiumSkip, timeout: 120_000 }, async () => {
  const fixture = await makeFlv(path.join(fixtures, 'browser-h264-aac.flv'), { seconds: 10, fps: 25, gop: 25 })
  await playInBrowser('h264aac', fixture)
})

test('mpegts.js in Chromium plays H.264 with Opus (Enhanced RTMP audio) over HTTP-FLV and WebSocket-FLV', { skip: chromiumSkip || modernFfmpegSkip(), timeout: 300_000 }, async () => {
  const ffmpeg = modernFfmpegPath()
  const fixture = await makeEnhancedFlv(path.join(fixtures, 'browser-h264-opus.flv'), { video: ['h264'], audio: ['opus'], seconds: 10, ffmpeg })
  await playInBrowser('h264opus', fixture, ffmpeg)
})
