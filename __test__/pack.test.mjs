// Drop-in install: `npm pack` makes a tarball that installs into another project with no
// Rust toolchain on PATH, and the original README's server example runs from it
// against FFmpeg.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish } from './helpers/ffmpeg.mjs';
import { runCommand, startListeningServer } from './helpers/process.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, '__test__', 'fixtures');

test('the packed tarball installs without Rust and runs the README server example', { timeout: 300000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = await runCommand(npm, ['pack', '--pack-destination', dir, root], { timeoutMs: 120000 });
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  const app = path.join(dir, 'app');
  const example = readFileSync(path.join(root, 'examples', 'readme-server.js'), 'utf8').replace("require('..')", "require('node-rtmpapi')");
  await import('node:fs').then((fs) => fs.mkdirSync(app));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  writeFileSync(path.join(app, 'server.js'), example);
  // No cargo on PATH: the platform binary travels in the tarball.
  const path0 = (process.env.PATH || '').split(path.delimiter).filter((p) => !p.includes('.cargo')).join(path.delimiter);
  const installed = await new Promise((resolve) => {
    const child = spawn(npm, ['install', '--no-audit', '--no-fund', path.join(dir, tarball)], { cwd: app, env: { ...process.env, PATH: path0 }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, err }));
  });
  assert.equal(installed.code, 0, installed.err);

  const { child: server, port, output } = await startListeningServer(process.execPath, ['server.js'], { cwd: app });
  t.after(() => server.kill());
  const flv = await makeFlv(path.join(fixtures, 'pack.flv'), { seconds: 2, fps: 25, gop: 25 });
  const r = await publish(`rtmp://127.0.0.1:${port}/live/packed`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100 && !/^close$/m.test(output()); i++) await new Promise((res) => setTimeout(res, 50));
  const out = output();
  assert.match(out, /amf0cmd \{"cmd":"publish"/);
  assert.ok((out.match(/^video /gm) || []).length >= 50, 'video arrived through the installed package');
});
