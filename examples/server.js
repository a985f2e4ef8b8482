// An RTMP server that accepts publishers (FFmpeg, OBS, ...) and prints what arrives:
// the commands, the stream metadata, and once a second the media received per stream.
//
//   PORT=1935 node examples/server.js
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/mykey
//
// RTMP_QUIET=1 prints only the listening line and errors (for benchmarks).

'use strict';

const { rtmpServer } = require('..');

const port = Number(process.env.PORT ?? 1935);
const quiet = Boolean(process.env.RTMP_QUIET);
const say = (...args) => {
  if (!quiet) console.log(new Date().toISOString(), ...args);
};

/** Replies that publishers wait for (Adobe's FMS behaviour, as FFmpeg and OBS expect). */
function onCommand(session, chunk, state) {
  const msg = chunk.chunk.msg;
  say(session.sock.remoteAddress, msg.cmd, JSON.stringify(msg));
  const reply = (cmd, cmdObj, info) =>
    chunk.sendAmf0EncCmdMsg({ cmd, transId: msg.transId, cmdObj, info });
  switch (msg.cmd) {
    case 'connect':
      state.app = msg.cmdObj && msg.cmdObj.app;
      chunk.sendSetWindowSize(2500000);
      chunk.sendSetPeerBw(2500000, 2);
      chunk.sendSetChunkSize(4096);
      reply('_result', { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
        level: 'status',
        code: 'NetConnection.Connect.Success',
        description: 'Connection succeeded.',
        objectEncoding: (msg.cmdObj && msg.cmdObj.objectEncoding) || 0,
      });
      break;
    case 'releaseStream':
    case 'FCUnpublish':
      reply('_result', null, undefined);
      break;
    case 'FCPublish':
      reply('_result', null, undefined);
      chunk.sendAmf0EncCmdMsg({ cmd: 'onFCPublish', transId: 0, cmdObj: null,
        info: { code: 'NetStream.Publish.Start', description: msg.streamId } });
      break;
    case 'createStream':
      state.nextStreamId += 1;
      reply('_result', null, state.nextStreamId);
      break;
    case 'publish':
      state.streams.set(chunk.chunk.msgStreamId, { name: `${state.app}/${msg.name}`, audio: 0, video: 0, bytes: 0 });
      chunk.sendUserControlMsg(0, chunk.chunk.msgStreamId);
      chunk.sendAmf0EncCmdMsg({ cmd: 'onStatus', transId: 0, cmdObj: null, info: {
        level: 'status', code: 'NetStream.Publish.Start', description: `${msg.name} is now published.`,
      } });
      break;
    case 'deleteStream':
      state.streams.delete(msg.streamId);
      break;
    default:
  }
}

const server = rtmpServer().createServer((session) => {
  const state = { app: '', nextStreamId: 0, streams: new Map() };
  const count = (kind) => (chunk) => {
    const s = state.streams.get(chunk.chunk.msgStreamId);
    if (s) {
      s[kind] += 1;
      s.bytes += chunk.chunk.msgLen;
    }
  };
  const ticker = setInterval(() => {
    for (const s of state.streams.values()) {
      if (s.bytes) say(`${s.name}: ${s.video} video, ${s.audio} audio, ${(s.bytes * 8 / 1000).toFixed(0)} kbit/s`);
      s.video = s.audio = s.bytes = 0;
    }
  }, 1000);
  say('session from', session.sock.remoteAddress, session.sock.remotePort);
  session.msg.loop(null, {
    amf0cmd: (chunk) => onCommand(session, chunk, state),
    amf0meta: (chunk) => say('metadata', JSON.stringify(chunk.chunk.msg.dec)),
    audio: count('audio'),
    video: count('video'),
  });
  session.on('error', (err) => console.error('session error', err.code, err.message));
  session.on('close', () => {
    clearInterval(ticker);
    say('session closed', session.sock.remoteAddress, session.sock.remotePort);
  });
});

server.on('error', (err) => {
  console.error('server error:', err.code, err.message);
  process.exitCode = 1;
});
server.listen(port, () => {
  console.log(`RTMP server listening on rtmp://127.0.0.1:${server.address().port}/live`);
  if (!quiet) console.log('Publish with: ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:' + server.address().port + '/live/mykey');
});
