// The release path, as the publish job of .github/workflows/build.yml runs it: the built
// binary goes through `napi artifacts` into npm/<platform>/, `napi prepublish` adds the
// platform packages to the root's optionalDependencies, and both packages are packed.
// The two tarballs then install into a fresh app with no Rust toolchain on PATH and no
// registry (npm --offline, an empty cache): the root carries no `.node`, the platform
// package does, the loader picks it, and the original README's server example runs
// against FFmpeg. Last, the loader's error when the platform binary is missing or broken.
//
// Keep the steps in step with the workflow's publish job.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeFlv, publish } from './helpers/ffmpeg.mjs';
import { startListeningServer } from './helpers/process.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, '__test__', 'fixtures');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const napiCli = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
const execFileP = promisify(execFile);

/** Runs a command to completion; rejects with its output when it fails. */
async function run(cmd, args, { cwd, env = process.env, timeoutMs = 120000 } = {}) {
  try {
    return await execFileP(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${e.code ?? e.signal}):\n${e.stdout}\n${e.stderr}`);
  }
}

/** The files under `dir`, relative, recursively. */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)));
}

function hasExecutable(dir, name) {
  for (const ext of process.platform === 'win32' ? ['.exe', '.cmd', ''] : ['']) {
    try { accessSync(path.join(dir, name + ext), constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

/** npm/<dir> whose os, cpu and libc fields match this host. */
function hostPackageDir() {
  const glibc = process.report.getReport().header.glibcVersionRuntime;
  const libc = process.platform === 'linux' ? (glibc ? 'glibc' : 'musl') : undefined;
  return readdirSync(path.join(root, 'npm')).find((d) => {
    const p = JSON.parse(readFileSync(path.join(root, 'npm', d, 'package.json'), 'utf8'));
    return p.os.includes(process.platform) && p.cpu.includes(process.arch) && (!p.libc || p.libc.includes(libc));
  });
}

/** Requires node-rtmpapi in `cwd`; resolves what it threw ({ code, message }) or 'loaded'. */
async function tryRequire(cwd, env) {
  const script = "try { require('node-rtmpapi'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }";
  const { stdout } = await run(process.execPath, ['-e', script], { cwd, env, timeoutMs: 30000 });
  return stdout.trim() === 'loaded' ? 'loaded' : JSON.parse(stdout);
}

test('the release layout installs from its tarballs without Rust or a registry, and the README server example runs', { timeout: 300000 }, async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const binaryName = pkg.napi.binaryName;
  const hostDir = hostPackageDir();
  assert.ok(hostDir, `a package under npm/ for ${process.platform}-${process.arch}`);
  const hostPkg = `${pkg.name}-${hostDir}`;
  const built = path.join(root, `${binaryName}.${hostDir}.node`);
  assert.ok(existsSync(built), `${built} is built (npm run build)`);
  for (const f of ['binding.js', 'binding.d.ts']) assert.ok(existsSync(path.join(root, f)), `${f} is generated (npm run build)`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpapi-release-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // What the publish job has: a checkout (git's files, so no .node: .gitignore), the
  // loader from the build job, and every target's binary under artifacts/. Only this
  // host's binary is real; the others stand in so that napi's checks for every
  // configured target pass. Their packages are never packed.
  const stage = path.join(dir, 'stage');
  const { stdout: tracked } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  for (const f of tracked.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(root, f))) continue; // deleted in the work tree
    mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(stage, f));
  }
  assert.deepEqual(listFiles(stage).filter((f) => f.endsWith('.node')), [], 'the checkout has no .node');
  for (const f of ['binding.js', 'binding.d.ts']) cpSync(path.join(root, f), path.join(stage, f));
  for (const d of readdirSync(path.join(stage, 'npm'))) {
    const dest = path.join(stage, 'artifacts', `bindings-${d}`, `${binaryName}.${d}.node`);
    mkdirSync(path.dirname(dest), { recursive: true });
    if (d === hostDir) cpSync(built, dest);
    else writeFileSync(dest, `stand-in for ${d}: not packed by this test\n`);
  }

  await run(process.execPath, [napiCli, 'artifacts', '--cwd', stage]);
  assert.ok(existsSync(path.join(stage, 'npm', hostDir, `${binaryName}.${hostDir}.node`)), 'napi artifacts put the binary in the platform package');
  // --skip-optional-publish, --no-gh-release: the same layout as the job's prepublish,
  // without publishing the platform packages or touching GitHub.
  await run(process.execPath, [napiCli, 'prepublish', '--cwd', stage, '-t', 'npm', '--no-gh-release', '--skip-optional-publish'],
    { env: { ...process.env, GITHUB_REPOSITORY: '', GITHUB_TOKEN: '', NODE_AUTH_TOKEN: '' } });
  await run(npm, ['pkg', 'delete', 'scripts.prepare'], { cwd: stage });

  const staged = JSON.parse(readFileSync(path.join(stage, 'package.json'), 'utf8'));
  const optional = Object.keys(staged.optionalDependencies || {}).sort();
  assert.deepEqual(optional, readdirSync(path.join(stage, 'npm')).map((d) => `${pkg.name}-${d}`).sort(), 'one optional dependency per platform package');
  assert.equal(staged.optionalDependencies[hostPkg], pkg.version, 'the platform package at the root version');
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(staged.scripts[s], undefined, `no ${s} script in the published manifest`);
  const platformManifest = JSON.parse(readFileSync(path.join(stage, 'npm', hostDir, 'package.json'), 'utf8'));
  assert.equal(platformManifest.version, pkg.version);

  const packDir = path.join(dir, 'packed');
  mkdirSync(packDir);
  const pack = async (cwd) => JSON.parse((await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd })).stdout)[0];
  const rootPack = await pack(stage);
  const platformPack = await pack(path.join(stage, 'npm', hostDir));
  const rootFiles = rootPack.files.map((f) => f.path);
  // napi artifacts (cli 3.10) copies every binary into the root as well: the root's
  // `files` must keep them out.
  assert.deepEqual(rootFiles.filter((f) => f.endsWith('.node')), [], 'the root package carries no .node');
  for (const f of ['index.js', 'binding.js', 'lib/server.js', 'examples/readme-server.js', 'bin/rtmpapi.js']) assert.ok(rootFiles.includes(f), `root package has ${f}`);
  assert.deepEqual(platformPack.files.map((f) => f.path).sort(), ['README.md', `${binaryName}.${hostDir}.node`, 'package.json'].sort());

  // The app depends on node-rtmpapi only; its optional dependency on the platform
  // package is pointed at the local tarball (overrides). The other platforms' packages
  // are not in the (empty, offline) cache, so npm skips them as failed optionals, as a
  // registry install skips them for their os/cpu.
  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'app',
    private: true,
    dependencies: { [pkg.name]: `file:${path.join(packDir, rootPack.filename)}` },
    overrides: { [hostPkg]: `file:${path.join(packDir, platformPack.filename)}` },
  }));
  const example = readFileSync(path.join(root, 'examples', 'readme-server.js'), 'utf8').replace("require('..')", `require('${pkg.name}')`);
  writeFileSync(path.join(app, 'server.js'), example);
  const PATH = (process.env.PATH || '').split(path.delimiter).filter((p) => !hasExecutable(p, 'cargo') && !hasExecutable(p, 'rustc')).join(path.delimiter);
  const env = { ...process.env, PATH };
  const installed = await run(npm, ['install', '--offline', '--cache', path.join(dir, 'npm-cache'), '--no-audit', '--no-fund', '--loglevel', 'silly'], { cwd: app, env });
  const log = installed.stdout + installed.stderr;
  assert.match(log, new RegExp(`fetch manifest ${hostPkg}@file:`), 'the platform package came from its tarball');
  assert.doesNotMatch(log, new RegExp(`registry\\.npmjs\\.org/${hostPkg}\\b`), 'npm did not look the platform package up in a registry');
  assert.doesNotMatch(log, /install-scripts/, 'no install script for npm to gate');
  const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
  const entry = lock.packages[`node_modules/${hostPkg}`];
  assert.ok(entry, `${hostPkg} installed: ${Object.keys(lock.packages)}`);
  assert.equal(entry.optional, true, 'installed as the root package\'s optional dependency');
  assert.match(entry.resolved, /^file:/);

  const installedRoot = path.join(app, 'node_modules', pkg.name);
  const installedPlatform = path.join(app, 'node_modules', hostPkg);
  assert.deepEqual(listFiles(installedRoot).filter((f) => f.endsWith('.node')), [], 'no .node in the installed root');
  assert.ok(existsSync(path.join(installedPlatform, `${binaryName}.${hostDir}.node`)), 'the platform package has its .node');
  const { stdout: loaded } = await run(process.execPath, ['-e',
    `require('${pkg.name}'); console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.endsWith('.node'))))`], { cwd: app, env });
  assert.deepEqual(JSON.parse(loaded), [path.join(installedPlatform, `${binaryName}.${hostDir}.node`)], 'the loader picked the platform package');

  const { child: server, port, output } = await startListeningServer(process.execPath, ['server.js'], { cwd: app, env });
  t.after(() => server.kill());
  const flv = await makeFlv(path.join(fixtures, 'pack.flv'), { seconds: 2, fps: 25, gop: 25 });
  const r = await publish(`rtmp://127.0.0.1:${port}/live/packed`, flv, { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100 && !/^close$/m.test(output()); i++) await new Promise((res) => setTimeout(res, 50));
  const out = output();
  assert.match(out, /amf0cmd \{"cmd":"publish"/);
  assert.ok((out.match(/^video /gm) || []).length >= 50, 'video arrived through the installed package');
  server.kill();

  // The platform package missing (an install with --omit=optional, npm's optional bug).
  renameSync(installedPlatform, `${installedPlatform}.off`);
  const missing = await tryRequire(app, env);
  assert.equal(missing.code, 'ERR_RTMP_BINDING', JSON.stringify(missing));
  assert.match(missing.message, new RegExp(`for ${hostDir}: .*optional package ${hostPkg}, which is not installed`));
  assert.match(missing.message, /--omit=optional/);
  renameSync(`${installedPlatform}.off`, installedPlatform);
  assert.equal(await tryRequire(app, env), 'loaded');

  // Installed but its binary does not load (e.g. too old a libc).
  writeFileSync(path.join(installedPlatform, `${binaryName}.${hostDir}.node`), 'not a shared object');
  const broken = await tryRequire(app, env);
  assert.equal(broken.code, 'ERR_RTMP_BINDING', JSON.stringify(broken));
  assert.match(broken.message, new RegExp(`${hostPkg} is installed but its binary failed to load: .*${binaryName}\\.${hostDir}\\.node`));

  // A platform with no prebuilt binary, and a checkout with no build: the root package's
  // files alone, with optionalDependencies that leave this host out or none at all.
  const bare = path.join(dir, 'bare', 'node_modules', pkg.name);
  cpSync(installedRoot, bare, { recursive: true });
  const others = Object.fromEntries(optional.filter((d) => d !== hostPkg).map((d) => [d, pkg.version]));
  writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ ...staged, optionalDependencies: others }));
  const unsupported = await tryRequire(path.dirname(path.dirname(bare)), env);
  assert.equal(unsupported.code, 'ERR_RTMP_BINDING', JSON.stringify(unsupported));
  assert.match(unsupported.message, new RegExp(`no prebuilt binary exists for ${hostDir} \\(there are: [^)]*${Object.keys(others)[0].slice(pkg.name.length + 1)}`));
  assert.match(unsupported.message, /git checkout with a Rust toolchain/);
  writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ ...staged, optionalDependencies: undefined }));
  const unbuilt = await tryRequire(path.dirname(path.dirname(bare)), env);
  assert.equal(unbuilt.code, 'ERR_RTMP_BINDING', JSON.stringify(unbuilt));
  assert.match(unbuilt.message, /no addon is built in .*npm run build/);
});
