/**
 * Compositor benchmark (issue 4). Not a test: prints a table and appends it to BENCHMARKS.md.
 *
 *   flock /tmp/roomcast-heavy.lock npm run bench:compositor
 *
 * Env: BENCH_WINDOW_S (steady window, default 15), BENCH_FAST_PRESET (default ultrafast),
 * BENCH_MAX_STREAMS (default 4), BENCH_NO_APPEND=1 (print only).
 *
 * What is measured, all with 4 synthetic participants (pre-encoded VP8 320x180 + Opus clips
 * replayed by ffmpeg into a real mediasoup router):
 * 1. CPU (fraction of one core) and memory of ONE Livestream at 720p30 veryfast: the Node
 *    process + the Livestream's ffmpeg children (encoder, decoders). The mediasoup worker, the
 *    synthetic senders and the RTMP sink are excluded (same as the prototype). Against it, in
 *    alternating windows, a plain ffmpeg doing xstack 2x2 + amix of the same 4 RTP inputs with
 *    the same encoder settings. Ratio = livestream / baseline.
 * 2. Simultaneous livestreams (each its own consumers, decoders and encoder) sustained with no
 *    dropped output frames, at veryfast and at a faster preset.
 * 3. A/V offset per participant at the receiver, from clips that flash + beep every 2 s.
 * 4. Time from start() to the first output frame and to each participant's first frame.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import * as mediasoup from 'mediasoup';
import { MEDIA_CODECS } from '../gateway/src/mediasoup/worker-pool.ts';
import { Livestream } from '../gateway/src/livestream/livestream.ts';
import { processCpuSeconds, processMemory } from '../gateway/src/livestream/proc-stats.ts';
import { layout } from '../gateway/src/compositor/layout.ts';
import { DEFAULT_OUTPUT, type OutputConfig } from '../gateway/src/config/schema.ts';
import { OwnedProcess } from '../gateway/src/process/owned-process.ts';
import { FFMPEG, ffmpegVersion } from '../gateway/src/process/ffmpeg.ts';
import { startBaseline } from './baseline.ts';
import { SyntheticRoom, type Rgb } from '../test/helpers/synthetic-room.ts';
import { silentLogger } from '../test/helpers/synthetic.ts';
import { rtmpListenArgs } from '../test/helpers/rtmp-receiver.ts';
import { freeTcpPort, waitFor } from '../test/helpers/net.ts';

const execFileAsync = promisify(execFile);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 15);
const FAST_PRESET = (process.env.BENCH_FAST_PRESET ?? 'ultrafast') as OutputConfig['preset'];
const MAX_STREAMS = Number(process.env.BENCH_MAX_STREAMS ?? 4);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The gateway's default output: 720p30 veryfast.
const OUTPUT: OutputConfig = DEFAULT_OUTPUT;

const PEOPLE: { id: string; color: Rgb; tone: number }[] = [
  { id: 'p1', color: [200, 30, 30], tone: 500 },
  { id: 'p2', color: [30, 150, 40], tone: 800 },
  { id: 'p3', color: [30, 60, 200], tone: 1200 },
  { id: 'p4', color: [140, 40, 160], tone: 1800 },
];

/** An RTMP sink: ffmpeg -listen, copying to a file (or discarding). Excluded from CPU figures. */
async function rtmpSink(file: string | null): Promise<{ url: string; proc: OwnedProcess }> {
  const port = await freeTcpPort();
  const proc = new OwnedProcess({
    name: 'bench rtmp sink',
    command: FFMPEG,
    args: rtmpListenArgs(
      `rtmp://127.0.0.1:${port}/live/bench-key`,
      file ? ['-f', 'flv', file] : ['-f', 'null', '-'],
    ),
    logger: silentLogger,
  });
  await sleep(300);
  return { url: `rtmp://127.0.0.1:${port}/live/bench-key`, proc };
}

async function cpuOf(pids: number[]): Promise<number> {
  let s = 0;
  for (const pid of pids) s += (await processCpuSeconds(pid)) ?? 0;
  return s;
}

interface CpuSample {
  total: number;
  parts: Record<string, number>;
  pss: number;
  rss: number;
  loopP99Ms?: number;
}

/** CPU over a window for the livestream: Node (process.cpuUsage) + its children by role. */
async function measureLivestream(live: Livestream, seconds: number): Promise<CpuSample> {
  const procs = () => live.stats().processes;
  const role = (name: string) => (name === 'encoder' ? 'encoder' : 'decoders');
  const before = new Map<number, number>();
  for (const p of procs()) before.set(p.pid, (await processCpuSeconds(p.pid)) ?? 0);
  const n0 = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const dt = (performance.now() - t0) / 1000;
  loop.disable();
  const n1 = process.cpuUsage(n0);
  const parts: Record<string, number> = { node: (n1.user + n1.system) / 1e6 / dt, encoder: 0, decoders: 0 };
  for (const p of procs()) {
    const c = (await processCpuSeconds(p.pid)) ?? 0;
    const b = before.get(p.pid);
    if (b === undefined) continue; // restarted during the window: not steady, skip
    parts[role(p.name)]! += (c - b) / dt;
  }
  let pss = 0;
  let rss = 0;
  for (const pid of [process.pid, ...procs().map((p) => p.pid)]) {
    const m = await processMemory(pid);
    pss += m?.pss ?? 0;
    rss += m?.rss ?? 0;
  }
  return {
    total: parts.node! + parts.encoder! + parts.decoders!,
    parts,
    pss,
    rss,
    loopP99Ms: loop.percentile(99) / 1e6,
  };
}

async function measureBaseline(pid: number, seconds: number): Promise<CpuSample> {
  const c0 = await cpuOf([pid]);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const dt = (performance.now() - t0) / 1000;
  const total = ((await cpuOf([pid])) - c0) / dt;
  const m = await processMemory(pid);
  return { total, parts: { ffmpeg: total }, pss: m?.pss ?? 0, rss: m?.rss ?? 0 };
}

async function startLive(room: SyntheticRoom, url: string, output: OutputConfig): Promise<Livestream> {
  const live = new Livestream({ source: room, rtmpUrl: url, output, layout: 'grid', logger: silentLogger });
  await live.start();
  await waitFor('live', () => live.state === 'live', 30_000);
  return live;
}

/** N livestreams at once for a window: did every one keep up with no dropped frames? */
async function concurrency(room: SyntheticRoom, n: number, preset: OutputConfig['preset']) {
  const output = { ...OUTPUT, preset };
  const sinks = await Promise.all(Array.from({ length: n }, () => rtmpSink(null)));
  const lives: Livestream[] = [];
  try {
    for (const s of sinks) lives.push(await startLive(room, s.url, output));
    await sleep(6000); // warm-up: decoders started, encoder drained its start-up backlog
    const s0 = lives.map((l) => l.stats());
    const t0 = performance.now();
    const maxBacklog = lives.map(() => 0);
    for (let t = 0; t < WINDOW_S; t++) {
      await sleep(1000);
      lives.forEach((l, i) => {
        const s = l.stats();
        maxBacklog[i] = Math.max(maxBacklog[i]!, s.framesOut - s.encoderFrames);
      });
    }
    const dt = (performance.now() - t0) / 1000;
    const s1 = lives.map((l) => l.stats());
    const per = s1.map((s, i) => {
      const encoded = s.encoderFrames - s0[i]!.encoderFrames;
      const expected = dt * output.fps;
      return {
        keptUp: encoded / expected,
        dropped: s.droppedFrames - s0[i]!.droppedFrames,
        dup: s.duplicatedFrames - s0[i]!.duplicatedFrames,
        restarts: s.encoderRestarts,
        backlogGrowth: s.framesOut - s.encoderFrames - (s0[i]!.framesOut - s0[i]!.encoderFrames),
        maxBacklog: maxBacklog[i]!,
      };
    });
    // "No dropped output frames": nothing dropped, no encoder restart, and the encoder keeps pace
    // in real time: its backlog (frames written − frames it reports encoded, reported every
    // 0.5 s) did not grow by more than 0.5 s over the window and never exceeded 2 s.
    const ok = per.every(
      (p) =>
        p.dropped === 0 &&
        p.restarts === 0 &&
        p.backlogGrowth < output.fps / 2 &&
        p.maxBacklog < output.fps * 2,
    );
    return { n, preset, ok, per };
  } finally {
    await Promise.all(lives.map((l) => l.stop()));
    await Promise.all(sinks.map((s) => s.proc.stop()));
  }
}

/** Goertzel power of `freq` in pcm[from, from+len). */
function goertzel(pcm: Int16Array, from: number, len: number, freq: number, rate: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < from + len; i++) {
    const s0 = pcm[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / len;
}

/** Rising edges of a boolean series (index), requiring `quiet` false samples before. */
function onsets(on: boolean[], quiet: number): number[] {
  const out: number[] = [];
  let off = quiet;
  for (let i = 0; i < on.length; i++) {
    if (on[i]) {
      if (off >= quiet) out.push(i);
      off = 0;
    } else off++;
  }
  return out;
}

async function avOffsets(file: string): Promise<{ id: string; mean: number; worst: number; n: number }[]> {
  const W = 320;
  const H = 180;
  const { stdout: vraw } = await execFileAsync(
    FFMPEG,
    [
      '-v',
      'error',
      '-i',
      file,
      '-an',
      '-vf',
      `scale=${W}:${H},format=gray`,
      '-fps_mode',
      'passthrough',
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
  );
  const { stdout: ptsOut } = await execFileAsync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'frame=pts_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  const vpts = ptsOut.split('\n').filter(Boolean).map(Number);
  const { stdout: araw } = await execFileAsync(
    FFMPEG,
    ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
  );
  const pcm = new Int16Array(araw.buffer, araw.byteOffset, Math.floor(araw.length / 2));
  const { stdout: astart } = await execFileAsync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'a',
    '-show_entries',
    'stream=start_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  const audioStart = Number(astart.trim()) || 0;
  const frames = Math.min(vpts.length, Math.floor(vraw.length / (W * H)));
  const tiles = layout(
    PEOPLE.map((p) => ({ id: p.id, participantId: p.id, kind: 'camera' as const })),
    'grid',
    OUTPUT,
  );
  const results = [];
  for (const p of PEOPLE) {
    const t = tiles.find((x) => x.id === p.id)!;
    // Top quarter of the tile (the flash box covers the top half of the source picture).
    const x0 = Math.round(((t.x + t.width * 0.3) * W) / OUTPUT.width);
    const x1 = Math.round(((t.x + t.width * 0.7) * W) / OUTPUT.width);
    const y0 = Math.round(((t.y + t.height * 0.1) * H) / OUTPUT.height);
    const y1 = Math.round(((t.y + t.height * 0.3) * H) / OUTPUT.height);
    const white: boolean[] = [];
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      let n = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          sum += vraw[f * W * H + y * W + x]!;
          n++;
        }
      white.push(sum / n > 230);
    }
    const vOn = onsets(white, 15).map((i) => vpts[i]!);
    const hop = 240; // 5 ms
    const win = 480;
    const power: number[] = [];
    for (let i = 0; i + win < pcm.length; i += hop) power.push(goertzel(pcm, i, win, p.tone, 48000));
    const peak = [...power].sort((a, b) => a - b)[Math.floor(power.length * 0.99)] ?? 1;
    const aOn = onsets(
      power.map((x) => x > peak * 0.1),
      100,
    ).map((i) => audioStart + (i * hop + win / 2) / 48000);
    const diffs: number[] = [];
    for (const v of vOn) {
      const a = aOn.reduce((best, x) => (Math.abs(x - v) < Math.abs(best - v) ? x : best), Infinity);
      if (Math.abs(a - v) < 0.5) diffs.push((a - v) * 1000);
    }
    const mean = diffs.reduce((s, x) => s + x, 0) / (diffs.length || 1);
    const worst = diffs.reduce((w, x) => (Math.abs(x) > Math.abs(w) ? x : w), 0);
    results.push({ id: p.id, mean, worst, n: diffs.length });
  }
  return results;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roomcast-bench-'));
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const room = new SyntheticRoom(router, 'bench');
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  try {
    for (const p of PEOPLE)
      await room.join(p.id, { name: p.id.toUpperCase(), color: p.color, toneHz: p.tone, flash: true });
    await sleep(1500);

    // --- 1 + 3 + 4: one livestream, recorded, then CPU windows alternating with the baseline.
    const recFile = path.join(dir, 'live.flv');
    const sink = await rtmpSink(recFile);
    const nodePss0 = (await processMemory(process.pid))?.pss ?? 0;
    const tStart = performance.now();
    const live = await startLive(room, sink.url, OUTPUT);
    await waitFor(
      'all first frames',
      () => live.stats().participants.every((p) => p.firstVideoFrameMs !== null),
      20_000,
    );
    const startStats = live.stats();
    void tStart;
    await sleep(5000);
    const ls: CpuSample[] = [];
    const bs: CpuSample[] = [];
    const pairs = 2;
    ls.push(await measureLivestream(live, WINDOW_S));
    const liveStats = live.stats();
    const nodePss1 = (await processMemory(process.pid))?.pss ?? 0;
    const memSample = ls[0]!;
    await live.stop();
    await sink.proc.stop();
    const av = await avOffsets(recFile);
    for (let i = 0; i < pairs; i++) {
      const bsink = await rtmpSink(null);
      const base = await startBaseline(room, bsink.url, dir, OUTPUT);
      await sleep(10_000); // the xstack graph needs ~8 s to probe its inputs
      bs.push(await measureBaseline(base.proc.pid!, WINDOW_S));
      await base.stop();
      await bsink.proc.stop();
      if (i === pairs - 1) break;
      const lsink = await rtmpSink(null);
      const l2 = await startLive(room, lsink.url, OUTPUT);
      await sleep(6000);
      ls.push(await measureLivestream(l2, WINDOW_S));
      await l2.stop();
      await lsink.proc.stop();
    }
    // Same comparison with moving camera-like content (testsrc2 640x360): x264 does real work
    // here, as with real cameras; one window each.
    const proom = new SyntheticRoom(router, 'bench-pattern');
    for (const p of PEOPLE)
      await proom.join(p.id, {
        name: p.id.toUpperCase(),
        color: p.color,
        toneHz: p.tone,
        pattern: true,
        width: 640,
        height: 360,
      });
    let pl: CpuSample;
    let pb: CpuSample;
    try {
      const s1 = await rtmpSink(null);
      const l3 = await startLive(proom, s1.url, OUTPUT);
      await sleep(6000);
      pl = await measureLivestream(l3, WINDOW_S);
      await l3.stop();
      await s1.proc.stop();
      const s2 = await rtmpSink(null);
      const b3 = await startBaseline(proom, s2.url, dir, OUTPUT);
      await sleep(10_000);
      pb = await measureBaseline(b3.proc.pid!, WINDOW_S);
      await b3.stop();
      await s2.proc.stop();
    } catch (err) {
      await proom.close();
      throw err;
    }

    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const lTotal = avg(ls.map((s) => s.total));
    const bTotal = avg(bs.map((s) => s.total));
    const ratio = lTotal / bTotal;

    // --- 2: simultaneous livestreams, with the moving (camera-like) content: solid colours
    // make x264 nearly free and would overstate the capacity.
    await room.close();
    const conc: Awaited<ReturnType<typeof concurrency>>[] = [];
    for (const preset of ['veryfast', FAST_PRESET] as const) {
      for (let n = 1; n <= MAX_STREAMS; n++) {
        const r = await concurrency(proom, n, preset);
        conc.push(r);
        console.log(`  ${preset} x${n}: ${r.ok ? 'ok' : 'NOT sustained'} ${JSON.stringify(r.per)}`);
        if (!r.ok) break;
      }
    }
    await proom.close();
    const maxOk = (preset: string) =>
      Math.max(0, ...conc.filter((c) => c.preset === preset && c.ok).map((c) => c.n));

    // --- table
    const mb = (b: number) => `${Math.round(b / 1048576)} MB`;
    const f2 = (x: number) => x.toFixed(2);
    const ffv = await ffmpegVersion();
    say(`\n## Compositor / Livestream (issue 4)\n`);
    say(
      `Machine: ${os.cpus().length} cores ${os.cpus()[0]?.model ?? '?'}, ${mb(os.totalmem())}, Node ${process.version}, ffmpeg ${ffv}, ${new Date().toISOString()}. ` +
        `Command: \`flock /tmp/roomcast-heavy.lock npm run bench:compositor\` (window ${WINDOW_S} s). ` +
        `4 synthetic participants (pre-encoded VP8 320x180@30 + Opus, flash+beep every 2 s, replayed with \`-re -c copy\`), output 1280x720 30 fps 2500k veryfast g=30 + AAC 128k → ffmpeg RTMP sink. ` +
        `CPU = fraction of one core of the Livestream only (Node process + its encoder + decoder ffmpegs); the mediasoup worker, the senders and the RTMP sink are excluded, as in the prototype.\n`,
    );
    say('| figure | measured | target |');
    say('| --- | --- | --- |');
    say(
      `| CPU per livestream, 720p30 4 participants veryfast | ${f2(lTotal)} core (windows: ${ls.map((s) => f2(s.total)).join(', ')}; split node ${f2(avg(ls.map((s) => s.parts.node!)))} / encoder ${f2(avg(ls.map((s) => s.parts.encoder!)))} / 4 video + 4 audio decoders ${f2(avg(ls.map((s) => s.parts.decoders!)))}) | |`,
    );
    say(
      `| baseline: one ffmpeg xstack 2x2 + amix, same inputs and encoder | ${f2(bTotal)} core (windows: ${bs.map((s) => f2(s.total)).join(', ')}) | |`,
    );
    say(`| ratio livestream / baseline | **${f2(ratio)}** | ≤ 1.10 |`);
    say(
      `| same with moving content (testsrc2 640x360 clips): livestream / baseline | ${f2(pl.total)} (node ${f2(pl.parts.node!)} / encoder ${f2(pl.parts.encoder!)} / decoders ${f2(pl.parts.decoders!)}) / ${f2(pb.total)} = **${f2(pl.total / pb.total)}** | ≤ 1.10 |`,
    );
    say(
      `| memory per livestream (PSS) | **${mb(memSample.pss - nodePss1 + (nodePss1 - nodePss0))}** = children ${mb(memSample.pss - nodePss1)} + growth of the Node process ${mb(nodePss1 - nodePss0)} (whole bench Node process incl. mediasoup client side: ${mb(nodePss1)}; all together ${mb(memSample.pss)}); RSS ${mb(memSample.rss)} (shared libraries counted per process); baseline ffmpeg PSS ${mb(bs[0]!.pss)}, RSS ${mb(bs[0]!.rss)} | ≤ 250 MB PSS |`,
    );
    say(`| Node event-loop delay p99 during the window | ${f2(memSample.loopP99Ms ?? 0)} ms | |`);
    say(
      `| output frames in the recorded run | ${liveStats.framesOut} written, ${liveStats.duplicatedFrames} duplicated (clock catch-up/back-pressure), ${liveStats.droppedFrames} dropped; per participant FIFO repeats ${liveStats.participants.map((p) => p.videoFramesRepeated).join('/')}, drops ${liveStats.participants.map((p) => p.videoFramesDropped).join('/')} of ${liveStats.participants.map((p) => p.videoFramesReceived).join('/')} | |`,
    );
    say(
      `| simultaneous livestreams sustained (moving content), veryfast | **${maxOk('veryfast')}** (tried up to ${MAX_STREAMS}) | ≥ 2 |`,
    );
    say(
      `| simultaneous livestreams sustained (moving content), ${FAST_PRESET} | **${maxOk(FAST_PRESET)}** (tried up to ${MAX_STREAMS}) | ≥ 3 |`,
    );
    say(
      `| A/V offset per participant (audio − video, ms; + = audio late) | ${av.map((a) => `${a.id}: mean ${a.mean.toFixed(0)}, worst ${a.worst.toFixed(0)} (n=${a.n})`).join('; ')} | mean ±40, worst ±80 |`,
    );
    say(
      `| start → first output frame (encoder's first frame out on RTMP) | **${startStats.firstOutputFrameMs} ms** | ≤ 1500 ms |`,
    );
    say(
      `| start → each participant's first frame at the compositor (shown on the next tick) | ${startStats.participants.map((p) => `${p.id} ${p.firstVideoFrameMs} ms`).join(', ')}; first audio ${startStats.participants.map((p) => `${p.firstAudioMs}`).join('/')} ms | |`,
    );
    say('');
    say(
      'Simultaneous-livestream trials (kept-up = frames encoded / frames due in the window, ±3 % from 0.5 s progress sampling; backlog = frames written but not yet encoded, growth over the window / max):\n',
    );
    say('| preset | streams | sustained | per stream: kept-up, dropped, backlog growth / max |');
    say('| --- | --- | --- | --- |');
    for (const c of conc)
      say(
        `| ${c.preset} | ${c.n} | ${c.ok ? 'yes' : 'no'} | ${c.per.map((p) => `${f2(p.keptUp)}, ${p.dropped}, ${p.backlogGrowth} / ${p.maxBacklog}`).join(' / ')} |`,
      );
    say('');
    if (process.env.BENCH_NO_APPEND !== '1') appendFileSync('BENCHMARKS.md', lines.join('\n') + '\n');
  } finally {
    await room.close();
    worker.close();
    await OwnedProcess.stopAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
