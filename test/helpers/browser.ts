import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.ROOMCAST_CHROMIUM ?? '/usr/bin/chromium';

// Flags from the machine notes: no background networking (the sandbox refuses it), no QUIC,
// autoplay allowed so muted/unmuted media starts without a gesture.
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
];

export interface BrowserOptions {
  /** Fake camera/mic (and auto-accept permission prompts). */
  fakeMedia?: boolean;
  /** A .y4m file as the fake camera (distinct content per participant). */
  fakeVideoFile?: string;
  /** A .wav file as the fake microphone. */
  fakeAudioFile?: string;
  /** Auto-select a screen for getDisplayMedia (screen share tests). */
  autoSelectScreen?: boolean;
  viewport?: { width: number; height: number };
  extraArgs?: string[];
}

/** A headless Debian Chromium with its own temp profile; close() removes the profile. */
export async function launchBrowser(
  opts: BrowserOptions = {},
): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'roomcast-chromium-'));
  const args = [...BASE_ARGS, ...(opts.extraArgs ?? [])];
  if (opts.fakeMedia) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
  if (opts.fakeVideoFile) args.push(`--use-file-for-fake-video-capture=${opts.fakeVideoFile}`);
  if (opts.fakeAudioFile) args.push(`--use-file-for-fake-audio-capture=${opts.fakeAudioFile}`);
  if (opts.autoSelectScreen)
    args.push('--auto-select-desktop-capture-source=Entire screen', '--enable-usermedia-screen-capturing');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: opts.viewport ?? { width: 800, height: 600 },
  });
  return Object.assign(context, {
    async dispose() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
