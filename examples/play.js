// Plays an RTMP stream with RtmpClient and reports what arrives: the metadata, then a
// line per second with the audio and video frames and bytes received. Stops when the
// publisher stops (NetStream.Play.UnpublishNotify), after SECONDS if given, or on
// Ctrl-C.
//
//   node examples/play.js rtmp://127.0.0.1:1935/live/mykey [SECONDS]

'use strict';

const { RtmpClient } = require('..');

/**
 * Plays `url` until the stream ends or `seconds` pass; resolves the frame counts.
 * @param {string} url
 * @param {{ seconds?: number, onSecond?: (counts: PlayCounts) => void }} [options]
 * @returns {Promise<PlayCounts>}
 *
 * @typedef {{ audio: number, video: number, keyframes: number, bytes: number, metadata: object | null }} PlayCounts
 */
async function playStream(url, { seconds, onSecond } = {}) {
  const counts = { audio: 0, video: 0, keyframes: 0, bytes: 0, metadata: null };
  const client = new RtmpClient();
  await client.connect(url);
  let stop;
  const stopped = new Promise((resolve) => {
    stop = resolve;
  });
  client.on('audio', (data) => {
    counts.audio += 1;
    counts.bytes += data.length;
  });
  client.on('video', (data, _timestamp, header) => {
    counts.video += 1;
    counts.bytes += data.length;
    // The package's classifier: legacy and Enhanced RTMP keyframes, configs excluded.
    if (header.role === 'keyframe') counts.keyframes += 1;
  });
  client.on('data', (msg) => {
    // ['onMetaData', {...}] (or with '@setDataFrame' first): the object is last.
    if (msg.dec.includes('onMetaData')) counts.metadata = msg.dec[msg.dec.length - 1];
  });
  client.on('status', (info) => {
    if (info.code === 'NetStream.Play.UnpublishNotify') stop();
  });
  client.on('close', stop);
  await client.play();
  const ticker = onSecond ? setInterval(() => onSecond(counts), 1000) : null;
  const timer = seconds ? setTimeout(stop, seconds * 1000) : null;
  process.once('SIGINT', stop);
  await stopped;
  clearInterval(ticker);
  clearTimeout(timer);
  process.off('SIGINT', stop);
  await client.close();
  return counts;
}

module.exports = { playStream };

if (require.main === module) {
  const [url, seconds] = process.argv.slice(2);
  if (!url) {
    console.error('usage: node examples/play.js rtmp://host[:port]/app/stream [SECONDS]');
    process.exit(1);
  }
  const line = (c) => `${c.video} video frames (${c.keyframes} keyframes), ${c.audio} audio frames, ${c.bytes} bytes`;
  playStream(url, { seconds: seconds ? Number(seconds) : undefined, onSecond: (c) => console.log(line(c)) }).then(
    (c) => {
      if (c.metadata) console.log('metadata:', JSON.stringify(c.metadata));
      console.log(`played ${line(c)}`);
    },
    (err) => {
      console.error(`play failed: ${err.code || ''} ${err.message}`);
      process.exit(2);
    },
  );
}
