// HLS output (stream.hls): FFmpeg publishes over RTMP into a LiveStream whose HLS
// output is served by hlsHandler on node:http; players read the playlist over HTTP.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegPath, makeFlv, makeEnhancedFlv, modernFfmpegPath, modernFfmpegSkip, probeStreams, publish } from './helpers/ffmpeg.mjs';
import { startHlsOrigin } from './helpers/hls-origin.mjs';
import { browserSkip, playWithHlsJs } from './helpers/hls-player.mjs';
import { nginxSkip, pullPlayer, startNginxCache } from './helpers/hls-cache.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let origin;
let avcFixture;

before(async () => {
  avcFixture = await makeFlv(path.join(fixtures, 'hls-avc.flv'), { seconds: 6, fps: 25, gop: 25 });
  origin = await startHlsOrigin();
});

after(async () => {
  await origin.close();
});

const base = () => `http://127.0.0.1:${origin.httpPort}/live`;

/** Publishes `flv` in real time to `name`; resolves with FFmpeg's exit. */
function publishLive(name, flv, binary) {
  return publish(`rtmp://127.0.0.1:${origin.rtmpPort}/live/${name}`, flv, { realtime: true, timeoutMs: 60_000, binary });
}

/** Waits until the playlist of `name` answers 200; returns its text. */
async function firstPlaylist(name, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${base()}/${name}/index.m3u8`).catch(() => null);
    if (r && r.status === 200) return r.text();
    if (Date.now() > deadline) throw new Error(`no playlist for ${name} (last status ${r && r.status})`);
    await sleep(100);
  }
}

test('FFmpeg plays the HLS of an H.264/AAC publication: both codecs, decoded cleanly', async () => {
  const publishing = publishLive('avc', avcFixture);
  const text = await firstPlaylist('avc');
  assert.match(text, /^#EXTM3U\n/);
  assert.match(text, /#EXT-X-MAP:URI="[0-9a-f]{12}_init\.mp4"/);
  const probe = await probeStreams(`${base()}/avc/index.m3u8`, { binary: ffmpegPath(), timeoutMs: 60_000 });
  const done = await publishing;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(probe.code, 0, probe.stderr);
  assert.ok(probe.streams.includes('Video: h264 320x240'), probe.streams.join('\n'));
  assert.ok(probe.streams.includes('Audio: aac 44100 Hz stereo'), probe.streams.join('\n'));
  assert.equal(probe.errors, '', probe.stderr);
  const frames = /frame=\s*(\d+)/g;
  const counted = [...probe.stderr.matchAll(frames)].map((m) => Number(m[1])).pop();
  assert.ok(counted >= 50, `decoded ${counted} frames`);
});

for (const [video, audio, want] of [
  ['hevc', 'opus', ['Video: hevc 320x240', 'Audio: opus 48000 Hz stereo']],
  ['av1', 'aac', ['Video: av1 320x240', 'Audio: aac 48000 Hz stereo']],
]) {
  test(`FFmpeg 8+ plays the HLS of an Enhanced RTMP ${video}/${audio} publication, decoded cleanly`, { skip: modernFfmpegSkip() }, async () => {
    const ff = modernFfmpegPath();
    const flv = await makeEnhancedFlv(path.join(fixtures, `hls-${video}-${audio}.flv`), { video: [video], audio: [audio], seconds: 6 });
    const name = `${video}${audio}`;
    const publishing = publishLive(name, flv, ff);
    const text = await firstPlaylist(name);
    assert.match(text, /#EXT-X-PART:DURATION=0\.\d+,URI="[0-9a-f]{12}_\d+_0\.m4s",INDEPENDENT=YES/);
    const probe = await probeStreams(`${base()}/${name}/index.m3u8`, { binary: ff, timeoutMs: 60_000 });
    const done = await publishing;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(probe.streams.slice(0, 2), want, probe.stderr);
    assert.equal(probe.errors, '', probe.stderr);
    assert.equal(origin.streams.get(name).hls().stats().skipped, undefined, 'no track left out');
  });
}

test('hls.js in Chromium, on another origin, plays in low-latency mode within 3 s of the live edge', { skip: browserSkip() }, async () => {
  const flv = await makeFlv(path.join(fixtures, 'hls-avc-20s.flv'), { seconds: 20, fps: 25, gop: 25 });
  const publishing = publishLive('browser', flv);
  await firstPlaylist('browser');
  const before = new Map(origin.requests);
  const report = await playWithHlsJs(`${base()}/browser/index.m3u8`, { seconds: 10 });
  await publishing;
  assert.ok(report.mse, 'Chromium plays H.264/AAC in MSE');
  assert.equal(report.fatal, null, report.errors.join('\n'));
  const playing = report.samples.filter((s) => s.currentTime > 0);
  assert.ok(playing.length >= 12, `played for ${playing.length / 4} s`);
  const last = playing.slice(-8);
  const latency = Math.max(...last.map((s) => s.pdtLatency));
  assert.ok(latency > 0 && latency <= 3, `latency behind the live edge (wall clock − PROGRAM-DATE-TIME): ${latency} s`);
  assert.ok(last.every((s) => s.latency <= 3), `hls.latency: ${last.map((s) => s.latency).join(', ')}`);
  assert.ok(last.at(-1).decoded > last[0].decoded, 'frames keep being decoded');
  // It used LL-HLS: blocking playlist reloads and parts.
  const asked = [...origin.requests.keys()].filter((u) => u.startsWith('/live/browser/') && !before.has(u));
  assert.ok(asked.some((u) => /_HLS_msn=\d+&_HLS_part=\d+/.test(u)), asked.join('\n'));
  assert.ok(asked.some((u) => /_\d+_\d+\.m4s$/.test(u)), 'parts fetched');
  console.log(`hls.js latency ${latency.toFixed(2)} s (PDT), hls.latency ${last.at(-1).latency.toFixed(2)} s`);
});

test('behind an nginx proxy_cache that follows only the origin headers, 8 players cost the origin one request per segment and part', { skip: nginxSkip() }, async () => {
  const flv = await makeFlv(path.join(fixtures, 'hls-avc-20s.flv'), { seconds: 20, fps: 25, gop: 25 });
  const publishing = publishLive('cached', flv);
  await firstPlaylist('cached');
  const cache = await startNginxCache(origin.httpPort);
  try {
    const url = `http://127.0.0.1:${cache.port}/live/cached/index.m3u8`;
    // Eight LL-HLS players (blocking reloads, parts), then a plain one (segments).
    const players = await Promise.all(Array.from({ length: 8 }, () => pullPlayer(url, { seconds: 8 })));
    const plain = [await pullPlayer(url, { seconds: 3, lowLatency: false }), await pullPlayer(url, { seconds: 3, lowLatency: false })];
    for (const p of [...players, ...plain]) assert.deepEqual(p.errors, []);
    assert.ok(plain[1].hits > 0, 'the second plain player is served from the cache');
    const media = [...origin.requests].filter(([u]) => u.startsWith('/live/cached/') && /\.(m4s|mp4)$/.test(u));
    const parts = media.filter(([u]) => /_\d+_\d+\.m4s$/.test(u));
    const segments = media.filter(([u]) => /_\d+\.m4s$/.test(u) && !/_\d+_\d+\.m4s$/.test(u));
    assert.ok(parts.length >= 20 && segments.length >= 3, `parts ${parts.length}, segments ${segments.length}`);
    assert.deepEqual(media.filter(([, n]) => n !== 1), [], 'each init segment, segment and part reached the origin once');
    const blocking = [...origin.requests].filter(([u]) => u.startsWith('/live/cached/index.m3u8?'));
    assert.deepEqual(blocking.filter(([, n]) => n !== 1), [], 'each blocking playlist URL reached the origin once');
    const clientRequests = [...players, ...plain].reduce((n, p) => n + p.requests, 0);
    const originRequests = [...origin.requests].filter(([u]) => u.startsWith('/live/cached/')).reduce((n, [, c]) => n + c, 0);
    const hitRatio = 1 - originRequests / clientRequests;
    // Eight players asking for the same URLs: at best 7 in 8 answered by the cache.
    assert.ok(hitRatio > 0.8, `origin served ${originRequests} of ${clientRequests} requests`);
    console.log(`8 players: ${clientRequests} requests, ${originRequests} at the origin (hit ratio ${(hitRatio * 100).toFixed(1)} %)`);
  } finally {
    cache.close();
    await publishing;
  }
});

test('HTTP: cache headers, content types, CORS and preflight, blocking-request errors, unknown names', async () => {
  const publishing = publishLive('http', avcFixture);
  try {
    const text = await firstPlaylist('http');
    const url = `${base()}/http/index.m3u8`;
    const r = await fetch(url, { headers: { Origin: 'http://elsewhere.example' } });
    assert.equal(r.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=1');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    await r.text();
    const prefix = /URI="([0-9a-f]{12})_init\.mp4"/.exec(text)[1];
    for (const file of [`${prefix}_init.mp4`, `${prefix}_0.m4s`, `${prefix}_0_0.m4s`]) {
      const m = await fetch(`${base()}/http/${file}`);
      assert.equal(m.status, 200, file);
      assert.equal(m.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(m.headers.get('content-type'), 'video/mp4');
      const body = Buffer.from(await m.arrayBuffer());
      assert.equal(Number(m.headers.get('content-length')), body.length);
      assert.equal(body.subarray(4, 8).toString(), file.endsWith('.mp4') ? 'ftyp' : 'moof', file);
    }
    const pre = await fetch(url, { method: 'OPTIONS', headers: { Origin: 'http://x.example', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-methods'), /GET/);
    assert.equal((await fetch(`${url}?_HLS_part=1`)).status, 400, '_HLS_part without _HLS_msn');
    assert.equal((await fetch(`${url}?_HLS_msn=x`)).status, 400);
    assert.equal((await fetch(`${url}?_HLS_msn=999`)).status, 400, 'far past the live edge');
    // The next segment: held until it exists, then answered, cacheable.
    const open = origin.streams.get('http').hls().stats().openMsn;
    const t0 = Date.now();
    const held = await fetch(`${url}?_HLS_msn=${open + 1}`);
    assert.equal(held.status, 200);
    assert.ok(Date.now() - t0 >= 100, `held ${Date.now() - t0} ms`);
    assert.match(held.headers.get('cache-control'), /^public, max-age=\d+$/);
    assert.match(await held.text(), new RegExp(`${prefix}_${open}\\.m4s\\n`), 'the segment asked for is in it');
    assert.equal((await fetch(`${base()}/http/${prefix}_0_99.m4s`)).status, 404);
    assert.equal((await fetch(`${base()}/http/000000000000_0.m4s`)).status, 404, 'another publication');
    assert.equal((await fetch(`${base()}/nosuch/index.m3u8`)).status, 404);
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  } finally {
    await publishing;
  }
  // Ended: the playlist says so.
  assert.match(await (await fetch(`${base()}/http/index.m3u8`)).text(), /#EXT-X-ENDLIST\n$/);
});

test('a short blockTimeoutMs answers a request for a part that is not cut in time with 503', async () => {
  const { LiveStream } = (await import('node:module')).createRequire(import.meta.url)('../index.js');
  const stream = new LiveStream('idle');
  const hls = stream.hls({ blockTimeoutMs: 50 });
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => hls.handle(req, res));
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const url = `http://127.0.0.1:${server.address().port}/index.m3u8`;
    assert.equal((await fetch(`${url}?_HLS_msn=0&_HLS_part=0`)).status, 503);
    assert.equal((await fetch(url)).status, 404, 'nothing published');
    assert.throws(() => new LiveStream('x').hls({ partTargetMs: 5 }), { code: 'ERR_INVALID_ARG_VALUE' });
  } finally {
    hls.close();
    server.close();
  }
});
