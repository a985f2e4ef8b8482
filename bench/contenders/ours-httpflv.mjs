#!/usr/bin/env node
// node-rtmpapi with HTTP-FLV / WebSocket-FLV as a benchmark contender: RTMP publishers
// into LiveStreams, flvHttpHandler on HTTP_PORT serving /live/<name>.flv (the FLV
// test server, __test__/helpers/flv-server.mjs). Prints "listening on rtmp://…" (the
// contract bench/README.md describes).
import { startFlvServer } from '../../__test__/helpers/flv-server.mjs'

const server = await startFlvServer({ rtmpPort: Number(process.env.PORT) || 0, httpPort: Number(process.env.HTTP_PORT) || 0 })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
console.log(`node-rtmpapi listening on rtmp://127.0.0.1:${server.rtmpPort}/live and http://127.0.0.1:${server.httpPort}/live`)
