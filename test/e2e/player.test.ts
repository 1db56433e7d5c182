import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../gateway/src/config/loader.ts';
import { Gateway } from '../../gateway/src/gateway.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { waitFor } from '../helpers/net.ts';
import { startFfmpegPublisher, type FfmpegPublisher } from '../helpers/rtmp-publisher.ts';
import { silentLogger } from '../helpers/synthetic.ts';

// The public watch page in Debian Chromium: offline → plays by itself when a publisher starts
// → "stream ended" when it stops; same-origin requests only; no CSP violations.

const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-player-e2e-'));
const shots = path.resolve(import.meta.dirname, '../../docs/screenshots');
let gw: Gateway;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let pub: FfmpegPublisher | undefined;

beforeAll(async () => {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    mediasoup: { numWorkers: 1 },
    rtmp: { bind: '127.0.0.1', port: 0 },
    hls: { dir: path.join(dir, 'hls'), deleteAfterSeconds: 30 },
    storage: { database: path.join(dir, 'roomcast.db') },
    player: { rooms: { townhall: { title: 'Town hall', description: 'Monthly all-hands, streamed live.' } } },
  });
  gw = await Gateway.start(config, silentLogger);
  browser = await launchBrowser({ viewport: { width: 800, height: 600 } });
});

afterAll(async () => {
  await pub?.stop();
  await browser?.dispose();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('watch page', () => {
  it('offline → plays by itself → LIVE → ended, same-origin only', async () => {
    const rec = gw.keys.getOrCreate('townhall');
    const origin = `http://127.0.0.1:${gw.port}`;
    const page = await browser.newPage();
    const requests: string[] = [];
    const cspErrors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
    });

    await page.goto(`${origin}/watch/${rec.playbackId}`);
    await page.waitForFunction(() =>
      document.getElementById('message')?.textContent?.includes('not started'),
    );
    expect(await page.locator('#title').textContent()).toBe('Town hall');
    expect(await page.locator('#live-badge').isVisible()).toBe(false);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'player-offline.png') });

    pub = startFfmpegPublisher(gw.localPublishUrl('townhall'), { width: 640, height: 360, fps: 15 });
    // The page switches to playback by itself (no reload): currentTime advances.
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1.5, undefined, {
      timeout: 60_000,
    });
    const t1 = await page.evaluate(() => document.querySelector('video')!.currentTime);
    await page.waitForFunction((t) => document.querySelector('video')!.currentTime > t + 1, t1, {
      timeout: 15_000,
    });
    expect(await page.locator('#live-badge').isVisible()).toBe(true);
    expect(await page.locator('#overlay').isVisible()).toBe(false);
    expect(await page.evaluate(() => document.querySelector('video')!.muted)).toBe(true);
    const size = await page.evaluate(() => [
      document.querySelector('video')!.videoWidth,
      document.querySelector('video')!.videoHeight,
    ]);
    expect(size).toEqual([640, 360]);
    await waitFor('viewer count shown', async () =>
      /\d+ viewers?/.test((await page.locator('#viewers').textContent()) ?? ''),
    );
    await waitFor('latency readout', async () =>
      /behind live/.test((await page.locator('#latency').textContent()) ?? ''),
    );
    await page.screenshot({ path: path.join(shots, 'player-live.png') });

    // Keyboard: Tab reaches the mute button, Enter toggles; "m" toggles back.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('mute');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.querySelector('video')!.muted)).toBe(false);
    expect(await page.locator('#mute').textContent()).toBe('Mute');
    await page.keyboard.press('m');
    expect(await page.evaluate(() => document.querySelector('video')!.muted)).toBe(true);

    await pub.stop();
    await page.waitForFunction(
      () => document.getElementById('player')?.dataset.state === 'ended',
      undefined,
      {
        timeout: 20_000,
      },
    );
    expect(await page.locator('#message').textContent()).toMatch(/ended/);
    expect(await page.locator('#live-badge').isVisible()).toBe(false);

    // Phone-sized screen: nothing wider than the viewport.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    const foreign = requests.filter(
      (u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'),
    );
    expect(foreign).toEqual([]);
    expect(requests.some((u) => u.includes(`/hls/${rec.playbackId}/`))).toBe(true);
    expect(cspErrors).toEqual([]);
    await page.close();
  });

  it('unknown playback id → 404 page', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`http://127.0.0.1:${gw.port}/watch/AAAAAAAAAAAAAAAA`);
    expect(res?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Stream not found');
    await page.close();
  });
});
