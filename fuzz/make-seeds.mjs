// Builds the seed corpus under fuzz/corpus/ from real captures: FFmpeg publishing to and
// playing from examples/server.js through a recording TCP proxy, plus AMF values from the
// package's encoders and a few structured chunk round trips. Run it from the repo root
// after `npm install`: node fuzz/make-seeds.mjs  (the seeds are committed; rerun to refresh)

import net from 'node:net';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish, record } from '../__test__/helpers/ffmpeg.mjs';
import { startListeningServer } from '../__test__/helpers/process.mjs';

const require = createRequire(import.meta.url);
const { amf } = require('../index.js');
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const corpus = path.join(root, 'fuzz', 'corpus');

/** Bytes of the plain handshake each side sends before its chunks: C0/S0 + C1/S1 + C2/S2. */
const HANDSHAKE_BYTES = 1 + 2 * 1536;
/** Seeds stay small so the fuzzer spends its time mutating, not reading. */
const MAX_SEED = 80 * 1024;
/** The selector byte of the fuzz targets: bit 0 picks the mode, the rest the read size. */
const selector = (mode, readSize) => Buffer.from([(Math.ceil((readSize - 1) / 64) << 1) | mode]);

function seed(target, name, bytes) {
  const dir = path.join(corpus, target);
  mkdirSync(dir, { recursive: true });
  const data = Buffer.from(bytes).subarray(0, MAX_SEED);
  const digest = createHash('sha1').update(data).digest('hex').slice(0, 12);
  writeFileSync(path.join(dir, `${name}-${digest}`), data);
}

/** A TCP proxy to `port` that records what each side sent. */
async function recordingProxy(port) {
  const captures = [];
  const proxy = net.createServer((client) => {
    const capture = { fromClient: [], fromServer: [] };
    captures.push(capture);
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d) => capture.fromClient.push(d));
    upstream.on('data', (d) => capture.fromServer.push(d));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return { port: proxy.address().port, captures, close: () => proxy.close() };
}

async function captureSessions() {
  const flv = await makeFlv(path.join(root, 'target', 'seed.flv'), { seconds: 2, fps: 10, gop: 10 });
  const server = await startListeningServer('node', ['examples/server.js'], { cwd: root, env: { RTMP_QUIET: '1' } });
  const proxy = await recordingProxy(server.port);
  try {
    const url = `rtmp://127.0.0.1:${proxy.port}/live/seed`;
    const publishing = publish(url, flv, { realtime: true, timeoutMs: 30000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const playing = record(url, path.join(root, 'target', 'seed-played.flv'), { seconds: 1, timeoutMs: 30000 });
    await Promise.all([publishing, playing]);
  } finally {
    proxy.close();
    server.child.kill('SIGTERM');
  }
  return proxy.captures.map((c) => ({ fromClient: Buffer.concat(c.fromClient), fromServer: Buffer.concat(c.fromServer) }));
}

function sessionSeeds(captures) {
  for (const [i, { fromClient, fromServer }] of captures.entries()) {
    const name = i === 0 ? 'ffmpeg-publish' : 'ffmpeg-play';
    seed('handshake', `${name}-c0c1c2`, Buffer.concat([selector(0, 4096), fromClient.subarray(0, HANDSHAKE_BYTES)]));
    seed('handshake', `${name}-s0s1s2`, Buffer.concat([selector(1, 1537), fromServer.subarray(0, HANDSHAKE_BYTES)]));
    seed('session', `${name}-whole`, Buffer.concat([selector(0, 4096), fromClient]));
    seed('session', `${name}-established`, Buffer.concat([selector(1, 128), fromClient.subarray(HANDSHAKE_BYTES)]));
    seed('chunk_decoder', `${name}-client-chunks`, Buffer.concat([selector(0, 4096), fromClient.subarray(HANDSHAKE_BYTES)]));
    seed('chunk_decoder', `${name}-server-chunks`, Buffer.concat([selector(0, 1), fromServer.subarray(HANDSHAKE_BYTES)]));
  }
}

function amfSeeds() {
  const connect = ['connect', 1, {
    app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1/live',
    fourCcList: ['av01', 'hvc1', 'vp09'], videoFourCcInfoMap: { hvc1: 4 }, capsEx: 1,
  }];
  const values = [
    connect,
    ['onMetaData', { duration: 0, width: 1280, height: 720, videocodecid: 7, encoder: 'Lavf58.20.100', stereo: true }],
    ['_result', 1, { fmsVer: 'FMS/3,5,5,2004', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success' }],
    [null, undefined, true, false, -0, NaN, Infinity, 1e300, new Date(0), 'x'.repeat(70000), [1, [2, [3]]], { nested: { deeper: { deepest: [] } } }],
    ['ünïcödé ✓ 😀', '', { '': '' }],
  ];
  for (const [i, v] of values.entries()) {
    seed('amf0', `encoded-${i}`, amf.amf0Encode(v));
    seed('amf3', `encoded-${i}`, amf.amf3Encode(v));
  }
  seed('amf3', 'integers', amf.amf3Encode([0, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, -(2 ** 28), 2 ** 28, Buffer.from([1, 2, 3])]));
}

/** One record of the chunk_round_trip target: csid(2) ts(4) type(1) stream(1) flags(1) len(2) payload. */
function sendRecord(csid, ts, type, stream, standalone, payload) {
  const head = Buffer.alloc(11);
  head.writeUInt16BE(csid - 2, 0);
  head.writeUInt32BE(ts >>> 0, 2);
  head[6] = type;
  head[7] = stream;
  head[8] = standalone ? 1 : 0;
  head.writeUInt16BE(payload.length, 9);
  return Buffer.concat([head, payload]);
}

function roundTripSeeds() {
  const chunkSize = (n) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const media = Buffer.alloc(600, 0x27);
  seed('chunk_round_trip', 'compressed-headers', Buffer.concat([chunkSize(128),
    sendRecord(4, 0, 8, 1, false, media.subarray(0, 30)), sendRecord(4, 23, 8, 1, false, media.subarray(0, 30)),
    sendRecord(4, 46, 8, 1, false, media.subarray(0, 30)), sendRecord(6, 40, 9, 1, false, media)]));
  seed('chunk_round_trip', 'extended-timestamps-and-wrap', Buffer.concat([chunkSize(100),
    sendRecord(6, 0xfffffc18, 9, 1, false, media), sendRecord(6, 0x10, 9, 1, false, media),
    sendRecord(320, 0x1000000, 9, 1, true, media), sendRecord(65537, 5, 20, 0, false, Buffer.alloc(0))]));
}

mkdirSync(path.join(root, 'target'), { recursive: true });
sessionSeeds(await captureSessions());
amfSeeds();
roundTripSeeds();
console.log(`seeds written under ${path.relative(root, corpus)}/`);
