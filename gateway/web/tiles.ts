// The video grid. DOM contract (used by tests, keep it stable):
//   [data-testid=tile][data-peer-id=<id>][data-source=camera|screen]  one tile per camera/screen
//     data-local="true" for your own tiles, data-speaking="true|false", data-video="on|off"
//     [data-testid=name]       display name
//     [data-testid=mic-state]  data-muted="true|false"
//   [data-testid=audio][data-peer-id=<id>]  one <audio> per remote audio track (hidden)

type Source = 'camera' | 'mic' | 'screen' | 'screen-audio';

export class Tiles {
  private localId = 'local';
  private localName = 'You';
  private speaker: string | null = null;

  constructor(
    private readonly grid: HTMLElement,
    private readonly audioSink: HTMLElement,
  ) {}

  private tile(peerId: string, source: 'camera' | 'screen'): HTMLElement | null {
    return this.grid.querySelector<HTMLElement>(
      `[data-testid="tile"][data-peer-id="${CSS.escape(peerId)}"][data-source="${source}"]`,
    );
  }

  private ensureTile(
    peerId: string,
    source: 'camera' | 'screen',
    name: string,
    isLocal: boolean,
  ): HTMLElement {
    let el = this.tile(peerId, source);
    if (!el) {
      el = document.createElement('div');
      el.className = 'tile';
      el.dataset.testid = 'tile';
      el.dataset.peerId = peerId;
      el.dataset.source = source;
      el.dataset.video = 'off';
      el.dataset.speaking = String(peerId === this.speaker && source === 'camera');
      if (isLocal) el.dataset.local = 'true';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true; // audio plays from separate <audio> elements
      const avatar = document.createElement('div');
      avatar.className = 'avatar';
      const label = document.createElement('div');
      label.className = 'label';
      const nameEl = document.createElement('span');
      nameEl.className = 'name';
      nameEl.dataset.testid = 'name';
      const mic = document.createElement('span');
      mic.className = 'mic-state';
      mic.dataset.testid = 'mic-state';
      mic.dataset.muted = 'true';
      mic.textContent = 'muted';
      mic.title = 'Microphone off';
      label.append(nameEl);
      if (source === 'camera') label.append(mic);
      el.append(video, avatar, label);
      // Local tiles first, then screens, then the others in join order.
      if (isLocal) this.grid.prepend(el);
      else this.grid.append(el);
    }
    const label = source === 'screen' ? `${name} · screen` : name;
    el.querySelector<HTMLElement>('[data-testid="name"]')!.textContent = label;
    el.querySelector<HTMLElement>('.avatar')!.textContent = initials(name);
    return el;
  }

  setLocal(peerId: string, name: string): void {
    for (const el of this.grid.querySelectorAll<HTMLElement>('[data-local="true"]'))
      el.dataset.peerId = peerId;
    this.localId = peerId;
    this.localName = name;
    this.ensureTile(peerId, 'camera', name, true);
  }

  updateLocal(state: { micMuted: boolean; videoOn: boolean; track: MediaStreamTrack | null }): void {
    const el = this.ensureTile(this.localId, 'camera', this.localName, true);
    setVideo(el, state.track);
    el.dataset.video = state.videoOn ? 'on' : 'off';
    el.querySelector<HTMLElement>('[data-testid="mic-state"]')!.dataset.muted = String(state.micMuted);
  }

  setLocalScreen(track: MediaStreamTrack | null): void {
    if (!track) {
      this.tile(this.localId, 'screen')?.remove();
      return;
    }
    const el = this.ensureTile(this.localId, 'screen', 'Your', true);
    el.querySelector<HTMLElement>('[data-testid="name"]')!.textContent = 'Your screen';
    setVideo(el, track);
    el.dataset.video = 'on';
  }

  upsertRemote(peerId: string, name: string, state: { micMuted: boolean; videoOn: boolean }): void {
    const el = this.ensureTile(peerId, 'camera', name, false);
    el.dataset.video = state.videoOn && hasVideo(el) ? 'on' : 'off';
    el.dataset.wantVideo = String(state.videoOn);
    el.querySelector<HTMLElement>('[data-testid="mic-state"]')!.dataset.muted = String(state.micMuted);
    const screen = this.tile(peerId, 'screen');
    if (screen) this.ensureTile(peerId, 'screen', name, false);
  }

  attach(peerId: string, source: Source, track: MediaStreamTrack, name: string): void {
    if (track.kind === 'audio') {
      const audio = document.createElement('audio');
      audio.autoplay = true;
      audio.dataset.testid = 'audio';
      audio.dataset.peerId = peerId;
      audio.dataset.trackId = track.id;
      audio.srcObject = new MediaStream([track]);
      this.audioSink.append(audio);
      return;
    }
    const el = this.ensureTile(peerId, source === 'screen' ? 'screen' : 'camera', name, false);
    setVideo(el, track);
    el.dataset.video = source === 'screen' || el.dataset.wantVideo !== 'false' ? 'on' : 'off';
  }

  detach(peerId: string, source: Source, track: MediaStreamTrack): void {
    if (track.kind === 'audio') {
      this.audioSink.querySelector(`[data-track-id="${CSS.escape(track.id)}"]`)?.remove();
      return;
    }
    if (source === 'screen') {
      this.tile(peerId, 'screen')?.remove();
      return;
    }
    const el = this.tile(peerId, 'camera');
    if (el) {
      setVideo(el, null);
      el.dataset.video = 'off';
    }
  }

  removePeer(peerId: string): void {
    for (const el of this.grid.querySelectorAll(`[data-peer-id="${CSS.escape(peerId)}"]`)) el.remove();
    for (const el of this.audioSink.querySelectorAll(`[data-peer-id="${CSS.escape(peerId)}"]`)) el.remove();
  }

  setSpeaker(peerId: string | null): void {
    this.speaker = peerId;
    for (const el of this.grid.querySelectorAll<HTMLElement>('[data-testid="tile"]'))
      el.dataset.speaking = String(el.dataset.peerId === peerId && el.dataset.source === 'camera');
  }
}

function setVideo(tile: HTMLElement, track: MediaStreamTrack | null): void {
  const video = tile.querySelector('video')!;
  const current = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
  if (current === track) return;
  video.srcObject = track ? new MediaStream([track]) : null;
}

function hasVideo(tile: HTMLElement): boolean {
  return Boolean((tile.querySelector('video')!.srcObject as MediaStream | null)?.getVideoTracks().length);
}

function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter((w) => w && !w.startsWith('('))
      .slice(0, 2)
      .map((w) => w.charAt(0).toUpperCase())
      .join('') || '?'
  );
}
