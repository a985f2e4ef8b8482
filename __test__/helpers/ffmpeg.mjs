// FFmpeg for tests: locate it, generate fixtures, publish a file to a URL.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A system `ffmpeg` on PATH, else the static build of @ffmpeg-installer/ffmpeg. */
export function ffmpegPath() {
  const system = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  if (system.status === 0) return 'ffmpeg';
  try {
    return require('@ffmpeg-installer/ffmpeg').path;
  } catch {
    throw new Error('FFmpeg not found: install ffmpeg or run npm install (devDependency @ffmpeg-installer/ffmpeg)');
  }
}

/** Runs FFmpeg to completion; rejects with its stderr on failure or timeout. */
export function runFfmpeg(args, { timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ffmpeg timed out after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Generates `file` once (to a temporary name, renamed when complete). */
async function generate(file, args) {
  if (existsSync(file)) return file;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.flv`;
  const { code, stderr } = await runFfmpeg(['-y', ...args, tmp]);
  if (code !== 0) throw new Error(`fixture generation failed: ${stderr}`);
  renameSync(tmp, file);
  return file;
}

/**
 * An H.264 (libx264) + AAC FLV from lavfi test sources, with onMetaData.
 * @param {string} file
 * @param {{ seconds?: number, width?: number, height?: number, fps?: number, gop?: number, videoBitrate?: string }} [o]
 */
export function makeFlv(file, o = {}) {
  const { seconds = 5, width = 320, height = 240, fps = 25, gop = fps * 2, videoBitrate = '500k' } = o;
  return generate(file, [
    '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-profile:v', 'main',
    '-g', String(gop), '-b:v', videoBitrate,
    '-c:a', 'aac', '-b:a', '96k', '-ar', '44100', '-ac', '2',
    '-f', 'flv',
  ]);
}

/** A short FLV whose keyframes exceed 1 MB: lossless x264 of 1920x1080 noise. */
export function makeLargeKeyframeFlv(file) {
  return generate(file, [
    '-f', 'lavfi', '-i', 'nullsrc=size=1280x720:rate=10:duration=1.5,geq=random(1)*255:128:128',
    '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100:duration=1.5',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '5', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'flv',
  ]);
}

/**
 * Publishes an FLV to an RTMP URL with `-c copy` (as fast as possible unless `realtime`).
 * @returns {Promise<{ code: number, stderr: string }>}
 */
export function publish(url, flvPath, { realtime = false, timeoutMs = 60000 } = {}) {
  return runFfmpeg([...(realtime ? ['-re'] : []), '-i', flvPath, '-c', 'copy', '-f', 'flv', url], { timeoutMs });
}
