import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startGoLiveGateway, TEST_OUTPUT } from '../helpers/golive.ts';
import { waitFor } from '../helpers/net.ts';
import { hlsFrame, saveHlsFrame } from '../helpers/hls-frame.ts';
import type { RgbFrame } from '../helpers/rtmp-receiver.ts';

// Go live from inside the meeting, in Debian Chromium with fake camera/mic: a moderator and a
// participant join; only the moderator gets the panel's controls and the server refuses the
// participant's calls; the moderator starts; both see LIVE; a viewer plays the watch link; a
// frame of the HLS output shows two tiles; the participant opts out → one tile; stop → "ended".

const ROOM = 'golive-e2e';
const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * Tiles crossing the middle row of the frame: runs of pixels that differ from the compositor's
 * background (rgb 18,18,22), at least 40 px wide (labels and borders are thinner).
 */
function tilesOnMiddleRow(frame: RgbFrame): number {
  const { width, height, data: rgb } = frame;
  const y = Math.floor(height / 2);
  let runs = 0;
  let run = 0;
  for (let x = 0; x <= width; x++) {
    let fg = false;
    if (x < width) {
      const i = (y * width + x) * 3;
      fg = Math.max(Math.abs(rgb[i]! - 18), Math.abs(rgb[i + 1]! - 18), Math.abs(rgb[i + 2]! - 22)) > 20;
    }
    if (fg) run++;
    else {
      if (run >= 40) runs++;
      run = 0;
    }
  }
  return runs;
}

/** Tiles on the middle row of the newest frame of the live HLS output. */
const hlsTiles = async (playlist: string): Promise<number> =>
  tilesOnMiddleRow(await hlsFrame(playlist, TEST_OUTPUT.width, TEST_OUTPUT.height));

describe('go live from the meeting', () => {
  let env: Awaited<ReturnType<typeof startGoLiveGateway>>;
  const browsers: Awaited<ReturnType<typeof launchBrowser>>[] = [];
  let moderator: Page;
  let participant: Page;
  let viewer: Page;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    env = await startGoLiveGateway({ livestream: { autoStopEmptySeconds: 0, autoStopNoMediaSeconds: 0 } });
    // Moderator and participant publish fake camera + mic (small, to spare CPU); the viewer only plays.
    for (let i = 0; i < 3; i++)
      browsers.push(await launchBrowser({ fakeMedia: i < 2, viewport: { width: 1000, height: 700 } }));
    moderator = await browsers[0]!.newPage();
    participant = await browsers[1]!.newPage();
    viewer = await browsers[2]!.newPage();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(browsers.map((b) => b.dispose()));
    await env?.stop();
  }, 60_000);

  it('moderator and participant join; only the moderator has the controls', async () => {
    await moderator.goto(`${env.baseUrl}/r/${ROOM}?name=Mia&video=320x240`);
    await moderator.locator('[data-testid=start-button]').waitFor({ timeout: 20_000 });
    await participant.goto(`${env.baseUrl}/r/${ROOM}?name=Paul&video=320x240`);
    await participant
      .locator('[data-testid=live-state]')
      .filter({ hasText: 'Not live' })
      .waitFor({ timeout: 20_000 });
    expect(await moderator.isVisible('[data-testid=moderator-controls]')).toBe(true);
    expect(await participant.isVisible('[data-testid=moderator-controls]')).toBe(false);
    expect(await participant.isVisible('[data-testid=start-button]')).toBe(false);
    expect(await participant.isVisible('[data-testid=exclude-toggle]')).toBe(true);
  });

  it("refuses the participant's API calls (403 with its panel token, 401 without)", async () => {
    const results = await participant.evaluate(async (room) => {
      const token = document.querySelector('roomcast-panel')?.getAttribute('token') ?? '';
      const call = async (method: string, p: string, auth: boolean, body?: unknown) =>
        (
          await fetch(`/api/rooms/${room}${p}`, {
            method,
            headers: {
              ...(auth ? { Authorization: `Bearer ${token}` } : {}),
              'Content-Type': 'application/json',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
        ).status;
      return {
        start: await call('POST', '/livestream/start', true, {}),
        key: await call('GET', '/key', true),
        layout: await call('PUT', '/livestream/layout', true, { layout: 'grid' }),
        startNoAuth: await call('POST', '/livestream/start', false, {}),
        status: await call('GET', '/livestream', true),
      };
    }, ROOM);
    expect(results).toEqual({ start: 403, key: 403, layout: 403, startNoAuth: 401, status: 200 });
    // A panel with a forged token shows "Not authorised" and no controls.
    const forged = await participant.evaluate(async (room) => {
      const el = document.createElement('roomcast-panel');
      el.id = 'forged';
      el.setAttribute('room', room);
      el.setAttribute('token', `${btoa('{"v":1}').replace(/=/g, '')}.${'A'.repeat(43)}`);
      document.body.append(el);
      const state = () => el.shadowRoot!.querySelector('[data-testid=live-state]')!.textContent;
      for (let i = 0; i < 100 && state() !== 'Not authorised'; i++)
        await new Promise((r) => setTimeout(r, 50));
      const out = {
        state: state(),
        error: el.shadowRoot!.querySelector('[data-testid=panel-error]')!.textContent,
        controls: !(el.shadowRoot!.querySelector('[data-testid=moderator-controls]') as HTMLElement).hidden,
      };
      el.remove();
      return out;
    }, ROOM);
    expect(forged).toMatchObject({ state: 'Not authorised', controls: false });
    expect(forged.error).toMatch(/signature/);
  });

  it('the moderator starts; both see LIVE; the viewer plays; the output shows two tiles', async () => {
    const clickedAt = Date.now();
    await moderator.click('[data-testid=start-button]');
    const watchUrl = await moderator.locator('[data-testid=watch-link]').getAttribute('href');
    expect(watchUrl).toMatch(/\/watch\/[A-Za-z0-9_-]+$/);
    const playbackId = watchUrl!.split('/').pop()!;
    const playlist = `${env.baseUrl}/hls/${playbackId}/index.m3u8`;
    await waitFor(
      'first HLS segment',
      async () => /\.ts|\.m4s/.test(await (await fetch(playlist)).text()),
      30_000,
    );
    const firstSegmentMs = Date.now() - clickedAt;

    for (const page of [moderator, participant]) {
      await page.locator('[data-testid=live-badge]').waitFor({ state: 'visible', timeout: 20_000 });
      await page.locator('[data-testid=live-state][data-state=live]').waitFor({ timeout: 20_000 });
    }

    await viewer.goto(watchUrl!);
    await viewer.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, null, {
      timeout: 30_000,
    });
    const firstFrameMs = Date.now() - clickedAt;
    const t1 = await viewer.evaluate(() => document.querySelector('video')!.currentTime);
    await viewer.waitForFunction((t) => document.querySelector('video')!.currentTime > t + 1, t1, {
      timeout: 20_000,
    });
    console.log(
      `[golive e2e] click → first HLS segment ${firstSegmentMs} ms, → viewer first frame ${firstFrameMs} ms`,
    );

    // Pin the grid through the panel's layout picker (applied live): "auto" would follow the fake
    // microphones' beeps into speaker view. Both participants' cameras are then tiles of the picture.
    await moderator.locator('[data-testid=layout-select]').selectOption('grid');
    await moderator.locator('[data-testid=live-state][data-state=live]').waitFor({ timeout: 20_000 });
    await waitFor('two tiles in the HLS output', async () => (await hlsTiles(playlist)) === 2, 30_000);
    await saveHlsFrame(playlist, path.join(SHOTS, 'golive-hls-two-tiles.png'));
    await moderator.screenshot({ path: path.join(SHOTS, 'golive-moderator-live.png') });
    await participant.screenshot({ path: path.join(SHOTS, 'golive-participant-live.png') });
    await viewer.screenshot({ path: path.join(SHOTS, 'golive-viewer-playing.png') });
  });

  it('"don\'t show me" leaves the participant out: one tile', async () => {
    const playbackId = (await moderator.locator('[data-testid=watch-link]').getAttribute('href'))!
      .split('/')
      .pop()!;
    const playlist = `${env.baseUrl}/hls/${playbackId}/index.m3u8`;
    await participant.click('[data-testid=exclude-toggle]');
    expect(await participant.isChecked('[data-testid=exclude-toggle]')).toBe(true);
    await waitFor('one tile in the HLS output', async () => (await hlsTiles(playlist)) === 1, 30_000);
    await saveHlsFrame(playlist, path.join(SHOTS, 'golive-hls-one-tile.png'));
    await participant.screenshot({ path: path.join(SHOTS, 'golive-participant-excluded.png') });
  });

  it('the moderator stops; the viewer shows "ended"; the badge goes away', async () => {
    await moderator.click('[data-testid=stop-button]');
    await moderator.locator('[data-testid=live-state][data-state=stopped]').waitFor({ timeout: 20_000 });
    await viewer.locator('#player[data-state=ended]').waitFor({ timeout: 30_000 });
    expect(await viewer.textContent('#message')).toMatch(/ended/i);
    await participant.locator('[data-testid=live-badge]').waitFor({ state: 'hidden', timeout: 20_000 });
    await viewer.screenshot({ path: path.join(SHOTS, 'golive-viewer-ended.png') });
    await moderator.screenshot({ path: path.join(SHOTS, 'golive-moderator-stopped.png') });
  });
});
