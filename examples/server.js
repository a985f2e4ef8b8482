// The live server of `npm start`: the package's createLiveServer, listening for RTMP
// on $PORT (default 1935) and serving on http://HOST:$HTTP_PORT (default 8000) its
// Prometheus metrics (/metrics), HTTP-FLV and WebSocket-FLV (/live/<key>.flv),
// Low-Latency HLS (/live/<key>/index.m3u8) and a player page (/, mpegts.js served from
// node_modules). Publish to rtmp://HOST:PORT/live/<key>
// with FFmpeg or OBS, play the same URL with ffplay, VLC, FFmpeg or rtmpdump. Many
// streams at once; players that come before the publisher get the stream when it
// starts; a second publisher on a busy key is refused. Media is relayed natively (the
// bytes never pass through JS). Ctrl-C closes it gracefully (players are told).
//
//   PORT=1935 HTTP_PORT=8000 node --max-semi-space-size=1 examples/server.js
//   (npm start's command; the option keeps V8's young generation small: README, "Play and relay")
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/mykey
//   ffplay rtmp://127.0.0.1:1935/live/mykey
//   curl http://127.0.0.1:8000/metrics
//
// With TLS_CERT and TLS_KEY (paths of a PEM certificate chain and its key) the HTTP
// side is HTTPS and WSS instead (https://HOST:$HTTP_PORT/live/<key>.flv), its TLS
// terminated natively so FLV players are still played natively (createFlvHttpsServer).
//
// RTMP_QUIET=1 prints only the listening lines and errors (for benchmarks);
// RTMP_MERGE_WRITES_MS=40 lets audio wait up to 40 ms for the next video frame, to go
// out to RTMP players in one write with it (the LiveStream option mergeWritesMs;
// default 0: at once); FLV_MERGE_WRITES_MS the same for HTTP-FLV and WebSocket-FLV
// players (flvMergeWritesMs; default 40).
//
// The other examples build on createLiveServer's hooks: examples/auth.js (who may
// publish), examples/recorder.js (each publication to FLV), examples/edge.js (pull
// from an origin on the first play), examples/push.js (push each publication onward),
// examples/cluster.js (every core; edge and push combined).

'use strict';

const http = require('node:http');
const { readFileSync } = require('node:fs');
const rtmpapi = require('..');

const { combineHooks } = rtmpapi;

/**
 * The package's createLiveServer, quiet (errors only) when $RTMP_QUIET is set unless
 * `options.quiet` says otherwise.
 * @param {import('..').LiveServerOptions} [options]
 */
function createLiveServer(options = {}) {
  return rtmpapi.createLiveServer({ quiet: Boolean(process.env.RTMP_QUIET), ...options });
}

/** A logging function printing ISO-dated lines unless `quiet` (for the examples' hooks). */
function sayer(quiet) {
  return (...args) => {
    if (!quiet) console.log(new Date().toISOString(), ...args);
  };
}

/**
 * The certificate and key of $TLS_CERT and $TLS_KEY (PEM files), or undefined when
 * neither is set; one without the other is an error.
 * @returns {{ cert: Buffer, key: Buffer } | undefined}
 */
function tlsFromEnv(env = process.env) {
  if (!env.TLS_CERT && !env.TLS_KEY) return undefined;
  if (!env.TLS_CERT || !env.TLS_KEY) throw new Error('TLS_CERT and TLS_KEY must be set together');
  return { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) };
}

/**
 * Serves `server.metrics()` on http://HOST:port/metrics, and the live server's HTTP
 * side (HTTP-FLV, WebSocket-FLV, HLS, the player page: `server.httpHandler()`); with
 * `tls` ({ cert, key }) over HTTPS and WSS. A port that cannot be bound is reported and
 * the RTMP server goes on without it.
 * @param {import('..').LiveServer} server
 * @param {number} port
 * @param {{ cert: string | Buffer, key: string | Buffer }} [tls]
 */
function serveMetrics(server, port, tls) {
  const live = server.httpHandler();
  const handle = (req, res) => {
    if (live.request(req, res)) return;
    if (req.method === 'GET' && req.url.split('?')[0] === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(server.metrics());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /, /live/<key>.flv, /live/<key>/index.m3u8 or /metrics\n');
    }
  };
  const web = tls ? rtmpapi.createFlvHttpsServer(tls, handle) : http.createServer(handle);
  web.on('upgrade', (req, socket, head) => {
    if (!live.upgrade(req, socket, head)) socket.destroy();
  });
  web.on('error', (err) => console.error(`metrics server: ${err.code} ${err.message}`));
  web.listen(port, () => {
    const base = `${tls ? 'https' : 'http'}://127.0.0.1:${web.address().port}`;
    const flv = tls ? 'HTTPS-FLV and WSS-FLV' : 'HTTP-FLV and WebSocket-FLV';
    console.log(`metrics on ${base}/metrics, players on ${base}/ (${flv}: ${base}/live/<key>.flv, HLS: ${base}/live/<key>/index.m3u8)`);
  });
  server.once('close', () => web.close());
  return web;
}

/**
 * Listens on $PORT (default 1935) and prints the URL to publish to and play from;
 * exits with code 1 on a listen error. With `httpPort` (or $HTTP_PORT) also serves
 * /metrics and the players, over HTTPS when $TLS_CERT and $TLS_KEY are set. SIGINT and
 * SIGTERM close the server gracefully. What `node examples/<name>.js` does.
 * @param {import('..').LiveServer} server
 * @param {string} [what] - names the server in the listening line
 * @param {{ httpPort?: number }} [options]
 */
function listenFromEnv(server, what = 'RTMP server', { httpPort = process.env.HTTP_PORT } = {}) {
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
  if (httpPort !== undefined && httpPort !== '') serveMetrics(server, Number(httpPort), tlsFromEnv());
  const stop = () => server.close(() => process.exit());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

module.exports = { createLiveServer, listenFromEnv, combineHooks, sayer };

if (require.main === module) {
  const ms = (name) => (process.env[name] === undefined ? undefined : Number(process.env[name]));
  const streamOptions = { mergeWritesMs: ms('RTMP_MERGE_WRITES_MS'), flvMergeWritesMs: ms('FLV_MERGE_WRITES_MS') };
  const server = createLiveServer({ streamOptions });
  listenFromEnv(server, 'RTMP server', { httpPort: process.env.HTTP_PORT ?? 8000 });
}
