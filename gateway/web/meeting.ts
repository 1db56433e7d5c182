import { Device, type types as msc } from 'mediasoup-client';
import { checkRoomName, cleanDisplayName } from '../src/conference/room-name.ts';
import { Signaling, SignalingError, type SignalingNotification } from './signaling.ts';
import { NAME_KEY, moderatorKey } from './storage-keys.ts';
import { Tiles } from './tiles.ts';
import { installLivestreamPanel } from './panel/meeting-glue.ts';

// The meeting page: joins /r/<room> over the signaling socket, publishes camera/mic/screen with
// mediasoup-client and consumes everyone else. A dropped socket tears the session down and
// rejoins with backoff, keeping the local camera/mic tracks.
//
// Extension points for later features (livestream panel, LIVE badge): the page dispatches
// `roomcast:joined` (detail: { room, peerId, moderator, request }) and `roomcast:notification`
// (detail: { method, data }) on `document`.

type Source = 'camera' | 'mic' | 'screen' | 'screen-audio';

interface ProducerView {
  id: string;
  kind: 'audio' | 'video';
  source: Source;
  paused: boolean;
}
interface PeerView {
  id: string;
  displayName: string;
  excludedFromStream: boolean;
  producers: ProducerView[];
}
interface JoinResponse {
  peerId: string;
  displayName: string;
  moderator: boolean;
  moderatorToken?: string;
  routerRtpCapabilities: msc.RtpCapabilities;
  peers: PeerView[];
  activeSpeaker: string | null;
}
interface TransportInfo {
  id: string;
  iceParameters: msc.IceParameters;
  iceCandidates: msc.IceCandidate[];
  dtlsParameters: msc.DtlsParameters;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const roomName = decodeURIComponent(location.pathname.split('/')[2] ?? '');
// ?video=320x240 lowers the camera resolution (tests, slow machines).
const [camWidth, camHeight] = (params.get('video') ?? '640x360').split('x').map(Number) as [number, number];

const tiles = new Tiles($('grid'), $('audio-sink'));
const statusEl = $('connection-status');
const warningEl = $('media-warning');

function setStatus(text: string): void {
  statusEl.textContent = text;
  statusEl.hidden = !text;
}
function setWarning(text: string): void {
  warningEl.textContent = text;
  warningEl.hidden = !text;
}

// ---- local media ---------------------------------------------------------------------------

const local: {
  mic: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
  screenAudio: MediaStreamTrack | null;
} = { mic: null, camera: null, screen: null, screenAudio: null };
let micOn = true;
let camOn = true;

function mediaErrorText(what: string, err: unknown): string {
  const name = (err as DOMException)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return `${what} permission was denied`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return `no ${what.toLowerCase()} was found`;
  if (name === 'NotReadableError') return `the ${what.toLowerCase()} is in use by another application`;
  return `the ${what.toLowerCase()} could not be started (${name ?? String(err)})`;
}

async function acquireLocalMedia(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    setWarning(
      'This page cannot use the camera or microphone here (a secure https:// address is needed). You joined receive-only.',
    );
    return;
  }
  const video = { width: { ideal: camWidth }, height: { ideal: camHeight }, frameRate: { ideal: 24 } };
  try {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video });
    local.mic = s.getAudioTracks()[0] ?? null;
    local.camera = s.getVideoTracks()[0] ?? null;
    return;
  } catch {
    // One of the two failed: try each alone so a missing camera does not also cost the mic.
  }
  const problems: string[] = [];
  try {
    local.mic = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0] ?? null;
  } catch (err) {
    problems.push(mediaErrorText('Microphone', err));
  }
  try {
    local.camera = (await navigator.mediaDevices.getUserMedia({ video })).getVideoTracks()[0] ?? null;
  } catch (err) {
    problems.push(mediaErrorText('Camera', err));
  }
  if (problems.length) {
    const receiveOnly = !local.mic && !local.camera;
    setWarning(
      `${capitalize(problems.join('; '))}. ` +
        (receiveOnly
          ? 'You joined receive-only: you can see and hear the others, they cannot see or hear you. '
          : 'The others receive what is available. ') +
        "To fix it, allow camera and microphone in the browser's site settings and reload.",
    );
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- one connection to the room (recreated on reconnect) -----------------------------------

class Session {
  device = new Device();
  send: msc.Transport | undefined;
  recv: msc.Transport | undefined;
  producers = new Map<Source, msc.Producer>();
  consumers = new Map<string, { consumer: msc.Consumer; peerId: string; source: Source }>();
  peers = new Map<string, { displayName: string; producers: Map<string, ProducerView> }>();
  selfId = '';
  moderator = false;
  private ready: Promise<void> = Promise.resolve();

  constructor(readonly sig: Signaling) {}

  async join(displayName: string): Promise<void> {
    const res = await this.sig.request<JoinResponse>('join', {
      room: roomName,
      displayName,
      moderatorToken: localStorage.getItem(moderatorKey(roomName)) ?? undefined,
    });
    this.selfId = res.peerId;
    this.moderator = res.moderator;
    if (res.moderatorToken) localStorage.setItem(moderatorKey(roomName), res.moderatorToken);
    $('moderator-badge').hidden = !res.moderator;
    tiles.setLocal(this.selfId, `${res.displayName} (you)`);
    for (const p of res.peers) this.addPeer(p);
    this.ready = this.setup(res);
    await this.ready;
    if (res.activeSpeaker) tiles.setSpeaker(res.activeSpeaker);
    document.dispatchEvent(
      new CustomEvent('roomcast:joined', {
        detail: {
          room: roomName,
          peerId: this.selfId,
          moderator: this.moderator,
          request: (method: string, data: object) => this.sig.request(method, data),
        },
      }),
    );
  }

  private async setup(res: JoinResponse): Promise<void> {
    await this.device.load({ routerRtpCapabilities: res.routerRtpCapabilities });
    this.recv = await this.createTransport('recv');
    if (local.mic || local.camera) this.send = await this.createTransport('send');
    if (local.mic) await this.produce('mic', local.mic, !micOn);
    if (local.camera) await this.produce('camera', local.camera, !camOn);
    if (local.screen) await this.produce('screen', local.screen, false);
    for (const p of res.peers) for (const prod of p.producers) await this.consume(prod.id);
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<msc.Transport> {
    const info = await this.sig.request<TransportInfo>('createWebRtcTransport', { direction });
    const transport =
      direction === 'send' ? this.device.createSendTransport(info) : this.device.createRecvTransport(info);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.sig
        .request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters })
        .then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.sig
          .request<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters, appData })
          .then(callback, errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed')
        setStatus('Media connection failed (network or firewall blocks WebRTC). Reconnecting…');
      if (state === 'failed') this.sig.close();
    });
    return transport;
  }

  async produce(source: Source, track: MediaStreamTrack, paused: boolean): Promise<void> {
    if (!this.send) this.send = await this.createTransport('send');
    const producer = await this.send.produce({
      track,
      appData: { source },
      stopTracks: false,
      codecOptions: source === 'mic' ? { opusDtx: true, opusFec: true } : undefined,
    });
    this.producers.set(source, producer);
    if (paused) await this.setPaused(source, true);
  }

  async setPaused(source: Source, paused: boolean): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.sig.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  async unproduce(source: Source): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    this.producers.delete(source);
    producer.close();
    await this.sig.request('closeProducer', { producerId: producer.id }).catch(() => {});
  }

  addPeer(p: PeerView): void {
    this.peers.set(p.id, {
      displayName: p.displayName,
      producers: new Map(p.producers.map((x) => [x.id, x])),
    });
    this.render(p.id);
  }

  render(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    const prods = [...peer.producers.values()];
    const mic = prods.find((x) => x.source === 'mic');
    const cam = prods.find((x) => x.source === 'camera');
    tiles.upsertRemote(peerId, peer.displayName, {
      micMuted: !mic || mic.paused,
      videoOn: Boolean(cam && !cam.paused),
    });
    $('peer-count').textContent = `${this.peers.size + 1} in the room`;
  }

  async consume(producerId: string): Promise<void> {
    if (!this.recv) return;
    try {
      const c = await this.sig.request<{
        id: string;
        producerId: string;
        peerId: string;
        kind: 'audio' | 'video';
        source: Source;
        rtpParameters: msc.RtpParameters;
      }>('consume', { producerId, rtpCapabilities: this.device.recvRtpCapabilities });
      const consumer = await this.recv.consume({
        id: c.id,
        producerId: c.producerId,
        kind: c.kind,
        rtpParameters: c.rtpParameters,
      });
      this.consumers.set(consumer.id, { consumer, peerId: c.peerId, source: c.source });
      tiles.attach(c.peerId, c.source, consumer.track, this.peers.get(c.peerId)?.displayName ?? '');
      await this.sig.request('resumeConsumer', { consumerId: consumer.id });
    } catch (err) {
      // The producer may have closed meanwhile: not worth a message, the UI follows notifications.
      if (!(err instanceof SignalingError && err.code === 'bad_params')) console.error('consume failed', err);
    }
  }

  closeConsumer(consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (!c) return;
    this.consumers.delete(consumerId);
    c.consumer.close();
    tiles.detach(c.peerId, c.source, c.consumer.track);
  }

  onNotification(n: SignalingNotification): void {
    const d = n.data;
    switch (n.method) {
      case 'peerJoined':
        this.addPeer(d as unknown as PeerView);
        break;
      case 'peerLeft': {
        const peerId = String(d.peerId);
        for (const [id, c] of this.consumers) if (c.peerId === peerId) this.closeConsumer(id);
        this.peers.delete(peerId);
        tiles.removePeer(peerId);
        $('peer-count').textContent = `${this.peers.size + 1} in the room`;
        break;
      }
      case 'peerUpdated': {
        const p = d as unknown as PeerView;
        const peer = this.peers.get(p.id);
        if (peer) peer.displayName = p.displayName;
        this.render(p.id);
        break;
      }
      case 'newProducer': {
        const prod = d as unknown as ProducerView & { peerId: string };
        this.peers.get(prod.peerId)?.producers.set(prod.id, prod);
        this.render(prod.peerId);
        void this.ready.then(() => this.consume(prod.id));
        break;
      }
      case 'producerClosed':
      case 'producerPaused':
      case 'producerResumed': {
        const peer = this.peers.get(String(d.peerId));
        const prod = peer?.producers.get(String(d.producerId));
        if (!peer || !prod) break;
        if (n.method === 'producerClosed') peer.producers.delete(prod.id);
        else prod.paused = n.method === 'producerPaused';
        this.render(String(d.peerId));
        break;
      }
      case 'consumerClosed':
        this.closeConsumer(String(d.consumerId));
        break;
      case 'activeSpeaker':
        tiles.setSpeaker(typeof d.peerId === 'string' ? d.peerId : null);
        break;
      case 'roomClosed':
        this.sig.close();
        break;
    }
    document.dispatchEvent(new CustomEvent('roomcast:notification', { detail: n }));
  }

  teardown(): void {
    this.send?.close();
    this.recv?.close();
    for (const id of [...this.consumers.keys()]) this.closeConsumer(id);
    for (const id of this.peers.keys()) tiles.removePeer(id);
    this.peers.clear();
    this.producers.clear();
  }
}

// ---- connection lifecycle -----------------------------------------------------------------

let session: Session | undefined;
let leaving = false;
let attempt = 0;
let displayName = '';
let joinError = '';

const BACKOFF_S = [1, 2, 4, 8, 15];

async function connect(): Promise<void> {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  let sig: Signaling;
  try {
    sig = await Signaling.connect(url);
  } catch {
    scheduleReconnect(`Cannot reach the roomcast server at ${location.host}.`);
    return;
  }
  const s = new Session(sig);
  session = s;
  sig.onNotification = (n) => s.onNotification(n);
  sig.onClose = () => {
    s.teardown();
    if (session === s) session = undefined;
    const reason = joinError
      ? `Could not join the meeting (${joinError}).`
      : 'Connection to the server was lost.';
    joinError = '';
    if (!leaving) scheduleReconnect(reason);
  };
  try {
    await s.join(displayName);
    attempt = 0;
    setStatus('');
    $('controls').hidden = false;
    updateButtons();
  } catch (err) {
    if (err instanceof SignalingError && (err.code === 'bad_params' || err.code === 'forbidden')) {
      leaving = true; // a refusal (room full, bad name) will not change by retrying
      setStatus(`Could not join: ${err.message}`);
      sig.close();
      return;
    }
    console.error('join failed', err);
    joinError = err instanceof Error ? err.message : String(err);
    sig.close(); // onClose schedules the retry
  }
}

function scheduleReconnect(reason: string): void {
  const delay = BACKOFF_S[Math.min(attempt, BACKOFF_S.length - 1)]!;
  attempt++;
  let left = delay;
  const tick = () => {
    setStatus(`${reason} Reconnecting in ${left} s…`);
    if (left-- <= 0) {
      setStatus(`${reason} Reconnecting…`);
      void connect();
      return;
    }
    window.setTimeout(tick, 1000);
  };
  tick();
}

// ---- controls -----------------------------------------------------------------------------

const btnMic = $<HTMLButtonElement>('btn-mic');
const btnCam = $<HTMLButtonElement>('btn-camera');
const btnScreen = $<HTMLButtonElement>('btn-screen');

function updateButtons(): void {
  btnMic.disabled = !local.mic;
  btnCam.disabled = !local.camera;
  btnMic.setAttribute('aria-pressed', String(Boolean(local.mic) && micOn));
  btnMic.textContent = !local.mic ? 'No mic' : micOn ? 'Mic on' : 'Mic off';
  btnCam.setAttribute('aria-pressed', String(Boolean(local.camera) && camOn));
  btnCam.textContent = !local.camera ? 'No camera' : camOn ? 'Camera on' : 'Camera off';
  btnScreen.setAttribute('aria-pressed', String(Boolean(local.screen)));
  btnScreen.textContent = local.screen ? 'Stop sharing' : 'Share screen';
  btnScreen.disabled = !navigator.mediaDevices?.getDisplayMedia && !local.screen;
  tiles.updateLocal({
    micMuted: !local.mic || !micOn,
    videoOn: Boolean(local.camera) && camOn,
    track: local.camera,
  });
}

btnMic.addEventListener('click', () => {
  micOn = !micOn;
  updateButtons();
  void session?.setPaused('mic', !micOn);
});
btnCam.addEventListener('click', () => {
  camOn = !camOn;
  updateButtons();
  void session?.setPaused('camera', !camOn);
});
btnScreen.addEventListener('click', () => {
  if (local.screen) void stopScreen();
  else void startScreen();
});
$('btn-leave').addEventListener('click', () => {
  leaving = true;
  session?.sig.close();
  for (const t of Object.values(local)) t?.stop();
  $('controls').hidden = true;
  $('grid').hidden = true;
  setStatus('');
  ($('rejoin') as HTMLAnchorElement).href = location.href;
  $('left').hidden = false;
});

async function startScreen(): Promise<void> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15 } },
      audio: true,
    });
  } catch (err) {
    if ((err as DOMException)?.name !== 'NotAllowedError')
      setWarning(`Screen sharing failed: ${String(err)}`);
    return;
  }
  await publishScreen(stream.getVideoTracks()[0] ?? null, stream.getAudioTracks()[0] ?? null);
}

async function publishScreen(video: MediaStreamTrack | null, audio: MediaStreamTrack | null): Promise<void> {
  if (!video) return;
  local.screen = video;
  local.screenAudio = audio;
  video.addEventListener('ended', () => void stopScreen()); // the browser's own "Stop sharing"
  tiles.setLocalScreen(video);
  updateButtons();
  await session?.produce('screen', video, false);
  if (audio) await session?.produce('screen-audio', audio, false);
}

async function stopScreen(): Promise<void> {
  local.screen?.stop();
  local.screenAudio?.stop();
  local.screen = null;
  local.screenAudio = null;
  tiles.setLocalScreen(null);
  updateButtons();
  await session?.unproduce('screen');
  await session?.unproduce('screen-audio');
}

// ---- test hook (documented in docs/configuration.md#conference) ----------------------------
// Lets e2e tests read WebRTC stats and the page's peer list, and publish a canvas as a screen
// share for browsers that cannot capture a screen (headless Chromium can: the e2e tests use the
// real button with an auto-selected screen).

interface InboundStat {
  kind: string;
  framesDecoded: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Grows while received audio is played out with a non-zero level ("they can hear you"). */
  totalAudioEnergy: number;
}

declare global {
  interface Window {
    __roomcast: {
      peerId(): string;
      /** The other participants this page knows (a hidden server-side consumer must never show up). */
      peers(): { id: string; displayName: string }[];
      inboundStats(): Promise<InboundStat[]>;
      /** A signaling request on this page's socket (the same the panel glue gets). */
      request(method: string, data: object): Promise<unknown>;
      shareCanvas(): Promise<void>;
    };
  }
}

window.__roomcast = {
  peerId: () => session?.selfId ?? '',
  peers: () =>
    [...(session?.peers ?? new Map()).entries()].map(([id, p]) => ({ id, displayName: p.displayName })),
  async inboundStats() {
    const report = await session?.recv?.getStats();
    const out: InboundStat[] = [];
    report?.forEach((s: Partial<InboundStat> & { type: string }) => {
      if (s.type === 'inbound-rtp')
        out.push({
          kind: s.kind ?? '',
          framesDecoded: s.framesDecoded ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
          totalAudioEnergy: s.totalAudioEnergy ?? 0,
        });
    });
    return out;
  },
  request: (method, data) => session?.sig.request(method, data) ?? Promise.reject(new Error('not joined')),
  async shareCanvas() {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d')!;
    let n = 0;
    const draw = () => {
      ctx.fillStyle = '#ff00ff';
      ctx.fillRect(0, 0, 320, 240);
      ctx.fillStyle = '#ffffff';
      ctx.font = '28px sans-serif';
      ctx.fillText(`shared screen ${n++}`, 20, 130);
    };
    draw();
    window.setInterval(draw, 100);
    await publishScreen(canvas.captureStream(10).getVideoTracks()[0] ?? null, null);
  },
};

// ---- start --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const check = checkRoomName(roomName);
  if (!check.ok) {
    setStatus(check.message);
    return;
  }
  $('room-name').textContent = roomName;
  document.title = `${roomName} · roomcast`;
  displayName = cleanDisplayName(params.get('name') ?? localStorage.getItem(NAME_KEY) ?? '');
  if (!displayName) displayName = await askName();
  localStorage.setItem(NAME_KEY, displayName);
  await acquireLocalMedia();
  updateButtons();
  await connect();
}

function askName(): Promise<string> {
  const form = $<HTMLFormElement>('name-form');
  const input = $<HTMLInputElement>('name-input');
  form.hidden = false;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = cleanDisplayName(input.value);
      if (!name) {
        $('name-error').textContent = 'Enter your name.';
        return;
      }
      form.hidden = true;
      resolve(name);
    });
  });
}

// The livestream panel (<roomcast-panel>, loaded from /embed/panel.js) after each join, in the
// side column next to the grid (style.css) so it never covers a video tile.
installLivestreamPanel($('side'));
void main();
