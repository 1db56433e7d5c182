// Puts the livestream panel into the meeting page. The panel script is loaded from
// /embed/panel.js (the same file other sites embed), so the meeting bundle does not include it.
// Token: a short-lived panel token from the signaling (`livestream.panelToken`), moderator or
// participant as the server decides; "don't show me" goes through `stream.setExcluded`.

interface JoinedDetail {
  room: string;
  request: (method: string, data: object) => Promise<unknown>;
}
interface PanelLike extends HTMLElement {
  excludeHandler?: (excluded: boolean) => Promise<void>;
  refresh(): Promise<void>;
}

const PANEL_SCRIPT = '/embed/panel.js';

/** Adds the panel (top right, over the grid) once the page has joined the room. */
export function installLivestreamPanel(parent: HTMLElement = document.body): void {
  let panel: PanelLike | undefined;
  const host = document.createElement('aside');
  host.dataset.testid = 'livestream-panel-host';
  host.setAttribute('aria-label', 'Livestream');
  // CSSOM (not a style attribute): allowed by the page's strict CSP.
  Object.assign(host.style, {
    position: 'fixed',
    top: '56px',
    right: '12px',
    zIndex: '10',
    maxWidth: '380px',
  });
  parent.append(host);
  document.addEventListener('roomcast:joined', (e) => {
    const d = (e as CustomEvent<JoinedDetail>).detail;
    void (async () => {
      await import(/* @vite-ignore */ PANEL_SCRIPT);
      const { token } = (await d.request('livestream.panelToken', {})) as { token: string };
      panel ??= document.createElement('roomcast-panel') as PanelLike;
      panel.excludeHandler = async (excluded) => {
        await d.request('stream.setExcluded', { excluded });
      };
      panel.setAttribute('room', d.room);
      panel.setAttribute('token', token);
      if (!panel.isConnected) host.append(panel);
    })().catch((err: unknown) => console.error('livestream panel unavailable', err));
  });
  document.addEventListener('roomcast:notification', (e) => {
    const n = (e as CustomEvent<{ method: string }>).detail;
    if (n.method === 'livestream.state') void panel?.refresh();
  });
}
