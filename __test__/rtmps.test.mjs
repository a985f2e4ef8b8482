// RTMPS: the server and the client over TLS with a certificate made at test time
// (openssl, installed by .ci/run). FFmpeg's rtmps client publishes and plays; the
// package's client publishes and plays, trusting the test certificate; a client that
// does not trust it, and a plain RTMP client, are refused with clear errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish, record, probeFrames } from './helpers/ffmpeg.mjs';
import { readFlv } from './helpers/flv.mjs';
import { startIngestServer } from './helpers/ingest-server.mjs';
import { runCommand, startListeningServer } from './helpers/process.mjs';
import { toolSkip, which } from './helpers/tools.mjs';

const require = createRequire(import.meta.url);
const { RtmpClient, rtmpServer } = require('../index.js');
const { createLiveServer } = require('../examples/server.js');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const skip = toolSkip(!which('openssl') && 'openssl is not installed: it makes the test certificate (.ci/run installs it: apt-get install openssl)');
if (skip) console.error(`SKIPPING the RTMPS tests: ${skip}`);

let dir;
let tls;
let ca;
let flv;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-tls-'));
  // A test CA and a leaf certificate it signs for localhost and 127.0.0.1 (webpki, like
  // browsers, refuses a CA certificate used as the server's own).
  const file = (name) => path.join(dir, name);
  const run = (...args) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=node-rtmpapi test CA');
  run('req', ...ec, '-keyout', file('key.pem'), '-out', file('leaf.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('cert.pem'), '-days', '1', '-extfile', file('leaf.ext'));
  tls = { cert: readFileSync(file('cert.pem'), 'utf8'), key: readFileSync(file('key.pem')) };
  ca = readFileSync(file('ca.pem'), 'utf8');
  flv = await makeFlv(path.join(fixtures, 'rtmps.flv'), { seconds: 2, fps: 25, gop: 25 });
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const digest = (b) => createHash('sha1').update(b).digest('hex');

test('FFmpeg publishes over rtmps:// and every frame arrives', { skip }, async (t) => {
  const server = await startIngestServer({ tls });
  t.after(() => server.close());
  const r = await publish(`rtmps://127.0.0.1:${server.port}/live/secure`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  await server.closed;
  const { tags } = readFlv(flv);
  for (const [kind, type] of [['audio', 8], ['video', 9]]) {
    const got = server.messages.filter((m) => m.type === kind).map((m) => digest(m.data));
    assert.deepEqual(got, tags.filter((tg) => tg.type === type).map((tg) => digest(tg.data)), `${kind} arrived whole`);
  }
  assert.deepEqual(server.errors, []);
});

test('the package client publishes over RTMPS and FFmpeg plays the stream over RTMPS', { skip }, async (t) => {
  const server = createLiveServer({ quiet: true, tls });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  assert.equal(server.secure, true);
  const port = server.address().port;
  // The client checks the certificate's DNS name; the static FFmpeg build crashes
  // resolving host names, so it gets the address.
  const publisher = new RtmpClient();
  await publisher.connect(`rtmps://localhost:${port}/live/both`, { tls: { ca } });
  await publisher.publish();
  const { tags } = readFlv(flv);
  const out = path.join(dir, 'played.flv');
  const playing = record(`rtmps://127.0.0.1:${port}/live/both`, out, { seconds: 1.5, timeoutMs: 30000 });
  // Real time: the player joins while the stream runs.
  const started = Date.now();
  for (const tag of tags) {
    const wait = tag.timestamp - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (tag.type === 9) publisher.sendVideo(tag.data, tag.timestamp);
    else if (tag.type === 8) publisher.sendAudio(tag.data, tag.timestamp);
    else if (tag.type === 18) publisher.sendData(tag.data, tag.timestamp);
  }
  const r = await playing;
  await publisher.close();
  assert.equal(r.code, 0, `${r.signal} ${r.stderr}`);
  const { frames, errors } = await probeFrames(out);
  assert.equal(errors, '');
  assert.ok(frames.video >= 20, `video frames played: ${frames.video}`);
  assert.ok(frames.audio >= 20, `audio frames played: ${frames.audio}`);
});

test('the package client plays over RTMPS what FFmpeg publishes over RTMPS', { skip }, async (t) => {
  const server = createLiveServer({ quiet: true, tls });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = server.address().port;
  const player = new RtmpClient();
  await player.connect(`rtmps://127.0.0.1:${port}/live/cam`, { tls: { ca } });
  const video = [];
  player.on('video', (data) => video.push(digest(data)));
  await player.play();
  const r = await publish(`rtmps://127.0.0.1:${port}/live/cam`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const want = readFlv(flv).tags.filter((tg) => tg.type === 9).map((tg) => digest(tg.data));
  const deadline = Date.now() + 10000;
  while (video.length < want.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  await player.close();
  assert.deepEqual(video, want, 'every video frame reached the player in order');
});

test('a client that does not trust the certificate, and a plain RTMP client, are refused', { skip }, async (t) => {
  const server = rtmpServer().createServer(() => {}, { tls, handshakeTimeoutMs: 1000 });
  const tlsErrors = [];
  server.on('tlsClientError', (e) => tlsErrors.push(e));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = server.address().port;

  const untrusting = new RtmpClient();
  await assert.rejects(untrusting.connect(`rtmps://localhost:${port}/live/x`), (e) => e.code === 'ERR_RTMP_TLS' && /certificate/i.test(e.message));

  // With verification off the TLS and RTMP handshakes complete; this server's app never
  // answers connect, so the client times out at the command stage, not before.
  const trusting = new RtmpClient();
  await assert.rejects(trusting.connect(`rtmps://localhost:${port}/live/x`, { tls: { rejectUnauthorized: false }, timeoutMs: 800 }),
    (e) => e.code === 'ERR_RTMP_TIMEOUT' && /^connect timed out/.test(e.message));
  await trusting.close();

  const plain = net.connect(port, '127.0.0.1');
  plain.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  plain.on('error', () => {});
  plain.resume();
  await once(plain, 'close');
  const deadline = Date.now() + 5000;
  while (tlsErrors.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  assert.ok(tlsErrors.length >= 2, `tlsClientError for the untrusting and the plain client: ${tlsErrors.map((e) => e.message)}`);
  assert.ok(tlsErrors.every((e) => e.code === 'ERR_RTMP_TLS'), tlsErrors.map((e) => e.code).join());
});

test('bad TLS options throw a TypeError', { skip }, () => {
  assert.throws(() => rtmpServer().createServer(() => {}, { tls: { cert: tls.cert } }), TypeError);
  assert.throws(() => rtmpServer().createServer(() => {}, { tls: { cert: 'not a pem', key: tls.key } }), TypeError);
  assert.throws(() => rtmpServer().createServer(() => {}, { tls: { cert: tls.cert, key: 42 } }), TypeError);
  assert.rejects(new RtmpClient().connect('rtmps://127.0.0.1:1/live/x', { tls: { ca: 'garbage' } }), TypeError);
});

test('the CLI serves, publishes and plays over RTMPS', { skip }, async (t) => {
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'rtmpapi.js');
  const server = await startListeningServer(process.execPath, [cli, 'serve', '--port', '0', '--cert', path.join(dir, 'cert.pem'), '--key', path.join(dir, 'key.pem')]);
  t.after(() => server.child.kill('SIGTERM'));
  assert.match(server.output(), /listening on rtmps:\/\//);
  const url = `rtmps://localhost:${server.port}/live/cli`;
  const out = path.join(dir, 'cli-played.flv');
  const playing = runCommand(process.execPath, [cli, 'play', url, out, '--insecure', '--duration', '3'], { timeoutMs: 30000 });
  await new Promise((r) => setTimeout(r, 300));
  const published = await runCommand(process.execPath, [cli, 'publish', flv, url, '--ca', path.join(dir, 'ca.pem')], { timeoutMs: 30000 });
  assert.equal(published.code, 0, published.stderr);
  const played = await playing;
  assert.equal(played.code, 0, played.stderr);
  const { frames } = await probeFrames(out);
  assert.ok(frames.video >= 40, `video frames recorded: ${frames.video}`);
  // Without --ca the test CA is unknown: a connection failure (exit 2) naming the certificate.
  const refused = await runCommand(process.execPath, [cli, 'publish', flv, url], { timeoutMs: 30000 });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /certificate/i);
});
