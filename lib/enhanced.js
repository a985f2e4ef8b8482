'use strict';

// Enhanced RTMP v2 negotiation (veovera/enhanced-rtmp): what a client announces in
// connect, what a server answers in the connect _result, and the reconnect request.

/** FourCcInfoMask: what a peer can do with a codec. */
const FOURCC_CAN = { decode: 0x01, encode: 0x02, forward: 0x04 };
/** CapsExMask: extended capabilities. */
const CAPS_EX = { reconnect: 0x01, multitrack: 0x02, modEx: 0x04, timestampNanoOffset: 0x08 };

/**
 * Reads the Enhanced RTMP properties of a connect command object.
 * @param {Record<string, unknown>} cmdObj
 * @returns {{ fourCcList: string[], videoFourCcInfoMap: Record<string, number>, audioFourCcInfoMap: Record<string, number>, capsEx: number, enhanced: boolean }}
 */
function readConnectCaps(cmdObj = {}) {
  const list = Array.isArray(cmdObj.fourCcList) ? cmdObj.fourCcList.filter((f) => typeof f === 'string') : [];
  const map = (m) => (m && typeof m === 'object' && !Array.isArray(m) ? { ...m } : {});
  const videoFourCcInfoMap = map(cmdObj.videoFourCcInfoMap);
  const audioFourCcInfoMap = map(cmdObj.audioFourCcInfoMap);
  const capsEx = typeof cmdObj.capsEx === 'number' ? cmdObj.capsEx : 0;
  const enhanced = list.length > 0 || Object.keys(videoFourCcInfoMap).length > 0 || Object.keys(audioFourCcInfoMap).length > 0 || capsEx !== 0;
  return { fourCcList: list, videoFourCcInfoMap, audioFourCcInfoMap, capsEx, enhanced };
}

/**
 * The properties a server puts in its connect `_result` (command object) to answer a
 * client's Enhanced RTMP caps: the codecs both sides know, with what the server can do
 * with each (by default it forwards them), and the server's capsEx.
 * @param {ReturnType<typeof readConnectCaps>} caps
 * @param {{ video?: string[], audio?: string[], can?: number, capsEx?: number }} [server]
 */
function connectResultProperties(caps, server = {}) {
  const video = server.video ?? ['avc1', 'hvc1', 'av01', 'vp09', 'vp08', 'vvc1'];
  const audio = server.audio ?? ['mp4a', 'Opus', 'fLaC', 'ac-3', 'ec-3', '.mp3'];
  const can = server.can ?? FOURCC_CAN.forward;
  const wanted = (fourCc, map) => caps.fourCcList.includes('*') || caps.fourCcList.includes(fourCc) || fourCc in map || '*' in map;
  const pick = (list, map) => Object.fromEntries(list.filter((f) => wanted(f, map)).map((f) => [f, can]));
  const videoFourCcInfoMap = pick(video, caps.videoFourCcInfoMap);
  const audioFourCcInfoMap = pick(audio, caps.audioFourCcInfoMap);
  const fourCcList = Object.keys(videoFourCcInfoMap);
  Object.defineProperty(fourCcList, 'sarray', { value: true });
  return { fourCcList, videoFourCcInfoMap, audioFourCcInfoMap, capsEx: (server.capsEx ?? CAPS_EX.reconnect | CAPS_EX.multitrack | CAPS_EX.modEx) & (caps.capsEx || ~0) };
}

/**
 * The `onStatus` asking a client to reconnect (to `tcUrl`, or the same server).
 * @param {{ tcUrl?: string, description?: string }} [options]
 */
function reconnectRequest({ tcUrl, description = 'The server asks the client to reconnect.' } = {}) {
  const info = { level: 'status', code: 'NetConnection.Connect.ReconnectRequest', description };
  if (tcUrl) info.tcUrl = tcUrl;
  return { cmd: 'onStatus', transId: 0, cmdObj: null, info };
}

module.exports = { readConnectCaps, connectResultProperties, reconnectRequest, FOURCC_CAN, CAPS_EX };
