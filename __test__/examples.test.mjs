// The runnable examples (examples/*.js), each started as its users start it — a child
// process with PORT=0 — and checked against FFmpeg, ffprobe and the package's client:
// publish/play clients, the key-checking server, the recorder, origin/edge, push,
// cluster, and the README's modern API server.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish, record, probeFrames } from './helpers/ffmpeg.mjs';
import { runCommand, startListeningServer } from './helpers/process.mjs';

const require = createRequire(import.meta.url);
const { RtmpClient } = require('../index.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const root = path.join(here, '..');
const example = (name) => path.join(root, 'examples', name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let flv;

before(async () => {
  flv = await makeFlv(path.join(fixtures, 'examples.flv'), { seconds: 4, fps: 25, gop: 25 });
});

/**
 * Starts examples/`name` (killed when the test ends); resolves its port and output.
 * server.js serves /metrics on a free port (HTTP_PORT=0) unless `env` says otherwise.
 */
async function startExample(t, name, env = {}) {
  const started = await startListeningServer(process.execPath, [path.isAbsolute(name) ? name : example(name)], { env: { HTTP_PORT: '0', ...env } });
  t.after(() => started.child.kill());
  return started;
}

/** Polls `check()` until it returns something truthy; resolves that, or rejects with `what()`. */
async function waitFor(check, what, timeoutMs = 10000) {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const value = check();
    if (value) return value;
    await sleep(50);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what()}`);
}

/** Asserts ffprobe decodes `file` cleanly with at least `min` video and audio frames. */
async function assertDecodes(file, min) {
  const { frames, errors } = await probeFrames(file);
  assert.equal(errors.trim(), '', `${file}: ffprobe decodes without errors`);
  assert.ok(frames.video >= min && frames.audio >= min, `${file}: decoded ${JSON.stringify(frames)}`);
}

test('examples/publish.js publishes a file that examples/play.js plays through examples/server.js', async (t) => {
  const { port } = await startExample(t, 'server.js', { RTMP_QUIET: '1' });
  const url = `rtmp://127.0.0.1:${port}/live/clients`;
  const playing = runCommand(process.execPath, [example('play.js'), url, '15'], { timeoutMs: 30000 });
  await sleep(500);
  const published = await runCommand(process.execPath, [example('publish.js'), flv, url], { timeoutMs: 30000 });
  assert.equal(published.code, 0, published.stderr);
  assert.match(published.stdout, /NetStream\.Publish\.Start/);
  const played = await playing;
  assert.equal(played.code, 0, played.stderr);
  // Ends on UnpublishNotify, long before 15 s: 4 s at 25 fps, a keyframe a second.
  const [, video, keyframes, audio] = /played (\d+) video frames \((\d+) keyframes\), (\d+) audio frames/.exec(played.stdout).map(Number);
  assert.ok(video >= 90 && keyframes >= 3 && audio >= 150, played.stdout);
  assert.match(played.stdout, /metadata: .*"width":320/);
});

test('examples/auth.js refuses a publisher without a valid key and relays one with it', async (t) => {
  const { port } = await startExample(t, 'auth.js', { RTMP_QUIET: '1', PUBLISH_KEYS: 's3cret,other' });
  const base = `rtmp://127.0.0.1:${port}/live`;
  for (const name of ['guarded', 'guarded?key=wrong']) {
    const client = new RtmpClient();
    await client.connect(`${base}/${name}`);
    await assert.rejects(client.publish(), (err) => err.code === 'ERR_RTMP_PUBLISH' && err.info.code === 'NetStream.Publish.BadName');
    await client.close();
  }
  const refused = await publish(`${base}/guarded?key=nope`, flv, { timeoutMs: 20000 });
  assert.notEqual(refused.code, 0, 'FFmpeg fails to publish with a bad key');

  const publishing = publish(`${base}/guarded?key=s3cret`, flv, { realtime: true, timeoutMs: 30000 });
  await sleep(1500);
  const out = path.join(fixtures, 'auth-player.flv');
  const played = await record(`${base}/guarded`, out, { seconds: 1.5, timeoutMs: 20000 });
  assert.equal(played.code, 0, played.stderr);
  assert.equal((await publishing).code, 0);
  await assertDecodes(out, 20);
});

test('examples/recorder.js writes each publication into an FLV that ffprobe decodes', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-rec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { port, output } = await startExample(t, 'recorder.js', { RTMP_QUIET: '1', RECORD_DIR: dir });
  const r = await publish(`rtmp://127.0.0.1:${port}/live/taped`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const [, file] = await waitFor(() => /recorded (\S+\.flv)/.exec(output()), () => `a "recorded" line in:\n${output()}`);
  assert.deepEqual(readdirSync(dir), [path.basename(file)]);
  assert.match(path.basename(file), /^live-taped-.*\.flv$/);
  // 4 s at 25 fps and 44.1 kHz AAC (1024 samples a frame): every frame is in the file.
  await assertDecodes(file, 100);
});

test('examples/edge.js pulls a stream from the origin once, for all its players', async (t) => {
  const origin = await startExample(t, 'server.js');
  const edge = await startExample(t, 'edge.js', { RTMP_QUIET: '1', ORIGIN: `rtmp://127.0.0.1:${origin.port}` });
  const publishing = publish(`rtmp://127.0.0.1:${origin.port}/live/far`, flv, { realtime: true, timeoutMs: 30000 });
  await sleep(1000);
  const players = [0, 1].map((i) => {
    const out = path.join(fixtures, `edge-player-${i}.flv`);
    return record(`rtmp://127.0.0.1:${edge.port}/live/far`, out, { seconds: 2, timeoutMs: 20000 }).then((res) => ({ ...res, out }));
  });
  // A player that comes once the pull runs starts from the edge's caches, metadata first.
  await sleep(500);
  const late = new RtmpClient();
  t.after(() => late.close());
  await late.connect(`rtmp://127.0.0.1:${edge.port}/live/far`);
  const metadata = new Promise((resolve) => late.on('data', (msg) => {
    if (msg.dec.includes('onMetaData')) resolve(msg.dec[msg.dec.length - 1]);
  }));
  await late.play();
  const meta = await Promise.race([metadata, sleep(3000).then(() => null)]);
  assert.equal(meta?.width, 320, 'a late player at the edge gets the metadata');
  for (const p of await Promise.all(players)) {
    assert.equal(p.code, 0, p.stderr);
    await assertDecodes(p.out, 30);
  }
  assert.equal((await publishing).code, 0);
  // The origin saw one player, the edge's pull, however many played at the edge, for
  // as long as the publication lasted. (After it, the edge plays on at the origin for
  // the late player still watching, waiting for the next publication.)
  const log = await waitFor(() => /^[^]*?unpublished live\/far/.exec(origin.output())?.[0], () => origin.output());
  assert.equal(log.match(/playing live\/far/g)?.length, 1, log);
});

// One edge player watches while FFmpeg publishes `live/twice` twice, each time to the
// server named: it gets every publication and the UnpublishNotify ending it.
for (const [behaviour, servers] of [
  ['tells its players when the origin\'s publisher stops, and relays the next publication', ['origin', 'origin']],
  ['lets a publication on the edge take over from its pull, then serves its players from the origin again', ['edge', 'origin']],
]) {
  test(`examples/edge.js ${behaviour}`, async (t) => {
    const origin = await startExample(t, 'server.js', { RTMP_QUIET: '1' });
    const edge = await startExample(t, 'edge.js', { RTMP_QUIET: '1', ORIGIN: `rtmp://127.0.0.1:${origin.port}` });
    const ports = { origin: origin.port, edge: edge.port };
    const player = new RtmpClient();
    t.after(() => player.close());
    await player.connect(`rtmp://127.0.0.1:${edge.port}/live/twice`);
    let frames = 0;
    player.on('video', () => { frames++; });
    const unpublished = () => new Promise((resolve) => {
      const onStatus = (info) => {
        if (info.code !== 'NetStream.Play.UnpublishNotify') return;
        player.off('status', onStatus);
        resolve();
      };
      player.on('status', onStatus);
    });
    await player.play();
    await sleep(500); // the edge's pull is waiting at the origin
    for (const [round, server] of servers.entries()) {
      const before = frames;
      const ended = unpublished();
      const r = await publish(`rtmp://127.0.0.1:${ports[server]}/live/twice`, flv, { timeoutMs: 30000 });
      assert.equal(r.code, 0, r.stderr);
      await ended;
      assert.ok(frames - before >= 90, `publication ${round + 1} (to the ${server}): ${frames - before} video frames reached the edge's player`);
      await sleep(500); // and again, after the publication ended
    }
  });
}

test('examples/push.js pushes a publication to another server, where FFmpeg plays it', async (t) => {
  const origin = await startExample(t, 'server.js', { RTMP_QUIET: '1' });
  const pusher = await startExample(t, 'push.js', { RTMP_QUIET: '1', PUSH_TO: `rtmp://127.0.0.1:${origin.port}/live` });
  const publishing = publish(`rtmp://127.0.0.1:${pusher.port}/live/onward`, flv, { realtime: true, timeoutMs: 30000 });
  await sleep(1500);
  const out = path.join(fixtures, 'pushed-player.flv');
  const played = await record(`rtmp://127.0.0.1:${origin.port}/live/onward`, out, { seconds: 1.5, timeoutMs: 20000 });
  assert.equal(played.code, 0, played.stderr);
  assert.equal((await publishing).code, 0);
  await assertDecodes(out, 20);
});

test('the README\'s modern API server relays FFmpeg\'s stream to an FFmpeg player', async (t) => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The modern API'));
  const code = /```js\n([^]*?)```/.exec(section)[1]
    .replace("require('node-rtmpapi')", `require(${JSON.stringify(root)})`)
    .replace('server.listen(1935);', 'server.listen(0, () => console.log(`listening on rtmp://127.0.0.1:${server.address().port}`));');
  assert.match(code, /listening on/, 'the README snippet still ends with server.listen(1935)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'server.js'), code);
  const { port } = await startExample(t, path.join(dir, 'server.js'));
  const url = `rtmp://127.0.0.1:${port}/live/readme`;
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000 });
  await sleep(1000);
  const out = path.join(fixtures, 'readme-player.flv');
  const played = await record(url, out, { seconds: 1.5, timeoutMs: 20000 });
  assert.equal(played.code, 0, played.stderr);
  assert.equal((await publishing).code, 0);
  await assertDecodes(out, 20);
});

test('examples/cluster.js: two workers share the port, and players on either worker get a stream published to one', { skip: process.platform !== 'linux' && 'the kernel spreads SO_REUSEPORT connections on Linux' }, async (t) => {
  const { port, output } = await startExample(t, 'cluster.js', { WORKERS: '2' });
  const url = `rtmp://127.0.0.1:${port}/live/spread`;
  const long = await makeFlv(path.join(fixtures, 'examples-long.flv'), { seconds: 12, fps: 25, gop: 25 });
  const publishing = publish(url, long, { realtime: true, timeoutMs: 30000 });
  await sleep(1000);
  const workerOf = (localPort) => new RegExp(`worker (\\d+) accepted \\S*:${localPort}\\n`).exec(output())?.[1];
  // Linux picks a worker by a hash of each connection's 4-tuple (the client port
  // varies): players come until two workers have served one, each watching the stream
  // (16 all on one worker: odds of 2^-15).
  const served = new Set();
  for (let i = 0; i < 16 && served.size < 2; i++) {
    const player = new RtmpClient();
    await player.connect(url);
    let frames = 0;
    const watching = new Promise((resolve) => player.on('video', () => { if (++frames === 10) resolve(); }));
    await player.play();
    await Promise.race([watching, sleep(5000)]);
    assert.equal(frames >= 10, true, `player ${i} got ${frames} video frames`);
    served.add(await waitFor(() => workerOf(player.sock.localPort), () => `the worker of player ${i} in:\n${output()}`));
    await player.close();
  }
  assert.equal(served.size, 2, output());
  assert.equal((await publishing).code, 0);
});

test('npm start (examples/server.js) serves Prometheus metrics on $HTTP_PORT and closes gracefully on SIGTERM', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  // Node options are allowed (bench/lib/contenders.mjs runs our contenders with them).
  assert.match(pkg.scripts.start, /^node(?: --\S+)* examples\/server\.js$/);
  const { port, child, output } = await startExample(t, 'server.js', { RTMP_QUIET: '1', HTTP_PORT: '0' });
  const [, httpPort] = await waitFor(() => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(output()), () => output());
  const url = `rtmp://127.0.0.1:${port}/live/scraped`;
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000 });
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  };
  let value;
  for (let i = 0; i < 100; i++) {
    value = await scrape();
    if (value('rtmpapi_publishers') === 1 && value('rtmpapi_stream_bitrate_bits_per_second') > 0) break;
    await sleep(100);
  }
  assert.equal(value('rtmpapi_publishers'), 1);
  assert.ok(value('rtmpapi_received_bytes_total') > 0);
  assert.ok(value('rtmpapi_stream_bitrate_bits_per_second') > 0);
  assert.equal((await fetch(`http://127.0.0.1:${httpPort}/other`)).status, 404);
  // SIGTERM mid-publication: the server closes (FFmpeg's publication ends) and exits 0.
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const killedAt = performance.now();
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  assert.ok(performance.now() - killedAt < 5000, 'exited within seconds');
  await publishing;
});
