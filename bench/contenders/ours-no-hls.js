#!/usr/bin/env node
// examples/server.js's live server (`npm start`) with no HLS output (createLiveServer's
// `hls: false`): the baseline of the HLS workload, which takes the difference in CPU.
// Same contract as examples/server.js (PORT, RTMP_QUIET, the listening line).
'use strict';

const { createLiveServer, listenFromEnv } = require('../../examples/server.js');

listenFromEnv(createLiveServer({ hls: false }), 'RTMP server without HLS');
