// An HLS origin for tests and benchmarks: an RTMP server (the replies FFmpeg waits for)
// publishing into one LiveStream per name, each with its HLS output, and a node:http
// server serving them at /live/<name>/index.m3u8 through hlsHandler. Every HTTP request
// is counted by path (and query), so a test can see what reached the origin.

import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

import { publishServer } from './publish-server.mjs';

const require = createRequire(import.meta.url);
const { hlsHandler } = require('../../index.js');

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
  const rtmp = publishServer(streams, (stream) => {
    if (withHls) stream.hls(hlsOptions);
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
