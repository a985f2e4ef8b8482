'use strict';

// What a native output of a LiveStream (a Recording, an FlvPlayer) shares: it runs in
// the native layer until it ends, reports the end once ('error' first if it failed,
// then 'close' with its info), and can be stopped and asked for its queue.

const { EventEmitter } = require('node:events');
const { fromNative, rtmpError } = require('./errors.js');

class NativeOutput extends EventEmitter {
  /** @param {import('./stream.js').LiveStream} stream */
  constructor(stream) {
    super();
    this.stream = stream;
    /** True once it has ended ('close' emitted). */
    this.closed = false;
    this._closed = new Promise((resolve) => { this._resolveClosed = resolve; });
  }

  /**
   * Starts the native side: `start(done)` returns its handle and calls `done(result)`
   * once when it ends; a native error is thrown as a JS one.
   */
  _start(start) {
    try {
      this._native = start((result) => this._finish(result));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Info of the end beyond bytes, drops and error (a subclass adds its own). */
  _describe() {
    return {};
  }

  _finish(result) {
    this.closed = true;
    const info = {
      ...this._describe(result),
      bytes: result.bytes,
      dropped: { video: result.droppedVideo, audio: result.droppedAudio },
    };
    if (result.errorCode) info.error = this._error(rtmpError(result.errorCode, result.errorMessage));
    this._resolveClosed(info);
    if (info.error) this.emit('error', info.error);
    this.emit('close', info);
  }

  /** The error it ended on, as given to 'error' (a subclass may add fields). */
  _error(err) {
    return err;
  }

  /**
   * Ends it now: what is queued is written, then it finishes (a file is finalized, a
   * player's stream ends). Resolves the info 'close' gets.
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

module.exports = { NativeOutput };
