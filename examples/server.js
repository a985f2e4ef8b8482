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
// RTMP_QUIET=1 prints only the listening line and errors (for benchmarks).

'use strict';

const { rtmpServer, LiveStream } = require('..');

let quiet = Boolean(process.env.RTMP_QUIET);
const say = (...args) => {
  if (!quiet) console.log(new Date().toISOString(), ...args);
};

/** Live streams by "app/key". */
const streams = new Map();

function streamFor(key) {
  let stream = streams.get(key);
  if (!stream) {
    stream = new LiveStream(key);
    streams.set(key, stream);
  }
  return stream;
}

/** Forgets a stream nobody publishes or plays any more. */
function release(stream) {
  if (!stream.publisher && stream.players.size === 0) streams.delete(stream.name);
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
    case 'publish': {
      const name = String(msg.name || '').split('?')[0];
      const stream = streamFor(`${state.app}/${name}`);
      if (stream.publisher) {
        session.sendStatus(msgStreamId, { level: 'error', code: 'NetStream.Publish.BadName',
          description: `${stream.name} is already being published.` });
        say(`refused a second publisher for ${stream.name}`);
        break;
      }
      stream.setPublisher(session, msgStreamId);
      state.published.set(msgStreamId, stream);
      session.sendStreamBegin(msgStreamId);
      session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: `${stream.name} is now published.` });
      for (const [player, id] of stream.players) {
        player.sendStreamBegin(id);
        player.sendStatus(id, { code: 'NetStream.Play.PublishNotify', description: `${stream.name} is now published.` });
      }
      say(`publishing ${stream.name}`);
      break;
    }
    case 'play': {
      const name = String(msg.streamName || '').split('?')[0];
      const stream = streamFor(`${state.app}/${name}`);
      session.sendStreamBegin(msgStreamId);
      session.sendStatus(msgStreamId, { code: 'NetStream.Play.Reset', description: `Playing and resetting ${stream.name}.` });
      session.sendStatus(msgStreamId, { code: 'NetStream.Play.Start', description: `Started playing ${stream.name}.` });
      session.sendData(['|RtmpSampleAccess', true, true], 0, msgStreamId);
      stream.addPlayer(session, msgStreamId);
      state.playing.set(msgStreamId, stream);
      say(`playing ${stream.name} (${stream.players.size} players)`);
      break;
    }
    case 'deleteStream':
    case 'closeStream':
      endStream(session, state, msg.cmd === 'deleteStream' ? msg.streamId : msgStreamId);
      break;
    default:
  }
}

/** A message stream ends: stop its publication or its playback. */
function endStream(session, state, msgStreamId) {
  const published = state.published.get(msgStreamId);
  if (published) {
    state.published.delete(msgStreamId);
    published.removePublisher(session);
    for (const [player, id] of published.players) {
      player.sendStreamEof(id);
      player.sendStatus(id, { code: 'NetStream.Play.UnpublishNotify', description: `${published.name} is now unpublished.` });
    }
    say(`unpublished ${published.name}`);
    release(published);
  }
  const played = state.playing.get(msgStreamId);
  if (played) {
    state.playing.delete(msgStreamId);
    played.removePlayer(session);
    release(played);
  }
}

/**
 * The live server, not yet listening (tests run it in-process).
 * @param {import('..').ServerOptions & { quiet?: boolean }} [options]
 */
function createLiveServer(options = {}) {
  if (options.quiet) quiet = true;
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
  }, options);
}

module.exports = { createLiveServer };

if (require.main === module) {
  const server = createLiveServer();
  server.on('error', (err) => {
    console.error('server error:', err.code, err.message);
    process.exitCode = 1;
  });
  server.listen(Number(process.env.PORT ?? 1935), () => {
    const url = `rtmp://127.0.0.1:${server.address().port}/live`;
    console.log(`RTMP server listening on ${url}`);
    if (!quiet) {
      console.log(`Publish: ffmpeg -re -i input.flv -c copy -f flv ${url}/mykey`);
      console.log(`Play:    ffplay ${url}/mykey`);
    }
  });
}
