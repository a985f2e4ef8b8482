// A server for tests that accepts publishers with the compatible API (the replies
// FFmpeg waits for) and records every message it receives, payloads included.

import { once } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rtmpApi = require('../../index.js');

/**
 * Starts a recording server on a loopback port.
 * @returns {Promise<{ port: number, messages: object[], errors: Error[], closed: Promise<void>, close: () => Promise<void> }>}
 */
export async function startIngestServer(options) {
  const messages = [];
  const errors = [];
  let sessionClosed;
  const closed = new Promise((resolve) => {
    sessionClosed = resolve;
  });
  const server = rtmpApi.rtmpServer().createServer((session) => {
    session.on('error', (e) => errors.push(e));
    session.on('close', () => sessionClosed());
    session.msg.loop((c) => {
      messages.push({
        peer: session.sock.remotePort,
        type: c.chunk.msgTypeText,
        timestamp: c.chunk.timestamp,
        msgStreamId: c.chunk.msgStreamId,
        data: Buffer.from(c.chunk.data),
        msg: c.chunk.msg,
      });
    }, {
      amf0cmd(c) {
        const m = c.chunk.msg;
        const reply = (cmd, cmdObj, info) => c.sendAmf0EncCmdMsg({ cmd, transId: m.transId, cmdObj, info });
        if (m.cmd === 'connect') {
          c.sendSetWindowSize(2500000);
          c.sendSetPeerBw(2500000, 2);
          c.sendSetChunkSize(4096);
          reply('_result', { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success' });
        } else if (m.cmd === 'createStream') {
          reply('_result', null, 1);
        } else if (m.cmd === 'publish') {
          c.sendAmf0EncCmdMsg({ cmd: 'onStatus', transId: 0, cmdObj: null, info: { level: 'status', code: 'NetStream.Publish.Start' } });
        } else if (m.cmd === 'releaseStream' || m.cmd === 'FCPublish') {
          reply('_result', null, undefined);
        }
      },
    });
  }, options);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    messages,
    errors,
    closed,
    close: async () => {
      const done = once(server, 'close');
      server.close();
      await done;
    },
  };
}
