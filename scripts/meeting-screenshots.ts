// Saves PNGs of the lobby and the meeting page to docs/screenshots/ (run under the heavy lock):
//   flock /tmp/roomcast-heavy.lock node --import tsx scripts/meeting-screenshots.ts
import path from 'node:path';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startTestGateway } from '../test/helpers/conference.ts';

const out = path.resolve(import.meta.dirname, '../docs/screenshots');
const env = await startTestGateway();
const browsers = [
  await launchBrowser({
    extraArgs: ['--use-fake-device-for-media-stream'],
    viewport: { width: 900, height: 560 },
  }),
  await launchBrowser({
    extraArgs: ['--use-fake-device-for-media-stream'],
    viewport: { width: 390, height: 700 },
  }),
];
try {
  const [a, b] = [await browsers[0]!.newPage(), await browsers[1]!.newPage()];
  await a.goto(`${env.baseUrl}/`);
  await a.fill('[data-testid=room-input]', 'Team/Sync');
  await a.fill('[data-testid=name-input]', 'Ada');
  await a.click('[data-testid=join-button]');
  await a.screenshot({ path: path.join(out, 'meeting-lobby.png') });
  await a.goto(`${env.baseUrl}/r/team-sync?name=Ada`);
  await a.waitForSelector('[data-testid=tile][data-local=true]');
  await b.goto(`${env.baseUrl}/r/team-sync?name=Grace`);
  await a.locator('[data-testid=tile]:not([data-local])').waitFor();
  await b.locator('[data-testid=tile]:not([data-local])').waitFor();
  await a.screenshot({ path: path.join(out, 'meeting-two-people.png') });
  await b.screenshot({ path: path.join(out, 'meeting-two-people-phone.png') });
  console.log('screenshots written to', out);
} finally {
  for (const br of browsers) await br.dispose();
  await env.stop();
}
