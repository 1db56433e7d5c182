import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { MEDIA_CODECS } from '../../gateway/src/mediasoup/worker-pool.ts';
import { Livestream, type LivestreamState } from '../../gateway/src/livestream/livestream.ts';
import { layout } from '../../gateway/src/compositor/layout.ts';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import type { OutputConfig } from '../../gateway/src/config/schema.ts';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';
import { SyntheticRoom, type Rgb } from '../helpers/synthetic-room.ts';
import { RtmpReceiver, colorClose } from '../helpers/rtmp-receiver.ts';
import { probe } from '../helpers/ffprobe.ts';
import { silentLogger } from '../helpers/synthetic.ts';
import { waitFor } from '../helpers/net.ts';

const execFileAsync = promisify(execFile);

const OUTPUT: OutputConfig = {
  width: 640,
  height: 360,
  fps: 30,
  videoBitrateKbps: 800,
  audioBitrateKbps: 96,
  preset: 'veryfast',
  keyframeIntervalSeconds: 1,
};
const RED: Rgb = [220, 40, 40];
const GREEN: Rgb = [40, 200, 60];
const PLACEHOLDER: Rgb = [58, 62, 72];

/** Frames of `file` from `from` for `seconds`, at 10 fps, as rgb24 buffers. */
async function framesBetween(file: string, from: number, seconds: number): Promise<Buffer[]> {
  const { stdout } = await execFileAsync(
    FFMPEG,
    [
      '-v',
      'error',
      '-ss',
      String(from),
      '-t',
      String(seconds),
      '-i',
      file,
      '-vf',
      'fps=10',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const size = OUTPUT.width * OUTPUT.height * 3;
  const out: Buffer[] = [];
  for (let off = 0; off + size <= stdout.length; off += size) out.push(stdout.subarray(off, off + size));
  return out;
}

const pixel = (f: Buffer, x: number, y: number): Rgb => {
  const i = (Math.round(y) * OUTPUT.width + Math.round(x)) * 3;
  return [f[i]!, f[i + 1]!, f[i + 2]!];
};

describe('livestream faults', () => {
  let worker: ms.Worker;
  let room: SyntheticRoom;
  let rx: RtmpReceiver;
  let live: Livestream;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'error' });
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    room = new SyntheticRoom(router);
    await room.join('p1', { name: 'Red', color: RED, toneHz: 440 });
    await room.join('p2', { name: 'Green', color: GREEN, toneHz: 550 });
    rx = await RtmpReceiver.start();
    live = new Livestream({
      source: room,
      rtmpUrl: rx.url,
      output: OUTPUT,
      layout: 'grid',
      logger: silentLogger,
    });
    await live.start();
    await waitFor('live', () => live.state === 'live', 20_000);
    await waitFor(
      'both videos',
      () => live.stats().participants.every((p) => p.firstVideoFrameMs !== null),
      20_000,
    );
  });

  afterAll(async () => {
    await live?.stop();
    await rx?.stop();
    await room?.close();
    worker?.close();
  });

  it('a killed decoder shows the placeholder, is restarted, and its tile comes back', async () => {
    await new Promise((r) => setTimeout(r, 2000)); // both tiles settled
    const t0 = live.stats().framesOut / OUTPUT.fps; // output time ≈ frames written / fps
    const victim = live.stats().processes.find((p) => p.name === 'video decoder p1/camera')!;
    expect(victim).toBeDefined();
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(
      'a new p1 decoder',
      () => live.stats().processes.some((p) => p.name === 'video decoder p1/camera' && p.pid !== victim.pid),
      10_000,
    );
    await waitFor(
      'p1 frames again',
      () => (live.stats().participants[0]?.videoFramesReceived ?? 0) > 30,
      10_000,
    );
    expect(live.stats().participants.find((p) => p.id === 'p1')?.decoderRestarts).toBe(1);
    expect(live.state).toBe('live');

    // Now stop everything and look at what the viewer saw around the kill (the first session).
    const [t1, t2] = layout(
      [
        { id: 'p1', participantId: 'p1', kind: 'camera' },
        { id: 'p2', participantId: 'p2', kind: 'camera' },
      ],
      'grid',
      OUTPUT,
    );
    const frames = await waitForFrames(rx, 0, t0 - 0.3, 4);
    const p1 = frames.map((f) => pixel(f, t1!.x + t1!.width * 0.2, t1!.y + t1!.height * 0.25));
    const p2 = frames.map((f) => pixel(f, t2!.x + t2!.width * 0.5, t2!.y + t2!.height * 0.35));
    const firstPlaceholder = p1.findIndex((c) => colorClose(c, PLACEHOLDER, 20));
    expect(colorClose(p1[0]!, RED), `p1 before the kill: ${p1[0]!.join(',')}`).toBe(true);
    expect(
      firstPlaceholder,
      `p1 tile around the kill: ${p1.map((c) => c.join(',')).join(' ')}`,
    ).toBeGreaterThan(0);
    expect(p1.slice(firstPlaceholder).some((c) => colorClose(c, RED))).toBe(true);
    // The other participant is untouched throughout.
    expect(p2.every((c) => colorClose(c, GREEN))).toBe(true);
  });

  it('a killed encoder reconnects (state reconnecting → live) and the output resumes', async () => {
    const states: { s: LivestreamState; at: number }[] = [];
    live.on('state', (s) => states.push({ s, at: performance.now() }));
    const enc = live.stats().processes.find((p) => p.name === 'encoder')!;
    const killedAt = performance.now();
    process.kill(enc.pid, 'SIGKILL');
    await waitFor('live again', () => states.some((x) => x.s === 'live'), 20_000);
    expect(states.map((x) => x.s)).toEqual(['reconnecting', 'live']);
    expect(live.stats().encoderRestarts).toBe(1);
    // Reported, not asserted (timing targets live in bench/): how long the output was away.
    console.log(`encoder kill → live again: ${Math.round(states[1]!.at - killedAt)} ms`);
    await new Promise((r) => setTimeout(r, 3000));
    await live.stop();
    expect(OwnedProcess.liveProcesses().filter((p) => /decoder|encoder/.test(p.name))).toEqual([]);
    await rx.stop();
    expect(rx.connections).toBe(2);
    const second = await probe(rx.files[1]!);
    const v = second.streams.find((s) => s.codecType === 'video');
    expect(v).toMatchObject({ codecName: 'h264', width: OUTPUT.width, height: OUTPUT.height });
    expect(v?.frames ?? 0).toBeGreaterThan(30);
    expect(second.streams.some((s) => s.codecType === 'audio')).toBe(true);
  });
});

/**
 * Frames of session `n` between `from` and `from + seconds`. The session is still being written
 * (the livestream runs on), so read what is there once that span has been flushed.
 */
async function waitForFrames(rx: RtmpReceiver, n: number, from: number, seconds: number): Promise<Buffer[]> {
  return await waitFor(
    'recorded frames',
    async () => {
      const f = await framesBetween(rx.files[n]!, from, seconds);
      return f.length >= seconds * 10 - 1 ? f : undefined;
    },
    15_000,
    500,
  );
}
