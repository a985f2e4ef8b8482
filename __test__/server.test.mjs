// The compatible server API over loopback, with the package's own detached client
// session (rtmpSession over a net.Socket) as the peer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import * as loopback from './helpers/loopback.mjs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rtmpApi = require('../index.js');

const startServer = (onSession, options) => loopback.startServer(rtmpApi, onSession, options);
const connectClient = (port) => loopback.connectClient(rtmpApi, port);

async function closeServer(server) {
  const closed = once(server, 'close');
  server.close();
  await closed;
}

test('exports the six node-rtmpapi members and the AMF helpers', () => {
  for (const name of ['log', 'rtmpServer', 'rtmpSession', 'rtmpQueue', 'rtmpChunk', 'rtmpMessage']) {
    assert.equal(typeof rtmpApi[name], 'function', name);
  }
  assert.equal(typeof rtmpApi.rtmpServer().createServer, 'function');
  assert.equal(typeof rtmpApi.amf, 'object');
});

test('listen(0) reports the bound address and close() emits close', async () => {
  const { server, port } = await startServer(() => {});
  assert.ok(port > 0);
  assert.deepEqual(server.address(), { address: '127.0.0.1', family: 'IPv4', port });
  assert.equal(server.listening, true);
  await closeServer(server);
  assert.equal(server.address(), null);
});

test('a listen error is emitted, not thrown', async () => {
  const { server, port } = await startServer(() => {});
  const second = rtmpApi.rtmpServer().createServer(() => {});
  assert.doesNotThrow(() => second.listen(port, '127.0.0.1'));
  const [err] = await once(second, 'error');
  assert.equal(err.code, 'ERR_RTMP_SOCKET');
  assert.match(err.message, /in use/i);
  await closeServer(server);
});

test('two servers with reusePort listen on one port and both accept sessions', { skip: process.platform === 'win32' && 'no SO_REUSEPORT' }, async () => {
  const accepted = [0, 0];
  const first = await startServer(() => { accepted[0]++; }, { reusePort: true });
  const second = rtmpApi.rtmpServer().createServer(() => { accepted[1]++; }, { reusePort: true });
  second.listen(first.port, '127.0.0.1');
  await once(second, 'listening');
  assert.equal(second.address().port, first.port);
  // Linux hashes each connection's 4-tuple onto one of the sockets: with 32
  // connections both get some unless the odds of 2^-31 strike.
  for (let i = 0; i < 32; i++) {
    const { sock } = await connectClient(first.port);
    sock.destroy();
  }
  for (let i = 0; i < 100 && accepted[0] + accepted[1] < 32; i++) await new Promise((r) => setTimeout(r, 20));
  if (process.platform === 'linux') assert.ok(accepted[0] > 0 && accepted[1] > 0, `sessions per server: ${accepted}`);
  assert.equal(accepted[0] + accepted[1], 32);
  await Promise.all([closeServer(first.server), closeServer(second)]);
});

test('a message from a client reaches cb then the handler with every chunk field', async () => {
  const seen = [];
  let sessionThis;
  const { server, port } = await startServer(function (session) {
    sessionThis = this;
    assert.equal(this, session);
    session.msg.loop((c) => seen.push(['cb', c.chunk.msgTypeText]), {
      audio(c) {
        seen.push(['audio', { ...c.chunk, data: [...c.chunk.data] }]);
        c.rtmpMsgSend({ msgType: 9, data: Buffer.from([0x17, 1, 2]), msgStreamId: 1, streamId: 6, timestamp: 77 });
      },
    });
  });
  const { session: client, sock } = await connectClient(port);
  const got = new Promise((resolve) => client.msg.loop(null, { video: (c) => resolve({ ...c.chunk }) }));
  client.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.from([0xaf, 1, 9]), msgStreamId: 1, timestamp: 1234 });
  const reply = await got;
  assert.deepEqual(seen[0], ['cb', 'audio'], 'cb runs before the handler');
  const audio = seen[1][1];
  assert.deepEqual(audio.data, [0xaf, 1, 9]);
  assert.equal(audio.timestamp, 1234);
  assert.equal(audio.msgLen, 3);
  assert.equal(audio.msgType, 8);
  assert.equal(audio.msgTypeText, 'audio');
  assert.equal(audio.streamId, 4, 'streamId is the chunk stream id');
  assert.equal(audio.msgStreamId, 1);
  assert.equal(audio.fmt, 0);
  assert.equal(audio.msgComplete, 1);
  assert.equal(audio.msgLeft, 0);
  assert.deepEqual(Object.keys(audio.chunkSize).sort(), ['rcv', 'rcvWinSize', 'snd', 'sndWinSize']);
  assert.equal(reply.timestamp, 77);
  assert.equal(reply.streamId, 6);
  assert.deepEqual([...reply.data], [0x17, 1, 2]);
  assert.equal(typeof sessionThis.getTs(), 'number');
  assert.equal(sessionThis.sock.remoteAddress, '127.0.0.1');
  assert.equal(sessionThis.sock.remotePort, sock.localPort);
  sock.destroy();
  await closeServer(server);
});

test('the message events reach an app that registered no msg.loop, and a later loop gets only what came after', async () => {
  const events = [];
  let serverSession;
  const { server, port } = await startServer((session) => {
    serverSession = session;
    session.on('command', (cmd, chunk) => events.push([cmd.cmd, chunk.chunk.msgTypeText]));
    session.on('audio', (_header, chunk) => events.push(['audio', chunk.chunk.timestamp]));
  });
  const { session: client, sock } = await connectClient(port);
  client.sendCommand({ cmd: 'connect', transId: 1, cmdObj: { app: 'live' } });
  client.sendAudio(Buffer.from([0xaf, 1, 9]), 40);
  for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, [['connect', 'amf0cmd'], ['audio', 40]]);
  const looped = new Promise((resolve) => serverSession.msg.loop(null, { audio: (c) => resolve(c.chunk.timestamp) }));
  client.sendAudio(Buffer.from([0xaf, 1, 9]), 80);
  assert.equal(await looped, 80, 'the loop starts with the next message, not the ones the events had');
  sock.destroy();
  await closeServer(server);
});

test('Acknowledgements stop reaching JS while nothing could see them, and come back when something could', async () => {
  let serverSession;
  const commands = [];
  const { server, port } = await startServer((session) => {
    serverSession = session;
    session.msg.loop(null, { amf0cmd: (c) => commands.push(c.chunk.msg.transId) });
  });
  const { session: client, sock } = await connectClient(port);
  const batchTypes = [];
  const until = async (what, ok) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(ok(), what);
  };
  await until('the server session', () => serverSession);
  const onBatch = serverSession._onBatch;
  serverSession._onBatch = function (data, meta) {
    for (let i = 0; i < meta.length; i += 7) batchTypes.push(meta[i]);
    return onBatch.call(this, data, meta);
  };
  // Each command is sent after an ack, so its arrival means the ack before it was handled.
  const ackThenCommand = async (n) => {
    client.chunk(2).sendAckMsg();
    client.sendCommand({ cmd: 'ping', transId: n, cmdObj: null });
    await until(`command ${n}`, () => commands.includes(n));
  };
  await ackThenCommand(1);
  assert.equal(serverSession._acksPaused, true, 'no ack handler, no cb, no message listener');
  await ackThenCommand(2);
  await ackThenCommand(3);
  assert.deepEqual(batchTypes.filter((t) => t === 3).length, 1, 'only the first ack crossed into JS');
  const acks = [];
  serverSession.on('message', (c) => { if (c.chunk.msgType === 3) acks.push(c.chunk.msg.seq); });
  assert.equal(serverSession._acksPaused, false);
  await ackThenCommand(4);
  assert.equal(acks.length, 1, 'a message listener gets acks again');
  assert.ok(acks[0] > 0);
  sock.destroy();
  await closeServer(server);
});

test('a reader with an ack handler or a cb, and a reader to come, get every Acknowledgement', async () => {
  const seen = { handler: 0, cb: 0, later: 0 };
  let n = 0;
  const { server, port } = await startServer((session) => {
    const which = ['handler', 'cb', 'later'][n++];
    if (which === 'handler') session.msg.loop(null, { ack: () => seen.handler++ });
    if (which === 'cb') session.msg.loop((c) => { if (c.chunk.msgType === 3) seen.cb++; }, {});
    // 'later': no reader and no listener yet: messages are kept for the reader to come.
    if (which === 'later') setTimeout(() => session.msg.loop(null, { ack: () => seen.later++ }), 150);
  });
  for (const which of ['handler', 'cb', 'later']) {
    const { session: client, sock } = await connectClient(port);
    for (let i = 0; i < 3; i++) client.chunk(2).sendAckMsg();
    for (let i = 0; i < 100 && seen[which] < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen[which], 3, which);
    sock.destroy();
  }
  await closeServer(server);
});

test('control messages: set chunk size applies, pings are answered, user control decodes', async () => {
  let serverChunk;
  let gotPong;
  const pong = new Promise((resolve) => {
    gotPong = resolve;
  });
  const { server, port } = await startServer((session) => {
    session.msg.loop(null, {
      userControl: (c) => gotPong(c.chunk.msg),
      audio(c) {
        serverChunk = c;
        c.sendSetChunkSize(4096);
        c.sendUserControlMsg(6, 0xabcdef01);
        c.sendUserControlMsg(3, 1, 3000);
        c.rtmpMsgSend({ msgType: 9, data: Buffer.alloc(3000, 7), msgStreamId: 1, streamId: 6, timestamp: 5 });
      },
    });
  });
  const { session: client, sock } = await connectClient(port);
  const events = [];
  const done = new Promise((resolve) => {
    client.msg.loop(null, {
      setChunkSize: (c) => events.push(['setChunkSize', c.chunk.msg.setChunkSize]),
      userControl: (c) => events.push(['userControl', c.chunk.msg]),
      video: (c) => {
        events.push(['video', c.chunk.data.length, c.chunk.chunkSize.rcv]);
        resolve();
      },
    });
  });
  client.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.from([1]), msgStreamId: 1, timestamp: 0 });
  await done;
  assert.deepEqual(events[0], ['setChunkSize', 4096]);
  assert.deepEqual(events[1], ['userControl', { evenType: 6, eventType: 6, timestamp: 0xabcdef01 }]);
  assert.deepEqual(events[2], ['userControl', { evenType: 3, eventType: 3, streamId: 1, buffLenMs: 3000 }]);
  assert.deepEqual(events[3], ['video', 3000, 4096]);
  assert.equal(serverChunk.chunk.chunkSize.snd, 4096);
  // The client answered the PingRequest with a PingResponse: the server sees it.
  assert.deepEqual(await pong, { evenType: 7, eventType: 7, timestamp: 0xabcdef01 });
  sock.destroy();
  await closeServer(server);
});

test('junk instead of a handshake closes only that session with a clear error', async (t) => {
  let failed;
  const error = new Promise((resolve) => {
    failed = resolve;
  });
  const { server, port } = await startServer((session) => session.on('error', failed));
  t.after(() => server.close());
  const junk = net.connect(port, '127.0.0.1');
  const junkClosed = once(junk, 'close');
  junk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await error).code, 'ERR_RTMP_HANDSHAKE');
  await junkClosed;
  const { sock } = await connectClient(port);
  sock.destroy();
});

test('a stalled handshake times out', async (t) => {
  let failed;
  const error = new Promise((resolve) => {
    failed = resolve;
  });
  const { server, port } = await startServer((session) => session.on('error', failed), { handshakeTimeoutMs: 200 });
  t.after(() => server.close());
  const stalled = net.connect(port, '127.0.0.1');
  const stalledClosed = once(stalled, 'close');
  stalled.write(Buffer.from([3, 0, 0]));
  const started = Date.now();
  assert.equal((await error).code, 'ERR_RTMP_HANDSHAKE_TIMEOUT');
  const elapsed = Date.now() - started;
  t.diagnostic(`handshake timeout (200 ms) fired after ${elapsed} ms`);
  assert.ok(elapsed < 3000, `handshake timeout (200 ms) fired after ${elapsed} ms`);
  await stalledClosed;
});

test('a message over the size limit closes the session with ERR_RTMP_LIMIT', async (t) => {
  let failed;
  const error = new Promise((resolve) => {
    failed = resolve;
  });
  const { server, port } = await startServer((session) => session.on('error', failed), { maxMessageSize: 1000 });
  t.after(() => server.close());
  const { session: client, sock } = await connectClient(port);
  const closed = once(sock, 'close');
  client.chunk(4).rtmpMsgSend({ msgType: 9, data: Buffer.alloc(2000), msgStreamId: 1, timestamp: 0 });
  assert.equal((await error).code, 'ERR_RTMP_LIMIT');
  await closed;
});

test('a throwing handler is reported as an error and the session goes on', async () => {
  const errors = [];
  let count = 0;
  const { server, port } = await startServer((session) => {
    session.on('error', (e) => errors.push(e));
    session.msg.loop(null, {
      audio(c) {
        count += 1;
        if (count === 1) throw new Error('app bug');
        c.rtmpMsgSend({ msgType: 8, data: Buffer.from([count]), msgStreamId: 1, streamId: 4, timestamp: 0 });
      },
    });
  });
  const { session: client, sock } = await connectClient(port);
  const got = new Promise((resolve) => client.msg.loop(null, { audio: (c) => resolve(c.chunk.data[0]) }));
  client.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.from([1]), msgStreamId: 1, timestamp: 0 });
  client.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.from([2]), msgStreamId: 1, timestamp: 10 });
  assert.equal(await got, 2);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'app bug');
  assert.equal(errors[0].code, 'ERR_RTMP_HANDLER');
  sock.destroy();
  await closeServer(server);
});

test('an idle session is closed after idleTimeoutMs; connections past maxConnections are refused', async (t) => {
  let failed;
  const error = new Promise((resolve) => {
    failed = resolve;
  });
  const { server, port } = await startServer((session) => session.on('error', failed), { idleTimeoutMs: 300, maxConnections: 1 });
  t.after(() => server.close());
  const { sock } = await connectClient(port);
  const closed = once(sock, 'close');
  // A second connection while the first is open: closed at once, no session.
  const extra = net.connect(port, '127.0.0.1');
  await once(extra, 'close');
  const started = Date.now();
  assert.equal((await error).code, 'ERR_RTMP_IDLE_TIMEOUT');
  const elapsed = Date.now() - started;
  t.diagnostic(`idle timeout (300 ms) fired after ${elapsed} ms`);
  assert.ok(elapsed < 3000, `idle timeout (300 ms) fired after ${elapsed} ms`);
  await closed;
  // Below the limit again: a new session is accepted.
  const again = await connectClient(port);
  again.sock.destroy();
});

test('session stats count bytes and messages both ways and a ping gives the RTT', async (t) => {
  let serverSession;
  const { server, port } = await startServer((session) => {
    serverSession = session;
    session.msg.loop(null, {});
  });
  t.after(() => server.close());
  const { session: client, sock } = await connectClient(port);
  for (let i = 0; i < 5; i++) client.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.alloc(100), msgStreamId: 1, timestamp: i });
  while (!serverSession || serverSession.stats().messagesIn < 5) await new Promise((r) => setTimeout(r, 5));
  serverSession.ping();
  while (serverSession.stats().rttMs === undefined) await new Promise((r) => setTimeout(r, 5));
  const s = serverSession.stats();
  assert.ok(s.bytesIn > 3073 + 500, `bytesIn ${s.bytesIn}`);
  assert.ok(s.bytesOut >= 3073, `bytesOut ${s.bytesOut}`);
  assert.equal(s.messagesIn, 6, '5 audio messages and the PingResponse');
  t.diagnostic(`ping RTT ${s.rttMs} ms on loopback`);
  assert.ok(s.rttMs >= 0 && s.rttMs < 1000, `rtt ${s.rttMs}`);
  assert.deepEqual([s.droppedVideo, s.droppedAudio], [0, 0]);
  assert.ok(s.kbpsIn > 0 && s.uptimeMs >= 0);
  sock.destroy();
});

test('a peer that floods pings and never reads the answers is closed at maxSendBuffer', async (t) => {
  let failed;
  const error = new Promise((resolve) => {
    failed = resolve;
  });
  const { server, port } = await startServer((session) => session.on('error', failed), { maxSendBuffer: 256 * 1024 });
  t.after(() => server.close());
  const { sock } = await connectClient(port);
  sock.pause(); // never read what the server answers
  const ping = Buffer.from([0x02, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0]);
  const flood = Buffer.concat(Array.from({ length: 8192 }, () => ping));
  for (let i = 0; i < 64 && !sock.destroyed; i++) sock.write(flood); // ~9 MB of pings
  const err = await error;
  assert.equal(err.code, 'ERR_RTMP_LIMIT');
  assert.match(err.message, /send buffer/);
  sock.destroy();
});

test('RTMPAPI_IO_THREADS sets the I/O threads; a bad value is an error event with a code', async () => {
  const { execFileSync } = await import('node:child_process');
  const script = `
    const { rtmpServer } = require(${JSON.stringify(require.resolve('../index.js'))});
    const server = rtmpServer().createServer(() => {});
    server.on('error', (e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(0); });
    const fs = require('node:fs');
    const ioThreads = () => fs.readdirSync('/proc/self/task')
      .filter((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').startsWith('rtmpapi-io')).length;
    // A worker thread names itself once it runs: wait up to 2 s for the last to.
    const report = (triesLeft) => {
      if (ioThreads() < Number(process.env.RTMPAPI_IO_THREADS) && triesLeft > 0) return setTimeout(report, 20, triesLeft - 1);
      console.log(JSON.stringify({ threads: ioThreads() }));
      server.close();
    };
    server.listen(0, '127.0.0.1', () => report(100));`;
  const run = (value) => JSON.parse(execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, RTMPAPI_IO_THREADS: value }, encoding: 'utf8', timeout: 20_000,
  }));
  if (process.platform === 'linux') assert.deepEqual(run('3'), { threads: 3 });
  const bad = run('lots');
  assert.equal(bad.code, 'ERR_RTMP_SOCKET');
  assert.match(bad.message, /RTMPAPI_IO_THREADS must be a whole number from 1 to 64, got "lots"/);
});
