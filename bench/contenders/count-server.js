#!/usr/bin/env node
// A node-rtmpapi server whose JS 'audio' handler counts messages (the Into-JS benchmark):
// it answers connect/createStream/publish and, when a session closes, prints one JSON line
// {"messages": N, "seconds": S} with S from the first audio message to the last. Prints
// "listening on rtmp://127.0.0.1:PORT" once it listens (PORT=0 picks one).
'use strict';

const { rtmpServer } = require('../..');

const server = rtmpServer().createServer((session) => {
  let messages = 0;
  let first = 0n;
  let last = 0n;
  session.on('audio', () => {
    last = process.hrtime.bigint();
    if (messages++ === 0) first = last;
  });
  session.msg.loop(null, {
    amf0cmd(chunk) {
      const m = chunk.chunk.msg;
      if (m.cmd === 'connect') {
        chunk.sendSetChunkSize(4096);
        chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: m.transId, cmdObj: { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
          info: { level: 'status', code: 'NetConnection.Connect.Success' } });
      } else if (m.cmd === 'createStream') {
        chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: m.transId, cmdObj: null, info: 1 });
      } else if (m.cmd === 'publish') {
        session.sendStatus(chunk.chunk.msgStreamId, { code: 'NetStream.Publish.Start', description: 'publishing' });
      }
    },
  });
  session.on('error', () => {});
  session.on('close', () => {
    console.log(JSON.stringify({ messages, seconds: Number(last - first) / 1e9 }));
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`count server listening on rtmp://127.0.0.1:${server.address().port}/live`);
});
