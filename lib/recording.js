'use strict';

// Recording: a LiveStream recorded into an FLV file natively (the bytes never pass
// through JS; the file is written off the main thread). Made by `stream.record(path)`.

const { NativeRecording } = require('../binding.js');
const { NativeOutput } = require('./native-output.js');

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
class Recording extends NativeOutput {
  /**
   * @param {import('./stream.js').LiveStream} stream
   * @param {string} path
   * @param {{ queueLimit?: number }} [options]
   */
  constructor(stream, path, options = {}) {
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
    super(stream);
    this.path = path;
    this._start((done) => NativeRecording.start(stream._native, path, queueLimit, done));
  }

  /** @param {import('../binding.js').RecordResult} result */
  _describe(result) {
    return { path: this.path, durationMs: result.durationMs };
  }

  _error(err) {
    return Object.assign(err, { path: this.path });
  }
}

module.exports = { Recording };
