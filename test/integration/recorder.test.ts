import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRecordings, probeDuration, Recorder } from '../../gateway/src/livestream/recording/recorder.ts';
import { probe } from '../helpers/ffprobe.ts';
import { startTestHub, startTestPublisher, type TestHub } from '../helpers/livestream-hub.ts';
import { waitFor } from '../helpers/net.ts';
import { silentLogger } from '../helpers/synthetic.ts';

let hub: TestHub;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roomcast-rec-'));
  hub = await startTestHub();
});

afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

async function expectPlayableMp4(file: string): Promise<number> {
  const p = await probe(file);
  const v = p.streams.find((s) => s.codecType === 'video');
  const a = p.streams.find((s) => s.codecType === 'audio');
  expect(v?.codecName).toBe('h264');
  expect(v?.width).toBe(320);
  expect(v?.frames ?? 0).toBeGreaterThan(25);
  expect(a?.codecName).toBe('aac');
  expect(a?.frames ?? 0).toBeGreaterThan(40);
  return p.duration ?? 0;
}

describe('Recorder', () => {
  it('records a 6 s stream that ends by itself into a playable MP4 of the same length', async () => {
    const publisher = startTestPublisher(hub.url('room-a-key'), 6);
    const rec = new Recorder({
      room: 'room-a',
      sourceUrl: hub.url('room-a-key'),
      dir,
      logger: silentLogger,
      ioTimeoutMs: 3000,
    });
    const ready: string[] = [];
    rec.on('ready', (r) => ready.push(r.name));
    try {
      await rec.start();
      const info = await rec.done(); // publisher stops after 6 s; the hub goes quiet; ffmpeg times out
      expect(info?.name).toMatch(/^room-a-\d{8}T\d{6}Z\.mp4$/);
      expect(ready).toEqual([info?.name]);
      const duration = await expectPlayableMp4(info!.path);
      expect(duration).toBeGreaterThanOrEqual(5);
      expect(duration).toBeLessThanOrEqual(7);
      expect(info?.duration).toBeCloseTo(duration, 1);
    } finally {
      await rec.stop();
      await publisher.stop();
    }
  });

  it("stop() ('q') finalises a live recording; list shows it with size and duration", async () => {
    const publisher = startTestPublisher(hub.url('room-b-key'));
    const rec = new Recorder({ room: 'room b', sourceUrl: hub.url('room-b-key'), dir, logger: silentLogger });
    try {
      await rec.start();
      await waitFor('3 s recorded', async () => ((await probeDuration(rec.partPath)) ?? 0) >= 3, 30_000, 500);
      expect(rec.state).toBe('recording');
      const info = await rec.stop();
      expect(info).not.toBeNull();
      expect(rec.state).toBe('ready');
      const duration = await expectPlayableMp4(info!.path);
      expect(duration).toBeGreaterThanOrEqual(3);
      const files = await readdir(dir);
      expect(files).toContain(info!.name);
      expect(files.filter((f) => f.endsWith('.part'))).toEqual([]);

      const listed = await listRecordings(dir, 'room b');
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ name: info!.name, complete: true, room: 'room b' });
      expect(listed[0]!.size).toBeGreaterThan(10_000);
      expect(listed[0]!.duration).toBeGreaterThanOrEqual(3);
      // Another room's recordings are not listed for this one.
      expect((await listRecordings(dir, 'room-a')).map((r) => r.name)).not.toContain(info!.name);
    } finally {
      await rec.stop();
      await publisher.stop();
    }
  });
});
