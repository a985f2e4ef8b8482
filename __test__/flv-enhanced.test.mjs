// Files with Enhanced RTMP v2 tags (FourCC codecs, multitrack audio) made by FFmpeg 9:
// readFlv and FlvWriter keep them byte for byte, and the CLI's publish and play carry
// them through the live server unchanged.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { modernFfmpegPath, modernFfmpegSkip } from './helpers/ffmpeg.mjs';

const require = createRequire(import.meta.url);
const { readFlv, FlvWriter } = require('../index.js');
const { decodeMediaHeader } = require('../binding.js');
const { createLiveServer } = require('../examples/server.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const cli = path.join(here, '..', 'bin', 'rtmpapi.js');
const digest = (b) => createHash('sha1').update(b).digest('hex');
const skip = modernFfmpegSkip();
let source;

/** Runs FFmpeg 9 to completion; resolves its stderr, rejects when it fails. */
function ffmpeg9(args, timeoutMs = 60_000) {
  const r = spawnSync(modernFfmpegPath(), ['-hide_banner', '-nostdin', ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`ffmpeg 9 exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stderr;
}

/** Runs the CLI; resolves { code, stderr } once it exits (killed after timeoutMs). */
function runCli(args, timeoutMs = 30_000) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return once(child, 'close').then(([code]) => {
    clearTimeout(timer);
    return { code, stderr };
  });
}

/** The streams FFmpeg 9 lists for a file: "hevc", "opus", ... in order. */
function streamCodecs(file) {
  const r = spawnSync(modernFfmpegPath(), ['-hide_banner', '-i', file], { encoding: 'utf8' });
  return [...r.stderr.matchAll(/Stream #0:\d+[^:]*: (?:Video|Audio|Data|Subtitle): (\w+)/g)].map((m) => m[1]);
}

before(() => {
  if (skip) return;
  mkdirSync(fixtures, { recursive: true });
  source = path.join(fixtures, 'enhanced-hevc-2opus.flv');
  // HEVC with FourCC headers, two Opus tracks (the second as multitrack track 1).
  ffmpeg9(['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000',
    '-map', '0:v', '-map', '1:a', '-map', '2:a', '-c:v', 'libx265', '-preset', 'ultrafast', '-g', '25',
    '-x265-params', 'log-level=error', '-c:a', 'libopus', '-t', '2', '-f', 'flv', source]);
});

test('readFlv then FlvWriter rewrite an FFmpeg 9 multitrack FourCC file byte for byte', { skip }, (t) => {
  const { hasAudio, hasVideo, tags } = readFlv(source);
  const headers = tags.filter((tg) => tg.type !== 18).map((tg) => ({ type: tg.type, ...decodeMediaHeader(tg.type, tg.data) }));
  // The file holds what this is about: FourCC video, Opus on track 0 and on multitrack
  // track 1, each with its SequenceStart and MultichannelConfig.
  assert.ok(headers.some((h) => h.type === 9 && h.fourCc === 'hvc1' && h.packetType === 0), 'an HEVC SequenceStart');
  assert.ok(headers.some((h) => h.type === 8 && h.fourCc === 'Opus' && h.trackId === undefined && h.packetType === 0));
  assert.ok(headers.some((h) => h.type === 8 && h.fourCc === 'Opus' && h.trackId === 1 && h.packetType === 0), 'track 1 SequenceStart');
  assert.ok(headers.some((h) => h.type === 8 && h.trackId === 1 && h.packetType === 4), 'track 1 MultichannelConfig');
  const out = path.join(fixtures, 'enhanced-rewritten.flv');
  t.after(() => rmSync(out, { force: true }));
  const writer = new FlvWriter(out, { hasAudio, hasVideo });
  for (const tg of tags) writer.write(tg.type, tg.timestamp, tg.data);
  writer.close();
  assert.equal(writer.tags, tags.length);
  assert.ok(readFileSync(out).equals(readFileSync(source)), 'the rewritten file is the source, byte for byte');
});

test('rtmpapi publish and rtmpapi play carry FourCC and multitrack tags through the live server unchanged', { skip }, async (t) => {
  const server = createLiveServer({ quiet: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const url = `rtmp://127.0.0.1:${server.address().port}/live/mt`;
  const out = path.join(fixtures, 'enhanced-played.flv');
  rmSync(out, { force: true });
  // The player waits for the stream; it ends at the publisher's UnpublishNotify.
  const played = runCli(['play', url, out]);
  await new Promise((r) => setTimeout(r, 500));
  const published = await runCli(['publish', source, url]);
  assert.equal(published.code, 0, published.stderr);
  const play = await played;
  assert.equal(play.code, 0, play.stderr);

  const media = (file) => readFlv(file).tags.filter((tg) => tg.type !== 18);
  const sent = media(source);
  const got = media(out);
  for (const type of [8, 9]) {
    assert.deepEqual(
      got.filter((tg) => tg.type === type).map((tg) => [tg.timestamp, digest(tg.data)]),
      sent.filter((tg) => tg.type === type).map((tg) => [tg.timestamp, digest(tg.data)]),
      `${type === 8 ? 'audio' : 'video'} tags, byte for byte`,
    );
  }
  assert.deepEqual(streamCodecs(out), streamCodecs(source));
  assert.deepEqual(streamCodecs(out), ['hevc', 'opus', 'opus']);
  const decoded = ffmpeg9(['-v', 'error', '-i', out, '-map', '0', '-f', 'null', '-']);
  assert.equal(decoded.trim(), '', 'FFmpeg 9 decodes every track without an error');
});
