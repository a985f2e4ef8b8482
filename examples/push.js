// A live server that also pushes every publication to another RTMP server: an origin,
// or a platform's ingest (YouTube, Twitch, ...). The pushing RtmpClient's session is
// one more player of the LiveStream, so the media goes out natively, metadata and
// sequence headers first. A publication to live/<name> is pushed to PUSH_TO/<name>;
// a push the target refuses or drops is retried every RETRY_MS while the publication
// lasts, and ends with it. Local players are served as by examples/server.js.
//
//   PUSH_TO=rtmp://a.rtmp.youtube.com/live2 PORT=1935 node examples/push.js
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/<stream key>

'use strict';

const { RtmpClient } = require('..');
const { createLiveServer, listenFromEnv, combineHooks, sayer } = require('./server.js');

/** Wait before pushing again after the target refused or dropped the push. */
const RETRY_MS = 2000;

/**
 * The hooks that push each publication made here (not one pulled from elsewhere, whose
 * publisher is an RtmpClient session) to `urlFor(stream)`.
 * @param {{ urlFor: (stream: import('..').LiveStream) => string, retryMs?: number,
 *   say?: (...args: unknown[]) => void }} options
 * @returns {Pick<import('..').LiveServerOptions, 'onStream'>}
 */
function pushHooks({ urlFor, retryMs = RETRY_MS, say = sayer(true) }) {
  /** Pushes the current publication of `stream` until it ends. */
  async function push(stream) {
    const publisher = stream.publisher;
    const published = () => stream.publisher === publisher;
    const url = urlFor(stream);
    const client = new RtmpClient();
    client.on('error', () => {}); // the connect/publish promises and 'close' report it
    const onUnpublish = (left) => {
      if (left === publisher) client.close();
    };
    stream.on('unpublish', onUnpublish);
    let over = false;
    /** The push is over (refused, dropped or done): again later if still published. */
    const ended = () => {
      if (over) return;
      over = true;
      stream.off('unpublish', onUnpublish);
      if (!published()) return;
      say(`push to ${url} ended; again in ${retryMs} ms`);
      setTimeout(() => {
        if (published()) push(stream);
      }, retryMs).unref();
    };
    client.once('close', ended);
    try {
      await client.connect(url);
      await client.publish();
      if (!published()) {
        await client.close();
        return;
      }
      stream.addPlayer(client.session, client.streamId);
      say(`pushing ${stream.name} to ${url}`);
    } catch (err) {
      say(`cannot push ${stream.name} to ${url}: ${err.message}`);
      await client.close();
      ended();
    }
  }

  return {
    onStream(stream) {
      stream.on('publish', (session) => {
        if (!session.isClient) push(stream);
      });
    },
  };
}

/**
 * A live server that pushes each publication of app/name to `${target}/name`.
 * @param {import('..').LiveServerOptions & {
 *   target: string, retryMs?: number }} options
 */
function createPushServer({ target, retryMs, ...options }) {
  const quiet = options.quiet ?? Boolean(process.env.RTMP_QUIET);
  const urlFor = (stream) => `${target}/${stream.name.slice(stream.name.indexOf('/') + 1)}`;
  const pushes = pushHooks({ urlFor, retryMs, say: sayer(quiet) });
  return createLiveServer({ ...options, quiet, ...combineHooks(pushes, options) });
}

module.exports = { createPushServer, pushHooks };

if (require.main === module) {
  const target = process.env.PUSH_TO;
  if (!target) {
    console.error('Set PUSH_TO to the rtmp://host[:port]/app to push every publication to.');
    process.exit(1);
  }
  listenFromEnv(createPushServer({ target }), `RTMP server (pushing to ${target})`);
}
