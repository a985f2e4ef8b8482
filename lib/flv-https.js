'use strict';

// HTTPS and WSS for FLV players: an http.Server whose connections arrive with TLS
// already terminated natively (rustls, src/runtime/tls_front.rs). Node parses plain
// HTTP from a socket pair; when a request becomes an HTTP-FLV or WebSocket-FLV player
// (lib/flv-player.js), the connection's TLS session is handed to the native player,
// so the media bytes never pass through JS — which Node's own https server cannot do
// (its TLS state stays in Node). Every other request is an ordinary Node request.

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { NativeTlsFront } = require('../binding.js');
const { nativeTlsOptions } = require('./tls.js');
const { fromNative, rtmpError } = require('./errors.js');

/** On a socket of a FlvHttpsServer: `{ front, id }`, what a player takes it over by. */
const TLS_CONNECTION = Symbol('rtmpapi.tlsConnection');

/** listen()'s arguments as net.Server takes them: (port, host, cb) or ({ port, host }, cb). */
function listenArgs(args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  let [port = 0, host] = args;
  if (port !== null && typeof port === 'object') ({ port = 0, host } = port);
  if (typeof host !== 'string' || host === '') host = '0.0.0.0';
  if (host === 'localhost') host = '127.0.0.1';
  return { port: Number(port), host, cb };
}

class FlvHttpsServer extends http.Server {
  /**
   * @param {{ cert: string | Buffer, key: string | Buffer } & import('node:http').ServerOptions} options
   * @param {import('node:http').RequestListener} [requestListener]
   */
  constructor(options, requestListener) {
    const { cert, key, ...httpOptions } = options || {};
    super(httpOptions, requestListener);
    this._tls = nativeTlsOptions({ cert, key }, 'server');
    this._front = null;
    this._address = null;
  }

  /**
   * Listens natively on `port` (0: a free one) of `host` (an IP address; default
   * 0.0.0.0). A bad certificate (ERR_INVALID_ARG_VALUE) or a port in use
   * (ERR_RTMP_SOCKET) is emitted as 'error', never thrown.
   */
  listen(...args) {
    const { port, host, cb } = listenArgs(args);
    if (this._front) throw rtmpError('ERR_SERVER_ALREADY_LISTEN', 'the server is already listening');
    let front;
    try {
      front = NativeTlsFront.listen(host, port, this._tls, (c) => this._connection(front, c));
    } catch (err) {
      const e = fromNative(err);
      process.nextTick(() => this.emit('error', e));
      return this;
    }
    this._front = front;
    this._address = { address: host, family: net.isIPv6(host) ? 'IPv6' : 'IPv4', port: front.port };
    if (cb) this.once('listening', cb);
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  get listening() {
    return this._front !== null;
  }

  address() {
    return this._front ? { ...this._address } : null;
  }

  /** Stops listening; connections open go on (idle keep-alive ones are closed). */
  close(cb) {
    if (this._front) {
      this._front.close();
      this._front = null;
    }
    if (cb) this.once('close', cb);
    // http.Server's close: idle connections and timers go, then 'close' (nothing is
    // bound in Node, so it comes at once).
    super.close();
    return this;
  }

  _connection(front, { id, fd, remoteAddress, remotePort, remoteFamily }) {
    let socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true });
    } catch (err) {
      fs.closeSync(fd);
      this.emit('error', err);
      return;
    }
    Object.defineProperties(socket, {
      remoteAddress: { value: remoteAddress },
      remotePort: { value: remotePort },
      remoteFamily: { value: remoteFamily },
      // As on a tls.TLSSocket: frameworks read it for req.protocol.
      encrypted: { value: true },
      [TLS_CONNECTION]: { value: { front, id } },
    });
    this.emit('connection', socket);
  }
}

/**
 * An HTTPS server (an http.Server) whose TLS is terminated natively, so that the
 * HTTP-FLV and WebSocket-FLV players it serves (flvHttpHandler, LiveServer#httpHandler)
 * are played natively as over plain HTTP. Other requests are handled as usual.
 * @param {{ cert: string | Buffer, key: string | Buffer }} options
 * @param {import('node:http').RequestListener} [requestListener]
 */
function createFlvHttpsServer(options, requestListener) {
  if (!NativeTlsFront) throw rtmpError('ERR_FLV_SOCKET', 'native TLS for FLV players needs Unix');
  return new FlvHttpsServer(options, requestListener);
}

module.exports = { FlvHttpsServer, createFlvHttpsServer, TLS_CONNECTION };
