import Hls from 'hls.js';
import './watch.css';
import {
  formatLatency,
  formatViewers,
  isStatusResponse,
  messageFor,
  playbackIdFromPath,
  type StatusResponse,
  type StreamStatus,
} from './player-state.ts';

// The public watch page: polls /api/streams/<id>, starts hls.js by itself when the stream goes
// live, shows "ended" when it ends. Everything is same-origin (strict CSP, no third parties).

const POLL_MS = 2000;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

const video = el<HTMLVideoElement>('video');
const overlay = el('overlay');
const message = el('message');
const badge = el('live-badge');
const viewers = el('viewers');
const latency = el('latency');
const muteBtn = el<HTMLButtonElement>('mute');
const fsBtn = el<HTMLButtonElement>('fullscreen');
const stage = el('stage');
const player = el('player');

const playbackId = playbackIdFromPath(location.pathname);
// Anonymous per-page-load id for approximate viewer counting (not stored anywhere).
const sid = crypto
  .getRandomValues(new Uint8Array(12))
  .reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');

let hls: Hls | undefined;
let shown: StreamStatus | undefined;

function setState(status: StreamStatus): void {
  player.dataset.state = status;
  badge.hidden = status !== 'live';
  if (status !== shown) {
    shown = status;
    if (status === 'live') startPlayback();
    else {
      stopPlayback();
      showMessage(messageFor(status));
    }
  }
}

function showMessage(text: string): void {
  message.textContent = text;
  overlay.hidden = false;
}

function applyInfo(s: StatusResponse): void {
  document.title = s.status === 'live' ? `● ${s.title}` : s.title;
  el('title').textContent = s.title;
  const d = el('description');
  d.textContent = s.description ?? '';
  d.hidden = !s.description;
  if (s.poster && !video.poster) video.poster = s.poster;
  viewers.hidden = s.status !== 'live';
  viewers.textContent = formatViewers(s.viewers);
}

function startPlayback(): void {
  const src = `/hls/${playbackId}/index.m3u8?sid=${sid}`;
  showMessage(messageFor('live'));
  if (Hls.isSupported()) {
    hls = new Hls({
      // Low-latency live edge with standard HLS (1 s segments): start one segment from the edge.
      liveSyncDurationCount: 1,
      liveMaxLatencyDurationCount: 4,
      maxLiveSyncPlaybackRate: 1.2,
      lowLatencyMode: false,
      backBufferLength: 10,
      manifestLoadingMaxRetry: 6,
      levelLoadingMaxRetry: 6,
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal || !hls) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else if (shown === 'live') {
        // Network trouble while live: rebuild the player on the next poll.
        stopPlayback();
        shown = undefined;
      }
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src; // Safari: native HLS
  } else {
    showMessage('This browser cannot play HLS video.');
    return;
  }
  void video.play().catch(() => {});
  muteBtn.disabled = false;
  fsBtn.disabled = false;
}

function stopPlayback(): void {
  hls?.destroy();
  hls = undefined;
  video.removeAttribute('src');
  video.load();
  latency.hidden = true;
}

video.addEventListener('playing', () => {
  overlay.hidden = true;
});

function updateMute(): void {
  muteBtn.textContent = video.muted ? 'Unmute' : 'Mute';
  muteBtn.setAttribute('aria-pressed', String(video.muted));
}
muteBtn.addEventListener('click', () => {
  video.muted = !video.muted;
  if (!video.muted) void video.play().catch(() => {});
  updateMute();
});
video.addEventListener('volumechange', updateMute);

fsBtn.addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void stage.requestFullscreen?.().catch(() => {});
});
document.addEventListener('fullscreenchange', () => {
  fsBtn.textContent = document.fullscreenElement ? 'Exit fullscreen' : 'Fullscreen';
});

// Keyboard: m = mute, f = fullscreen (buttons are reachable with Tab as well).
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === 'm' && !muteBtn.disabled) muteBtn.click();
  else if (e.key === 'f' && !fsBtn.disabled) fsBtn.click();
});

setInterval(() => {
  const text = formatLatency(hls?.latency);
  latency.hidden = !text || shown !== 'live';
  if (text) latency.textContent = text;
}, 1000);

async function poll(): Promise<void> {
  try {
    const res = await fetch(`/api/streams/${playbackId}`, { cache: 'no-store' });
    if (res.status === 404) {
      showMessage('There is no stream at this address.');
      return; // stop polling
    }
    const body: unknown = await res.json();
    if (res.ok && isStatusResponse(body)) {
      applyInfo(body);
      setState(body.status);
    }
  } catch {
    /* offline for a moment: try again */
  }
  setTimeout(() => void poll(), POLL_MS);
}

if (!playbackId) showMessage('There is no stream at this address.');
else void poll();
