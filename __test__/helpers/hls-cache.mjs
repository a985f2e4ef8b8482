// An HTTP cache in front of an HLS origin, and players that pull through it: nginx's
// proxy_cache (Debian nginx) with no caching rule of its own — what it keeps and for how
// long follows only the origin's Cache-Control — and proxy_cache_lock, so that players
// asking for the same URL at once cost the origin one request. Used by
// __test__/hls.test.mjs and bench/hls.mjs.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NGINX } from './nginx.mjs';
import { freePort } from './process.mjs';
import { toolSkip } from './tools.mjs';

export function nginxSkip() {
  return toolSkip(!existsSync(NGINX) && `no nginx at ${NGINX} (apt-get install nginx)`);
}

/** nginx.conf: a caching reverse proxy on 127.0.0.1:`port` to 127.0.0.1:`origin`. */
export function cacheConf({ dir, port, origin }) {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:10m max_size=256m inactive=5m use_temp_path=off;
  upstream origin { server 127.0.0.1:${origin}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hls;
      proxy_cache_key $request_uri;
      # One request per URL reaches the origin; the others wait for it (a blocking
      # playlist request or a preload-hinted part is held by the origin for a while).
      proxy_cache_lock on;
      proxy_cache_lock_timeout 15s;
      proxy_cache_lock_age 15s;
      proxy_read_timeout 20s;
      add_header X-Cache $upstream_cache_status always;
    }
  }
}
`;
}

/**
 * Starts nginx caching the origin on `originPort`.
 * @returns {Promise<{ port: number, close: () => void }>}
 */
export async function startNginxCache(originPort) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rtmpapi-hls-cache-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, cacheConf({ dir, port, origin: originPort }));
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    close() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** URIs of a playlist (segments, parts, the map, the preload hint), in order. */
function uris(text) {
  const out = { segments: [], parts: [], map: null, hint: null, nextMsn: 0, nextPart: 0 };
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MAP:')) out.map = /URI="([^"]+)"/.exec(line)[1];
    else if (line.startsWith('#EXT-X-PART:')) out.parts.push(/URI="([^"]+)"/.exec(line)[1]);
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) out.hint = /URI="([^"]+)"/.exec(line)[1];
    else if (line && !line.startsWith('#')) { out.segments.push(line); msn += 1; }
  }
  // The next blocking request: the part after the preload hint's (RFC 8216bis §6.2.5.2).
  const m = out.hint && /_(\d+)_(\d+)\.m4s$/.exec(out.hint);
  if (m) { out.nextMsn = Number(m[1]); out.nextPart = Number(m[2]); }
  else out.nextMsn = msn;
  return out;
}

/**
 * A player pulling `playlistUrl` for `seconds`: with `lowLatency`, as an LL-HLS client
 * does (blocking playlist reloads for the next part, every new part); otherwise as a
 * plain HLS client (the playlist every second, every new segment). Counts what it got.
 * @returns {Promise<{ requests: number, bytes: number, hits: number, errors: string[] }>}
 */
export async function pullPlayer(playlistUrl, { seconds = 8, lowLatency = true } = {}) {
  const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
  const stats = { requests: 0, bytes: 0, hits: 0, errors: [] };
  const got = new Set();
  const get = async (url) => {
    stats.requests += 1;
    const r = await fetch(url);
    const body = Buffer.from(await r.arrayBuffer());
    if (r.headers.get('x-cache') === 'HIT') stats.hits += 1;
    if (r.status !== 200) stats.errors.push(`${r.status} ${url}`);
    stats.bytes += body.length;
    return body;
  };
  const deadline = Date.now() + seconds * 1000;
  let playlist = uris((await get(playlistUrl)).toString());
  while (Date.now() < deadline) {
    const wanted = [playlist.map, ...(lowLatency ? playlist.parts : playlist.segments.slice(-3))];
    for (const uri of wanted) {
      if (uri && !got.has(uri)) {
        got.add(uri);
        await get(base + uri);
      }
    }
    if (lowLatency) {
      playlist = uris((await get(`${playlistUrl}?_HLS_msn=${playlist.nextMsn}&_HLS_part=${playlist.nextPart}`)).toString());
    } else {
      await new Promise((r) => setTimeout(r, 1000));
      playlist = uris((await get(playlistUrl)).toString());
    }
  }
  return stats;
}
