// A live server that lets only holders of a key publish: the key goes in the stream
// name's query string, rtmp://HOST:PORT/live/<name>?key=<key> (in OBS: Server
// rtmp://HOST:PORT/live, Stream Key <name>?key=<key>). Anyone may play
// rtmp://HOST:PORT/live/<name>. A publisher without a valid key gets
// NetStream.Publish.BadName and nothing it sends is relayed.
//
//   PUBLISH_KEYS=s3cret,other PORT=1935 node examples/auth.js
//   ffmpeg -re -i input.flv -c copy -f flv 'rtmp://127.0.0.1:1935/live/mykey?key=s3cret'
//   ffplay rtmp://127.0.0.1:1935/live/mykey
//
// The `authorize` hook may also return a Promise (ask a database or an HTTP service).

'use strict';

const { createLiveServer, listenFromEnv } = require('./server.js');

/**
 * A live server whose publishers must give `?key=` one of `keys`; playing is open.
 * @param {Iterable<string>} keys
 * @param {import('..').LiveServerOptions} [options]
 */
function createAuthServer(keys, options = {}) {
  const allowed = new Set(keys);
  return createLiveServer({
    ...options,
    authorize: ({ action, query }) => action === 'play' || allowed.has(query.get('key')),
  });
}

module.exports = { createAuthServer };

if (require.main === module) {
  const keys = (process.env.PUBLISH_KEYS || '').split(',').filter(Boolean);
  if (keys.length === 0) {
    console.error('Set PUBLISH_KEYS to the comma-separated keys that may publish.');
    process.exit(1);
  }
  listenFromEnv(createAuthServer(keys), 'RTMP server (publishing needs a key)');
}
