// A live server that also records every publication into an FLV file,
// RECORD_DIR/<app>-<name>-<date>.flv (default: the current directory), while
// relaying it to players as examples/server.js does. Each file is complete and
// playable once its publisher stops.
//
//   RECORD_DIR=/tmp/rec PORT=1935 node examples/recorder.js
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/mykey
//   ffprobe /tmp/rec/live-mykey-*.flv

'use strict';

const path = require('node:path');
const { FlvWriter } = require('..');
const { createLiveServer, listenFromEnv } = require('./server.js');

/** Message types written to the file (audio, video, AMF0 data such as onMetaData). */
const RECORDED_TYPES = new Set([8, 9, 18]);

/**
 * Records one publication of `stream` by `session` until it unpublishes.
 * @param {import('..').LiveStream} stream
 * @param {import('..').Session} session
 * @param {number} msgStreamId
 * @param {string} dir
 * @param {(file: string, writer: import('..').FlvWriter) => void} [onRecorded]
 */
function record(stream, session, msgStreamId, dir, onRecorded) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stream.name.replace(/[^\w.-]+/g, '-')}-${stamp}.flv`);
  const writer = new FlvWriter(file);
  const onMessage = (chunk) => {
    const { msgType, msgStreamId: id, timestamp, data } = chunk.chunk;
    if (id === msgStreamId && RECORDED_TYPES.has(msgType)) writer.write(msgType, timestamp, data);
  };
  session.on('message', onMessage);
  stream.on('unpublish', function done(left) {
    if (left !== session) return;
    stream.off('unpublish', done);
    session.off('message', onMessage);
    writer.close();
    if (onRecorded) onRecorded(file, writer);
  });
}

/**
 * A live server that records each publication into `dir`.
 * @param {string} dir
 * @param {import('..').LiveServerOptions & {
 *   onRecorded?: (file: string, writer: import('..').FlvWriter) => void }} [options]
 */
function createRecorderServer(dir, { onRecorded, ...options } = {}) {
  return createLiveServer({
    ...options,
    emitMedia: true,
    onStream(stream) {
      stream.on('publish', (session, msgStreamId) => record(stream, session, msgStreamId, dir, onRecorded));
    },
  });
}

module.exports = { createRecorderServer };

if (require.main === module) {
  const dir = path.resolve(process.env.RECORD_DIR || '.');
  const server = createRecorderServer(dir, {
    onRecorded: (file, writer) => console.log(`recorded ${file} (${writer.tags} tags, ${writer.bytes} bytes)`),
  });
  listenFromEnv(server, `RTMP recorder (into ${dir})`);
}
