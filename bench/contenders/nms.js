#!/usr/bin/env node
// node-media-server (v4, from bench/node_modules) as a benchmark contender: RTMP, and
// HTTP-FLV / WebSocket-FLV on /live/<name>.flv when HTTP_PORT is set (no record, no notify), its logger at "error" like our server's RTMP_QUIET=1,
// its store in a temporary directory. Prints "listening on rtmp://127.0.0.1:PORT" once it
// listens (the contract bench/README.md describes); PORT=0 picks a free port.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

let NodeMediaServer;
let logger;
try {
  NodeMediaServer = require('node-media-server');
  logger = require('node-media-server/src/core/logger.js');
} catch (e) {
  console.error(`node-media-server is not installed: run \`npm install --prefix bench\` (${e.message.split('\n')[0]})`);
  process.exit(2);
}

/** A loopback port free now (node-media-server cannot listen on port 0 and report it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function main() {
  const port = Number(process.env.PORT) || (await freePort());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nms-bench-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
  const httpPort = Number(process.env.HTTP_PORT) || 0;
  const nms = new NodeMediaServer({ bind: '127.0.0.1', rtmp: { port }, ...(httpPort ? { http: { port: httpPort } } : {}), store: { path: dataDir } });
  logger.level = 'error';
  await nms.run();
  const tcp = nms.rtmpServer.tcpServer;
  if (!tcp.listening) await new Promise((resolve) => tcp.once('listening', resolve));
  console.log(`node-media-server listening on rtmp://127.0.0.1:${port}/live`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
