// hls.js (the npm devDependency) in headless Chromium, on a page of another origin than
// the HLS origin: plays a playlist with lowLatencyMode and reports how far behind the
// live edge it plays. Used by __test__/hls.test.mjs and bench/hls.mjs.

import { once } from 'node:events';
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { toolSkip } from './tools.mjs';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The `skip` option of a test that needs Chromium and puppeteer-core. */
export function browserSkip() {
  let missing = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  try { require.resolve('puppeteer-core'); require.resolve('hls.js/dist/hls.min.js'); } catch {
    missing ||= 'puppeteer-core or hls.js is not installed (npm install)';
  }
  return toolSkip(missing);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>hls.js</title>
<video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
window.report = { errors: [], fatal: null, samples: [] };
window.play = (src) => {
  const video = document.getElementById('v');
  const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_, d) => {
    report.errors.push(d.details + (d.fatal ? ' (fatal)' : ''));
    if (d.fatal) report.fatal = d.details;
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch((e) => report.errors.push('play: ' + e.message));
  setInterval(() => {
    if (video.currentTime <= 0 || video.paused) return;
    const date = hls.playingDate;
    report.samples.push({
      currentTime: video.currentTime,
      latency: hls.latency,
      // Wall clock minus the PROGRAM-DATE-TIME of what is on screen.
      pdtLatency: date ? (Date.now() - date.getTime()) / 1000 : null,
      decoded: video.getVideoPlaybackQuality().totalVideoFrames,
      dropped: video.getVideoPlaybackQuality().droppedVideoFrames,
    });
  }, 250);
};
</script>`;

/**
 * Serves the page and hls.js on localhost (another origin than 127.0.0.1:originPort).
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
async function servePage() {
  const script = readFileSync(require.resolve('hls.js/dist/hls.min.js'));
  const server = createServer((req, res) => {
    if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(script);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    }
  });
  server.listen(0, 'localhost');
  await once(server, 'listening');
  return {
    url: `http://localhost:${server.address().port}/`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * Plays `src` for `seconds` in headless Chromium with hls.js in low-latency mode.
 * @returns {Promise<{ samples: object[], errors: string[], fatal: string|null, pageOrigin: string,
 *   mse: boolean }>}
 */
export async function playWithHlsJs(src, { seconds = 8, codecs = 'avc1.4d401e,mp4a.40.2' } = {}) {
  const puppeteer = require('puppeteer-core');
  const page = await servePage();
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    const mse = await tab.evaluate((c) => MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`), codecs);
    await tab.evaluate((s) => window.play(s), src);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const report = await tab.evaluate(() => window.report);
    return { ...report, pageOrigin: new URL(page.url).origin, mse };
  } finally {
    await browser.close();
    await page.close();
  }
}
