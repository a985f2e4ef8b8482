'use strict';

// RtmpClient: connect by URL, publish or play, with Promises for the command flow
// (transactions matched by id) and events for what arrives. The socket, the handshake
// and the chunk layer run natively on the package's tokio runtime (NativeClient).

const { EventEmitter } = require('node:events');
const { NativeClient, MediaConfigs } = require('../binding.js');
const { nativeSession, closeNativeSession, EVENT_CONNECTION, EVENT_BATCH, EVENT_CLOSE, EVENT_READY, EVENT_DRAIN } = require('./server.js');
const { fromNative, rtmpError } = require('./errors.js');
const { nativeTlsOptions } = require('./tls.js');
const { TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT, SET_DATA_FRAME } = require('./flv.js');
const { connectProperties, readConnectCaps, resolveReconnectUrl } = require('./enhanced.js');
const amf = require('./amf.js');

const DEFAULT_PORT = 1935;
const DEFAULT_TLS_PORT = 443;
/** The chunk stream publish/play commands and their media go on (stream-level). */
const STREAM_COMMAND_CSID = 8;
const FLASH_VER = 'FMLE/3.0 (compatible; node-rtmpapi)';
/** How long connect, createStream, publish and play wait for an answer by default. */
const DEFAULT_TIMEOUT_MS = 10000;
/** The onStatus code of an Enhanced RTMP v2 reconnect request. */
const RECONNECT_REQUEST = 'NetConnection.Connect.ReconnectRequest';

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
 * (data, timestamp, header: the tag header with its `role`), 'data' (decoded, data,
 * timestamp), 'status' (onStatus info),
 * 'command', 'reconnect' ({ tcUrl }: a publication moved to another server),
 * 'error', 'close'.
 */
class RtmpClient extends EventEmitter {
  /**
   * A client not yet connected; `connect(url)` opens the connection. `timeout`: ms
   * connect, createStream, publish and play wait for an answer before they reject
   * with ERR_RTMP_TIMEOUT (default 10000). `enhanced` announces Enhanced RTMP v2 caps
   * in connect (enhanced.connectProperties: `true` for every codec the package
   * carries and capsEx Reconnect | Multitrack | ModEx); the server's answer is
   * `serverCaps` once connected.
   * @param {{ timeout?: number, enhanced?: boolean | Parameters<typeof connectProperties>[0] }} [options]
   */
  constructor({ timeout = DEFAULT_TIMEOUT_MS, enhanced = false } = {}) {
    super();
    if (!(Number.isFinite(timeout) && timeout > 0)) {
      throw Object.assign(new TypeError(`options.timeout must be a positive number of ms, got ${timeout}`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    this.timeout = timeout;
    this.session = null;
    this.sock = null;
    this.streamId = 0;
    /** The server's Enhanced RTMP caps (enhanced.readConnectCaps of the connect _result). */
    this.serverCaps = null;
    this._connectCaps = enhanced ? connectProperties(enhanced) : null;
    this._nextTransId = 1;
    this._pending = new Map();
    this._statusWaiters = new Set();
    /** While publishing: { name, type }, the configurations sent (MediaConfigs) and the last metadata. */
    this._publication = null;
    /** A reconnect under way (Enhanced RTMP v2 "Reconnect Request"): { tcUrl, next? }. */
    this._reconnect = null;
    /** Sessions left behind by a reconnect: their close and errors are not the app's. */
    this._retired = new WeakSet();
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
    this._connectOptions = { timeoutMs, flashVer, tls };
    const { result } = await this._open(this.url, (session) => {
      this.session = session;
      this.sock = session.sock;
    });
    return result.info;
  }

  /**
   * Opens a connection to `url`'s server and application: TCP (or TLS), handshake,
   * connect (with the Enhanced RTMP caps of the `enhanced` option). `adopt(session)`
   * runs as soon as the session exists. Resolves the session and the connect _result.
   */
  async _open(url, adopt) {
    const { timeoutMs, flashVer, tls } = this._connectOptions;
    const { host, port, app, tcUrl, secure } = url;
    const tlsOptions = secure ? nativeTlsOptions(tls ?? true, 'client') : undefined;
    let session = null;
    const ready = new Promise((resolve, reject) => {
      const native = new NativeClient((kind, _id, handle, data, meta, errorMessage, errorCode) => {
        if (kind === EVENT_CONNECTION) {
          session = nativeSession(handle, { isClient: true });
          adopt(session);
        } else if (kind === EVENT_READY) {
          resolve(session);
        } else if (kind === EVENT_BATCH) {
          if (session) session._onBatch(data, meta);
        } else if (kind === EVENT_DRAIN) {
          if (session) session._onDrain();
        } else if (kind === EVENT_CLOSE) {
          native.setRef(false);
          const err = errorMessage ? rtmpError(errorCode, errorMessage) : null;
          if (session) closeNativeSession(session, err);
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
    await withTimeout(ready, timeoutMs, `connecting to ${host}:${port}`, () => session?.destroy());
    session.sock.on('error', (err) => this._onSessionError(session, err));
    session.on('error', (err) => this._onSessionError(session, err));
    session.on('close', () => this._onSessionClose(session));
    session.msg.loop(null, {
      amf0cmd: (c) => this._onCommand(c.chunk.msg, session),
      amf3cmd: (c) => this._onCommand(c.chunk.msg, session),
    });
    const current = () => session === this.session;
    session.on('audio', (header, c) => current() && this.emit('audio', c.chunk.data, c.chunk.timestamp, header));
    session.on('video', (header, c) => current() && this.emit('video', c.chunk.data, c.chunk.timestamp, header));
    session.on('data', (m, c) => current() && this.emit('data', m, c.chunk.data, c.chunk.timestamp));
    const result = await this._call('connect', {
      cmdObj: {
        app, type: 'nonprivate', flashVer, tcUrl, fpad: false, capabilities: 15, audioCodecs: 3575, videoCodecs: 252, videoFunction: 1, objectEncoding: 0,
        ...this._connectCaps,
      },
    }, session, timeoutMs).catch((err) => {
      // Nothing useful can follow a connect nobody answered: the connection ends.
      if (err.code === 'ERR_RTMP_TIMEOUT') session.destroy();
      throw err;
    });
    session.chunk(2).sendSetChunkSize(60000);
    if (current()) this.serverCaps = readConnectCaps(result.cmdObj || {});
    return { session, result };
  }

  /**
   * Publishes a stream (releaseStream, FCPublish, createStream, publish as encoders do);
   * resolves once the server answers NetStream.Publish.Start, rejects on an error
   * status (code ERR_RTMP_PUBLISH, `info` attached).
   * @param {string} [name] - defaults to the stream name of the connect URL
   */
  async publish(name = this.url.stream, type = 'live') {
    // Set before the answer: a reconnect request a server sends right after
    // NetStream.Publish.Start (often in the same read) must find the publication.
    const publication = { name, type, configs: new MediaConfigs(), metadata: null, hasVideo: false };
    this._publication = publication;
    try {
      const { info } = await this._publishOn(this.session, name, type);
      return info;
    } catch (err) {
      if (this._publication === publication) this._publication = null;
      throw err;
    }
  }

  /** releaseStream, FCPublish, createStream, publish on `session`; resolves { info, streamId }. */
  async _publishOn(session, name, type) {
    this._send('releaseStream', { cmdObj: null, streamId: name }, 0, session);
    this._send('FCPublish', { cmdObj: null, streamId: name }, 0, session);
    const streamId = await this._createStream(session);
    const status = this._waitStatus(/^NetStream\.Publish\./, `publish ${name}`, session);
    session.sendCommand({ cmd: 'publish', transId: 0, cmdObj: null, name, type }, { msgStreamId: streamId, csid: STREAM_COMMAND_CSID });
    const info = await status;
    if (info.code !== 'NetStream.Publish.Start') throw Object.assign(rtmpError('ERR_RTMP_PUBLISH', `publish ${name}: ${info.code} ${info.description || ''}`.trim()), { info });
    return { info, streamId };
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

  /**
   * Sends audio on the published stream. Returns false past the high-water mark.
   * While a reconnect request is followed, media goes on to the old server until
   * the next keyframe (audio-only: the next frame), then to the new one after the
   * metadata and every configuration sent so far; what comes while neither can take
   * it (the old server left first) is dropped up to that keyframe (returning true).
   */
  sendAudio(data, timestamp) {
    return this._sendMedia(TAG_AUDIO, data, timestamp);
  }

  /** Sends video on the published stream; see sendAudio. */
  sendVideo(data, timestamp) {
    return this._sendMedia(TAG_VIDEO, data, timestamp);
  }

  /**
   * Sends a data message (a Buffer of AMF0 or values) on the published stream. The
   * last `@setDataFrame` (metadata) is sent again after a reconnect.
   */
  sendData(data, timestamp = 0) {
    const pub = this._publication;
    if (!pub) return this.session.sendData(data, timestamp, this.streamId);
    const payload = Buffer.isBuffer(data) ? data : amf.amf0Encode(data);
    if (payload.subarray(0, SET_DATA_FRAME.length).equals(SET_DATA_FRAME)) pub.metadata = Buffer.from(payload);
    if (this._reconnect && this.session.closed) return true;
    return this.session.sendData(payload, timestamp, this.streamId);
  }

  /** Audio or video of a publication: configurations kept, a reconnect switched at a keyframe. */
  _sendMedia(type, data, timestamp) {
    const pub = this._publication;
    const send = (session, streamId) => (type === TAG_AUDIO ? session.sendAudio(data, timestamp, streamId) : session.sendVideo(data, timestamp, streamId));
    if (!pub) return send(this.session, this.streamId);
    const role = pub.configs.take(type, data);
    if (type === TAG_VIDEO) pub.hasVideo = true;
    const rec = this._reconnect;
    if (rec) {
      if (rec.next && (role === 'keyframe' || (role === 'audio' && !pub.hasVideo))) this._switch(timestamp);
      else if (this.session.closed) return true;
    }
    return send(this.session, this.streamId);
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
    const rec = this._reconnect;
    this._reconnect = null;
    if (rec) {
      rec.cancelled = true;
      if (rec.next) this._retire(rec.next.session, rec.next.streamId);
    }
    if (!this.session || this.session.closed) return;
    if (this.streamId) this._send('deleteStream', { cmdObj: null, streamId: this.streamId });
    const closed = new Promise((resolve) => this.session.once('close', resolve));
    this.session.end();
    await closed;
  }

  /** createStream on `session`; the client's streamId when it is the client's session. */
  async _createStream(session = this.session) {
    const result = await this._call('createStream', { cmdObj: null }, session);
    if (session === this.session) this.streamId = result.info;
    return result.info;
  }

  _send(cmd, fields, transId = 0, session = this.session) {
    return session.sendCommand({ cmd, transId, ...fields });
  }

  /**
   * Sends a command on `session` and resolves its `_result` (rejects on `_error`), by
   * transaction id; rejects with ERR_RTMP_TIMEOUT if no answer comes within `timeoutMs`.
   */
  _call(cmd, fields, session = this.session, timeoutMs = this.timeout) {
    const transId = this._nextTransId++;
    const answer = new Promise((resolve, reject) => {
      this._pending.set(transId, { cmd, resolve, reject, session });
      this._send(cmd, fields, transId, session);
    });
    return withTimeout(answer, timeoutMs, cmd, () => this._pending.delete(transId));
  }

  /** Resolves the first onStatus on `session` matching `pattern` (or of level error); times out as `_call`. */
  _waitStatus(pattern, what, session = this.session) {
    let waiter;
    const status = new Promise((resolve, reject) => {
      waiter = { pattern, resolve, reject, session };
      this._statusWaiters.add(waiter);
    });
    return withTimeout(status, this.timeout, what, () => this._statusWaiters.delete(waiter));
  }

  /**
   * A reconnect request (Enhanced RTMP v2, "Reconnect Request") on the connection of
   * a publication: connect to its tcUrl (resolved against the current one), publish
   * the same name there, then switch at the next keyframe (`_sendMedia`). Other
   * clients (players, a connection without a publication) only see the 'status'.
   */
  _onReconnectRequest(session, info) {
    if (session !== this.session || !this._publication || this._reconnect) return;
    let tcUrl;
    let url;
    try {
      tcUrl = resolveReconnectUrl(info.tcUrl, this.url.tcUrl);
      // The tcUrl names the server and the application; the stream name stays.
      url = { ...parseRtmpUrl(`${tcUrl}/-`), stream: this.url.stream };
    } catch (err) {
      this._reconnectFailed(null, err);
      return;
    }
    const rec = { tcUrl, next: null, cancelled: false, session: null, serverCaps: null };
    this._reconnect = rec;
    const { name, type } = this._publication;
    this._open(url, (s) => {
      rec.session = s;
    })
      .then(({ session: next, result }) => {
        rec.serverCaps = readConnectCaps(result.cmdObj || {});
        return this._publishOn(next, name, type);
      })
      .then(({ streamId }) => {
        if (rec.cancelled) this._retire(rec.session, streamId);
        else rec.next = { session: rec.session, streamId, url };
      })
      .catch((err) => {
        if (rec.session) this._retire(rec.session, 0);
        if (!rec.cancelled) this._reconnectFailed(rec, err);
      });
  }

  /** Moves the publication to the reconnect's new session: metadata, configurations, then the frame at `timestamp`. */
  _switch(timestamp) {
    const rec = this._reconnect;
    const { session, streamId, url } = rec.next;
    const pub = this._publication;
    this._reconnect = null;
    this._retire(this.session, this.streamId);
    this.session = session;
    this.sock = session.sock;
    this.streamId = streamId;
    this.url = url;
    this.serverCaps = rec.serverCaps;
    if (pub.metadata) session.sendData(pub.metadata, 0, streamId);
    for (const c of pub.configs.configs()) {
      if (c.type === TAG_AUDIO) session.sendAudio(c.data, timestamp, streamId);
      else session.sendVideo(c.data, timestamp, streamId);
    }
    this.emit('reconnect', { tcUrl: rec.tcUrl });
  }

  /** Ends a session the client no longer uses (deleteStream, then the connection). */
  _retire(session, streamId) {
    this._retired.add(session);
    if (session.closed) return;
    if (streamId) this._send('deleteStream', { cmdObj: null, streamId }, 0, session);
    session.end();
  }

  /** A reconnect failed: the app gets an error (ERR_RTMP_RECONNECT); if the old server has gone too, 'close'. */
  _reconnectFailed(rec, cause) {
    if (rec) this._reconnect = null;
    const err = Object.assign(rtmpError('ERR_RTMP_RECONNECT', `reconnect request not followed: ${cause.message}`), { cause });
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (this.session.closed) this._onClose();
  }

  /** An error on one of the client's sessions. */
  _onSessionError(session, err) {
    if (this._retired.has(session)) return;
    if (session === this.session && !this._reconnect) this._fail(err);
    else this._failSession(session, err);
  }

  /** One of the client's sessions closed: the client's, unless a reconnect replaces it. */
  _onSessionClose(session) {
    if (this._retired.has(session)) return;
    if (session === this.session && !this._reconnect) {
      this._onClose();
      return;
    }
    this._failSession(session, rtmpError('ERR_RTMP_CLOSED', 'the connection closed'));
  }

  /** Rejects what waits for an answer on `session` only. */
  _failSession(session, err) {
    for (const [id, p] of this._pending) {
      if (p.session !== session) continue;
      this._pending.delete(id);
      p.reject(err);
    }
    for (const w of this._statusWaiters) {
      if (w.session !== session) continue;
      this._statusWaiters.delete(w);
      w.reject(err);
    }
  }

  _onCommand(msg, session) {
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
      for (const w of this._statusWaiters) {
        if (w.session !== session) continue;
        if (w.pattern.test(msg.info.code) || msg.info.level === 'error') {
          this._statusWaiters.delete(w);
          w.resolve(msg.info);
        }
      }
    }
    // What a reconnect's new session or a retired one says is not the app's.
    if (session !== this.session) return;
    if (msg.cmd === 'onStatus' && msg.info && typeof msg.info.code === 'string') {
      this.emit('status', msg.info);
      if (msg.info.code === RECONNECT_REQUEST) this._onReconnectRequest(session, msg.info);
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
