// Play and relay through the live example server (examples/server.js, a child
// process): FFmpeg publishes; FFmpeg players and the package's own client play.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { makeFlv, publish, record, probeFrames } from './helpers/ffmpeg.mjs';
import { isKeyframe, readFlv } from './helpers/flv.mjs';
import { connectClient, play, publishName } from './helpers/rtmp-client.mjs';
import { runCommand, startListeningServer } from './helpers/process.mjs';
import { toolSkip, which } from './helpers/tools.mjs';

const require = createRequire(import.meta.url);
const { createLiveServer } = require('../examples/server.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const serverPath = path.join(here, '..', 'examples', 'server.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let flv;
let server;
let port;

before(async () => {
  flv = await makeFlv(path.join(fixtures, 'relay.flv'), { seconds: 8, fps: 25, gop: 25 });
  ({ child: server, port } = await startListeningServer(process.execPath, [serverPath], { env: { RTMP_QUIET: '1' } }));
});

after(() => server.kill());

/** Checks a player's recording: keyframe first, audio, ordered timestamps, decodable. */
async function assertPlayable(file) {
  const { tags } = readFlv(file);
  const video = tags.filter((t) => t.type === 9 && t.data[1] !== 0);
  const audio = tags.filter((t) => t.type === 8 && t.data[1] !== 0);
  assert.ok(video.length >= 40, `${file}: ${video.length} video frames`);
  assert.ok(audio.length >= 40, `${file}: ${audio.length} audio frames`);
  assert.ok(isKeyframe(video[0]), `${file} starts on a keyframe`);
  for (const list of [video, audio]) {
    for (let i = 1; i < list.length; i++) assert.ok(list[i].timestamp >= list[i - 1].timestamp, `${file}: timestamps in order`);
  }
  const { frames, errors } = await probeFrames(file);
  assert.equal(errors.trim(), '', `${file}: ffprobe decodes without errors`);
  assert.ok(frames.video >= 40 && frames.audio >= 40, `${file}: decoded ${JSON.stringify(frames)}`);
}

test('three FFmpeg players that join late each record a playable stream', async () => {
  const url = `rtmp://127.0.0.1:${port}/live/three`;
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000 });
  const players = [];
  for (let i = 0; i < 3; i++) {
    await sleep(i === 0 ? 1500 : 1000);
    const out = path.join(fixtures, `player-${i}.flv`);
    players.push(record(url, out, { seconds: 2, timeoutMs: 20000 }).then((r) => ({ ...r, out })));
  }
  for (const r of await Promise.all(players)) {
    assert.equal(r.code, 0, r.stderr);
    await assertPlayable(r.out);
  }
  assert.equal((await publishing).code, 0);
});

test('a late player gets metadata, configs and a keyframe at once, on its own stream id', async (t) => {
  const url = `rtmp://127.0.0.1:${port}/live/fast`;
  const stop = new AbortController();
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
  // A player from the start shows how far the stream has come (media time, not wall clock).
  const watcher = await connectClient(port, 'live');
  play(watcher, 'fast');
  const client = await connectClient(port, 'live');
  // Ask for a stream id other than 1 to prove media follows the player's own id.
  client.session.sendCommand({ cmd: 'createStream', transId: 3, cmdObj: null });
  const second = await client.waitFor((m) => m.type === 'amf0cmd' && m.msg.transId === 3);
  client.streamId = second.msg.info;
  assert.equal(client.streamId, 2);
  // Join 300 ms into a GOP (1 s long): the next keyframe is 700 ms of media away.
  const gop = await watcher.waitFor((m) => isKeyframe(m) && m.timestamp >= 1000, 10000);
  await watcher.waitFor((m) => m.type === 'video' && m.timestamp >= gop.timestamp + 300, 10000);
  const edge = Math.max(...watcher.messages.filter((m) => m.type === 'video').map((m) => m.timestamp));
  const sentAt = play(client, 'fast');
  const key = await client.waitFor(isKeyframe, 5000);
  const delay = key.at - sentAt;
  t.diagnostic(`first keyframe ${delay.toFixed(1)} ms after play, at ${key.timestamp} ms of media; the stream was at ${edge} ms`);
  // At once: a keyframe the relay already had (the cached GOP's), not the next one.
  assert.ok(key.timestamp <= edge, `first keyframe at ${key.timestamp} ms of media, after the ${edge} ms the stream was at on play`);
  // Wall clock only as a sanity bound, far above the few ms it takes (the next keyframe is
  // what the media-time check above rules out).
  assert.ok(delay < 2000, `first keyframe ${delay.toFixed(1)} ms after play`);
  watcher.sock.destroy();
  const media = client.messages.filter((m) => ['audio', 'video', 'amf0meta'].includes(m.type) && m.msg.cmd !== '|RtmpSampleAccess');
  assert.equal(media[0].type, 'amf0meta');
  assert.equal(media[0].msg.cmd, 'onMetaData');
  assert.ok(media.every((m) => m.msgStreamId === client.streamId), 'media on the player\'s message stream id');
  const firstVideo = media.find((m) => m.type === 'video');
  assert.equal(firstVideo.data[1], 0, 'the AVC sequence header comes first');
  const statuses = client.messages.filter((m) => m.msg.cmd === 'onStatus').map((m) => m.msg.info.code);
  assert.deepEqual(statuses.slice(0, 2), ['NetStream.Play.Reset', 'NetStream.Play.Start']);
  client.sock.destroy();
  stop.abort();
  await publishing;
});

test('a player waiting before the publisher gets the stream when it starts; unpublish ends it', async () => {
  const client = await connectClient(port, 'live');
  play(client, 'later');
  await client.waitFor((m) => m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.Start');
  const short = await makeFlv(path.join(fixtures, 'short.flv'), { seconds: 2, fps: 25, gop: 25 });
  const publishing = publish(`rtmp://127.0.0.1:${port}/live/later`, short, { realtime: true, timeoutMs: 20000 });
  await client.waitFor((m) => m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.PublishNotify');
  await client.waitFor(isKeyframe, 5000);
  assert.equal((await publishing).code, 0);
  await client.waitFor((m) => m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.UnpublishNotify');
  assert.ok(client.messages.some((m) => m.type === 'userControl' && m.msg.eventType === 1 && m.msg.streamId === client.streamId), 'StreamEOF');
  client.sock.destroy();
});

test('an audio-only stream reaches a player that joins it late (nothing to wait for a keyframe of)', async () => {
  const radio = await makeFlv(path.join(fixtures, 'audio-only.flv'), { seconds: 4, video: false });
  const url = `rtmp://127.0.0.1:${port}/live/radio`;
  const publishing = publish(url, radio, { realtime: true, timeoutMs: 20000 });
  await sleep(1200);
  const client = await connectClient(port, 'live');
  play(client, 'radio');
  const isAacFrame = (m) => m.type === 'audio' && m.data[0] >> 4 === 10 && m.data[1] === 1;
  let frames = 0;
  await client.waitFor((m) => isAacFrame(m) && ++frames >= 20, 5000);
  assert.ok(!client.messages.some((m) => m.type === 'video'), 'no video in an audio-only stream');
  client.sock.destroy();
  assert.equal((await publishing).code, 0);
});

test('LiveStream options out of range throw a TypeError', () => {
  const { LiveStream } = require('../index.js');
  for (const options of [{ mergeWritesMs: -1 }, { mergeWritesMs: 5001 }, { mergeWritesMs: 1.5 }, { flvMergeWritesMs: -1 }, { flvMergeWritesMs: 5001 }, { gopCacheBytes: '1' }]) {
    assert.throws(() => new LiveStream('x', options), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE', JSON.stringify(options));
  }
  assert.equal(new LiveStream('x', { mergeWritesMs: 0, flvMergeWritesMs: 0, gopCacheBytes: 0 }).stats().players, 0);
});

test('a second publisher on a busy key is refused with NetStream.Publish.BadName', async () => {
  const url = `rtmp://127.0.0.1:${port}/live/busy`;
  const stop = new AbortController();
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
  await sleep(1000);
  const client = await connectClient(port, 'live');
  const status = await publishName(client, 'busy');
  assert.equal(status.msg.info.level, 'error');
  assert.equal(status.msg.info.code, 'NetStream.Publish.BadName');
  client.sock.destroy();
  stop.abort();
  await publishing;
});

test('a stalled player is bounded while another player receives everything in time', async () => {
  // In-process, to watch the stalled session's send queue.
  // The limit is well below what the stream sends in the test (~9 MB), once the kernel's
  // socket buffers of the stalled player (several MB on loopback) are full.
  const live = createLiveServer({ quiet: true, sendQueueLimit: 1024 * 1024 });
  const sessions = [];
  live.on('connection', (_sock, session) => sessions.push(session));
  live.listen(0, '127.0.0.1');
  await once(live, 'listening');
  const livePort = live.address().port;
  const heavy = await makeFlv(path.join(fixtures, 'heavy.flv'), { seconds: 6, width: 640, height: 360, fps: 25, gop: 25, videoBitrate: '12M', noise: 12 });
  const url = `rtmp://127.0.0.1:${livePort}/live/stall`;
  const stalled = await connectClient(livePort, 'live');
  play(stalled, 'stall');
  await stalled.waitFor((m) => m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.Start');
  stalled.sock.pause();
  const stalledSession = sessions.find((s) => s.sock.remotePort === stalled.sock.localPort);
  const publishing = publish(url, heavy, { realtime: true, timeoutMs: 30000 });
  await sleep(700);
  const out = path.join(fixtures, 'stall-fast-player.flv');
  const recording = record(url, out, { seconds: 4, timeoutMs: 20000 });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, stalledSession.queuedBytes);
  }, 20);
  const r = await recording;
  clearInterval(sampler);
  assert.equal(r.code, 0, r.stderr);
  const video = readFlv(out).tags.filter((t) => t.type === 9 && t.data[1] !== 0);
  const span = video[video.length - 1].timestamp - video[0].timestamp;
  assert.ok(span >= 2500, `the other player recorded ${span} ms`);
  const stamps = new Set(video.map((t) => t.timestamp));
  assert.equal(stamps.size, span / 40 + 1, 'the other player got every frame (25 fps) of what it recorded');
  assert.ok(stalledSession.dropped.video > 0, 'video was dropped for the stalled player');
  assert.ok(peak <= 3 * 1024 * 1024, `stalled player's queue peaked at ${peak} bytes`);
  console.log(`# stalled player: queue peak ${peak} bytes, dropped ${JSON.stringify(stalledSession.dropped)}`);
  stalled.sock.destroy();
  await publishing;
  live.close();
});

for (const [tool, args] of [
  ['rtmpdump', (url, out) => ['-q', '-v', '-r', url, '-o', out, '-B', '3']],
  ['gst-launch-1.0', (url, out) => ['-q', 'rtmp2src', `location=${url}`, 'num-buffers=150', '!', 'filesink', `location=${out}`]],
]) {
  const found = which(tool);
  test(`${tool} plays the stream from a keyframe`, { skip: toolSkip(!found && `${tool} is not installed (.ci/run installs it: apt-get install rtmpdump gstreamer1.0-tools gstreamer1.0-plugins-bad)`) }, async () => {
    const key = tool.replace(/\W/g, '');
    const url = `rtmp://127.0.0.1:${port}/live/${key}`;
    const stop = new AbortController();
    const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
    await sleep(1500);
    const out = path.join(fixtures, `${key}.flv`);
    const r = await runCommand(found, args(url, out), { timeoutMs: 15000 });
    stop.abort();
    await publishing;
    assert.equal(r.code, 0, r.stderr);
    const video = readFlv(out).tags.filter((t) => t.type === 9 && t.data[1] !== 0);
    assert.ok(video.length >= 25, `${tool} got ${video.length} video frames`);
    assert.ok(isKeyframe(video[0]), `${tool}'s recording starts on a keyframe`);
  });
}
