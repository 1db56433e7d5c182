import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startGoLiveGateway } from '../helpers/golive.ts';
import { ExistingAppProcess } from '../helpers/existing-app-process.ts';
import { freeTcpPort, waitFor } from '../helpers/net.ts';

// The livestream panel embedded in a foreign app, in Debian Chromium. The "existing app" (its
// own Node process: mediasoup worker, two synthetic participants, the connector) serves its own
// meeting page on its own origin; the page loads <roomcast-panel> from the gateway
// (/embed/panel.js) with a panel token the app signed with the shared secret. A moderator starts
// the livestream from that panel (cross-origin API calls, bearer token), a participant's panel
// shows LIVE without the controls, a viewer plays the watch link, and forged / other-room tokens
// are refused by the API with the reason shown in the panel.

const SECRET = 'sidecar-e2e-secret-0123456789abcdefghijklmnopq';
const ROOM = 'acme-townhall';
const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * Red and blue pixels of what the viewer's <video> shows now (drawn into a 64x36 canvas; the
 * HLS is same-origin with the watch page, so the canvas is readable).
 */
const videoColours = (viewer: Page) =>
  viewer.evaluate(() => {
    const v = document.querySelector('video')!;
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let blue = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, gr, b] = [d[i]!, d[i + 1]!, d[i + 2]!];
      if (r > 200 && gr < 70 && b < 70) red++;
      if (b > 200 && r < 70 && gr < 70) blue++;
    }
    return { red, blue, total: c.width * c.height };
  });

describe('<roomcast-panel> in an existing app’s page (sidecar mode)', () => {
  let env: Awaited<ReturnType<typeof startGoLiveGateway>>;
  let app: ExistingAppProcess;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let pageUrl = '';
  let moderator: Page;
  let participant: Page;
  const pageErrors: string[] = [];

  const open = async (as: string): Promise<Page> => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${as}: ${e.message}`));
    await page.goto(`${pageUrl}?as=${as}`);
    return page;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    env = await startGoLiveGateway({
      conference: { enabled: false },
      sidecar: { enabled: true, secret: SECRET },
      livestream: { defaultLayout: 'grid', autoStopEmptySeconds: 0, autoStopNoMediaSeconds: 0 },
    });
    app = new ExistingAppProcess({
      ROOMCAST_URL: `ws://127.0.0.1:${env.gw.port}/sidecar`,
      ROOMCAST_SECRET: SECRET,
      APP_NAME: 'acme-meet',
      ROOM,
      VIDEO_SIZE: '320x240',
      PARTICIPANTS: JSON.stringify([
        { id: 'alice-1', name: 'Alice', color: 'red' },
        { id: 'bob-1', name: 'Bob', color: 'blue' },
      ]),
      PAGE_PORT: String(await freeTcpPort()),
      GATEWAY_URL: env.baseUrl,
    });
    pageUrl = String((await app.waitLine('app page', (l) => l.event === 'page')).url);
    await app.waitLine('app ready', (l) => l.event === 'ready');
    await waitFor('sidecar room with 2 participants', () =>
      env.gw.sidecar?.roomSource(ROOM)?.participants().length === 2 ? true : undefined,
    );
    browser = await launchBrowser({ viewport: { width: 900, height: 700 } });
  });

  afterAll(async () => {
    await browser?.dispose();
    await app?.stop();
    await env?.stop();
  });

  it('forged and other-room tokens: the API refuses them and the panel shows why, without controls', async () => {
    // The app's page is on another origin than the gateway: the script and API are cross-origin.
    expect(new URL(pageUrl).origin).not.toBe(new URL(env.baseUrl).origin);
    const forged = await open('forged');
    const err = forged.locator('[data-testid=panel-error]');
    await err.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await err.textContent()).toMatch(/invalid credentials/);
    expect(await forged.isVisible('[data-testid=moderator-controls]')).toBe(false);
    expect(await forged.isVisible('[data-testid=start-button]')).toBe(false);
    // The same call from the page itself: 401 (the panel did not just fail to load).
    const direct = await forged.evaluate(
      async ({ base, room }) => {
        const token = document.querySelector('roomcast-panel')!.getAttribute('token')!;
        const res = await fetch(`${base}/api/rooms/${room}/livestream/start`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: '{}',
          credentials: 'omit',
        });
        return { status: res.status, body: (await res.json()) as { message: string } };
      },
      { base: env.baseUrl, room: ROOM },
    );
    expect(direct.status).toBe(401);
    expect(direct.body.message).toMatch(/invalid credentials/);
    await forged.screenshot({ path: path.join(SHOTS, 'sidecar-panel-forged-token.png') });
    await forged.close();

    const other = await open('other-room');
    const otherErr = other.locator('[data-testid=panel-error]');
    await otherErr.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await otherErr.textContent()).toMatch(/token is for another room/);
    expect(await other.isVisible('[data-testid=moderator-controls]')).toBe(false);
    await other.close();
  });

  it('a participant’s panel reads the state but has no controls', async () => {
    participant = await open('participant&id=bob-1');
    await participant
      .locator('[data-testid=live-state][data-state=idle]')
      .filter({ hasText: 'Not live' })
      .waitFor({ timeout: 20_000 });
    expect(await participant.isVisible('[data-testid=moderator-controls]')).toBe(false);
    expect(await participant.isVisible('[data-testid=panel-error]')).toBe(false);
  });

  it('the moderator starts the stream from the embedded panel; everyone sees LIVE; a viewer plays it; stop', async () => {
    moderator = await open('moderator');
    await moderator.locator('[data-testid=start-button]').waitFor({ state: 'visible', timeout: 20_000 });
    await moderator.click('[data-testid=start-button]');
    await moderator.locator('[data-testid=live-state][data-state=live]').waitFor({ timeout: 30_000 });
    expect(await moderator.isVisible('[data-testid=panel-error]')).toBe(false);
    const watchUrl = await moderator.locator('[data-testid=watch-link]').getAttribute('href');
    // The watch link points at the gateway, not at the app's page.
    expect(watchUrl).toMatch(new RegExp(`^${env.baseUrl}/watch/[A-Za-z0-9_-]+$`));

    await participant.locator('[data-testid=live-badge]').waitFor({ state: 'visible', timeout: 20_000 });
    await participant.locator('[data-testid=live-state][data-state=live]').waitFor({ timeout: 20_000 });

    const viewer = await browser.newPage();
    await viewer.goto(watchUrl!);
    await viewer.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, null, {
      timeout: 40_000,
    });
    const t1 = await viewer.evaluate(() => document.querySelector('video')!.currentTime);
    await viewer.waitForFunction((t) => document.querySelector('video')!.currentTime > t + 1, t1, {
      timeout: 20_000,
    });
    // Both of the app's participants are in the picture: red Alice and blue Bob.
    await waitFor(
      'red and blue in the viewer',
      async () => {
        const c = await videoColours(viewer);
        return c.red > c.total * 0.05 && c.blue > c.total * 0.05;
      },
      30_000,
      500,
    );
    await moderator.screenshot({ path: path.join(SHOTS, 'sidecar-panel-moderator-live.png') });
    await viewer.screenshot({ path: path.join(SHOTS, 'sidecar-panel-viewer-playing.png') });

    // Bob clicks "don't show me" in his panel: the host app hears it (roomcast-exclude), tells
    // the gateway through the connector, and Bob leaves the picture.
    await participant.click('[data-testid=exclude-toggle]');
    await app.waitLine(
      'app excluded bob',
      (l) => l.event === 'excluded' && l.id === 'bob-1' && l.excluded === true,
    );
    await waitFor(
      'only red in the viewer',
      async () => {
        const c = await videoColours(viewer);
        return c.blue === 0 && c.red > c.total * 0.05;
      },
      30_000,
      500,
    );
    await viewer.screenshot({ path: path.join(SHOTS, 'sidecar-panel-viewer-bob-excluded.png') });

    // The app's own peer list never gained the gateway.
    const report = await app.report();
    expect(report.peers.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    expect(report.transports.webrtc ?? 0).toBe(0);

    await moderator.click('[data-testid=stop-button]');
    await moderator.locator('[data-testid=live-state][data-state=stopped]').waitFor({ timeout: 20_000 });
    await participant.locator('[data-testid=live-badge]').waitFor({ state: 'hidden', timeout: 20_000 });
    await viewer.locator('#player[data-state=ended]').waitFor({ timeout: 30_000 });
    expect(pageErrors).toEqual([]);
  });
});
