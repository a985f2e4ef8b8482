'use strict';

// HLS output: a LiveStream as Low-Latency HLS (RFC 8216bis), CMAF segments and parts
// muxed natively off the main thread (src/runtime/hls.rs). This file is the HTTP side:
// a request handler an app mounts in its own node:http server, made for HTTP caches.
//
// Caching (what a CDN or nginx proxy_cache in front sees):
// - init segment, segments, parts: `public, max-age=31536000, immutable`: every name
//   carries the publication's random id and the Media Sequence Number, so a URL names
//   the same bytes for as long as it exists;
// - a blocking playlist request (`_HLS_msn`/`_HLS_part`, RFC 8216bis §6.2.5.2) is
//   answered once that part exists; its URL names that point of the stream, so its
//   answer may be cached briefly and shared by every player asking the same (the
//   client puts the directives in a fixed order for that reason); `public, max-age=
//   BLOCKING_MAX_AGE`;
// - the plain playlist: `public, max-age=1` (players that do not block poll it);
// - a preload-hinted part not cut yet is held until it is (then immutable).
// CORS: `Access-Control-Allow-Origin` on every response (default `*`), OPTIONS answered.

const { NativeHls } = require('../binding.js');
const { fromNative } = require('./errors.js');

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Seconds a blocking playlist answer may be cached. */
const BLOCKING_MAX_AGE = 10;
/** Longest wait for a blocking request (RFC 8216bis §6.2.5.2: 3 × target duration). */
const DEFAULT_BLOCK_MS = 6000;

/** `options[name]` if an integer in min..=max, undefined if absent; a TypeError otherwise. */
function optionalInteger(options, name, min, max) {
  const value = options[name];
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw Object.assign(new TypeError(`options.${name} must be an integer from ${min} to ${max}, got ${value}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return value;
}

/** A query parameter as a non-negative integer; NaN if present and not one. */
function directive(params, name) {
  const raw = params.get(name);
  if (raw === null) return undefined;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
}

/**
 * A LiveStream's HLS output: made by `stream.hls(options)`. `handle(req, res)` answers
 * a request for `index.m3u8` or a name the playlist gives (the last segment of the
 * URL's path: mount it under any prefix).
 */
class HlsOutput {
  /**
   * @param {import('./stream.js').LiveStream} stream
   * @param {object} [options]
   * @param {number} [options.partTargetMs] - EXT-X-PART-INF PART-TARGET (default 200)
   * @param {number} [options.segmentMinMs] - a segment ends at the first keyframe past
   *   this (default 1000)
   * @param {number} [options.segmentMaxMs] - ... or here without one (default 10000)
   * @param {number} [options.window] - complete segments kept (default 7)
   * @param {string | false} [options.cors] - Access-Control-Allow-Origin (default '*';
   *   false: no CORS headers)
   * @param {number} [options.blockTimeoutMs] - longest hold of a blocking request
   *   before 503 (default 6000)
   */
  constructor(stream, options = {}) {
    const native = {
      partTargetMs: optionalInteger(options, 'partTargetMs', 20, 10_000),
      segmentMinMs: optionalInteger(options, 'segmentMinMs', 0, 60_000),
      segmentMaxMs: optionalInteger(options, 'segmentMaxMs', 100, 600_000),
      window: optionalInteger(options, 'window', 1, 100),
    };
    this.blockTimeoutMs = optionalInteger(options, 'blockTimeoutMs', 0, 60_000) ?? DEFAULT_BLOCK_MS;
    const { cors = '*' } = options;
    if (cors !== false && (typeof cors !== 'string' || cors === '')) {
      throw Object.assign(new TypeError('options.cors must be an origin string or false'), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    this.cors = cors;
    this.stream = stream;
    try {
      this._native = NativeHls.start(stream._native, native);
    } catch (err) {
      throw fromNative(err);
    }
    // A hub ends its feeds with each publication: follow the next one.
    this._onPublish = () => this._native.attach(stream._native);
    stream.on('publish', this._onPublish);
    this.closed = false;
  }

  /** Stops following the stream; what is held is still served. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.stream.off('publish', this._onPublish);
    this._native.stop();
  }

  /**
   * `{ prefix, segments, openMsn, heldBytes, hasVideo, ended, skipped }`: `skipped`
   * says why a track is left out (e.g. an unsupported codec).
   */
  stats() {
    return this._native.stats();
  }

  _headers(extra) {
    const headers = { ...extra };
    if (this.cors !== false) {
      headers['Access-Control-Allow-Origin'] = this.cors;
      headers['Access-Control-Expose-Headers'] = 'Content-Length';
    }
    return headers;
  }

  _send(req, res, status, headers, body) {
    const h = this._headers(headers);
    if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(status, h);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  _error(req, res, status, message) {
    this._send(req, res, status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, `${message}\n`);
  }

  /**
   * Answers one request: GET/HEAD of `index.m3u8` (with `_HLS_msn`/`_HLS_part`: held
   * until that part exists, RFC 8216bis §6.2.5.2; 400 past the next segment, 503 after
   * `blockTimeoutMs`) or of an init segment, segment or part (404 once out of the
   * window), OPTIONS (CORS preflight); 405 otherwise.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {string} [name] - the file asked for (default: the URL path's last segment)
   * @returns {Promise<void>} settles once the response is sent
   */
  async handle(req, res, name) {
    const url = new URL(req.url || '/', 'http://x');
    const file = name ?? decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
    if (req.method === 'OPTIONS') {
      res.writeHead(204, this._headers({
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Range',
        'Access-Control-Max-Age': '86400',
      }));
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      this._error(req, res, 405, 'method not allowed');
      return;
    }
    if (file.endsWith('.m3u8')) {
      await this._playlist(req, res, url.searchParams);
      return;
    }
    let bytes = this._native.lookup(file);
    if (!bytes && this._native.pending(file)) {
      await this._native.wait(null, null, file, this.blockTimeoutMs);
      bytes = this._native.lookup(file);
    }
    if (!bytes) {
      this._error(req, res, 404, 'no such segment (it may have left the window)');
      return;
    }
    const type = this._native.stats().hasVideo ? 'video/mp4' : 'audio/mp4';
    this._send(req, res, 200, { 'Content-Type': type, 'Cache-Control': IMMUTABLE }, bytes);
  }

  async _playlist(req, res, params) {
    const msn = directive(params, '_HLS_msn');
    const part = directive(params, '_HLS_part');
    if (Number.isNaN(msn) || Number.isNaN(part) || (part !== undefined && msn === undefined)) {
      this._error(req, res, 400, '_HLS_msn and _HLS_part must be integers, _HLS_part only with _HLS_msn');
      return;
    }
    let cache = 'public, max-age=1';
    if (msn !== undefined) {
      const outcome = await this._native.wait(msn, part, null, this.blockTimeoutMs);
      if (outcome === 'bad') {
        this._error(req, res, 400, `_HLS_msn ${msn} is past the next segment`);
        return;
      }
      if (outcome === 'timeout') {
        this._error(req, res, 503, 'the part asked for was not cut in time');
        return;
      }
      cache = `public, max-age=${BLOCKING_MAX_AGE}`;
    }
    let text = this._native.playlist();
    if (text === null) {
      // Nothing to play yet: hold the request until the first segment is complete.
      await this._native.wait(0, null, null, this.blockTimeoutMs);
      text = this._native.playlist();
    }
    if (text === null) {
      this._error(req, res, 404, 'no segment yet: is the stream published?');
      return;
    }
    this._send(req, res, 200, { 'Content-Type': PLAYLIST_TYPE, 'Cache-Control': cache }, text);
  }
}

/**
 * A request handler for many streams: `/<prefix>/<key>/<file>` (prefix default
 * `/live/`) goes to `resolve(key)`'s HlsOutput; 404 when it returns none.
 * @param {(key: string) => HlsOutput | undefined | null} resolve
 * @param {{ prefix?: string }} [options]
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean}
 *   true when the request's path is under the prefix (and was answered)
 */
function hlsHandler(resolve, { prefix = '/live/' } = {}) {
  if (typeof resolve !== 'function') {
    throw Object.assign(new TypeError('hlsHandler(resolve): resolve must be a function'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return (req, res) => {
    const path = (req.url || '/').split('?')[0];
    if (!path.startsWith(prefix)) return false;
    const rest = path.slice(prefix.length).split('/');
    const output = rest.length === 2 ? resolve(decodeURIComponent(rest[0])) : undefined;
    if (!output) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
      res.end('no such stream\n');
      return true;
    }
    output.handle(req, res, decodeURIComponent(rest[1])).catch((err) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err && err.message));
    });
    return true;
  };
}

module.exports = { HlsOutput, hlsHandler };
