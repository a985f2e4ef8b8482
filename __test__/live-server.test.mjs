// The package's live server (createLiveServer) in-process: authorize without loss for
// a publisher that does not wait for replies, refusals, Prometheus metrics while FFmpeg
// publishes, graceful close, native warnings, one publication per session, close
// listeners, connection ids past 2^32; and RtmpClient's timeouts and drain.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish, record } from './helpers/ffmpeg.mjs';
import http from 'node:http';
import os from 'node:os';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connectClient, play } from './helpers/rtmp-client.mjs';

const require = createRequire(import.meta.url);
const { createLiveServer, LiveStream, RtmpClient, rtmpServer, rtmpSession, readFlv, enhanced } = require('../index.js');
const { SET_DATA_FRAME } = require('../lib/flv.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let flv;
let longFlv;

before(async () => {
  flv = await makeFlv(path.join(fixtures, 'live-server.flv'), { seconds: 4, fps: 25, gop: 25 });
  longFlv = await makeFlv(path.join(fixtures, 'live-server-long.flv'), { seconds: 12, fps: 25, gop: 25 });
});

async function listening(server, t) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  if (t) t.after(() => new Promise((resolve) => server.close(() => resolve())));
  return server.address().port;
}

/** Polls `check()` until truthy; resolves it, or rejects naming `what()`. */
async function waitFor(check, what, timeoutMs = 10000) {
  for (let waited = 0; waited < timeoutMs; waited += 20) {
    const value = check();
    if (value) return value;
    await sleep(20);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what()}`);
}

/**
 * A publisher that does not wait for any reply, as some encoders do: connect,
 * createStream, publish on message stream 1 and every tag of the file, written at
 * once after the handshake. Resolves the session and the statuses it gets.
 */
function eagerPublisher(port, app, name, tags) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', reject);
    const statuses = [];
    rtmpSession(sock, true, (session) => {
      session.on('command', (cmd) => {
        if (cmd.cmd === 'onStatus') statuses.push({ ...cmd.info, at: performance.now() });
      });
      session.sendCommand({ cmd: 'connect', transId: 1, cmdObj: { app, flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } });
      session.sendCommand({ cmd: 'createStream', transId: 2, cmdObj: null });
      session.sendCommand({ cmd: 'publish', transId: 0, cmdObj: null, name, type: 'live' }, { msgStreamId: 1, csid: 8 });
      const sentAt = performance.now();
      for (const tag of tags) {
        if (tag.type === 8) session.sendAudio(tag.data, tag.timestamp, 1);
        else if (tag.type === 9) session.sendVideo(tag.data, tag.timestamp, 1);
        else session.sendData(Buffer.concat([SET_DATA_FRAME, tag.data]), tag.timestamp, 1);
      }
      resolve({ session, sock, statuses, sentAt });
    });
  });
}

test('authorize taking 300 ms loses nothing a publisher sends without waiting: every frame reaches the player, none reaches JS', async (t) => {
  const server = createLiveServer({ quiet: true, authorize: async () => { await sleep(300); return true; } });
  let jsMedia = 0;
  server.on('connection', (_sock, session) => {
    session.on('audio', () => jsMedia++);
    session.on('video', () => jsMedia++);
  });
  const port = await listening(server, t);
  const player = new RtmpClient();
  t.after(() => player.close());
  await player.connect(`rtmp://127.0.0.1:${port}/live/eager`);
  await player.play();
  const got = { 8: [], 9: [] };
  player.on('audio', (data) => got[8].push(Buffer.from(data)));
  player.on('video', (data) => got[9].push(Buffer.from(data)));

  const { tags } = readFlv(flv);
  const sent = { 8: tags.filter((tg) => tg.type === 8), 9: tags.filter((tg) => tg.type === 9) };
  const publisher = await eagerPublisher(port, 'live', 'eager', tags);
  t.after(() => publisher.sock.destroy());
  await waitFor(() => got[9].length >= sent[9].length && got[8].length >= sent[8].length,
    () => `player got ${got[9].length}/${sent[9].length} video, ${got[8].length}/${sent[8].length} audio`);
  for (const type of [8, 9]) {
    assert.equal(got[type].length, sent[type].length);
    got[type].forEach((data, i) => assert.ok(data.equals(sent[type][i].data), `message ${i} of type ${type} arrived intact, in order`));
  }
  const start = publisher.statuses.find((s) => s.code === 'NetStream.Publish.Start');
  assert.ok(start, `the publisher was let in: ${JSON.stringify(publisher.statuses)}`);
  assert.ok(start.at - publisher.sentAt >= 250, 'after authorize took its time');
  assert.equal(publisher.sock.destroyed, false, 'and not disconnected');
  assert.equal(jsMedia, 0, 'no media was delivered to JS');
});

test('a refusal answers at once: NetStream.Publish.BadName for a publisher, NetStream.Play.Failed for a player; nothing is relayed', async (t) => {
  const server = createLiveServer({
    quiet: true,
    authorize: async ({ action, name, query }) => {
      if (name === 'slow-no' && action === 'publish') {
        await sleep(300);
        return false;
      }
      if (name === 'throws') throw new Error('database down');
      return action === 'play' ? name !== 'secret' : query.get('key') === 'k';
    },
  });
  const port = await listening(server, t);
  const watcher = new RtmpClient();
  t.after(() => watcher.close());
  await watcher.connect(`rtmp://127.0.0.1:${port}/live/slow-no`);
  await watcher.play();
  let relayed = 0;
  watcher.on('video', () => relayed++);
  const { tags } = readFlv(flv);
  for (const [name, minMs] of [['slow-no', 250], ['nokey', 0], ['throws', 0]]) {
    const p = await eagerPublisher(port, 'live', name, tags);
    t.after(() => p.sock.destroy());
    const refused = await waitFor(() => p.statuses.find((s) => s.level === 'error'), () => JSON.stringify(p.statuses), 3000);
    assert.equal(refused.code, 'NetStream.Publish.BadName', name);
    assert.ok(refused.at - p.sentAt >= minMs && refused.at - p.sentAt < minMs + 1000, `${name}: refused after ${refused.at - p.sentAt} ms`);
    assert.equal(p.statuses.some((s) => s.code === 'NetStream.Publish.Start'), false);
  }
  await sleep(300);
  assert.equal(relayed, 0, 'a refused publisher\'s media is not relayed');
  const player = new RtmpClient();
  t.after(() => player.close());
  await player.connect(`rtmp://127.0.0.1:${port}/live/secret`);
  await assert.rejects(player.play(), (err) => err.code === 'ERR_RTMP_PLAY' && err.info.code === 'NetStream.Play.Failed');
  // Its reading resumed: the same connection may still play what it is allowed to.
  await player.play('open');
});

/** Parses Prometheus text exposition, asserting its shape; returns the samples by name. */
function parseExposition(text) {
  const help = new Set();
  const types = new Map();
  const samples = new Map();
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.trimEnd().split('\n')) {
    let m;
    if ((m = /^# HELP ([a-z_]+) \S.*$/.exec(line))) help.add(m[1]);
    else if ((m = /^# TYPE ([a-z_]+) (gauge|counter)$/.exec(line))) types.set(m[1], m[2]);
    else if ((m = /^([a-z_]+)(?:\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$/.exec(line))) {
      const [, name, labelText = '', value] = m;
      assert.ok(help.has(name) && types.has(name), `${name} has # HELP and # TYPE before its samples`);
      assert.match(value, /^-?\d+(\.\d+)?(e[+-]?\d+)?$/, `${line}: a numeric value`);
      const labels = Object.fromEntries([...labelText.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      if (!samples.has(name)) samples.set(name, []);
      samples.get(name).push({ labels, value: Number(value) });
    } else assert.fail(`not Prometheus text format: ${JSON.stringify(line)}`);
  }
  for (const [name, type] of types) {
    assert.ok(help.has(name), `${name} has # HELP`);
    if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
  }
  return { types, samples, value: (name) => samples.get(name)?.[0]?.value };
}

test('metrics(): Prometheus text whose gauges and counters follow FFmpeg publishing and a player; stats() the same as JSON', async (t) => {
  const server = createLiveServer({ quiet: true });
  const port = await listening(server, t);
  const idle = parseExposition(server.metrics());
  for (const [name, type] of [['rtmpapi_connections', 'gauge'], ['rtmpapi_publishers', 'gauge'], ['rtmpapi_players', 'gauge'],
    ['rtmpapi_received_bytes_total', 'counter'], ['rtmpapi_sent_bytes_total', 'counter'], ['rtmpapi_dropped_messages_total', 'counter'],
    ['rtmpapi_stream_bitrate_bits_per_second', 'gauge']]) {
    assert.equal(idle.types.get(name), type, name);
  }
  assert.equal(idle.value('rtmpapi_connections'), 0);
  const url = `rtmp://127.0.0.1:${port}/live/metered`;
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000 });
  const player = new RtmpClient();
  t.after(() => player.close());
  await sleep(700);
  await player.connect(url);
  await player.play();
  await sleep(2000);
  const busy = parseExposition(server.metrics());
  assert.equal(busy.value('rtmpapi_connections'), 2);
  assert.equal(busy.value('rtmpapi_publishers'), 1);
  assert.equal(busy.value('rtmpapi_players'), 1);
  assert.ok(busy.value('rtmpapi_received_bytes_total') > 50000, `received ${busy.value('rtmpapi_received_bytes_total')}`);
  assert.ok(busy.value('rtmpapi_sent_bytes_total') > 20000, `sent ${busy.value('rtmpapi_sent_bytes_total')}`);
  const [rate] = busy.samples.get('rtmpapi_stream_bitrate_bits_per_second');
  assert.deepEqual(rate.labels, { app: 'live', name: 'metered' });
  // The fixture's bitrate as FFmpeg sends it in real time (headers included).
  const fileBps = (readFlv(flv).tags.reduce((n, tg) => n + tg.size, 0) * 8) / 4;
  assert.ok(rate.value > fileBps / 3 && rate.value < fileBps * 3, `stream bitrate ${rate.value} b/s, the file's ${fileBps}`);
  const stats = server.stats();
  assert.equal(stats.publishers, 1);
  assert.deepEqual(stats.streams.map((st) => [st.app, st.name, st.players, st.publishing]), [['live', 'metered', 1, true]]);
  assert.equal((await publishing).code, 0);
  await player.close();
  await waitFor(() => server.stats().connections === 0, () => JSON.stringify(server.stats()));
  const after = parseExposition(server.metrics());
  assert.equal(after.value('rtmpapi_publishers'), 0);
  assert.ok(after.value('rtmpapi_received_bytes_total') >= busy.value('rtmpapi_received_bytes_total'), 'counters keep what closed sessions counted');
  assert.ok(after.value('rtmpapi_sent_bytes_total') >= busy.value('rtmpapi_sent_bytes_total'));
});

test('close(cb): players hear StreamEOF and NetStream.Play.UnpublishNotify, FFmpeg\'s publication ends, and it calls back within seconds', async () => {
  const server = createLiveServer({ quiet: true });
  const port = await listening(server);
  const url = `rtmp://127.0.0.1:${port}/live/closing`;
  const publishing = publish(url, longFlv, { realtime: true, timeoutMs: 30000 });
  await sleep(700);
  const player = connectClient(port, 'live');
  const raw = await player;
  play(raw, 'closing');
  await raw.waitFor((m) => m.type === 'video' && m.data[1] === 1);
  const started = performance.now();
  const closeErr = await new Promise((resolve) => server.close(resolve));
  const took = performance.now() - started;
  assert.equal(closeErr, undefined);
  assert.ok(took < 4000, `close took ${took} ms`);
  assert.equal(server.listening, false);
  assert.ok(raw.messages.some((m) => m.msg && m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.UnpublishNotify'), 'the player was told the stream ended');
  assert.ok(raw.messages.some((m) => m.type === 'userControl' && m.msg.eventType === 1 && m.data.readUInt32BE(2) === raw.streamId), 'StreamEOF for its stream');
  await waitFor(() => raw.sock.destroyed || raw.sock.readableEnded, () => 'the player\'s connection ends', 3000);
  const r = await publishing;
  assert.ok(performance.now() - started < 8000, 'FFmpeg stopped publishing long before its 12 s file ended');
  assert.ok(r.code !== null);
  await assert.rejects(new RtmpClient({ timeout: 2000 }).connect(url), (err) => ['ERR_RTMP_SOCKET', 'ERR_RTMP_CLOSED', 'ERR_RTMP_TIMEOUT'].includes(err.code), 'no longer accepting');
});

test('closeAllConnections() ends every session now and the server goes on listening', async (t) => {
  const server = createLiveServer({ quiet: true });
  const port = await listening(server, t);
  const clients = [new RtmpClient(), new RtmpClient()];
  for (const c of clients) await c.connect(`rtmp://127.0.0.1:${port}/live/x`);
  const closed = clients.map((c) => new Promise((resolve) => c.once('close', resolve)));
  server.closeAllConnections();
  await Promise.race([Promise.all(closed), sleep(2000).then(() => assert.fail('clients not closed within 2 s'))]);
  const again = new RtmpClient();
  await again.connect(`rtmp://127.0.0.1:${port}/live/x`);
  await again.close();
});

test('connections refused past maxConnections reach the \'warning\' event as ERR_RTMP_MAX_CONNECTIONS and the metrics', async (t) => {
  const server = createLiveServer({ quiet: true, maxConnections: 1, sendQueueLimit: 256 * 1024 });
  const warnings = [];
  server.on('warning', (w) => warnings.push(w));
  const port = await listening(server, t);
  const first = new RtmpClient();
  t.after(() => first.close());
  await first.connect(`rtmp://127.0.0.1:${port}/live/w`);
  await assert.rejects(new RtmpClient({ timeout: 3000 }).connect(`rtmp://127.0.0.1:${port}/live/w`));
  const refused = await waitFor(() => warnings.find((w) => w.code === 'ERR_RTMP_MAX_CONNECTIONS'), () => JSON.stringify(warnings));
  assert.match(refused.message, /maxConnections/);
  assert.equal(refused.session, undefined);
  assert.match(server.metrics(), /rtmpapi_warnings_total\{code="ERR_RTMP_MAX_CONNECTIONS"\} 1/);
});

test('a stalled player\'s drops are reported once as ERR_RTMP_SLOW_PEER naming the session, and counted in the metrics', async (t) => {
  const server = createLiveServer({ quiet: true, sendQueueLimit: 256 * 1024 });
  const warnings = [];
  server.on('warning', (w) => warnings.push(w));
  const port = await listening(server, t);
  const heavy = await makeFlv(path.join(fixtures, 'heavy.flv'), { seconds: 6, width: 640, height: 360, fps: 25, gop: 25, videoBitrate: '12M', noise: 12 });
  const stalled = await connectClient(port, 'live');
  t.after(() => stalled.sock.destroy());
  play(stalled, 'stall');
  await stalled.waitFor((m) => m.msg && m.msg.cmd === 'onStatus' && m.msg.info.code === 'NetStream.Play.Start');
  stalled.sock.pause();
  const r = await publish(`rtmp://127.0.0.1:${port}/live/stall`, heavy, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const slow = warnings.filter((w) => w.code === 'ERR_RTMP_SLOW_PEER');
  assert.equal(slow.length, 1, `one warning in 10 s per slow peer: ${slow.map((w) => w.message)}`);
  assert.equal(slow[0].session.sock.remotePort, stalled.sock.localPort);
  assert.match(slow[0].message, /dropped \d+ video/);
  const dropped = Number(/rtmpapi_dropped_messages_total (\d+)/.exec(server.metrics())[1]);
  assert.ok(dropped > 0, `dropped ${dropped}`);
});

test('one session publishes one stream: a second publish is refused, and the first goes on', async (t) => {
  const server = createLiveServer({ quiet: true });
  const sessions = [];
  server.on('connection', (_sock, session) => sessions.push(session));
  const port = await listening(server, t);
  const publisher = new RtmpClient();
  t.after(() => publisher.close());
  await publisher.connect(`rtmp://127.0.0.1:${port}/live/first`);
  await publisher.publish('first');
  const firstStreamId = publisher.streamId;
  await assert.rejects(publisher.publish('second'), (err) => err.info.code === 'NetStream.Publish.BadName' && /already publishes live\/first/.test(err.info.description));
  assert.equal(server.streams.get('live/first').publisher, sessions[0]);
  const player = new RtmpClient();
  t.after(() => player.close());
  await player.connect(`rtmp://127.0.0.1:${port}/live/first`);
  await player.play();
  let frames = 0;
  player.on('video', () => frames++);
  publisher.streamId = firstStreamId;
  for (const tag of readFlv(flv).tags.slice(0, 60)) publisher.sendTag(tag);
  await waitFor(() => frames > 10, () => `${frames} frames`);

  // The LiveStream itself: a second stream refuses the session, whose removePublisher
  // then leaves the first alone.
  const [a, b] = [new LiveStream('a'), new LiveStream('b')];
  const session = sessions[1]; // the player's: it publishes nothing yet
  a.setPublisher(session, 5);
  assert.throws(() => b.setPublisher(session, 5), { code: 'ERR_RTMP_ALREADY_PUBLISHING' });
  b.removePublisher(session);
  assert.equal(a.publisher, session);
  assert.equal(b.publisher, null);
  a.removePublisher(session);
  b.setPublisher(session, 5);
  b.removePublisher(session);
});

test('a session that plays 20 streams in turn keeps one close listener at most: no MaxListenersExceededWarning', async (t) => {
  const server = createLiveServer({ quiet: true });
  const sessions = [];
  server.on('connection', (_sock, session) => sessions.push(session));
  const port = await listening(server, t);
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const client = new RtmpClient();
  t.after(() => client.close());
  await client.connect(`rtmp://127.0.0.1:${port}/live/zapping`);
  const [session] = sessions;
  const baseline = session.listenerCount('close');
  for (let i = 0; i < 20; i++) {
    await client.play(`channel-${i}`);
    client._send('deleteStream', { cmdObj: null, streamId: client.streamId });
    await waitFor(() => !server.streams.has(`live/channel-${i}`), () => `channel-${i} was not released`);
  }
  assert.equal(session.listenerCount('close'), baseline, 'every listener a play added was removed');
  await sleep(50);
  assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
  // The LiveStream directly, as a player and as a publisher.
  const stream = new LiveStream('direct');
  for (let i = 0; i < 20; i++) {
    stream.addPlayer(session, 1);
    stream.removePlayer(session);
    stream.setPublisher(session, 1);
    stream.removePublisher(session);
  }
  assert.equal(session.listenerCount('close'), baseline);
});

test('RtmpClient({ timeout }): connect, createStream, publish and play reject with ERR_RTMP_TIMEOUT from a server that never answers', async (t) => {
  const mute = net.createServer(() => {});
  const held = [];
  mute.on('connection', (sock) => held.push(sock));
  mute.listen(0, '127.0.0.1');
  await once(mute, 'listening');
  t.after(() => {
    held.forEach((s) => s.destroy());
    mute.close();
  });
  const started = performance.now();
  const client = new RtmpClient({ timeout: 400 });
  await assert.rejects(client.connect(`rtmp://127.0.0.1:${mute.address().port}/live/x`), { code: 'ERR_RTMP_TIMEOUT' });
  const took = performance.now() - started;
  assert.ok(took >= 380 && took < 2000, `connect gave up after ${took} ms`);

  // A server that answers connect, then (per stream name) nothing more, or createStream only.
  const server = rtmpServer().createServer((session) => {
    session.msg.loop(null, {
      amf0cmd: (chunk) => {
        const msg = chunk.chunk.msg;
        const reply = (info) => chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: msg.transId, cmdObj: null, info });
        if (msg.cmd === 'connect') reply({ code: 'NetConnection.Connect.Success' });
        if (msg.cmd === 'createStream' && session.answerCreate) reply(1);
        if (msg.cmd === 'connect') session.answerCreate = msg.cmdObj.app === 'streams';
      },
    });
  });
  const port = await listening(server, t);
  for (const [app, action, what] of [['mute', 'publish', 'createStream'], ['streams', 'publish', 'publish'], ['streams', 'play', 'play']]) {
    const c = new RtmpClient({ timeout: 300 });
    await c.connect(`rtmp://127.0.0.1:${port}/${app}/x`);
    const begun = performance.now();
    await assert.rejects(c[action](), (err) => err.code === 'ERR_RTMP_TIMEOUT' && err.message.startsWith(what));
    const waited = performance.now() - begun;
    assert.ok(waited >= 280 && waited < 1500, `${app} ${action}: ${what} gave up after ${waited} ms`);
    assert.equal(c._pending.size + c._statusWaiters.size, 0, 'nothing left waiting');
    await c.close();
  }
  assert.throws(() => new RtmpClient({ timeout: 0 }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('drain() resolves when the native writer has written everything queued', async (t) => {
  const server = createLiveServer({ quiet: true });
  const port = await listening(server, t);
  const client = new RtmpClient();
  t.after(() => client.close());
  await client.connect(`rtmp://127.0.0.1:${port}/live/drained`);
  await client.publish();
  const chunk = Buffer.alloc(512 * 1024, 0x27);
  chunk[0] = 0x27;
  // Sent until more than 1 MiB waits: the server reads as fast as it can, so how much of
  // a fixed amount the socket has taken by the end of the loop varies (0 bytes were left
  // queued after 16 sends once in 6 runs here).
  let sends = 0;
  while (client.session.queuedBytes <= 1024 * 1024 && sends < 200) client.sendVideo(chunk, 40 * sends++);
  const queuedBefore = client.session.queuedBytes;
  assert.ok(queuedBefore > 1024 * 1024, `${queuedBefore} bytes queued after ${sends} sends`);
  await client.drain();
  assert.equal(client.session.queuedBytes, 0, `drained (${queuedBefore} bytes were queued)`);
  await client.drain(); // nothing queued: at once
});

test('record: { dir } writes each publication natively to <dir>/<app>-<name>-<ISO time>.flv, finalized on unpublish and on close', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = createLiveServer({ quiet: true, record: { dir } });
  const recordings = [];
  server.on('recording', (r) => recordings.push(r));
  const port = await listening(server);
  const r = await publish(`rtmp://127.0.0.1:${port}/live/rec`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const [first] = await waitFor(() => recordings.length === 1 && recordings, () => `${recordings.length} recordings`);
  const info = first.closed ? null : await once(first, 'close').then(([i]) => i);
  const files = readdirSync(dir);
  assert.equal(files.length, 1);
  assert.match(files[0], /^live-rec-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.flv$/);
  const got = readFlv(path.join(dir, files[0]));
  const want = readFlv(flv);
  const media = (tags) => tags.filter((tg) => tg.type !== 18).map((tg) => `${tg.type}:${tg.timestamp}:${tg.data.toString('base64')}`);
  assert.deepEqual(media(got.tags), media(want.tags), 'every audio and video tag, byte for byte');
  if (info) assert.equal(info.bytes, statSync(path.join(dir, files[0])).size);
  // A second publication, still going when the server closes: close() finalizes it.
  const stop = new AbortController();
  const long = publish(`rtmp://127.0.0.1:${port}/live/rec2`, longFlv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
  await waitFor(() => recordings.length === 2, () => `${recordings.length} recordings`);
  await sleep(1500);
  await new Promise((resolve) => server.close(() => resolve()));
  stop.abort();
  await long;
  assert.ok(recordings[1].closed, 'finalized by close()');
  const second = readdirSync(dir).find((f) => f.startsWith('live-rec2-'));
  const tags = readFlv(path.join(dir, second)).tags;
  assert.ok(tags.filter((tg) => tg.type === 9).length >= 20, 'the second file has what came before close');
});

test('hls: each publication is Low-Latency HLS on httpHandler()\'s /<app>/<name>/index.m3u8, and FFmpeg reads it', async (t) => {
  const server = createLiveServer({ quiet: true, hls: { partTargetMs: 200, segmentMinMs: 1000 } });
  const port = await listening(server, t);
  const handler = server.httpHandler();
  const web = http.createServer((req, res) => {
    if (!handler.request(req, res)) { res.writeHead(404); res.end(); }
  });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  t.after(() => web.close());
  const base = `http://127.0.0.1:${web.address().port}`;
  assert.equal((await fetch(`${base}/live/nothing/index.m3u8`)).status, 404, 'no publication, no playlist');
  const stop = new AbortController();
  const publishing = publish(`rtmp://127.0.0.1:${port}/live/hls`, longFlv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
  t.after(() => stop.abort());
  await sleep(3500);
  const playlist = await fetch(`${base}/live/hls/index.m3u8`);
  assert.equal(playlist.status, 200);
  assert.match(playlist.headers.get('content-type'), /mpegurl/);
  const text = await playlist.text();
  for (const tag of ['#EXTM3U', '#EXT-X-MAP', '#EXT-X-PART:', '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES', '#EXT-X-PROGRAM-DATE-TIME']) {
    assert.ok(text.includes(tag), `playlist has ${tag}:\n${text}`);
  }
  const file = path.join(fixtures, 'live-server-hls.flv');
  const r = await record(`${base}/live/hls/index.m3u8`, file, { seconds: 2, timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const { tags } = readFlv(file);
  assert.ok(tags.filter((tg) => tg.type === 9).length >= 30 && tags.some((tg) => tg.type === 8), 'FFmpeg read video and audio from the HLS');
  stop.abort();
  await publishing;
});

test('connect answers an Enhanced RTMP client with the server\'s caps (what it forwards, capsEx Reconnect | Multitrack | ModEx)', async (t) => {
  const server = createLiveServer({ quiet: true });
  const port = await listening(server, t);
  const client = new RtmpClient({ enhanced: true });
  t.after(() => client.close());
  await client.connect(`rtmp://127.0.0.1:${port}/live/caps`);
  assert.equal(client.serverCaps.enhanced, true);
  for (const f of ['avc1', 'hvc1', 'av01', 'vp09']) assert.equal(client.serverCaps.videoFourCcInfoMap[f], enhanced.FOURCC_CAN.forward, f);
  for (const f of ['mp4a', 'Opus', 'fLaC', 'ac-3', 'ec-3']) assert.equal(client.serverCaps.audioFourCcInfoMap[f], enhanced.FOURCC_CAN.forward, f);
  const { reconnect, multitrack, modEx } = enhanced.CAPS_EX;
  assert.equal(client.serverCaps.capsEx & (reconnect | multitrack | modEx), reconnect | multitrack | modEx);
  // A legacy client gets a legacy answer.
  const legacy = new RtmpClient();
  t.after(() => legacy.close());
  await legacy.connect(`rtmp://127.0.0.1:${port}/live/caps`);
  assert.equal(legacy.serverCaps.enhanced, false);
});
