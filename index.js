'use strict';

/**
 * node-rtmpapi: a native (Rust) RTMP toolkit for Node.js, a drop-in for the JavaScript
 * library of the same name. See README.md.
 */

const log = require('./lib/log.js');
const { rtmpServer, RtmpServer } = require('./lib/server.js');
const { rtmpSession, rtmpQueue, rtmpMessage, rtmpChunk } = require('./lib/detached.js');
const { Session } = require('./lib/session.js');
const { ChunkObject } = require('./lib/chunk.js');
const amf = require('./lib/amf.js');
const { LiveStream } = require('./lib/stream.js');
const { RtmpClient, parseRtmpUrl } = require('./lib/client.js');
const { createLiveServer, LiveServer, combineHooks } = require('./lib/live-server.js');
const { readFlv, FlvWriter } = require('./lib/flv.js');
const enhanced = require('./lib/enhanced.js');

module.exports = {
  log,
  rtmpServer,
  rtmpSession,
  rtmpQueue,
  rtmpChunk,
  rtmpMessage,
  amf,
  RtmpServer,
  Session,
  ChunkObject,
  LiveStream,
  createLiveServer,
  LiveServer,
  combineHooks,
  RtmpClient,
  parseRtmpUrl,
  readFlv,
  FlvWriter,
  enhanced,
};
