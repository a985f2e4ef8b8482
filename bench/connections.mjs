// Idle sessions: N clients complete the handshake with the example server and stay
// connected; prints the server's RSS per session.
//
//   node bench/connections.mjs [--count N]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const count = Number(process.argv[process.argv.indexOf('--count') + 1]) || 2000;
const serverPath = fileURLToPath(new URL('../examples/server.js', import.meta.url));

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const server = spawn(process.execPath, [serverPath], { env: { ...process.env, PORT: '0', RTMP_QUIET: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const port = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on rtmp:\/\/[^:\s]+:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  server.on('exit', () => reject(new Error('server exited')));
});

/** Completes a plain handshake (C0+C1, then C2 after S0+S1+S2). */
async function handshake() {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  let got = 0;
  await new Promise((resolve) => {
    sock.on('data', (d) => {
      got += d.length;
      if (got >= 1 + 2 * 1536) resolve();
    });
  });
  sock.write(Buffer.alloc(1536));
  return sock;
}

await new Promise((r) => setTimeout(r, 300));
const before = rssKb(server.pid);
const socks = [];
for (let i = 0; i < count; i += 100) {
  socks.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, handshake))));
}
await new Promise((r) => setTimeout(r, 1000));
const after = rssKb(server.pid);
console.log(`sessions: ${count}`);
console.log(`server RSS before: ${before} KB, after: ${after} KB`);
console.log(`RSS per idle session: ${((after - before) / count).toFixed(1)} KB`);
for (const s of socks) s.destroy();
server.kill();
