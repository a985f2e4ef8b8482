// require('node-rtmpapi').amf: node-amfutils' names and JS mapping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { amf, enhanced } = require('../index.js');

test('values round-trip with the node-amfutils JS mapping', () => {
  const values = [1.5, 'héllo', true, false, null, undefined, { a: 1, nested: { b: 'c' } }];
  assert.deepEqual(amf.amf0Decode(amf.amf0Encode(values)), values);
  assert.deepEqual(amf.amf0DecodeOne(amf.amf0EncodeOne('x')), { len: 4, value: 'x' });
});

test('strict arrays are marked with a non-enumerable sarray; unmarked arrays encode as ECMA arrays', () => {
  const strict = [1, 2];
  Object.defineProperty(strict, 'sarray', { value: true });
  const bytes = amf.amf0EncodeOne(strict);
  assert.equal(bytes[0], 0x0a);
  const decoded = amf.amf0DecodeOne(bytes).value;
  assert.ok(Array.isArray(decoded));
  assert.equal(decoded.sarray, true);
  assert.deepEqual(Object.keys(decoded), ['0', '1']);
  const ecma = amf.amf0EncodeOne([7, 8]);
  assert.equal(ecma[0], 0x08);
  assert.deepEqual(amf.amf0DecodeOne(ecma).value, { 0: 7, 1: 8 });
});

test('typed objects carry __className__ and dates decode to ms', () => {
  const typed = { __className__: 'flex.Msg', body: 'x' };
  const bytes = amf.amf0EncodeOne(typed);
  assert.equal(bytes[0], 0x10);
  assert.deepEqual(amf.amf0DecodeOne(bytes).value, typed);
  assert.equal(amf.amf0DecodeOne(amf.amf0EncodeOne(new Date(1234))).value, 1234);
});

test('string lengths are UTF-8 byte counts and long strings switch to 0x0C', () => {
  assert.deepEqual([...amf.amf0EncodeOne('é')], [0x02, 0x00, 0x02, 0xc3, 0xa9]);
  const long = 'é'.repeat(40000);
  const bytes = amf.amf0EncodeOne(long);
  assert.equal(bytes[0], 0x0c);
  assert.equal(amf.amf0DecodeOne(bytes).value, long);
});

test('commands decode and encode with the original field names', () => {
  const connect = { cmd: 'connect', transId: 1, cmdObj: { app: 'live', tcUrl: 'rtmp://h/live' } };
  assert.deepEqual(amf.decodeAmf0Cmd(amf.encodeAmf0Cmd(connect)), connect);
  const publish = { cmd: 'publish', transId: 5, cmdObj: null, name: 'key', type: 'live' };
  assert.deepEqual(amf.decodeAmf0Cmd(amf.encodeAmf0Cmd(publish)), publish);
  const result = { cmd: '_result', transId: 4, cmdObj: null, info: 1 };
  assert.deepEqual(amf.decodeAmf0Cmd(amf.encodeAmf0Cmd(result)), result);
  const play = { cmd: 'play', transId: 0, cmdObj: null, streamName: 's', start: -2, duration: -1, reset: true };
  assert.deepEqual(amf.decodeAmf0Cmd(amf.encodeAmf0Cmd(play)), play);
  const unknown = amf.decodeAmf0Cmd(amf.amf0Encode(['FCUnpublish', 6, null, 'key']));
  assert.deepEqual({ ...unknown, args: [...unknown.args] }, { cmd: 'FCUnpublish', transId: 6, cmdObj: null, args: ['key'] });
  const amf3 = amf.encodeAmf3Cmd(publish);
  assert.equal(amf3[0], 0);
  assert.deepEqual(amf.decodeAmf3Cmd(amf3), publish);
});

test('data messages decode to { cmd, event, parms, dec }', () => {
  const meta = amf.decodeAmf0Data(amf.amf0Encode(['@setDataFrame', 'onMetaData', { width: 320 }]));
  assert.equal(meta.cmd, '@setDataFrame');
  assert.equal(meta.event, 'onMetaData');
  assert.deepEqual(meta.parms, { width: 320 });
  assert.equal(meta.dec.length, 3);
});

test('amfType classifies values as node-amfutils does', () => {
  const strict = [];
  Object.defineProperty(strict, 'sarray', { value: true });
  const cases = [[null, 'null'], [undefined, 'undefined'], [3, 'integer'], [3.5, 'double'], [true, 'true'],
    [false, 'false'], ['s', 'string'], [strict, 'sarray'], [[], 'array'], [{}, 'object']];
  for (const [v, t] of cases) assert.equal(amf.amfType(v), t);
});

test('bad arguments throw TypeError; malformed AMF throws ERR_RTMP_AMF', () => {
  assert.throws(() => amf.amf0EncodeOne(() => 1), TypeError);
  assert.throws(() => amf.amf0EncodeOne(Buffer.from('x')), TypeError);
  assert.throws(() => amf.amf0EncodeOne(10n), TypeError);
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => amf.amf0EncodeOne(cyclic), TypeError);
  assert.throws(() => amf.encodeAmf0Cmd({ transId: 1 }), TypeError);
  assert.throws(() => amf.amf0Decode(Buffer.from([0x02, 0x00, 0x05, 0x61])), (e) => e.code === 'ERR_RTMP_AMF');
  assert.throws(() => amf.amf0Decode(Buffer.from([0x04])), (e) => e.code === 'ERR_RTMP_AMF');
  assert.throws(() => amf.decodeAmf0Cmd(Buffer.from([0x05])), (e) => e.code === 'ERR_RTMP_AMF');
});

test('AMF3 functions with node-amfutils names: integers vs doubles, ByteArray, dates, objects, vectors, dictionaries', () => {
  const values = [1, -5, 2 ** 28, 2.5, 'héllo', true, null, undefined, [1, 'a'], { __className__: 'flex.X', a: 1 }, { b: 'c' }];
  assert.deepEqual(amf.amf3Decode(amf.amf3Encode(values)), [1, -5, 2 ** 28, 2.5, 'héllo', true, null, undefined, [1, 'a'], { __className__: 'flex.X', a: 1 }, { b: 'c' }]);
  assert.deepEqual([...amf.amf3EncodeOne(5)], [0x04, 0x05], 'integer marker within 29 bits');
  assert.equal(amf.amf3EncodeOne(2 ** 28)[0], 0x05, 'double outside 29 bits');
  assert.deepEqual(amf.amf3DecodeOne(amf.amf3EncodeOne(Buffer.from([1, 2]))), { len: 4, value: Buffer.from([1, 2]) });
  assert.equal(amf.amf3DecodeOne(amf.amf3EncodeOne(new Date(1234))).value, 1234);
  // Vector.<int> [1, -1] and a Dictionary { "k": true } (AMF 3 §3.15, §3.16).
  assert.deepEqual(amf.amf3DecodeOne(Buffer.from([0x0d, 0x05, 0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])).value, [1, -1]);
  assert.deepEqual(amf.amf3DecodeOne(Buffer.from([0x11, 0x03, 0x01, 0x06, 0x03, 0x6b, 0x03])).value, new Map([['k', true]]));
  assert.throws(() => amf.amf3Decode(Buffer.from([0x0a, 0x07, 0x03, 0x58])), (e) => e.code === 'ERR_RTMP_AMF', 'externalizable');
  assert.throws(() => amf.amf3EncodeOne(() => 1), TypeError);
});

test('shared object messages (types 19 and 16) decode and encode their event lists', () => {
  const msg = {
    name: 'chat',
    version: 3,
    persistent: true,
    events: [
      { type: 1 },
      { type: 4, data: { topic: 'rtmp', count: 2 } },
      { type: 9, name: 'old' },
      { type: 6, values: ['hello', 1] },
    ],
  };
  const bytes = amf.encodeSharedObject(msg);
  const decoded = amf.decodeSharedObject(19, bytes);
  assert.equal(decoded.name, 'chat');
  assert.equal(decoded.version, 3);
  assert.equal(decoded.persistent, true);
  assert.deepEqual(decoded.events.map((e) => e.typeText), ['use', 'change', 'remove', 'sendMessage']);
  assert.deepEqual(decoded.events[1].data, { topic: 'rtmp', count: 2 });
  assert.equal(decoded.events[2].name, 'old');
  assert.deepEqual([...decoded.events[3].values], ['hello', 1]);
  const amf3 = amf.encodeSharedObject(msg, true);
  assert.equal(amf3[0], 0);
  assert.deepEqual(amf.decodeSharedObject(16, amf3), decoded);
  assert.throws(() => amf.decodeSharedObject(19, bytes.subarray(0, 10)), (e) => e.code === 'ERR_RTMP_AMF');
  assert.throws(() => amf.encodeSharedObject({ version: 1 }), TypeError);
});

test('Enhanced RTMP negotiation: connect caps in, _result properties out, reconnect request', () => {
  const connect = amf.decodeAmf0Cmd(amf.encodeAmf0Cmd({
    cmd: 'connect', transId: 1,
    cmdObj: { app: 'live', fourCcList: Object.defineProperty(['hvc1', 'av01', 'Opus'], 'sarray', { value: true }), videoFourCcInfoMap: { vp09: 3 }, capsEx: 0x0f },
  }));
  const caps = enhanced.readConnectCaps(connect.cmdObj);
  assert.deepEqual(caps.fourCcList, ['hvc1', 'av01', 'Opus']);
  assert.equal(caps.capsEx, 15);
  assert.equal(caps.enhanced, true);
  const props = enhanced.connectResultProperties(caps);
  assert.deepEqual(props.videoFourCcInfoMap, { hvc1: 4, av01: 4, vp09: 4 });
  assert.deepEqual(props.audioFourCcInfoMap, { Opus: 4 });
  assert.equal(props.capsEx, 0x07);
  const result = amf.decodeAmf0Cmd(amf.encodeAmf0Cmd({ cmd: '_result', transId: 1, cmdObj: { fmsVer: 'FMS/3,0,1,123', ...props }, info: {} }));
  assert.deepEqual([...result.cmdObj.fourCcList], ['hvc1', 'av01', 'vp09']);
  assert.equal(enhanced.readConnectCaps({ app: 'live' }).enhanced, false);
  const rr = enhanced.reconnectRequest({ tcUrl: 'rtmp://edge/live' });
  assert.deepEqual(rr.info, { level: 'status', code: 'NetConnection.Connect.ReconnectRequest', description: 'The server asks the client to reconnect.', tcUrl: 'rtmp://edge/live' });
});

test('every decoder throws ERR_RTMP_AMF on an empty buffer (it holds no value)', () => {
  const empty = Buffer.alloc(0);
  const decoders = ['amf0Decode', 'amf0DecodeOne', 'amf3Decode', 'amf3DecodeOne', 'decodeAmf0Cmd', 'decodeAmf3Cmd', 'decodeAmf0Data', 'decodeAmf3Data'];
  for (const name of decoders) {
    assert.throws(() => amf[name](empty), (e) => e.code === 'ERR_RTMP_AMF' && /empty input/.test(e.message), name);
  }
  assert.throws(() => amf.decodeSharedObject(19, empty), (e) => e.code === 'ERR_RTMP_AMF', 'decodeSharedObject');
  // One byte is a value: the empty check is not a length check in disguise.
  assert.deepEqual(amf.amf0Decode(Buffer.from([0x05])), [null]);
  assert.deepEqual(amf.amf3Decode(Buffer.from([0x01])), [null]);
});

test('AMF3 Dictionary <-> Map (AMF 3 §3.16): exact bytes, keys of any type, the weak-keys flag', () => {
  // Marker 0x11, U29Dict-value 2 << 1 | 1, weak-keys 0, then integer 1 -> "a", "k" -> true.
  const m = new Map([[1, 'a'], ['k', true]]);
  const bytes = [0x11, 0x05, 0x00, 0x04, 0x01, 0x06, 0x03, 0x61, 0x06, 0x03, 0x6b, 0x03];
  assert.deepEqual([...amf.amf3EncodeOne(m)], bytes);
  const back = amf.amf3DecodeOne(Buffer.from(bytes));
  assert.equal(back.len, bytes.length);
  assert.ok(back.value instanceof Map);
  assert.deepEqual([...back.value], [[1, 'a'], ['k', true]]);
  // The flag: a non-enumerable, writable own `weakKeys` on decoded Maps; `weakKeys === true` encodes 1.
  assert.deepEqual(Object.getOwnPropertyDescriptor(back.value, 'weakKeys'), { value: false, writable: true, enumerable: false, configurable: true });
  const weak = amf.amf3DecodeOne(Buffer.from([0x11, 0x01, 0x01])).value;
  assert.equal(weak.weakKeys, true);
  assert.equal(weak.size, 0);
  assert.deepEqual([...amf.amf3EncodeOne(weak)], [0x11, 0x01, 0x01]);
  back.value.weakKeys = true;
  assert.deepEqual([...amf.amf3EncodeOne(back.value)], [0x11, 0x05, 0x01, ...bytes.slice(3)]);
  m.weakKeys = 'yes';
  assert.equal(amf.amf3EncodeOne(m)[2], 0x00, 'only a boolean true sets the flag');

  // Keys of several types round-trip: a double, a negative integer, a string, an
  // object, a Buffer, an Array, null, a boolean, another Map.
  const objKey = { id: 7 };
  const inner = new Map([['x', 1]]);
  const keys = new Map([[2.5, 'double'], [-3, 'int'], ['s', 's'], [objKey, 'object'], [Buffer.from([9]), 'bytes'],
    [[1, 2], 'array'], [null, 'null'], [false, 'bool'], [inner, 'map']]);
  const decoded = amf.amf3DecodeOne(amf.amf3EncodeOne(keys)).value;
  assert.equal(decoded.size, keys.size);
  assert.deepEqual([...decoded.keys()], [2.5, -3, 's', { id: 7 }, Buffer.from([9]), [1, 2], null, false, new Map([['x', 1]])]);
  assert.deepEqual([...decoded.values()], [...keys.values()]);
  assert.ok([...decoded.keys()][8] instanceof Map, 'a Map key decodes to a Map');
});

test('Maps: references to one Dictionary, the same Map twice, cycles, and the AMF0 avmplus switch', () => {
  // A dense Array (object slot 0) of a Dictionary (slot 1) and two references to it:
  // 0x11 0x02 and 0x0a 0x02 (the object table is one for every complex type, §2.2).
  const refs = amf.amf3DecodeOne(Buffer.from([0x09, 0x07, 0x01, 0x11, 0x03, 0x00, 0x06, 0x03, 0x6b, 0x04, 0x05, 0x11, 0x02, 0x0a, 0x02])).value;
  assert.equal(refs.length, 3);
  for (const d of refs) assert.deepEqual(d, new Map([['k', 5]]));
  assert.notEqual(refs[0], refs[1], 'references decode to equal Maps, not one shared Map (as objects do)');
  // A reference inside the Dictionary to the Dictionary itself is an error, not a cycle.
  assert.throws(() => amf.amf3DecodeOne(Buffer.from([0x11, 0x03, 0x00, 0x11, 0x00, 0x01])), (e) => e.code === 'ERR_RTMP_AMF');
  // The same Map twice encodes twice inline (the encoder writes no references).
  const m = new Map([['a', 1]]);
  const twice = amf.amf3EncodeOne([m, m]);
  assert.deepEqual([...twice], [0x09, 0x05, 0x01, 0x11, 0x03, 0x00, 0x06, 0x03, 0x61, 0x04, 0x01, 0x11, 0x03, 0x00, 0x06, 0x03, 0x61, 0x04, 0x01]);
  assert.deepEqual(amf.amf3DecodeOne(twice).value, [m, m]);
  const cyclic = new Map();
  cyclic.set('self', cyclic);
  assert.throws(() => amf.amf3EncodeOne(cyclic), TypeError);
  assert.throws(() => amf.amf0EncodeOne(new Map([[cyclic, 1]])), TypeError);
  // AMF0 has no Dictionary: a Map switches to AMF3 (marker 0x11, AMF 0 §3.1), also nested.
  assert.deepEqual([...amf.amf0EncodeOne(m)], [0x11, 0x11, 0x03, 0x00, 0x06, 0x03, 0x61, 0x04, 0x01]);
  const meta = { width: 320, tracks: new Map([[1, 'video'], [2, 'audio']]) };
  const back = amf.amf0DecodeOne(amf.amf0EncodeOne(meta)).value;
  assert.deepEqual(back, meta);
  const cmd = { cmd: 'setTracks', transId: 3, cmdObj: null, args: [new Map([['id', 1]])] };
  const decoded = amf.decodeAmf0Cmd(amf.encodeAmf0Cmd(cmd));
  assert.deepEqual([...decoded.args], [new Map([['id', 1]])]);
});
