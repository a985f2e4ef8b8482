'use strict';

// The chunk object node-rtmpapi hands to message handlers: one per chunk stream id of
// a session, reused for every message on it, with the session's send methods.

const amf = require('./amf.js');

/** Protocol control messages go on chunk stream 2, message stream 0 (§5.4). */
const CONTROL_CSID = 2;
const AMF0_COMMAND = 20;

/**
 * One per chunk stream id of a session, reused for every message on it: `chunk` is the
 * message just completed, the methods send on the session. Sends return false past the
 * send high-water mark, like `socket.write`.
 */
class ChunkObject {
  /**
   * @param {import('./session.js').Session} session
   * @param {number} csid
   */
  constructor(session, csid) {
    Object.defineProperty(this, 'session', { value: session, enumerable: false });
    /** The message just completed on this chunk stream (node-rtmpapi field names). */
    this.chunk = {
      data: Buffer.alloc(0),
      timestamp: 0,
      msgLen: 0,
      msgType: 0,
      msgTypeText: '',
      streamId: csid,
      msgStreamId: 0,
      fmt: 0,
      msg: {},
      msgComplete: 1,
      msgLeft: 0,
      chunkSize: session.chunkSize,
    };
  }

  /** Set Chunk Size (§5.4.1); also updates `chunkSize.snd`. */
  sendSetChunkSize(size) {
    return this.session._sendControl((n) => n.sendSetChunkSize(size));
  }

  /** Abort Message (§5.4.2) for chunk stream `csid`. */
  sendAbortMsg(csid) {
    return this.session._send((n) => n.sendAbort(csid));
  }

  /** Acknowledgement (§5.4.3) of the bytes received so far. */
  sendAckMsg() {
    return this.session._send((n) => n.sendAck());
  }

  /** Window Acknowledgement Size (§5.4.4). */
  sendSetWindowSize(size) {
    return this.session._sendControl((n) => n.sendWindowAckSize(size));
  }

  /** Set Peer Bandwidth (§5.4.5); `lType` 0 hard, 1 soft, 2 dynamic. */
  sendSetPeerBw(size, lType = 2) {
    return this.session._send((n) => n.sendSetPeerBandwidth(size, lType));
  }

  /**
   * User Control message (§7.1.7): event type, stream id (or timestamp for pings),
   * and the buffer length in ms for SetBufferLength (3).
   */
  sendUserControlMsg(eventType, streamId = 0, buffLenMs = 0) {
    return this.session._send((n) => n.sendUserControl(eventType, streamId >>> 0, buffLenMs >>> 0));
  }

  /**
   * Encodes a command ({ cmd, transId, cmdObj, ... }) as AMF0 (type 20) and sends it
   * on this chunk object's chunk stream and message stream, i.e. as a reply.
   * @param {object} obj
   * @param {number} [timestamp]
   */
  sendAmf0EncCmdMsg(obj, timestamp = 0) {
    const data = amf.encodeAmf0Cmd(obj);
    const csid = this.chunk.streamId === CONTROL_CSID ? 3 : this.chunk.streamId;
    return this.session._send((n) =>
      n.sendMessage(csid, AMF0_COMMAND, this.chunk.msgStreamId, timestamp >>> 0, data));
  }

  /**
   * Sends one message, split into chunks of the send chunk size, with header
   * compression. `timestamp` defaults to the session clock (`getTs()`).
   * @param {{ msgType: number, data: Buffer, msgStreamId?: number, streamId?: number, timestamp?: number }} msg
   */
  rtmpMsgSend(msg) {
    const csid = msg.streamId ?? this.chunk.streamId;
    const ts = msg.timestamp ?? this.session.getTs();
    return this.session._send((n) =>
      n.sendMessage(csid, msg.msgType, msg.msgStreamId ?? this.chunk.msgStreamId, ts >>> 0, msg.data));
  }

  /**
   * node-rtmpapi's per-format senders. The header format is chosen by the encoder
   * (it knows what the peer last saw on each chunk stream), so all four send the
   * whole message with the given timestamp.
   */
  rtmpMsg0Send(msg, ts) {
    return this.rtmpMsgSend({ ...msg, timestamp: ts ?? msg.timestamp });
  }

  /** As rtmpMsg0Send. */
  rtmpMsg1Send(msg, ts) {
    return this.rtmpMsg0Send(msg, ts);
  }

  /** As rtmpMsg0Send. */
  rtmpMsg2Send(msg, ts) {
    return this.rtmpMsg0Send(msg, ts);
  }

  /** As rtmpMsg0Send. */
  rtmpMsg3Send(msg, ts) {
    return this.rtmpMsg0Send(msg, ts);
  }

  /**
   * Writes a basic header (format `fmt`, chunk stream `csid`) followed by `data` as
   * they are. Bypasses header compression: the caller frames the chunk.
   */
  rtmpChunkSend(fmt, csid, data) {
    let basic;
    if (csid < 64) basic = Buffer.from([(fmt << 6) | csid]);
    else if (csid < 320) basic = Buffer.from([fmt << 6, csid - 64]);
    else basic = Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
    return this.session._send((n) => n.sendRaw(Buffer.concat([basic, data])));
  }
}

module.exports = { ChunkObject };
