'use strict';

/**
 * node-rtmpapi: a native (Rust) RTMP toolkit for Node.js, a drop-in for the JavaScript
 * library of the same name. See README.md.
 */

/**
 * The platform part of the host as napi-rs names its packages (`linux-x64-gnu`,
 * `darwin-arm64`, `win32-x64-msvc`, ...).
 */
function hostTarget() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime;
  return `${base}-${glibc ? 'gnu' : 'musl'}`;
}

/**
 * Loads the native addon through the loader napi-rs generates (binding.js): a `.node`
 * built in this directory, else the platform package. napi's own error blames an npm
 * bug whatever the cause; this one names the platform, the package and the fix.
 */
function loadBinding() {
  try {
    require('./binding.js');
  } catch (cause) {
    const { name, optionalDependencies = {} } = require('./package.json');
    const host = hostTarget();
    const pkg = `${name}-${host}`;
    const prebuilt = Object.keys(optionalDependencies).filter((d) => d.startsWith(`${name}-`));
    let why;
    if (prebuilt.includes(pkg)) {
      let installed = false;
      try { require.resolve(`${pkg}/package.json`); installed = true; } catch { /* not installed */ }
      let detail = ''; // napi chains each attempt's error as a cause: name the package's
      for (let e = cause; e && !detail; e = e.cause) {
        if (String(e.message).includes(pkg)) detail = `: ${e.message.split('\n')[0]}`;
      }
      why = installed
        ? `the platform package ${pkg} is installed but its binary failed to load${detail}`
        : `its prebuilt binary comes in the optional package ${pkg}, which is not installed: ` +
          'install again with optional dependencies (not --omit=optional or --no-optional); ' +
          'if npm still skips it, delete node_modules and package-lock.json and run npm install';
    } else if (prebuilt.length > 0) {
      why = `no prebuilt binary exists for ${host} (there are: ` +
        `${prebuilt.map((d) => d.slice(name.length + 1)).join(', ')}); build the addon from a git ` +
        'checkout with a Rust toolchain (`npm install` there) and depend on that directory';
    } else {
      why = `no addon is built in ${__dirname}: run \`npm run build\` there (needs cargo, stable Rust)`;
    }
    const err = new Error(`node-rtmpapi cannot load its native addon for ${host}: ${why}`, { cause });
    err.code = 'ERR_RTMP_BINDING';
    throw err;
  }
}
loadBinding();

const log = require('./lib/log.js');
const { rtmpServer, RtmpServer } = require('./lib/server.js');
const { rtmpSession, rtmpQueue, rtmpMessage, rtmpChunk } = require('./lib/detached.js');
const { Session } = require('./lib/session.js');
const { ChunkObject } = require('./lib/chunk.js');
const amf = require('./lib/amf.js');
const { LiveStream } = require('./lib/stream.js');
const { FlvPlayer, flvHttpHandler } = require('./lib/flv-player.js');
const { FlvHttpsServer, createFlvHttpsServer } = require('./lib/flv-https.js');
const { RtmpClient, parseRtmpUrl } = require('./lib/client.js');
const { createLiveServer, LiveServer, combineHooks } = require('./lib/live-server.js');
const { readFlv, FlvWriter } = require('./lib/flv.js');
const enhanced = require('./lib/enhanced.js');
const { HlsOutput, hlsHandler } = require('./lib/hls.js');

module.exports = {
  log,
  rtmpServer,
  rtmpSession,
  rtmpQueue,
  rtmpChunk,
  rtmpMessage,
  amf,
  RtmpServer,
  Session,
  ChunkObject,
  LiveStream,
  FlvPlayer,
  flvHttpHandler,
  createFlvHttpsServer,
  FlvHttpsServer,
  createLiveServer,
  LiveServer,
  combineHooks,
  RtmpClient,
  parseRtmpUrl,
  readFlv,
  FlvWriter,
  enhanced,
  HlsOutput,
  hlsHandler,
};
