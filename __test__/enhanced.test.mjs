// Enhanced RTMP v2 through the relay, with a modern FFmpeg (8+, FFMPEG9_PATH) as
// publisher and players: FourCC codecs, two audio tracks, two video tracks. A player
// waiting before the publisher and one joining late each get exactly the publisher's
// tracks with their codec parameters, and decode without errors. Then the FFmpeg 5.1 of
// Debian as a late player of a legacy stream: no track the publisher did not send.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ffmpegPath, makeEnhancedFlv, makeFlv, modernFfmpegPath, modernFfmpegSkip, probeStreams, publish, record } from './helpers/ffmpeg.mjs';

const require = createRequire(import.meta.url);
const { createLiveServer } = require('../examples/server.js');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const skip = modernFfmpegSkip();

let server;
let port;

before(async () => {
  server = createLiveServer({ quiet: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = server.address().port;
});

after(() => server.close());

const cases = [
  { name: 'hevc-opus', video: ['hevc'], audio: ['opus'] },
  { name: 'av1-flac', video: ['av1'], audio: ['flac'] },
  { name: 'vp9-ac3', video: ['vp9'], audio: ['ac3'] },
  { name: 'h264-eac3', video: ['h264'], audio: ['eac3'] },
  { name: 'two-audio-tracks', video: ['h264'], audio: ['aac', 'aac'] },
  { name: 'two-video-tracks', video: ['h264', 'h264'], audio: ['aac'] },
];

for (const c of cases) {
  test(`${c.name}: an early and a late player get exactly the publisher's tracks and decode them`, { skip, timeout: 240000 }, async () => {
    const ffmpeg = modernFfmpegPath();
    const flv = await makeEnhancedFlv(path.join(fixtures, `enhanced-${c.name}.flv`), { video: c.video, audio: c.audio, seconds: 6 });
    const source = await probeStreams(flv);
    assert.equal(source.errors, '', `${c.name}: the fixture decodes`);
    assert.equal(source.streams.length, c.video.length + c.audio.length, `the fixture has every track: ${source.streams}`);
    const url = `rtmp://127.0.0.1:${port}/live/${c.name}`;
    const out = (who) => path.join(fixtures, `enhanced-${c.name}-${who}.flv`);
    // Early: plays before the publisher starts, records 3 s of what comes.
    const early = record(url, out('early'), { seconds: 3, timeoutMs: 60000, binary: ffmpeg, allTracks: true });
    await sleep(500);
    const publishing = publish(url, flv, { realtime: true, timeoutMs: 60000, binary: ffmpeg, extraArgs: ['-map', '0'] });
    await sleep(2500);
    const late = record(url, out('late'), { seconds: 2, timeoutMs: 60000, binary: ffmpeg, allTracks: true });
    for (const [who, r] of [['early', await early], ['late', await late]]) {
      assert.equal(r.code, 0, `${who} player: ${r.stderr}`);
      const got = await probeStreams(out(who));
      assert.deepEqual(got.streams, source.streams, `${c.name}, ${who} player: the publisher's tracks, no more, no less`);
      assert.equal(got.errors, '', `${c.name}, ${who} player decodes without errors`);
    }
    const p = await publishing;
    assert.equal(p.code, 0, p.stderr);
  });
}

test('FFmpeg 5.1 (Debian) as a late player of a legacy H.264/AAC stream sees only its two tracks', async () => {
  const flv = await makeFlv(path.join(fixtures, 'enhanced-legacy.flv'), { seconds: 5, fps: 25, gop: 25 });
  const url = `rtmp://127.0.0.1:${port}/live/legacy`;
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 60000 });
  await sleep(2500);
  const file = path.join(fixtures, 'enhanced-legacy-late.flv');
  const r = await record(url, file, { seconds: 1.5, timeoutMs: 60000, allTracks: true });
  assert.equal(r.code, 0, r.stderr);
  const got = await probeStreams(file, { binary: ffmpegPath() });
  assert.deepEqual(got.streams.map((s) => s.split(' ').slice(0, 2).join(' ')), ['Video: h264', 'Audio: aac']);
  assert.equal(got.errors, '');
  assert.equal((await publishing).code, 0);
});
