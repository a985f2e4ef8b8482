'use strict';

// Decoding of `chunk.msg` per message type (RTMP 1.0 §5.4, §7.1), with node-rtmpapi's
// field names. AMF payloads are decoded natively.

const native = require('../binding.js');

/** Handler keys by message type id (`chunk.msgTypeText`). */
const TYPE_TEXT = {
  1: 'setChunkSize',
  2: 'abort',
  3: 'ack',
  4: 'userControl',
  5: 'setWindowSize',
  6: 'setPeerBw',
  8: 'audio',
  9: 'video',
  15: 'amf3meta',
  16: 'amf3sobject',
  17: 'amf3cmd',
  18: 'amf0meta',
  19: 'amf0sobject',
  20: 'amf0cmd',
  22: 'agg',
};

/**
 * The tag header of an audio or video message, decoded natively on first access
 * (apps that never read `chunk.msg` of media pay nothing): legacy fields (soundFormat,
 * soundRate, soundSize, soundType, aacPacketType; frameType, codecId, avcPacketType,
 * compositionTime) and Enhanced RTMP ones (exHeader, packetType, fourCc,
 * timestampOffsetNanos, multitrackType, trackId), and payloadOffset: where the codec
 * data starts in `chunk.data`.
 *
 * The object is a Proxy over a plain object that has every field as an own property
 * (so `Object.keys`, spread and JSON see them); the first read, write or descriptor
 * look-up fills them in. Creating one costs three small objects, not 18 property
 * definitions, which matters at millions of messages per second.
 */
function lazyMediaHeader(type, data) {
  const fields = {
    exHeader: undefined, frameType: undefined, codecId: undefined, avcPacketType: undefined,
    soundFormat: undefined, soundRate: undefined, soundSize: undefined, soundType: undefined,
    aacPacketType: undefined, packetType: undefined, fourCc: undefined, compositionTime: undefined,
    timestampOffsetNanos: undefined, multitrackType: undefined, trackId: undefined, tracks: undefined,
    payloadOffset: undefined, malformed: undefined, role: undefined, config: undefined,
  };
  return new Proxy(fields, { __proto__: FILL_FIRST, type, data });
}

/** Fills the target's fields from the native decoder once (the handler holds type and data). */
function fill(handler, target) {
  if (handler.data === null) return;
  const header = native.decodeMediaHeader(handler.type, handler.data);
  handler.data = null;
  if (!header.exHeader && header.packetType !== undefined) {
    header[handler.type === 9 ? 'avcPacketType' : 'aacPacketType'] = header.packetType;
  }
  for (const key of Object.keys(target)) target[key] = header[key];
}

/** Proxy traps shared by every media header: decode, then do what was asked. */
const FILL_FIRST = {};
for (const trap of ['get', 'set', 'getOwnPropertyDescriptor', 'defineProperty', 'deleteProperty']) {
  FILL_FIRST[trap] = function (target, ...args) {
    fill(this, target);
    return Reflect[trap](target, ...args);
  };
}

/** User control event types (§7.1.7) whose 4-byte field is a timestamp. */
const PING_EVENTS = new Set([6, 7]);

/**
 * Decodes a message payload into node-rtmpapi's `chunk.msg` shape.
 * Throws (code ERR_RTMP_AMF / ERR_RTMP_MESSAGE) on malformed payloads.
 * @param {number} type
 * @param {Buffer} data
 */
function decodeMessage(type, data) {
  switch (type) {
    case 1:
      return { setChunkSize: data.readUInt32BE(0) & 0x7fffffff };
    case 2: {
      const csid = data.readUInt32BE(0);
      return { msgStreamId: csid, csid };
    }
    case 3:
      return { seq: data.readUInt32BE(0) };
    case 4: {
      const eventType = data.readUInt16BE(0);
      const value = data.length >= 6 ? data.readUInt32BE(2) : 0;
      const msg = { evenType: eventType, eventType };
      if (PING_EVENTS.has(eventType)) msg.timestamp = value;
      else msg.streamId = value;
      if (eventType === 3 && data.length >= 10) msg.buffLenMs = data.readUInt32BE(6);
      return msg;
    }
    case 5:
      return { windowSize: data.readUInt32BE(0) };
    case 6:
      return { peerBw: data.readUInt32BE(0), lType: data[4] };
    case 8:
    case 9:
      return lazyMediaHeader(type, data);
    case 15:
      return native.decodeAmf3Data(data);
    case 16:
    case 19:
      return native.decodeSharedObject(type, data);
    case 17:
      return native.decodeAmf3Cmd(data);
    case 18:
      return native.decodeAmf0Data(data);
    case 20:
      return native.decodeAmf0Cmd(data);
    default:
      return {};
  }
}

module.exports = { TYPE_TEXT, decodeMessage };
