// Hostile peers on raw sockets while an honest FFmpeg publish runs on the same server:
// each attack ends only its own session with a clear error, memory stays bounded, and
// the publish arrives whole.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFlv, publish } from './helpers/ffmpeg.mjs';
import { readFlv } from './helpers/flv.mjs';
import { startIngestServer } from './helpers/ingest-server.mjs';

const require = createRequire(import.meta.url);
const { amf } = require('../index.js');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Connects and completes a plain handshake; resolves the socket. */
async function handshaken(port) {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  let got = 0;
  await new Promise((resolve) => {
    const onData = (d) => {
      got += d.length;
      if (got >= 3073) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
  });
  sock.write(Buffer.alloc(1536));
  sock.on('error', () => {});
  return sock;
}

/** A format-0 chunk header. */
function header(csid, length, type, ts = 0) {
  const h = Buffer.alloc(12);
  h[0] = csid;
  h.writeUIntBE(Math.min(ts, 0xffffff), 1, 3);
  h.writeUIntBE(length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(1, 8);
  return h;
}

const control = (type, payload) => Buffer.concat([header(2, payload.length, type), payload]);
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

const attacks = {
  'chunk size 0': () => [control(1, u32(0))],
  'chunk size 2^31-1 then a 16 MiB declaration cut short': () => [control(1, u32(0x7fffffff)), header(6, 0xffffff, 9), Buffer.alloc(1000)],
  '16 MiB declarations on thousands of chunk streams': () => {
    const parts = [];
    for (let i = 0; i < 2000; i++) {
      const csid = 64 + i;
      const h = Buffer.alloc(14);
      h[0] = 1; // 3-byte basic header, fmt 0
      h[1] = (csid - 64) & 0xff;
      h[2] = (csid - 64) >> 8;
      h.writeUIntBE(0xffffff, 6, 3);
      h[9] = 9;
      parts.push(h, Buffer.alloc(128));
    }
    return parts;
  },
  'AMF nested 200,000 deep': () => {
    const nested = Buffer.alloc(200000 * 4);
    for (let i = 0; i < 200000; i++) nested.set([0x03, 0x00, 0x01, 0x61], i * 4);
    const payload = Buffer.concat([amf.amf0Encode(['connect', 1]), nested]);
    const parts = [control(1, u32(0x7fffffff))];
    parts.push(header(3, payload.length, 20), payload);
    return parts;
  },
  'an absurd AMF string length': () => {
    const payload = Buffer.from([0x02, 0x00, 0x07, ...Buffer.from('connect'), 0x0c, 0xff, 0xff, 0xff, 0xf0, 0x41]);
    return [header(3, payload.length, 20), payload];
  },
  'a flood of pings, aborts, acks and createStream': () => {
    const parts = [];
    const create = amf.encodeAmf0Cmd({ cmd: 'createStream', transId: 2, cmdObj: null });
    for (let i = 0; i < 3000; i++) {
      parts.push(control(4, Buffer.from([0, 6, 0, 0, 0, i & 0xff])), control(2, u32(5)), control(3, u32(i)), header(3, create.length, 20), create);
    }
    parts.push(Buffer.from('garbage after the flood: fmt 2 on a fresh stream'.replace(/^/, '\u00bf')));
    return parts;
  },
  'extended-timestamp garbage': () => {
    const h = header(6, 4, 9, 0xffffff);
    return [h, Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.from([1, 2, 3, 4]), Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 9, 9])];
  },
};

test('attacks end only their own session while an honest FFmpeg publish arrives whole', async (t) => {
  const flv = await makeFlv(path.join(fixtures, 'hostile.flv'), { seconds: 3, fps: 25, gop: 25 });
  const server = await startIngestServer();
  t.after(() => server.close());
  const publishing = publish(`rtmp://127.0.0.1:${server.port}/live/honest`, flv, { realtime: true, timeoutMs: 30000 });
  const outcomes = {};
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  // A wrong version byte (6: RTMPE, which the package does not speak) instead of 3.
  const wrongVersion = net.connect(server.port, '127.0.0.1');
  wrongVersion.on('error', () => {});
  wrongVersion.resume();
  wrongVersion.write(Buffer.concat([Buffer.from([6]), Buffer.alloc(1536)]));
  const wrongVersionClosed = once(wrongVersion, 'close');
  await Promise.all(Object.entries(attacks).map(async ([name, build]) => {
    const sock = await handshaken(server.port);
    const closed = new Promise((resolve) => sock.on('close', resolve));
    for (const part of build()) sock.write(part);
    if (name.startsWith('chunk size 2^31')) setTimeout(() => sock.end(), 200); // half-close
    const timer = setTimeout(() => sock.destroy(), 5000);
    await closed;
    clearTimeout(timer);
    outcomes[name] = true;
  }));
  await wrongVersionClosed;
  assert.equal(Object.keys(outcomes).length, Object.keys(attacks).length);
  const codes = new Set(server.errors.map((e) => e.code));
  for (const code of ['ERR_RTMP_HANDSHAKE', 'ERR_RTMP_CHUNK', 'ERR_RTMP_LIMIT', 'ERR_RTMP_AMF']) assert.ok(codes.has(code), `an attack ended with ${code}: ${[...codes]}`);
  const r = await publishing;
  clearInterval(sampler);
  // What the attacks declared (2000 × 16 MiB, a 2 GiB chunk) was never allocated.
  const grewMb = (rssPeak - rssBefore) / 2 ** 20;
  assert.ok(grewMb < 200, `the server process grew by ${grewMb.toFixed(0)} MB under attack`);
  assert.equal(r.code, 0, r.stderr);
  const honest = server.messages.find((m) => m.type === 'amf0cmd' && m.msg.cmd === 'publish').peer;
  const { tags } = readFlv(flv);
  const digest = (b) => createHash('sha1').update(b).digest('hex');
  for (const [kind, type] of [['audio', 8], ['video', 9]]) {
    const got = server.messages.filter((m) => m.type === kind && m.peer === honest).map((m) => digest(m.data));
    const want = tags.filter((tg) => tg.type === type).map((tg) => digest(tg.data));
    assert.deepEqual(got, want, `the honest publisher's ${kind} arrived whole`);
  }
});
