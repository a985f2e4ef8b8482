// Connections: N sessions that complete the handshake and send connect, then stay idle;
// the server's RSS per session.
import { command, rawSession } from '../lib/rtmp.mjs'
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

/** Measures one contender: RSS before and 1 s after `count` idle sessions connected. */
export async function run(contender, { sessions = 1000 } = {}) {
  const server = await contender.start()
  let socks = []
  try {
    await sleep(500)
    const before = procStats(server.child.pid).rssKb
    socks = await openIdle(server.port, sessions)
    await sleep(1000)
    const alive = socks.filter((s) => !s.destroyed).length
    if (alive < sessions) throw new Error(`${contender.name}: only ${alive}/${sessions} sessions stayed open`)
    const after = procStats(server.child.pid).rssKb
    return { rssPerSessionKb: (after - before) / sessions, rssBeforeKb: before, rssAfterKb: after }
  } finally {
    for (const s of socks) s.destroy()
    await server.stop()
  }
}
