// A live RTMP server built only on the public API: publish to
// rtmp://HOST:PORT/live/<key> with FFmpeg or OBS, play the same URL with ffplay, VLC,
// FFmpeg or rtmpdump. Many streams at once; players that come before the publisher
// get the stream when it starts; a second publisher on a busy key is refused. Media is
// relayed natively (the bytes never pass through JS).
//
//   PORT=1935 node examples/server.js
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/mykey
//   ffplay rtmp://127.0.0.1:1935/live/mykey
//
// RTMP_QUIET=1 prints only the listening line and errors (for benchmarks);
// RTMP_MERGE_WRITES_MS=0 writes each read of a publisher to its players at once (the
// LiveStream option mergeWritesMs, default 40: audio waits for the next video frame).
//
// The other examples build on createLiveServer's hooks: examples/auth.js (who may
// publish), examples/recorder.js (each publication to FLV), examples/edge.js (pull
// from an origin on the first play), examples/push.js (push each publication onward),
// examples/cluster.js (every core; edge and push combined).

'use strict';

const { rtmpServer, LiveStream } = require('..');

/**
 * What a publisher or player asks for, as the `authorize` hook sees it.
 * @typedef {object} StreamRequest
 * @property {'publish' | 'play'} action
 * @property {string} app - the connect command's app, e.g. "live"
 * @property {string} name - the stream name without its query string
 * @property {URLSearchParams} query - the query string of the stream name (`key?token=...`)
 * @property {import('..').Session} session
 */

/**
 * @typedef {object} LiveServerOptions
 * @property {boolean} [quiet] - print nothing but errors
 * @property {(request: StreamRequest) => boolean | Promise<boolean>} [authorize] - whether
 *   a publish or play may go ahead; refused publishers get NetStream.Publish.BadName,
 *   refused players NetStream.Play.Failed (a throw or rejection refuses too)
 * @property {(stream: LiveStream) => void} [onStream] - a stream ("app/name") is created:
 *   listen to its 'publish', 'unpublish', 'play' and 'stop' events
 * @property {(stream: LiveStream, session: import('..').Session) => void} [beforePublish] -
 *   an authorized publisher asks for `stream`, before the busy check: e.g. end a pull
 *   that stood in for it (examples/edge.js)
 * @property {boolean} [emitMedia] - publishers' media also reach their sessions'
 *   'audio', 'video' and 'data' events (a recorder needs them)
 * @property {{ gopCacheBytes?: number, mergeWritesMs?: number }} [streamOptions] - each
 *   LiveStream's options
 */

/** Splits a stream name of publish/play into the name and its query string. */
function splitStreamName(streamName) {
  const [name, query = ''] = String(streamName || '').split('?');
  return { name, query: new URLSearchParams(query) };
}

/**
 * Merges the hooks of several building blocks (e.g. edge pulls and pushes) into one set
 * of `onStream`/`beforePublish` options; each runs in the order given.
 * @param {...Pick<LiveServerOptions, 'onStream' | 'beforePublish'>} hookSets
 * @returns {Pick<LiveServerOptions, 'onStream' | 'beforePublish'>}
 */
function combineHooks(...hookSets) {
  const all = (name) => hookSets.map((h) => h[name]).filter(Boolean);
  const [onStream, beforePublish] = [all('onStream'), all('beforePublish')];
  return {
    onStream: (stream) => onStream.forEach((hook) => hook(stream)),
    beforePublish: (stream, session) => beforePublish.forEach((hook) => hook(stream, session)),
  };
}

/** A logger printing ISO-dated lines unless `quiet`. */
function sayer(quiet) {
  return (...args) => {
    if (!quiet) console.log(new Date().toISOString(), ...args);
  };
}

/** Calls `authorize` (if any) and resolves whether the request may go ahead. */
async function isAllowed(authorize, request, say) {
  if (!authorize) return true;
  try {
    return Boolean(await authorize(request));
  } catch (err) {
    say(`authorize threw for ${request.action} ${request.app}/${request.name}: ${err.message}`);
    return false;
  }
}

/**
 * The live server, not yet listening (tests run it in-process). Server options
 * (limits, reusePort) pass through to createServer.
 * @param {import('..').ServerOptions & LiveServerOptions} [options]
 */
function createLiveServer(options = {}) {
  const {
    quiet = Boolean(process.env.RTMP_QUIET), authorize, onStream, beforePublish, emitMedia = false, streamOptions,
    ...serverOptions
  } = options;
  const say = sayer(quiet);
  /** Live streams by "app/name". */
  const streams = new Map();

  /** Forgets a stream nobody publishes or plays any more. */
  function release(stream) {
    if (!stream.publisher && stream.players.size === 0 && streams.get(stream.name) === stream) streams.delete(stream.name);
  }

  function streamFor(key) {
    let stream = streams.get(key);
    if (!stream) {
      stream = new LiveStream(key, streamOptions);
      streams.set(key, stream);
      stream.on('unpublish', () => release(stream));
      stream.on('stop', () => release(stream));
      if (onStream) onStream(stream);
    }
    return stream;
  }

  function startPublish(session, state, msgStreamId, name) {
    const stream = streamFor(`${state.app}/${name}`);
    if (beforePublish) beforePublish(stream, session);
    if (stream.publisher) {
      session.sendStatus(msgStreamId, { level: 'error', code: 'NetStream.Publish.BadName',
        description: `${stream.name} is already being published.` });
      say(`refused a second publisher for ${stream.name}`);
      return;
    }
    stream.setPublisher(session, msgStreamId, { emit: emitMedia });
    state.published.set(msgStreamId, stream);
    session.sendStreamBegin(msgStreamId);
    session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: `${stream.name} is now published.` });
    for (const [player, id] of stream.players) {
      player.sendStreamBegin(id);
      player.sendStatus(id, { code: 'NetStream.Play.PublishNotify', description: `${stream.name} is now published.` });
    }
    say(`publishing ${stream.name}`);
  }

  function startPlay(session, state, msgStreamId, name) {
    const stream = streamFor(`${state.app}/${name}`);
    session.sendStreamBegin(msgStreamId);
    session.sendStatus(msgStreamId, { code: 'NetStream.Play.Reset', description: `Playing and resetting ${stream.name}.` });
    session.sendStatus(msgStreamId, { code: 'NetStream.Play.Start', description: `Started playing ${stream.name}.` });
    session.sendData(['|RtmpSampleAccess', true, true], 0, msgStreamId);
    state.playing.set(msgStreamId, stream);
    stream.addPlayer(session, msgStreamId);
    say(`playing ${stream.name} (${stream.players.size} players)`);
  }

  /** publish or play: asks `authorize`, then starts it or refuses with an error status. */
  function request(session, state, msgStreamId, action, streamName) {
    const { name, query } = splitStreamName(streamName);
    isAllowed(authorize, { action, app: state.app, name, query, session }, say).then((allowed) => {
      if (session.closed) return;
      if (allowed) {
        (action === 'publish' ? startPublish : startPlay)(session, state, msgStreamId, name);
        return;
      }
      const code = action === 'publish' ? 'NetStream.Publish.BadName' : 'NetStream.Play.Failed';
      session.sendStatus(msgStreamId, { level: 'error', code, description: `Not allowed to ${action} ${state.app}/${name}.` });
      say(`refused to let ${session.sock.remoteAddress} ${action} ${state.app}/${name}`);
    });
  }

  /** A message stream ends: stop its publication or its playback. */
  function endStream(session, state, msgStreamId) {
    const published = state.published.get(msgStreamId);
    if (published) {
      state.published.delete(msgStreamId);
      for (const [player, id] of published.players) {
        player.sendStreamEof(id);
        player.sendStatus(id, { code: 'NetStream.Play.UnpublishNotify', description: `${published.name} is now unpublished.` });
      }
      published.removePublisher(session);
      say(`unpublished ${published.name}`);
    }
    const played = state.playing.get(msgStreamId);
    if (played) {
      state.playing.delete(msgStreamId);
      played.removePlayer(session);
    }
  }

  function onCommand(session, chunk, state) {
    const msg = chunk.chunk.msg;
    const msgStreamId = chunk.chunk.msgStreamId;
    say(session.sock.remoteAddress, msg.cmd, JSON.stringify(msg));
    const reply = (cmd, cmdObj, info) => chunk.sendAmf0EncCmdMsg({ cmd, transId: msg.transId, cmdObj, info });
    switch (msg.cmd) {
      case 'connect':
        state.app = (msg.cmdObj && msg.cmdObj.app) || '';
        chunk.sendSetWindowSize(2500000);
        chunk.sendSetPeerBw(2500000, 2);
        chunk.sendSetChunkSize(60000);
        reply('_result', { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding: (msg.cmdObj && msg.cmdObj.objectEncoding) || 0,
        });
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
        request(session, state, msgStreamId, 'publish', msg.name);
        break;
      case 'play':
        request(session, state, msgStreamId, 'play', msg.streamName);
        break;
      case 'deleteStream':
      case 'closeStream':
        endStream(session, state, msg.cmd === 'deleteStream' ? msg.streamId : msgStreamId);
        break;
      default:
    }
  }

  return rtmpServer().createServer((session) => {
    const state = { app: '', nextStreamId: 0, published: new Map(), playing: new Map() };
    say('session from', session.sock.remoteAddress, session.sock.remotePort);
    session.msg.loop(null, {
      amf0cmd: (chunk) => onCommand(session, chunk, state),
      amf3cmd: (chunk) => onCommand(session, chunk, state),
    });
    session.on('error', (err) => {
      if (!quiet) console.error('session error', err.code, err.message);
    });
    session.on('close', () => {
      for (const id of [...state.published.keys(), ...state.playing.keys()]) endStream(session, state, id);
      say('session closed', session.sock.remoteAddress, session.sock.remotePort);
    });
  }, serverOptions);
}

/**
 * Listens on $PORT (default 1935) and prints the URL to publish to and play from;
 * exits with code 1 on a listen error. What `node examples/<name>.js` does.
 * @param {import('..').RtmpServer} server
 * @param {string} [what] - names the server in the listening line
 */
function listenFromEnv(server, what = 'RTMP server') {
  server.on('error', (err) => {
    console.error('server error:', err.code, err.message);
    process.exitCode = 1;
  });
  server.listen(Number(process.env.PORT ?? 1935), () => {
    const url = `rtmp://127.0.0.1:${server.address().port}/live`;
    console.log(`${what} listening on ${url}`);
    if (!process.env.RTMP_QUIET) {
      console.log(`Publish: ffmpeg -re -i input.flv -c copy -f flv ${url}/mykey`);
      console.log(`Play:    ffplay ${url}/mykey`);
    }
  });
}

module.exports = { createLiveServer, listenFromEnv, splitStreamName, combineHooks, sayer };

if (require.main === module) {
  const merge = process.env.RTMP_MERGE_WRITES_MS;
  listenFromEnv(createLiveServer(merge === undefined ? {} : { streamOptions: { mergeWritesMs: Number(merge) } }));
}
