// FFmpeg helpers for tests and benchmarks: locate FFmpeg, generate cached FLV fixtures,
// publish an FLV to an RTMP URL. Run this file directly for a self-test:
//   node __test__/helpers/ffmpeg.mjs
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { readFlv, summarize, TAG_VIDEO } from './flv.mjs'
import { isExecutable, toolSkip, which } from './tools.mjs'

const require = createRequire(import.meta.url)

/** Every FFmpeg process started here; killed if Node exits while they run. */
const children = new Set()
process.once('exit', () => { for (const c of children) c.kill('SIGKILL') })

let cachedFfmpeg
/**
 * Path of the FFmpeg binary: $FFMPEG_PATH if set, else `ffmpeg` on PATH, else the static
 * build from the `@ffmpeg-installer/ffmpeg` devDependency (made executable if needed).
 * @returns {string}
 * @throws {Error} when none is found
 */
export function ffmpegPath() {
  if (cachedFfmpeg) return cachedFfmpeg
  let p = process.env.FFMPEG_PATH || which('ffmpeg')
  if (!p) {
    try {
      p = require('@ffmpeg-installer/ffmpeg').path
    } catch (e) {
      throw new Error('FFmpeg not found: no `ffmpeg` on PATH and @ffmpeg-installer/ffmpeg ' +
        `is not installed (run \`npm install\`): ${e.message.split('\n')[0]}`)
    }
    if (!isExecutable(p)) chmodSync(p, 0o755) // its postinstall may not have run
  }
  return (cachedFfmpeg = p)
}

/**
 * Path of ffprobe: $FFPROBE_PATH, else `ffprobe` on PATH, else the static build from
 * the `@ffprobe-installer/ffprobe` devDependency (made executable if needed), or null.
 * @returns {string|null}
 */
export function ffprobePath() {
  const p = process.env.FFPROBE_PATH || which('ffprobe')
  if (p) return p
  try {
    const npm = require('@ffprobe-installer/ffprobe').path
    if (!isExecutable(npm)) chmodSync(npm, 0o755)
    return npm
  } catch {
    return null
  }
}

/** The venv .ci/run makes for the PyPI package imageio-ffmpeg (a static FFmpeg 9). */
export const CI_VENV = fileURLToPath(new URL('../../.ci/venv/', import.meta.url))

/** Major version of the FFmpeg at `path` (from `-version`), or null when it does not run. */
export function ffmpegMajor(path) {
  const r = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 30_000 })
  const m = /^ffmpeg version n?(\d+)\./m.exec(r.stdout ?? '')
  return m ? Number(m[1]) : null
}

let cachedModern
/**
 * Path of a modern FFmpeg (8 or later: Enhanced RTMP v2, FourCC codecs and multitrack FLV):
 * $FFMPEG9_PATH (.ci/run exports it), else the imageio-ffmpeg binary of the venv .ci/run
 * makes (.ci/venv), else null.
 * @returns {string|null}
 * @throws {Error} when $FFMPEG9_PATH is set but is not an FFmpeg 8 or later
 */
export function modernFfmpegPath() {
  if (cachedModern !== undefined) return cachedModern
  let p = process.env.FFMPEG9_PATH || null
  if (!p) {
    const python = join(CI_VENV, 'bin', 'python')
    if (!existsSync(python)) return (cachedModern = null)
    const r = spawnSync(python, ['-c', 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())'],
      { encoding: 'utf8', timeout: 30_000 })
    p = r.status === 0 ? r.stdout.trim() : null
    if (!p) return (cachedModern = null)
  }
  const major = ffmpegMajor(p)
  if (!(major >= 8)) throw new Error(`${p} (FFMPEG9_PATH or .ci/venv) is FFmpeg ${major ?? '(does not run)'}, want 8 or later`)
  return (cachedModern = p)
}

/**
 * The `skip` option of a test that needs a modern FFmpeg (see toolSkip: under CI=true a
 * missing one throws).
 * @returns {string|false}
 */
export function modernFfmpegSkip() {
  return toolSkip(!modernFfmpegPath() &&
    'no FFmpeg 8+: set FFMPEG9_PATH, or make the venv .ci/run makes (python3 -m venv .ci/venv && .ci/venv/bin/pip install imageio-ffmpeg)')
}

/**
 * Runs FFmpeg to completion; rejects with its stderr when it fails or exceeds timeoutMs.
 * @param {string[]} args
 * @param {number} timeoutMs
 */
function run(args, timeoutMs, binary = ffmpegPath()) {
  return new Promise((res, rej) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    children.add(child)
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 65536) stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`ffmpeg timed out after ${timeoutMs} ms: ffmpeg ${args.join(' ')}\n${stderr}`)) }, timeoutMs)
    child.on('error', (e) => { clearTimeout(timer); children.delete(child); rej(e) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      if (code === 0) res(stderr)
      else rej(new Error(`ffmpeg exited with ${code ?? signal}: ffmpeg ${args.join(' ')}\n${stderr}`))
    })
  })
}

/** Whether `path` exists and its first KB holds the cache key (written into onMetaData). */
function hasKey(path, key) {
  if (!existsSync(path)) return false
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(4096)
    const n = readSync(fd, buf, 0, buf.length, 0)
    return buf.subarray(0, n).includes(key)
  } finally { closeSync(fd) }
}

/**
 * Generates `path` with FFmpeg unless it already exists with the same arguments: the
 * arguments' hash is stored as a `fixture` string in the file's onMetaData. Writes to a
 * temporary file and renames it, so an interrupted run leaves no half fixture.
 * @returns {Promise<boolean>} true when the file was generated, false when cached
 */
async function generate(path, inputArgs, outputArgs, timeoutMs, binary = ffmpegPath()) {
  const key = 'nrtmp-' + createHash('sha1').update(JSON.stringify([inputArgs, outputArgs])).digest('hex').slice(0, 16)
  if (hasKey(path, key)) return false
  mkdirSync(dirname(path), { recursive: true })
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp.flv`)
  try {
    await run(['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...inputArgs,
      ...outputArgs, '-metadata', `fixture=${key}`, '-f', 'flv', tmp], timeoutMs, binary)
    renameSync(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
  return true
}

/**
 * Generates (or reuses) an FLV with H.264 (libx264, yuv420p) and AAC (native encoder)
 * from lavfi `testsrc2` and `sine`. Timestamps start at 0; the file has onMetaData.
 * @param {string} path output file
 * @param {object} [opts]
 * @param {number} [opts.seconds=5]
 * @param {number} [opts.width=320]
 * @param {number} [opts.height=240]
 * @param {number} [opts.fps=25]
 * @param {number} [opts.gop] frames between key frames (default 2 s worth)
 * @param {string|number} [opts.videoBitrate='500k'] target (and max) video bitrate, e.g. '20M'
 * @param {boolean} [opts.audio=true] include an AAC track (44.1 kHz stereo, 128 kb/s)
 * @param {boolean} [opts.video=true] include the H.264 track (false: an audio-only stream)
 * @param {number} [opts.noise=0] temporal noise strength (0-100); makes high bitrates real
 * @param {'baseline'|'main'} [opts.profile='main'] 'main' has B-frames (non-zero composition times)
 * @param {string} [opts.preset='veryfast'] x264 preset
 * @param {number} [opts.timeoutMs=120000]
 * @returns {Promise<string>} the absolute path
 */
export async function makeFlv(path, opts = {}) {
  const { seconds = 5, width = 320, height = 240, fps = 25, gop = fps * 2, videoBitrate = '500k',
    audio = true, video = true, noise = 0, profile = 'main', preset = 'veryfast', timeoutMs = 120_000 } = opts
  const vf = `testsrc2=size=${width}x${height}:rate=${fps}` + (noise ? `,noise=alls=${noise}:allf=t` : '')
  const br = String(videoBitrate)
  const bufsize = /^\d+$/.test(br) ? String(Number(br) * 2) : (parseFloat(br) * 2) + br.replace(/^[\d.]+/, '')
  const input = video ? ['-f', 'lavfi', '-i', vf] : []
  if (audio) input.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100')
  const output = ['-t', String(seconds),
    ...(video ? ['-map', '0:v', '-c:v', 'libx264', '-preset', preset, '-profile:v', profile, '-pix_fmt', 'yuv420p',
      '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
      '-b:v', br, '-maxrate', br, '-bufsize', bufsize] : []),
    ...(audio ? ['-map', `${video ? 1 : 0}:a`, '-c:a', 'aac', '-b:a', '128k', '-ac', '2'] : [])]
  path = resolve(path)
  await generate(path, input, output, timeoutMs)
  return path
}

/** Size above which a tag no longer fits in one "1 MB" buffer. */
export const ONE_MB = 1_048_576

/**
 * Generates (or reuses) a 2 s FLV, 1920x1080 at 5 fps, whose video tags are all larger than
 * 1 MiB (~3.2 MB each: lossless x264 of random luma noise, a key frame every second),
 * plus AAC audio. Throws if no video tag exceeds 1,048,576 bytes.
 * @param {string} path output file
 * @returns {Promise<string>} the absolute path
 */
export async function makeLargeKeyframeFlv(path) {
  path = resolve(path)
  await generate(path,
    ['-f', 'lavfi', '-i', "nullsrc=size=1920x1080:rate=5,geq=lum='random(1)*255':cb=128:cr=128",
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ['-t', '2', '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0',
      '-pix_fmt', 'yuv420p', '-g', '5', '-c:a', 'aac', '-b:a', '64k', '-ac', '2'],
    120_000)
  const largest = Math.max(...readFlv(path).tags.filter((t) => t.type === TAG_VIDEO).map((t) => t.size))
  if (!(largest > ONE_MB)) throw new Error(`${path}: largest video tag is ${largest} bytes, want > ${ONE_MB}`)
  return path
}

/**
 * Runs FFmpeg with `args` until it exits; resolves { code, signal, stderr } whatever
 * the exit code. On timeout or abort it kills FFmpeg and rejects once it has ended.
 */
function spawnFfmpeg(args, what, { timeoutMs = 60_000, signal, binary = ffmpegPath() } = {}) {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(signal.reason ?? new Error('aborted'))
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    children.add(child)
    let stderr = ''
    let failure = null
    child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 65536) stderr += d })
    const kill = (err) => { failure ??= err; child.kill('SIGKILL') }
    const onAbort = () => kill(signal.reason ?? new Error(`${what} aborted`))
    const timer = setTimeout(() => kill(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); children.delete(child) }
    child.on('error', (e) => { done(); rej(e) })
    child.on('close', (code, sig) => {
      done()
      if (failure) { failure.stderr = stderr; rej(failure) } else res({ code, signal: sig, stderr })
    })
  })
}

/** Encoder arguments of the codecs makeEnhancedFlv knows, fast presets for 2 cores. */
const ENCODERS = {
  h264: ['libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
  hevc: ['libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-x265-params', 'log-level=error'],
  av1: ['libsvtav1', '-preset', '12', '-pix_fmt', 'yuv420p'],
  vp9: ['libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
  aac: ['aac'],
  opus: ['libopus'],
  flac: ['flac'],
  ac3: ['ac3'],
  eac3: ['eac3'],
}

/**
 * Generates (or reuses) an Enhanced RTMP v2 FLV with a modern FFmpeg (FourCC codecs;
 * several tracks of a kind are multitrack): `video` and `audio` list one codec per
 * track (keys of ENCODERS). Video tracks are testsrc2 at 320x240, 160x120, ...;
 * audio tracks sines at 48 kHz stereo, 44.1 kHz mono, ... Keyframes every second.
 * @param {string} path
 * @param {{ video?: string[], audio?: string[], seconds?: number, ffmpeg?: string }} opts
 * @returns {Promise<string>} the absolute path
 */
export async function makeEnhancedFlv(path, { video = [], audio = [], seconds = 6, ffmpeg = modernFfmpegPath() } = {}) {
  if (!ffmpeg) throw new Error('makeEnhancedFlv needs a modern FFmpeg (FFMPEG9_PATH)')
  const input = []
  const output = []
  video.forEach((codec, i) => {
    input.push('-f', 'lavfi', '-i', `testsrc2=size=${320 >> i}x${240 >> i}:rate=25:duration=${seconds}`)
    output.push('-map', `${i}:v`, `-c:v:${i}`, ...ENCODERS[codec], `-g:v:${i}`, '25')
  })
  audio.forEach((codec, i) => {
    // The first track 48 kHz stereo, the others mono at 44.1 kHz (24 kHz for Opus).
    const rate = i === 0 ? 48000 : codec === 'opus' ? 24000 : 44100
    input.push('-f', 'lavfi', '-i', `sine=frequency=${440 * (i + 1)}:sample_rate=${rate}:duration=${seconds}`)
    output.push('-map', `${video.length + i}:a`, `-c:a:${i}`, ...ENCODERS[codec], `-ac:a:${i}`, i === 0 ? '2' : '1')
  })
  await generate(path, input, output, 300_000, ffmpeg)
  return resolve(path)
}

/**
 * The streams FFmpeg (`binary`, default the modern one) finds in `input` (a file or an
 * RTMP URL), as "Video: hevc 320x240" / "Audio: opus 48000 Hz stereo" lines; with
 * `decode`, also every error decoding all of them.
 * @returns {Promise<{ streams: string[], errors: string }>}
 */
export async function probeStreams(input, { binary = modernFfmpegPath(), decode = true, timeoutMs = 60_000 } = {}) {
  const args = ['-hide_banner', '-nostdin', '-i', input, ...(decode ? ['-map', '0', '-f', 'null', '-'] : [])]
  const r = await spawnFfmpeg(args, `probe of ${input}`, { timeoutMs, binary })
  const streams = []
  for (const line of r.stderr.split('\n')) {
    const m = /^\s*Stream #0:\d+[^:]*: (\w+): (.*)$/.exec(line)
    if (!m || /^\s*Stream #0:\d+ ->/.test(line)) continue
    const [, kind, rest] = m
    const codec = rest.split(/[ ,]/)[0]
    const size = /, (\d+x\d+)/.exec(rest)?.[1]
    const rate = /(\d+) Hz, ([\w.()]+)/.exec(rest)
    streams.push([`${kind}: ${codec}`, size, rate && `${rate[1]} Hz ${rate[2]}`].filter(Boolean).join(' '))
  }
  if (decode) {
    // Only the input's streams (before "Output #0"), not the encoder's view of them.
    const cut = r.stderr.indexOf('Output #0')
    const inputPart = cut >= 0 ? r.stderr.slice(0, cut) : r.stderr
    streams.length = Math.min(streams.length, (inputPart.match(/^\s*Stream #0:\d+[^:]*: \w+: /gm) || []).length)
  }
  const errors = r.stderr.split('\n').filter((l) => /error|invalid|corrupt|non-existing|missing|no frame/i.test(l) && !/^\s*(Stream|Input|Output|Metadata)/.test(l)).join('\n')
  return { streams, errors, code: r.code, stderr: r.stderr }
}

/**
 * Publishes an FLV to an RTMP URL with `-c copy` (as fast as possible unless `realtime`).
 * @returns {Promise<{ code: number|null, signal: string|null, stderr: string }>}
 */
export function publish(url, flvPath, { realtime = false, timeoutMs = 60_000, signal, extraArgs = [], binary } = {}) {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', ...(realtime ? ['-re'] : []),
    '-i', flvPath, '-c', 'copy', ...extraArgs, '-f', 'flv', url]
  return spawnFfmpeg(args, `publish to ${url}`, { timeoutMs, signal, binary })
}

/**
 * Plays an RTMP URL with FFmpeg and records `seconds` of it into an FLV (`-c copy`).
 * @returns {Promise<{ code: number|null, signal: string|null, stderr: string }>}
 */
export function record(url, outPath, { seconds = 2, timeoutMs = 60_000, signal, binary, allTracks = false } = {}) {
  mkdirSync(dirname(outPath), { recursive: true })
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', url, ...(allTracks ? ['-map', '0'] : []),
    '-c', 'copy', '-t', String(seconds), '-f', 'flv', '-y', outPath]
  return spawnFfmpeg(args, `play of ${url}`, { timeoutMs, signal, binary })
}

/**
 * Decodes every frame of a file with ffprobe (`-count_frames`): resolves the frames
 * counted per stream type and ffprobe's error output (empty when it decoded cleanly).
 * @returns {Promise<{ frames: Record<string, number>, errors: string }>}
 */
export function probeFrames(file) {
  const probe = ffprobePath()
  if (!probe) throw new Error('ffprobe not found: run npm install (devDependency @ffprobe-installer/ffprobe)')
  return new Promise((res, rej) => {
    const child = spawn(probe, ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,nb_read_frames',
      '-of', 'json', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let out = ''
    let errors = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { errors += d })
    child.on('error', rej)
    child.on('close', (code) => {
      children.delete(child)
      if (code !== 0) return rej(new Error(`ffprobe exited with ${code}: ${errors}`))
      const frames = {}
      for (const s of JSON.parse(out).streams) frames[s.codec_type] = Number(s.nb_read_frames)
      res({ frames, errors })
    })
  })
}

// Self-test: node __test__/helpers/ffmpeg.mjs [outdir]
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] || join(dirname(new URL(import.meta.url).pathname), '..', 'fixtures')
  console.log('ffmpeg:', ffmpegPath(), '| ffprobe:', ffprobePath())
  for (const [name, make] of [
    ['small.flv', (p) => makeFlv(p)],
    ['large-keyframes.flv', (p) => makeLargeKeyframeFlv(p)],
  ]) {
    const t0 = performance.now()
    const p = await make(join(dir, name))
    const s = summarize(readFlv(p).tags)
    console.log(name, `${(performance.now() - t0).toFixed(0)} ms`, JSON.stringify(s))
  }
}
