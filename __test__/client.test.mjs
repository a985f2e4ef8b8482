// The client and the CLI against the package's own server and against FFmpeg as a server.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ffmpegPath, makeFlv } from './helpers/ffmpeg.mjs';
import { freePort, runCommand } from './helpers/process.mjs';
import { startIngestServer } from './helpers/ingest-server.mjs';

const require = createRequire(import.meta.url);
const { RtmpClient, readFlv } = require('../index.js');
const { createLiveServer } = require('../examples/server.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const cli = path.join(here, '..', 'bin', 'rtmpapi.js');
const digest = (b) => createHash('sha1').update(b).digest('hex');
let flv;
const runCli = (args) => runCommand(process.execPath, [cli, ...args]);

before(async () => {
  flv = await makeFlv(path.join(fixtures, 'client.flv'), { seconds: 3, fps: 25, gop: 25 });
});

async function startLive() {
  const server = createLiveServer({ quiet: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('the client publishes and plays through the package\'s server, payloads byte-exact', async (t) => {
  const server = await startLive();
  t.after(() => server.close());
  const url = `rtmp://127.0.0.1:${server.address().port}/live/roundtrip`;
  const player = new RtmpClient();
  await player.connect(url);
  await player.play();
  const got = [];
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  const { tags } = readFlv(flv);
  const media = tags.filter((tg) => tg.type === 8 || tg.type === 9);
  const record = (type) => (data, timestamp) => {
    got.push({ type, timestamp, hash: digest(data) });
    if (got.length === media.length) done();
  };
  player.on('audio', record(8));
  player.on('video', record(9));

  const publisher = new RtmpClient();
  const info = await publisher.connect(url);
  assert.equal(info.code, 'NetConnection.Connect.Success');
  await publisher.publish();
  for (const tg of tags) {
    if (tg.type === 8) publisher.sendAudio(tg.data, tg.timestamp);
    else if (tg.type === 9) publisher.sendVideo(tg.data, tg.timestamp);
  }
  await all;
  for (const type of [8, 9]) {
    assert.deepEqual(
      got.filter((g) => g.type === type).map((g) => [g.timestamp, g.hash]),
      media.filter((tg) => tg.type === type).map((tg) => [tg.timestamp, digest(tg.data)]),
    );
  }
  await publisher.close();
  await player.close();
});

test('rtmpapi publish delivers every tag to FFmpeg as the server', async () => {
  const port = await freePort();
  const out = path.join(fixtures, 'ffmpeg-server-received.flv');
  const ffmpeg = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-listen', '1', '-i', `rtmp://127.0.0.1:${port}/live/x`, '-c', 'copy', '-y', '-f', 'flv', out]);
  const ffmpegClosed = once(ffmpeg, 'close');
  await new Promise((r) => setTimeout(r, 700));
  const r = await runCli(['publish', flv, `rtmp://127.0.0.1:${port}/live/x`, '--fast']);
  assert.equal(r.code, 0, r.stderr);
  const [code] = await ffmpegClosed;
  assert.equal(code, 0);
  const count = (file, type) => readFlv(file).tags.filter((tg) => tg.type === type).length;
  assert.equal(count(out, 8), count(flv, 8), 'audio tags');
  assert.equal(count(out, 9), count(flv, 9), 'video tags');
});

test('rtmpapi play --duration stops writing at the duration while media keeps coming', async () => {
  const port = await freePort();
  // No -re: FFmpeg sends the whole file at once, so batches hold media past the duration.
  const ffmpeg = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', flv, '-c', 'copy', '-f', 'flv', '-listen', '1', `rtmp://127.0.0.1:${port}/live/x`]);
  await new Promise((r) => setTimeout(r, 700));
  const out = path.join(fixtures, 'cli-play-duration.flv');
  const r = await runCli(['play', `rtmp://127.0.0.1:${port}/live/x`, out, '--duration', '1']);
  ffmpeg.kill();
  assert.equal(r.code, 0, r.stderr);
  const media = readFlv(out).tags.filter((tg) => tg.type === 8 || tg.type === 9);
  const last = Math.max(...media.map((tg) => tg.timestamp));
  assert.ok(last >= 1000 && last < 1100, `last tag at ${last} ms`);
  const lastOfFile = Math.max(...readFlv(flv).tags.map((tg) => tg.timestamp));
  assert.ok(lastOfFile > 2000, `the fixture runs past the duration (${lastOfFile} ms)`);
});

test('rtmpapi play records a valid FLV from FFmpeg serving a file', async () => {
  const port = await freePort();
  const ffmpeg = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-re', '-i', flv, '-c', 'copy', '-f', 'flv', '-listen', '1', `rtmp://127.0.0.1:${port}/live/x`]);
  await new Promise((r) => setTimeout(r, 700));
  const out = path.join(fixtures, 'cli-play.flv');
  const r = await runCli(['play', `rtmp://127.0.0.1:${port}/live/x`, out]);
  assert.equal(r.code, 0, r.stderr);
  ffmpeg.kill();
  const { tags } = readFlv(out);
  const video = tags.filter((tg) => tg.type === 9);
  assert.ok(video.length >= 50, `${video.length} video tags`);
  assert.ok(tags.some((tg) => tg.type === 8), 'audio');
  assert.equal(video[0].data[0], 0x17, 'starts with the AVC sequence header');
});

test('the CLI exits with codes scripts can use', async (t) => {
  assert.equal((await runCli([])).code, 1, 'no command');
  assert.equal((await runCli(['play', 'http://x/y', '/tmp/o.flv'])).code, 1, 'bad URL');
  const closed = await freePort();
  const refused = await runCli(['play', `rtmp://127.0.0.1:${closed}/live/x`, '/tmp/o.flv']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /refused/i);
  assert.equal((await runCli(['publish', '/nonexistent.flv', `rtmp://127.0.0.1:${closed}/live/x`])).code, 4, 'missing file');
  const server = await startLive();
  t.after(() => server.close());
  const url = `rtmp://127.0.0.1:${server.address().port}/live/busy`;
  const first = new RtmpClient();
  await first.connect(url);
  await first.publish();
  const busy = await runCli(['publish', flv, url, '--fast']);
  assert.equal(busy.code, 3, busy.stderr);
  assert.match(busy.stderr, /BadName/);
  await first.close();
});

test('Enhanced RTMP (HEVC with FourCC headers) passes through servers with every header field decoded', async (t) => {
  const frames = [
    Buffer.from([0x90, ...Buffer.from('hvc1'), 0x01, 0x02]), // keyframe, SequenceStart
    Buffer.from([0x91, ...Buffer.from('hvc1'), 0x00, 0x00, 0x21, 0xaa]), // keyframe, CodedFrames, CTS 33
    Buffer.from([0xa3, ...Buffer.from('hvc1'), 0xbb]), // inter frame, CodedFramesX
    Buffer.from([0xa7, 0x02, 0x0f, 0x42, 0x40, 0x03, ...Buffer.from('hvc1'), 0xcc]), // ModEx 1,000,000 ns
  ];
  // A server whose handlers see every message: the headers decode in chunk.msg.
  const ingest = await startIngestServer();
  t.after(() => ingest.close());
  const toIngest = new RtmpClient();
  await toIngest.connect(`rtmp://127.0.0.1:${ingest.port}/live/hevc`);
  await toIngest.publish();
  frames.forEach((f, i) => toIngest.sendVideo(f, i * 40));
  while (ingest.messages.filter((m) => m.type === 'video').length < frames.length) await new Promise((r) => setTimeout(r, 10));
  await toIngest.close();
  const h = ingest.messages.filter((m) => m.type === 'video').map((m) => ({ ...m.msg }));
  assert.deepEqual([h[0].exHeader, h[0].frameType, h[0].packetType, h[0].fourCc, h[0].payloadOffset], [true, 1, 0, 'hvc1', 5]);
  assert.deepEqual([h[1].packetType, h[1].compositionTime, h[1].payloadOffset], [1, 33, 8]);
  assert.deepEqual([h[2].frameType, h[2].packetType, h[2].compositionTime, h[2].payloadOffset], [2, 3, undefined, 5]);
  assert.deepEqual([h[3].timestampOffsetNanos, h[3].packetType, h[3].fourCc, h[3].payloadOffset], [1000000, 3, 'hvc1', 10]);
  // A keyframe's SequenceStart is a config; ModEx-wrapped frames keep their role.
  assert.deepEqual(h.map((m) => m.role), ['config', 'keyframe', 'frame', 'frame']);

  // The live server relays them natively, byte-exact, the sequence start first.
  const live = await startLive();
  t.after(() => live.close());
  const url = `rtmp://127.0.0.1:${live.address().port}/live/hevc`;
  const player = new RtmpClient();
  await player.connect(url);
  await player.play();
  const relayed = [];
  player.on('video', (data) => relayed.push(Buffer.from(data)));
  const publisher = new RtmpClient();
  await publisher.connect(url);
  await publisher.publish();
  frames.forEach((f, i) => publisher.sendVideo(f, i * 40));
  while (relayed.length < frames.length) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(relayed, frames);
  await publisher.close();
  await player.close();
});

test('an aggregate message reaches the handlers as its sub-messages, each with its timestamp', async (t) => {
  const ingest = await startIngestServer();
  t.after(() => ingest.close());
  const client = new RtmpClient();
  await client.connect(`rtmp://127.0.0.1:${ingest.port}/live/agg`);
  await client.publish();
  client.session.sendAggregate([
    { type: 9, timestamp: 2000, data: Buffer.from([0x17, 0x01, 0, 0, 0, 0xaa]) },
    { type: 8, timestamp: 2023, data: Buffer.from([0xaf, 0x01, 0xbb]) },
  ], client.streamId);
  while (ingest.messages.filter((m) => m.type === 'audio' || m.type === 'video').length < 2) await new Promise((r) => setTimeout(r, 10));
  const got = ingest.messages.filter((m) => m.type === 'audio' || m.type === 'video').map((m) => [m.type, m.timestamp, [...m.data]]);
  assert.deepEqual(got, [['video', 2000, [0x17, 0x01, 0, 0, 0, 0xaa]], ['audio', 2023, [0xaf, 0x01, 0xbb]]]);
  assert.ok(!ingest.messages.some((m) => m.type === 'agg'));
  await client.close();
});
