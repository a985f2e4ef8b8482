// Proof with a real client: FFmpeg publishes a generated H.264 + AAC FLV to the original
// README's example server (examples/readme-server.js, run as a child process) and to
// a recording server; what arrives must equal the tags of the file.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ffmpegPath, makeFlv, makeLargeKeyframeFlv, publish } from './helpers/ffmpeg.mjs';
import { readFlv } from './helpers/flv.mjs';
import { startIngestServer } from './helpers/ingest-server.mjs';
import { startListeningServer } from './helpers/process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const readmeServer = path.join(here, '..', 'examples', 'readme-server.js');
let flvPath;
let largePath;

before(async () => {
  console.log(`# FFmpeg: ${ffmpegPath()}`);
  flvPath = await makeFlv(path.join(fixtures, 'av.flv'), { seconds: 4, width: 320, height: 240, fps: 25 });
  largePath = await makeLargeKeyframeFlv(path.join(fixtures, 'large-keyframes.flv'));
});

/** Runs the README server; resolves its port and a way to read its output lines. */
async function startReadmeServer() {
  const { child, port, output } = await startListeningServer(process.execPath, [readmeServer]);
  return {
    port,
    lines: () => output().split('\n').filter(Boolean),
    waitFor: async (re, ms = 10000) => {
      const started = Date.now();
      while (!re.test(output())) {
        if (Date.now() - started > ms) throw new Error(`timed out waiting for ${re}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => child.kill(),
  };
}

test('the README example server receives FFmpeg\'s publish: commands, metadata, every tag', async () => {
  const server = await startReadmeServer();
  try {
    const result = await publish(`rtmp://127.0.0.1:${server.port}/live/key`, flvPath, { timeoutMs: 30000 });
    assert.equal(result.code, 0, `ffmpeg failed: ${result.stderr}`);
    await server.waitFor(/^close$/m);
    const lines = server.lines();
    const commands = lines.filter((l) => l.startsWith('amf0cmd ')).map((l) => JSON.parse(l.slice(8)));
    const byName = (n) => commands.find((c) => c.cmd === n);

    const connect = byName('connect');
    assert.equal(connect.transId, 1);
    assert.equal(connect.cmdObj.app, 'live');
    assert.equal(connect.cmdObj.tcUrl, `rtmp://127.0.0.1:${server.port}/live`);
    assert.equal(typeof connect.cmdObj.flashVer, 'string');
    assert.equal(byName('releaseStream').streamId, 'key');
    assert.equal(byName('FCPublish').streamId, 'key');
    assert.ok(byName('createStream').transId > 1);
    assert.ok('cmdObj' in byName('createStream'));
    assert.equal(byName('publish').name, 'key');
    assert.equal(byName('publish').type, 'live');
    assert.deepEqual(commands.slice(0, 5).map((c) => c.cmd), ['connect', 'releaseStream', 'FCPublish', 'createStream', 'publish']);

    const meta = lines.find((l) => l.startsWith('amf0meta '));
    assert.ok(meta, 'metadata arrived');
    const dec = JSON.parse(meta.slice(9));
    assert.equal(dec[0], '@setDataFrame');
    assert.equal(dec[1], 'onMetaData');
    assert.equal(dec[2].width, 320);
    assert.equal(dec[2].height, 240);

    const { tags } = readFlv(flvPath);
    for (const [kind, type] of [['audio', 8], ['video', 9]]) {
      const got = lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.split(' ').slice(1).map(Number));
      const want = tags.filter((t) => t.type === type);
      assert.ok(want.length > 50, `fixture has ${kind}`);
      assert.equal(got.length, want.length, `${kind} message count`);
      assert.deepEqual(got.map((g) => g[1]), want.map((t) => t.size), `${kind} payload sizes`);
      assert.deepEqual(got.map((g) => g[0]), want.map((t) => t.timestamp), `${kind} timestamps`);
      assert.ok(got.every((g) => g[2] === 1), `${kind} on message stream 1`);
    }
  } finally {
    server.stop();
  }
});

/** Asserts the recorded media equals the file's tags, byte for byte. */
function assertSamePayloads(messages, flv) {
  const { tags } = readFlv(flv);
  const digest = (b) => createHash('sha1').update(b).digest('hex');
  for (const [kind, type] of [['audio', 8], ['video', 9]]) {
    const got = messages.filter((m) => m.type === kind);
    const want = tags.filter((t) => t.type === type);
    assert.equal(got.length, want.length, `${kind} count`);
    assert.deepEqual(got.map((m) => m.timestamp), want.map((t) => t.timestamp), `${kind} timestamps`);
    assert.deepEqual(got.map((m) => digest(m.data)), want.map((t) => digest(t.data)), `${kind} payload bytes`);
  }
}

test('payloads arrive byte for byte', async () => {
  const server = await startIngestServer();
  try {
    const result = await publish(`rtmp://127.0.0.1:${server.port}/live/bytes`, flvPath, { timeoutMs: 30000 });
    assert.equal(result.code, 0, result.stderr);
    await server.closed;
    assert.deepEqual(server.errors, []);
    assertSamePayloads(server.messages, flvPath);
    const [config, key] = server.messages.filter((m) => m.type === 'video');
    assert.deepEqual([config.msg.frameType, config.msg.codecId, config.msg.avcPacketType], [1, 7, 0], 'AVC sequence header');
    assert.deepEqual([key.msg.frameType, key.msg.avcPacketType, key.msg.payloadOffset], [1, 1, 5], 'AVC keyframe NALUs');
    const aac = server.messages.find((m) => m.type === 'audio');
    assert.deepEqual([aac.msg.soundFormat, aac.msg.aacPacketType, aac.msg.payloadOffset], [10, 0, 2], 'AAC sequence header');
    // The relay's classifier, as the JS face shows it.
    assert.deepEqual([config.msg.role, config.msg.config, key.msg.role, aac.msg.role, aac.msg.config],
      ['config', 'sequenceStart', 'keyframe', 'config', 'sequenceStart']);
    // Then frames and keyframes, and at the end FFmpeg's AVC end of sequence.
    const rest = server.messages.filter((m) => m.type === 'video').slice(1).map((m) => m.msg.config ?? m.msg.role);
    assert.equal(rest.at(-1), 'sequenceEnd');
    assert.deepEqual(new Set(rest.slice(0, -1)), new Set(['keyframe', 'frame']));
  } finally {
    await server.close();
  }
});

test('keyframes larger than 1 MB arrive whole', async () => {
  const server = await startIngestServer();
  try {
    const result = await publish(`rtmp://127.0.0.1:${server.port}/live/large`, largePath, { timeoutMs: 60000 });
    assert.equal(result.code, 0, result.stderr);
    await server.closed;
    assert.deepEqual(server.errors, []);
    const largest = Math.max(...server.messages.filter((m) => m.type === 'video').map((m) => m.data.length));
    assert.ok(largest > 1024 * 1024, `largest video message ${largest} bytes`);
    assertSamePayloads(server.messages, largePath);
  } finally {
    await server.close();
  }
});
