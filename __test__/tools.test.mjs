// The tool helpers: a missing tool skips outside CI and fails under CI=true; the npm
// FFmpeg and ffprobe work without their packages' install scripts (npm 11 skips them);
// the modern FFmpeg (.ci/run's venv or FFMPEG9_PATH) is an FFmpeg 8+ that muxes
// Enhanced RTMP FLV (FourCC HEVC, two audio tracks).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ffmpegMajor, ffmpegPath, modernFfmpegPath, modernFfmpegSkip } from './helpers/ffmpeg.mjs';
import { runCommand } from './helpers/process.mjs';
import { which } from './helpers/tools.mjs';

const require = createRequire(import.meta.url);
const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-tools-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This process's environment without CI, the FFmpeg overrides and node --test's own variable, plus `extra`. */
function env(extra = {}) {
  const e = { ...process.env, ...extra };
  for (const k of ['CI', 'FFMPEG_PATH', 'FFPROBE_PATH', 'FFMPEG9_PATH', 'NODE_TEST_CONTEXT']) if (!(k in extra)) delete e[k];
  return e;
}

test('a test needing a missing tool skips outside CI and fails the run under CI=true', async () => {
  const file = path.join(dir, 'needs-tool.test.mjs');
  writeFileSync(file, `import { test } from 'node:test';
import { toolSkip } from ${JSON.stringify(pathToFileURL(path.join(helpers, 'tools.mjs')).href)};
test('needs a tool', { skip: toolSkip('frobnicator is not installed') }, () => {});
test('needs nothing', { skip: toolSkip(false) }, () => {});
`);
  const local = await runCommand(process.execPath, ['--test', file], { env: env() });
  assert.equal(local.code, 0, local.stdout + local.stderr);
  assert.match(local.stdout, /# SKIP frobnicator is not installed/);
  assert.match(local.stdout, /# pass 1\n# fail 0\n# cancelled 0\n# skipped 1/);
  const ci = await runCommand(process.execPath, ['--test', file], { env: env({ CI: 'true' }) });
  assert.equal(ci.code, 1, ci.stdout + ci.stderr);
  assert.match(ci.stdout + ci.stderr, /CI=true and a tool the tests need is missing: frobnicator is not installed/);
  assert.doesNotMatch(ci.stdout, /# skipped [1-9]/);
});

// The @ffmpeg-installer / @ffprobe-installer packages make their binary executable in a
// postinstall that npm 11 skips: ffmpeg.mjs must do it itself.
test('the npm FFmpeg and ffprobe run when their install scripts did not', async (t) => {
  const bins = [require('@ffmpeg-installer/ffmpeg').path, require('@ffprobe-installer/ffprobe').path];
  const modes = bins.map((b) => statSync(b).mode & 0o777);
  t.diagnostic(`modes as npm installed them: ${modes.map((m) => m.toString(8)).join(', ')}`);
  t.after(() => bins.forEach((b, i) => chmodSync(b, modes[i] | 0o100)));
  for (const b of bins) chmodSync(b, 0o644);
  // No PATH: the helpers fall back to the npm packages.
  const script = `import { ffmpegPath, ffprobePath } from ${JSON.stringify(pathToFileURL(path.join(helpers, 'ffmpeg.mjs')).href)};
import { execFileSync } from 'node:child_process';
for (const p of [ffmpegPath(), ffprobePath()]) console.log(p, execFileSync(p, ['-version'], { encoding: 'utf8' }).split('\\n')[0]);`;
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', script], { env: env({ PATH: '' }) });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2, r.stdout);
  assert.ok(lines[0].startsWith(`${bins[0]} ffmpeg version`), lines[0]);
  assert.ok(lines[1].startsWith(`${bins[1]} ffprobe version`), lines[1]);
  for (const b of bins) assert.ok(statSync(b).mode & 0o100, `${b} made executable`);
});

test('ffmpegPath prefers FFMPEG_PATH, then PATH, then npm', { skip: !which('ffmpeg') && 'no ffmpeg on PATH to prefer (this case only checks the order)' }, async () => {
  const script = `import { ffmpegPath } from ${JSON.stringify(pathToFileURL(path.join(helpers, 'ffmpeg.mjs')).href)}; console.log(ffmpegPath())`;
  const onPath = await runCommand(process.execPath, ['--input-type=module', '-e', script], { env: env() });
  assert.equal(onPath.stdout.trim(), which('ffmpeg'), onPath.stderr);
  const pinned = await runCommand(process.execPath, ['--input-type=module', '-e', script], { env: env({ FFMPEG_PATH: '/opt/x/ffmpeg' }) });
  assert.equal(pinned.stdout.trim(), '/opt/x/ffmpeg', pinned.stderr);
  assert.notEqual(ffmpegPath(), modernFfmpegPath(), 'the legacy tests keep their FFmpeg');
});

test('FFMPEG9_PATH set to an FFmpeg older than 8 is an error, not a silent fallback', async () => {
  const script = `import { modernFfmpegPath } from ${JSON.stringify(pathToFileURL(path.join(helpers, 'ffmpeg.mjs')).href)}; modernFfmpegPath()`;
  const old = ffmpegPath();
  const major = ffmpegMajor(old);
  assert.ok(major >= 4 && major < 8, `the legacy FFmpeg ${old} is ${major}`);
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', script], { env: env({ FFMPEG9_PATH: old }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`is FFmpeg ${major}, want 8 or later`));
});

test('the modern FFmpeg muxes Enhanced RTMP FLV: FourCC HEVC and two Opus tracks', { skip: modernFfmpegSkip() }, async (t) => {
  const ff = modernFfmpegPath();
  t.diagnostic(`${ff}: FFmpeg ${ffmpegMajor(ff)}`);
  const out = path.join(dir, 'multitrack.flv');
  const r = await runCommand(ff, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine', '-f', 'lavfi', '-i', 'sine=frequency=880',
    '-t', '1', '-map', '0:v', '-map', '1:a', '-map', '2:a', '-c:v', 'libx265', '-x265-params', 'log-level=none',
    '-c:a', 'libopus', '-f', 'flv', out], { timeoutMs: 120000 });
  assert.equal(r.code, 0, r.stderr);
  const bytes = readFileSync(out);
  // Enhanced RTMP: an ExVideoTagHeader with FourCC 'hvc1', audio FourCC 'Opus'.
  assert.ok(bytes.includes('hvc1') && bytes.includes('Opus'), 'FourCC headers in the FLV');
  const probe = await runCommand(ff, ['-hide_banner', '-i', out]);
  const streams = probe.stderr.split('\n').filter((l) => /Stream #0:\d/.test(l));
  assert.equal(streams.length, 3, probe.stderr);
  assert.match(streams[0], /Video: hevc/);
  assert.equal(streams.filter((l) => /Audio: opus/.test(l)).length, 2, 'both audio tracks read back');
});
