'use strict';

// Recording: a LiveStream recorded into an FLV file natively (the bytes never pass
// through JS; the file is written off the main thread). Made by `stream.record(path)`.

const { EventEmitter } = require('node:events');
const { NativeRecording } = require('../binding.js');
const { fromNative, rtmpError } = require('./errors.js');

/** Largest queueLimit a recording takes (the native side counts in 32 bits). */
const MAX_QUEUE_LIMIT = 0xffff_ffff;

/**
 * @typedef {object} RecordingInfo
 * @property {string} path
 * @property {number} bytes - the file's size
 * @property {number} durationMs - from the first to the last audio/video timestamp
 * @property {{ video: number, audio: number }} dropped - frames dropped because the
 *   disk was slower than the stream (video to the next keyframe first, then audio)
 * @property {Error & { code: string }} [error] - why it ended early (ERR_RTMP_RECORD)
 */

/**
 * Events: 'error' (err, code ERR_RTMP_RECORD: the file could not be created or
 * written; the recording ends) and then 'close' (info: RecordingInfo) once the file is
 * finalized — duration and size in its onMetaData.
 */
class Recording extends EventEmitter {
  /**
   * @param {import('./stream.js').LiveStream} stream
   * @param {string} path
   * @param {{ queueLimit?: number }} [options]
   */
  constructor(stream, path, options = {}) {
    super();
    if (typeof path !== 'string' || path === '') {
      throw Object.assign(new TypeError(`path must be a non-empty string, got ${typeof path === 'string' ? '""' : typeof path}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    const { queueLimit } = options;
    if (queueLimit !== undefined && (!Number.isInteger(queueLimit) || queueLimit < 0 || queueLimit > MAX_QUEUE_LIMIT)) {
      throw Object.assign(new TypeError(`options.queueLimit must be an integer from 0 to ${MAX_QUEUE_LIMIT}, got ${queueLimit}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    this.path = path;
    this.stream = stream;
    /** True once the file is finalized ('close' emitted). */
    this.closed = false;
    let resolve;
    /** @type {Promise<RecordingInfo>} */
    this._closed = new Promise((r) => { resolve = r; });
    try {
      this._native = NativeRecording.start(stream._native, path, queueLimit, (result) => this._finish(result, resolve));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** @param {import('../binding.js').RecordResult} result */
  _finish(result, resolve) {
    this.closed = true;
    /** @type {RecordingInfo} */
    const info = {
      path: this.path,
      bytes: result.bytes,
      durationMs: result.durationMs,
      dropped: { video: result.droppedVideo, audio: result.droppedAudio },
    };
    if (result.errorCode) info.error = Object.assign(rtmpError(result.errorCode, result.errorMessage), { path: this.path });
    resolve(info);
    if (info.error) this.emit('error', info.error);
    this.emit('close', info);
  }

  /**
   * Ends the recording now (it also ends by itself when the publisher leaves): what is
   * queued is written, then the file is finalized.
   * @returns {Promise<RecordingInfo>} resolves after finalizing, as 'close' is emitted
   */
  stop() {
    if (!this.closed) this._native.stop();
    return this._closed;
  }

  /** `{ queuedBytes, dropped: { video, audio } }` while it runs. */
  stats() {
    const s = this._native.stats();
    return { queuedBytes: s.queuedBytes, dropped: { video: s.droppedVideo, audio: s.droppedAudio } };
  }
}

module.exports = { Recording };
