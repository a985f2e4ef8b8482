// Panic containment, with the fault injection hook (`__injectPanic`) that only an addon
// built with the `test-hooks` cargo feature has: `npm test` builds one into
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

test('the release addon has no fault injection hook; the test-hooks addon has', () => {
  const { NativeSession } = require('../binding.js');
  assert.equal(typeof NativeSession.prototype.__injectPanic, 'function', 'the test-hooks build is loaded');
  const env = { ...process.env };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  const probe = "process.stdout.write(typeof require('./binding.js').NativeSession.prototype.__injectPanic)";
  const release = execFileSync(process.execPath, ['-e', probe], { cwd: root, env, encoding: 'utf8' });
  assert.equal(release, 'undefined', 'the package\'s own (release) addon');
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
