/**
 * Quick A/B for compositor CPU work (issue 4 follow-up). Not a test, appends nothing.
 *
 *   flock /tmp/roomcast-heavy.lock npx tsx bench/compositor-ab.ts
 *
 * One Livestream (720p30, 4 synthetic participants, veryfast) with solid-colour clips, then with
 * moving testsrc2 640x360 clips: 6 s warm-up, then AB_WINDOWS (default 2) windows of AB_WINDOW_S
 * (default 15) s each, CPU as a fraction of one core split node / encoder / video / audio
 * decoders. AB_BASELINE=1 also measures the one-ffmpeg xstack+amix baseline (one window each).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import { MEDIA_CODECS } from '../gateway/src/mediasoup/worker-pool.ts';
import { Livestream } from '../gateway/src/livestream/livestream.ts';
import { processCpuSeconds } from '../gateway/src/livestream/proc-stats.ts';
import { DEFAULT_OUTPUT, type OutputConfig } from '../gateway/src/config/schema.ts';
import { OwnedProcess } from '../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../gateway/src/process/ffmpeg.ts';
import { startBaseline } from './baseline.ts';
import { SyntheticRoom, type Rgb } from '../test/helpers/synthetic-room.ts';
import { silentLogger } from '../test/helpers/synthetic.ts';
import { freeTcpPort, waitFor } from '../test/helpers/net.ts';
import { rtmpListenArgs } from '../test/helpers/rtmp-receiver.ts';

const WINDOW_S = Number(process.env.AB_WINDOW_S ?? 15);
const WINDOWS = Number(process.env.AB_WINDOWS ?? 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OUTPUT: OutputConfig = DEFAULT_OUTPUT;
const PEOPLE: { id: string; color: Rgb; tone: number }[] = [
  { id: 'p1', color: [200, 30, 30], tone: 500 },
  { id: 'p2', color: [30, 150, 40], tone: 800 },
  { id: 'p3', color: [30, 60, 200], tone: 1200 },
  { id: 'p4', color: [140, 40, 160], tone: 1800 },
];

async function sink(): Promise<{ url: string; proc: OwnedProcess }> {
  const port = await freeTcpPort();
  const url = `rtmp://127.0.0.1:${port}/live/ab`;
  const proc = new OwnedProcess({
    name: 'ab sink',
    command: FFMPEG,
    args: rtmpListenArgs(url, ['-f', 'null', '-']),
    logger: silentLogger,
  });
  await sleep(300);
  return { url, proc };
}

const role = (name: string) => (name === 'encoder' ? 'encoder' : name.startsWith('video') ? 'vdec' : 'adec');

async function measureLive(live: Livestream): Promise<Record<string, number>> {
  const before = new Map<number, number>();
  for (const p of live.stats().processes) before.set(p.pid, (await processCpuSeconds(p.pid)) ?? 0);
  const s0 = live.stats();
  const n0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const dt = (performance.now() - t0) / 1000;
  const n1 = process.cpuUsage(n0);
  const r: Record<string, number> = { node: (n1.user + n1.system) / 1e6 / dt, encoder: 0, vdec: 0, adec: 0 };
  for (const p of live.stats().processes) {
    const b = before.get(p.pid);
    if (b === undefined) continue;
    r[role(p.name)]! += (((await processCpuSeconds(p.pid)) ?? 0) - b) / dt;
  }
  const s1 = live.stats();
  r.total = r.node! + r.encoder! + r.vdec! + r.adec!;
  r.dup = s1.duplicatedFrames - s0.duplicatedFrames;
  r.drop = s1.droppedFrames - s0.droppedFrames;
  return r;
}

async function baseline(room: SyntheticRoom, dir: string): Promise<number> {
  const s = await sink();
  const base = await startBaseline(room, s.url, dir, OUTPUT, 'ab baseline');
  await sleep(10_000);
  const c0 = (await processCpuSeconds(base.proc.pid!)) ?? 0;
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const v = (((await processCpuSeconds(base.proc.pid!)) ?? 0) - c0) / ((performance.now() - t0) / 1000);
  await base.stop();
  await s.proc.stop();
  return v;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roomcast-ab-'));
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const f = (x: number) => x.toFixed(3);
  try {
    for (const pattern of [false, true]) {
      const room = new SyntheticRoom(router, pattern ? 'ab-pattern' : 'ab-solid');
      for (const p of PEOPLE)
        await room.join(p.id, {
          name: p.id.toUpperCase(),
          color: p.color,
          toneHz: p.tone,
          ...(pattern ? { pattern: true, width: 640, height: 360 } : { flash: true }),
        });
      await sleep(1500);
      const s = await sink();
      const live = new Livestream({
        source: room,
        rtmpUrl: s.url,
        output: OUTPUT,
        layout: 'grid',
        logger: silentLogger,
      });
      await live.start();
      await waitFor('live', () => live.state === 'live', 30_000);
      await sleep(6000);
      for (let w = 0; w < WINDOWS; w++) {
        const r = await measureLive(live);
        console.log(
          `${pattern ? 'moving' : 'solid '} live w${w}: total ${f(r.total!)} = node ${f(r.node!)} + enc ${f(r.encoder!)} + vdec ${f(r.vdec!)} + adec ${f(r.adec!)}  (dup ${r.dup}, drop ${r.drop})`,
        );
      }
      await live.stop();
      await s.proc.stop();
      if (process.env.AB_BASELINE === '1')
        console.log(`${pattern ? 'moving' : 'solid '} baseline: ${f(await baseline(room, dir))}`);
      await room.close();
    }
  } finally {
    worker.close();
    await OwnedProcess.stopAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
