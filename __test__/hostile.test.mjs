// Hostile peers on raw sockets while an honest FFmpeg publish and an honest idle session
// use the same server. Each attack is a subtest that asserts its own outcome, read from
// the server's side (the session whose peer port is the attacking socket's): the error
// code it ended with, or, for input the protocol allows, what the session did with it.
// The server itself closes every attacked session: the attacker never ends a socket
// before its outcome is asserted, and a subtest's timer can only fail it. The honest
// publish arrives byte for byte, the idle session stays open and the process's memory
// stays bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish } from './helpers/ffmpeg.mjs';
import { readFlv } from './helpers/flv.mjs';
import { startIngestServer } from './helpers/ingest-server.mjs';
import { chunkHeader, command, control, rawSession, setChunkSize, u32 } from './helpers/rtmp-client.mjs';

const require = createRequire(import.meta.url);
const { amf } = require('../index.js');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The test server's handshakeTimeoutMs: small, so that the stalled handshake is cheap. */
const HANDSHAKE_TIMEOUT_MS = 1000;
/** How long an outcome may take before its subtest fails (never a success). */
const OUTCOME_MS = 15000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects if `promise` has not settled within `ms`. */
async function within(ms, promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `cond()` holds (polled), rejects after `ms`. */
async function until(cond, what, ms = OUTCOME_MS) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Every attacking socket, destroyed before the server closes (for a failed subtest). */
const sockets = new Set();

/**
 * A socket with its close as a promise. Its 'close' is the server's doing: nothing here
 * ends it before the outcome is asserted.
 */
function track(sock) {
  sockets.add(sock);
  sock.on('error', () => {});
  return new Promise((resolve) => sock.on('close', resolve));
}

/** An attacker past a plain handshake: its socket, the server's record of its session. */
async function attacker(server) {
  let received = 0;
  const { sock, ready } = rawSession(server.port, { onData: (d) => { received += d.length; } });
  const closed = track(sock);
  await within(OUTCOME_MS, ready, 'the handshake');
  const peer = sock.localPort; // undefined once the socket is closed
  return { sock, peer, session: server.session(peer), closed, received: () => received };
}

/** An attacker on a bare socket (before any handshake). */
async function bareAttacker(server) {
  const sock = net.connect(server.port, '127.0.0.1');
  const closed = track(sock);
  sock.resume();
  await within(OUTCOME_MS, new Promise((resolve) => sock.once('connect', resolve)), 'the connection');
  return { sock, peer: sock.localPort, session: server.session(sock.localPort), closed };
}

/**
 * Asserts that the server closed the attacked session having reported exactly `codes`
 * (the first error's message matching `message`), and that the attacking socket closed.
 */
async function serverEnds(a, codes, message) {
  const rec = await within(OUTCOME_MS, a.session.ended, 'the server to close the attacked session');
  assert.deepEqual(rec.errors.map((e) => e.code), codes, rec.errors.map(String).join('; '));
  if (message) assert.match(rec.errors[0].message, message);
  await within(OUTCOME_MS, a.closed, 'the attacking socket to be closed by the server');
  return rec;
}

/** The messages the server received from `peer`. */
const from = (server, peer) => server.messages.filter((m) => m.peer === peer);

const FLOOD = 3000;

/** Each attack: what it sends, then the outcome it asserts. */
const attacks = {
  async 'a wrong version byte (6, RTMPE) ends the session with ERR_RTMP_HANDSHAKE'(server) {
    const a = await bareAttacker(server);
    a.sock.write(Buffer.concat([Buffer.from([6]), Buffer.alloc(1536)]));
    await serverEnds(a, ['ERR_RTMP_HANDSHAKE'], /version 6/);
  },

  async 'a stalled handshake ends the session with ERR_RTMP_HANDSHAKE_TIMEOUT'(server) {
    const a = await bareAttacker(server);
    const started = performance.now();
    a.sock.write(Buffer.from([3, 0, 0]));
    await serverEnds(a, ['ERR_RTMP_HANDSHAKE_TIMEOUT']);
    const waited = performance.now() - started;
    console.log(`the stalled handshake was closed after ${waited.toFixed(0)} ms (handshakeTimeoutMs ${HANDSHAKE_TIMEOUT_MS})`);
    assert.ok(waited >= HANDSHAKE_TIMEOUT_MS * 0.8, `closed after ${waited} ms, before the timeout`);
  },

  async 'a half-close in the middle of the handshake: the server closes the session, no error'(server) {
    const a = await bareAttacker(server);
    a.sock.end(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
    await serverEnds(a, []);
  },

  async 'chunk size 0 ends the session with ERR_RTMP_CHUNK'(server) {
    const a = await attacker(server);
    a.sock.write(setChunkSize(0));
    await serverEnds(a, ['ERR_RTMP_CHUNK'], /chunk size 0/);
  },

  async 'chunk size 2^31-1, a 16 MiB declaration cut short: held open, then closed at the half-close, no error'(server) {
    const a = await attacker(server);
    a.sock.write(Buffer.concat([setChunkSize(0x7fffffff), chunkHeader(6, 9, 1, 0xffffff), Buffer.alloc(1000)]));
    // A peer slow to send the rest of a message is not cut off (nor is 16 MiB reserved:
    // the memory check at the end).
    await sleep(300);
    assert.equal(a.session.open, true, 'the session waits for the rest of the message');
    a.sock.end();
    await serverEnds(a, []);
  },

  async '16 MiB declarations on 2000 chunk streams end the session with ERR_RTMP_LIMIT (maxChunkStreams)'(server) {
    const a = await attacker(server);
    const parts = [];
    for (let i = 0; i < 2000; i++) {
      const h = Buffer.alloc(14);
      h[0] = 1; // fmt 0, 3-byte basic header: csid 64 + i
      h.writeUInt16LE(i, 1);
      h.writeUIntBE(0xffffff, 6, 3);
      h[9] = 9;
      parts.push(h, Buffer.alloc(128));
    }
    a.sock.write(Buffer.concat(parts));
    await serverEnds(a, ['ERR_RTMP_LIMIT'], /chunk streams 257 exceeds the limit of 256/);
  },

  async 'AMF nested 200,000 deep ends the session with ERR_RTMP_AMF'(server) {
    const a = await attacker(server);
    const nested = Buffer.alloc(200000 * 4);
    for (let i = 0; i < 200000; i++) nested.set([0x03, 0x00, 0x01, 0x61], i * 4);
    const payload = Buffer.concat([amf.amf0Encode(['connect', 1]), nested]);
    a.sock.write(Buffer.concat([setChunkSize(0x7fffffff), chunkHeader(3, 20, 0, payload.length), payload]));
    await serverEnds(a, ['ERR_RTMP_AMF'], /nesting deeper than/);
  },

  async 'an absurd AMF string length ends the session with ERR_RTMP_AMF'(server) {
    const a = await attacker(server);
    const payload = Buffer.from([0x02, 0x00, 0x07, ...Buffer.from('connect'), 0x0c, 0xff, 0xff, 0xff, 0xf0, 0x41]);
    a.sock.write(Buffer.concat([chunkHeader(3, 20, 0, payload.length), payload]));
    await serverEnds(a, ['ERR_RTMP_AMF'], /truncated/);
  },

  async 'a flood of pings, aborts, acks and createStream is answered in full and the session stays open; a format-2 header on a new chunk stream then ends it with ERR_RTMP_CHUNK'(server) {
    const a = await attacker(server);
    const create = command('createStream', 2, 0);
    const parts = [];
    for (let i = 0; i < FLOOD; i++) {
      parts.push(control(4, Buffer.from([0, 6, 0, 0, 0, i & 0xff])), control(2, u32(5)), control(3, u32(i)), create);
    }
    a.sock.write(Buffer.concat(parts));
    // Everything reached the app, and every ping and createStream got its answer: at
    // least a 1-byte chunk header plus the payload each (PingResponse: 6 bytes).
    const result = amf.encodeAmf0Cmd({ cmd: '_result', transId: 2, cmdObj: null, info: 1 });
    const answers = FLOOD * (1 + 6 + 1 + result.length);
    await until(() => from(server, a.peer).length >= 4 * FLOOD && a.received() >= answers, 'the flood to be handled and answered');
    const got = from(server, a.peer);
    assert.equal(got.length, 4 * FLOOD);
    assert.equal(got.filter((m) => m.type === 'amf0cmd' && m.msg.cmd === 'createStream').length, FLOOD);
    assert.equal(a.session.open, true, 'a flood of valid messages does not end the session');
    assert.deepEqual(a.session.errors, []);
    // Format 2 (timestamp delta only) on chunk stream 63, which has had no header.
    a.sock.write(Buffer.from([0x80 | 63, 0, 0, 0]));
    await serverEnds(a, ['ERR_RTMP_CHUNK'], /format 2 header on chunk stream 63 without a previous header/);
  },

  async 'extended-timestamp garbage is read as §5.3.1.3 allows; a format-3 header on a new chunk stream then ends the session with ERR_RTMP_CHUNK'(server) {
    const a = await attacker(server);
    // Format 0 with the 0xFFFFFF marker, extended timestamp 0xDEADBEEF, 4 bytes of
    // payload; then format 3 whose next 4 bytes differ from the stored extended
    // timestamp: they are payload (FFmpeg omits the repeat), the timestamp adds the delta.
    a.sock.write(Buffer.concat([chunkHeader(6, 9, 1, 4, 0xffffff), Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xc6, 0xff, 0xff, 0xff, 0xff])]));
    await until(() => from(server, a.peer).length >= 2, 'the two video messages');
    assert.deepEqual(from(server, a.peer).map((m) => [m.type, m.timestamp, [...m.data]]), [
      ['video', 0xdeadbeef, [1, 2, 3, 4]],
      ['video', (0xdeadbeef * 2) % 2 ** 32, [0xff, 0xff, 0xff, 0xff]],
    ]);
    assert.equal(a.session.open, true);
    a.sock.write(Buffer.from([0xc0 | 9]));
    await serverEnds(a, ['ERR_RTMP_CHUNK'], /format 3 header on chunk stream 9 without a previous header/);
  },
};

test('hostile peers: each attack ends only its own session, as documented, while an honest FFmpeg publish arrives whole', { concurrency: true }, async (t) => {
  const flv = await makeFlv(path.join(fixtures, 'hostile.flv'), { seconds: 3, fps: 25, gop: 25 });
  const server = await startIngestServer({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await server.close();
  });
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  t.after(() => clearInterval(sampler));

  // An honest idle session: handshake and connect, answered, then nothing.
  let answered;
  const idleAnswered = new Promise((resolve) => {
    answered = resolve;
  });
  const idle = rawSession(server.port, {
    afterHandshake: [command('connect', 1, 0, { cmdObj: { app: 'live', tcUrl: `rtmp://127.0.0.1:${server.port}/live` } })],
    onData: () => answered(),
  });
  const idleClosed = track(idle.sock);
  await within(OUTCOME_MS, idle.ready.then(() => idleAnswered), 'the idle session to be answered');
  const idleSession = server.session(idle.sock.localPort);

  const publishing = publish(`rtmp://127.0.0.1:${server.port}/live/honest`, flv, { realtime: true, timeoutMs: 30000 });
  await Promise.all(Object.entries(attacks).map(([name, run]) => t.test(name, { timeout: 3 * OUTCOME_MS }, () => run(server))));

  const r = await publishing;
  clearInterval(sampler);
  // What the attacks declared (2000 × 16 MiB, a 16 MiB message at chunk size 2^31-1)
  // was never allocated.
  const grewMb = (rssPeak - rssBefore) / 2 ** 20;
  console.log(`the process grew by ${grewMb.toFixed(0)} MB under attack`);
  assert.ok(grewMb < 200, `the server process grew by ${grewMb.toFixed(0)} MB under attack`);

  assert.equal(r.code, 0, r.stderr);
  const honest = server.messages.find((m) => m.type === 'amf0cmd' && m.msg.cmd === 'publish').peer;
  const { tags } = readFlv(flv);
  const digest = (b) => createHash('sha1').update(b).digest('hex');
  for (const [kind, type] of [['audio', 8], ['video', 9]]) {
    const got = from(server, honest).filter((m) => m.type === kind).map((m) => digest(m.data));
    const want = tags.filter((tg) => tg.type === type).map((tg) => digest(tg.data));
    assert.deepEqual(got, want, `the honest publisher's ${kind} arrived whole`);
  }
  const publisher = await within(OUTCOME_MS, server.session(honest).ended, 'the publisher session to end');
  assert.deepEqual(publisher.errors, [], 'the honest publisher ended without an error');

  assert.equal(idleSession.open, true, 'the idle session is still open');
  assert.deepEqual(idleSession.errors, []);
  assert.equal(idle.sock.destroyed, false);
  idle.sock.destroy();
  await idleClosed;
  assert.deepEqual((await within(OUTCOME_MS, idleSession.ended, 'the idle session to end')).errors, []);
});
