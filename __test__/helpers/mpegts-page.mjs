// The page the browser tests load from another origin than the server's: mpegts.js
// (served at /mpegts.js by the test) plays a URL into a muted <video> per source;
// window.play(id, url) starts one, window.sample(id) (or results[id].sample()) reads
// its currentTime, frames decoded and dropped, audio bytes and errors.
export const MPEGTS_PAGE = `<!doctype html><meta charset="utf-8"><title>flv test</title>
<script src="/mpegts.js"></script>
<script>
window.results = {};
window.play = (id, url) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.appendChild(video);
  const r = (window.results[id] = { errors: [], start: null });
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableStashBuffer: false });
  player.on(mpegts.Events.ERROR, (type, detail, info) => r.errors.push([type, detail, info && info.msg].join(': ')));
  video.addEventListener('error', () => r.errors.push('media error ' + (video.error && video.error.message)));
  video.addEventListener('playing', () => { if (r.start === null) r.start = video.currentTime; });
  player.attachMediaElement(video);
  player.load();
  video.play().catch((e) => r.errors.push('play(): ' + e.message));
  r.sample = () => ({ currentTime: video.currentTime, start: r.start, frames: video.getVideoPlaybackQuality().totalVideoFrames,
    dropped: video.getVideoPlaybackQuality().droppedVideoFrames, audioBytes: video.webkitAudioDecodedByteCount, errors: r.errors });
};
window.sample = (id) => window.results[id].sample();
</script><body></body>`
