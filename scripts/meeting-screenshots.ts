// Saves PNGs of the lobby and the meeting page to docs/screenshots/ (run under the heavy lock):
//   flock /tmp/roomcast-heavy.lock node --import tsx scripts/meeting-screenshots.ts
// Participants use Chromium's fake camera/mic (320x240); the screen share is the real button
// (getDisplayMedia with an auto-selected screen).
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startTestGateway } from '../test/helpers/conference.ts';

const out = path.resolve(import.meta.dirname, '../docs/screenshots');
const env = await startTestGateway();
const viewport = { width: 900, height: 560 };
const browsers = [
  await launchBrowser({ fakeMedia: true, viewport }),
  await launchBrowser({ fakeMedia: true, autoSelectScreen: true, viewport }),
];

/** Waits until the remote camera tiles of a page show decoded video. */
async function remoteVideoPlaying(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll<HTMLVideoElement>('[data-testid=tile]:not([data-local]) video')].filter(
        (v) => v.getVideoPlaybackQuality().totalVideoFrames > 10,
      ).length >= n,
    count,
  );
}

try {
  const [a, b] = [await browsers[0]!.newPage(), await browsers[1]!.newPage()];
  await a.goto(`${env.baseUrl}/`);
  await a.fill('[data-testid=room-input]', 'Team/Sync');
  await a.fill('[data-testid=name-input]', 'Ada');
  await a.click('[data-testid=join-button]');
  await a.screenshot({ path: path.join(out, 'meeting-lobby.png') });

  await a.goto(`${env.baseUrl}/r/team-sync?name=Ada%20Lovelace&video=320x240`);
  await a.waitForSelector('[data-testid=controls]:not([hidden])');
  await b.goto(`${env.baseUrl}/r/team-sync?name=Grace%20Hopper&video=320x240`);
  await b.waitForSelector('[data-testid=controls]:not([hidden])');
  await remoteVideoPlaying(a, 1);
  await remoteVideoPlaying(b, 1);
  await b.click('[data-testid=btn-mic]'); // Grace muted: Ada's page shows it on her tile
  await a.waitForSelector('[data-testid=tile]:not([data-local]) [data-testid=mic-state][data-muted=true]');
  await a.screenshot({ path: path.join(out, 'meeting-two-people.png') });
  await b.setViewportSize({ width: 390, height: 700 });
  await b.waitForTimeout(500);
  await b.screenshot({ path: path.join(out, 'meeting-two-people-phone.png') });
  await b.setViewportSize(viewport);

  await b.click('[data-testid=btn-screen]');
  await a.waitForSelector('[data-testid=tile][data-source=screen]');
  await remoteVideoPlaying(a, 2);
  await a.waitForTimeout(500);
  await a.screenshot({ path: path.join(out, 'meeting-screen-share.png') });
  console.log('screenshots written to', out);
} finally {
  for (const br of browsers) await br.dispose();
  await env.stop();
}
