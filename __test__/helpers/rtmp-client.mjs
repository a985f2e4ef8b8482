// The one RTMP test client of the tests and the benchmarks (bench/ imports it too), in two
// flavours over the same loopback socket:
// - raw: a plain handshake and chunks written straight to the socket (so that the client
//   side costs the same against every server, and so that tests can write what no
//   encoder would: hostile chunk headers, cut-short messages); a light player that reads
//   and discards, a publisher of pre-encoded messages;
// - recording: the package's own rtmpSession in client mode, which decodes what arrives
//   (connect, createStream, then play or publish, every message recorded).

import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rtmpApi = require('../../index.js');
const { amf } = rtmpApi;

/** S0 + S1 + S2: what a server sends before its first chunk (RTMP 1.0 §5.2). */
export const HANDSHAKE_REPLY = 1 + 2 * 1536;

/**
 * A format-0 chunk header (RTMP 1.0 §5.3.1): one-byte basic header for csid 2..63, the
 * 11-byte message header; `length` is what it declares, whatever follows. A timestamp at
 * or past 0xFFFFFF is written as 0xFFFFFF (its extended field is the caller's).
 * @returns {Buffer}
 */
export function chunkHeader(csid, type, streamId, length, timestamp = 0) {
  const h = Buffer.alloc(12);
  h[0] = csid;
  h.writeUIntBE(Math.min(timestamp, 0xffffff), 1, 3);
  h.writeUIntBE(length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(streamId, 8);
  return h;
}

/**
 * Chunks one message at `chunkSize` bytes: a format-0 chunk, then format-3 continuations.
 * @returns {Buffer}
 */
export function chunked(csid, type, streamId, payload, { timestamp = 0, chunkSize = 128 } = {}) {
  const parts = [chunkHeader(csid, type, streamId, payload.length, timestamp)];
  const ext = timestamp >= 0xffffff ? Buffer.from([timestamp >>> 24, (timestamp >> 16) & 255, (timestamp >> 8) & 255, timestamp & 255]) : null;
  if (ext) parts.push(ext);
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) parts.push(Buffer.from([0xc0 | csid]), ...(ext ? [ext] : []));
    parts.push(payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

/** A 4-byte big-endian unsigned integer. */
export function u32(value) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/** A protocol control message (§5.4) of `type` on chunk stream 2, message stream 0. */
export function control(type, payload) {
  return chunked(2, type, 0, payload);
}

/** A Set Chunk Size protocol control message (§5.4.1). */
export function setChunkSize(size) {
  return control(1, u32(size));
}

/** An AMF0 command message on chunk stream 3 (8 for stream-level commands). */
export function command(cmd, transId, streamId, fields = {}) {
  return chunked(streamId ? 8 : 3, 20, streamId, amf.encodeAmf0Cmd({ cmd, transId, cmdObj: null, ...fields }));
}

/** connect + createStream for app "live" (what every session here starts with). */
function connectCommands(port) {
  return [
    command('connect', 1, 0, { cmdObj: { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; bench)', tcUrl: `rtmp://127.0.0.1:${port}/live` } }),
    command('createStream', 2, 0),
  ];
}

/**
 * Opens a socket and completes a plain handshake (C0+C1 of zeros, then C2 once S0+S1+S2
 * arrived). `onData` gets every byte after S2; `afterHandshake` is written with C2.
 * `ready` rejects if the socket fails or closes first.
 * @returns {{ sock: net.Socket, ready: Promise<void> }}
 */
export function rawSession(port, { afterHandshake = [], onData = () => {} } = {}) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let got = 0;
  const ready = new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.once('close', () => reject(new Error(`closed after ${got} of the ${HANDSHAKE_REPLY} handshake bytes`)));
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)])));
    sock.on('data', (d) => {
      if (got >= HANDSHAKE_REPLY) return onData(d);
      got += d.length;
      if (got < HANDSHAKE_REPLY) return;
      sock.write(Buffer.concat([Buffer.alloc(1536), ...afterHandshake]));
      resolve();
      if (got > HANDSHAKE_REPLY) onData(d.subarray(d.length - (got - HANDSHAKE_REPLY)));
    });
  });
  ready.catch(() => {});
  sock.on('error', () => {});
  return { sock, ready };
}

/**
 * A light player: connect + createStream + play of `name` in one write after the
 * handshake, then reads and discards, acknowledging every MB.
 * @returns {{ sock: net.Socket, bytes: number }}
 */
export function lightPlayer(port, name) {
  const player = { bytes: 0, sock: null };
  let sinceAck = 0;
  const { sock } = rawSession(port, {
    afterHandshake: [...connectCommands(port), command('play', 0, 1, { streamName: name, start: -2 })],
    onData(d) {
      player.bytes += d.length;
      sinceAck += d.length;
      if (sinceAck >= 1_000_000) {
        sinceAck = 0;
        sock.write(control(3, u32(player.bytes + HANDSHAKE_REPLY)));
      }
    },
  });
  player.sock = sock;
  return player;
}

/**
 * A publisher's opening: connect, createStream, publish of `name` on stream 1 and a
 * Set Chunk Size, in one write after the handshake. Servers reply while it goes on
 * sending (every server here accepts that, as FFmpeg's fast path does).
 */
export function publisherOpening(port, name, chunkSize) {
  return [...connectCommands(port), command('publish', 0, 1, { name, type: 'live' }), setChunkSize(chunkSize)];
}

/**
 * Writes `blocks()` (an iterator of Buffers) to `sock`, waiting for 'drain' whenever the
 * socket's buffer is full; resolves when all is written.
 */
export async function writeAll(sock, blocks) {
  for (const b of blocks) {
    if (!sock.write(b)) {
      await new Promise((resolve, reject) => {
        const onClose = () => reject(new Error('socket closed while writing'));
        sock.once('close', onClose);
        sock.once('drain', () => {
          sock.off('close', onClose);
          resolve();
        });
      });
    }
  }
}

/**
 * A recording client: connects to rtmp://127.0.0.1:port/app with the package's client
 * session and creates a stream.
 * @returns {Promise<{ session, sock, streamId: number, messages: object[], waitFor: (pred, ms?) => Promise<object> }>}
 */
export function connectClient(port, app) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', reject);
    const messages = [];
    const waiters = new Set();
    const waitFor = (pred, ms = 10000) =>
      new Promise((res, rej) => {
        const found = messages.find(pred);
        if (found) return res(found);
        const w = { pred, res };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w)) rej(new Error(`timed out after ${ms} ms waiting for a message`));
        }, ms);
      });
    rtmpApi.rtmpSession(sock, true, (session) => {
      session.msg.loop((c) => {
        const m = {
          type: c.chunk.msgTypeText,
          timestamp: c.chunk.timestamp,
          msgStreamId: c.chunk.msgStreamId,
          data: Buffer.from(c.chunk.data),
          msg: c.chunk.msg,
          at: performance.now(),
        };
        messages.push(m);
        for (const w of waiters) {
          if (w.pred(m)) {
            waiters.delete(w);
            w.res(m);
          }
        }
      });
      session.sendCommand({ cmd: 'connect', transId: 1, cmdObj: { app, flashVer: 'LNX 9,0,124,2', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } });
      waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === '_result' && m.msg.transId === 1)
        .then(() => {
          session.sendCommand({ cmd: 'createStream', transId: 2, cmdObj: null });
          return waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === '_result' && m.msg.transId === 2);
        })
        .then((created) => resolve({ session, sock, streamId: created.msg.info, messages, waitFor }))
        .catch(reject);
    });
  });
}

/** Sends `play` on the client's stream; resolves the time it was sent. */
export function play(client, name) {
  client.session.sendCommand({ cmd: 'play', transId: 0, cmdObj: null, streamName: name, start: -2 }, { msgStreamId: client.streamId, csid: 8 });
  return performance.now();
}

/** Sends `publish`; resolves the onStatus reply. */
export function publishName(client, name) {
  client.session.sendCommand({ cmd: 'publish', transId: 0, cmdObj: null, name, type: 'live' }, { msgStreamId: client.streamId, csid: 8 });
  return client.waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === 'onStatus' && /Publish/.test(m.msg.info.code));
}
