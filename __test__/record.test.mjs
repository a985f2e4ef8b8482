// Native recording (stream.record): FFmpeg publishes fixtures to a minimal server built
// on the low-level API (rtmpServer + LiveStream); the files are checked tag by tag
// against the fixture, with lib/flv.js and with ffprobe.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeFlv, publish, ffprobePath } from './helpers/ffmpeg.mjs';
import { isKeyframe } from './helpers/flv.mjs';
import { publishServer } from './helpers/publish-server.mjs';

const require = createRequire(import.meta.url);
const { LiveStream, readFlv, amf } = require('../index.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const digest = (b) => createHash('sha1').update(b).digest('hex');

let dir;
let fixture;
let server;
let port;
/**
 * Streams by name; `beforePublish(stream)` runs as each publication starts, before
 * `setPublisher`: a recording started there has the publication from its first message.
 */
const streams = new Map();
let beforePublish = () => {};

const startServer = () => publishServer(streams, (stream) => beforePublish(stream));

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rtmpapi-record-'));
  fixture = await makeFlv(path.join(fixtures, 'record.flv'), { seconds: 4, fps: 25, gop: 25 });
  server = startServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = server.address().port;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `type:timestamp:sha1` of every audio and video tag. */
const mediaTags = (tags) => tags.filter((t) => t.type === 8 || t.type === 9).map((t) => `${t.type}:${t.timestamp}:${digest(t.data)}`);

/** The onMetaData of a file's first tag. */
function metadataOf(tags) {
  assert.equal(tags[0].type, 18, 'the file starts with a script data tag');
  const [name, props] = amf.amf0Decode(tags[0].data);
  assert.equal(name, 'onMetaData');
  return props;
}

function ffprobe(file) {
  const probe = ffprobePath();
  assert.ok(probe, 'ffprobe is installed');
  const r = spawnSync(probe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { ...JSON.parse(r.stdout), errors: r.stderr };
}

test('a publication is recorded natively, tag for tag, and finalized when the publisher leaves', async () => {
  const file = path.join(dir, 'whole.flv');
  let recording;
  beforePublish = (stream) => { if (stream.name === 'whole') recording = stream.record(file); };
  const r = await publish(`rtmp://127.0.0.1:${port}/live/whole`, fixture, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(recording, 'recording started on publish');
  const [info] = recording.closed ? [await recording.stop()] : await once(recording, 'close');
  assert.equal(info.error, undefined);
  assert.equal(info.path, file);
  assert.deepEqual(info.dropped, { video: 0, audio: 0 });

  const size = statSync(file).size;
  assert.equal(info.bytes, size);
  const got = readFlv(file);
  const want = readFlv(fixture);
  assert.ok(got.hasAudio && got.hasVideo, 'header flags: audio and video');
  assert.deepEqual(mediaTags(got.tags), mediaTags(want.tags), 'every audio/video tag, byte for byte, at its timestamp');
  assert.ok(mediaTags(want.tags).length > 150);

  const meta = metadataOf(got.tags);
  const fixtureMeta = metadataOf(want.tags);
  assert.equal(meta.filesize, size, 'filesize in the metadata');
  assert.ok(Math.abs(meta.duration - fixtureMeta.duration) < 0.1, `duration ${meta.duration} s, the fixture's ${fixtureMeta.duration} s`);
  assert.equal(info.durationMs, Math.round(meta.duration * 1000));
  assert.equal(meta.width, 320, 'the publisher\'s properties are kept');
  assert.ok(!got.tags.slice(1).some((t) => t.type === 18 && t.data.includes('onMetaData')), 'one onMetaData');

  const probed = ffprobe(file);
  assert.equal(probed.errors, '');
  assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(Math.abs(Number(probed.format.duration) - fixtureMeta.duration) < 0.15, `ffprobe duration ${probed.format.duration}`);
});

test('a recording started mid-stream starts with configs then a keyframe; stop() finalizes it', async () => {
  const file = path.join(dir, 'mid.flv');
  let stream;
  beforePublish = (s) => { if (s.name === 'mid') stream = s; };
  const publishing = publish(`rtmp://127.0.0.1:${port}/live/mid`, fixture, { realtime: true, timeoutMs: 30000 });
  await sleep(1500);
  assert.ok(stream?.publisher, 'publishing');
  const recording = stream.record(file);
  await sleep(1000);
  const info = await recording.stop();
  assert.ok(recording.closed);
  assert.equal(info.error, undefined);
  assert.equal(await recording.stop(), info, 'stop() again resolves the same');

  const { tags } = readFlv(file);
  const meta = metadataOf(tags);
  assert.equal(meta.filesize, statSync(file).size);
  const media = tags.filter((t) => t.type === 8 || t.type === 9);
  // The AVC sequence header (AVCPacketType 0) and the AAC AudioSpecificConfig first.
  const configs = media.slice(0, 2).map((t) => `${t.type}:${t.data[1]}`).sort();
  assert.deepEqual(configs, ['8:0', '9:0'], 'decoder configurations first');
  const firstVideo = media.find((t) => t.type === 9 && t.data[1] !== 0);
  assert.ok(isKeyframe(firstVideo), 'the first video frame is a keyframe');
  assert.ok(firstVideo.timestamp >= 500, `started mid-stream (at ${firstVideo.timestamp} ms)`);
  assert.ok(media.every((t) => t.timestamp >= firstVideo.timestamp), 'nothing before the keyframe');
  // Every tag recorded is the fixture's own, in the fixture's order from the keyframe.
  const want = mediaTags(readFlv(fixture).tags);
  const from = want.indexOf(mediaTags([firstVideo])[0]);
  const recorded = mediaTags(media.slice(2));
  assert.deepEqual(recorded, want.slice(from, from + recorded.length));
  assert.ok(info.durationMs >= 500, `${info.durationMs} ms recorded`);
  const probed = ffprobe(file);
  assert.deepEqual(probed.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  assert.equal((await publishing).code, 0);
});

test('a recording to a bad path emits ERR_RTMP_RECORD and the stream goes on', async () => {
  const bad = path.join(dir, 'no-such-dir', 'x.flv');
  const good = path.join(dir, 'beside.flv');
  const outcomes = [];
  beforePublish = (stream) => {
    if (stream.name !== 'bad') return;
    for (const file of [bad, good, ...(existsSync('/dev/full') ? ['/dev/full'] : [])]) {
      const recording = stream.record(file);
      const errors = [];
      recording.on('error', (err) => errors.push(err));
      // Not events.once: it rejects on 'error', which comes before 'close' here.
      outcomes.push(new Promise((resolve) => recording.on('close', (info) => resolve({ file, info, errors }))));
    }
  };
  const r = await publish(`rtmp://127.0.0.1:${port}/live/bad`, fixture, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const [missing, beside, full] = await Promise.all(outcomes);
  assert.equal(missing.errors.length, 1);
  assert.equal(missing.errors[0].code, 'ERR_RTMP_RECORD');
  assert.match(missing.errors[0].message, /no-such-dir/);
  assert.equal(missing.info.error, missing.errors[0]);
  assert.equal(beside.errors.length, 0, 'the other recording of the stream is unaffected');
  assert.deepEqual(mediaTags(readFlv(good).tags), mediaTags(readFlv(fixture).tags));
  if (full) {
    assert.equal(full.errors[0]?.code, 'ERR_RTMP_RECORD', '/dev/full: no space left');
    assert.match(full.errors[0].message, /space/i);
  } else if (process.env.CI === 'true') {
    assert.fail('/dev/full is missing');
  }
  assert.throws(() => new LiveStream('x').record(''), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
  assert.throws(() => new LiveStream('x').record('a.flv', { queueLimit: -1 }), TypeError);
});

test('a slow disk is bounded: video is dropped to the next keyframe, counted, never queued without limit', async () => {
  // A FIFO nobody reads until the publication is over: the disk that never keeps up.
  const fifo = path.join(dir, 'slow.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const queueLimit = 64 * 1024;
  const stream = new LiveStream('slow');
  streams.set('slow', stream);
  beforePublish = () => {};
  const recording = stream.record(fifo, { queueLimit });
  // Listened for now: with much dropped, what is left can fit in the pipe, and the
  // recording then ends before the disk resumes.
  const closed = once(recording, 'close');
  // The disk takes the file's first 16 KiB (header, metadata, configurations, the first
  // keyframe), then stalls until the publication is over.
  const reader = createReadStream(fifo, { highWaterMark: 1024 });
  const chunks = [];
  let taken = 0;
  const stalled = new Promise((resolve) => {
    const onData = (c) => {
      chunks.push(c);
      taken += c.length;
      if (taken < 16 * 1024) return;
      reader.pause();
      reader.off('data', onData);
      resolve();
    };
    reader.on('data', onData);
  });
  await once(reader, 'open'); // the recorder has its end open too
  // In real time (4 s): the first keyframe reaches the disk before the queue can fill.
  // Published at full speed, the whole first GOP could arrive before the recorder's
  // first write and be dropped from the queue by the policy, keyframe and all.
  const r = await publish(`rtmp://127.0.0.1:${port}/live/slow`, fixture, { realtime: true, timeoutMs: 30000 });
  await Promise.race([stalled, sleep(10_000).then(() => assert.fail(`the disk got ${taken} bytes, not 16 KiB`))]);
  assert.equal(r.code, 0, r.stderr);
  await sleep(100);
  // Held for the disk meanwhile: at most twice the limit (audio) plus configurations.
  const { queuedBytes } = recording.stats();
  assert.ok(queuedBytes <= 2 * queueLimit + 4096, `${queuedBytes} bytes held for the disk`);

  reader.on('data', (c) => chunks.push(c));
  reader.resume(); // after pause(), a 'data' listener alone does not start the flow
  const [[info]] = await Promise.all([closed, once(reader, 'end')]);
  assert.equal(info.error, undefined, 'a pipe is left as streamed, not an error');
  const got = readFlv(Buffer.concat(chunks));
  const want = readFlv(fixture).tags;
  for (const type of [8, 9]) {
    const sent = want.filter((t) => t.type === type).length;
    const kept = got.tags.filter((t) => t.type === type).length;
    assert.equal(kept + info.dropped[type === 8 ? 'audio' : 'video'], sent, `type ${type}: recorded + dropped = published`);
  }
  // What is kept of the pictures (AVC NALU tags): each one that is not a keyframe
  // follows its own predecessor (nothing it depends on is missing).
  const pictures = want.filter((t) => t.type === 9 && t.data[1] === 1);
  const kept = new Set(mediaTags(got.tags.filter((t) => t.type === 9)));
  const keptPictures = pictures.map((t) => kept.has(mediaTags([t])[0]));
  for (let i = 1; i < pictures.length; i++) {
    if (keptPictures[i] && !isKeyframe(pictures[i])) assert.ok(keptPictures[i - 1], `picture ${i} kept without the one before it`);
  }
  // The first keyframe reached the disk before it stalled; most pictures cannot fit.
  const keptCount = keptPictures.filter(Boolean).length;
  console.log(`slow disk: ${keptCount} of ${pictures.length} pictures kept, ${info.dropped.video} video and ${info.dropped.audio} audio frames dropped`);
  assert.ok(keptPictures[0], 'the first keyframe kept');
  assert.ok(info.dropped.video > 0, 'the slow disk made the recorder drop video');
  assert.ok(keptPictures.includes(false), 'some pictures dropped');
  assert.ok(info.dropped.video > 0);
  assert.ok(info.bytes < statSync(fixture).size, `${info.bytes} bytes written`);
});

test('a recording started with no publisher records the next publication', async () => {
  const file = path.join(dir, 'early.flv');
  const stream = new LiveStream('early');
  streams.set('early', stream);
  beforePublish = () => {};
  const recording = stream.record(file);
  await sleep(200);
  assert.equal(recording.closed, false, 'waits for a publisher');
  const r = await publish(`rtmp://127.0.0.1:${port}/live/early`, fixture, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const [info] = recording.closed ? [await recording.stop()] : await once(recording, 'close');
  assert.equal(info.error, undefined);
  assert.deepEqual(mediaTags(readFlv(file).tags), mediaTags(readFlv(fixture).tags));
});
