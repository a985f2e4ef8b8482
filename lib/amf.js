'use strict';

// AMF helpers with node-amfutils' names, implemented natively.

const native = require('../binding.js');
const { fromNative } = require('./errors.js');

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
  'amfType',
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

module.exports = amf;
