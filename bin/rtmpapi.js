#!/usr/bin/env node
// rtmpapi: publish an FLV file, record a stream, or run the live server.
//
//   rtmpapi publish FILE.flv rtmp[s]://host[:port]/app/stream [--fast]
//   rtmpapi play rtmp[s]://host[:port]/app/stream OUT.flv [--duration S]
//   rtmpapi serve [--port P] [--cert CERT.pem --key KEY.pem]
//
// rtmps:// URLs trust Mozilla's roots, or --ca FILE; --insecure accepts any certificate.
//
// Files pass as they are: FourCC codecs (HEVC, AV1, VP9, Opus, FLAC, AC-3, E-AC-3),
// multitrack and ModEx tags are sent and written byte for byte.
//
// Exit codes: 0 done, 1 usage or bad URL, 2 connection failed or lost, 3 refused by the
// server (_error, NetStream.*.BadName/Failed), 4 file error.

'use strict';

const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');
const { RtmpClient, readFlv, FlvWriter, parseRtmpUrl } = require('..');

const EXIT = { ok: 0, usage: 1, connection: 2, refused: 3, file: 4 };
const USAGE = `usage:
  rtmpapi publish FILE.flv URL [--fast]        publish at real-time pace (--fast: as fast as possible)
  rtmpapi play URL OUT.flv [--duration S]      record a stream (until it ends, or S seconds)
  rtmpapi serve [--port P] [--cert F --key F]  run the live server (default port 1935; RTMPS with --cert/--key)
options for rtmps:// URLs: --ca FILE (certificates to trust), --insecure (accept any certificate)`;

class CliError extends Error {
  constructor(exitCode, message) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Maps an error to an exit code. */
function exitCodeOf(err) {
  if (err instanceof CliError) return err.exitCode;
  if (err.code === 'ERR_INVALID_URL') return EXIT.usage;
  if (['ERR_RTMP_COMMAND', 'ERR_RTMP_PUBLISH', 'ERR_RTMP_PLAY'].includes(err.code)) return EXIT.refused;
  if (err.code === 'ERR_INVALID_ARG_VALUE' || err.code === 'ERR_INVALID_ARG_TYPE') return EXIT.usage;
  if (err.code === 'ERR_FLV_FORMAT' || err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') return EXIT.file;
  return EXIT.connection;
}

/** A progress line on a terminal: time, bytes, bitrate. */
function progress(label) {
  const started = Date.now();
  let bytes = 0;
  let mediaMs = 0;
  const tty = process.stderr.isTTY;
  const show = (final) => {
    if (!tty && !final) return;
    const secs = (Date.now() - started) / 1000;
    const line = `${label} ${(mediaMs / 1000).toFixed(1)} s  ${(bytes / 1e6).toFixed(2)} MB  ${secs > 0 ? ((bytes * 8) / secs / 1000).toFixed(0) : 0} kbit/s`;
    process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
  };
  const timer = setInterval(() => show(false), 500);
  return {
    add(n, ms) {
      bytes += n;
      mediaMs = ms;
    },
    done() {
      clearInterval(timer);
      show(true);
      if (tty) process.stderr.write('\n');
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function publish(file, url, { fast, tls }) {
  parseRtmpUrl(url);
  const { tags } = readFlv(file);
  // Announces Enhanced RTMP caps (capsEx Reconnect among them): the client follows a
  // reconnect request, moving the publication at a keyframe.
  const client = new RtmpClient({ enhanced: true });
  await client.connect(url, { tls });
  await client.publish();
  const meter = progress('publish');
  const first = tags.length ? tags[0].timestamp : 0;
  const started = Date.now();
  try {
    for (const tag of tags) {
      const at = tag.timestamp - first;
      if (!fast) {
        const wait = started + at - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const ok = client.sendTag(tag);
      meter.add(tag.size, at);
      if (!ok) await client.drain();
    }
    await client.drain();
  } finally {
    meter.done();
  }
  await client.close();
}

async function play(url, out, { duration, tls }) {
  parseRtmpUrl(url);
  const client = new RtmpClient();
  await client.connect(url, { tls });
  const writer = new FlvWriter(out);
  const meter = progress('play');
  let first = null;
  // Once finished, messages still arriving before the client closes are not written:
  // the writer closes first.
  let done = false;
  let finish;
  const finished = new Promise((resolve) => {
    finish = () => {
      done = true;
      resolve();
    };
  });
  const onMedia = (type) => (data, timestamp) => {
    if (done) return;
    if (first === null) first = timestamp;
    writer.write(type, timestamp - first, data);
    meter.add(data.length, timestamp - first);
    if (duration && timestamp - first >= duration * 1000) finish();
  };
  client.on('audio', onMedia(8));
  client.on('video', onMedia(9));
  client.on('data', (_m, data, timestamp) => {
    if (!done) writer.write(18, Math.max(0, timestamp - (first ?? timestamp)), data);
  });
  client.on('status', (info) => {
    if (/UnpublishNotify|Play\.Stop|Play\.Complete/.test(info.code)) finish();
  });
  client.on('close', finish);
  await client.play();
  await finished;
  meter.done();
  writer.close();
  await client.close();
}

/** The client's `tls` option from --ca / --insecure (a missing file exits 4). */
function clientTls({ ca, insecure }) {
  return { ca: ca === undefined ? undefined : readFileSync(ca), rejectUnauthorized: !insecure };
}

async function serve({ port, cert, key }) {
  const { createLiveServer } = require('../examples/server.js');
  if ((cert === undefined) !== (key === undefined)) throw new CliError(EXIT.usage, '--cert and --key go together');
  const tls = cert === undefined ? undefined : { cert: readFileSync(cert), key: readFileSync(key) };
  const server = createLiveServer({ tls });
  server.on('error', (err) => {
    console.error(`rtmpapi serve: ${err.message}`);
    process.exit(EXIT.connection);
  });
  const scheme = tls ? 'rtmps' : 'rtmp';
  server.listen(port, () => console.log(`RTMP server listening on ${scheme}://127.0.0.1:${server.address().port}/live`));
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      fast: { type: 'boolean', default: false },
      duration: { type: 'string' },
      port: { type: 'string', default: process.env.PORT || '1935' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, a, b] = positionals;
  if (values.help || !command) throw new CliError(values.help ? EXIT.ok : EXIT.usage, USAGE);
  if (command === 'publish' && a && b) return publish(a, b, { fast: values.fast, tls: clientTls(values) });
  if (command === 'play' && a && b) {
    const duration = values.duration === undefined ? undefined : Number(values.duration);
    if (duration !== undefined && !(duration > 0)) throw new CliError(EXIT.usage, '--duration must be a positive number of seconds');
    return play(a, b, { duration, tls: clientTls(values) });
  }
  if (command === 'serve') return serve({ port: Number(values.port), cert: values.cert, key: values.key });
  throw new CliError(EXIT.usage, USAGE);
}

main(process.argv.slice(2)).then(
  () => {},
  (err) => {
    const code = exitCodeOf(err);
    console.error(err instanceof CliError && code <= EXIT.usage ? err.message : `rtmpapi: ${err.message}`);
    process.exit(code);
  },
);
