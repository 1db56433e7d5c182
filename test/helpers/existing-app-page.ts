import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { signPanelToken, type PanelRole } from 'roomcast/connector';

/**
 * The "existing app"'s own meeting page (for the sidecar e2e test): a page on the app's origin
 * that embeds the gateway's `<roomcast-panel>` script and element, with a short-lived panel
 * token the app signs with the shared secret, exactly as docs/sidecar.md tells an integrator.
 *
 *   GET /meeting?as=moderator|participant   a token for that role (a real app takes the role
 *                                           from its own session; this test app from the query)
 *   GET /meeting?as=forged                  a well-formed token signed with another secret
 *   GET /meeting?as=other-room              a valid moderator token for another room
 *   &id=<participant id>                    who the user is in the app's room: the panel's
 *                                           "don't show me" (a `roomcast-exclude` event) is sent
 *                                           to the app (POST /exclude), which tells the gateway
 *                                           through the connector (participantUpdated)
 */

export interface MeetingPageOptions {
  port: number;
  /** The gateway's public HTTP(S) base URL (where /embed/panel.js and the API live). */
  gatewayUrl: string;
  room: string;
  secret: string;
  /** The app's handling of "don't show me" for one of its participants. */
  onExclude?: (participantId: string, excluded: boolean) => void;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function tokenFor(as: string, opts: MeetingPageOptions): string | undefined {
  if (as === 'moderator' || as === 'participant')
    return signPanelToken({ room: opts.room, role: as satisfies PanelRole, ttlSeconds: 600 }, opts.secret);
  if (as === 'forged')
    return signPanelToken({ room: opts.room, role: 'moderator' }, randomBytes(32).toString('hex'));
  if (as === 'other-room') return signPanelToken({ room: `${opts.room}-x`, role: 'moderator' }, opts.secret);
  return undefined;
}

export function meetingPageHtml(
  opts: MeetingPageOptions,
  token: string,
  as: string,
  participantId: string,
): string {
  const gw = opts.gatewayUrl.replace(/\/$/, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Acme Meet – ${escapeHtml(opts.room)}</title>
<script type="module" src="${escapeHtml(gw)}/embed/panel.js"></script>
</head>
<body>
<h1>Acme Meet</h1>
<p>Room <b>${escapeHtml(opts.room)}</b>, signed in as <span id="who">${escapeHtml(as)}</span></p>
<roomcast-panel room="${escapeHtml(opts.room)}" token="${escapeHtml(token)}"></roomcast-panel>
<script type="module">
  // "Don't show me": the panel asks the host app, which knows who this user is in its room.
  document.querySelector('roomcast-panel').addEventListener('roomcast-exclude', (e) => {
    void fetch('/exclude', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: ${JSON.stringify(participantId)}, excluded: e.detail.excluded }),
    });
  });
</script>
</body>
</html>
`;
}

export async function serveMeetingPage(opts: MeetingPageOptions): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/exclude') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        try {
          const { id, excluded } = JSON.parse(body) as { id: unknown; excluded: unknown };
          if (typeof id !== 'string' || !id || typeof excluded !== 'boolean') throw new Error('bad body');
          opts.onExclude?.(id, excluded);
          res.writeHead(204).end();
        } catch (err) {
          res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(err));
        }
      });
      return;
    }
    const as = url.searchParams.get('as') ?? '';
    const id = url.searchParams.get('id') ?? '';
    const token = url.pathname === '/meeting' ? tokenFor(as, opts) : undefined;
    if (req.method !== 'GET' || !token) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
      .end(meetingPageHtml(opts, token, as, /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : ''));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${opts.port}/meeting`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
