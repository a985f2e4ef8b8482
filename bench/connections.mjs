// Idle sessions: N clients complete the handshake and send connect to the example server
// and stay connected; prints the server's RSS per session. (compare.mjs runs the same
// workload against the peers: bench/workloads/connections.mjs.)
//
//   node bench/connections.mjs [--count N]

import { ours } from './lib/contenders.mjs'
import { run } from './workloads/connections.mjs'

const count = Number(process.argv[process.argv.indexOf('--count') + 1]) || 5000
const { rssPerSessionKb } = await run(ours, { sessions: count })
console.log(`sessions: ${count}`)
console.log(`RSS per idle session (growth over the second half): ${rssPerSessionKb.toFixed(1)} KB`)
