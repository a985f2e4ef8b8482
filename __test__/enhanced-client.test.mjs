// Enhanced RTMP v2 negotiation and reconnect request (veovera enhanced-rtmp-v2,
// "Enhancing NetConnection connect Command", "Reconnect Request") between RtmpClient,
// servers on the low-level API (session.acceptConnect, session.requestReconnect),
// the live server and FFmpeg.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { makeFlv, modernFfmpegPath, modernFfmpegSkip, probeFrames, record } from './helpers/ffmpeg.mjs';
import { freePort } from './helpers/process.mjs';

const require = createRequire(import.meta.url);
const { RtmpClient, rtmpServer, readFlv, enhanced } = require('../index.js');
const { createLiveServer } = require('../examples/server.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const digest = (b) => createHash('sha1').update(b).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let flv;

before(async () => {
  // 5 s of H.264 + AAC, a keyframe every second.
  flv = await makeFlv(path.join(fixtures, 'enhanced-client.flv'), { seconds: 5, fps: 25, gop: 25 });
});

/**
 * A server on the low-level API: answers connect with session.acceptConnect (the
 * `_result` it sends is captured), takes publishers and records what they send, per
 * session. `onPublish(session, record)` runs once a publisher is started.
 */
async function startOrigin({ onPublish } = {}) {
  const sessions = [];
  const server = rtmpServer().createServer((session) => {
    const rec = { session, connect: null, caps: null, sent: [], media: [], publish: null, closed: false, errors: [] };
    sessions.push(rec);
    const send = session.sendCommand.bind(session);
    session.sendCommand = (cmd, opts) => {
      rec.sent.push(cmd);
      return send(cmd, opts);
    };
    session.on('error', (e) => rec.errors.push(e));
    session.on('close', () => {
      rec.closed = true;
    });
    session.msg.loop((c) => {
      const { msgTypeText: type, data, timestamp } = c.chunk;
      if (type === 'audio' || type === 'video' || type === 'amf0meta') rec.media.push({ type, data: Buffer.from(data), timestamp, msg: type === 'amf0meta' ? null : { ...c.chunk.msg } });
    }, {
      amf0cmd(c) {
        const m = c.chunk.msg;
        const reply = (cmdObj, info) => session.sendCommand({ cmd: '_result', transId: m.transId, cmdObj, info });
        if (m.cmd === 'connect') {
          rec.connect = m.cmdObj;
          rec.caps = session.acceptConnect(m);
        } else if (m.cmd === 'releaseStream' || m.cmd === 'FCPublish') {
          reply(null, undefined);
        } else if (m.cmd === 'createStream') {
          reply(null, 1);
        } else if (m.cmd === 'publish') {
          rec.publish = m.name;
          session.sendStatus(c.chunk.msgStreamId, { code: 'NetStream.Publish.Start', description: m.name });
          if (onPublish) onPublish(session, rec);
        }
      },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    sessions,
    close: async () => {
      const done = once(server, 'close');
      server.close();
      await done;
    },
  };
}

/** Waits until `check()` is truthy (polling), failing after `ms`. */
async function until(check, ms, what) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Publishes the fixture's tags at real-time pace with `client` (as `rtmpapi publish` does). */
async function publishPaced(client, tags) {
  const started = Date.now();
  for (const tag of tags) {
    const wait = started + tag.timestamp - Date.now();
    if (wait > 0) await sleep(wait);
    if (!client.sendTag(tag)) await client.drain();
  }
  await client.drain();
}

/** The first video/audio message roles of a recorded session: 'config', 'key', 'frame', 'meta'. */
function roles(media) {
  return media.map((m) => {
    if (m.type === 'amf0meta') return 'meta';
    if (m.type === 'video') return m.msg.avcPacketType === 0 ? 'video-config' : m.msg.frameType === 1 ? 'key' : 'frame';
    return m.msg.aacPacketType === 0 ? 'audio-config' : 'audio';
  });
}

test('RtmpClient announces Enhanced RTMP caps and reads the server\'s answer; acceptConnect answers them', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const url = `rtmp://127.0.0.1:${origin.port}/live/caps`;

  const client = new RtmpClient({ enhanced: true });
  const info = await client.connect(url);
  assert.equal(info.code, 'NetConnection.Connect.Success');
  const seen = origin.sessions[0].caps;
  assert.equal(seen.enhanced, true);
  assert.deepEqual(seen.fourCcList, [...enhanced.VIDEO_FOURCCS]);
  assert.equal(seen.videoFourCcInfoMap.hvc1, enhanced.FOURCC_CAN.forward);
  assert.equal(seen.audioFourCcInfoMap.Opus, enhanced.FOURCC_CAN.forward);
  assert.equal(seen.capsEx, enhanced.CAPS_EX.reconnect | enhanced.CAPS_EX.multitrack | enhanced.CAPS_EX.modEx);
  assert.equal(client.serverCaps.enhanced, true);
  assert.deepEqual(Object.keys(client.serverCaps.videoFourCcInfoMap), [...enhanced.VIDEO_FOURCCS]);
  assert.deepEqual(Object.keys(client.serverCaps.audioFourCcInfoMap), [...enhanced.AUDIO_FOURCCS]);
  assert.equal(client.serverCaps.capsEx, 7);
  // The _result went out with the answer in its command object, next to fmsVer.
  const result = origin.sessions[0].sent.find((c) => c.cmd === '_result');
  assert.equal(result.cmdObj.fmsVer, 'FMS/3,0,1,123');
  assert.equal(result.info.code, 'NetConnection.Connect.Success');
  await client.close();

  // What the client asks for narrows the answer: one codec, capsEx Reconnect only.
  const narrow = new RtmpClient({ enhanced: { videoFourCcInfoMap: { hvc1: enhanced.FOURCC_CAN.decode }, audioFourCcInfoMap: {}, capsEx: enhanced.CAPS_EX.reconnect } });
  await narrow.connect(url);
  assert.deepEqual(origin.sessions[1].caps.fourCcList, ['hvc1']);
  assert.deepEqual(narrow.serverCaps.videoFourCcInfoMap, { hvc1: enhanced.FOURCC_CAN.forward });
  assert.deepEqual(narrow.serverCaps.audioFourCcInfoMap, {});
  assert.equal(narrow.serverCaps.capsEx, enhanced.CAPS_EX.reconnect);
  await narrow.close();

  // A legacy client announces nothing and gets no caps back.
  const legacy = new RtmpClient();
  await legacy.connect(url);
  assert.equal(origin.sessions[2].caps.enhanced, false);
  assert.equal('videoFourCcInfoMap' in origin.sessions[2].connect, false);
  assert.equal(legacy.serverCaps.enhanced, false);
  assert.equal('videoFourCcInfoMap' in origin.sessions[2].sent.find((c) => c.cmd === '_result').cmdObj, false);
  await legacy.close();

  assert.throws(() => new RtmpClient({ enhanced: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('FFmpeg 9 announcing HEVC and Opus gets them answered in the _result and publishes HEVC/Opus', { skip: modernFfmpegSkip() }, async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const ffmpeg = spawn(modernFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '1', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-c:a', 'libopus',
    '-rtmp_enhanced_codecs', 'hvc1,Opus', '-f', 'flv', `rtmp://127.0.0.1:${origin.port}/live/ff9`]);
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), 60_000);
  const [code] = await once(ffmpeg, 'close');
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  const rec = origin.sessions[0];
  assert.deepEqual(rec.caps.fourCcList, ['hvc1', 'Opus']);
  const result = rec.sent.find((c) => c.cmd === '_result');
  assert.deepEqual(result.cmdObj.videoFourCcInfoMap, { hvc1: enhanced.FOURCC_CAN.forward });
  assert.deepEqual(result.cmdObj.audioFourCcInfoMap, { Opus: enhanced.FOURCC_CAN.forward });
  assert.deepEqual([...result.cmdObj.fourCcList], ['hvc1']);
  assert.equal(result.cmdObj.capsEx, 7);
  const video = rec.media.filter((m) => m.type === 'video' && m.msg.fourCc === 'hvc1');
  const audio = rec.media.filter((m) => m.type === 'audio' && m.msg.fourCc === 'Opus');
  assert.ok(video.some((m) => m.msg.packetType === 0) && video.filter((m) => m.msg.packetType !== 0).length >= 20, `HEVC frames: ${video.length}`);
  assert.ok(audio.some((m) => m.msg.packetType === 0) && audio.length >= 40, `Opus frames: ${audio.length}`);
});

test('a publisher follows a reconnect request to another server: the rest from a keyframe, after metadata and configs', async (t) => {
  // B: the live server; an FFmpeg player waits there before the publisher arrives.
  const bMedia = [];
  const b = createLiveServer({
    quiet: true,
    emitMedia: true,
    onStream: (stream) => stream.on('publish', (session) => {
      session.on('video', (m, c) => bMedia.push({ type: 'video', data: Buffer.from(c.chunk.data), msg: { ...m } }));
      session.on('audio', (m, c) => bMedia.push({ type: 'audio', data: Buffer.from(c.chunk.data), msg: { ...m } }));
      session.on('data', (_m, c) => bMedia.push({ type: 'amf0meta', data: Buffer.from(c.chunk.data) }));
    }),
  });
  b.listen(0, '127.0.0.1');
  await once(b, 'listening');
  t.after(() => b.close());
  const bUrl = `rtmp://127.0.0.1:${b.address().port}/live`;
  // A asks its publisher to move to B a second into the stream, and keeps taking
  // its media until it leaves.
  const a = await startOrigin({
    onPublish: (session) => setTimeout(() => session.requestReconnect({ tcUrl: bUrl, description: 'moving to B' }), 1000),
  });
  t.after(() => a.close());

  const played = path.join(fixtures, 'enhanced-reconnect-played.flv');
  const player = record(`${bUrl}/moved`, played, { seconds: 1.5, timeoutMs: 30_000 });

  const client = new RtmpClient({ enhanced: true });
  const errors = [];
  const events = [];
  client.on('error', (e) => errors.push(e));
  client.on('close', () => events.push('close'));
  client.on('reconnect', (r) => events.push(r));
  await client.connect(`rtmp://127.0.0.1:${a.port}/live/moved`);
  await client.publish();
  const { tags } = readFlv(flv);
  await publishPaced(client, tags);

  assert.deepEqual(errors, []);
  assert.deepEqual(events, [{ tcUrl: bUrl }]);
  assert.equal(client.url.tcUrl, bUrl);
  const aRec = a.sessions[0];
  await until(() => aRec.closed, 5000, 'the client to leave A');
  await client.close();

  // B got the stream from a keyframe, with the metadata and both configs first.
  const bRoles = roles(bMedia);
  const firstKey = bRoles.indexOf('key');
  assert.deepEqual(bRoles.slice(0, firstKey).sort(), ['audio-config', 'meta', 'video-config']);
  assert.equal(bRoles[0], 'meta');
  // Nothing was lost: what A got up to the switch and what B got after it are the file's media.
  for (const type of ['video', 'audio']) {
    const sent = tags.filter((tg) => tg.type === (type === 'video' ? 9 : 8)).map((tg) => digest(tg.data));
    const atA = aRec.media.filter((m) => m.type === type).map((m) => digest(m.data));
    const atB = bMedia.filter((m) => m.type === type).map((m) => digest(m.data)).slice(1); // the config sent again
    assert.ok(atA.length > 0 && atB.length > 0);
    assert.deepEqual([...atA, ...atB], sent, `${type}: A's part then B's part`);
  }

  const { code, stderr } = await player;
  assert.equal(code, 0, stderr);
  const { frames, errors: decodeErrors } = await probeFrames(played);
  assert.equal(decodeErrors, '');
  assert.ok(frames.video >= 25 && frames.audio >= 25, JSON.stringify(frames));
});

test('a relative reconnect tcUrl resolves against the current one; a server that leaves at once loses only frames up to a keyframe', async (t) => {
  const origin = await startOrigin({
    // A server shutting down: ask to move to another application of this host, then go.
    onPublish: (session, rec) => {
      if (rec.connect.app !== 'live') return;
      setTimeout(() => {
        session.requestReconnect({ tcUrl: '/backup' });
        session.end();
      }, 500);
    },
  });
  t.after(() => origin.close());
  const client = new RtmpClient();
  const errors = [];
  const events = [];
  client.on('error', (e) => errors.push(e));
  client.on('close', () => events.push('close'));
  client.on('reconnect', (r) => events.push(r));
  await client.connect(`rtmp://127.0.0.1:${origin.port}/live/name?key=1`);
  await client.publish();
  await publishPaced(client, readFlv(flv).tags.slice(0, 200)); // ~3 s
  const backupUrl = `rtmp://127.0.0.1:${origin.port}/backup`;
  assert.deepEqual(errors, []);
  assert.deepEqual(events, [{ tcUrl: backupUrl }]);
  const backup = origin.sessions[1];
  assert.equal(backup.connect.app, 'backup');
  assert.equal(backup.connect.tcUrl, backupUrl);
  assert.equal(backup.publish, 'name?key=1');
  const r = roles(backup.media);
  assert.deepEqual(r.slice(0, 4), ['meta', 'video-config', 'audio-config', 'key']);
  await client.close();
  await until(() => backup.closed, 5000, 'the backup session to close');
});

test('a reconnect request that cannot be followed is an ERR_RTMP_RECONNECT error; the publication goes on', async (t) => {
  const nowhere = await freePort();
  const origin = await startOrigin({
    onPublish: (session) => session.requestReconnect({ tcUrl: `rtmp://127.0.0.1:${nowhere}/live` }),
  });
  t.after(() => origin.close());
  const client = new RtmpClient();
  await client.connect(`rtmp://127.0.0.1:${origin.port}/live/stay`);
  const failed = once(client, 'error', { signal: AbortSignal.timeout(10_000) });
  await client.publish();
  const [err] = await failed;
  assert.equal(err.code, 'ERR_RTMP_RECONNECT');
  assert.equal(err.cause.code !== undefined, true);
  client.sendVideo(Buffer.from([0x17, 0x01, 0, 0, 0, 0xaa]), 40);
  const rec = origin.sessions[0];
  await until(() => rec.media.some((m) => m.type === 'video'), 5000, 'the frame at the first server');
  assert.equal(client.url.port, origin.port);
  await client.close();
});
