// The smallest RTMP server a publisher needs, on the package's low-level API: connect,
// createStream, publish into one LiveStream per name (the replies FFmpeg waits for),
// deleteStream or a close ends the publication. For tests of what a LiveStream does
// with a publication (recording, HLS) without the live server's policy around it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { rtmpServer, LiveStream } = require('../../index.js');

/**
 * @param {Map<string, any>} streams - the LiveStreams by name, filled as publishers come
 * @param {(stream: any) => void} [beforePublish] - runs as each publication starts,
 *   before `setPublisher` (a recording started there has it from its first message)
 * @returns the RtmpServer, not yet listening
 */
export function publishServer(streams, beforePublish = () => {}) {
  return rtmpServer().createServer((session) => {
    const published = new Map();
    const end = (id) => {
      const stream = published.get(id);
      if (!stream) return;
      published.delete(id);
      stream.removePublisher(session);
    };
    const onCommand = (chunk) => {
      const { msg, msgStreamId } = chunk.chunk;
      const reply = (cmdObj, info) => chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId: msg.transId, cmdObj, info });
      switch (msg.cmd) {
        case 'connect':
          chunk.sendSetChunkSize(4096);
          reply({ fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success' });
          break;
        case 'releaseStream': case 'FCPublish': case 'FCUnpublish':
          reply(null, undefined);
          break;
        case 'createStream':
          reply(null, 1);
          break;
        case 'publish': {
          let stream = streams.get(msg.name);
          if (!stream) streams.set(msg.name, (stream = new LiveStream(msg.name)));
          beforePublish(stream);
          stream.setPublisher(session, msgStreamId);
          published.set(msgStreamId, stream);
          session.sendStatus(msgStreamId, { code: 'NetStream.Publish.Start', description: msg.name });
          break;
        }
        case 'deleteStream':
          end(msg.streamId);
          break;
        default:
      }
    };
    session.msg.loop(null, { amf0cmd: onCommand, amf3cmd: onCommand });
    session.on('error', () => {});
    session.on('close', () => { for (const id of [...published.keys()]) end(id); });
  });
}
