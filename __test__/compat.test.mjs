// The other node-rtmpapi exports: rtmpSession over any Duplex, rtmpQueue, rtmpMessage,
// rtmpChunk, log; and net.Server-like ref/unref.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const rtmpApi = require('../index.js');
const indexPath = fileURLToPath(new URL('../index.js', import.meta.url));

/** Two in-memory Duplex streams connected to each other. */
function duplexPair() {
  let a;
  let b;
  const make = (peer) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        setImmediate(() => peer().push(chunk));
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

test('rtmpSession runs client and server over an in-memory stream pair', async () => {
  const [clientSide, serverSide] = duplexPair();
  const received = new Promise((resolve) => {
    rtmpApi.rtmpSession(serverSide, false, function (session) {
      assert.equal(this, session);
      assert.equal(session.isClient, false);
      // Q and log are made on first use, then are own properties that can be replaced.
      assert.equal(Object.hasOwn(session, 'Q') || Object.hasOwn(session, 'log'), false);
      const Q = session.Q;
      assert.equal(typeof Q, 'function');
      assert.equal(session.Q, Q);
      assert.equal(Q.recvBytes, session.bytesReceived);
      assert.equal(typeof session.log.log, 'function');
      const replacement = rtmpApi.log(false, '1.2.3.4');
      session.log = replacement;
      assert.equal(session.log, replacement);
      assert.ok(Object.keys(session).includes('Q'));
      session.msg.loop(null, {
        amf0cmd(c) {
          c.sendAmf0EncCmdMsg({ cmd: '_result', transId: c.chunk.msg.transId, cmdObj: null, info: { code: 'ok' } });
          resolve(c.chunk.msg);
        },
      });
    });
  });
  const reply = new Promise((resolve) => {
    rtmpApi.rtmpSession(clientSide, true, function (session) {
      assert.equal(session.isClient, true);
      session.msg.loop(null, { amf0cmd: (c) => resolve(c.chunk.msg) });
      session.chunk(3).sendAmf0EncCmdMsg({ cmd: 'connect', transId: 1, cmdObj: { app: 'mem' } });
    });
  });
  assert.deepEqual(await received, { cmd: 'connect', transId: 1, cmdObj: { app: 'mem' } });
  assert.deepEqual(await reply, { cmd: '_result', transId: 1, cmdObj: null, info: { code: 'ok' } });
});

test('rtmpSession reports a bad handshake from the stream as an error and closes it', async () => {
  const [peer, serverSide] = duplexPair();
  const err = await new Promise((resolve) => {
    const session = rtmpApi.rtmpSession(serverSide, false, () => assert.fail('no handshake'));
    session.on('error', resolve);
    peer.write(Buffer.from('junk'));
  });
  assert.equal(err.code, 'ERR_RTMP_HANDSHAKE');
  assert.equal(serverSide.destroyed, true);
});

test('rtmpSession rejects a non-stream with a TypeError', () => {
  assert.throws(() => rtmpApi.rtmpSession({}, false, () => {}), TypeError);
});

test('rtmpQueue serves reads in order: exact lengths, 0 and negative lengths', () => {
  const [a, b] = duplexPair();
  const Q = rtmpApi.rtmpQueue(b);
  const calls = [];
  Q(3, (d) => calls.push(['3', d.toString()]));
  Q(0, (d) => calls.push(['0', d]));
  Q(-1, (d) => calls.push(['-1', d.toString()]));
  Q.push(Buffer.from('ab'));
  assert.deepEqual(calls, []);
  assert.equal(Q.getBufLen(), 2);
  Q.push(Buffer.from('cdef'));
  assert.deepEqual(calls, [['3', 'abc'], ['0', undefined], ['-1', 'def']]);
  assert.equal(Q.recvBytes, 6);
  assert.equal(Q.read(1), null);
  a.destroy();
});

test('rtmpMessage reads chunk-layer bytes from a queue past the handshake', async () => {
  const [a, b] = duplexPair();
  const Q = rtmpApi.rtmpQueue(b);
  const reader = rtmpApi.rtmpMessage({ Q, sock: b });
  const got = new Promise((resolve) => reader.read((c) => resolve({ ...c.chunk }), {}));
  // fmt 0, csid 4, ts 7, length 2, type 8 (audio), stream 1, payload AF 01
  a.write(Buffer.from([0x04, 0, 0, 7, 0, 0, 2, 8, 1, 0, 0, 0, 0xaf, 0x01]));
  const chunk = await got;
  assert.equal(chunk.msgTypeText, 'audio');
  assert.equal(chunk.timestamp, 7);
  assert.deepEqual([...chunk.data], [0xaf, 0x01]);
  assert.equal(typeof rtmpApi.rtmpChunk({ Q: rtmpApi.rtmpQueue(a), sock: a }).read, 'function');
});

test('log prints only while debugging is on', () => {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(args);
  try {
    const l = rtmpApi.log(false, '1.2.3.4');
    l.log('hidden');
    l.debug(true);
    l.log('shown');
    l.raddr('5.6.7.8');
    l.log('again');
  } finally {
    console.log = original;
  }
  assert.equal(lines.length, 2);
  assert.ok(lines[0][0] instanceof Date);
  assert.deepEqual(lines[0].slice(1), ['1.2.3.4', '>', 'shown']);
  assert.deepEqual(lines[1].slice(1), ['5.6.7.8', '>', 'again']);
});

test('a listening server keeps Node alive unless unref()ed', () => {
  const script = (unref) => `
    const s = require(${JSON.stringify(indexPath)}).rtmpServer().createServer(() => {});
    s.listen(0, '127.0.0.1', () => { ${unref ? 's.unref();' : ''} console.log('up'); });
    setTimeout(() => { console.log('timer'); ${unref ? '' : 's.close();'} }, 300).unref();`;
  const unrefed = spawnSync(process.execPath, ['-e', script(true)], { timeout: 10000, encoding: 'utf8' });
  assert.equal(unrefed.status, 0);
  assert.equal(unrefed.stdout.trim(), 'up', 'exits before the unref()ed timer');
  const refed = spawnSync(process.execPath, ['-e', script(false)], { timeout: 10000, encoding: 'utf8' });
  assert.equal(refed.status, 0);
  assert.equal(refed.stdout.trim(), 'up\ntimer', 'stays up until close()');
});

test('ESM named imports work as well as require', async () => {
  const esm = await import('../index.js');
  assert.equal(typeof esm.rtmpServer, 'function');
  assert.equal(typeof esm.RtmpClient, 'function');
  assert.equal(esm.default.rtmpServer, rtmpApi.rtmpServer);
});

test('the addon loads in several worker threads at once, each with its own server', async () => {
  const { Worker } = await import('node:worker_threads');
  const code = `
    const { parentPort } = require('node:worker_threads');
    const r = require(${JSON.stringify(indexPath)});
    const s = r.rtmpServer().createServer(() => {});
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => parentPort.postMessage({ port, values: r.amf.amf0Decode(r.amf.amf0Encode(['x', 1])) }));
    });`;
  const results = await Promise.all([1, 2, 3].map(() => new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.on('message', resolve);
    w.on('error', reject);
  })));
  assert.equal(new Set(results.map((r) => r.port)).size, 3);
  for (const r of results) assert.deepEqual(r.values, ['x', 1]);
});
