'use strict';

// The live server's player page: `/` lists the streams being published and plays one
// in the browser with mpegts.js over HTTP-FLV or WebSocket-FLV; `/mpegts.js` is the
// player library from node_modules (the optional peer dependency `mpegts.js`: `npm install
// mpegts.js` beside the package; a git checkout has it as a devDependency), served by the server
// itself, no CDN.

const { readFile } = require('node:fs/promises');

const PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Live streams</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}video{width:100%;background:#000}
li{margin:.3em 0}button{margin-left:.5em}#err{color:#b00}</style>
<h1>Live streams</h1><ul id="list"><li>loading…</li></ul>
<video id="video" controls muted autoplay></video><p id="err"></p>
<script src="/mpegts.js"></script>
<script>
let player = null;
function play(path, ws) {
  if (player) { player.destroy(); player = null; }
  document.getElementById('err').textContent = '';
  const url = (ws ? (location.protocol === 'https:' ? 'wss:' : 'ws:') : location.protocol) + '//' + location.host + path;
  player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableStashBuffer: false });
  player.on(mpegts.Events.ERROR, (type, detail) => { document.getElementById('err').textContent = type + ': ' + detail; });
  player.attachMediaElement(document.getElementById('video'));
  player.load();
  player.play();
}
async function refresh() {
  const streams = await (await fetch('/streams.json')).json();
  const list = document.getElementById('list');
  list.replaceChildren(...(streams.length ? streams.map((s) => {
    const li = document.createElement('li');
    const path = '/' + encodeURIComponent(s.app) + '/' + s.name.split('/').map(encodeURIComponent).join('/') + '.flv';
    li.textContent = s.app + '/' + s.name + ' (' + s.players + ' players, ' + Math.round(s.bitrate / 1000) + ' kb/s)';
    for (const [label, ws] of [['HTTP-FLV', false], ['WebSocket-FLV', true]]) {
      const b = document.createElement('button');
      b.textContent = label;
      b.onclick = () => play(path, ws);
      li.append(b);
    }
    return li;
  }) : [Object.assign(document.createElement('li'), { textContent: 'No stream is being published.' })]));
}
refresh();
setInterval(refresh, 5000);
</script>
</html>
`;

/**
 * A request handler for `/`, `/streams.json` (the streams `liveStreams()` gives) and
 * `/mpegts.js`; returns true when it handled the request.
 * @param {() => Array<{ app: string, name: string, players: number, bitrate: number }>} liveStreams
 */
function playerPageHandler(liveStreams) {
  let script;
  return function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url || '/').split('?')[0];
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(PAGE);
    } else if (path === '/streams.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
      res.end(JSON.stringify(liveStreams()));
    } else if (path === '/mpegts.js') {
      script ||= readFile(require.resolve('mpegts.js/dist/mpegts.js'));
      script.then((body) => {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' });
        res.end(body);
      }, () => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('mpegts.js is not installed\n');
      });
    } else {
      return false;
    }
    return true;
  };
}

module.exports = { playerPageHandler };
