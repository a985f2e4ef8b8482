// Differential test against an independent AMF implementation from the npm registry
// (amfjs, AMF.js by ProjectCryo): generated values encoded by one decode in the other,
// both ways, for AMF0 and AMF3. amfjs decodes AMF3 Dictionaries (to an object keyed by
// JSON.stringify(key), the weak-keys flag dropped) but cannot encode them (it has no Map
// case), so Dictionaries are checked one way: ours encoded, amfjs decoding.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const amfjs = require('amfjs');
const { amf } = require('../index.js');

/** Encodes one value with amfjs. */
function theirEncode(value, format) {
  const out = new PassThrough();
  const chunks = [];
  out.on('data', (c) => chunks.push(c));
  new amfjs.AMFEncoder(out).writeObject(value, format);
  out.end();
  return Buffer.concat([...chunks, out.read() ?? Buffer.alloc(0)]);
}

/** Decodes one value with amfjs, without the `__class: undefined` it adds to objects. */
function theirDecode(buf, format) {
  const input = new PassThrough();
  input.end(buf);
  const strip = (v) => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === '__class' && x === undefined)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return strip(new amfjs.AMFDecoder(input).decode(format));
}

/**
 * A deterministic generator of values both libraries map the same way. amfjs gets two
 * things wrong, so they are left out: AMF3 integers that need the 4-byte U29 form
 * (negative or >= 2^21: it writes bits 8-14 of the third byte from the wrong offset;
 * e.g. -243 as 04 ff ff fe 0d, which is -499 — AMF 3 §1.3.1), empty strict arrays (it
 * reads past their end), and empty objects (AMF3: it writes them as empty arrays).
 */
function generator(seed, amf3) {
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const words = ['live', 'connect', 'héllo', 'ключ', '日本', 'a b', ''];
  const value = (depth) => {
    const pick = next() % (depth > 2 ? 5 : 7);
    if (pick === 0) return amf3 ? next() % (1 << 21) : (next() % 2000) - 1000;
    if (pick === 1) return (next() % 100000) / 64 + 0.5;
    if (pick === 2) return words[next() % words.length] + (next() % 10);
    if (pick === 3) return next() % 2 === 0;
    if (pick === 4) return null;
    if (pick === 5) {
      const arr = Array.from({ length: 1 + (next() % 3) }, () => value(depth + 1));
      Object.defineProperty(arr, 'sarray', { value: true });
      return arr;
    }
    return Object.fromEntries(Array.from({ length: 1 + (next() % 3) }, (_, i) => [`k${i}${words[next() % 3]}`, value(depth + 1)]));
  };
  return () => value(0);
}

test('amfjs writes 4-byte AMF3 integers wrongly; node-rtmpapi decodes the bytes as AMF 3 §1.3.1 says', () => {
  // -243 as a 29-bit two's complement U29 is ff ff ff 0d.
  assert.deepEqual([...amf.amf3EncodeOne(-243)], [0x04, 0xff, 0xff, 0xff, 0x0d]);
  assert.deepEqual([...theirEncode(-243, amfjs.AMF3)], [0x04, 0xff, 0xff, 0xfe, 0x0d]);
  assert.equal(amf.amf3DecodeOne(Buffer.from([0x04, 0xff, 0xff, 0xfe, 0x0d])).value, -499);
});

for (const [name, format, encode, decode] of [
  ['AMF0', amfjs.AMF0, amf.amf0EncodeOne, amf.amf0DecodeOne],
  ['AMF3', amfjs.AMF3, amf.amf3EncodeOne, amf.amf3DecodeOne],
]) {
  test(`${name}: 300 generated values decode the same in amfjs and in node-rtmpapi, both ways`, () => {
    const gen = generator(name === 'AMF0' ? 0x1234 : 0x5678, name === 'AMF3');
    for (let i = 0; i < 300; i++) {
      const v = gen();
      const theirs = theirEncode(v, format);
      const decoded = decode(theirs);
      assert.equal(decoded.len, theirs.length, `consumed all of ${theirs.toString('hex')}`);
      assert.deepEqual(decoded.value, v, `ours decodes amfjs' ${theirs.toString('hex')}`);
      const ours = encode(v);
      assert.deepEqual(theirDecode(ours, format), v, `amfjs decodes our ${ours.toString('hex')}`);
    }
  });
}

test('AMF3 Dictionary: 100 generated Maps we encode decode in amfjs to the same entries', () => {
  const gen = generator(0x9abc, true);
  let s = 0x2468;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  // Keys amfjs decodes faithfully: integers under 2^21, doubles, strings, booleans, null.
  const key = () => [next() % (1 << 21), (next() % 1000) / 8 + 0.5, `key${next() % 50}`, next() % 2 === 0, null][next() % 5];
  for (let i = 0; i < 100; i++) {
    // At least one entry: amfjs reads an empty Dictionary's `[0..-1]` as two entries.
    const map = new Map(Array.from({ length: 1 + (next() % 4) }, () => [key(), gen()]));
    const weak = next() % 2 === 0;
    if (weak) Object.defineProperty(map, 'weakKeys', { value: true });
    const ours = amf.amf3EncodeOne(map);
    const expected = Object.fromEntries([...map].map(([k, v]) => [JSON.stringify(k), v]));
    assert.deepEqual(theirDecode(ours, amfjs.AMF3), expected, `amfjs decodes our ${ours.toString('hex')}`);
    const back = amf.amf3DecodeOne(ours).value;
    assert.deepEqual(back, map, 'and so do we');
    assert.equal(back.weakKeys, weak);
  }
});
