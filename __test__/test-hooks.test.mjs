// What only an addon built with the `test-hooks` cargo feature can show: panic
// containment (the fault injection hook `__injectPanic`) and connection ids past 2^32
// (`__setNextConnectionId`). Only such an addon has the hooks: `npm test` builds one into
// target/test-hooks (the release binary has no such hook), and this file loads it
// through the generated loader's NAPI_RS_NATIVE_LIBRARY_PATH override. Each test file
// runs in a process of its own, so the other files keep the release build.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as loopback from './helpers/loopback.mjs';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const hooksDir = path.join(root, 'target', 'test-hooks');
const addon = existsSync(hooksDir) && readdirSync(hooksDir).find((f) => f.endsWith('.node'));
if (!addon) {
  throw new Error(`no test-hooks addon in ${hooksDir}: run \`npm test\` (or \`npm run build:test-hooks\`) first`);
}
process.env.NAPI_RS_NATIVE_LIBRARY_PATH = path.join(hooksDir, addon);
const require = createRequire(import.meta.url);
const rtmpApi = require('../index.js');

const startServer = (onSession, options) => loopback.startServer(rtmpApi, onSession, options);
const connectClient = (port) => loopback.connectClient(rtmpApi, port);

test('the release addon has no test hooks; the test-hooks addon has', () => {
  const { NativeSession, NativeServer } = require('../binding.js');
  assert.equal(typeof NativeSession.prototype.__injectPanic, 'function', 'the test-hooks build is loaded');
  assert.equal(typeof NativeServer.__setNextConnectionId, 'function');
  const env = { ...process.env };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  const probe = "const b = require('./binding.js'); process.stdout.write(typeof b.NativeSession.prototype.__injectPanic + ' ' + typeof b.NativeServer.__setNextConnectionId)";
  const release = execFileSync(process.execPath, ['-e', probe], { cwd: root, env, encoding: 'utf8' });
  assert.equal(release, 'undefined undefined', 'the package\'s own (release) addon');
});

test('a panic in a native call is a JS Error; one in a connection task ends only its session', async (t) => {
  const sessions = [];
  const { server, port } = await startServer((session) => sessions.push(session));
  t.after(() => server.close());
  const doomed = await connectClient(port);
  const healthy = await connectClient(port);
  while (sessions.length < 2) await new Promise((r) => setTimeout(r, 10));
  const [victim, survivor] = sessions;
  // In the call itself: catch_unwind turns the panic into an exception, Node goes on.
  assert.throws(() => victim._transport.native.__injectPanic(false), /panic/);
  // In the connection's task: that session gets ERR_RTMP_INTERNAL and closes.
  const failed = once(victim, 'error');
  const doomedClosed = once(doomed.sock, 'close');
  doomed.sock.resume();
  victim._transport.native.__injectPanic(true);
  const [err] = await failed;
  assert.equal(err.code, 'ERR_RTMP_INTERNAL');
  await doomedClosed;
  // The other session still carries messages both ways, and new sessions are accepted.
  const echoed = new Promise((resolve) => healthy.session.msg.loop(null, { audio: (c) => resolve(c.chunk.data[0]) }));
  survivor.msg.loop(null, { audio: (c) => c.rtmpMsgSend({ msgType: 8, data: Buffer.from([c.chunk.data[0] + 1]), msgStreamId: 1, streamId: 4, timestamp: 0 }) });
  healthy.session.chunk(4).rtmpMsgSend({ msgType: 8, data: Buffer.from([41]), msgStreamId: 1, timestamp: 0 });
  assert.equal(await echoed, 42);
  const again = await connectClient(port);
  again.sock.destroy();
  healthy.sock.destroy();
});

test('connection ids past 2^32 reach JS whole (u64 ids as Numbers)', async (t) => {
  const { NativeServer } = require('../binding.js');
  const base = 2 ** 32 + 7;
  NativeServer.__setNextConnectionId(base);
  const sessions = [];
  const { server, port } = await startServer((session) => sessions.push(session));
  t.after(() => server.close());
  const clients = [new rtmpApi.RtmpClient({ timeout: 2000 }), new rtmpApi.RtmpClient({ timeout: 2000 })];
  t.after(() => clients.forEach((c) => c.session?.destroy()));
  const sockets = clients.map((c) => c.connect(`rtmp://127.0.0.1:${port}/live/x`).catch(() => {}));
  for (let i = 0; i < 500 && (sessions.length < 2 || clients.some((c) => !c.session)); i++) await new Promise((r) => setTimeout(r, 10));
  const ids = [...sessions.map((s) => s.id), ...clients.map((c) => c.session.id)].sort((x, y) => x - y);
  assert.equal(new Set(ids).size, 4, `distinct ids ${ids}`);
  for (const id of ids) assert.ok(Number.isSafeInteger(id) && id >= base && id < base + 10, `id ${id} is whole, past 2^32`);
  assert.deepEqual([...server._sessions.keys()].sort((x, y) => x - y), sessions.map((s) => s.id).sort((x, y) => x - y));
  for (const s of sessions) s.destroy();
  await Promise.all(sockets);
  assert.throws(() => NativeServer.__setNextConnectionId(2 ** 53), /not an integer in 1\.\.2\^53/);
});
