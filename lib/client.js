'use strict';

// RtmpClient: connect by URL, publish or play, with Promises for the command flow
// (transactions matched by id) and events for what arrives. The socket, the handshake
// and the chunk layer run natively on the package's tokio runtime (NativeClient).

const { EventEmitter } = require('node:events');
const { NativeClient } = require('../binding.js');
const { nativeSession, closeNativeSession, EVENT_CONNECTION, EVENT_BATCH, EVENT_CLOSE, EVENT_READY, EVENT_DRAIN } = require('./server.js');
const { fromNative, rtmpError } = require('./errors.js');
const { nativeTlsOptions } = require('./tls.js');
const { TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT, SET_DATA_FRAME } = require('./flv.js');

const DEFAULT_PORT = 1935;
const DEFAULT_TLS_PORT = 443;
/** The chunk stream publish/play commands and their media go on (stream-level). */
const STREAM_COMMAND_CSID = 8;
const FLASH_VER = 'FMLE/3.0 (compatible; node-rtmpapi)';
/** How long connect, createStream, publish and play wait for an answer by default. */
const DEFAULT_TIMEOUT_MS = 10000;

/**
 * Splits rtmp[s]://host[:port]/app[/instance]/stream: the app is every path segment
 * but the last, the stream name the last (with its query string). rtmps:// is RTMP
 * over TLS (default port 443).
 * @param {string} url
 * @returns {{ host: string, port: number, app: string, stream: string, tcUrl: string, secure: boolean }}
 */
function parseRtmpUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw Object.assign(new TypeError(`not a URL: ${url}`), { code: 'ERR_INVALID_URL' });
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') {
    throw Object.assign(new TypeError(`not an rtmp:// or rtmps:// URL: ${url}`), { code: 'ERR_INVALID_URL' });
  }
  const secure = u.protocol === 'rtmps:';
  const segments = u.pathname.split('/').filter(Boolean);
  if (segments.length < 1) throw Object.assign(new TypeError(`no application in ${url}`), { code: 'ERR_INVALID_URL' });
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : secure ? DEFAULT_TLS_PORT : DEFAULT_PORT;
  const stream = segments.length > 1 ? decodeURIComponent(segments[segments.length - 1]) + u.search : '';
  const app = (segments.length > 1 ? segments.slice(0, -1) : segments).join('/');
  return { host, port, app, stream, tcUrl: `${u.protocol}//${u.host}/${app}`, secure };
}

/**
 * An RTMP client: connect by URL, then publish or play. Events: 'audio' and 'video'
 * (data, timestamp, header: the tag header with its `role`), 'data' (decoded, data, timestamp), 'status' (onStatus info),
 * 'command', 'error', 'close'.
 */
class RtmpClient extends EventEmitter {
  /**
   * A client not yet connected; `connect(url)` opens the connection.
   * @param {{ timeout?: number }} [options] - ms connect, createStream, publish and
   *   play wait for an answer before they reject with ERR_RTMP_TIMEOUT (default 10000)
   */
  constructor({ timeout = DEFAULT_TIMEOUT_MS } = {}) {
    super();
    if (!(Number.isFinite(timeout) && timeout > 0)) {
      throw Object.assign(new TypeError(`options.timeout must be a positive number of ms, got ${timeout}`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    this.timeout = timeout;
    this.session = null;
    this.sock = null;
    this.streamId = 0;
    this._nextTransId = 1;
    this._pending = new Map();
    this._statusWaiters = new Set();
  }

  /**
   * Connects to the server and the application of `url` (its stream part is kept for
   * publish()/play() without a name). Resolves the connect `_result` info. An
   * rtmps:// URL connects over TLS: the server's certificate is checked against
   * Mozilla's roots, or `tls.ca`; `tls.rejectUnauthorized: false` accepts any.
   * @param {string} url
   * @param {{ timeoutMs?: number, flashVer?: string, tls?: { ca?: string | Buffer | Array<string | Buffer>, rejectUnauthorized?: boolean } }} [options]
   *   `timeoutMs` (default: the client's `timeout`) bounds the TCP connect and
   *   handshake, and then the connect reply
   */
  async connect(url, { timeoutMs = this.timeout, flashVer = FLASH_VER, tls } = {}) {
    this.url = parseRtmpUrl(url);
    const { host, port, app, tcUrl, secure } = this.url;
    const tlsOptions = secure ? nativeTlsOptions(tls ?? true, 'client') : undefined;
    const ready = new Promise((resolve, reject) => {
      const native = new NativeClient((kind, _id, handle, data, meta, errorMessage, errorCode) => {
        if (kind === EVENT_CONNECTION) {
          this.session = nativeSession(handle, { isClient: true });
          this.sock = this.session.sock;
        } else if (kind === EVENT_READY) {
          resolve(this.session);
        } else if (kind === EVENT_BATCH) {
          if (this.session) this.session._onBatch(data, meta);
        } else if (kind === EVENT_DRAIN) {
          if (this.session) this.session._onDrain();
        } else if (kind === EVENT_CLOSE) {
          native.setRef(false);
          const err = errorMessage ? rtmpError(errorCode, errorMessage) : null;
          if (this.session) closeNativeSession(this.session, err);
          reject(err || rtmpError('ERR_RTMP_CLOSED', `${host}:${port} closed the connection`));
        }
      });
      try {
        native.connect(host, port, tlsOptions);
      } catch (err) {
        native.setRef(false);
        reject(fromNative(err));
      }
    });
    const session = await withTimeout(ready, timeoutMs, `connecting to ${host}:${port}`, () => this.session?.destroy());
    const sock = this.sock;
    sock.on('error', (err) => this._fail(err));
    session.on('error', (err) => this._fail(err));
    session.on('close', () => this._onClose());
    session.msg.loop(null, {
      amf0cmd: (c) => this._onCommand(c.chunk.msg),
      amf3cmd: (c) => this._onCommand(c.chunk.msg),
    });
    session.on('audio', (header, c) => this.emit('audio', c.chunk.data, c.chunk.timestamp, header));
    session.on('video', (header, c) => this.emit('video', c.chunk.data, c.chunk.timestamp, header));
    session.on('data', (m, c) => this.emit('data', m, c.chunk.data, c.chunk.timestamp));
    const result = await this._call('connect', {
      cmdObj: { app, type: 'nonprivate', flashVer, tcUrl, fpad: false, capabilities: 15, audioCodecs: 3575, videoCodecs: 252, videoFunction: 1, objectEncoding: 0 },
    }, timeoutMs).catch((err) => {
      // Nothing useful can follow a connect nobody answered: the connection ends.
      if (err.code === 'ERR_RTMP_TIMEOUT') session.destroy();
      throw err;
    });
    session.chunk(2).sendSetChunkSize(60000);
    return result.info;
  }

  /**
   * Publishes a stream (releaseStream, FCPublish, createStream, publish as encoders do);
   * resolves once the server answers NetStream.Publish.Start, rejects on an error
   * status (code ERR_RTMP_PUBLISH, `info` attached).
   * @param {string} [name] - defaults to the stream name of the connect URL
   */
  async publish(name = this.url.stream, type = 'live') {
    this._send('releaseStream', { cmdObj: null, streamId: name });
    this._send('FCPublish', { cmdObj: null, streamId: name });
    await this._createStream();
    const status = this._waitStatus(/^NetStream\.Publish\./, `publish ${name}`);
    this.session.sendCommand({ cmd: 'publish', transId: 0, cmdObj: null, name, type }, { msgStreamId: this.streamId, csid: STREAM_COMMAND_CSID });
    const info = await status;
    if (info.code !== 'NetStream.Publish.Start') throw Object.assign(rtmpError('ERR_RTMP_PUBLISH', `publish ${name}: ${info.code} ${info.description || ''}`.trim()), { info });
    return info;
  }

  /**
   * Plays a stream; resolves on NetStream.Play.Start, rejects on an error status
   * (code ERR_RTMP_PLAY). Media then arrives as 'audio', 'video' and 'data' events,
   * or, with `relayTo`, goes natively to that LiveStream's players: this client's
   * session becomes the stream's publisher before `play` is sent, so the metadata and
   * sequence headers the server sends first reach the stream too (an origin/edge pull).
   * @param {string} [name]
   * @param {{ start?: number, relayTo?: import('./stream.js').LiveStream }} [options]
   *   `start`: -2 live or recorded (default), -1 live only, >= 0 a recording from ms
   */
  async play(name = this.url.stream, { start = -2, relayTo } = {}) {
    await this._createStream();
    if (relayTo) relayTo.setPublisher(this.session, this.streamId);
    const status = this._waitStatus(/^NetStream\.Play\.(Start|StreamNotFound|Failed)/, `play ${name}`);
    this.session.sendCommand({ cmd: 'play', transId: 0, cmdObj: null, streamName: name, start }, { msgStreamId: this.streamId, csid: STREAM_COMMAND_CSID });
    try {
      const info = await status;
      if (info.code !== 'NetStream.Play.Start') throw Object.assign(rtmpError('ERR_RTMP_PLAY', `play ${name}: ${info.code}`), { info });
      return info;
    } catch (err) {
      if (relayTo) relayTo.removePublisher(this.session);
      throw err;
    }
  }

  /** Sends audio on the published stream. Returns false past the high-water mark. */
  sendAudio(data, timestamp) {
    return this.session.sendAudio(data, timestamp, this.streamId);
  }

  /** Sends video on the published stream. */
  sendVideo(data, timestamp) {
    return this.session.sendVideo(data, timestamp, this.streamId);
  }

  /** Sends a data message (a Buffer of AMF0 or values) on the published stream. */
  sendData(data, timestamp = 0) {
    return this.session.sendData(data, timestamp, this.streamId);
  }

  /**
   * Sends one FLV tag (from readFlv) on the published stream by its type: audio (8),
   * video (9), or script data (18), which goes out as `@setDataFrame` + its payload
   * the way encoders send onMetaData. Returns false past the high-water mark.
   * @param {{ type: number, timestamp: number, data: Buffer }} tag
   */
  sendTag({ type, timestamp, data }) {
    if (type === TAG_AUDIO) return this.sendAudio(data, timestamp);
    if (type === TAG_VIDEO) return this.sendVideo(data, timestamp);
    if (type === TAG_SCRIPT) return this.sendData(Buffer.concat([SET_DATA_FRAME, data]), timestamp);
    throw new RangeError(`FLV tag type ${type} is not audio (8), video (9) or script data (18)`);
  }

  /**
   * Resolves once what was queued has been written to the socket (or it closed): the
   * native writer signals it.
   */
  drain() {
    return this.session ? this.session.drained() : Promise.resolve();
  }

  /** Ends the stream (FCUnpublish/deleteStream when publishing) and the connection. */
  async close() {
    if (!this.session || this.session.closed) return;
    if (this.streamId) this._send('deleteStream', { cmdObj: null, streamId: this.streamId });
    const closed = new Promise((resolve) => this.session.once('close', resolve));
    this.session.end();
    await closed;
  }

  async _createStream() {
    const result = await this._call('createStream', { cmdObj: null });
    this.streamId = result.info;
    return this.streamId;
  }

  _send(cmd, fields, transId = 0) {
    return this.session.sendCommand({ cmd, transId, ...fields });
  }

  /**
   * Sends a command and resolves its `_result` (rejects on `_error`), by transaction
   * id; rejects with ERR_RTMP_TIMEOUT if no answer comes within `timeoutMs`.
   */
  _call(cmd, fields, timeoutMs = this.timeout) {
    const transId = this._nextTransId++;
    const answer = new Promise((resolve, reject) => {
      this._pending.set(transId, { cmd, resolve, reject });
      this._send(cmd, fields, transId);
    });
    return withTimeout(answer, timeoutMs, cmd, () => this._pending.delete(transId));
  }

  /** Resolves the first onStatus matching `pattern` (or of level error); times out as `_call`. */
  _waitStatus(pattern, what) {
    let waiter;
    const status = new Promise((resolve, reject) => {
      waiter = { pattern, resolve, reject };
      this._statusWaiters.add(waiter);
    });
    return withTimeout(status, this.timeout, what, () => this._statusWaiters.delete(waiter));
  }

  _onCommand(msg) {
    if ((msg.cmd === '_result' || msg.cmd === '_error') && this._pending.has(msg.transId)) {
      const p = this._pending.get(msg.transId);
      this._pending.delete(msg.transId);
      if (msg.cmd === '_result') p.resolve(msg);
      else {
        const code = msg.info && msg.info.code;
        p.reject(Object.assign(rtmpError('ERR_RTMP_COMMAND', `${p.cmd} refused: ${code || 'error'} ${(msg.info && msg.info.description) || ''}`.trim()), { info: msg.info }));
      }
      return;
    }
    if (msg.cmd === 'onStatus' && msg.info && typeof msg.info.code === 'string') {
      this.emit('status', msg.info);
      for (const w of this._statusWaiters) {
        if (w.pattern.test(msg.info.code) || msg.info.level === 'error') {
          this._statusWaiters.delete(w);
          w.resolve(msg.info);
        }
      }
    }
    this.emit('command', msg);
  }

  _fail(err) {
    for (const p of this._pending.values()) p.reject(err);
    for (const w of this._statusWaiters) w.reject(err);
    this._pending.clear();
    this._statusWaiters.clear();
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  _onClose() {
    this._fail(rtmpError('ERR_RTMP_CLOSED', 'the connection closed'));
    this.emit('close');
  }
}

/**
 * Rejects with ERR_RTMP_TIMEOUT (naming `what`) unless `promise` settles within `ms`;
 * `onTimeout` then forgets what waited for it.
 */
function withTimeout(promise, ms, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      if (onTimeout) onTimeout();
      reject(rtmpError('ERR_RTMP_TIMEOUT', `${what} timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

module.exports = { RtmpClient, parseRtmpUrl };
