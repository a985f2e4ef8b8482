// A small RTMP client for tests, built on the package's rtmpSession (client mode):
// connect, createStream, then play or publish, recording what arrives.

import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rtmpApi = require('../../index.js');

/**
 * Connects to rtmp://127.0.0.1:port/app and creates a stream.
 * @returns {Promise<{ session, sock, streamId: number, messages: object[], waitFor: (pred, ms?) => Promise<object> }>}
 */
export function connectClient(port, app) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', reject);
    const messages = [];
    const waiters = new Set();
    const waitFor = (pred, ms = 10000) =>
      new Promise((res, rej) => {
        const found = messages.find(pred);
        if (found) return res(found);
        const w = { pred, res };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w)) rej(new Error(`timed out after ${ms} ms waiting for a message`));
        }, ms);
      });
    rtmpApi.rtmpSession(sock, true, (session) => {
      session.msg.loop((c) => {
        const m = {
          type: c.chunk.msgTypeText,
          timestamp: c.chunk.timestamp,
          msgStreamId: c.chunk.msgStreamId,
          data: Buffer.from(c.chunk.data),
          msg: c.chunk.msg,
          at: performance.now(),
        };
        messages.push(m);
        for (const w of waiters) {
          if (w.pred(m)) {
            waiters.delete(w);
            w.res(m);
          }
        }
      });
      session.sendCommand({ cmd: 'connect', transId: 1, cmdObj: { app, flashVer: 'LNX 9,0,124,2', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } });
      waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === '_result' && m.msg.transId === 1)
        .then(() => {
          session.sendCommand({ cmd: 'createStream', transId: 2, cmdObj: null });
          return waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === '_result' && m.msg.transId === 2);
        })
        .then((created) => resolve({ session, sock, streamId: created.msg.info, messages, waitFor }))
        .catch(reject);
    });
  });
}

/** Sends `play` on the client's stream; resolves the time it was sent. */
export function play(client, name) {
  client.session.sendCommand({ cmd: 'play', transId: 0, cmdObj: null, streamName: name, start: -2 }, { msgStreamId: client.streamId, csid: 8 });
  return performance.now();
}

/** Sends `publish`; resolves the onStatus reply. */
export function publishName(client, name) {
  client.session.sendCommand({ cmd: 'publish', transId: 0, cmdObj: null, name, type: 'live' }, { msgStreamId: client.streamId, csid: 8 });
  return client.waitFor((m) => m.type === 'amf0cmd' && m.msg.cmd === 'onStatus' && /Publish/.test(m.msg.info.code));
}

/** True for a video message that is a keyframe and not a sequence header. */
export const isVideoKeyframe = (m) => m.type === 'video' && m.data[0] >> 4 === 1 && m.data[1] !== 0;
