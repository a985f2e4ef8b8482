// fuzz/run.sh itself: run with stand-in targets (FUZZ_BIN_DIR skips the build), it fails
// when a target crashes, dies on a signal or exits non-zero, names the target and the
// input kept under fuzz/artifacts/<target>/, still runs the other targets, and passes
// only when every target exits 0.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './helpers/process.mjs';

const fuzzDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fuzz');
const script = path.join(fuzzDir, 'run.sh');
const bin = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-fuzz-script-'));
const prefix = `selftest-${process.pid}`;
const made = [];

/** Writes an executable stand-in target `name` that runs the shell `body` (libFuzzer's arguments in "$@"). */
function fake(name, body) {
  const full = `${prefix}-${name}`;
  writeFileSync(path.join(bin, full), `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(bin, full), 0o755);
  made.push(full);
  return full;
}

// What a target does after libFuzzer found a crashing input: saves it under the prefix and exits 77.
const crash = fake('crash', `for a in "$@"; do case "$a" in -artifact_prefix=*) p=\${a#-artifact_prefix=};; esac; done
printf 'bad input' > "\${p}crash-0123abcd"
echo "==4242== ERROR: libFuzzer: deadly signal"
echo "artifact_prefix='$p'; Test unit written to \${p}crash-0123abcd"
exit 77`);
const signal = fake('segv', 'echo "about to die"; kill -SEGV $$');
const status3 = fake('exit3', 'echo "thread main panicked at src/x.rs"; exit 3');
const pass = fake('pass', `case "$*" in *-max_total_time=1*) ;; *) echo "wrong arguments: $*"; exit 9;; esac
echo "Done 1000 runs in 1 second(s)"; exit 0`);

after(() => {
  rmSync(bin, { recursive: true, force: true });
  for (const name of made) {
    for (const p of [path.join('artifacts', name), path.join('target', 'corpus', name), path.join('target', 'logs', `${name}.log`)]) {
      rmSync(path.join(fuzzDir, p), { recursive: true, force: true });
    }
  }
});

const runScript = (...targets) => runCommand('bash', [script, '1', ...targets], { timeoutMs: 60000, env: { ...process.env, FUZZ_BIN_DIR: bin } });

const skip = process.platform === 'win32' && 'fuzz/run.sh is a bash script for Linux and macOS';

test('a target that crashes fails the run, named with the input it kept', { skip }, async (t) => {
  const r = await runScript(crash);
  t.diagnostic(r.stdout.trim().split('\n').slice(-3).join(' / '));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`fuzz: ${crash} FAILED \\(exit 77\\)`));
  assert.match(r.stdout, new RegExp(`input kept: fuzz/artifacts/${crash}/crash-0123abcd`));
  assert.match(r.stdout, /deadly signal/);
  assert.equal(readFileSync(path.join(fuzzDir, 'artifacts', crash, 'crash-0123abcd'), 'utf8'), 'bad input');
});

test('a target that dies on a signal or exits non-zero without an artifact fails the run', { skip }, async () => {
  for (const [target, code] of [[signal, 139], [status3, 3]]) {
    const r = await runScript(target);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`fuzz: ${target} FAILED \\(exit ${code}\\)`));
    assert.match(r.stdout, /none written under fuzz\/artifacts\//);
  }
});

test('every target runs; the summary names each one that failed', { skip }, async () => {
  const r = await runScript(crash, pass, status3);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`fuzz: ${pass} for 1s\\n.*Done 1000 runs`));
  assert.match(r.stdout, new RegExp(`fuzz: 2 of 3 targets failed: ${crash} ${status3} `));
  assert.ok(!r.stdout.includes(`${pass} FAILED`));
});

test('targets that all exit 0 pass the run', { skip }, async () => {
  const r = await runScript(pass, pass);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /fuzz: 2 targets ran 1s each without a failure/);
  assert.ok(existsSync(path.join(fuzzDir, 'artifacts', pass)));
  assert.deepEqual(readdirSync(path.join(fuzzDir, 'artifacts', pass)), []);
});
