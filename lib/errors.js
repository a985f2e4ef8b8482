'use strict';

/**
 * Native errors carry their stable code as a message prefix ("ERR_RTMP_CHUNK: ...").
 * Turn one into an Error with `code` set (TypeError for bad arguments).
 * @param {unknown} err
 * @returns {Error & { code?: string }}
 */
function fromNative(err) {
  if (!(err instanceof Error)) return new Error(String(err));
  const m = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(err.message);
  if (!m) return err;
  const out = m[1] === 'ERR_INVALID_ARG_VALUE' ? new TypeError(m[2]) : new Error(m[2]);
  out.code = m[1];
  return out;
}

/**
 * Builds an Error with a code.
 * @param {string} code
 * @param {string} message
 */
function rtmpError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

module.exports = { fromNative, rtmpError };
