import { PanelApi, PanelApiError } from './api.ts';
import {
  DESTINATION_STATE_TEXT,
  isStreamed,
  liveSeconds,
  stateText,
  type PanelDestination,
  type PanelStatus,
} from './format.ts';
import { PANEL_CSS } from './panel-style.ts';

/**
 * `<roomcast-panel room="…" token="…" [api="https://gateway"]>`: the livestream panel.
 * Moderators get the controls; everyone gets the LIVE badge and "don't show me". No framework,
 * shadow DOM, styles through a constructed stylesheet (allowed under a strict CSP). The token
 * is sent as a bearer header only. The server decides the role: the panel only follows it.
 *
 * "Don't show me" calls `panel.excludeHandler(excluded)` when the host page sets one (the
 * meeting page uses the conference signaling); otherwise it dispatches a `roomcast-exclude`
 * event ({ detail: { excluded } }) for the host app to act on.
 */

interface KeyInfo {
  rtmpUrl: string;
  streamKey: string;
}
interface RecordingItem {
  name: string;
  size: number;
  durationSeconds: number | null;
  complete: boolean;
}

const TEMPLATE = `
<section class="panel" part="panel" aria-label="Livestream">
  <div class="head">
    <span class="badge" data-testid="live-badge" hidden>LIVE</span>
    <span class="state" data-testid="live-state" role="status" aria-live="polite">Loading…</span>
  </div>
  <p class="error" data-testid="panel-error" role="alert" hidden></p>
  <label class="exclude"><input type="checkbox" data-testid="exclude-toggle"> Don't show me in the livestream</label>
  <div class="moderator" data-testid="moderator-controls" hidden>
    <div class="row">
      <button type="button" class="primary" data-testid="start-button">Start livestream</button>
      <button type="button" class="danger" data-testid="stop-button" hidden>Stop livestream</button>
    </div>
    <div class="row watch">
      <span>Watch link</span>
      <a data-testid="watch-link" target="_blank" rel="noopener"></a>
      <button type="button" data-testid="copy-watch">Copy</button>
    </div>
    <div class="row">
      <label for="layout">Layout</label>
      <select id="layout" data-testid="layout-select">
        <option value="auto">Auto</option>
        <option value="grid">Grid</option>
        <option value="speaker">Speaker</option>
        <option value="screen">Screen share</option>
      </select>
    </div>
    <div class="row">
      <label><input type="checkbox" data-testid="record-toggle"> Record (MP4)</label>
      <span class="muted" data-testid="record-state"></span>
    </div>
    <details data-testid="recordings">
      <summary>Recordings</summary>
      <ul data-testid="recordings-list"></ul>
    </details>
    <details data-testid="destinations">
      <summary>Extra destinations</summary>
      <ul data-testid="destinations-list"></ul>
      <form data-testid="destination-form" novalidate>
        <label>RTMP(S) URL <input name="url" data-testid="destination-url" placeholder="rtmp://a.rtmp.youtube.com/live2" required></label>
        <label>Stream key <input name="streamKey" data-testid="destination-key" type="password" autocomplete="off"></label>
        <button type="submit" data-testid="destination-add">Add destination</button>
      </form>
    </details>
    <details data-testid="rtmp">
      <summary>RTMP URL and stream key (for OBS)</summary>
      <button type="button" data-testid="show-key">Show</button>
      <div data-testid="key-box" hidden>
        <div class="row"><span>Server</span><code data-testid="rtmp-url"></code><button type="button" data-testid="copy-rtmp">Copy</button></div>
        <div class="row"><span>Key</span><code data-testid="stream-key"></code><button type="button" data-testid="copy-key">Copy</button></div>
        <button type="button" class="danger" data-testid="rotate-key">Rotate key…</button>
        <div class="confirm" data-testid="rotate-confirm" role="alertdialog" aria-label="Rotate the stream key" hidden>
          <p>The current key stops working at once (a running livestream restarts on the new key; OBS must be updated).</p>
          <button type="button" class="danger" data-testid="rotate-yes">Rotate</button>
          <button type="button" data-testid="rotate-no">Cancel</button>
        </div>
      </div>
    </details>
  </div>
</section>`;

let sheet: CSSStyleSheet | undefined;

export class RoomcastPanel extends HTMLElement {
  static readonly observedAttributes = ['room', 'token', 'api'];

  /** Set by the host page to apply "don't show me" (e.g. the conference signaling). */
  excludeHandler: ((excluded: boolean) => Promise<void>) | undefined;

  private readonly root: ShadowRoot;
  private api: PanelApi | undefined;
  private st: PanelStatus | undefined;
  private abort: AbortController | undefined;
  private tick: number | undefined;
  private poll: number | undefined;
  private keyShown = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    sheet ??= makeSheet();
    this.root.adoptedStyleSheets = [sheet];
    this.root.innerHTML = TEMPLATE;
    this.wire();
  }

  connectedCallback(): void {
    this.restart();
    this.tick = window.setInterval(() => this.renderState(), 1000);
  }

  disconnectedCallback(): void {
    this.abort?.abort();
    window.clearInterval(this.tick);
    window.clearTimeout(this.poll);
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.restart();
  }

  /** The last status received (tests, host pages). */
  get status(): PanelStatus | undefined {
    return this.st;
  }

  /** Re-reads the status now (the meeting page calls it on a `livestream.state` notification). */
  async refresh(): Promise<void> {
    if (!this.api) return;
    try {
      this.apply(await this.api.status());
    } catch (err) {
      this.showError(err);
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private $<T extends HTMLElement = HTMLElement>(id: string): T {
    return this.root.querySelector(`[data-testid="${id}"]`) as T;
  }

  private restart(): void {
    this.abort?.abort();
    window.clearTimeout(this.poll);
    const room = this.getAttribute('room') ?? '';
    const token = this.getAttribute('token') ?? '';
    if (!room || !token) {
      this.api = undefined;
      this.$('live-state').textContent = 'No room or token given';
      return;
    }
    this.api = new PanelApi(this.apiBase(), room, token);
    this.abort = new AbortController();
    void this.follow(this.api, this.abort.signal);
  }

  private apiBase(): string {
    const attr = this.getAttribute('api');
    if (attr) return attr.replace(/\/$/, '');
    return new URL(import.meta.url).origin;
  }

  /** SSE first; if it cannot be opened or drops, poll every 2 s and try SSE again later. */
  private async follow(api: PanelApi, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await api.follow((s) => {
          failures = 0;
          this.apply(s);
        }, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (
          err instanceof PanelApiError &&
          (err.status === 401 || err.status === 403 || err.status === 404)
        ) {
          // No point retrying with the same credentials; nothing here can work without them.
          this.$('live-state').textContent = err.status === 404 ? 'Unknown room' : 'Not authorised';
          this.$('live-state').dataset.state = 'unauthorised';
          this.$('live-badge').hidden = true;
          this.$('moderator-controls').hidden = true;
          this.$('exclude-toggle').closest('label')!.hidden = true;
          this.showError(err);
          return;
        }
        failures++;
      }
      if (signal.aborted) return;
      await this.refresh();
      await new Promise<void>(
        (r) => (this.poll = window.setTimeout(r, Math.min(10_000, 2000 * failures || 1000))),
      );
    }
  }

  private apply(s: PanelStatus): void {
    this.st = s;
    const mod = s.role === 'moderator';
    this.$('moderator-controls').hidden = !mod;
    this.$('exclude-toggle').closest('label')!.hidden = false;
    this.renderState();
    if (!mod) return;
    const streamed = isStreamed(s.state);
    this.$('start-button').hidden = streamed;
    this.$('stop-button').hidden = !streamed;
    const link = this.$<HTMLAnchorElement>('watch-link');
    const watch = `${this.apiBase()}${s.watchPath}`;
    link.href = watch;
    link.textContent = watch;
    const layout = this.$<HTMLSelectElement>('layout-select');
    if (s.layout && this.root.activeElement !== layout) layout.value = s.layout;
    layout.disabled = !streamed;
    const rec = this.$<HTMLInputElement>('record-toggle');
    rec.checked = s.recording?.enabled ?? false;
    rec.disabled = !streamed;
    this.$('record-state').textContent = s.recording?.state ? `(${s.recording.state})` : '';
    this.$<HTMLButtonElement>('destination-add').disabled = !streamed;
    this.renderDestinations(s.destinations ?? []);
  }

  private renderState(): void {
    const s = this.st;
    if (!s) return;
    const seconds =
      s.state === 'live' ? liveSeconds(s.startedAt, Date.now(), s.durationSeconds) : s.durationSeconds;
    this.$('live-badge').hidden = !isStreamed(s.state);
    this.$('live-badge').dataset.state = s.state;
    const text = stateText(s, seconds);
    const el = this.$('live-state');
    if (el.textContent !== text) el.textContent = text;
    el.dataset.state = s.state;
  }

  private renderDestinations(list: PanelDestination[]): void {
    const ul = this.$('destinations-list');
    ul.replaceChildren(
      ...list.map((d) => {
        const li = document.createElement('li');
        li.dataset.testid = 'destination';
        li.dataset.state = d.state;
        const url = document.createElement('code');
        url.textContent = d.url;
        const state = document.createElement('span');
        state.className = `dest-state ${d.state}`;
        state.dataset.testid = 'destination-state';
        state.textContent =
          DESTINATION_STATE_TEXT[d.state] + (d.lastError && d.state !== 'live' ? ` – ${d.lastError}` : '');
        const rm = document.createElement('button');
        rm.type = 'button';
        rm.textContent = 'Remove';
        rm.setAttribute('aria-label', `Remove destination ${d.url}`);
        rm.addEventListener(
          'click',
          () =>
            void this.act(() =>
              this.api!.request('DELETE', `/livestream/destinations/${encodeURIComponent(d.id)}`),
            ),
        );
        li.append(url, ' ', state, ' ', rm);
        return li;
      }),
    );
  }

  private showError(err: unknown): void {
    const el = this.$('panel-error');
    if (err === null) {
      el.hidden = true;
      el.textContent = '';
      return;
    }
    el.textContent = err instanceof Error ? err.message : String(err);
    el.hidden = false;
  }

  /** Runs an API action, shows its error, refreshes the status. */
  private async act(fn: () => Promise<unknown>): Promise<boolean> {
    if (!this.api) return false;
    this.showError(null);
    try {
      await fn();
      await this.refresh();
      return true;
    } catch (err) {
      this.showError(err);
      return false;
    }
  }

  private wire(): void {
    const on = (id: string, ev: string, fn: (e: Event) => void) => this.$(id).addEventListener(ev, fn);
    on(
      'start-button',
      'click',
      () => void this.act(() => this.api!.request('POST', '/livestream/start', {})),
    );
    on('stop-button', 'click', () => void this.act(() => this.api!.request('POST', '/livestream/stop')));
    on('layout-select', 'change', (e) => {
      const layout = (e.target as HTMLSelectElement).value;
      void this.act(() => this.api!.request('PUT', '/livestream/layout', { layout }));
    });
    on('record-toggle', 'change', (e) => {
      const enabled = (e.target as HTMLInputElement).checked;
      void this.act(() => this.api!.request('PUT', '/livestream/recording', { enabled }));
    });
    on('recordings', 'toggle', () => void this.loadRecordings());
    on('destination-form', 'submit', (e) => {
      e.preventDefault();
      const form = e.target as HTMLFormElement;
      const url = (form.elements.namedItem('url') as HTMLInputElement).value.trim();
      const key = (form.elements.namedItem('streamKey') as HTMLInputElement).value.trim();
      void this.act(() =>
        this.api!.request('POST', '/livestream/destinations', key ? { url, streamKey: key } : { url }),
      ).then((ok) => {
        if (ok) form.reset();
      });
    });
    on('copy-watch', 'click', () => void this.copy(this.$<HTMLAnchorElement>('watch-link').href));
    on('show-key', 'click', () => void this.toggleKey());
    on('copy-rtmp', 'click', () => void this.copy(this.$('rtmp-url').textContent ?? ''));
    on('copy-key', 'click', () => void this.copy(this.$('stream-key').textContent ?? ''));
    on('rotate-key', 'click', () => {
      this.$('rotate-confirm').hidden = false;
      this.$('rotate-no').focus();
    });
    on('rotate-no', 'click', () => {
      this.$('rotate-confirm').hidden = true;
      this.$('rotate-key').focus();
    });
    on('rotate-yes', 'click', () => {
      this.$('rotate-confirm').hidden = true;
      void this.act(async () => this.showKey(await this.api!.request<KeyInfo>('POST', '/key/rotate')));
    });
    on('exclude-toggle', 'change', (e) => void this.setExcluded((e.target as HTMLInputElement).checked));
    this.root.addEventListener('keydown', (e: Event) => {
      if (!(e instanceof KeyboardEvent)) return;
      if (e.key === 'Escape' && !this.$('rotate-confirm').hidden) this.$('rotate-no').click();
    });
  }

  private async setExcluded(excluded: boolean): Promise<void> {
    const box = this.$<HTMLInputElement>('exclude-toggle');
    this.showError(null);
    if (!this.excludeHandler) {
      this.dispatchEvent(
        new CustomEvent('roomcast-exclude', { detail: { excluded }, bubbles: true, composed: true }),
      );
      return;
    }
    box.disabled = true;
    try {
      await this.excludeHandler(excluded);
    } catch (err) {
      box.checked = !excluded;
      this.showError(err);
    } finally {
      box.disabled = false;
    }
  }

  private async toggleKey(): Promise<void> {
    const btn = this.$('show-key');
    if (this.keyShown) {
      this.keyShown = false;
      this.$('key-box').hidden = true;
      this.$('stream-key').textContent = '';
      btn.textContent = 'Show';
      return;
    }
    await this.act(async () => this.showKey(await this.api!.request<KeyInfo>('GET', '/key')));
  }

  private showKey(k: KeyInfo): void {
    this.keyShown = true;
    this.$('rtmp-url').textContent = k.rtmpUrl;
    this.$('stream-key').textContent = k.streamKey;
    this.$('key-box').hidden = false;
    this.$('show-key').textContent = 'Hide';
  }

  private async loadRecordings(): Promise<void> {
    if (!(this.$('recordings') as HTMLDetailsElement).open || !this.api) return;
    try {
      const { recordings } = await this.api.request<{ recordings: RecordingItem[] }>('GET', '/recordings');
      const ul = this.$('recordings-list');
      ul.replaceChildren(
        ...(recordings.length === 0
          ? [Object.assign(document.createElement('li'), { textContent: 'No recordings yet' })]
          : recordings.map((r) => {
              const li = document.createElement('li');
              const mb = (r.size / 1e6).toFixed(1);
              const dur = r.durationSeconds === null ? '' : `, ${Math.round(r.durationSeconds)} s`;
              li.textContent = `${r.name} (${mb} MB${dur}${r.complete ? '' : ', in progress'})`;
              return li;
            })),
      );
    } catch (err) {
      this.showError(err);
    }
  }

  private async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      this.showError(new Error('Copy failed: select the text and copy it by hand'));
    }
  }
}

function makeSheet(): CSSStyleSheet {
  const s = new CSSStyleSheet();
  s.replaceSync(PANEL_CSS);
  return s;
}

/** Registers the element once (the script may be loaded twice by a host page). */
export function definePanel(): void {
  if (!customElements.get('roomcast-panel')) customElements.define('roomcast-panel', RoomcastPanel);
}
