'use strict';

// LiveStream: a live stream relayed natively from one publisher to many players.
// JS decides who publishes and who plays; the bytes never pass through JS.

const { EventEmitter } = require('node:events');
const { NativeStream } = require('../binding.js');
const { Recording } = require('./recording.js');
const { HlsOutput } = require('./hls.js');
const flvPlayer = require('./flv-player.js');

/**
 * The stream each session publishes to: the native relay takes one publication per
 * connection, so a second one is refused instead of silently replacing the first.
 * @type {WeakMap<object, LiveStream>}
 */
const publishedBy = new WeakMap();

/** Longest merge window a stream takes (SRS's mw_latency goes to seconds; players buffer). */
const MAX_MERGE_WRITES_MS = 5000;

/** `options[name]` if an integer in 0..=max, undefined if absent; a TypeError otherwise. */
function optionalInteger(options, name, max) {
  const value = options[name];
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw Object.assign(new TypeError(`options.${name} must be an integer from 0 to ${max}, got ${value}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return value;
}

/**
 * Events: 'publish' (session, msgStreamId) and 'unpublish' (session) as the publisher
 * comes and goes; 'play' (session, msgStreamId) and 'stop' (session) as players do;
 * 'flvPlay' (player) and 'flvStop' (player) as HTTP-FLV and WebSocket-FLV players do.
 */
class LiveStream extends EventEmitter {
  /**
   * @param {string} [name]
   * @param {{ gopCacheBytes?: number, mergeWritesMs?: number, flvMergeWritesMs?: number }} [options] -
   *   `gopCacheBytes`: bytes of the current group of pictures kept for late joiners
   *   (default 16 MiB); `mergeWritesMs`: how long audio and data may wait for the next
   *   video frame, to reach each RTMP player in one write with it (default 0: every read
   *   of the publisher goes out at once to each player whose write path is idle, and is
   *   merged into the next write of one whose socket is backed up); `flvMergeWritesMs`:
   *   the same for HTTP-FLV and WebSocket-FLV players (default 40: a browser's player
   *   buffers far longer, and one write per video frame halves what each costs)
   */
  constructor(name = '', options = {}) {
    super();
    this.name = name;
    this._native = new NativeStream(
      optionalInteger(options, 'gopCacheBytes', 0xffff_ffff),
      optionalInteger(options, 'mergeWritesMs', MAX_MERGE_WRITES_MS),
      optionalInteger(options, 'flvMergeWritesMs', MAX_MERGE_WRITES_MS),
    );
    /** @type {import('./session.js').Session | null} */
    this.publisher = null;
    /** @type {Map<import('./session.js').Session, number>} player → its message stream id */
    this.players = new Map();
    /** @type {Set<import('./flv-player.js').FlvPlayer>} HTTP-FLV and WebSocket-FLV players */
    this.flvPlayers = new Set();
    /**
     * The 'close' listener of the publisher and of every player (the session is
     * `this`): one function for all of them, added when a session becomes one and
     * removed when it is neither, so a player costs no closure of its own.
     */
    const stream = this;
    this._onMemberClose = function onMemberClose() {
      stream.removePublisher(this);
      stream.removePlayer(this);
    };
  }

  /** Whether `session` publishes or plays this stream. */
  _isMember(session) {
    return this.publisher === session || this.players.has(session);
  }

  /**
   * Makes `session` the publisher: its audio, video and data messages on message
   * stream `msgStreamId` are forwarded to every player natively. `emit: true` also
   * delivers them to the session's JS handlers. Throws ERR_RTMP_STREAM_BUSY if another
   * session publishes this stream, ERR_RTMP_ALREADY_PUBLISHING if `session` publishes
   * another stream (one publication per connection).
   */
  setPublisher(session, msgStreamId, { emit = false } = {}) {
    if (this.publisher && this.publisher !== session) {
      const err = new Error(`stream ${this.name} already has a publisher`);
      err.code = 'ERR_RTMP_STREAM_BUSY';
      throw err;
    }
    const other = publishedBy.get(session);
    if (other && other !== this) {
      const err = new Error(`the session already publishes ${other.name || 'another stream'}; one publication per session`);
      err.code = 'ERR_RTMP_ALREADY_PUBLISHING';
      throw err;
    }
    session._transport.native.publish(this._native, msgStreamId >>> 0, emit);
    if (!this._isMember(session)) session.on('close', this._onMemberClose);
    this.publisher = session;
    publishedBy.set(session, this);
    this.emit('publish', session, msgStreamId);
  }

  /** Ends the current publication: caches are cleared; players stay for the next one. */
  removePublisher(session = this.publisher) {
    if (!session || session !== this.publisher) return;
    this.publisher = null;
    publishedBy.delete(session);
    if (!this.players.has(session)) session.off('close', this._onMemberClose);
    if (!session.closed) session._transport.native.unpublish();
    this._native.publisherLeft();
    this.emit('unpublish', session);
  }

  /**
   * Adds a player on its message stream id (the one its createStream returned): it
   * gets the metadata, the decoder configurations and the cached GOP at once.
   */
  addPlayer(session, msgStreamId) {
    this._native.addPlayer(session._transport.native, msgStreamId >>> 0);
    if (!this._isMember(session)) session.on('close', this._onMemberClose);
    this.players.set(session, msgStreamId);
    this.emit('play', session, msgStreamId);
  }

  /** Stops relaying to a player. */
  removePlayer(session) {
    if (!this.players.delete(session)) return;
    if (this.publisher !== session) session.off('close', this._onMemberClose);
    this._native.removePlayer(session._transport.native);
    this.emit('stop', session);
  }

  /** `{ players, flvSinks, messages, gopMessages, gopBytes }` (flvSinks: recordings and FLV players) */
  stats() {
    return this._native.stats();
  }

  // ---- Native recording (lib/recording.js) ----

  /**
   * Records the current publication (or, with no publisher, the next one) into an FLV
   * file at `path`, created or truncated. The file gets the metadata, the decoder
   * configurations and, started mid-stream, the GOP from its keyframe first, then every
   * message; it is written natively off the main thread and finalized (duration and
   * size in its onMetaData) when the publisher leaves or `recording.stop()` is called.
   * Listen for 'error' (code ERR_RTMP_RECORD) and 'close'.
   * @param {string} path
   * @param {{ queueLimit?: number }} [options] - `queueLimit`: media bytes held for a
   *   slow disk before frames are dropped (default 16 MiB)
   * @returns {Recording}
   */
  record(path, options) {
    return new Recording(this, path, options);
  }

  // ---- HLS output (lib/hls.js) ----

  /**
   * This stream as Low-Latency HLS: CMAF segments and parts muxed natively from the
   * default video and audio tracks (H.264, HEVC, AV1, AAC, Opus), held in memory in a
   * bounded window and served by `output.handle(req, res)`. One output per stream:
   * later calls return the first (their options are ignored). It follows every
   * publication of the stream, each under a new random id in its URLs.
   * @param {ConstructorParameters<typeof HlsOutput>[1]} [options]
   * @returns {HlsOutput}
   */
  hls(options) {
    if (!this._hls || this._hls.closed) this._hls = new HlsOutput(this, options);
    return this._hls;
  }

  // ---- Browser playback (lib/flv-player.js) ----

  /**
   * Plays this stream to an HTTP request as HTTP-FLV: the response (200, video/x-flv,
   * chunked; CORS) and everything after it are written natively to the request's
   * connection, which is taken over from Node (`res` is not used further). Authorize
   * and route before calling it. With no publisher yet the player waits for one.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {{ cors?: string | false, queueLimit?: number, stays?: boolean }} [options] -
   *   `cors`: Access-Control-Allow-Origin (default '*', false for none); `queueLimit`:
   *   media bytes held for a slow player before frames are dropped (default 4 MiB, as
   *   RTMP players); `stays`: stay for the next publication when the publisher leaves
   *   (default true), otherwise the response ends with the publication
   * @returns {import('./flv-player.js').FlvPlayer}
   */
  addFlvPlayer(req, res, options) {
    return this._trackFlvPlayer(flvPlayer.addFlvPlayer(this, req, res, options));
  }

  /**
   * Plays this stream to a WebSocket upgrade request (`server.on('upgrade')`) as
   * WebSocket-FLV: the handshake's 101 and then one binary frame per write, each of
   * whole FLV tags, written natively; pings are answered, a close is echoed. A request
   * that is no valid handshake is answered 400 and undefined returned.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:net').Socket} socket
   * @param {Buffer} head
   * @param {{ cors?: string | false, queueLimit?: number, stays?: boolean }} [options]
   * @returns {import('./flv-player.js').FlvPlayer | undefined}
   */
  addWebSocketFlvPlayer(req, socket, head, options) {
    const player = flvPlayer.addWebSocketFlvPlayer(this, req, socket, head, options);
    return player && this._trackFlvPlayer(player);
  }

  _trackFlvPlayer(player) {
    this.flvPlayers.add(player);
    player.once('close', () => {
      this.flvPlayers.delete(player);
      this.emit('flvStop', player);
    });
    this.emit('flvPlay', player);
    return player;
  }
}

module.exports = { LiveStream };
