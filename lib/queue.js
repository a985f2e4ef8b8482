'use strict';

// node-rtmpapi's byte read-queue: `Q(len, cb)` queues an in-order read of `len` bytes
// (0: call `cb` in order with no data; negative: call it as soon as any byte is there).
// Memory is what is buffered, bounded by `maxBuffered`: past it the socket is
// destroyed with an ERR_RTMP_LIMIT error instead of a throw from a socket event.

const { rtmpError } = require('./errors.js');

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

/**
 * Makes a read-queue. With a socket, it reads the socket's 'data'; without one (a
 * native session's `Q`), nothing flows through it and it reports the session's counts.
 * @param {import('node:net').Socket | null} sock
 * @param {{ maxBuffered?: number, bytesReceived?: () => number }} [opts]
 */
function makeQueue(sock, opts = {}) {
  const maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  let chunks = [];
  let buffered = 0;
  let received = 0;
  const pending = [];

  /** Queues a read of `len` bytes for `cb(data)`. */
  function Q(len, cb) {
    pending.push({ len, cb });
    serve();
  }

  Q.recvBytes = 0;
  Q.ackBytes = 0;
  Q.chunkSize = 128;
  Q.defaultCb = null;
  if (opts.bytesReceived) {
    Object.defineProperty(Q, 'recvBytes', { get: opts.bytesReceived, enumerable: true });
  }

  /** Bytes buffered and not yet read. */
  Q.getBufLen = () => buffered;

  /** Takes `n` bytes if that many are buffered, else null. */
  Q.read = (n) => {
    if (n > buffered) return null;
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length ? [rest] : [];
    buffered -= n;
    return out;
  };

  /** Serves queued reads that can be served now. */
  Q.tryRead = serve;

  /** Appends bytes (what the socket's 'data' handler does). */
  Q.push = (data) => {
    chunks.push(data);
    buffered += data.length;
    received += data.length;
    if (!opts.bytesReceived) Q.recvBytes = received >>> 0;
    if (buffered > maxBuffered) {
      const err = rtmpError('ERR_RTMP_LIMIT', `read queue holds ${buffered} bytes, over the limit of ${maxBuffered}`);
      if (sock) sock.destroy(err);
      return;
    }
    serve();
  };

  function serve() {
    while (pending.length) {
      const { len, cb } = pending[0];
      if (len === 0) {
        pending.shift();
        cb();
      } else if (len < 0) {
        if (buffered === 0) return;
        pending.shift();
        cb(Q.read(buffered));
      } else {
        const data = Q.read(len);
        if (!data) return;
        pending.shift();
        cb(data);
      }
    }
    if (buffered > 0 && typeof Q.defaultCb === 'function') Q.defaultCb(Q.read(buffered));
  }

  if (sock) sock.on('data', Q.push);
  return Q;
}

module.exports = { makeQueue };
