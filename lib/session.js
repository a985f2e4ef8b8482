'use strict';

// A session as node-rtmpapi apps see it: `msg.loop`/`msg.read` dispatching to handlers
// by `msgTypeText`, chunk objects per chunk stream, `sock`, `Q`, `getTs()`, `log` —
// and, beside it, an EventEmitter ('message', 'command', 'audio', 'video', 'data',
// 'error', 'close').

const { EventEmitter } = require('node:events');
const { ChunkObject } = require('./chunk.js');
const { TYPE_TEXT, decodeMessage } = require('./message.js');
const { fromNative } = require('./errors.js');
const amf = require('./amf.js');
const nativeBinding = require('../binding.js');
const makeLog = require('./log.js');
const { makeQueue } = require('./queue.js');

/** u32 fields per message in a native batch's meta array (see src/runtime/batch.rs). */
const META_FIELDS = 7;

/** Modern event names per message type. */
const EVENT_BY_TYPE = { 8: 'audio', 9: 'video', 15: 'data', 18: 'data', 17: 'command', 20: 'command' };
/** Every event a received message is emitted as. */
const MESSAGE_EVENTS = ['message', ...new Set(Object.values(EVENT_BY_TYPE))];

/** Chunk streams media goes out on (the same as the native relay's). */
const AUDIO_CSID = 4;
const DATA_CSID = 5;
const VIDEO_CSID = 6;
const COMMAND_CSID = 3;

/** User control events (RTMP 1.0 §7.1.7). */
const STREAM_BEGIN = 0;
const STREAM_EOF = 1;
const SET_BUFFER_LENGTH = 3;

/** Acknowledgement (RTMP 1.0 §5.4.3): the one message type players send steadily. */
const ACKNOWLEDGEMENT = 3;

/** Messages kept for a reader that has not been registered yet. */
const MAX_UNREAD = 10000;

/**
 * node-rtmpapi's message reader.
 */
class MessageReader {
  /** @param {Session} session */
  constructor(session) {
    this.session = session;
    this.readers = [];
    this.unread = [];
  }

  /**
   * Waits for the next whole message, calls `cb(chunkObj)` then the handler named by
   * its `msgTypeText`, then stops.
   * @param {((chunk: ChunkObject) => void) | null} cb
   * @param {Record<string, (chunk: ChunkObject) => void>} [handlers]
   */
  read(cb, handlers) {
    this.readers.push({ cb, handlers: handlers || {}, once: true });
    this.session._resumeAcks();
    this._drain();
  }

  /**
   * Like `read`, for every message for the life of the session.
   * @param {((chunk: ChunkObject) => void) | null} cb
   * @param {Record<string, (chunk: ChunkObject) => void>} [handlers]
   */
  loop(cb, handlers) {
    this.readers.push({ cb, handlers: handlers || {}, once: false });
    this.session._resumeAcks();
    this._drain();
  }

  _drain() {
    while (this.unread.length && this.readers.length) this._dispatch(this.unread.shift());
  }

  /**
   * Dispatches a message now, or keeps it for a `read`/`loop` to come. An app that
   * listens for the message events ('message', 'command', ...) gets them at once,
   * with or without a reader.
   */
  _deliver(message) {
    if (message.type === ACKNOWLEDGEMENT) this.session._pauseAcksIfUnseen();
    if (this.readers.length === 0 && !this.session._listensForMessages()) {
      if (this.unread.length >= MAX_UNREAD) this.unread.shift();
      this.unread.push(message);
      return;
    }
    this._dispatch(message);
  }

  _dispatch(message) {
    const reader = this.readers[0];
    if (reader && reader.once) {
      this.readers.shift();
      this.session._resumeAcks();
    }
    const chunkObj = this.session._fill(message);
    if (!chunkObj || !reader) return;
    this.session._call(reader.cb, chunkObj);
    this.session._call(reader.handlers[chunkObj.chunk.msgTypeText], chunkObj);
  }
}

/**
 * One RTMP session: node-rtmpapi's fields (`msg`, `sock`, `Q`, `isClient`, `getTs()`,
 * `log`), the send methods, and the events 'message', 'command', 'audio', 'video',
 * 'data', 'error', 'close'.
 */
class Session extends EventEmitter {
  /**
   * @param {object} transport - `{ native, flush(), sock }`
   * @param {{ isClient?: boolean, debug?: boolean }} [opts]
   */
  constructor(transport, opts = {}) {
    super();
    Object.defineProperty(this, '_transport', { value: transport, enumerable: false });
    this.isClient = Boolean(opts.isClient);
    this.sock = transport.sock;
    if (opts.debug) this.log = makeLog(true, this.sock && this.sock.remoteAddress);
    this.msg = new MessageReader(this);
    this.chunkSize = { rcv: 128, snd: 128, rcvWinSize: 0, sndWinSize: 0 };
    this.chunks = new Map();
    this.closed = false;
    this._acksPaused = false;
    this._started = Date.now();
  }

  /** The session clock: ms since the session started (node-rtmpapi's `getTs`). */
  getTs() {
    return (Date.now() - this._started) >>> 0;
  }

  /** The chunk object of a chunk stream id, made on first use. */
  chunk(csid) {
    let c = this.chunks.get(csid);
    if (!c) {
      c = new ChunkObject(this, csid);
      this.chunks.set(csid, c);
    }
    return c;
  }

  /** The connection id (a Number, unique in the process; 0 for a session over a JS socket). */
  get id() {
    return this._transport.native.id;
  }

  /**
   * Reading resumes after a `publish` or `play` command paused it (the server option
   * `pauseOnStreamCommands`, which the live server sets): what the peer sent since is
   * then read in order. No effect on a session that is not paused.
   */
  resumeReading() {
    if (!this.closed) this._transport.native.resumeReading();
  }

  /** Bytes received from the peer so far (wrapping at 2^32). */
  get bytesReceived() {
    return this._transport.native.bytesReceived();
  }

  /**
   * Sends an audio message (type 8) with its own timestamp on message stream
   * `msgStreamId` (the id the peer's createStream got). Returns false past the
   * high-water mark.
   */
  sendAudio(data, timestamp = 0, msgStreamId = 1) {
    return this._send((n) => n.sendMessage(AUDIO_CSID, 8, msgStreamId >>> 0, timestamp >>> 0, data));
  }

  /** Sends a video message (type 9); see sendAudio. */
  sendVideo(data, timestamp = 0, msgStreamId = 1) {
    return this._send((n) => n.sendMessage(VIDEO_CSID, 9, msgStreamId >>> 0, timestamp >>> 0, data));
  }

  /**
   * Sends a data message (type 18): a Buffer of AMF0, or the values to encode, e.g.
   * ['onMetaData', { width: 1280 }] or ['@setDataFrame', 'onMetaData', {...}].
   */
  sendData(data, timestamp = 0, msgStreamId = 1) {
    const payload = Buffer.isBuffer(data) ? data : amf.amf0Encode(data);
    return this._send((n) => n.sendMessage(DATA_CSID, 18, msgStreamId >>> 0, timestamp >>> 0, payload));
  }

  /**
   * Sends an aggregate message (type 22) of audio/video/data parts
   * `[{ type, timestamp, data }]`, timestamped with the first part's.
   */
  sendAggregate(parts, msgStreamId = 1) {
    if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('sendAggregate needs a non-empty array of { type, timestamp, data }');
    const payload = nativeBinding.buildAggregate(parts);
    return this._send((n) => n.sendMessage(VIDEO_CSID, 22, msgStreamId >>> 0, parts[0].timestamp >>> 0, payload));
  }

  /**
   * Sends a command ({ cmd, transId, cmdObj, ... }, AMF0) on chunk stream `csid`
   * (default 3) and message stream `msgStreamId` (default 0).
   */
  sendCommand(cmd, { msgStreamId = 0, csid = COMMAND_CSID, timestamp = 0 } = {}) {
    const payload = amf.encodeAmf0Cmd(cmd);
    return this._send((n) => n.sendMessage(csid, 20, msgStreamId >>> 0, timestamp >>> 0, payload));
  }

  /**
   * Sends `onStatus` on a message stream: `info` is merged over
   * `{ level: 'status' }`, e.g. `{ code: 'NetStream.Play.Start', description }`.
   */
  sendStatus(msgStreamId, info) {
    return this.sendCommand(
      { cmd: 'onStatus', transId: 0, cmdObj: null, info: { level: 'status', ...info } },
      { msgStreamId, csid: DATA_CSID },
    );
  }

  /** User control StreamBegin (§7.1.7) for a message stream. */
  sendStreamBegin(msgStreamId) {
    return this._send((n) => n.sendUserControl(STREAM_BEGIN, msgStreamId >>> 0, 0));
  }

  /** User control StreamEOF (§7.1.7) for a message stream. */
  sendStreamEof(msgStreamId) {
    return this._send((n) => n.sendUserControl(STREAM_EOF, msgStreamId >>> 0, 0));
  }

  /** User control SetBufferLength (§7.1.7): the buffer a player uses, in ms. */
  sendSetBufferLength(msgStreamId, ms) {
    return this._send((n) => n.sendUserControl(SET_BUFFER_LENGTH, msgStreamId >>> 0, ms >>> 0));
  }

  /**
   * Statistics: bytes and messages in, bytes out (relayed media included), the last
   * ping RTT, dropped media, queued bytes, uptime and average bitrates.
   */
  stats() {
    const s = this._transport.native.stats();
    const uptimeMs = Date.now() - this._started;
    const kbps = (bytes) => (uptimeMs > 0 ? (bytes * 8) / uptimeMs : 0);
    return { ...s, uptimeMs, kbpsIn: kbps(s.bytesIn), kbpsOut: kbps(s.bytesOut) };
  }

  /** Sends a PingRequest; the answer sets `stats().rttMs`. */
  ping() {
    return this._send((n) => n.ping());
  }

  /** Bytes waiting to be written to the peer. */
  get queuedBytes() {
    return this._transport.native.queuedBytes();
  }

  /** Media frames dropped for this peer by the send queue: `{ video, audio }`. */
  get dropped() {
    return this._transport.native.dropped();
  }

  /**
   * Resolves once nothing waits to be written to the peer (at once if nothing does),
   * or the session closed: the native writer signals it, no polling.
   */
  drained() {
    if (this.closed || this._transport.native.requestDrain()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.on('drain', done);
      this.on('close', done);
    });
  }

  /** The native writer emptied the queue a `drained()` waits for: 'drain' on the session and its sock. */
  _onDrain() {
    this.emit('drain');
    if (this.sock && this.sock !== this) this.sock.emit('drain');
  }

  /** Sends the queued bytes, closing after them. */
  end() {
    this.sock.end();
  }

  /** Closes now. */
  destroy() {
    this.sock.destroy();
  }

  _send(fn) {
    if (this.closed) {
      this._emitError(Object.assign(new Error('session is closed'), { code: 'ERR_RTMP_CLOSED' }));
      return false;
    }
    try {
      const ok = fn(this._transport.native);
      this._transport.flush();
      return ok;
    } catch (err) {
      const e = fromNative(err);
      if (e instanceof TypeError) throw e;
      // The peer already closed its side and the session is winding down: a reply to
      // its last messages is dropped, not an error (like a write to a closing socket).
      if (e.code !== 'ERR_RTMP_CLOSED') this._emitError(e);
      return false;
    }
  }

  _sendControl(fn) {
    const ok = this._send(fn);
    if (!this.closed) Object.assign(this.chunkSize, this._transport.native.chunkSizes());
    return ok;
  }

  on(name, listener) {
    super.on(name, listener);
    if (name === 'message') this._resumeAcks();
    return this;
  }

  addListener(name, listener) {
    return this.on(name, listener);
  }

  prependListener(name, listener) {
    super.prependListener(name, listener);
    if (name === 'message') this._resumeAcks();
    return this;
  }

  /**
   * Whether a received Acknowledgement could reach the app: a 'message' listener, the
   * current reader's `cb` or `ack` handler, or no reader and no listener yet (then
   * messages are kept for a reader to come). While none could, the native side stops
   * delivering them, so a server's players acknowledging every window never wake
   * the JS thread for nothing. An `ack` handler added to a handlers object after
   * `loop` was called is not seen.
   */
  _wantsAcks() {
    if (this.listenerCount('message') > 0) return true;
    const reader = this.msg.readers[0];
    if (!reader) return !this._listensForMessages();
    return typeof reader.cb === 'function' || typeof reader.handlers.ack === 'function';
  }

  /** An Acknowledgement arrived: stop their delivery if nothing could see them. */
  _pauseAcksIfUnseen() {
    if (this._acksPaused || this.closed || this._wantsAcks()) return;
    this._acksPaused = true;
    this._transport.native.setDeliverAcks(false);
  }

  /** Readers or listeners changed: deliver Acknowledgements again if they could be seen. */
  _resumeAcks() {
    if (!this._acksPaused || this.closed || !this._wantsAcks()) return;
    this._acksPaused = false;
    this._transport.native.setDeliverAcks(true);
  }

  /** Whether the app listens for received messages as events. */
  _listensForMessages() {
    return MESSAGE_EVENTS.some((name) => this.listenerCount(name) > 0);
  }

  /** Delivers a native batch: one Buffer of payloads, 7 u32 per message. */
  _onBatch(data, meta) {
    for (let i = 0; i < meta.length && !this.closed; i += META_FIELDS) {
      const offset = meta[i + 5];
      this.msg._deliver({
        type: meta[i],
        timestamp: meta[i + 1],
        msgStreamId: meta[i + 2],
        csid: meta[i + 3],
        fmt: meta[i + 4],
        data: data.subarray(offset, offset + meta[i + 6]),
      });
    }
  }

  /** Fills the chunk object of a message; null if its payload is malformed. */
  _fill(m) {
    let decoded;
    try {
      decoded = decodeMessage(m.type, m.data);
    } catch (err) {
      this._fail(fromNative(err));
      return null;
    }
    if (m.type === 1 || m.type === 5) Object.assign(this.chunkSize, this._transport.native.chunkSizes());
    const chunkObj = this.chunk(m.csid);
    const c = chunkObj.chunk;
    c.data = m.data;
    c.timestamp = m.timestamp;
    c.msgLen = m.data.length;
    c.msgType = m.type;
    c.msgTypeText = TYPE_TEXT[m.type] || 'unknown';
    c.msgStreamId = m.msgStreamId;
    c.fmt = m.fmt;
    c.msg = decoded;
    this.emit('message', chunkObj);
    const event = EVENT_BY_TYPE[m.type];
    if (event) this.emit(event, decoded, chunkObj);
    return chunkObj;
  }

  /** Runs an app handler; a throw is reported as an 'error' event, not swallowed. */
  _call(fn, chunkObj) {
    if (typeof fn !== 'function') return;
    try {
      fn.call(chunkObj, chunkObj);
    } catch (err) {
      if (err && typeof err === 'object' && !err.code) err.code = 'ERR_RTMP_HANDLER';
      this._emitError(err);
    }
  }

  /** Reports an error to whoever listens: the session, its socket, else the server. */
  _emitError(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else if (this.sock && this.sock !== this && this.sock.listenerCount && this.sock.listenerCount('error') > 0) {
      this.sock.emit('error', err);
    } else if (this._transport.onUnhandledError) this._transport.onUnhandledError(err, this);
    else this.log.log('error', err.code, err.message);
  }

  /** A protocol error: report it and close the session. */
  _fail(err) {
    this._emitError(err);
    this.destroy();
  }

  _onClose(err) {
    if (this.closed) return;
    this.closed = true;
    if (err) this._emitError(err);
    this.emit('close', Boolean(err));
  }
}

/**
 * Defines `name` on sessions as made by `make(session)` on first use, then an ordinary
 * own property (assignable as before): most sessions never use their `Q` (a native
 * session reads no bytes through it) or `log` (errors and debugging only), and the
 * closures of both were 30 % of an idle session's JS heap (1.4 of 4.6 KB).
 */
function madeOnFirstUse(name, make) {
  const own = (session, value) =>
    Object.defineProperty(session, name, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(Session.prototype, name, {
    configurable: true,
    get() {
      const value = make(this);
      own(this, value);
      return value;
    },
    set(value) {
      own(this, value);
    },
  });
}
madeOnFirstUse('Q', (session) => makeQueue(null, { bytesReceived: () => session.bytesReceived }));
madeOnFirstUse('log', (session) => makeLog(false, session.sock && session.sock.remoteAddress));

module.exports = { Session, META_FIELDS };
