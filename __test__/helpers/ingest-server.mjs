// A server for tests that accepts publishers with the compatible API (the replies
// FFmpeg waits for) and records every message it receives, payloads included, and how
// each session ended, by its peer's port.

import { once } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rtmpApi = require('../../index.js');

/**
 * @typedef {{ peer: number, errors: Error[], open: boolean, ended: Promise<SessionRecord> }} SessionRecord
 *   One server session: the `errors` it reported, `open` until the server closed it,
 *   `ended` resolving then.
 */

/**
 * Starts a recording server on a loopback port. `session(peerPort)` is the record of the
 * session whose peer connected from that port (made on first ask if it has not arrived).
 * @returns {Promise<{ port: number, messages: object[], errors: Error[], closed: Promise<void>,
 *   session: (peerPort: number) => SessionRecord, close: () => Promise<void> }>}
 */
export async function startIngestServer(options) {
  const messages = [];
  const errors = [];
  /** @type {Map<number, SessionRecord>} */
  const sessions = new Map();
  /** Peer port → what resolves its record's `ended`. */
  const ends = new Map();
  const record = (peer) => {
    let r = sessions.get(peer);
    if (!r) {
      r = { peer, errors: [], open: true, ended: new Promise((resolve) => ends.set(peer, resolve)) };
      sessions.set(peer, r);
    }
    return r;
  };
  let sessionClosed;
  const closed = new Promise((resolve) => {
    sessionClosed = resolve;
  });
  const server = rtmpApi.rtmpServer().createServer((session) => {
    const rec = record(session.sock.remotePort);
    session.on('error', (e) => {
      errors.push(e);
      rec.errors.push(e);
    });
    session.on('close', () => {
      rec.open = false;
      ends.get(rec.peer)(rec);
      sessionClosed();
    });
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
    session: record,
    close: async () => {
      const done = once(server, 'close');
      server.close();
      await done;
    },
  };
}
