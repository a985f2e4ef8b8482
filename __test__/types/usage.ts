// Compiled by __test__/types.test.mjs with `tsc --strict --noEmit`: every documented
// API, typed. A type error fails the test.
import * as net from 'node:net';
import {
  amf,
  log,
  rtmpServer,
  rtmpSession,
  rtmpQueue,
  rtmpMessage,
  rtmpChunk,
  LiveStream,
  RtmpClient,
  parseRtmpUrl,
  readFlv,
  FlvWriter,
  enhanced,
  type AmfDictionary,
  type ConnectCaps,
  type ChunkObject,
  type Command,
  type RtmpError,
  type Session,
} from '../../index';

const stream = new LiveStream('live/key', { gopCacheBytes: 1 << 20, flvMergeWritesMs: 0 });

const server = rtmpServer().createServer(function (this: Session, session: Session) {
  session.msg.loop(null, {
    amf0cmd(chunk) {
      const msg: Command = chunk.chunk.msg;
      const transId: number | undefined = msg.transId;
      if (msg.cmd === 'connect') {
        chunk.sendSetChunkSize(4096);
        chunk.sendSetWindowSize(2500000);
        chunk.sendSetPeerBw(2500000, 2);
        chunk.sendAmf0EncCmdMsg({ cmd: '_result', transId, cmdObj: { fmsVer: 'FMS/3,0,1,123' }, info: { code: 'NetConnection.Connect.Success' } });
        chunk.sendUserControlMsg(0, 1);
      } else if (msg.cmd === 'publish') {
        stream.setPublisher(session, chunk.chunk.msgStreamId);
      } else if (msg.cmd === 'play') {
        session.sendStreamBegin(chunk.chunk.msgStreamId);
        session.sendStatus(chunk.chunk.msgStreamId, { code: 'NetStream.Play.Start' });
        stream.addPlayer(session, chunk.chunk.msgStreamId);
      }
    },
    audio(chunk: ChunkObject<'audio'>) {
      const data: Buffer = chunk.chunk.data;
      const ts: number = chunk.chunk.timestamp;
      chunk.rtmpMsgSend({ msgType: 8, data, msgStreamId: 1, streamId: 4, timestamp: ts });
    },
    userControl(chunk) {
      const e: number = chunk.chunk.msg.eventType;
      void e;
    },
    amf0meta(chunk) {
      const values = chunk.chunk.msg.dec;
      void values;
    },
  });
  session.on('error', (err: RtmpError) => console.error(err.code));
  session.on('close', (hadError: boolean) => void hadError);
  const ok: boolean = session.sendVideo(Buffer.alloc(1), 0, 1) && session.sendAudio(Buffer.alloc(1)) && session.sendData(['onMetaData', { width: 1 }]);
  void ok;
  const q: number = session.queuedBytes + session.dropped.video;
  void q;
}, { handshakeTimeoutMs: 5000, maxMessageSize: 1 << 20, sendQueueLimit: 1 << 22, reusePort: true });

server.on('clientError', (err, session) => void [err.code, session.sock.remoteAddress]);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address) void address.port;
  server.close();
});
server.unref();

const sock = net.connect(1935, '127.0.0.1');
const s = rtmpSession(sock, true, function () {
  this.chunk(3).sendAmf0EncCmdMsg({ cmd: 'connect', transId: 1, cmdObj: { app: 'live' } });
});
void s.getTs();
const Q = rtmpQueue(sock);
Q(4, (data?: Buffer) => void data);
rtmpMessage({ Q, sock }).loop(null, {});
rtmpChunk({ sock }).read(null);
log(true, '1.2.3.4').log('x');

const bytes: Buffer = amf.amf0Encode([1, 'a', { b: null }]);
const decoded = amf.amf0DecodeOne(bytes);
const t: string = amf.amfType(decoded.value);
const dict: AmfDictionary = new Map<unknown, unknown>([[1, 'a']]);
const dictBytes: Buffer = amf.amf0EncodeOne({ tracks: dict });
const weak: boolean | undefined = (amf.amf3DecodeOne(amf.amf3EncodeOne(dict)).value as AmfDictionary).weakKeys;
const cmd: Command = amf.decodeAmf0Cmd(amf.encodeAmf0Cmd({ cmd: 'createStream', transId: 2, cmdObj: null }));
void [t, cmd];

async function client(): Promise<void> {
  const url = parseRtmpUrl('rtmp://127.0.0.1/live/key');
  const c = new RtmpClient();
  const info = await c.connect(`rtmp://${url.host}:${url.port}/${url.app}/${url.stream}`, { timeoutMs: 1000 });
  void info.code;
  await c.publish('key');
  for (const tag of readFlv('in.flv').tags) {
    if (tag.type === 9) c.sendVideo(tag.data, tag.timestamp);
    else if (!c.sendTag(tag)) await c.drain();
  }
  await c.drain();
  await c.close();
  const w = new FlvWriter('out.flv', { hasAudio: true });
  c.on('video', (data, ts) => w.write(9, ts, data));
  c.on('status', (i) => void i.code);
  w.close();

  // Origin/edge: a pulled stream relayed natively to a LiveStream's players.
  const pulled = new LiveStream('live/far');
  pulled.on('publish', (publisher: Session, msgStreamId: number) => void [publisher.closed, msgStreamId]);
  pulled.on('play', (player: Session, msgStreamId: number) => void [player, msgStreamId]);
  pulled.on('stop', (player: Session) => void [player, pulled.players.size]);
  const edge = new RtmpClient();
  await edge.connect('rtmp://origin.example.com/live/far');
  const started = await edge.play(undefined, { start: -1, relayTo: pulled });
  void started.code;
}
void client;

async function rtmps(cert: string, key: Buffer, ca: string): Promise<void> {
  const secureServer = rtmpServer().createServer(() => {}, { tls: { cert, key }, handshakeTimeoutMs: 5000 });
  secureServer.on('tlsClientError', (err: RtmpError) => console.error(err.code));
  const secure: boolean = secureServer.secure && parseRtmpUrl('rtmps://localhost/live/key').secure;
  const c = new RtmpClient();
  await c.connect('rtmps://localhost:1936/live/key', { tls: { ca: [ca], rejectUnauthorized: secure } });
}
void rtmps;

// Native recording (a separate import keeps this block apart from the list above).
import type { RecordingInfo } from '../../index';

async function recording(live: LiveStream): Promise<void> {
  const rec = live.record('/tmp/live.flv', { queueLimit: 8 << 20 });
  rec.on('error', (err: RtmpError) => console.error(err.code, rec.path));
  rec.on('close', (info: RecordingInfo) => void [info.bytes, info.durationMs, info.dropped.video, info.error?.code]);
  const { queuedBytes, dropped } = rec.stats();
  const done: RecordingInfo = await rec.stop();
  void [queuedBytes, dropped.audio, done.path, rec.closed, rec.stream.name];
}
void recording;

// Enhanced RTMP: negotiation and reconnect requests on both sides.
async function enhancedRtmp(): Promise<void> {
  rtmpServer().createServer((session: Session) => {
    session.msg.loop(null, {
      amf0cmd(chunk) {
        const msg: Command = chunk.chunk.msg;
        if (msg.cmd !== 'connect') return;
        const caps: ConnectCaps = session.acceptConnect(msg, { chunkSize: 4096, enhanced: { capsEx: enhanced.CAPS_EX.reconnect } });
        if (caps.capsEx & enhanced.CAPS_EX.reconnect) session.requestReconnect({ tcUrl: '/other', description: 'moving' });
        void session.clientCaps?.fourCcList;
      },
    });
  });
  const c = new RtmpClient({ enhanced: { videoFourCcInfoMap: { hvc1: enhanced.FOURCC_CAN.forward }, capsEx: 1 } });
  await c.connect('rtmp://127.0.0.1/live/key');
  const forwards: number | undefined = c.serverCaps?.videoFourCcInfoMap.hvc1;
  c.on('reconnect', ({ tcUrl }) => void [tcUrl.length, forwards]);
  const url: string = enhanced.resolveReconnectUrl('//edge/live', 'rtmp://origin/live');
  void [url, enhanced.connectProperties(true).capsEx, enhanced.VIDEO_FOURCCS[0], new RtmpClient({ enhanced: true })];
}
void enhancedRtmp;

// HLS output (a separate import keeps this block apart from the list above).
import { hlsHandler, HlsOutput } from '../../index';
import type { HlsStats } from '../../index';
import { createServer } from 'node:http';

function hlsOutput(live: LiveStream): void {
  const output: HlsOutput = live.hls({ partTargetMs: 300, segmentMinMs: 2000, window: 5, cors: false, blockTimeoutMs: 3000 });
  const handler = hlsHandler((key) => (key === live.name ? output : undefined), { prefix: '/hls/' });
  createServer((req, res) => {
    if (!handler(req, res)) void output.handle(req, res, 'index.m3u8').then(() => undefined);
  });
  const s: HlsStats = output.stats();
  void [s.prefix, s.segments, s.openMsn ?? -1, s.heldBytes, s.hasVideo, s.ended, s.skipped ?? '', output.closed];
  output.close();
}
void hlsOutput;

// Browser playback: HTTP-FLV and WebSocket-FLV.
import { createServer as createHttpServer } from 'node:http';
import { flvHttpHandler, type FlvPlayer, type FlvPlayerInfo } from '../../index';

function browserPlayback(live: LiveStream): void {
  const streams = new Map<string, LiveStream>([['live/key', live]]);
  const flv = flvHttpHandler({
    streams,
    cors: 'https://app.example',
    authorize: async (req, where) => where.app === 'live' && req.headers.authorization !== undefined,
    onPlayer: (p: FlvPlayer) => p.on('close', (info: FlvPlayerInfo) => void [info.bytes, info.dropped.video, info.error?.code]),
  });
  const http = createHttpServer((req, res) => {
    if (flv.request(req, res)) return;
    if (req.url === '/direct.flv') {
      const player = live.addFlvPlayer(req, res, { stays: false, queueLimit: 1 << 20 });
      void [player.transport, player.remoteAddress, player.stats().queuedBytes];
      void player.stop().then((info) => info.dropped.audio);
    }
  });
  http.on('upgrade', (req, socket, head) => {
    if (!flv.upgrade(req, socket, head)) live.addWebSocketFlvPlayer(req, socket, head, { cors: false })?.stop();
  });
  live.on('flvPlay', (p: FlvPlayer) => void p.closed);
  void [live.flvPlayers.size, live.stats().flvSinks];
}
void browserPlayback;

// HTTPS-FLV and WSS-FLV with TLS terminated natively.
import { createFlvHttpsServer, FlvHttpsServer } from '../../index';

function httpsPlayback(live: LiveStream, cert: Buffer, key: string): void {
  const flv = flvHttpHandler({ streams: new Map([['live/key', live]]) });
  const web: FlvHttpsServer = createFlvHttpsServer({ cert, key, keepAliveTimeout: 5000 }, (req, res) => {
    if (!flv.request(req, res)) res.end();
  });
  web.on('upgrade', (req, socket, head) => void flv.upgrade(req, socket, head));
  web.listen(8443, '127.0.0.1', () => void web.address()?.port);
  web.close((err) => void err?.message);
}
void httpsPlayback;

import { createLiveServer } from '../../index';

function liveHttp(): void {
  const live = createLiveServer({ authorize: ({ action, session, req }) => action === 'play' && (session !== null || req?.headers.cookie !== undefined) });
  const side = live.httpHandler({ cors: '*', playerPage: true });
  const web = createHttpServer((req, res) => void side.request(req, res));
  web.on('upgrade', (req, socket, head) => void side.upgrade(req, socket, head));
}
void liveHttp;
