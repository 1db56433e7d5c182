import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestGateway } from '../helpers/conference.ts';
import { freeTcpPort, waitFor } from '../helpers/net.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

// The meeting page in Debian Chromium against an in-process gateway (real mediasoup worker).
// Media participants use Chromium's fake camera (320x240) and fake microphone (a periodic beep);
// the screen share goes through the real "Share screen" button (getDisplayMedia, auto-selected
// screen in headless Chromium).
describe('meeting page', () => {
  let env: Awaited<ReturnType<typeof startTestGateway>>;
  const browsers: Awaited<ReturnType<typeof launchBrowser>>[] = [];

  beforeAll(async () => {
    env = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(browsers.map((b) => b.dispose()));
    await env?.stop();
  });

  // Fake devices exist but the permission prompt is not auto-accepted: getUserMedia is denied.
  async function deniedPage(): Promise<Page> {
    const b = await launchBrowser({ extraArgs: ['--use-fake-device-for-media-stream'] });
    browsers.push(b);
    return b.newPage();
  }

  async function mediaPage(room: string, name: string, baseUrl = env.baseUrl): Promise<Page> {
    const b = await launchBrowser({ fakeMedia: true, autoSelectScreen: true });
    browsers.push(b);
    const page = await b.newPage();
    await page.goto(`${baseUrl}/r/${room}?name=${name}&video=320x240`);
    await page.waitForSelector('[data-testid=controls]:not([hidden])');
    return page;
  }

  type Totals = { frames: number; audioPackets: number; audioEnergy: number };
  async function inbound(page: Page): Promise<Totals> {
    const stats = await page.evaluate(() => window.__roomcast.inboundStats());
    const sum = (kind: string, key: 'framesDecoded' | 'packetsReceived' | 'totalAudioEnergy') =>
      stats.filter((s) => s.kind === kind).reduce((n, s) => n + s[key], 0);
    return {
      frames: sum('video', 'framesDecoded'),
      audioPackets: sum('audio', 'packetsReceived'),
      audioEnergy: sum('audio', 'totalAudioEnergy'),
    };
  }

  /** Two samples 2 s apart once media flows: what grew in between. */
  async function mediaGrowth(page: Page): Promise<{ first: Totals; second: Totals }> {
    await waitFor('inbound video and audio', async () => {
      const t = await inbound(page);
      return t.frames > 0 && t.audioPackets > 0 ? t : undefined;
    });
    const first = await inbound(page);
    await page.waitForTimeout(2000);
    return { first, second: await inbound(page) };
  }

  /** Frames shown by the <video> of a tile (grows only while frames arrive and decode). */
  function tileFrames(page: Page, peerId: string, source: 'camera' | 'screen'): Promise<number> {
    return page
      .locator(`[data-testid=tile][data-peer-id="${peerId}"][data-source=${source}] video`)
      .evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
  }

  /** The livestream panel sits beside the video tiles, never over one. */
  async function expectPanelBesideTiles(page: Page): Promise<void> {
    await page.locator('[data-testid=livestream-panel-host] roomcast-panel').waitFor();
    const panel = (await page.locator('[data-testid=livestream-panel-host]').boundingBox())!;
    expect(panel.width).toBeGreaterThan(100);
    for (const tile of await page.locator('[data-testid=tile]').all()) {
      const t = (await tile.boundingBox())!;
      const apart =
        t.x + t.width <= panel.x ||
        panel.x + panel.width <= t.x ||
        t.y + t.height <= panel.y ||
        panel.y + panel.height <= t.y;
      expect(apart, `tile ${JSON.stringify(t)} vs panel ${JSON.stringify(panel)}`).toBe(true);
    }
  }

  it('lobby: a bad room name gets a clear message; a good one opens /r/<room>', async () => {
    const page = await deniedPage();
    await page.goto(`${env.baseUrl}/`);
    await page.fill('[data-testid=room-input]', 'bad/name');
    await page.fill('[data-testid=name-input]', 'Ada');
    await page.click('[data-testid=join-button]');
    expect(await page.textContent('[data-testid=room-error]')).toContain('contains "/"');
    expect(page.url()).toBe(`${env.baseUrl}/`);
    await page.fill('[data-testid=room-input]', 'Team Sync');
    await page.click('[data-testid=join-button]');
    await page.waitForURL(`${env.baseUrl}/r/team-sync`);
    expect(await page.textContent('[data-testid=room-name]')).toBe('team-sync');

    const res = await page.goto(`${env.baseUrl}/r/NoCaps`);
    expect(res?.status()).toBe(400);
    expect(await page.textContent('[data-testid=error-message]')).toContain('contains "N"');
  });

  it('two participants see and hear each other; mute, camera off, screen share, leave', async () => {
    const alice = await mediaPage('media', 'Alice');
    const bob = await mediaPage('media', 'Bob');
    const aliceId = await alice.evaluate(() => window.__roomcast.peerId());
    const bobId = await bob.evaluate(() => window.__roomcast.peerId());
    const tileAt = (page: Page, peerId: string, source = 'camera') =>
      page.locator(`[data-testid=tile][data-peer-id="${peerId}"][data-source=${source}]`);

    // See and hear: decoded video frames and received audio (played out with energy) keep growing.
    for (const [page, other, otherId] of [
      [alice, 'Bob', bobId],
      [bob, 'Alice', aliceId],
    ] as const) {
      const { first, second } = await mediaGrowth(page);
      expect(second.frames).toBeGreaterThan(first.frames + 5);
      expect(second.audioPackets).toBeGreaterThan(first.audioPackets + 20);
      expect(second.audioEnergy).toBeGreaterThan(first.audioEnergy);
      const tile = tileAt(page, otherId);
      expect(await tile.getAttribute('data-video')).toBe('on');
      expect(await tile.locator('[data-testid=name]').textContent()).toBe(other);
      expect(await tile.locator('[data-testid=mic-state]').getAttribute('data-muted')).toBe('false');
      expect(await tile.locator('video').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(320);
      expect(await page.textContent('[data-testid=peer-count]')).toBe('2 in the room');
    }
    await expectPanelBesideTiles(alice);
    const room = env.gw.conference!.room('media')!;
    // Active speaker (both fake mics beep): the server's choice is highlighted on both pages.
    for (const page of [alice, bob])
      await waitFor('active speaker highlight', async () => {
        const speaking = page.locator('[data-testid=tile][data-speaking=true]');
        if ((await speaking.count()) !== 1) return undefined;
        return (await speaking.getAttribute('data-peer-id')) === room.activeSpeaker ? true : undefined;
      });
    const aliceProducers = () => [...room.peers.get(aliceId)!.producers.values()];
    const aliceTile = tileAt(bob, aliceId);

    // Mic off → Bob's tile shows Alice muted and the server paused her mic producer; and back.
    await alice.click('[data-testid=btn-mic]');
    expect(await alice.textContent('[data-testid=btn-mic]')).toBe('Mic off');
    await aliceTile.locator('[data-testid=mic-state][data-muted=true]').waitFor(); // visible
    expect(aliceProducers().find((p) => p.appData.source === 'mic')?.paused).toBe(true);
    await alice.click('[data-testid=btn-mic]');
    // Unmuted = the muted marker is in the DOM but hidden.
    await aliceTile.locator('[data-testid=mic-state][data-muted=false]').waitFor({ state: 'attached' });
    expect(await aliceTile.locator('[data-testid=mic-state]').isVisible()).toBe(false);
    expect(aliceProducers().find((p) => p.appData.source === 'mic')?.paused).toBe(false);

    // Camera off → Bob sees Alice's placeholder (initials) instead of video; back on → frames again.
    await alice.click('[data-testid=btn-camera]');
    await bob.locator(`[data-testid=tile][data-peer-id="${aliceId}"][data-video=off]`).waitFor();
    expect(await aliceTile.locator('.avatar').isVisible()).toBe(true);
    expect(await aliceTile.locator('.avatar').textContent()).toBe('A');
    expect(aliceProducers().find((p) => p.appData.source === 'camera')?.paused).toBe(true);
    await alice.click('[data-testid=btn-camera]');
    await bob.locator(`[data-testid=tile][data-peer-id="${aliceId}"][data-video=on]`).waitFor();
    const shown = await tileFrames(bob, aliceId, 'camera');
    await waitFor('Alice’s camera frames again at Bob', async () =>
      (await tileFrames(bob, aliceId, 'camera')) > shown + 5 ? true : undefined,
    );

    // Screen share through the real button → a screen tile for Alice at Bob, with moving frames.
    await alice.click('[data-testid=btn-screen]');
    await alice.waitForSelector('[data-testid=btn-screen][aria-pressed=true]');
    await tileAt(bob, aliceId, 'screen').waitFor();
    expect(await tileAt(bob, aliceId, 'screen').locator('[data-testid=name]').textContent()).toBe(
      'Alice · screen',
    );
    await waitFor('screen frames at Bob', async () =>
      (await tileFrames(bob, aliceId, 'screen')) > 5 ? true : undefined,
    );
    const screenWidth = await tileAt(bob, aliceId, 'screen')
      .locator('video')
      .evaluate((v: HTMLVideoElement) => v.videoWidth);
    expect(screenWidth).toBeGreaterThan(320); // the 800x600 screen, not the camera
    await expectPanelBesideTiles(bob);
    expect(aliceProducers().map((p) => p.appData.source)).toContain('screen');
    await alice.click('[data-testid=btn-screen]');
    await tileAt(bob, aliceId, 'screen').waitFor({ state: 'detached' });
    expect(aliceProducers().map((p) => p.appData.source)).not.toContain('screen');

    // Bob leaves → his tile disappears at Alice.
    await bob.click('[data-testid=btn-leave]');
    await bob.waitForSelector('[data-testid=left]');
    await tileAt(alice, bobId).waitFor({ state: 'detached' });
    expect(await alice.locator('[data-testid=tile]').count()).toBe(1);
    expect(await alice.textContent('[data-testid=peer-count]')).toBe('1 in the room');
  });

  it('a participant without camera/mic permission is told so and still receives the others', async () => {
    const alice = await mediaPage('denied', 'Alice');
    const aliceId = await alice.evaluate(() => window.__roomcast.peerId());
    const carol = await deniedPage();
    await carol.goto(`${env.baseUrl}/r/denied?name=Carol`);
    await carol.waitForSelector('[data-testid=controls]:not([hidden])');
    const warning = await carol.textContent('[data-testid=media-warning]');
    expect(warning).toContain('permission was denied');
    expect(warning).toContain('receive-only');
    expect(await carol.isDisabled('[data-testid=btn-mic]')).toBe(true);
    expect(await carol.isDisabled('[data-testid=btn-camera]')).toBe(true);
    const { first, second } = await mediaGrowth(carol);
    expect(second.frames).toBeGreaterThan(first.frames);
    expect(
      await carol.locator(`[data-testid=tile][data-peer-id="${aliceId}"]`).getAttribute('data-video'),
    ).toBe('on');
    // Alice sees Carol's tile with the placeholder and a muted mic: nothing comes from Carol.
    const carolId = await carol.evaluate(() => window.__roomcast.peerId());
    const carolTile = alice.locator(`[data-testid=tile][data-peer-id="${carolId}"]`);
    await carolTile.waitFor();
    expect(await carolTile.getAttribute('data-video')).toBe('off');
    expect(await carolTile.locator('[data-testid=mic-state]').getAttribute('data-muted')).toBe('true');
    // The room creator is the moderator; the server agrees with the token the browser kept.
    expect(await alice.isVisible('[data-testid=moderator-badge]')).toBe(true);
    expect(await carol.isVisible('[data-testid=moderator-badge]')).toBe(false);
    const token = await alice.evaluate(() => localStorage.getItem('roomcast.moderator.denied'));
    expect(env.gw.conference!.isModerator('denied', token ?? undefined)).toBe(true);
  });

  it('a dropped signaling connection rejoins by itself: mute, camera off and screen share are kept', async () => {
    // Alice reaches the gateway through a TCP relay that the test cuts; Bob connects directly.
    const proxy = new TcpProxy(await freeTcpPort(), { host: '127.0.0.1', port: env.gw.port });
    await proxy.start();
    try {
      const alice = await mediaPage('rejoin', 'Alice', `http://127.0.0.1:${proxy.port}`);
      const bob = await mediaPage('rejoin', 'Bob');
      const firstId = await alice.evaluate(() => window.__roomcast.peerId());
      await waitFor('Alice’s video at Bob', async () => ((await inbound(bob)).frames > 0 ? true : undefined));
      // Before the cut: mic off, camera off, sharing her screen.
      await alice.click('[data-testid=btn-mic]');
      await alice.click('[data-testid=btn-camera]');
      await alice.click('[data-testid=btn-screen]');
      await bob.locator(`[data-peer-id="${firstId}"] [data-testid=mic-state][data-muted=true]`).waitFor();
      await bob.locator(`[data-testid=tile][data-peer-id="${firstId}"][data-source=screen]`).waitFor();

      await proxy.stop();
      await bob.locator(`[data-peer-id="${firstId}"]`).first().waitFor({ state: 'detached' });
      await alice.waitForSelector(
        '[data-testid=connection-status]:has-text("Connection to the server was lost")',
      );
      expect(await alice.locator('[data-testid=tile]:not([data-local])').count()).toBe(0);
      await proxy.start();

      const newId = await waitFor('Alice rejoined', async () => {
        const id = await alice.evaluate(() => window.__roomcast.peerId());
        return id && id !== firstId ? id : undefined;
      });
      await alice.waitForSelector('[data-testid=connection-status]', { state: 'hidden' });
      const aliceAtBob = bob.locator(`[data-testid=tile][data-peer-id="${newId}"][data-source=camera]`);
      await aliceAtBob.waitFor();
      // After the rejoin her mic is still off, her camera still off (placeholder at Bob) and her
      // screen share is published again; Bob's camera reaches her again.
      expect(await alice.textContent('[data-testid=btn-mic]')).toBe('Mic off');
      expect(await alice.textContent('[data-testid=btn-camera]')).toBe('Camera off');
      await aliceAtBob.locator('[data-testid=mic-state][data-muted=true]').waitFor();
      expect(await aliceAtBob.getAttribute('data-video')).toBe('off');
      const screenAtBob = bob.locator(`[data-testid=tile][data-peer-id="${newId}"][data-source=screen]`);
      await screenAtBob.waitFor();
      const bobId = await bob.evaluate(() => window.__roomcast.peerId());
      const grows = async (page: Page, peerId: string, source: 'camera' | 'screen') => {
        await page
          .locator(`[data-testid=tile][data-peer-id="${peerId}"][data-source=${source}][data-video=on]`)
          .waitFor();
        const shown = await tileFrames(page, peerId, source);
        await waitFor(`${source} frames after the rejoin`, async () =>
          (await tileFrames(page, peerId, source)) > shown + 5 ? true : undefined,
        );
      };
      await grows(bob, newId, 'screen');
      await grows(alice, bobId, 'camera');
      // Camera back on: her paused-then-resumed camera decodes at Bob.
      await alice.click('[data-testid=btn-camera]');
      await grows(bob, newId, 'camera');
      expect(await bob.textContent('[data-testid=peer-count]')).toBe('2 in the room');
    } finally {
      await proxy.stop();
    }
  });
});
