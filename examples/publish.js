// Publishes an FLV file to an RTMP server at real-time pace with RtmpClient, the way
// an encoder would (releaseStream, FCPublish, createStream, publish; then onMetaData,
// the sequence headers and the media, each tag at its timestamp).
//
//   node examples/publish.js input.flv rtmp://127.0.0.1:1935/live/mykey

'use strict';

const { RtmpClient, readFlv } = require('..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes `file` to `url` at the pace of its timestamps, then unpublishes.
 * @param {string} file
 * @param {string} url - rtmp://host[:port]/app/stream
 * @returns {Promise<number>} the number of tags sent
 */
async function publishFile(file, url) {
  const { tags } = readFlv(file);
  const client = new RtmpClient();
  await client.connect(url);
  const info = await client.publish();
  console.log(`${info.code}: publishing ${tags.length} tags of ${file} to ${url}`);
  const started = Date.now() - (tags.length ? tags[0].timestamp : 0);
  for (const tag of tags) {
    const wait = started + tag.timestamp - Date.now();
    if (wait > 0) await sleep(wait);
    // Past the send high-water mark: let the socket catch up (TCP pushes back).
    if (!client.sendTag(tag)) await client.drain();
  }
  await client.drain();
  await client.close();
  return tags.length;
}

module.exports = { publishFile };

if (require.main === module) {
  const [file, url] = process.argv.slice(2);
  if (!file || !url) {
    console.error('usage: node examples/publish.js FILE.flv rtmp://host[:port]/app/stream');
    process.exit(1);
  }
  publishFile(file, url).then(
    (n) => console.log(`published ${n} tags`),
    (err) => {
      console.error(`publish failed: ${err.code || ''} ${err.message}`);
      process.exit(2);
    },
  );
}
