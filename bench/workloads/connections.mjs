// Connections: N sessions that complete the handshake and send connect, then stay idle;
// the server's RSS per session (marginal: the growth over the second half of them).
import { command, rawSession } from '../../__test__/helpers/rtmp-client.mjs'
import { procStats, sleep } from '../lib/proc.mjs'

/**
 * Opens `count` idle sessions (100 at a time) to `port`; resolves their sockets once each
 * has had a reply to connect.
 */
export async function openIdle(port, count) {
  const socks = []
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => {
      let replied
      const gotReply = new Promise((r) => { replied = r })
      const s = rawSession(port, { afterHandshake: [command('connect', 1, 0, { cmdObj: { app: 'live', tcUrl: `rtmp://127.0.0.1:${port}/live` } })], onData: () => replied() })
      return Promise.race([s.ready.then(() => gotReply), sleep(10_000)]).then(() => s.sock)
    })
    socks.push(...(await Promise.all(batch)))
  }
  return socks
}

/**
 * Measures one contender: `sessions` idle sessions in two halves, RSS 1 s after each;
 * the per-session figure is the second half's growth (the marginal cost: the first half
 * also pays one-off growth such as V8's young generation and allocator arenas).
 */
export async function run(contender, { sessions = 2000 } = {}) {
  const server = await contender.start()
  const half = Math.max(1, sessions >> 1)
  let socks = []
  try {
    await sleep(500)
    const rss = () => procStats(server.child.pid).rssKb
    const before = rss()
    socks = await openIdle(server.port, half)
    await sleep(1000)
    const mid = rss()
    socks.push(...(await openIdle(server.port, half)))
    await sleep(1000)
    const alive = socks.filter((s) => !s.destroyed).length
    if (alive < 2 * half) throw new Error(`${contender.name}: only ${alive}/${2 * half} sessions stayed open`)
    const after = rss()
    return { rssPerSessionKb: (after - mid) / half, rssFirstHalfKb: (mid - before) / half }
  } finally {
    for (const s of socks) s.destroy()
    await server.stop()
  }
}
