// Types of node-rtmpapi: the compatible surface of the original library plus the
// EventEmitter face beside it.

/// <reference types="node" />
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/** An AMF value as JS sees it (strict arrays carry a non-enumerable `sarray: true`). */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | AmfValue[]
  | { [key: string]: AmfValue; __className__?: string };

/** A decoded command (`amf0cmd` / `amf3cmd`): `cmd`, `transId`, `cmdObj`, then the
 * fields named per command (see README); unknown commands keep the rest in `args`. */
export interface Command {
  cmd: string;
  transId?: number;
  cmdObj?: AmfValue;
  info?: AmfValue;
  args?: AmfValue;
  streamId?: number;
  streamName?: string;
  start?: number;
  duration?: number;
  reset?: boolean;
  params?: AmfValue;
  bool?: boolean;
  name?: string;
  type?: string;
  ms?: number;
  pause?: boolean;
  extra?: AmfValue[];
  [field: string]: AmfValue;
}

/** `amf0meta`/`amf3meta`: every value in `dec`, the first three named. */
export interface DataMessage {
  cmd: AmfValue;
  event: AmfValue;
  parms: AmfValue;
  dec: AmfValue[];
}

export interface UserControlMessage {
  /** node-rtmpapi's spelling, kept. */
  evenType: number;
  eventType: number;
  streamId?: number;
  timestamp?: number;
  buffLenMs?: number;
}

/** `chunk.msg` of 'audio' and 'video': the tag header (decoded on first access). */
export interface MediaHeader {
  /** Enhanced RTMP ExHeader form. */
  exHeader: boolean;
  /** Video: 1 keyframe, 2 inter frame, 3 disposable, 4 generated keyframe, 5 command. */
  frameType?: number;
  /** Legacy video codec id (7 AVC). */
  codecId?: number;
  avcPacketType?: number;
  /** Legacy audio: 10 AAC, 2 MP3, ... */
  soundFormat?: number;
  soundRate?: number;
  soundSize?: number;
  soundType?: number;
  aacPacketType?: number;
  /** Legacy AVC/AAC packet type, or the Enhanced RTMP packet type. */
  packetType?: number;
  /** Enhanced RTMP FourCC: 'avc1', 'hvc1', 'av01', 'vp09', 'vp08', 'vvc1', 'Opus', 'fLaC', 'ac-3', 'ec-3', 'mp4a', '.mp3'. */
  fourCc?: string;
  compositionTime?: number;
  timestampOffsetNanos?: number;
  multitrackType?: number;
  trackId?: number;
  /** Multitrack: every track, with where its data starts in `chunk.data` and its size. */
  tracks?: { trackId: number; fourCc: string; offset: number; size: number }[];
  /** Where the codec data starts in `chunk.data`. */
  payloadOffset: number;
  /** The header is shorter than its form requires. */
  malformed: boolean;
}

/** `chunk.msg` per handler key. */
export interface MessageByType {
  setChunkSize: { setChunkSize: number };
  abort: { msgStreamId: number; csid: number };
  ack: { seq: number };
  userControl: UserControlMessage;
  setWindowSize: { windowSize: number };
  setPeerBw: { peerBw: number; lType: number };
  audio: MediaHeader;
  video: MediaHeader;
  amf3meta: DataMessage;
  amf3sobject: SharedObjectMessage;
  amf3cmd: Command;
  amf0meta: DataMessage;
  amf0sobject: SharedObjectMessage;
  amf0cmd: Command;
  agg: Record<string, never>;
  unknown: Record<string, never>;
}

export type MsgTypeText = keyof MessageByType;

/** The session's chunk sizes and windows (one object shared by its chunk objects). */
export interface ChunkSize {
  rcv: number;
  snd: number;
  rcvWinSize: number;
  sndWinSize: number;
}

/** The message just completed on a chunk stream. */
export interface ChunkInfo<K extends MsgTypeText = MsgTypeText> {
  data: Buffer;
  /** Absolute timestamp in ms. */
  timestamp: number;
  msgLen: number;
  msgType: number;
  msgTypeText: K;
  /** The chunk stream id (CSID), despite the name. */
  streamId: number;
  msgStreamId: number;
  fmt: number;
  msg: MessageByType[K];
  msgComplete: number;
  msgLeft: number;
  chunkSize: ChunkSize;
}

export interface OutgoingMessage {
  msgType: number;
  data: Buffer | Uint8Array;
  msgStreamId?: number;
  /** The chunk stream id to send on (node-rtmpapi's name). */
  streamId?: number;
  /** Defaults to `session.getTs()`. */
  timestamp?: number;
}

/** One per chunk stream id of a session, reused for every message on it. Send methods
 * return false past the send high-water mark, like `socket.write`. */
export declare class ChunkObject<K extends MsgTypeText = MsgTypeText> {
  readonly session: Session;
  chunk: ChunkInfo<K>;
  sendSetChunkSize(size: number): boolean;
  sendAbortMsg(csid: number): boolean;
  sendAckMsg(): boolean;
  sendSetWindowSize(size: number): boolean;
  sendSetPeerBw(size: number, lType?: number): boolean;
  sendUserControlMsg(eventType: number, streamId?: number, buffLenMs?: number): boolean;
  sendAmf0EncCmdMsg(cmd: Command, timestamp?: number): boolean;
  rtmpMsgSend(msg: OutgoingMessage): boolean;
  rtmpMsg0Send(msg: OutgoingMessage, ts?: number): boolean;
  rtmpMsg1Send(msg: OutgoingMessage, ts?: number): boolean;
  rtmpMsg2Send(msg: OutgoingMessage, ts?: number): boolean;
  rtmpMsg3Send(msg: OutgoingMessage, ts?: number): boolean;
  rtmpChunkSend(fmt: number, csid: number, data: Buffer): boolean;
}

export type Handlers = { [K in MsgTypeText]?: (this: ChunkObject<K>, chunk: ChunkObject<K>) => void };

export interface MessageReader {
  readonly session: Session;
  /** Reads one message: `cb` first, then the handler for its `msgTypeText`. */
  read(cb: ((chunk: ChunkObject) => void) | null, handlers?: Handlers): void;
  /** Reads every message for the life of the session. */
  loop(cb: ((chunk: ChunkObject) => void) | null, handlers?: Handlers): void;
}

/** What apps use of a session's socket. */
export interface SessionSocket extends EventEmitter {
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
  localAddress?: string;
  localPort?: number;
  destroyed: boolean;
  readonly bytesRead?: number;
  end(cb?: () => void): this;
  destroy(err?: Error): this;
}

/** An error with a stable code, e.g. ERR_RTMP_CHUNK, ERR_RTMP_LIMIT, ERR_RTMP_HANDSHAKE. */
export interface RtmpError extends Error {
  code: string;
}

export declare class Session extends EventEmitter {
  msg: MessageReader;
  sock: SessionSocket;
  Q: ReadQueue;
  isClient: boolean;
  log: Logger;
  chunkSize: ChunkSize;
  closed: boolean;
  readonly bytesReceived: number;
  /** ms since the session started. */
  getTs(): number;
  /** The chunk object of a chunk stream id (made on first use). */
  chunk(csid: number): ChunkObject;
  /** Bytes waiting to be written to the peer. */
  readonly queuedBytes: number;
  /** Bytes/messages in, bytes out (relayed media included), last ping RTT, dropped media, uptime, average bitrates. */
  stats(): {
    bytesIn: number;
    bytesOut: number;
    messagesIn: number;
    rttMs?: number;
    droppedVideo: number;
    droppedAudio: number;
    queuedBytes: number;
    uptimeMs: number;
    kbpsIn: number;
    kbpsOut: number;
  };
  /** Sends a PingRequest; the PingResponse sets `stats().rttMs`. */
  ping(): boolean;
  /** Media frames the send queue dropped for this (slow) peer. */
  readonly dropped: { video: number; audio: number };
  /** Audio (type 8) on chunk stream 4, with its own timestamp, on message stream `msgStreamId` (default 1). */
  sendAudio(data: Buffer | Uint8Array, timestamp?: number, msgStreamId?: number): boolean;
  /** Video (type 9) on chunk stream 6. */
  sendVideo(data: Buffer | Uint8Array, timestamp?: number, msgStreamId?: number): boolean;
  /** Data (type 18) on chunk stream 5: AMF0 bytes, or values to encode (e.g. ['onMetaData', {...}]). */
  sendData(data: Buffer | AmfValue[], timestamp?: number, msgStreamId?: number): boolean;
  /** An aggregate message (type 22) of parts, timestamped with the first part's; receivers get the parts as their own messages. */
  sendAggregate(parts: { type: number; timestamp: number; data: Buffer }[], msgStreamId?: number): boolean;
  /** A command (AMF0, type 20), by default on chunk stream 3, message stream 0. */
  sendCommand(cmd: Command, options?: { msgStreamId?: number; csid?: number; timestamp?: number }): boolean;
  /** `onStatus` on a message stream; `info` is merged over `{ level: 'status' }`. */
  sendStatus(msgStreamId: number, info: { code: string; level?: string; description?: string; [k: string]: AmfValue }): boolean;
  sendStreamBegin(msgStreamId: number): boolean;
  sendStreamEof(msgStreamId: number): boolean;
  sendSetBufferLength(msgStreamId: number, ms: number): boolean;
  end(): void;
  destroy(): void;
  on(event: 'message', listener: (chunk: ChunkObject) => void): this;
  on(event: 'command', listener: (cmd: Command, chunk: ChunkObject) => void): this;
  on(event: 'data', listener: (data: DataMessage, chunk: ChunkObject) => void): this;
  on(event: 'audio' | 'video', listener: (msg: MediaHeader, chunk: ChunkObject) => void): this;
  on(event: 'error', listener: (err: RtmpError) => void): this;
  on(event: 'close', listener: (hadError: boolean) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** A live stream relayed natively from one publisher to many players. */
export declare class LiveStream extends EventEmitter {
  constructor(name?: string, options?: { gopCacheBytes?: number });
  readonly name: string;
  publisher: Session | null;
  /** Players and the message stream id each plays on. */
  players: Map<Session, number>;
  /** Forwards the publisher's audio/video/data on `msgStreamId` to every player, natively. Throws ERR_RTMP_STREAM_BUSY if another session publishes. */
  setPublisher(session: Session, msgStreamId: number, options?: { emit?: boolean }): void;
  removePublisher(session?: Session): void;
  /** Metadata, decoder configurations and the cached GOP go out at once, then live media. */
  addPlayer(session: Session, msgStreamId: number): void;
  removePlayer(session: Session): void;
  stats(): { players: number; messages: number; gopMessages: number; gopBytes: number };
  /** A publisher was set (its media on `msgStreamId` is relayed). */
  on(event: 'publish', listener: (session: Session, msgStreamId: number) => void): this;
  /** The publisher left (removePublisher, or its session closed). */
  on(event: 'unpublish', listener: (session: Session) => void): this;
  /** A player was added (the cached metadata, configurations and GOP are queued for it). */
  on(event: 'play', listener: (session: Session, msgStreamId: number) => void): this;
  /** A player was removed (removePlayer, or its session closed). */
  on(event: 'stop', listener: (session: Session) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** Limits and timeouts of a server (defaults in README). */
export interface ServerOptions {
  handshakeTimeoutMs?: number;
  /** Close an established session that receives nothing for this long (default: never). */
  idleTimeoutMs?: number;
  /** Most connections at once (default 100000); more are closed as they arrive. */
  maxConnections?: number;
  maxMessageSize?: number;
  maxChunkStreams?: number;
  maxBufferedBytes?: number;
  inFlightBatches?: number;
  sendHighWater?: number;
  maxSendBuffer?: number;
  /** Queued bytes past which relayed media is dropped for a slow player. */
  sendQueueLimit?: number;
  /**
   * Listen with SO_REUSEPORT, so that other processes listening the same way share the
   * port; on Linux the kernel spreads connections across them. Default: true in a
   * `node:cluster` worker (except on Windows, which lacks it), else false. Asking for
   * it where the OS lacks it makes `listen` emit an ERR_RTMP_SOCKET error.
   */
  reusePort?: boolean;
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

/** A net.Server-like RTMP server. */
export declare class RtmpServer extends EventEmitter {
  listening: boolean;
  listen(port?: number, host?: string, callback?: () => void): this;
  listen(port: number, callback: () => void): this;
  listen(options: { port?: number; host?: string }, callback?: () => void): this;
  close(callback?: (err?: Error) => void): this;
  address(): AddressInfo | null;
  getConnections(cb: (err: Error | null, count: number) => void): this;
  ref(): this;
  unref(): this;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'connection', listener: (sock: SessionSocket, session: Session) => void): this;
  on(event: 'error', listener: (err: RtmpError) => void): this;
  /** A session error nobody listened for on the session or its socket. */
  on(event: 'clientError', listener: (err: RtmpError, session: Session) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface Logger {
  log(...args: unknown[]): void;
  debug(level: boolean | number): void;
  raddr(addr: string): void;
}

export interface ReadQueue {
  (len: number, cb: (data?: Buffer) => void): void;
  recvBytes: number;
  ackBytes: number;
  chunkSize: number;
  defaultCb: ((data: Buffer) => void) | null;
  getBufLen(): number;
  read(n: number): Buffer | null;
  tryRead(): void;
  push(data: Buffer): void;
}

export declare function log(debug?: boolean, remoteAddr?: string): Logger;
export declare function rtmpServer(): {
  createServer(cb?: (this: Session, session: Session) => void, options?: ServerOptions): RtmpServer;
};
export declare function rtmpSession(
  sock: Duplex,
  isClient: boolean | number,
  cb?: (this: Session, session: Session) => void,
): Session;
export declare function rtmpQueue(sock: Duplex): ReadQueue;
export declare function rtmpMessage(opt: { Q?: ReadQueue; sock: Duplex; debug?: boolean; isClient?: boolean }): MessageReader;
export declare function rtmpChunk(opt: { Q?: ReadQueue; sock: Duplex; debug?: boolean; isClient?: boolean }): MessageReader;

/** AMF helpers with node-amfutils' names. */
export declare const amf: {
  amf0Encode(values: AmfValue[]): Buffer;
  amf0EncodeOne(value: AmfValue): Buffer;
  amf0Decode(buf: Buffer): AmfValue[];
  amf0DecodeOne(buf: Buffer): { len: number; value: AmfValue };
  /** AMF3: integers within 29 bits as Integer, Buffers as ByteArray, Dates as Date; vectors decode to Arrays, a Dictionary to an Array of [key, value]. */
  amf3Encode(values: unknown[]): Buffer;
  amf3EncodeOne(value: unknown): Buffer;
  amf3Decode(buf: Buffer): unknown[];
  amf3DecodeOne(buf: Buffer): { len: number; value: unknown };
  encodeAmf0Cmd(cmd: Command): Buffer;
  decodeAmf0Cmd(buf: Buffer): Command;
  encodeAmf3Cmd(cmd: Command): Buffer;
  decodeAmf3Cmd(buf: Buffer): Command;
  decodeAmf0Data(buf: Buffer): DataMessage;
  decodeAmf3Data(buf: Buffer): DataMessage;
  amfType(value: AmfValue): string;
  /** Shared object messages (RTMP 1.0 §7.1.3): type 19, or 16 (AMF3, a leading format byte). */
  decodeSharedObject(type: 16 | 19, buf: Buffer): SharedObjectMessage;
  encodeSharedObject(msg: SharedObjectMessage, amf3?: boolean): Buffer;
};

/** A shared object message: event types 1 use, 2 release, 3 requestChange, 4 change,
 * 5 success, 6 sendMessage, 7 status, 8 clear, 9 remove, 10 requestRemove, 11 useSuccess. */
export interface SharedObjectMessage {
  name: string;
  version?: number;
  persistent?: boolean;
  events: { type: number; typeText?: string; name?: string; data?: Record<string, AmfValue>; values?: AmfValue[] }[];
}

/** The parts of rtmp://host[:port]/app[/instance]/stream. */
export interface RtmpUrl {
  host: string;
  port: number;
  /** Every path segment but the last. */
  app: string;
  /** The last path segment, with its query string. */
  stream: string;
  tcUrl: string;
}

/** Splits an rtmp:// URL; throws a TypeError (code ERR_INVALID_URL) for anything else. */
export declare function parseRtmpUrl(url: string): RtmpUrl;

/** An onStatus/_result info object. */
export interface StatusInfo {
  level?: string;
  code: string;
  description?: string;
  [key: string]: AmfValue;
}

/**
 * An RTMP client: connect by URL, then publish or play. Commands are matched to their
 * `_result`/`_error` by transaction id; failures reject with a code
 * (ERR_RTMP_COMMAND, ERR_RTMP_PUBLISH, ERR_RTMP_PLAY, ERR_RTMP_TIMEOUT, ERR_RTMP_CLOSED,
 * ERR_RTMP_SOCKET) and an `info` when the server sent one. Its socket runs natively.
 */
export declare class RtmpClient extends EventEmitter {
  session: Session | null;
  /** The message stream id createStream returned. */
  streamId: number;
  url?: RtmpUrl;
  connect(url: string, options?: { timeoutMs?: number; flashVer?: string }): Promise<StatusInfo>;
  /** releaseStream, FCPublish, createStream, publish; resolves on NetStream.Publish.Start. */
  publish(name?: string, type?: 'live' | 'record' | 'append'): Promise<StatusInfo>;
  /**
   * createStream, then play; resolves on NetStream.Play.Start, rejects with ERR_RTMP_PLAY on an
   * error status. `start`: -2 live or recorded (default), -1 live only, >= 0 a recording
   * from that ms. With `relayTo`, the media goes natively to that LiveStream's players
   * (the client's session becomes its publisher before `play` is sent) instead of the
   * 'audio'/'video'/'data' events: an origin/edge pull.
   */
  play(name?: string, options?: { start?: number; relayTo?: LiveStream }): Promise<StatusInfo>;
  sendAudio(data: Buffer | Uint8Array, timestamp: number): boolean;
  sendVideo(data: Buffer | Uint8Array, timestamp: number): boolean;
  sendData(data: Buffer | AmfValue[], timestamp?: number): boolean;
  /**
   * Sends an FLV tag (from readFlv) on the published stream by its type: audio (8),
   * video (9) or script data (18, sent as `@setDataFrame` + payload). Throws a
   * RangeError for other types. Returns false past the high-water mark.
   */
  sendTag(tag: Pick<FlvTag, 'type' | 'timestamp' | 'data'>): boolean;
  /** Resolves once what was sent has been written to the socket. */
  drain(): Promise<void>;
  close(): Promise<void>;
  on(event: 'audio' | 'video', listener: (data: Buffer, timestamp: number) => void): this;
  on(event: 'data', listener: (msg: DataMessage, data: Buffer, timestamp: number) => void): this;
  on(event: 'status', listener: (info: StatusInfo) => void): this;
  on(event: 'command', listener: (cmd: Command) => void): this;
  on(event: 'error', listener: (err: RtmpError) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** One FLV tag. */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  timestamp: number;
  size: number;
  data: Buffer;
  offset: number;
}

/** Reads an FLV file or buffer into its tags; throws (code ERR_FLV_FORMAT) on a malformed file. */
export declare function readFlv(bufferOrPath: Buffer | Uint8Array | string): {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
  tags: FlvTag[];
};

/** Writes received messages into an FLV file (header, tags, PreviousTagSize fields). */
export declare class FlvWriter {
  constructor(path: string, options?: { hasAudio?: boolean; hasVideo?: boolean });
  readonly bytes: number;
  readonly tags: number;
  /** Appends a message; `@setDataFrame` data messages are written as `onMetaData`. */
  write(type: number, timestamp: number, data: Buffer): void;
  close(): void;
}

/** Enhanced RTMP v2 negotiation helpers. */
export declare const enhanced: {
  FOURCC_CAN: { decode: number; encode: number; forward: number };
  CAPS_EX: { reconnect: number; multitrack: number; modEx: number; timestampNanoOffset: number };
  /** Reads fourCcList, videoFourCcInfoMap, audioFourCcInfoMap and capsEx of a connect command object. */
  readConnectCaps(cmdObj?: Record<string, unknown>): {
    fourCcList: string[];
    videoFourCcInfoMap: Record<string, number>;
    audioFourCcInfoMap: Record<string, number>;
    capsEx: number;
    enhanced: boolean;
  };
  /** The properties to merge into the connect _result command object. */
  connectResultProperties(
    caps: ReturnType<typeof enhanced.readConnectCaps>,
    server?: { video?: string[]; audio?: string[]; can?: number; capsEx?: number },
  ): { fourCcList: string[]; videoFourCcInfoMap: Record<string, number>; audioFourCcInfoMap: Record<string, number>; capsEx: number };
  /** The onStatus NetConnection.Connect.ReconnectRequest command. */
  reconnectRequest(options?: { tcUrl?: string; description?: string }): Command;
};
