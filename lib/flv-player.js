'use strict';

// Browser playback: HTTP-FLV and WebSocket-FLV players of a LiveStream. JS routes,
// authorizes and composes the response head (all of the HTTP and WebSocket handshake
// conventions live in this file); then the accepted socket is handed to the native
// layer (a duplicate of its descriptor, or on createFlvHttpsServer its native TLS
// session; Node's copy is destroyed), which writes the head, the FLV header, the join
// burst and the live tags, framed once per message for every FLV consumer
// (src/runtime/flv_player.rs). No JS runs per tag.

const { createHash } = require('node:crypto');
const { NativeFlvPlayer } = require('../binding.js');
const { rtmpError } = require('./errors.js');
const { NativeOutput } = require('./native-output.js');
const { TLS_CONNECTION } = require('./flv-https.js');

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_QUEUE_LIMIT = 0xffff_ffff;
/** `/<app>/<name>.flv` (name may hold further slashes, as RTMP stream names may). */
const FLV_PATH = /^\/([^/]+)\/(.+)\.flv$/;

function invalid(message) {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/**
 * Checks the options shared by both transports.
 * @param {{ cors?: string | false, queueLimit?: number, stays?: boolean }} options
 */
function playerOptions(options = {}) {
  const { cors = '*', queueLimit, stays = true } = options;
  if (cors !== false && (typeof cors !== 'string' || cors === '')) {
    throw invalid(`options.cors must be an origin, '*' or false, got ${cors}`);
  }
  if (queueLimit !== undefined && (!Number.isInteger(queueLimit) || queueLimit < 0 || queueLimit > MAX_QUEUE_LIMIT)) {
    throw invalid(`options.queueLimit must be an integer from 0 to ${MAX_QUEUE_LIMIT}, got ${queueLimit}`);
  }
  return { cors, queueLimit, stays: Boolean(stays) };
}

/** CORS response headers (Fetch standard §3.2.3) for `origin` ('*' or one origin). */
function corsHeaders(cors) {
  if (cors === false) return [];
  const headers = [['Access-Control-Allow-Origin', cors]];
  if (cors !== '*') headers.push(['Vary', 'Origin']);
  return headers;
}

/** An HTTP/1.1 response head: status line, headers, blank line. */
function responseHead(status, reason, headers) {
  return Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
}

/**
 * The descriptor of a plain TCP socket Node accepted, or -1 when it cannot be taken
 * over natively: a TLS socket (its plaintext is Node's), a socket with bytes still
 * queued for writing, or a platform without descriptors (Windows).
 * @param {import('node:net').Socket} socket
 */
function socketFd(socket) {
  if (!socket || socket.encrypted || socket.destroyed || socket.writableLength > 0) return -1;
  const fd = socket._handle && socket._handle.fd;
  return Number.isInteger(fd) && fd >= 0 ? fd : -1;
}

/**
 * Events: 'close' (info: { bytes, dropped: { video, audio }, error? }) once the
 * connection has ended, and 'error' (err) first when it ended on an error
 * (ERR_RTMP_WEBSOCKET: the client broke RFC 6455; ERR_RTMP_WRITE_TIMEOUT: it read
 * nothing for 30 s; ERR_RTMP_SOCKET).
 */
class FlvPlayer extends NativeOutput {
  /**
   * @param {import('./stream.js').LiveStream} stream
   * @param {import('node:net').Socket} socket - destroyed here; the connection lives on natively
   * @param {'chunked' | 'raw' | 'websocket'} framing
   * @param {Buffer} head - the response head, written first
   * @param {Buffer | undefined} earlyInput
   * @param {{ queueLimit?: number, stays: boolean }} options
   */
  constructor(stream, socket, framing, head, earlyInput, options) {
    super(stream);
    /** 'http' or 'websocket' */
    this.transport = framing === 'websocket' ? 'websocket' : 'http';
    this.remoteAddress = socket.remoteAddress;
    // A connection of createFlvHttpsServer: its TLS session is native already.
    const tls = socket && socket[TLS_CONNECTION];
    const fd = tls ? -1 : socketFd(socket);
    if (tls ? socket.destroyed || socket.writableLength > 0 : fd < 0) {
      throw rtmpError('ERR_FLV_SOCKET', socket.encrypted && !tls
        ? 'an HTTPS/WSS connection of Node\'s own https server cannot be handed to the native layer (TLS is terminated in Node); serve FLV players with createFlvHttpsServer, over plain HTTP, or terminate TLS in front of the server'
        : 'the connection cannot be handed to the native layer (no socket descriptor, or bytes still queued)');
    }
    // Bytes Node already read from the connection (a client's first frames) go along.
    const buffered = socket.readableLength > 0 ? socket.read() : null;
    if (buffered) earlyInput = earlyInput && earlyInput.length ? Buffer.concat([earlyInput, buffered]) : buffered;
    const config = { framing, head, earlyInput: earlyInput && earlyInput.length ? earlyInput : undefined, queueLimit: options.queueLimit, stays: options.stays };
    this._start((done) => (tls
      ? NativeFlvPlayer.startTls(stream._native, tls.front, tls.id, config, done)
      : NativeFlvPlayer.start(stream._native, fd, config, done)));
    // Node's copy of the descriptor goes now, in the tick the duplicate was taken, so
    // Node reads nothing more from the connection. destroy(), not end(): no FIN.
    socket.destroy();
  }
}

/**
 * An HTTP-FLV player on a request's connection (see LiveStream#addFlvPlayer).
 * @param {import('./stream.js').LiveStream} stream
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {object} [options]
 */
function addFlvPlayer(stream, req, res, options) {
  const opts = playerOptions(options);
  if (res.headersSent) throw rtmpError('ERR_FLV_SOCKET', 'the response has already started');
  // HTTP/1.0 has no chunked coding: the body then ends with the connection.
  const chunked = req.httpVersion !== '1.0';
  const head = responseHead(200, 'OK', [
    ['Content-Type', 'video/x-flv'],
    ...(chunked ? [['Transfer-Encoding', 'chunked']] : []),
    ['Cache-Control', 'no-cache, no-store'],
    ['Connection', 'close'],
    ...corsHeaders(opts.cors),
    ['Access-Control-Expose-Headers', '*'],
  ]);
  return new FlvPlayer(stream, req.socket, chunked ? 'chunked' : 'raw', head, undefined, opts);
}

/**
 * Why an upgrade request is not a WebSocket opening handshake (RFC 6455 §4.2.1), or null.
 * @param {import('node:http').IncomingMessage} req
 */
function handshakeProblem(req) {
  const h = req.headers;
  if (req.method !== 'GET') return 'not a GET';
  if (!/\bwebsocket\b/i.test(h.upgrade || '')) return 'Upgrade is not websocket';
  if (h['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version is not 13';
  const key = h['sec-websocket-key'];
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) return 'no valid Sec-WebSocket-Key';
  return null;
}

/** Answers an upgrade request with an HTTP error and closes its socket. */
function refuseUpgrade(socket, status, reason, extra = []) {
  if (socket.destroyed) return;
  socket.end(responseHead(status, reason, [['Connection', 'close'], ['Content-Length', '0'], ...extra]));
}

/**
 * A WebSocket-FLV player on an upgrade request's socket (see
 * LiveStream#addWebSocketFlvPlayer). A request that is not a valid handshake is
 * answered 400 (426 for another version) and undefined is returned.
 */
function addWebSocketFlvPlayer(stream, req, socket, head, options) {
  const opts = playerOptions(options);
  const problem = handshakeProblem(req);
  if (problem) {
    const version = req.headers['sec-websocket-version'];
    if (version && version !== '13') refuseUpgrade(socket, 426, 'Upgrade Required', [['Sec-WebSocket-Version', '13']]);
    else refuseUpgrade(socket, 400, 'Bad Request');
    return undefined;
  }
  // A specific allowed origin also guards the WebSocket (browsers send Origin, §4.1).
  if (opts.cors !== false && opts.cors !== '*' && req.headers.origin && req.headers.origin !== opts.cors) {
    refuseUpgrade(socket, 403, 'Forbidden');
    return undefined;
  }
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
  const response = responseHead(101, 'Switching Protocols', [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ]);
  return new FlvPlayer(stream, socket, 'websocket', response, head, opts);
}

/**
 * The HTTP routes of FLV playback for a node:http (or Express/Fastify raw) server:
 * `GET /<app>/<name>.flv` (HTTP-FLV), the same path as a WebSocket upgrade
 * (WebSocket-FLV), and the CORS preflight (`OPTIONS`) of that path.
 *
 * - `streams(app, name, req)` (or a Map keyed "app/name") gives the LiveStream; none:
 *   404. To keep players of a stream not published yet, return a LiveStream made for
 *   them: they wait for its publisher (200 and no body until then).
 * - `authorize(req, { app, name })` may return (or resolve to) false: 403.
 * - `cors`: the Access-Control-Allow-Origin (default '*'; false for none).
 *
 * `handler.request(req, res)` and `handler.upgrade(req, socket, head)` return true
 * when they handled the request (a path they do not serve is left to the caller).
 * @param {object} options
 */
function flvHttpHandler(options = {}) {
  const { streams, authorize, cors = '*', queueLimit, stays = true, onPlayer } = options;
  const lookup = typeof streams === 'function'
    ? streams
    : streams instanceof Map ? (app, name) => streams.get(`${app}/${name}`) : null;
  if (!lookup) throw invalid('options.streams must be a function (app, name, req) or a Map of "app/name" to LiveStream');
  const playerOpts = playerOptions({ cors, queueLimit, stays });
  const target = (req) => {
    const url = new URL(req.url || '/', 'http://x');
    const m = FLV_PATH.exec(url.pathname);
    if (!m) return null;
    try {
      return { app: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]), query: url.searchParams };
    } catch {
      return null;
    }
  };
  const allowed = async (req, where) => (authorize ? (await authorize(req, where)) !== false : true);
  const plain = (res, status, text) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache', ...Object.fromEntries(corsHeaders(cors)) });
    res.end(`${text}\n`);
  };
  const started = (player) => {
    player.on('error', () => {});
    if (onPlayer) onPlayer(player);
    return player;
  };

  /** @returns {boolean} whether the request was one of FLV playback */
  function request(req, res) {
    const where = target(req);
    if (!where) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...Object.fromEntries(corsHeaders(cors)),
        'Access-Control-Allow-Methods': 'GET, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
        'Access-Control-Max-Age': '86400',
        'Content-Length': '0',
      });
      res.end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      plain(res, 405, 'method not allowed');
      return true;
    }
    Promise.resolve()
      .then(() => allowed(req, where))
      .then((ok) => {
        if (res.destroyed || req.socket.destroyed) return;
        if (!ok) return plain(res, 403, 'forbidden');
        const stream = lookup(where.app, where.name, req);
        if (!stream) return plain(res, 404, `no stream ${where.app}/${where.name}`);
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'Content-Type': 'video/x-flv', 'Cache-Control': 'no-cache', ...Object.fromEntries(corsHeaders(cors)) });
          return res.end();
        }
        started(stream.addFlvPlayer(req, res, playerOpts));
      })
      .catch((err) => {
        if (!res.headersSent && !res.destroyed) plain(res, 500, err.code === 'ERR_FLV_SOCKET' ? err.message : 'internal error');
      });
    return true;
  }

  /** @returns {boolean} whether the upgrade was one of FLV playback */
  function upgrade(req, socket, head) {
    const where = target(req);
    if (!where) return false;
    // A client sends nothing before the 101 (written natively after the handover), so
    // nothing is lost while the authorization runs; what Node did read is handed over.
    Promise.resolve()
      .then(() => allowed(req, where))
      .then((ok) => {
        if (socket.destroyed) return;
        if (!ok) return refuseUpgrade(socket, 403, 'Forbidden');
        const stream = lookup(where.app, where.name, req);
        if (!stream) return refuseUpgrade(socket, 404, 'Not Found');
        const player = stream.addWebSocketFlvPlayer(req, socket, head, playerOpts);
        if (player) started(player);
      })
      .catch(() => refuseUpgrade(socket, 500, 'Internal Server Error'));
    return true;
  }

  return { request, upgrade };
}

module.exports = { FlvPlayer, addFlvPlayer, addWebSocketFlvPlayer, flvHttpHandler };
