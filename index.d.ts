// Types of node-rtmpapi: the compatible surface of the original library plus the
// EventEmitter face beside it.

/// <reference types="node" />
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Server as HttpServer } from 'node:http';
import type { IncomingMessage, RequestListener, ServerOptions as HttpServerOptions, ServerResponse } from 'node:http';

/** An AMF value as JS sees it (strict arrays carry a non-enumerable `sarray: true`; a
 * Map is an AMF3 Dictionary, in AMF0 behind the 0x11 switch). */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | AmfValue[]
  | AmfDictionary
  | { [key: string]: AmfValue; __className__?: string };

/** An AMF3 Dictionary (AMF 3 §3.16) as JS sees it: a `Map` whose keys are values of any
 * AMF type (numbers, strings, objects, Buffers, Maps...), in the Dictionary's order.
 * `weakKeys` is its weak-keys flag: decoded Maps always have it (own, non-enumerable,
 * writable); a Map encodes with the flag set only when its own `weakKeys` is `true`.
 * References to one Dictionary decode to equal, distinct Maps; encoding writes every Map
 * inline. */
export type AmfDictionary = Map<unknown, unknown> & { weakKeys?: boolean };

/** A decoded command (`amf0cmd` / `amf3cmd`): `cmd`, `transId`, `cmdObj`, then the
 * fields named per command (see README); unknown commands keep the rest in `args`. */
export interface Command {
  /** The command name: 'connect', 'createStream', 'publish', 'play', '_result', 'onStatus', ... */
  cmd: string;
  /** Transaction id; replies (`_result`, `_error`) carry the request's. */
  transId?: number;
  /** The command object (connect: app, tcUrl, flashVer, ...), or null. */
  cmdObj?: AmfValue;
  /** `_result`, `_error`, `onStatus`, `onFCPublish`: the result or status info. */
  info?: AmfValue;
  /** `connect`, `call`: the optional arguments; unknown commands: every value after `cmdObj`. */
  args?: AmfValue;
  /** `releaseStream`, `FCPublish`, `deleteStream`, `getStreamLength`, `getMovLen`, `_error`: the stream (a name or a message stream id). */
  streamId?: number;
  /** `play`: the stream name (with its query string). */
  streamName?: string;
  /** `play`: -2 live or recorded, -1 live only, >= 0 a recording from that ms. */
  start?: number;
  /** `play`: how long to play (-1 to the end). */
  duration?: number;
  /** `play`: whether to flush a previous playlist. */
  reset?: boolean;
  /** `play2`: the parameters object. */
  params?: AmfValue;
  /** `receiveAudio`, `receiveVideo`: whether to receive. */
  bool?: boolean;
  /** `publish`: the stream name (with its query string). */
  name?: string;
  /** `publish`: 'live', 'record' or 'append'. */
  type?: string;
  /** `seek`, `pause`: the position in ms. */
  ms?: number;
  /** `pause`: true to pause, false to resume. */
  pause?: boolean;
  /** Values past the named fields of a known command. */
  extra?: AmfValue[];
  [field: string]: AmfValue;
}

/** `amf0meta`/`amf3meta`: every value in `dec`, the first three named. */
export interface DataMessage {
  /** The first value, e.g. '@setDataFrame' or 'onMetaData'. */
  cmd: AmfValue;
  /** The second value, e.g. 'onMetaData' after '@setDataFrame'. */
  event: AmfValue;
  /** The third value, e.g. the metadata object. */
  parms: AmfValue;
  /** Every value, in order. */
  dec: AmfValue[];
}

/** A User Control message (RTMP 1.0 §7.1.7): `chunk.msg` of `userControl`. */
export interface UserControlMessage {
  /** node-rtmpapi's spelling, kept. */
  evenType: number;
  /** 0 StreamBegin, 1 StreamEOF, 2 StreamDry, 3 SetBufferLength, 4 StreamIsRecorded, 6 PingRequest, 7 PingResponse. */
  eventType: number;
  /** The message stream the event is about (stream events). */
  streamId?: number;
  /** PingRequest/PingResponse: the timestamp to echo. */
  timestamp?: number;
  /** SetBufferLength: the buffer length in ms. */
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
  /** Legacy AVC/HEVC: 0 sequence header, 1 NALUs, 2 end of sequence. */
  avcPacketType?: number;
  /** Legacy audio: 10 AAC, 2 MP3, ... */
  soundFormat?: number;
  /** Legacy audio: 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz. */
  soundRate?: number;
  /** Legacy audio: 0 8-bit, 1 16-bit samples. */
  soundSize?: number;
  /** Legacy audio: 0 mono, 1 stereo. */
  soundType?: number;
  /** Legacy AAC: 0 sequence header (AudioSpecificConfig), 1 raw frames. */
  aacPacketType?: number;
  /** Legacy AVC/AAC packet type, or the Enhanced RTMP packet type. */
  packetType?: number;
  /** Enhanced RTMP FourCC: 'avc1', 'hvc1', 'av01', 'vp09', 'vp08', 'vvc1', 'Opus', 'fLaC', 'ac-3', 'ec-3', 'mp4a', '.mp3'. */
  fourCc?: string;
  /** AVC/HEVC composition time offset in ms (pts - dts). */
  compositionTime?: number;
  /** Enhanced RTMP ModEx: the nanosecond offset added to the timestamp. */
  timestampOffsetNanos?: number;
  /** Enhanced RTMP multitrack: 0 one track, 1 many tracks one codec, 2 many tracks many codecs. */
  multitrackType?: number;
  /** Enhanced RTMP multitrack: the first track's id. */
  trackId?: number;
  /**
   * What the message is to a player, as the relay classifies it (legacy and Enhanced
   * RTMP, ModEx and multitrack unwrapped): a decoder configuration (or its end), a
   * keyframe, another video frame, an audio frame.
   */
  role: 'config' | 'keyframe' | 'frame' | 'audio';
  /** For a 'config': what it carries. */
  config?: 'sequenceStart' | 'multichannelConfig' | 'metadata' | 'sequenceEnd';
  /** Multitrack: every track, with where its data starts in `chunk.data` and its size. */
  tracks?: { trackId: number; fourCc: string; offset: number; size: number }[];
  /** Where the codec data starts in `chunk.data`. */
  payloadOffset: number;
  /** The header is shorter than its form requires. */
  malformed: boolean;
}

/** `chunk.msg` per handler key. */
export interface MessageByType {
  /** Type 1: the peer's new chunk size (applied to `chunkSize.rcv`). */
  setChunkSize: { setChunkSize: number };
  /** Type 2: the chunk stream whose partial message was discarded (`msgStreamId` is the original's name for it). */
  abort: { msgStreamId: number; csid: number };
  /** Type 3: the bytes the peer has received. */
  ack: { seq: number };
  /** Type 4. */
  userControl: UserControlMessage;
  /** Type 5: Window Acknowledgement Size (sets `chunkSize.sndWinSize`). */
  setWindowSize: { windowSize: number };
  /** Type 6: Set Peer Bandwidth; `lType` 0 hard, 1 soft, 2 dynamic. */
  setPeerBw: { peerBw: number; lType: number };
  /** Type 8. */
  audio: MediaHeader;
  /** Type 9. */
  video: MediaHeader;
  /** Type 15 (its format byte skipped). */
  amf3meta: DataMessage;
  /** Type 16. */
  amf3sobject: SharedObjectMessage;
  /** Type 17 (its format byte skipped). */
  amf3cmd: Command;
  /** Type 18. */
  amf0meta: DataMessage;
  /** Type 19. */
  amf0sobject: SharedObjectMessage;
  /** Type 20. */
  amf0cmd: Command;
  /** Type 22: never seen by handlers (the core splits aggregates into their sub-messages). */
  agg: Record<string, never>;
  /** Any other type id. */
  unknown: Record<string, never>;
}

/** A handler key: `chunk.msgTypeText` of a message. */
export type MsgTypeText = keyof MessageByType;

/** The session's chunk sizes and windows (one object shared by its chunk objects). */
export interface ChunkSize {
  /** Chunk size of what the peer sends. */
  rcv: number;
  /** Chunk size of what this side sends. */
  snd: number;
  /** Acknowledgement window this side announced. */
  rcvWinSize: number;
  /** Acknowledgement window the peer announced. */
  sndWinSize: number;
}

/** The message just completed on a chunk stream. */
export interface ChunkInfo<K extends MsgTypeText = MsgTypeText> {
  /** The whole message payload. */
  data: Buffer;
  /** Absolute timestamp in ms. */
  timestamp: number;
  /** Payload length in bytes. */
  msgLen: number;
  /** The RTMP message type id. */
  msgType: number;
  /** The handler key of `msgType`. */
  msgTypeText: K;
  /** The chunk stream id (CSID), despite the name. */
  streamId: number;
  /** The message stream id. */
  msgStreamId: number;
  /** Header format (0..3) of the message's last chunk. */
  fmt: number;
  /** The decoded message. */
  msg: MessageByType[K];
  /** Always 1 when a handler sees it. */
  msgComplete: number;
  /** Always 0 when a handler sees it. */
  msgLeft: number;
  /** The session's chunk sizes and windows (shared). */
  chunkSize: ChunkSize;
}

/** A message for `rtmpMsgSend` and the per-format senders. */
export interface OutgoingMessage {
  /** The RTMP message type id. */
  msgType: number;
  /** The payload (split into chunks of the send chunk size). */
  data: Buffer | Uint8Array;
  /** Defaults to the chunk object's message stream id. */
  msgStreamId?: number;
  /** The chunk stream id to send on (node-rtmpapi's name). */
  streamId?: number;
  /** Defaults to `session.getTs()`. */
  timestamp?: number;
}

/** One per chunk stream id of a session, reused for every message on it. Send methods
 * return false past the send high-water mark, like `socket.write`. */
export declare class ChunkObject<K extends MsgTypeText = MsgTypeText> {
  /** The session this chunk stream belongs to. */
  readonly session: Session;
  /** The message just completed on this chunk stream. */
  chunk: ChunkInfo<K>;
  /** Set Chunk Size (§5.4.1); also sets `chunkSize.snd`. */
  sendSetChunkSize(size: number): boolean;
  /** Abort Message (§5.4.2) for chunk stream `csid`. */
  sendAbortMsg(csid: number): boolean;
  /** Acknowledgement (§5.4.3) of the bytes received so far. */
  sendAckMsg(): boolean;
  /** Window Acknowledgement Size (§5.4.4). */
  sendSetWindowSize(size: number): boolean;
  /** Set Peer Bandwidth (§5.4.5); `lType` 0 hard, 1 soft, 2 dynamic (default). */
  sendSetPeerBw(size: number, lType?: number): boolean;
  /** User Control message (§7.1.7): event type, stream id (the timestamp for pings), buffer length in ms for SetBufferLength (3). */
  sendUserControlMsg(eventType: number, streamId?: number, buffLenMs?: number): boolean;
  /** Encodes a command as AMF0 (type 20) and sends it on this chunk object's chunk stream and message stream: a reply. */
  sendAmf0EncCmdMsg(cmd: Command, timestamp?: number): boolean;
  /** Sends one message, chunked, with header compression; `timestamp` defaults to the session clock. */
  rtmpMsgSend(msg: OutgoingMessage): boolean;
  /** node-rtmpapi's per-format senders: the encoder picks the header format, so all four send the whole message with timestamp `ts`. */
  rtmpMsg0Send(msg: OutgoingMessage, ts?: number): boolean;
  /** As `rtmpMsg0Send`. */
  rtmpMsg1Send(msg: OutgoingMessage, ts?: number): boolean;
  /** As `rtmpMsg0Send`. */
  rtmpMsg2Send(msg: OutgoingMessage, ts?: number): boolean;
  /** As `rtmpMsg0Send`. */
  rtmpMsg3Send(msg: OutgoingMessage, ts?: number): boolean;
  /** Writes a basic header (format `fmt`, chunk stream `csid`) and `data` as they are: the caller frames the chunk. */
  rtmpChunkSend(fmt: number, csid: number, data: Buffer): boolean;
}

/** Message handlers by `msgTypeText`, for `msg.read`/`msg.loop`; each runs with the chunk object as `this` and argument. */
export type Handlers = { [K in MsgTypeText]?: (this: ChunkObject<K>, chunk: ChunkObject<K>) => void };

/** node-rtmpapi's message reader, `session.msg`. */
export interface MessageReader {
  /** The session read from. */
  readonly session: Session;
  /** Reads one message: `cb` first, then the handler for its `msgTypeText`. */
  read(cb: ((chunk: ChunkObject) => void) | null, handlers?: Handlers): void;
  /** Reads every message for the life of the session. */
  loop(cb: ((chunk: ChunkObject) => void) | null, handlers?: Handlers): void;
}

/** What apps use of a session's socket. */
export interface SessionSocket extends EventEmitter {
  /** The peer's address. */
  remoteAddress?: string;
  /** The peer's port. */
  remotePort?: number;
  /** 'IPv4' or 'IPv6'. */
  remoteFamily?: string;
  /** The local address of the connection. */
  localAddress?: string;
  /** The local port of the connection. */
  localPort?: number;
  /** True once the connection closed. */
  destroyed: boolean;
  /** Bytes received so far. */
  readonly bytesRead?: number;
  /** Flushes what is queued, then closes; `cb` on 'close'. */
  end(cb?: () => void): this;
  /** Closes now (emitting `err` as 'error' first if given). */
  destroy(err?: Error): this;
}

/** An error with a stable code, e.g. ERR_RTMP_CHUNK, ERR_RTMP_LIMIT, ERR_RTMP_HANDSHAKE. */
export interface RtmpError extends Error {
  /** The stable code (see README, Error codes). */
  code: string;
}

/** One RTMP session (accepted by a server, opened by RtmpClient, or run over a JS socket by `rtmpSession`): the compatible fields, the send methods and the message events. */
export declare class Session extends EventEmitter {
  /** The message reader (`msg.loop(cb, handlers)`). */
  msg: MessageReader;
  /** The socket: a socket-like object for native sessions, the given stream for `rtmpSession`. */
  sock: SessionSocket;
  /** The read-queue (carries no bytes for native sessions; `recvBytes` counts them). */
  Q: ReadQueue;
  /** Whether this side ran the handshake as the client. */
  isClient: boolean;
  /** The session's logger (tagged with the peer's address). */
  log: Logger;
  /** Chunk sizes and windows of both directions. */
  chunkSize: ChunkSize;
  /** True once the session ended; the fields stay usable. */
  closed: boolean;
  /** Bytes received from the peer (handshake included). */
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
  /** The connection id: a Number unique in the process (a u64, exact up to 2^53); 0 for a session over a JS socket. */
  readonly id: number;
  /** Reading resumes after a `publish` or `play` command paused it (server option `pauseOnStreamCommands`, which the live server sets); what the peer sent meanwhile is then read in order. No effect otherwise. */
  resumeReading(): void;
  /** Resolves once nothing waits to be written to the peer (at once if nothing does), or the session closed: the native writer signals it ('drain' on the session and its sock). */
  drained(): Promise<void>;
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
  /**
   * Answers a client's `connect` as a server: Window Acknowledgement Size, Set Peer
   * Bandwidth, Set Chunk Size, then the `_result` (NetConnection.Connect.Success) — its
   * command object answering the client's Enhanced RTMP caps with the server's
   * (`enhanced.connectResultProperties`, options in `enhanced`; `false` leaves them out).
   * `properties`/`info` are merged into the `_result`. Returns the client's caps (also
   * `clientCaps`).
   */
  acceptConnect(
    cmd: Pick<Command, 'transId' | 'cmdObj'>,
    options?: {
      windowSize?: number;
      peerBandwidth?: number;
      chunkSize?: number;
      properties?: Record<string, AmfValue>;
      info?: Record<string, AmfValue>;
      enhanced?: false | EnhancedServerCaps;
    },
  ): ConnectCaps;
  /** The Enhanced RTMP caps the client announced in connect, once `acceptConnect` answered it. */
  clientCaps?: ConnectCaps;
  /**
   * Sends `onStatus` NetConnection.Connect.ReconnectRequest (Enhanced RTMP v2): the client
   * should reconnect to `tcUrl` (absolute, or relative to its current tcUrl; none: the
   * same server). Keep taking its messages until it leaves.
   */
  requestReconnect(options?: { tcUrl?: string; description?: string }): boolean;
  /** User control StreamBegin (§7.1.7) for a message stream. */
  sendStreamBegin(msgStreamId: number): boolean;
  /** User control StreamEOF (§7.1.7) for a message stream. */
  sendStreamEof(msgStreamId: number): boolean;
  /** User control SetBufferLength (§7.1.7): the client's buffer for a message stream, in ms. */
  sendSetBufferLength(msgStreamId: number, ms: number): boolean;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes now. */
  destroy(): void;
  on(event: 'message', listener: (chunk: ChunkObject) => void): this;
  on(event: 'command', listener: (cmd: Command, chunk: ChunkObject) => void): this;
  on(event: 'data', listener: (data: DataMessage, chunk: ChunkObject) => void): this;
  on(event: 'audio' | 'video', listener: (msg: MediaHeader, chunk: ChunkObject) => void): this;
  on(event: 'error', listener: (err: RtmpError) => void): this;
  on(event: 'close', listener: (hadError: boolean) => void): this;
  /** What a `drained()` waited for: the send queue was written out. */
  on(event: 'drain', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** A live stream relayed natively from one publisher to many players. */
/** Options of a LiveStream (see its constructor). */
export interface LiveStreamOptions {
  gopCacheBytes?: number;
  mergeWritesMs?: number;
  flvMergeWritesMs?: number;
}

export declare class LiveStream extends EventEmitter {
  /**
   * `gopCacheBytes`: bytes of the current group of pictures kept for late joiners (default 16 MiB; past it late joiners wait for the next keyframe).
   * `mergeWritesMs`: how long audio and data may wait for the next video frame, to reach each RTMP player in one write with it (default 0, at most 5000; 0: every read of the publisher goes out at once to each player whose write path is idle, merged into the next write of one whose socket is backed up).
   * `flvMergeWritesMs`: the same for HTTP-FLV and WebSocket-FLV players (default 40, at most 5000: a browser's player buffers far longer than that, and one write per video frame instead of one per message halves what each such player costs the server).
   * Throws a TypeError for a value that is not an integer in range.
   */
  constructor(name?: string, options?: LiveStreamOptions);
  /** The name given (e.g. "app/key"). */
  readonly name: string;
  /** The session publishing, or null. */
  publisher: Session | null;
  /** Players and the message stream id each plays on. */
  players: Map<Session, number>;
  /** Forwards the publisher's audio/video/data on `msgStreamId` to every player, natively. Throws ERR_RTMP_STREAM_BUSY if another session publishes this stream, ERR_RTMP_ALREADY_PUBLISHING if `session` publishes another one (one publication per session). The 'close' listener it adds is removed when the session stops publishing and playing here. */
  setPublisher(session: Session, msgStreamId: number, options?: { emit?: boolean }): void;
  /** Ends the publication of `session` (default: the current publisher): caches are cleared, players stay for the next one. */
  removePublisher(session?: Session): void;
  /** Metadata, decoder configurations and the cached GOP go out at once, then live media. One 'close' listener per session, removed by removePlayer. */
  addPlayer(session: Session, msgStreamId: number): void;
  /** Stops relaying to a player. */
  removePlayer(session: Session): void;
  /** Players, messages relayed, and what the GOP cache holds. */
  stats(): { players: number; flvSinks: number; messages: number; gopMessages: number; gopBytes: number };
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
  /** Time a peer has to complete the handshake (default 10000). */
  handshakeTimeoutMs?: number;
  /** Close an established session that receives nothing for this long (default: never). */
  idleTimeoutMs?: number;
  /** Most connections at once (default 100000); more are closed as they arrive. */
  maxConnections?: number;
  /** Largest message a peer may send, in bytes (default 16777215). */
  maxMessageSize?: number;
  /** Most chunk streams a peer may open (default 256). */
  maxChunkStreams?: number;
  /** Bytes of partial messages a peer may leave buffered (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Batches delivered to JS and not yet handled, past which the socket is not read (default 4). */
  inFlightBatches?: number;
  /** Queued bytes past which `send*` returns false (default 1 MiB). */
  sendHighWater?: number;
  /** Queued bytes past which the session is closed (default 64 MiB). */
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
  /**
   * Stop reading a session after each `publish` or `play` command it sends until
   * `session.resumeReading()`: what it sends meanwhile waits in its socket (as
   * nginx-rtmp's on_publish). Default false; the live server sets it.
   */
  pauseOnStreamCommands?: boolean;
  /** RTMPS: the server speaks RTMP over TLS with this certificate chain and key. */
  tls?: TlsServerOptions;
}

/** PEM text or bytes, or several of them (as Node's tls module takes). */
export type Pem = string | Buffer | Array<string | Buffer>;

/** The certificate an RTMPS server presents. */
export interface TlsServerOptions {
  /** The certificate chain, leaf first, PEM. */
  cert: Pem;
  /** The private key of the leaf certificate, PEM (PKCS#8, PKCS#1 or SEC1). */
  key: Pem;
}

/** What an RTMPS client trusts. */
export interface TlsClientOptions {
  /** Certificates to trust instead of Mozilla's roots, PEM. */
  ca?: Pem;
  /** false accepts any certificate (the handshake signatures are still checked). Default true. */
  rejectUnauthorized?: boolean;
}

/** The bound address, as `net.Server#address()` reports it. */
export interface AddressInfo {
  /** The IP address bound. */
  address: string;
  /** 'IPv4' or 'IPv6'. */
  family: string;
  /** The port bound (the one chosen for port 0). */
  port: number;
}

/** A net.Server-like RTMP server. */
export declare class RtmpServer extends EventEmitter {
  /** True between a successful listen and close. */
  listening: boolean;
  /** Whether the server speaks RTMPS (it was created with `tls`). */
  readonly secure: boolean;
  /** Binds and starts accepting, as `net.Server#listen` (no host: the IPv6 any-address, else IPv4); a bind failure is emitted as 'error' (ERR_RTMP_SOCKET), never thrown. */
  listen(port?: number, host?: string, callback?: () => void): this;
  listen(port: number, callback: () => void): this;
  listen(options: { port?: number; host?: string }, callback?: () => void): this;
  /** Stops accepting; 'close' (and `callback`) follow once every session has ended. */
  close(callback?: (err?: Error) => void): this;
  /** The bound address while listening, else null. */
  address(): AddressInfo | null;
  /** The number of open sessions, as `net.Server#getConnections`. */
  getConnections(cb: (err: Error | null, count: number) => void): this;
  /** Keeps the process alive while listening or while sessions are open (the default). */
  ref(): this;
  /** Lets the process exit even though the server listens. */
  unref(): this;
  /** Closes every session now, as `http.Server#closeAllConnections`. */
  closeAllConnections(): void;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'connection', listener: (sock: SessionSocket, session: Session) => void): this;
  on(event: 'error', listener: (err: RtmpError) => void): this;
  /** A session error nobody listened for on the session or its socket. */
  on(event: 'clientError', listener: (err: RtmpError, session: Session) => void): this;
  /** RTMPS: a connection whose TLS handshake failed (ERR_RTMP_TLS) or timed out; it never became a session. */
  on(event: 'tlsClientError', listener: (err: RtmpError) => void): this;
  /** What the native layer dropped or refused (rate-limited): ERR_RTMP_ACCEPT, ERR_RTMP_MAX_CONNECTIONS, ERR_RTMP_SLOW_PEER (with `session`). Without a listener they go to the NODE_DEBUG=rtmpapi log. */
  on(event: 'warning', listener: (warning: RtmpWarning) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** A warning of the native layer: something dropped or refused without ending a session. */
export interface RtmpWarning extends Error {
  name: 'RtmpWarning';
  /** ERR_RTMP_ACCEPT (accept failed), ERR_RTMP_MAX_CONNECTIONS (connections refused past maxConnections, at most one a second), ERR_RTMP_SLOW_PEER (media dropped for a slow player, at most one per 10 s per session). */
  code: 'ERR_RTMP_ACCEPT' | 'ERR_RTMP_MAX_CONNECTIONS' | 'ERR_RTMP_SLOW_PEER';
  /** The session it concerns (ERR_RTMP_SLOW_PEER). */
  session?: Session;
}

/** What a publisher or player asks for, as `authorize` sees it. */
export interface StreamRequest {
  action: 'publish' | 'play';
  /** The connect command's app, e.g. "live". */
  app: string;
  /** The stream name without its query string. */
  name: string;
  /** The query string of the stream name (`key?token=...`), or of the URL of an HTTP-FLV / WebSocket-FLV request. */
  query: URLSearchParams;
  /** The RTMP session; null for an HTTP-FLV or WebSocket-FLV player (see `req`). */
  session: Session | null;
  /** The HTTP request of an HTTP-FLV or WebSocket-FLV player (`LiveServer#httpHandler`). */
  req?: IncomingMessage;
}

/** Where the live server logs; console-like. */
export interface LiveServerLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** The hooks examples and apps build on (edges, pushes, recorders). */
export interface LiveServerHooks {
  /** A stream ("app/name") was created: listen to its 'publish', 'unpublish', 'play' and 'stop' events. */
  onStream?: (stream: LiveStream) => void;
  /** An authorized publisher asks for `stream`, before the busy check: e.g. end a pull that stood in for it. */
  beforePublish?: (stream: LiveStream, session: Session) => void;
}

/** Options of createLiveServer: the hooks, the live server's own, and every server option (limits, tls, reusePort). */
export interface LiveServerOptions extends ServerOptions, LiveServerHooks {
  /** Whether a publish or play may go ahead; may return a Promise. Meanwhile the session's reading is paused, so nothing it sends is lost or reaches JS; refused publishers get NetStream.Publish.BadName, refused players NetStream.Play.Failed (a throw or rejection refuses too). */
  authorize?: (request: StreamRequest) => boolean | Promise<boolean>;
  /** Publishers' media also reach their sessions' 'audio', 'video' and 'data' events (a JS recorder needs them). Default false. */
  emitMedia?: boolean;
  /** Each LiveStream's options. */
  streamOptions?: LiveStreamOptions;
  /** Log nothing but errors (with the default logger). */
  quiet?: boolean;
  /** Where to log (default: ISO-dated console lines). */
  logger?: LiveServerLogger;
  /** How long close() lets sessions flush and end before it destroys them (default 3000 ms); close's callback also waits that long at most for recordings to be finalized. */
  closeTimeoutMs?: number;
  /** Record each publication natively into `<dir>/<app>-<name>-<ISO time>.flv` (`when` may decline one). A 'recording' event (recording, stream, session) announces each. */
  record?: { dir: string; when?: (stream: LiveStream, session: Session) => boolean; queueLimit?: number };
  /**
   * What connect answers a client that announces Enhanced RTMP caps (fourCcList,
   * video/audioFourCcInfoMap, capsEx): the server options of
   * `enhanced.connectResultProperties` (default: every codec it forwards, capsEx
   * Reconnect | Multitrack | ModEx); false answers as a legacy server.
   */
  enhanced?: { video?: string[]; audio?: string[]; can?: number; capsEx?: number } | false;
  /** Each publication as Low-Latency HLS on `httpHandler()`'s `/<app>/<name>/index.m3u8` (stream.hls options; default {}), or false. */
  hls?: HlsOptions | false;
}

/** The live server's stats() (what metrics() reports). */
export interface LiveServerStats {
  connections: number;
  publishers: number;
  players: number;
  /** Bytes received from peers, closed sessions included. */
  receivedBytes: number;
  /** Bytes sent to peers (relayed media included), closed sessions included. */
  sentBytes: number;
  /** Media frames dropped for slow players, closed sessions included. */
  droppedMessages: number;
  /** Native warnings so far, by code. */
  warnings: Record<string, number>;
  streams: { app: string; name: string; publishing: boolean; players: number; /** b/s from the publisher over the last 5 s. */ bitrate: number }[];
}

/** The package's live server: an RtmpServer running the publish/play flow. */
export declare class LiveServer extends RtmpServer {
  constructor(options?: LiveServerOptions);
  /** Live streams by "app/name" (a stream nobody publishes or plays is forgotten). */
  readonly streams: Map<string, LiveStream>;
  /** Prometheus text exposition (0.0.4): rtmpapi_connections, rtmpapi_publishers, rtmpapi_players (gauges); rtmpapi_received_bytes_total, rtmpapi_sent_bytes_total, rtmpapi_dropped_messages_total, rtmpapi_warnings_total{code} (counters); rtmpapi_stream_players and rtmpapi_stream_bitrate_bits_per_second {app, name}. */
  metrics(): string;
  /** What metrics() reports, as an object. */
  stats(): LiveServerStats;
  /**
   * The HTTP side for a node:http server: HTTP-FLV and WebSocket-FLV on `/<app>/<name>.flv`
   * (players of a stream not yet published wait for it; `authorize` is asked with
   * `action: 'play'`, `session: null` and `req`), the CORS preflight, and (unless
   * `playerPage: false`) the player page at `/` with `/streams.json` and `/mpegts.js`.
   * Each function returns true when it handled the request. What `npm start` serves on $HTTP_PORT.
   */
  httpHandler(options?: { cors?: string | false; queueLimit?: number; playerPage?: boolean }): {
    request(req: IncomingMessage, res: ServerResponse): boolean;
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  };
  /** Stops accepting, tells players their streams ended (StreamEOF, NetStream.Play.UnpublishNotify), ends every session after what is queued for it and destroys those still open after `closeTimeoutMs`; 'close' and `callback` follow within about that time. */
  close(callback?: (err?: Error) => void): this;
}

/** The live server, not yet listening: publish to and play from rtmp://host/app/name. See README "The live server". */
export declare function createLiveServer(options?: LiveServerOptions): LiveServer;
/** Merges the hooks of several building blocks into one set of onStream/beforePublish options; each runs in the order given. */
export declare function combineHooks(...hookSets: LiveServerHooks[]): Required<LiveServerHooks>;

/** node-rtmpapi's logger: `log(...)` prints `new Date, raddr, '>', ...args` while debugging is on. */
export interface Logger {
  /** Prints `new Date, raddr, '>', ...args` while debugging is on. */
  log(...args: unknown[]): void;
  /** Turns debugging on or off. */
  debug(level: boolean | number): void;
  /** Sets the address printed on each line. */
  raddr(addr: string): void;
}

/** node-rtmpapi's byte read-queue: `Q(len, cb)` queues an in-order read of `len` bytes (0: call `cb` in order with no data; negative: as soon as any byte is there). Memory is what is buffered, bounded. */
export interface ReadQueue {
  (len: number, cb: (data?: Buffer) => void): void;
  /** Bytes received so far. */
  recvBytes: number;
  /** Bytes acknowledged so far. */
  ackBytes: number;
  /** node-rtmpapi's field, kept. */
  chunkSize: number;
  /** Receives whatever is buffered once no queued read is waiting. */
  defaultCb: ((data: Buffer) => void) | null;
  /** Bytes buffered and not yet read. */
  getBufLen(): number;
  /** Takes `n` bytes if that many are buffered, else null. */
  read(n: number): Buffer | null;
  /** Serves the queued reads that can be served now. */
  tryRead(): void;
  /** Appends bytes (what the socket's 'data' handler does); past the limit the socket is destroyed with ERR_RTMP_LIMIT. */
  push(data: Buffer): void;
}

/** A logger that prints while `debug` is truthy (or `NODE_DEBUG=rtmpapi` is set), each line tagged with `remoteAddr`. */
export declare function log(debug?: boolean, remoteAddr?: string): Logger;
/** node-rtmpapi's server factory. */
export declare function rtmpServer(): {
  /** A server calling `cb` for each accepted connection, with the session as `this` and argument, as soon as it is accepted. */
  createServer(cb?: (this: Session, session: Session) => void, options?: ServerOptions): RtmpServer;
};
/** Runs an RTMP session over a connected stream (a `net.Socket`, a TLS socket, any Duplex) with the native core: the handshake as client (`isClient` truthy) or server, then `cb` with the session as `this` and argument. */
export declare function rtmpSession(
  sock: Duplex,
  isClient: boolean | number,
  cb?: (this: Session, session: Session) => void,
): Session;
/** The byte read-queue over a socket's 'data'. */
export declare function rtmpQueue(sock: Duplex): ReadQueue;
/** The message reader of a session past its handshake, reading chunk-layer bytes from `opt.Q` (or `opt.sock`); its session is `reader.session`. */
export declare function rtmpMessage(opt: { Q?: ReadQueue; sock: Duplex; debug?: boolean; isClient?: boolean }): MessageReader;
/** node-rtmpapi's chunk reader: the same reader as `rtmpMessage`; `read(cb)` yields the chunk object of each completed message. */
export declare function rtmpChunk(opt: { Q?: ReadQueue; sock: Duplex; debug?: boolean; isClient?: boolean }): MessageReader;

/** AMF helpers with node-amfutils' names. */
export declare const amf: {
  /** Encodes values one after another as AMF0 (a Map as an AMF3 Dictionary behind the 0x11 switch; TypeError for Buffers, functions, symbols, bigints, cycles). */
  amf0Encode(values: AmfValue[]): Buffer;
  /** Encodes one value as AMF0. */
  amf0EncodeOne(value: AmfValue): Buffer;
  /** Decodes every AMF0 value of `buf`; throws ERR_RTMP_AMF on malformed or empty input. */
  amf0Decode(buf: Buffer): AmfValue[];
  /** Decodes the first AMF0 value and the bytes it took; throws ERR_RTMP_AMF on malformed or empty input. */
  amf0DecodeOne(buf: Buffer): { len: number; value: AmfValue };
  /** AMF3: integers within 29 bits as Integer, Buffers as ByteArray, Dates as Date, Maps as Dictionary ({@link AmfDictionary}); vectors decode to Arrays, a Dictionary to a Map. */
  amf3Encode(values: unknown[]): Buffer;
  /** Encodes one value as AMF3. */
  amf3EncodeOne(value: unknown): Buffer;
  /** Decodes every AMF3 value of `buf` (one set of reference tables); throws ERR_RTMP_AMF on malformed or empty input. */
  amf3Decode(buf: Buffer): unknown[];
  /** Decodes the first AMF3 value and the bytes it took; throws ERR_RTMP_AMF on malformed or empty input. */
  amf3DecodeOne(buf: Buffer): { len: number; value: unknown };
  /** Encodes a command: `cmd`, then its named fields in protocol order. */
  encodeAmf0Cmd(cmd: Command): Buffer;
  /** Decodes a type-20 payload into a command with its named fields (every decoder throws ERR_RTMP_AMF on an empty buffer). */
  decodeAmf0Cmd(buf: Buffer): Command;
  /** Encodes a type-17 payload (a format byte, then the AMF0 command). */
  encodeAmf3Cmd(cmd: Command): Buffer;
  /** Decodes a type-17 payload (its format byte skipped). */
  decodeAmf3Cmd(buf: Buffer): Command;
  /** Decodes a type-18 data payload. */
  decodeAmf0Data(buf: Buffer): DataMessage;
  /** Decodes a type-15 data payload (its format byte skipped). */
  decodeAmf3Data(buf: Buffer): DataMessage;
  /** node-amfutils' classification of a value: 'null', 'undefined', 'integer', 'double', 'true', 'false', 'string', 'sarray' (an Array marked strict), 'array' or 'object'. */
  amfType(value: AmfValue): string;
  /** Shared object messages (RTMP 1.0 §7.1.3): type 19, or 16 (AMF3, a leading format byte). */
  decodeSharedObject(type: 16 | 19, buf: Buffer): SharedObjectMessage;
  /** Encodes a shared object message (type 19, or 16 with `amf3`). */
  encodeSharedObject(msg: SharedObjectMessage, amf3?: boolean): Buffer;
};

/** A shared object message: event types 1 use, 2 release, 3 requestChange, 4 change,
 * 5 success, 6 sendMessage, 7 status, 8 clear, 9 remove, 10 requestRemove, 11 useSuccess. */
export interface SharedObjectMessage {
  /** The shared object name. */
  name: string;
  /** The version the events apply to. */
  version?: number;
  /** Whether the object is persistent. */
  persistent?: boolean;
  /** The events, in order: `data` for change/useSuccess-style events, `name` for remove/status, `values` for sendMessage. */
  events: { type: number; typeText?: string; name?: string; data?: Record<string, AmfValue>; values?: AmfValue[] }[];
}

/** The parts of rtmp://host[:port]/app[/instance]/stream. */
export interface RtmpUrl {
  /** Host name or IP (IPv6 without brackets). */
  host: string;
  /** Port (default 1935, 443 for rtmps://). */
  port: number;
  /** Every path segment but the last. */
  app: string;
  /** The last path segment, with its query string. */
  stream: string;
  /** The connect `tcUrl`: rtmp[s]://host[:port]/app. */
  tcUrl: string;
  /** Whether the URL is rtmps:// (RTMP over TLS). */
  secure: boolean;
}

/** Splits an rtmp:// or rtmps:// URL; throws a TypeError (code ERR_INVALID_URL) for anything else. */
export declare function parseRtmpUrl(url: string): RtmpUrl;

/** An onStatus/_result info object. */
export interface StatusInfo {
  /** 'status', 'warning' or 'error'. */
  level?: string;
  /** e.g. 'NetStream.Publish.Start', 'NetStream.Play.UnpublishNotify'. */
  code: string;
  /** Human-readable text. */
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
  /**
   * `timeout`: ms connect, createStream, publish and play wait for an answer before they
   * reject with ERR_RTMP_TIMEOUT (default 10000). `enhanced` announces Enhanced RTMP v2
   * caps in connect: `true` for every FourCC the package carries (forward) and capsEx
   * Reconnect | Multitrack | ModEx, or the properties to send (see
   * `enhanced.connectProperties`).
   */
  constructor(options?: { timeout?: number; enhanced?: boolean | EnhancedClientCaps });
  /** The `timeout` given (ms). */
  readonly timeout: number;
  /** The server's Enhanced RTMP caps from the connect `_result` (`enhanced: false` when it sent none); null before connect. */
  serverCaps: ConnectCaps | null;
  /** The session once connected. */
  session: Session | null;
  /** The message stream id createStream returned. */
  streamId: number;
  /** The URL given to `connect`, split. */
  url?: RtmpUrl;
  /** Connects to the server and application of `url` (its stream part is kept for publish/play); resolves the connect `_result` info. `timeoutMs` (default: the client's `timeout`) bounds the TCP connect, the handshake and the reply. An rtmps:// URL connects over TLS, the certificate checked against `tls` (default: Mozilla's roots) and the URL's host (ERR_RTMP_TLS when it fails). */
  connect(url: string, options?: { timeoutMs?: number; flashVer?: string; tls?: TlsClientOptions }): Promise<StatusInfo>;
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
  /** Sends audio on the published stream; false past the high-water mark. */
  sendAudio(data: Buffer | Uint8Array, timestamp: number): boolean;
  /** Sends video on the published stream. */
  sendVideo(data: Buffer | Uint8Array, timestamp: number): boolean;
  /** Sends a data message (AMF0 bytes, or values) on the published stream. */
  sendData(data: Buffer | AmfValue[], timestamp?: number): boolean;
  /**
   * Sends an FLV tag (from readFlv) on the published stream by its type: audio (8),
   * video (9) or script data (18, sent as `@setDataFrame` + payload). Throws a
   * RangeError for other types. Returns false past the high-water mark.
   */
  sendTag(tag: Pick<FlvTag, 'type' | 'timestamp' | 'data'>): boolean;
  /** Resolves once what was sent has been written to the socket (the native writer signals it). */
  drain(): Promise<void>;
  /** Ends the stream (deleteStream) and the connection; resolves once closed. */
  close(): Promise<void>;
  on(event: 'audio' | 'video', listener: (data: Buffer, timestamp: number, header: MediaHeader) => void): this;
  on(event: 'data', listener: (msg: DataMessage, data: Buffer, timestamp: number) => void): this;
  on(event: 'status', listener: (info: StatusInfo) => void): this;
  on(event: 'command', listener: (cmd: Command) => void): this;
  /**
   * A publication moved after a reconnect request (NetConnection.Connect.ReconnectRequest):
   * the client connected to `tcUrl`, published the same name, and went on there from a
   * keyframe after the metadata and configurations; the old connection is closed.
   */
  on(event: 'reconnect', listener: (info: { tcUrl: string }) => void): this;
  /** Errors, ERR_RTMP_RECONNECT included (a reconnect request not followed: the publication goes on where it was). */
  on(event: 'error', listener: (err: RtmpError) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** One FLV tag. */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  /** ms (TimestampExtended as bits 24..31). */
  timestamp: number;
  /** Payload bytes. */
  size: number;
  /** The payload (a view into the input, no copy). */
  data: Buffer;
  /** Byte offset of the tag header in the input. */
  offset: number;
}

/** Reads an FLV file or buffer into its tags; throws (code ERR_FLV_FORMAT) on a malformed file. */
export declare function readFlv(bufferOrPath: Buffer | Uint8Array | string): {
  /** FLV version (1). */
  version: number;
  /** The header's audio flag. */
  hasAudio: boolean;
  /** The header's video flag. */
  hasVideo: boolean;
  /** Every tag, in file order. */
  tags: FlvTag[];
};

/** Writes received messages into an FLV file (header, tags, PreviousTagSize fields). */
export declare class FlvWriter {
  /** Creates (or truncates) `path` and writes the FLV header with the given flags (both true by default). */
  constructor(path: string, options?: { hasAudio?: boolean; hasVideo?: boolean });
  /** Bytes written so far. */
  readonly bytes: number;
  /** Tags written so far. */
  readonly tags: number;
  /** Appends a message; `@setDataFrame` data messages are written as `onMetaData`. */
  write(type: number, timestamp: number, data: Buffer): void;
  /** Closes the file; later writes throw ERR_FLV_CLOSED. */
  close(): void;
}

/** Enhanced RTMP caps of a connect command object (enhanced.readConnectCaps). */
export interface ConnectCaps {
  fourCcList: string[];
  videoFourCcInfoMap: Record<string, number>;
  audioFourCcInfoMap: Record<string, number>;
  capsEx: number;
  /** Whether any of them was there. */
  enhanced: boolean;
}

/** What a server answers for (enhanced.connectResultProperties): its codecs, what it does with them, its capsEx. */
export interface EnhancedServerCaps {
  video?: string[];
  audio?: string[];
  can?: number;
  capsEx?: number;
}

/** What a client announces (enhanced.connectProperties); each replaces the default. */
export interface EnhancedClientCaps {
  fourCcList?: string[];
  videoFourCcInfoMap?: Record<string, number>;
  audioFourCcInfoMap?: Record<string, number>;
  capsEx?: number;
  /** The FourCcInfoMask of the default maps (default FOURCC_CAN.forward). */
  can?: number;
}

/** Enhanced RTMP v2 negotiation helpers. */
export declare const enhanced: {
  /** The video FourCCs the package carries. */
  VIDEO_FOURCCS: readonly string[];
  /** The audio FourCCs the package carries. */
  AUDIO_FOURCCS: readonly string[];
  /** Bits of a FourCcInfoMap value: what a peer can do with a codec. */
  FOURCC_CAN: { decode: number; encode: number; forward: number };
  /** Bits of `capsEx`: the extended capabilities. */
  CAPS_EX: { reconnect: number; multitrack: number; modEx: number; timestampNanoOffset: number };
  /** Reads fourCcList, videoFourCcInfoMap, audioFourCcInfoMap and capsEx of a connect command object. */
  readConnectCaps(cmdObj?: Record<string, unknown>): ConnectCaps;
  /** The properties to merge into the connect _result command object (what `Session.acceptConnect` sends). */
  connectResultProperties(
    caps: ConnectCaps,
    server?: EnhancedServerCaps,
  ): { fourCcList: string[]; videoFourCcInfoMap: Record<string, number>; audioFourCcInfoMap: Record<string, number>; capsEx: number };
  /** The properties a client adds to its connect command object (what `RtmpClient`'s `enhanced` option sends); throws a TypeError (ERR_INVALID_ARG_TYPE) for anything but `true` or an object. */
  connectProperties(
    options: true | EnhancedClientCaps,
  ): { fourCcList: string[]; videoFourCcInfoMap: Record<string, number>; audioFourCcInfoMap: Record<string, number>; capsEx: number };
  /** The tcUrl a reconnect request's `tcUrl` (absolute or relative; none: `current`) points to; throws ERR_INVALID_URL. */
  resolveReconnectUrl(requested: string | undefined, current: string): string;
  /** The onStatus NetConnection.Connect.ReconnectRequest command. */
  reconnectRequest(options?: { tcUrl?: string; description?: string }): Command;
};

// ---- Native recording: stream.record(path) ----

/** How a recording ended: the 'close' event's argument and what `stop()` resolves. */
export interface RecordingInfo {
  /** The path given to `record`. */
  path: string;
  /** The file's size. */
  bytes: number;
  /** From the first to the last audio/video timestamp written (also the metadata's `duration`, in seconds). */
  durationMs: number;
  /** Frames dropped because the disk was slower than the stream (video to the next keyframe first, then audio). */
  dropped: { video: number; audio: number };
  /** Why it ended early (code ERR_RTMP_RECORD), if it did; also emitted as 'error'. */
  error?: RtmpError;
}

/**
 * A LiveStream being recorded into an FLV file, natively and off the main thread
 * (`stream.record(path)`). It ends when the publisher leaves or `stop()` is called;
 * the file is then finalized (duration and filesize in its onMetaData).
 */
export interface Recording extends EventEmitter {
  readonly path: string;
  readonly stream: LiveStream;
  /** True once the file is finalized ('close' emitted). */
  readonly closed: boolean;
  /** Ends the recording now: what is queued is written, then the file is finalized. */
  stop(): Promise<RecordingInfo>;
  /** Bytes waiting for the disk and frames dropped so far. */
  stats(): { queuedBytes: number; dropped: { video: number; audio: number } };
  /** The file could not be created or written (code ERR_RTMP_RECORD); 'close' follows. */
  on(event: 'error', listener: (err: RtmpError) => void): this;
  /** The file is finalized. */
  on(event: 'close', listener: (info: RecordingInfo) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface LiveStream {
  /**
   * Records the current publication (with no publisher: the next one) into an FLV file
   * at `path`, created or truncated. Called before `setPublisher`, the file has the
   * publication from its first message; later, it starts like a late player: metadata,
   * decoder configurations, then the cached GOP from its keyframe. `queueLimit`: media
   * bytes held for a slow disk before frames are dropped (default 16 MiB).
   * Throws a TypeError for a bad path or option.
   */
  record(path: string, options?: { queueLimit?: number }): Recording;
}

// ---- HLS output: stream.hls(options) ----

/** Options of `stream.hls()`. */
export interface HlsOptions {
  /** EXT-X-PART-INF PART-TARGET: parts are at most this long (20-10000 ms, default 200). */
  partTargetMs?: number;
  /** A segment ends at the first video keyframe past this (ms, default 1000). */
  segmentMinMs?: number;
  /** ... or here without a keyframe (ms, default 10000). */
  segmentMaxMs?: number;
  /** Complete segments kept and listed (1-100, default 7). */
  window?: number;
  /** Access-Control-Allow-Origin on every answer (default '*'); false: no CORS headers. */
  cors?: string | false;
  /** Longest hold of a blocking playlist request or a preload-hinted part before 503 (ms, default 6000). */
  blockTimeoutMs?: number;
}

/** `HlsOutput.stats()`. */
export interface HlsStats {
  /** The current publication's id, the prefix of every name. */
  prefix: string;
  /** Complete segments in the window. */
  segments: number;
  /** Media Sequence Number of the segment being cut. */
  openMsn?: number;
  /** Bytes of segments and parts held. */
  heldBytes: number;
  hasVideo: boolean;
  /** The publication ended (the playlist has EXT-X-ENDLIST). */
  ended: boolean;
  /** Why a track is left out (an unsupported codec, a bad decoder configuration). */
  skipped?: string;
}

/**
 * A LiveStream as Low-Latency HLS (RFC 8216bis): CMAF segments and parts muxed natively,
 * held in a bounded window, served by `handle`. Made by `stream.hls()`.
 */
export declare class HlsOutput {
  constructor(stream: LiveStream, options?: HlsOptions);
  readonly stream: LiveStream;
  readonly cors: string | false;
  readonly blockTimeoutMs: number;
  readonly closed: boolean;
  /**
   * Answers a request for `index.m3u8` (blocking with `_HLS_msn`/`_HLS_part`) or a name
   * the playlist gives (`name`, default the last segment of the URL's path), or an
   * OPTIONS preflight. Settles once the answer is sent.
   */
  handle(req: IncomingMessage, res: ServerResponse, name?: string): Promise<void>;
  stats(): HlsStats;
  /** Stops following the stream; what is held is still served. */
  close(): void;
}

/**
 * A handler for `/<prefix>/<key>/<file>` (prefix default `/live/`): `resolve(key)`'s
 * output answers; 404 when there is none. Returns true when the path is under the prefix.
 */
export declare function hlsHandler(
  resolve: (key: string) => HlsOutput | undefined | null,
  options?: { prefix?: string },
): (req: IncomingMessage, res: ServerResponse) => boolean;

export interface LiveStream {
  /**
   * This stream's HLS output (created on the first call; later calls return it and
   * ignore their options). It follows every publication, each under a new id.
   */
  hls(options?: HlsOptions): HlsOutput;
}

// ---- Browser playback: HTTP-FLV and WebSocket-FLV ----

/** Options of an HTTP-FLV or WebSocket-FLV player. */
export interface FlvPlayerOptions {
  /** Access-Control-Allow-Origin of the response (default '*'; false: none). A specific origin also refuses WebSocket handshakes from other origins (403). */
  cors?: string | false;
  /** Media bytes held for a slow player before frames are dropped, by the RTMP players' policy (default 4 MiB). */
  queueLimit?: number;
  /** Stay for the next publication when the publisher leaves (default true); false: the response ends with the publication. */
  stays?: boolean;
}

/** How an FLV player ended: the 'close' event's argument and what `stop()` resolves. */
export interface FlvPlayerInfo {
  /** Bytes written to the connection (the response head and framing included). */
  bytes: number;
  /** Frames dropped because the player was slower than the stream. */
  dropped: { video: number; audio: number };
  /** Why it ended, if on an error: ERR_RTMP_WEBSOCKET (the client broke RFC 6455), ERR_RTMP_WRITE_TIMEOUT (it read nothing for 30 s), ERR_RTMP_SOCKET. */
  error?: RtmpError;
}

/**
 * An HTTP-FLV or WebSocket-FLV player of a LiveStream: its connection was taken over
 * from Node; the response, the FLV header, the join burst and the live tags are written
 * natively. It ends when its client leaves, on `stop()`, or (with `stays: false`) with
 * the publication.
 */
export declare class FlvPlayer extends EventEmitter {
  readonly stream: LiveStream;
  readonly transport: 'http' | 'websocket';
  readonly remoteAddress: string | undefined;
  /** True once the connection has ended ('close' emitted). */
  readonly closed: boolean;
  /** Ends the player: what is queued is written, then the end of the stream (the last chunk, or a WebSocket close 1001). */
  stop(): Promise<FlvPlayerInfo>;
  stats(): { queuedBytes: number; dropped: { video: number; audio: number } };
  on(event: 'error', listener: (err: RtmpError) => void): this;
  on(event: 'close', listener: (info: FlvPlayerInfo) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface LiveStream {
  /** HTTP-FLV and WebSocket-FLV players now playing. */
  readonly flvPlayers: Set<FlvPlayer>;
  /**
   * Plays this stream to an HTTP request as HTTP-FLV (200, video/x-flv, chunked; CORS).
   * The request's connection is taken over natively (`res` is not used further); with
   * no publisher yet the player waits for one. Throws ERR_FLV_SOCKET when the
   * connection cannot be taken over (Node's own https server: TLS is Node's; use
   * {@link createFlvHttpsServer}; see README).
   */
  addFlvPlayer(req: IncomingMessage, res: ServerResponse, options?: FlvPlayerOptions): FlvPlayer;
  /**
   * Plays this stream to a WebSocket upgrade request as WebSocket-FLV: the 101, then
   * binary frames of whole FLV tags, written natively. A request that is no valid
   * handshake is answered 400 (426 for another version) and undefined returned.
   */
  addWebSocketFlvPlayer(req: IncomingMessage, socket: Duplex, head: Buffer, options?: FlvPlayerOptions): FlvPlayer | undefined;
  on(event: 'flvPlay' | 'flvStop', listener: (player: FlvPlayer) => void): this;
}

/** Options of {@link flvHttpHandler}. */
export interface FlvHttpHandlerOptions extends FlvPlayerOptions {
  /** The stream of `/<app>/<name>.flv`: a function (undefined: 404) or a Map keyed "app/name". */
  streams: ((app: string, name: string, req: IncomingMessage) => LiveStream | undefined) | Map<string, LiveStream>;
  /** Whether the request may play (false, or a promise of false: 403). */
  authorize?: (req: IncomingMessage, where: { app: string; name: string; query: URLSearchParams }) => boolean | Promise<boolean>;
  /** Called with each player started. */
  onPlayer?: (player: FlvPlayer) => void;
}

/**
 * The routes of FLV playback for a node:http server: `GET /<app>/<name>.flv`, the same
 * path as a WebSocket upgrade, and its CORS preflight. Each returns true when it
 * handled the request (other paths are left to the caller).
 */
export declare function flvHttpHandler(options: FlvHttpHandlerOptions): {
  request(req: IncomingMessage, res: ServerResponse): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
};

/** Options of {@link createFlvHttpsServer}: the certificate and key (PEM) and http.Server's own. */
export interface FlvHttpsServerOptions extends HttpServerOptions {
  /** The certificate chain, leaf first (PEM; an array is concatenated). */
  cert: string | Buffer | Array<string | Buffer>;
  /** Its private key (PEM: PKCS#8, PKCS#1 or SEC1). */
  key: string | Buffer;
}

/**
 * An HTTPS server (an http.Server) whose TLS is terminated natively: HTTP-FLV and
 * WebSocket-FLV players on it are played natively (the TLS session handed to them),
 * other requests are handled by Node as usual. listen() binds natively, taking
 * `(port, host, listener)`, `(port, listener)` or `({ port, host }, listener)` (host an
 * IP address or 'localhost', default 0.0.0.0; port 0: any free one); a bad
 * certificate (ERR_INVALID_ARG_VALUE) or a busy port (ERR_RTMP_SOCKET) is emitted as 'error'.
 */
export declare class FlvHttpsServer extends HttpServer {
  constructor(options: FlvHttpsServerOptions, requestListener?: RequestListener);
  address(): { address: string; family: 'IPv4' | 'IPv6'; port: number } | null;
  /** Stops listening; open connections go on (idle keep-alive ones are closed). */
  close(callback?: (err?: Error) => void): this;
}

/** A {@link FlvHttpsServer} (Unix only: ERR_FLV_SOCKET elsewhere). */
export declare function createFlvHttpsServer(options: FlvHttpsServerOptions, requestListener?: RequestListener): FlvHttpsServer;
