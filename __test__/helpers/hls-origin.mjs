// An HLS origin for tests and benchmarks: an RTMP server (the replies FFmpeg waits for)
// publishing into one LiveStream per name, each with its HLS output, and a node:http
// server serving them at /live/<name>/index.m3u8 through hlsHandler. Every HTTP request
// is counted by path (and query), so a test can see what reached the origin.

import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { rtmpServer, LiveStream, hlsHandler } = require('../../index.js');

/**
 * @param {object} [hlsOptions] - options of every stream's `stream.hls()`
 * @param {{ hls?: boolean }} [options] - `hls: false`: streams get no HLS output when
 *   published (a baseline for benchmarks)
 * @returns {Promise<{ rtmpPort: number, httpPort: number, streams: Map<string, any>,
 *   requests: Map<string, number>, close: () => Promise<void> }>}
 */
export async function startHlsOrigin(hlsOptions = {}, { hls: withHls = true } = {}) {
  const streams = new Map();
  const requests = new Map();
  const rtmp = rtmpServer().createServer((session) => {
    const published = new Map();
    const end = (id) => {
      const stream = published.get(id);
      if (!stream) return;
      published.delete(id);
      stream.removePublisher(session);
    };
    const onCommand = (chunk) => {
      const { msg, msgStreamId } = chunk.chunk;
      const reply = (cmdObj, info) => chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: msg.transId, cmdObj, info });
      switch (msg.cmd) {
        case 'connect':
          chunk.sendSetChunkSize(4096);
          reply({ fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success' });
          break;
        case 'releaseStream': case 'FCPublish': case 'FCUnpublish':
          reply(null, undefined);
          break;
        case 'createStream':
          reply(null, 1);
          break;
        case 'publish': {
          let stream = streams.get(msg.name);
          if (!stream) {
            streams.set(msg.name, (stream = new LiveStream(msg.name)));
            if (withHls) stream.hls(hlsOptions);
          }
          stream.setPublisher(session, msgStreamId);
          published.set(msgStreamId, stream);
          session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: msg.name });
          break;
        }
        case 'deleteStream':
          end(msg.streamId);
          break;
        default:
      }
    };
    session.msg.loop(null, { amf0cmd: onCommand, amf3cmd: onCommand });
    session.on('error', () => {});
    session.on('close', () => { for (const id of [...published.keys()]) end(id); });
  });
  rtmp.listen(0, '127.0.0.1');
  await once(rtmp, 'listening');

  const hls = hlsHandler((name) => streams.get(name)?.hls());
  const http = createServer((req, res) => {
    requests.set(req.url, (requests.get(req.url) ?? 0) + 1);
    if (!hls(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    rtmpPort: rtmp.address().port,
    httpPort: http.address().port,
    streams,
    requests,
    async close() {
      if (withHls) for (const s of streams.values()) s.hls().close();
      http.closeAllConnections();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => { rtmp.close(); r(); })]);
    },
  };
}
