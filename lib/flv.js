'use strict';

// FLV files (FLV spec v10.1, annex E): read a file into timed messages, write received
// messages into a valid file (header, tags, PreviousTagSize fields).

const { readFileSync, openSync, writeSync, closeSync } = require('node:fs');

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;

/**
 * @typedef {object} FlvTag
 * @property {number} type      8 audio, 9 video, 18 script data (the filter bit masked off)
 * @property {number} timestamp ms: the 24-bit field, with TimestampExtended as bits 24..31
 * @property {number} size      payload bytes
 * @property {Buffer} data      the payload, a subarray of the input (no copy)
 * @property {number} offset    byte offset of the tag header in the input
 */

/**
 * Parses an FLV file or buffer into its tags (E.2 header, E.3 body). Validates the
 * signature, the header size and every PreviousTagSize; throws an Error (code
 * ERR_FLV_FORMAT) naming the offset on any mismatch or truncation.
 * @param {Buffer | Uint8Array | string} bufferOrPath
 * @returns {{ version: number, hasAudio: boolean, hasVideo: boolean, tags: FlvTag[] }}
 */
function readFlv(bufferOrPath) {
  const buf = typeof bufferOrPath === 'string'
    ? readFileSync(bufferOrPath)
    : Buffer.from(bufferOrPath.buffer, bufferOrPath.byteOffset, bufferOrPath.byteLength);
  const fail = (message) => Object.assign(new Error(`FLV: ${message}`), { code: 'ERR_FLV_FORMAT' });
  if (buf.length < 13) throw fail(`too short (${buf.length} bytes)`);
  if (buf.toString('latin1', 0, 3) !== 'FLV') throw fail('bad signature');
  const version = buf[3];
  const flags = buf[4];
  const headerSize = buf.readUInt32BE(5);
  if (headerSize < 9 || headerSize + 4 > buf.length) throw fail(`bad header size ${headerSize}`);
  let pos = headerSize;
  const prev0 = buf.readUInt32BE(pos);
  if (prev0 !== 0) throw fail(`PreviousTagSize0 is ${prev0}, expected 0`);
  pos += 4;
  const tags = [];
  while (pos < buf.length) {
    if (pos + 11 > buf.length) throw fail(`truncated tag header at ${pos}`);
    const type = buf[pos] & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    const timestamp = buf[pos + 7] * 0x1000000 + buf.readUIntBE(pos + 4, 3);
    const end = pos + 11 + size;
    if (end + 4 > buf.length) throw fail(`truncated tag (type ${type}, ${size} bytes) at ${pos}`);
    const prev = buf.readUInt32BE(end);
    if (prev !== 11 + size) throw fail(`PreviousTagSize ${prev} != ${11 + size} after tag at ${pos}`);
    tags.push({ type, timestamp, size, data: buf.subarray(pos + 11, end), offset: pos });
    pos = end + 4;
  }
  return { version, hasAudio: (flags & 0x04) !== 0, hasVideo: (flags & 0x01) !== 0, tags };
}

/** One tag: 11-byte header (E.4.1), payload, PreviousTagSize. */
function encodeTag(type, timestamp, data) {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = (timestamp >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + data.length);
  return [head, data, prev];
}

/**
 * Writes messages into an FLV file as they arrive. Data messages that start with
 * `@setDataFrame` are written without it (players read `onMetaData`).
 */
class FlvWriter {
  /**
   * @param {string} path
   * @param {{ hasAudio?: boolean, hasVideo?: boolean }} [options]
   */
  constructor(path, { hasAudio = true, hasVideo = true } = {}) {
    this.fd = openSync(path, 'w');
    this.bytes = 0;
    this.tags = 0;
    const header = Buffer.from([0x46, 0x4c, 0x56, 1, (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0), 0, 0, 0, 9, 0, 0, 0, 0]);
    this._write([header]);
  }

  _write(parts) {
    for (const p of parts) {
      writeSync(this.fd, p);
      this.bytes += p.length;
    }
  }

  /**
   * Appends one message as a tag.
   * @param {number} type - 8 audio, 9 video, 18 data
   * @param {number} timestamp - ms
   * @param {Buffer} data
   */
  write(type, timestamp, data) {
    if (this.fd === null) throw Object.assign(new Error('FLV writer is closed'), { code: 'ERR_FLV_CLOSED' });
    let payload = data;
    if (type === TAG_SCRIPT && data.subarray(0, SET_DATA_FRAME.length).equals(SET_DATA_FRAME)) {
      payload = data.subarray(SET_DATA_FRAME.length);
    }
    this._write(encodeTag(type, timestamp >>> 0, payload));
    this.tags += 1;
  }

  /** Closes the file. */
  close() {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** `@setDataFrame` as an AMF0 string. */
const SET_DATA_FRAME = Buffer.from('02000d4073657444617461467261' + '6d65', 'hex');

module.exports = { readFlv, FlvWriter, TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT, SET_DATA_FRAME };
