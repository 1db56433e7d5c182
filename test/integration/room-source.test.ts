import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ConsumedTrack, RoomSource } from '../../gateway/src/rooms/room-source.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestGateway } from '../helpers/conference.ts';
import { startRtpRecorder } from '../helpers/rtp-receiver.ts';
import { freeUdpPortPair, waitFor } from '../helpers/net.ts';
import { probe } from '../helpers/ffprobe.ts';

// The embedded RoomSource of a room with two real participants: Debian Chromium on the meeting
// page with fake camera (320x240) and mic, publishing over WebRTC into the mediasoup router.
// Consumption goes through the hidden path: RoomSource.consume → PlainTransport consumer →
// ffmpeg RTP receiver → decoded frames.
describe('EmbeddedRoomSource with browser participants', () => {
  let env: Awaited<ReturnType<typeof startTestGateway>>;
  const browsers: Awaited<ReturnType<typeof launchBrowser>>[] = [];
  const pages: Record<string, Page> = {};
  let consumed: ConsumedTrack | undefined;

  beforeAll(async () => {
    env = await startTestGateway();
  });
  afterAll(async () => {
    consumed?.close();
    await Promise.all(browsers.map((b) => b.dispose()));
    await env?.stop();
  });

  async function join(name: string): Promise<Page> {
    const b = await launchBrowser({ fakeMedia: true });
    browsers.push(b);
    const page = await b.newPage();
    await page.goto(`${env.baseUrl}/r/rs?name=${name}&video=320x240`);
    await page.waitForSelector('[data-testid=controls]:not([hidden])');
    pages[name] = page;
    return page;
  }

  const describeTracks = (source: RoomSource, name: string) =>
    source
      .participants()
      .find((p) => p.displayName === name)
      ?.tracks.map((t) => `${t.kind}:${t.source}:${t.paused}`)
      .sort();

  it('lists both participants with camera and mic; events follow joins and mutes', async () => {
    await join('Alice');
    const conf = env.gw.conference!;
    const source: RoomSource = conf.roomSource('rs')!;
    expect(conf.roomSource('rs')).toBe(source); // one source per room
    const events: string[] = [];
    source.on('participantJoined', (p) => events.push(`joined:${p.displayName}`));
    source.on('trackAdded', (_id, t) => events.push(`track:${t.kind}:${t.source}`));
    source.on('trackPaused', () => events.push('paused'));
    source.on('trackResumed', () => events.push('resumed'));
    source.on('participantUpdated', (p) => events.push(`updated:${p.displayName}:${p.excludedFromStream}`));

    const bob = await join('Bob');
    await waitFor('Bob’s two tracks', () => (describeTracks(source, 'Bob')?.length === 2 ? true : undefined));
    expect(
      source
        .participants()
        .map((p) => p.displayName)
        .sort(),
    ).toEqual(['Alice', 'Bob']);
    for (const name of ['Alice', 'Bob'])
      expect(describeTracks(source, name)).toEqual(['audio:mic:false', 'video:camera:false']);
    expect(events[0]).toBe('joined:Bob');
    expect(events.slice(1).sort()).toEqual(['track:audio:mic', 'track:video:camera']);

    // Bob mutes his mic in the page: the track is paused in the RoomSource, then resumed.
    await bob.click('[data-testid=btn-mic]');
    await waitFor('mic paused', () => (events.includes('paused') ? true : undefined));
    expect(describeTracks(source, 'Bob')).toEqual(['audio:mic:true', 'video:camera:false']);
    await bob.click('[data-testid=btn-mic]');
    await waitFor('mic resumed', () => (events.includes('resumed') ? true : undefined));
    expect(describeTracks(source, 'Bob')).toEqual(['audio:mic:false', 'video:camera:false']);

    // "Don't show me in the stream" (the panel's request) reaches the RoomSource.
    await bob.evaluate(() => window.__roomcast.request('stream.setExcluded', { excluded: true }));
    expect(events.at(-1)).toBe('updated:Bob:true');
    expect(source.participants().find((p) => p.displayName === 'Bob')?.excludedFromStream).toBe(true);
  });

  it('consumes a browser camera to an ffmpeg receiver that decodes frames; the consumer stays hidden', async () => {
    const source = env.gw.conference!.roomSource('rs')!;
    const alice = source.participants().find((p) => p.displayName === 'Alice')!;
    const video = alice.tracks.find((t) => t.kind === 'video')!;

    const port = await freeUdpPortPair();
    consumed = await source.consume(video.id, { ip: '127.0.0.1', port, rtcpPort: port + 1 });
    expect(consumed.kind).toBe('video');
    const rec = startRtpRecorder([consumed.receive], 4);
    await new Promise((r) => setTimeout(r, 300)); // let ffmpeg bind before media flows
    await consumed.start(); // resume + keyframe request to the browser
    await rec.proc.waitForExit();
    const probed = await probe(rec.outFile);
    const v = probed.streams.find((s) => s.codecType === 'video');
    expect(v?.codecName).toBe('vp8');
    expect(v?.width).toBe(320);
    expect(v?.frames ?? 0).toBeGreaterThan(10);
    expect(await consumed.bytesSent()).toBeGreaterThan(1000);

    // Hidden: each page knows exactly the one other person, shows two tiles and "2 in the room".
    for (const [name, other] of [
      ['Alice', 'Bob'],
      ['Bob', 'Alice'],
    ] as const) {
      const page = pages[name]!;
      const peers = await page.evaluate(() => window.__roomcast.peers());
      expect(peers.map((p) => p.displayName)).toEqual([other]);
      expect(await page.locator('[data-testid=tile]').count()).toBe(2);
      expect(await page.textContent('[data-testid=peer-count]')).toBe('2 in the room');
    }
    expect(source.participants()).toHaveLength(2);
  });

  it('a consumed track closes when its participant leaves', async () => {
    const source = env.gw.conference!.roomSource('rs')!;
    const left: string[] = [];
    source.on('participantLeft', (id) => left.push(id));
    const removed: string[] = [];
    source.on('trackRemoved', (_p, t) => removed.push(t));
    const alice = source.participants().find((p) => p.displayName === 'Alice')!;
    const closed = new Promise<void>((resolve) => consumed!.once('closed', () => resolve()));
    await pages.Alice!.click('[data-testid=btn-leave]');
    await closed;
    expect(consumed!.closed).toBe(true);
    expect(left).toEqual([alice.id]);
    expect(removed.sort()).toEqual(alice.tracks.map((t) => t.id).sort());
    await expect(
      source.consume(alice.tracks[0]!.id, { ip: '127.0.0.1', port: 9, rtcpPort: 10 }),
    ).rejects.toThrow('no track');
  });
});
