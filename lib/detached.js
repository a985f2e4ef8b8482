'use strict';

// Sessions driven by bytes from a JS stream (a net.Socket, a TLS socket, any Duplex):
// the same native core, fed with `feed()`, its output written back to the stream.

const { NativeSession } = require('../binding.js');
const { Session } = require('./session.js');
const { fromNative } = require('./errors.js');
const { makeQueue } = require('./queue.js');

/**
 * Wires a detached native session to a stream.
 * @param {NativeSession} native
 * @param {import('node:stream').Duplex} sock
 * @param {{ isClient: boolean, onReady?: (session: Session) => void, source?: (onData: (b: Buffer) => void) => void }} opts
 */
function attach(native, sock, opts) {
  const transport = {
    native,
    sock,
    flush() {
      const out = native.takeOutput();
      if (out && !sock.destroyed) sock.write(out);
    },
  };
  const session = new Session(transport, { isClient: opts.isClient });
  let ready = false;
  const becomeReady = () => {
    if (ready) return;
    ready = true;
    if (opts.onReady) session._call(() => opts.onReady(session));
  };
  const onData = (buf) => {
    if (session.closed) return;
    let result;
    try {
      result = native.feed(buf);
    } catch (err) {
      transport.flush();
      session._fail(fromNative(err));
      return;
    }
    transport.flush();
    if (result.handshakeDone) becomeReady();
    if (result.batch) session._onBatch(result.batch.data, result.batch.meta);
  };
  if (typeof sock.setNoDelay === 'function') sock.setNoDelay(true);
  if (opts.source) opts.source(onData);
  else sock.on('data', onData);
  sock.on('close', () => {
    native.destroy();
    session._onClose(null);
  });
  sock.on('error', (err) => {
    if (session.listenerCount('error') > 0) session.emit('error', err);
  });
  transport.flush();
  return { session, becomeReady };
}

/**
 * node-rtmpapi's `rtmpSession(sock, isClient, cb)`: runs the handshake over a connected
 * stream as client (isClient truthy) or server, then calls `cb` with the session as
 * `this` and argument.
 * @param {import('node:stream').Duplex} sock
 * @param {boolean | number} isClient
 * @param {(this: Session, session: Session) => void} [cb]
 */
function rtmpSession(sock, isClient, cb) {
  if (!sock || typeof sock.on !== 'function' || typeof sock.write !== 'function') {
    throw new TypeError('rtmpSession: sock must be a connected Duplex stream (e.g. a net.Socket)');
  }
  const { session } = attach(NativeSession.detached(Boolean(isClient)), sock, {
    isClient: Boolean(isClient),
    onReady: (s) => {
      if (typeof cb === 'function') cb.call(s, s);
    },
  });
  return session;
}

/**
 * node-rtmpapi's `rtmpQueue(sock)`: the byte read-queue over a socket.
 * @param {import('node:stream').Duplex} sock
 */
function rtmpQueue(sock) {
  return makeQueue(sock);
}

/**
 * node-rtmpapi's `rtmpMessage({ Q, sock, debug })`: the message reader of a session
 * past its handshake, reading chunk-layer bytes from `Q` (or `sock` when no Q is given).
 * Returns the reader (`read`, `loop`); its session is `reader.session`.
 * @param {{ Q?: Function & { defaultCb?: Function, tryRead?: Function }, sock: import('node:stream').Duplex, debug?: boolean, isClient?: boolean }} opt
 */
function rtmpMessage(opt = {}) {
  if (!opt.sock) throw new TypeError('rtmpMessage: opt.sock is required');
  const source = opt.Q
    ? (onData) => {
        opt.Q.defaultCb = onData;
        opt.Q.tryRead();
      }
    : undefined;
  const { session } = attach(NativeSession.chunkStream(Boolean(opt.isClient)), opt.sock, {
    isClient: Boolean(opt.isClient),
    source,
  });
  if (opt.debug) session.log.debug(true);
  return session.msg;
}

/**
 * node-rtmpapi's `rtmpChunk({ Q, sock, debug })`: the chunk reader of a session. Its
 * `read(cb)` yields the chunk object of each completed message.
 */
function rtmpChunk(opt = {}) {
  return rtmpMessage(opt);
}

module.exports = { rtmpSession, rtmpQueue, rtmpMessage, rtmpChunk };
