'use strict';

// createLiveServer: the package's live server. Publishers and players meet on
// "app/name" streams, relayed natively (LiveStream); JS decides who may publish and
// play (`authorize`, which may be async: the session's reading pauses meanwhile, so
// nothing it sends is lost or diverted), and hooks let apps build edges, pushes and
// recorders on it. Metrics in Prometheus text, graceful close.

const { RtmpServer } = require('./server.js');
const { LiveStream } = require('./stream.js');
const { flvHttpHandler } = require('./flv-player.js');
const { playerPageHandler } = require('./player-page.js');
const path = require('node:path');
const { rtmpError } = require('./errors.js');

/** How long close() lets sessions flush and end before it destroys them. */
const DEFAULT_CLOSE_TIMEOUT_MS = 3000;
/** The window of the per-stream bitrate, and how often it is sampled. */
const BITRATE_WINDOW_MS = 5000;
const BITRATE_SAMPLE_MS = 1000;
/** Chunk size, window and peer bandwidth announced on connect (as examples/server.js did). */
const CHUNK_SIZE = 60000;
const WINDOW_SIZE = 2500000;

/**
 * Splits a stream name of publish/play into the name and its query string
 * (`key?token=...`).
 * @param {unknown} streamName
 */
function splitStreamName(streamName) {
  const [name, query = ''] = String(streamName || '').split('?');
  return { name, query: new URLSearchParams(query) };
}

/**
 * Merges the hooks of several building blocks (e.g. edge pulls and pushes) into one set
 * of `onStream`/`beforePublish` options; each runs in the order given.
 * @param {...{ onStream?: Function, beforePublish?: Function }} hookSets
 */
function combineHooks(...hookSets) {
  const all = (name) => hookSets.map((h) => h && h[name]).filter(Boolean);
  const [onStream, beforePublish] = [all('onStream'), all('beforePublish')];
  return {
    onStream: (stream) => onStream.forEach((hook) => hook(stream)),
    beforePublish: (stream, session) => beforePublish.forEach((hook) => hook(stream, session)),
  };
}

/** The default logger: ISO-dated lines on the console; `quiet` keeps only errors. */
function consoleLogger(quiet) {
  const stamp = (print) => (...args) => print(new Date().toISOString(), ...args);
  const silent = () => {};
  return {
    info: quiet ? silent : stamp(console.log),
    warn: quiet ? silent : stamp(console.warn),
    error: stamp(console.error),
  };
}

/** A Prometheus label value, escaped (text exposition format). */
function label(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Byte and drop counters of a session, as the metrics add them up. */
function sessionTotals(session) {
  const s = session._transport.native.stats();
  return { receivedBytes: s.bytesIn, sentBytes: s.bytesOut, droppedMessages: s.droppedVideo + s.droppedAudio };
}

/** Where a session's {@link SessionState} is kept on it. */
const SESSION_STATE = Symbol('liveServerSession');

/** The maps of a session that has no stream yet: read, never written. */
const NO_STREAMS = new Map();

/**
 * What the live server keeps of one RTMP session: its app and the LiveStreams it
 * publishes and plays, by message stream id. The maps are made on first use: an idle
 * session has none.
 */
class SessionState {
  constructor() {
    this.app = '';
    this.nextStreamId = 0;
    /** @type {Map<number, LiveStream>} */
    this.published = NO_STREAMS;
    /** @type {Map<number, LiveStream>} */
    this.playing = NO_STREAMS;
  }
}

/**
 * The live server: an RtmpServer (listen, address, events, getConnections, ref/unref)
 * that runs the publish/play flow itself. See README "The live server".
 */
class LiveServer extends RtmpServer {
  /** @param {import('../index.js').LiveServerOptions} [options] */
  constructor(options = {}) {
    const {
      quiet = false, logger, authorize, onStream, beforePublish, emitMedia = false, streamOptions,
      closeTimeoutMs = DEFAULT_CLOSE_TIMEOUT_MS, record, enhanced = {}, hls = {},
      ...serverOptions
    } = options;
    super(null, { ...serverOptions, pauseOnStreamCommands: true });
    this._onSession = (session) => this._startSession(session);
    this._makeSessionListeners();
    this._log = logger || consoleLogger(quiet);
    this._authorize = authorize;
    this._onStream = onStream;
    this._beforePublish = beforePublish;
    this._emitMedia = emitMedia;
    this._streamOptions = streamOptions;
    this._closeTimeoutMs = closeTimeoutMs;
    this._record = record;
    /** What connect answers an Enhanced RTMP client (enhanced.connectResultProperties' server options), or false. */
    this._enhanced = enhanced;
    /** Each publication's HLS output (stream.hls options), or false. */
    this._hls = hls;
    /** Recordings not yet finalized (`record` option). */
    this._recordings = new Set();
    /** @type {Map<string, LiveStream>} live streams by "app/name" */
    this.streams = new Map();
    /** Counters of the sessions that have closed (open ones are read when asked). */
    this._closedTotals = { receivedBytes: 0, sentBytes: 0, droppedMessages: 0 };
    /** Warnings by code (native drops and refusals). */
    this._warnings = new Map();
    /** Publisher byte samples per stream for its bitrate: [{ at, bytes }]. */
    this._samples = new Map();
    this._sampler = null;
    this._closing = false;
    this.on('warning', (warning) => {
      this._warnings.set(warning.code, (this._warnings.get(warning.code) || 0) + 1);
      const who = warning.session ? ` (${warning.session.sock.remoteAddress})` : '';
      this._log.warn(`${warning.code}: ${warning.message}${who}`);
    });
    this.on('listening', () => this._startSampling());
  }

  /**
   * Stops accepting, tells every player its stream ended (StreamEOF and
   * NetStream.Play.UnpublishNotify), ends every session after what is queued for it,
   * and destroys those still open after `closeTimeoutMs`. 'close' (and `cb`) follow
   * once every session has ended: within about `closeTimeoutMs`.
   * @param {(err?: Error) => void} [cb]
   */
  close(cb) {
    if (this._closing) {
      if (typeof cb === 'function') {
        if (this._sessions.size === 0) process.nextTick(cb, rtmpError('ERR_SERVER_NOT_RUNNING', 'Server is not running.'));
        else this.once('close', () => cb());
      }
      return this;
    }
    this._closing = true;
    clearInterval(this._sampler);
    // `cb` also waits (bounded) for the recordings the ending publications finalize.
    super.close(typeof cb === 'function' ? (err) => this._afterRecordings(this._closeTimeoutMs, () => cb(err)) : undefined);
    for (const stream of this.streams.values()) {
      this._tellPlayersEnded(stream);
      for (const player of stream.flvPlayers) player.stop();
    }
    for (const session of this._sessions.values()) session.end();
    const timer = setTimeout(() => this.closeAllConnections(), this._closeTimeoutMs);
    this.once('close', () => clearTimeout(timer));
    return this;
  }

  /**
   * Prometheus text exposition (format 0.0.4): connections, publishers, players
   * (gauges); bytes received and sent, media dropped for slow players, warnings
   * (counters); each stream's players and the bitrate its publisher sends at (over
   * the last 5 s), labelled app and name.
   */
  metrics() {
    const s = this.stats();
    const lines = [];
    const metric = (name, type, help, samples) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    const streamLabels = (st) => `{app="${label(st.app)}",name="${label(st.name)}"}`;
    metric('rtmpapi_connections', 'gauge', 'Open RTMP sessions.', [['', s.connections]]);
    metric('rtmpapi_publishers', 'gauge', 'Streams being published.', [['', s.publishers]]);
    metric('rtmpapi_players', 'gauge', 'Players of all streams.', [['', s.players]]);
    metric('rtmpapi_received_bytes_total', 'counter', 'Bytes received from peers.', [['', s.receivedBytes]]);
    metric('rtmpapi_sent_bytes_total', 'counter', 'Bytes sent to peers (relayed media included).', [['', s.sentBytes]]);
    metric('rtmpapi_dropped_messages_total', 'counter', 'Media frames dropped for slow players.', [['', s.droppedMessages]]);
    metric('rtmpapi_warnings_total', 'counter', 'Warnings of the native layer (refused connections, accept errors, slow players) by code.',
      Object.entries(s.warnings).map(([code, n]) => [`{code="${label(code)}"}`, n]));
    metric('rtmpapi_stream_players', 'gauge', 'Players of each stream.', s.streams.map((st) => [streamLabels(st), st.players]));
    metric('rtmpapi_stream_bitrate_bits_per_second', 'gauge', `Bitrate each stream's publisher sends at, over the last ${BITRATE_WINDOW_MS / 1000} s.`,
      s.streams.filter((st) => st.publishing).map((st) => [streamLabels(st), Math.round(st.bitrate)]));
    return `${lines.join('\n')}\n`;
  }

  /** What metrics() reports, as an object. */
  stats() {
    const totals = { ...this._closedTotals };
    for (const session of this._sessions.values()) {
      const t = sessionTotals(session);
      totals.receivedBytes += t.receivedBytes;
      totals.sentBytes += t.sentBytes;
      totals.droppedMessages += t.droppedMessages;
    }
    const now = Date.now();
    const streams = [...this.streams.values()].map((stream) => {
      const slash = stream.name.indexOf('/');
      return {
        app: stream.name.slice(0, slash),
        name: stream.name.slice(slash + 1),
        publishing: Boolean(stream.publisher),
        players: stream.players.size + stream.flvPlayers.size,
        bitrate: this._bitrate(stream, now),
      };
    });
    return {
      connections: this._sessions.size,
      publishers: streams.filter((st) => st.publishing).length,
      players: streams.reduce((n, st) => n + st.players, 0),
      ...totals,
      warnings: Object.fromEntries(this._warnings),
      streams,
    };
  }

  /**
   * The HTTP side of the live server for a node:http server: HTTP-FLV and
   * WebSocket-FLV on `/<app>/<name>.flv` (players of a stream not published yet wait
   * for it; `authorize` is asked with `action: 'play'` and `req` instead of a session),
   * the CORS preflight, and the player page at `/` (with `/mpegts.js`).
   * `request(req, res)` / `upgrade(req, socket, head)` return true when they handled it.
   * @param {{ cors?: string | false, queueLimit?: number, playerPage?: boolean }} [options]
   */
  httpHandler(options = {}) {
    const { playerPage = true, ...flvOptions } = options;
    const flv = flvHttpHandler({
      ...flvOptions,
      streams: (app, name) => (this._closing ? undefined : this._streamFor(`${app}/${name}`)),
      authorize: this._authorize
        ? (req, { app, name, query }) => this._authorize({ action: 'play', app, name, query, session: null, req })
        : undefined,
      onPlayer: (player) => this._log.info(`playing ${player.stream.name} over ${player.transport === 'http' ? 'HTTP-FLV' : 'WebSocket-FLV'} (${player.remoteAddress})`),
    });
    const page = playerPage ? playerPageHandler(() => this.stats().streams.filter((st) => st.publishing)) : null;
    const hls = (req, res) => this._serveHls(req, res, flvOptions.cors);
    return {
      request: (req, res) => flv.request(req, res) || hls(req, res) || (page !== null && page(req, res)),
      upgrade: (req, socket, head) => flv.upgrade(req, socket, head),
    };
  }

  /**
   * HLS of a published stream: `/<app>/<name>/index.m3u8` and the init segment,
   * segments and parts it names (`/<app>/<name>/<file>`). `authorize` is asked (action
   * 'play', `req`) for playlists only: segment names carry an unguessable
   * per-publication id, and caches serve them to every player. Returns true when the
   * path is an HLS one.
   */
  _serveHls(req, res, cors = '*') {
    const m = /^\/([^/]+)\/([^/]+)\/([^/]+\.(?:m3u8|m4s|mp4))$/.exec((req.url || '/').split('?')[0]);
    if (!m || this._hls === false) return false;
    const [app, name, file] = m.slice(1).map(decodeURIComponent);
    const stream = this.streams.get(`${app}/${name}`);
    const output = stream && stream._hls && !stream._hls.closed ? stream._hls : null;
    const refuse = (status, text) => {
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store', ...(cors ? { 'Access-Control-Allow-Origin': cors } : {}) });
      res.end(`${text}\n`);
    };
    if (!output) {
      refuse(404, `no HLS for ${app}/${name}`);
      return true;
    }
    const serve = () => output.handle(req, res, file).catch((err) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err && err.message));
    });
    if (!this._authorize || !file.endsWith('.m3u8') || req.method === 'OPTIONS') {
      serve();
      return true;
    }
    const query = new URLSearchParams((req.url || '').split('?')[1] || '');
    Promise.resolve()
      .then(() => this._authorize({ action: 'play', app, name, query, session: null, req }))
      .then((ok) => (ok ? serve() : refuse(403, `not allowed to play ${app}/${name}`)))
      .catch(() => refuse(403, `not allowed to play ${app}/${name}`));
    return true;
  }

  _startSampling() {
    if (this._sampler) return;
    this._sampler = setInterval(() => {
      const now = Date.now();
      for (const [stream, samples] of this._samples) {
        if (!stream.publisher || stream.publisher.closed) continue;
        samples.push({ at: now, bytes: stream.publisher.stats().bytesIn });
        while (samples.length > 1 && now - samples[0].at > BITRATE_WINDOW_MS) samples.shift();
      }
    }, BITRATE_SAMPLE_MS);
    this._sampler.unref();
  }

  /** Bits per second the publisher of `stream` sent since the oldest sample in the window. */
  _bitrate(stream, now) {
    const samples = this._samples.get(stream);
    const publisher = stream.publisher;
    if (!samples || !samples.length || !publisher || publisher.closed) return 0;
    const oldest = samples[0];
    const elapsed = now - oldest.at;
    if (elapsed < 100) return 0;
    return ((publisher.stats().bytesIn - oldest.bytes) * 8 * 1000) / elapsed;
  }

  _streamFor(key) {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = new LiveStream(key, this._streamOptions);
      this.streams.set(key, stream);
      const release = () => {
        if (!stream.publisher && stream.players.size === 0 && stream.flvPlayers.size === 0 && this.streams.get(key) === stream) {
          this.streams.delete(key);
          if (stream._hls) stream._hls.close();
        }
      };
      stream.on('publish', (session) => {
        this._samples.set(stream, [{ at: Date.now(), bytes: session.stats().bytesIn }]);
        if (this._hls !== false) stream.hls(this._hls);
      });
      stream.on('unpublish', () => {
        this._samples.delete(stream);
        release();
      });
      stream.on('stop', release);
      stream.on('flvStop', release);
      if (this._onStream) this._onStream(stream);
    }
    return stream;
  }

  /** Players of `stream` hear that it ended: StreamEOF and NetStream.Play.UnpublishNotify. */
  _tellPlayersEnded(stream) {
    for (const [player, id] of stream.players) {
      if (player.closed) continue;
      player.sendStreamEof(id);
      player.sendStatus(id, { code: 'NetStream.Play.UnpublishNotify', description: `${stream.name} is now unpublished.` });
    }
  }

  _startSession(session) {
    session[SESSION_STATE] = new SessionState();
    this._log.info('session from', session.sock.remoteAddress, session.sock.remotePort);
    session.msg.loop(null, this._sessionHandlers);
    session.on('error', this._sessionErrorListener);
    session.on('close', this._sessionCloseListener);
  }

  /** The listeners every session shares (an idle server holds thousands of sessions). */
  _makeSessionListeners() {
    const server = this;
    const onCommand = (chunk) => this._onCommand(chunk.session, chunk, chunk.session[SESSION_STATE]);
    this._sessionHandlers = { amf0cmd: onCommand, amf3cmd: onCommand };
    this._sessionErrorListener = function onSessionError(err) {
      server._log.error('session error', this.sock.remoteAddress, err.code, err.message);
    };
    this._sessionCloseListener = function onSessionClose() {
      server._endSession(this);
    };
  }

  _endSession(session) {
    const state = session[SESSION_STATE];
    for (const id of [...state.published.keys(), ...state.playing.keys()]) this._endStream(session, state, id);
    const t = sessionTotals(session);
    this._closedTotals.receivedBytes += t.receivedBytes;
    this._closedTotals.sentBytes += t.sentBytes;
    this._closedTotals.droppedMessages += t.droppedMessages;
    this._log.info('session closed', session.sock.remoteAddress, session.sock.remotePort);
  }

  _onCommand(session, chunk, state) {
    const msg = chunk.chunk.msg;
    const msgStreamId = chunk.chunk.msgStreamId;
    this._log.info(session.sock.remoteAddress, msg.cmd, JSON.stringify(msg));
    const reply = (cmd, cmdObj, info) => chunk.sendAmf0EncCmdMsg({ cmd, transId: msg.transId, cmdObj, info });
    switch (msg.cmd) {
      case 'connect':
        state.app = (msg.cmdObj && msg.cmdObj.app) || '';
        // An Enhanced RTMP client's fourCcList / FourCcInfoMaps / capsEx get the
        // server's own (what it forwards; capsEx Reconnect | Multitrack | ModEx).
        session.acceptConnect(msg, { windowSize: WINDOW_SIZE, peerBandwidth: WINDOW_SIZE, chunkSize: CHUNK_SIZE, enhanced: this._enhanced });
        break;
      case 'releaseStream':
      case 'FCUnpublish':
      case 'getStreamLength':
        reply('_result', null, undefined);
        break;
      case 'FCPublish':
        reply('_result', null, undefined);
        session.sendCommand({ cmd: 'onFCPublish', transId: 0, cmdObj: null,
          info: { code: 'NetStream.Publish.Start', description: msg.streamId } });
        break;
      case 'createStream':
        state.nextStreamId += 1;
        reply('_result', null, state.nextStreamId);
        break;
      case 'publish':
        this._request(session, state, msgStreamId, 'publish', msg.name);
        break;
      case 'play':
        this._request(session, state, msgStreamId, 'play', msg.streamName);
        break;
      case 'deleteStream':
      case 'closeStream':
        this._endStream(session, state, msg.cmd === 'deleteStream' ? msg.streamId : msgStreamId);
        break;
      default:
    }
  }

  /**
   * publish or play: the session's reading is paused natively after the command
   * (pauseOnStreamCommands) until it is started or refused, so what it sends
   * meanwhile waits in its socket and, once allowed, goes to the relay.
   */
  _request(session, state, msgStreamId, action, streamName) {
    const { name, query } = splitStreamName(streamName);
    const decided = (allowed) => {
      if (session.closed) return;
      try {
        if (!allowed) this._refuse(session, msgStreamId, action, `Not allowed to ${action} ${state.app}/${name}.`);
        else if (action === 'publish') this._startPublish(session, state, msgStreamId, name);
        else this._startPlay(session, state, msgStreamId, name);
      } finally {
        session.resumeReading();
      }
    };
    if (!this._authorize) {
      decided(true);
      return;
    }
    let verdict;
    try {
      verdict = this._authorize({ action, app: state.app, name, query, session });
    } catch (err) {
      verdict = Promise.reject(err);
    }
    if (!verdict || typeof verdict.then !== 'function') {
      decided(Boolean(verdict));
      return;
    }
    Promise.resolve(verdict).then((allowed) => decided(Boolean(allowed)), (err) => {
      this._log.warn(`authorize threw for ${action} ${state.app}/${name}: ${err && err.message}`);
      decided(false);
    });
  }

  _refuse(session, msgStreamId, action, description) {
    const code = action === 'publish' ? 'NetStream.Publish.BadName' : 'NetStream.Play.Failed';
    session.sendStatus(msgStreamId, { level: 'error', code, description });
    this._log.info(`refused ${session.sock.remoteAddress}: ${description}`);
  }

  _startPublish(session, state, msgStreamId, name) {
    if (this._closing) return this._refuse(session, msgStreamId, 'publish', 'The server is closing.');
    const key = `${state.app}/${name}`;
    // The native relay takes one publication per connection.
    const [other] = state.published.values();
    if (other) return this._refuse(session, msgStreamId, 'publish', `This connection already publishes ${other.name}.`);
    const stream = this._streamFor(key);
    if (this._beforePublish) this._beforePublish(stream, session);
    if (stream.publisher) return this._refuse(session, msgStreamId, 'publish', `${stream.name} is already being published.`);
    this._startRecording(stream, session);
    stream.setPublisher(session, msgStreamId, { emit: this._emitMedia });
    if (state.published === NO_STREAMS) state.published = new Map();
    state.published.set(msgStreamId, stream);
    session.sendStreamBegin(msgStreamId);
    session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: `${stream.name} is now published.` });
    for (const [player, id] of stream.players) {
      player.sendStreamBegin(id);
      player.sendStatus(id, { code: 'NetStream.Play.PublishNotify', description: `${stream.name} is now published.` });
    }
    this._log.info(`publishing ${stream.name}`);
    return undefined;
  }

  _startPlay(session, state, msgStreamId, name) {
    if (this._closing) return this._refuse(session, msgStreamId, 'play', 'The server is closing.');
    const previous = state.playing.get(msgStreamId);
    if (previous) previous.removePlayer(session);
    const stream = this._streamFor(`${state.app}/${name}`);
    session.sendStreamBegin(msgStreamId);
    session.sendStatus(msgStreamId, { code: 'NetStream.Play.Reset', description: `Playing and resetting ${stream.name}.` });
    session.sendStatus(msgStreamId, { code: 'NetStream.Play.Start', description: `Started playing ${stream.name}.` });
    session.sendData(['|RtmpSampleAccess', true, true], 0, msgStreamId);
    if (state.playing === NO_STREAMS) state.playing = new Map();
    state.playing.set(msgStreamId, stream);
    stream.addPlayer(session, msgStreamId);
    this._log.info(`playing ${stream.name} (${stream.players.size} players)`);
    return undefined;
  }

  /** A message stream ends: stop its publication or its playback. */
  _endStream(session, state, msgStreamId) {
    const published = state.published.get(msgStreamId);
    if (published) {
      state.published.delete(msgStreamId);
      if (!this._closing) this._tellPlayersEnded(published);
      published.removePublisher(session);
      this._log.info(`unpublished ${published.name}`);
    }
    const played = state.playing.get(msgStreamId);
    if (played) {
      state.playing.delete(msgStreamId);
      played.removePlayer(session);
    }
  }

  // ---- Native recording (`record` option) ----

  /**
   * Starts recording the publication `session` is about to make into
   * `<dir>/<app>-<name>-<ISO time>.flv` (before setPublisher: the file has it from its
   * first message), if the `record` option asks for it (`record.when(stream, session)`
   * may decline). It ends, finalized natively, when the
   * publisher leaves; close() waits for that.
   */
  _startRecording(stream, session) {
    const options = this._record;
    if (!options) return;
    if (options.when && !options.when(stream, session)) return;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(options.dir, `${stream.name.replace(/[^\w.-]+/g, '-')}-${stamp}.flv`);
    let recording;
    try {
      recording = stream.record(file, options.queueLimit === undefined ? undefined : { queueLimit: options.queueLimit });
    } catch (err) {
      this._log.error(`cannot record ${file}: ${err.message}`);
      return;
    }
    this._recordings.add(recording);
    recording.on('error', (err) => this._log.error(`recording ${file}: ${err.code} ${err.message}`));
    recording.once('close', (info) => {
      this._recordings.delete(recording);
      this._log.info(`recorded ${file} (${info.bytes} bytes, ${info.durationMs} ms)`);
    });
    this.emit('recording', recording, stream, session);
  }

  /** Calls `cb` once every recording is finalized, or after `ms`. */
  _afterRecordings(ms, cb) {
    const pending = [...this._recordings].filter((r) => !r.closed);
    if (pending.length === 0) return cb();
    const timer = setTimeout(cb, ms);
    Promise.all(pending.map((r) => new Promise((resolve) => r.once('close', resolve)))).then(() => {
      clearTimeout(timer);
      cb();
    });
    return undefined;
  }
}

/**
 * The live server, not yet listening.
 * @param {import('../index.js').LiveServerOptions} [options]
 */
function createLiveServer(options) {
  return new LiveServer(options);
}

module.exports = { createLiveServer, LiveServer, combineHooks, splitStreamName };
