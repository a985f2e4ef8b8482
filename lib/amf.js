'use strict';

// AMF helpers with node-amfutils' names, implemented natively.

const native = require('../binding.js');
const { fromNative } = require('./errors.js');

/**
 * The native codecs, under node-amfutils' names (their types and docs: index.d.ts,
 * `amf`). Each rethrows a native error as an Error with its code (ERR_RTMP_AMF).
 */
const NAMES = [
  'amf0Encode',
  'amf0EncodeOne',
  'amf0Decode',
  'amf0DecodeOne',
  'amf3Encode',
  'amf3EncodeOne',
  'amf3Decode',
  'amf3DecodeOne',
  'encodeAmf0Cmd',
  'decodeAmf0Cmd',
  'encodeAmf3Cmd',
  'decodeAmf3Cmd',
  'decodeAmf0Data',
  'decodeAmf3Data',
  'decodeSharedObject',
  'encodeSharedObject',
];

const amf = {};
for (const name of NAMES) {
  const fn = native[name];
  if (typeof fn !== 'function') continue;
  amf[name] = (...args) => {
    try {
      return fn(...args);
    } catch (err) {
      throw fromNative(err);
    }
  };
}

/**
 * node-amfutils' classification of a JS value: 'null', 'undefined', 'integer',
 * 'double', 'true', 'false', 'string', 'sarray' (an Array marked strict), 'array' or
 * 'object'.
 * @param {unknown} o
 */
amf.amfType = function amfType(o) {
  if (o === null) return 'null';
  switch (typeof o) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Number.isInteger(o) ? 'integer' : 'double';
    case 'boolean':
      return o ? 'true' : 'false';
    case 'string':
      return 'string';
    default:
      if (Array.isArray(o)) return o.sarray ? 'sarray' : 'array';
      return 'object';
  }
};

module.exports = amf;
