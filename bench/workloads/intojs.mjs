// Into JS: a raw publisher writes M pre-encoded ~200-byte audio messages (AAC raw frames,
// one 1-byte format-3 chunk header each) as fast as the socket takes them into
// node-rtmpapi's count server, whose JS 'audio' handler counts them: messages per second
// delivered to JS and the server's CPU time per message.
import { chunked, publisherOpening, rawSession, writeAll } from '../../__test__/helpers/rtmp-client.mjs'
import { procStats, sleep, startServer, stopProcess } from '../lib/proc.mjs'

const SIZE = 200
const BLOCK = 10_000

/** The audio stream: one format-0 message, one format-2 (delta 1 ms), then format-3 repeats. */
function* audioStream(count) {
  const payload = Buffer.alloc(SIZE, 0x5a)
  payload[0] = 0xaf // AAC, 44 kHz, 16 bit, stereo
  payload[1] = 0x01 // raw frame
  yield chunked(4, 8, 1, payload, { chunkSize: 4096 })
  yield Buffer.concat([Buffer.from([0x80 | 4, 0, 0, 1]), payload])
  const block = Buffer.concat(Array.from({ length: BLOCK }, () => Buffer.concat([Buffer.from([0xc0 | 4]), payload])))
  for (let left = count - 2; left > 0; left -= BLOCK) yield left >= BLOCK ? block : block.subarray(0, left * (SIZE + 1))
}

/** Resolves the next JSON line the count server prints. */
function nextReport(child) {
  return new Promise((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error('count server printed no report within 60 s')), 60_000)
    const onData = (d) => {
      buf += d
      const line = buf.split('\n').find((l) => l.startsWith('{'))
      if (line) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        resolve(JSON.parse(line))
      }
    }
    child.stdout.on('data', onData)
  })
}

/** Measures node-rtmpapi (the only contender with JS handlers per message). */
export async function run(contender, { messages = 2_000_000 } = {}) {
  if (contender.id !== 'ours') throw new Error('Into JS measures node-rtmpapi only')
  const { child, port } = await startServer(`${process.execPath} bench/contenders/count-server.js`)
  try {
    await sleep(300)
    const report = nextReport(child)
    const s0 = procStats(child.pid)
    const { sock, ready } = rawSession(port, { afterHandshake: publisherOpening(port, 'bench', 4096) })
    await ready
    await writeAll(sock, audioStream(messages))
    sock.end()
    const r = await report
    const s1 = procStats(child.pid)
    if (r.messages !== messages) throw new Error(`the count server's handler saw ${r.messages} of ${messages} messages`)
    return { msgsPerSec: r.messages / r.seconds, cpuUsPerMsg: 1e6 * (s1.cpu - s0.cpu) / r.messages }
  } finally {
    await stopProcess(child)
  }
}
