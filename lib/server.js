'use strict';

// rtmpServer().createServer(cb): a net.Server-like object over the native listener.

const cluster = require('node:cluster');
const { EventEmitter } = require('node:events');
const { NativeServer } = require('../binding.js');
const { Session } = require('./session.js');
const { fromNative, rtmpError } = require('./errors.js');
const { nativeTlsOptions } = require('./tls.js');
const makeLog = require('./log.js');

const EVENT_CONNECTION = 0;
const EVENT_BATCH = 1;
const EVENT_CLOSE = 2;
const EVENT_READY = 3;
const EVENT_DRAIN = 4;
const EVENT_WARNING = 5;

/**
 * The `sock` of a natively driven session: what apps use of a net.Socket.
 */
class SessionSocket extends EventEmitter {
  /** @param {object} native - the NativeSession handle */
  constructor(native) {
    super();
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
    this.remoteAddress = native.remoteAddress;
    this.remotePort = native.remotePort;
    this.remoteFamily = native.remoteFamily;
    this.localAddress = native.localAddress;
    this.localPort = native.localPort;
    this.destroyed = false;
  }

  /** Bytes received so far. */
  get bytesRead() {
    return this.native.bytesReceived();
  }

  /** Flushes queued messages, then closes. */
  end(cb) {
    if (typeof cb === 'function') this.once('close', () => cb());
    this.native.end();
    return this;
  }

  /** Closes now. */
  destroy(err) {
    if (err) this.emit('error', err);
    this.native.destroy();
    return this;
  }

  /** net.Socket's, for apps that call it: a no-op (idle limits are the server's `idleTimeoutMs`). */
  setTimeout() {
    return this;
  }

  /** net.Socket's, for apps that call it: a no-op (the native socket always sets TCP_NODELAY). */
  setNoDelay() {
    return this;
  }

  /** net.Socket's, for apps that call it: a no-op. */
  setKeepAlive() {
    return this;
  }

  /** net.Socket's, for apps that call it: a no-op (the server's ref/unref decides). */
  ref() {
    return this;
  }

  /** net.Socket's, for apps that call it: a no-op (the server's ref/unref decides). */
  unref() {
    return this;
  }
}

/**
 * A session driven natively (accepted by a server or opened by NativeClient).
 * @param {object} native - the NativeSession handle
 * @param {{ isClient: boolean, onUnhandledError?: (err: Error, session: Session) => void }} opts
 */
function nativeSession(native, { isClient, onUnhandledError }) {
  const sock = new SessionSocket(native);
  return new Session({ native, sock, flush: writtenByTheNativeSide, onUnhandledError }, { isClient });
}

/** A native session's `flush`: its writer task writes what is queued, nothing to do. */
function writtenByTheNativeSide() {}

/** Ends a natively driven session: 'error' (if any) and 'close' on it and its sock. */
function closeNativeSession(session, err) {
  session._onClose(err);
  session.sock.destroyed = true;
  session.sock.emit('close', Boolean(err));
}

/**
 * Parses net.Server#listen's arguments: (port[, host][, backlog][, cb]) or (options[, cb]).
 */
function listenArgs(args) {
  let port = 0;
  let host;
  let cb;
  if (typeof args[args.length - 1] === 'function') cb = args.pop();
  const [first, second] = args;
  if (first !== null && typeof first === 'object') {
    port = first.port ?? 0;
    host = first.host;
  } else {
    port = first ?? 0;
    if (typeof second === 'string') host = second;
  }
  if (typeof port === 'string' && /^\d+$/.test(port)) port = Number(port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    const err = new RangeError(`options.port should be >= 0 and < 65536. Received ${port}.`);
    err.code = 'ERR_SOCKET_BAD_PORT';
    throw err;
  }
  return { port, host, cb };
}

/**
 * The options the native server gets: `reusePort` defaults to true in a node:cluster
 * worker, so that every worker can listen on the app's port (the native listener does
 * not go through cluster's handle sharing). Windows has no SO_REUSEPORT.
 * @param {import('../index.js').ServerOptions} [options]
 */
function nativeServerOptions(options = {}) {
  if (options.reusePort !== undefined) return options;
  return { ...options, reusePort: cluster.isWorker && process.platform !== 'win32' };
}

/**
 * Turns a native warning into an Error with `code` and, for one session's, `session`.
 * @param {string} message
 * @param {string} code
 * @param {import('./session.js').Session} [session]
 */
function nativeWarning(message, code, session) {
  const warning = rtmpError(code, message);
  warning.name = 'RtmpWarning';
  if (session) warning.session = session;
  return warning;
}

/** The log warnings go to when nobody listens for them (on with NODE_DEBUG=rtmpapi). */
let warningLog;

/**
 * A net.Server-like RTMP server over the native listener. Events: 'listening',
 * 'connection' (sock, session), 'error', 'close', 'clientError' (err, session),
 * 'warning' (what the native layer dropped or refused: an Error with `code`).
 */
class RtmpServer extends EventEmitter {
  /**
   * @param {(this: Session, session: Session) => void} [onSession]
   * @param {import('../index.js').ServerOptions} [options] - limits, see README;
   *   `tls: { cert, key }` for RTMPS
   */
  constructor(onSession, options) {
    super();
    this._onSession = onSession;
    const { tls, ...limits } = options ?? {};
    const tlsOptions = nativeTlsOptions(tls, 'server');
    try {
      this._native = new NativeServer((...args) => this._onNativeEvent(...args), nativeServerOptions(limits), tlsOptions);
    } catch (err) {
      throw fromNative(err);
    }
    /** Whether the server speaks RTMPS. */
    this.secure = Boolean(tlsOptions);
    this._sessions = new Map();
    this._address = null;
    this._refed = true;
    this._keepingAlive = true;
    this.listening = false;
    /** What a session's unheard errors go to (one function for all sessions). */
    this._onUnhandledError = (err, session) => {
      if (this.listenerCount('clientError') > 0) this.emit('clientError', err, session);
    };
    this._updateRef();
  }

  /** Like net.Server#listen: returns this; errors are emitted as 'error'. */
  listen(...args) {
    const { port, host, cb } = listenArgs(args);
    if (cb) this.once('listening', cb);
    let address;
    try {
      address = this._bind(host, port);
    } catch (err) {
      process.nextTick(() => this.emit('error', fromNative(err)));
      return this;
    }
    this._address = address;
    this.listening = true;
    this._updateRef();
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  _bind(host, port) {
    if (host !== undefined) return this._native.listen(host, port);
    // Like net: the IPv6 any-address (dual stack), else IPv4.
    try {
      return this._native.listen('::', port);
    } catch {
      return this._native.listen('0.0.0.0', port);
    }
  }

  /** `{ address, family, port }` while listening, else null. */
  address() {
    return this.listening ? { ...this._address } : null;
  }

  /** Stops accepting; 'close' follows once every session has ended. */
  close(cb) {
    if (typeof cb === 'function') {
      if (!this.listening) {
        process.nextTick(cb, rtmpError('ERR_SERVER_NOT_RUNNING', 'Server is not running.'));
      } else {
        this.once('close', cb);
      }
    }
    if (this.listening) {
      this._native.close();
      this.listening = false;
      this._maybeClosed();
    }
    this._updateRef();
    return this;
  }

  /** Closes every session now, as http.Server#closeAllConnections. */
  closeAllConnections() {
    for (const session of this._sessions.values()) session.destroy();
  }

  /** Number of open sessions, as net.Server#getConnections. */
  getConnections(cb) {
    process.nextTick(cb, null, this._sessions.size);
    return this;
  }

  /** Keeps the process alive while listening or while sessions are open (the default). */
  ref() {
    this._refed = true;
    this._updateRef();
    return this;
  }

  /** Lets the process exit even though the server listens. */
  unref() {
    this._refed = false;
    this._updateRef();
    return this;
  }

  _updateRef() {
    const keep = this._refed && (this.listening || this._sessions.size > 0);
    if (keep !== this._keepingAlive) {
      this._keepingAlive = keep;
      this._native.setRef(keep);
    }
  }

  _maybeClosed() {
    if (!this.listening && this._sessions.size === 0 && !this._closeEmitted) {
      this._closeEmitted = true;
      process.nextTick(() => this.emit('close'));
    }
  }

  _onNativeEvent(kind, id, native, data, meta, errorMessage, errorCode) {
    if (kind === EVENT_CONNECTION) this._onConnection(id, native);
    else if (kind === EVENT_BATCH) this._sessions.get(id)?._onBatch(data, meta);
    else if (kind === EVENT_CLOSE) this._onSessionClose(id, errorMessage, errorCode);
    else if (kind === EVENT_DRAIN) this._sessions.get(id)?._onDrain();
    else if (kind === EVENT_WARNING) this._onWarning(id, errorMessage, errorCode);
  }

  _onWarning(id, message, code) {
    const warning = nativeWarning(message, code, this._sessions.get(id));
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    else (warningLog ??= makeLog(false, 'server')).log('warning', code, message);
  }

  _onConnection(id, native) {
    const session = nativeSession(native, { isClient: false, onUnhandledError: this._onUnhandledError });
    const sock = session.sock;
    this._sessions.set(id, session);
    this._closeEmitted = false;
    this._updateRef();
    this.emit('connection', sock, session);
    if (typeof this._onSession === 'function') {
      session._call(() => this._onSession.call(session, session));
    }
  }

  _onSessionClose(id, errorMessage, errorCode) {
    const session = this._sessions.get(id);
    if (!session) {
      // A connection that failed before it became a session: its TLS handshake.
      if (errorMessage && this.listenerCount('tlsClientError') > 0) this.emit('tlsClientError', rtmpError(errorCode, errorMessage));
      return;
    }
    this._sessions.delete(id);
    closeNativeSession(session, errorMessage ? rtmpError(errorCode, errorMessage) : null);
    this._updateRef();
    this._maybeClosed();
  }
}

/**
 * node-rtmpapi's `rtmpServer()`.
 */
function rtmpServer() {
  return {
    /**
     * @param {(this: Session, session: Session) => void} [cb]
     * @param {object} [options]
     */
    createServer(cb, options) {
      return new RtmpServer(cb, options);
    },
  };
}

module.exports = { rtmpServer, RtmpServer, SessionSocket, nativeSession, closeNativeSession, EVENT_CONNECTION, EVENT_BATCH, EVENT_CLOSE, EVENT_READY, EVENT_DRAIN };
