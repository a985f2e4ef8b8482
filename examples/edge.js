// An edge server: players connect to the edge, and on the first play of a stream the
// edge does not have it pulls that stream from the origin with RtmpClient and relays it
// natively to every local player (the pulling client's session is the LiveStream's
// publisher, so the bytes never pass through JS). One pull per stream however many
// players; it ends LINGER_MS after the last player left. When the origin's publisher
// stops, the players get StreamEOF and NetStream.Play.UnpublishNotify and the edge
// plays on at the origin, waiting for the next publication; a lost origin is retried
// every RETRY_MS while players wait. A stream published to the edge itself takes over
// from its pull, and once it ends, players still watching are served from the origin.
//
//   node examples/server.js                                   # the origin, port 1935
//   ORIGIN=rtmp://127.0.0.1:1935 PORT=1936 node examples/edge.js
//   ffmpeg -re -i input.flv -c copy -f flv rtmp://127.0.0.1:1935/live/mykey
//   ffplay rtmp://127.0.0.1:1936/live/mykey                   # pulled from the origin

'use strict';

const { RtmpClient } = require('..');
const { createLiveServer, listenFromEnv, combineHooks, sayer } = require('./server.js');

/** How long a pull outlives its last player (a player that comes back reuses it). */
const LINGER_MS = 5000;
/** Wait before pulling again after the origin connection failed or was lost. */
const RETRY_MS = 2000;

/**
 * Whether a player of `stream` is a viewer: sessions of RtmpClient (a push onward,
 * examples/push.js) do not count.
 * @param {import('..').LiveStream} stream
 */
function watched(stream) {
  return [...stream.players.keys()].some((player) => !player.isClient);
}

/**
 * The hooks of an edge (for createLiveServer, or combineHooks with others): a stream
 * watched here and not published here is pulled from `${origin}/app/name`.
 * @param {{ origin: string, lingerMs?: number, retryMs?: number, say?: (...args: unknown[]) => void }} options
 * @returns {Pick<import('..').LiveServerOptions, 'onStream' | 'beforePublish'>}
 */
function edgeHooks({ origin, lingerMs = LINGER_MS, retryMs = RETRY_MS, say = sayer(true) }) {
  /** The pull of each stream: { client, linger (timer), playing, originUnpublished }. */
  const pulls = new Map();

  function tellPlayers(stream, info, eof = false) {
    for (const [player, id] of stream.players) {
      if (eof) player.sendStreamEof(id);
      else player.sendStreamBegin(id);
      player.sendStatus(id, info);
    }
  }

  /** Starts a pull unless one runs (then keeps it), the stream is published here, or nobody watches. */
  function pull(stream) {
    const running = pulls.get(stream);
    if (running) {
      clearTimeout(running.linger);
      return;
    }
    if (stream.publisher || !watched(stream)) return;
    const pulling = { client: new RtmpClient(), linger: null, playing: false, originUnpublished: false };
    pulls.set(stream, pulling);
    connect(stream, pulling);
  }

  async function connect(stream, pulling) {
    const { client } = pulling;
    const url = `${origin}/${stream.name}`;
    client.on('error', () => {}); // the connect/play promises and 'close' report it
    client.on('close', () => pullEnded(stream, pulling));
    client.on('status', (info) => {
      if (info.code === 'NetStream.Play.PublishNotify') tellPlayers(stream, info);
      if (info.code === 'NetStream.Play.UnpublishNotify') {
        pulling.originUnpublished = true;
        client.close();
      }
    });
    try {
      await client.connect(url);
      await client.play(undefined, { relayTo: stream });
      if (pulls.get(stream) !== pulling) {
        await client.close(); // the pull ended (last player left, local publisher) while it connected
        return;
      }
      pulling.playing = true;
      say(`pulling ${url} for ${stream.players.size} players`);
    } catch (err) {
      say(`cannot pull ${url}: ${err.message}`);
      await client.close();
      pullEnded(stream, pulling);
    }
  }

  /** Forgets a pull and closes its connection (its players stay on the stream). */
  function endPull(stream, pulling) {
    pulls.delete(stream);
    clearTimeout(pulling.linger);
    stream.removePublisher(pulling.client.session);
    pulling.client.close();
  }

  /** The pull's connection ended: players are told, and it is pulled again if they wait. */
  function pullEnded(stream, pulling) {
    if (pulls.get(stream) !== pulling) return;
    endPull(stream, pulling);
    if (pulling.playing) {
      tellPlayers(stream, { code: 'NetStream.Play.UnpublishNotify', description: `${stream.name} is now unpublished.` }, true);
    }
    // The origin keeps a player waiting for its next publisher: play on at once.
    setTimeout(() => pull(stream), pulling.originUnpublished ? 0 : retryMs).unref();
  }

  /** A player left: once nobody watches, the pull ends unless a viewer comes back within lingerMs. */
  function linger(stream) {
    const pulling = pulls.get(stream);
    if (!pulling || watched(stream)) return;
    pulling.linger = setTimeout(() => {
      if (watched(stream)) return;
      say(`no players left for ${stream.name}: pull closed`);
      endPull(stream, pulling);
    }, lingerMs);
    pulling.linger.unref();
  }

  return {
    onStream(stream) {
      stream.on('play', () => pull(stream));
      stream.on('stop', () => linger(stream));
      // A publication here ended while viewers stay: serve them from the origin.
      stream.on('unpublish', (session) => {
        if (!session.isClient) pull(stream);
      });
    },
    /** A publisher here takes over from the pull that stood in for it. */
    beforePublish(stream) {
      const pulling = pulls.get(stream);
      if (pulling) endPull(stream, pulling);
    },
  };
}

/**
 * A live server whose streams, played but not published on it, are pulled from
 * `origin`: a play of app/name here pulls `${origin}/app/name`.
 * @param {import('..').LiveServerOptions & {
 *   origin: string, lingerMs?: number, retryMs?: number }} options
 */
function createEdgeServer({ origin, lingerMs, retryMs, ...options }) {
  const quiet = options.quiet ?? Boolean(process.env.RTMP_QUIET);
  const edge = edgeHooks({ origin, lingerMs, retryMs, say: sayer(quiet) });
  return createLiveServer({ ...options, quiet, ...combineHooks(edge, options) });
}

module.exports = { createEdgeServer, edgeHooks };

if (require.main === module) {
  const origin = process.env.ORIGIN || 'rtmp://127.0.0.1:1935';
  listenFromEnv(createEdgeServer({ origin }), `RTMP edge of ${origin}`);
}
