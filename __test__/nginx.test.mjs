// Interop with nginx-rtmp (Debian packages nginx + libnginx-mod-rtmp, installed by
// .ci/run): the package's client publishes and FFmpeg plays back from nginx; FFmpeg
// publishes and the package's client plays.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish, record } from './helpers/ffmpeg.mjs';
import { isKeyframe, readFlv } from './helpers/flv.mjs';
import { NGINX, NGINX_MODULE as MODULE, nginxConf } from './helpers/nginx.mjs';
import { freePort, runCommand } from './helpers/process.mjs';
import { toolSkip } from './helpers/tools.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const cli = path.join(here, '..', 'bin', 'rtmpapi.js');
const missing = !existsSync(NGINX) || !existsSync(MODULE);
const skip = toolSkip(missing && 'nginx with the RTMP module is not installed (.ci/run installs it: apt-get install nginx libnginx-mod-rtmp)');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let nginx;
let port;
let dir;
let flv;
const runCli = (args) => runCommand(process.execPath, [cli, ...args]);

before(async () => {
  if (missing) return;
  flv = await makeFlv(path.join(fixtures, 'nginx.flv'), { seconds: 5, fps: 25, gop: 25 });
  port = await freePort();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf({ dir, port, logLevel: 'info' }));
  nginx = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error('nginx did not start');
});

after(() => {
  if (nginx) nginx.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function assertRecording(file, minFrames) {
  const { tags } = readFlv(file);
  const video = tags.filter((t) => t.type === 9 && t.data[1] !== 0);
  assert.ok(video.length >= minFrames, `${video.length} video frames`);
  assert.ok(tags.some((t) => t.type === 8 && t.data[1] !== 0), 'audio');
  assert.ok(isKeyframe(video[0]), 'starts on a keyframe');
}

test('the client publishes to nginx-rtmp and FFmpeg plays it back', { skip }, async () => {
  const url = `rtmp://127.0.0.1:${port}/live/fromclient`;
  const publishing = runCli(['publish', flv, url]);
  await sleep(1200);
  const out = path.join(fixtures, 'nginx-ffmpeg-player.flv');
  const r = await record(url, out, { seconds: 2, timeoutMs: 20000 });
  assert.equal(r.code, 0, r.stderr);
  assertRecording(out, 25);
  const p = await publishing;
  assert.equal(p.code, 0, p.stderr);
});

test('FFmpeg publishes to nginx-rtmp and the client plays it', { skip }, async () => {
  const url = `rtmp://127.0.0.1:${port}/live/fromffmpeg`;
  const stop = new AbortController();
  const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000, signal: stop.signal }).catch(() => {});
  await sleep(1200);
  const out = path.join(fixtures, 'nginx-client-player.flv');
  const r = await runCli(['play', url, out, '--duration', '2']);
  assert.equal(r.code, 0, r.stderr);
  assertRecording(out, 25);
  stop.abort();
  await publishing;
});
