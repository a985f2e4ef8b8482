'use strict';

// Enhanced RTMP v2 negotiation (veovera/enhanced-rtmp): what a client announces in
// connect, what a server answers in the connect _result, and the reconnect request.

/** FourCcInfoMask: what a peer can do with a codec. */
const FOURCC_CAN = { decode: 0x01, encode: 0x02, forward: 0x04 };
/** CapsExMask: extended capabilities. */
const CAPS_EX = { reconnect: 0x01, multitrack: 0x02, modEx: 0x04, timestampNanoOffset: 0x08 };
/** The video FourCCs the package carries (relay, client, files): it forwards any codec's bytes. */
const VIDEO_FOURCCS = Object.freeze(['avc1', 'hvc1', 'av01', 'vp09', 'vp08', 'vvc1']);
/** The audio FourCCs the package carries. */
const AUDIO_FOURCCS = Object.freeze(['mp4a', 'Opus', 'fLaC', 'ac-3', 'ec-3', '.mp3']);
/** What the package does with a stream beyond codecs: reconnect, multitrack, ModEx. */
const PACKAGE_CAPS_EX = CAPS_EX.reconnect | CAPS_EX.multitrack | CAPS_EX.modEx;

/** An Array AMF0 encodes as a strict array (as the spec types fourCcList). */
function strictArray(list) {
  const out = [...list];
  Object.defineProperty(out, 'sarray', { value: true });
  return out;
}

/** The caps of a client that announced none (most of them): one frozen object for all. */
const NO_CAPS = Object.freeze({
  fourCcList: Object.freeze([]),
  videoFourCcInfoMap: Object.freeze({}),
  audioFourCcInfoMap: Object.freeze({}),
  capsEx: 0,
  enhanced: false,
});

/**
 * Reads the Enhanced RTMP properties of a connect command object (frozen
 * {@link NO_CAPS} when it has none).
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
  if (!enhanced) return NO_CAPS;
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
  const video = server.video ?? VIDEO_FOURCCS;
  const audio = server.audio ?? AUDIO_FOURCCS;
  const can = server.can ?? FOURCC_CAN.forward;
  const wanted = (fourCc, map) => caps.fourCcList.includes('*') || caps.fourCcList.includes(fourCc) || fourCc in map || '*' in map;
  const pick = (list, map) => Object.fromEntries(list.filter((f) => wanted(f, map)).map((f) => [f, can]));
  const videoFourCcInfoMap = pick(video, caps.videoFourCcInfoMap);
  const audioFourCcInfoMap = pick(audio, caps.audioFourCcInfoMap);
  const fourCcList = strictArray(Object.keys(videoFourCcInfoMap));
  return { fourCcList, videoFourCcInfoMap, audioFourCcInfoMap, capsEx: (server.capsEx ?? PACKAGE_CAPS_EX) & (caps.capsEx || ~0) };
}

/**
 * The Enhanced RTMP properties a client adds to its connect command object
 * (enhanced-rtmp-v2, "Enhancing NetConnection connect Command"). `true` announces what
 * the package carries: every FourCC of VIDEO_FOURCCS and AUDIO_FOURCCS with `can`
 * (default FOURCC_CAN.forward: the client passes the bytes of any codec through), and
 * capsEx Reconnect | Multitrack | ModEx. An object replaces any of the four properties.
 * @param {true | { fourCcList?: string[], videoFourCcInfoMap?: Record<string, number>, audioFourCcInfoMap?: Record<string, number>, capsEx?: number, can?: number }} options
 */
function connectProperties(options) {
  const o = options === true ? {} : options;
  if (!o || typeof o !== 'object') throw Object.assign(new TypeError('the enhanced option is true or an object'), { code: 'ERR_INVALID_ARG_TYPE' });
  const can = o.can ?? FOURCC_CAN.forward;
  const all = (list) => Object.fromEntries(list.map((f) => [f, can]));
  const videoFourCcInfoMap = o.videoFourCcInfoMap ?? all(VIDEO_FOURCCS);
  const audioFourCcInfoMap = o.audioFourCcInfoMap ?? all(AUDIO_FOURCCS);
  return {
    fourCcList: strictArray(o.fourCcList ?? Object.keys(videoFourCcInfoMap)),
    videoFourCcInfoMap,
    audioFourCcInfoMap,
    capsEx: o.capsEx ?? PACKAGE_CAPS_EX,
  };
}

/**
 * The tcUrl a reconnect request points to, as the client resolves it: the request's
 * `tcUrl` (absolute, or relative to the current connection's: `//host/app`, `/app`),
 * else the current one (enhanced-rtmp-v2, "Reconnect Request").
 * @param {string | undefined} requested
 * @param {string} current
 */
function resolveReconnectUrl(requested, current) {
  if (requested === undefined || requested === null || requested === '') return current;
  try {
    return new URL(String(requested), current).href.replace(/\/$/, '');
  } catch {
    throw Object.assign(new TypeError(`reconnect tcUrl ${requested} does not resolve against ${current}`), { code: 'ERR_INVALID_URL' });
  }
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

module.exports = {
  readConnectCaps, connectResultProperties, connectProperties, reconnectRequest, resolveReconnectUrl,
  FOURCC_CAN, CAPS_EX, VIDEO_FOURCCS, AUDIO_FOURCCS,
};
