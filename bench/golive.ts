// Go live from the meeting (issue 6): time from clicking "Start livestream" in the panel to the
// first HLS segment and to the viewer's first frame (hls.js defaults), and the gateway's CPU for
// one live 2-person room. Not a test: prints a table, `--append` adds it to BENCHMARKS.md.
//
// Part 1 (timings): two Chromium participants join /r/<room> receive-only (browser → mediasoup
// media currently crashes the worker in DTLS, see the issue 3 report), a third Chromium opens the
// watch link; the moderator clicks Start in the panel, then Stop; `--runs` times.
// Part 2 (CPU): a 2-person room whose participants send real camera-like VP8 (moving test
// pattern 640x360 30 fps) + Opus (synthetic ffmpeg senders into mediasoup, as in
// bench/compositor.ts), livestreamed by the same LivestreamService + gateway hub/HLS.
//
//   flock /tmp/roomcast-heavy.lock node --import tsx bench/golive.ts [--runs 3] [--output default|test] [--append]
//
// CPU = (user + system) time of the gateway's own processes over a 20 s window while live:
// the Node process (signaling, compositor clock + composition, HLS serving; it also runs this
// driver, which idles while measuring), every ffmpeg it started (decoders, encoder, HLS
// packager) and the mediasoup worker. The browsers are the participants' and viewer's
// machines and are not counted (but they share this machine's 2 cores while measuring).
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startGoLiveGateway, TEST_OUTPUT } from '../test/helpers/golive.ts';
import { descendants } from '../test/helpers/gateway-process.ts';
import { waitFor } from '../test/helpers/net.ts';
import { validateConfig } from '../gateway/src/config/loader.ts';
import { processCpuSeconds } from '../gateway/src/livestream/proc-stats.ts';
import { LivestreamService } from '../gateway/src/livestream/service.ts';
import { SyntheticRoom } from '../test/helpers/synthetic-room.ts';
import { silentLogger } from '../test/helpers/synthetic.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    output: { type: 'string', default: 'default' },
    append: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const ROOM = 'bench-golive';

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function gatewayCpu(workerPids: number[], exclude: Set<number>): Promise<Map<number, number>> {
  const ffmpegs = descendants(process.pid).filter((p) => comm(p) === 'ffmpeg' && !exclude.has(p));
  const pids = [...ffmpegs, ...workerPids];
  const out = new Map<number, number>();
  for (const p of pids) out.set(p, (await processCpuSeconds(p)) ?? 0);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const env = await startGoLiveGateway({
    livestream: {
      autoStopEmptySeconds: 0,
      autoStopNoMediaSeconds: 0,
      // The shipped default output (1280x720 30 fps veryfast) unless --output test.
      output: values.output === 'test' ? TEST_OUTPUT : validateConfig({}).livestream.output,
    },
  });
  const output = env.gw.config.livestream.output;
  const browsers = [
    await launchBrowser({ extraArgs: ['--use-fake-device-for-media-stream'] }),
    await launchBrowser({ extraArgs: ['--use-fake-device-for-media-stream'] }),
    await launchBrowser(),
  ];
  const segMs: number[] = [];
  const frameMs: number[] = [];
  let cpu: { total: number; node: number; ffmpeg: number; worker: number } | undefined;
  try {
    const [mod, part] = [await browsers[0]!.newPage(), await browsers[1]!.newPage()];
    await mod.goto(`${env.baseUrl}/r/${ROOM}?name=Mia`);
    await mod.locator('[data-testid=start-button]').waitFor({ timeout: 30_000 });
    await part.goto(`${env.baseUrl}/r/${ROOM}?name=Paul`);
    await part.locator('[data-testid=live-state]').waitFor({ timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 3000)); // media flowing

    for (let run = 0; run < runs; run++) {
      const viewer: Page = await browsers[2]!.newPage();
      const t0 = Date.now();
      await mod.click('[data-testid=start-button]');
      const watch = (await mod.locator('[data-testid=watch-link]').getAttribute('href'))!;
      const playbackId = watch.split('/').pop()!;
      let seg = 0;
      // The player page polls the status itself; open it right away (as a viewer who was waiting).
      const opened = viewer.goto(watch);
      // readyAt = the first playlist (with its first segment) of THIS stream was written; the
      // previous run's files may still be served while they wait for deletion.
      await waitFor(
        'segment',
        async () => {
          const st = (await (await fetch(`${env.baseUrl}/api/streams/${playbackId}`)).json()) as {
            status: string;
            startedAt: string | null;
          };
          if (!seg && st.status === 'live' && st.startedAt && Date.parse(st.startedAt) >= t0 - 1000)
            seg = Date.now() - t0;
          return seg > 0;
        },
        30_000,
        50,
      );
      await opened;
      await viewer.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, null, {
        timeout: 30_000,
        polling: 50,
      });
      segMs.push(seg);
      frameMs.push(Date.now() - t0);

      await mod.click('[data-testid=stop-button]');
      await mod.locator('[data-testid=live-state][data-state=stopped]').waitFor({ timeout: 30_000 });
      await viewer.close();
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await Promise.all(browsers.map((b) => b.dispose()));
  }

  // Part 2: CPU of a live 2-person room with real camera/mic media.
  const router = await env.gw.workers.createRouter({ room: 'bench-synthetic' });
  const room = new SyntheticRoom(router, 'bench-synthetic');
  const service = new LivestreamService({
    config: env.gw.config,
    logger: silentLogger,
    roomSource: (r) => (r === room.name ? room : undefined),
    streaming: { keys: env.gw.keys, ingest: env.gw.ingest, hls: env.gw.hls },
    webhooks: env.gw.golive.webhooks,
    metrics: env.gw.golive.metrics,
  });
  try {
    for (const [id, color, tone] of [
      ['a', [200, 40, 40], 440],
      ['b', [40, 40, 200], 660],
    ] as const)
      await room.join(id, {
        name: id.toUpperCase(),
        color: [...color],
        toneHz: tone,
        pattern: true,
        width: 640,
        height: 360,
        fps: 30,
      });
    const senders = new Set(room.senderPids());
    await service.start(room.name, 'bench');
    await waitFor('live', () => service.status(room.name).state === 'live', 30_000);
    await new Promise((r) => setTimeout(r, 5000));
    const workers = env.gw.workers.pids();
    const a = await gatewayCpu(workers, senders);
    const n0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const b = await gatewayCpu(workers, senders);
    const n1 = process.cpuUsage(n0);
    const secs = (performance.now() - w0) / 1000;
    let ffmpeg = 0;
    let worker = 0;
    for (const [pid, v] of b) {
      const d = v - (a.get(pid) ?? v); // only processes alive across the window
      if (workers.includes(pid)) worker += d;
      else ffmpeg += d;
    }
    const node = (n1.user + n1.system) / 1e6;
    cpu = {
      node: node / secs,
      ffmpeg: ffmpeg / secs,
      worker: worker / secs,
      total: (node + ffmpeg + worker) / secs,
    };
    await service.stop(room.name);
  } finally {
    await service.close();
    await room.close();
    router.close();
    await env.stop();
  }

  const cpus = os.cpus();
  const lines = [
    '',
    '## Go live from the meeting (issue 6)',
    '',
    `Machine: ${cpus.length} cores ${cpus[0]?.model ?? ''}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. ` +
      `Command: \`flock /tmp/roomcast-heavy.lock node --import tsx bench/golive.ts --runs ${runs} --output ${values.output}\`. ` +
      `Output ${output.width}x${output.height} ${output.fps} fps ${output.preset}, HLS ${env.gw.config.hls.segmentSeconds} s segments; ` +
      'Timings: two receive-only Chromium participants + one Chromium viewer (hls.js defaults) on the same machine. ' +
      'CPU: two participants sending VP8 640x360 30 fps moving pattern + Opus (synthetic senders, not counted); counted: ' +
      'the gateway Node process, every ffmpeg it runs (2 video + 2 audio decoders, encoder, HLS packager) and the mediasoup worker.',
    '',
    '| what | median | runs |',
    '| --- | --- | --- |',
    `| click "Start livestream" → first HLS segment listed | ${median(segMs)} ms | ${segMs.join(', ')} ms |`,
    `| click "Start livestream" → viewer's first frame (video.currentTime > 0) | ${median(frameMs)} ms | ${frameMs.join(', ')} ms |`,
  ];
  if (cpu)
    lines.push(
      `| gateway CPU, one live 2-person room (camera + mic each; 20 s window) | ${cpu.total.toFixed(2)} cores | node ${cpu.node.toFixed(2)} + ffmpeg ${cpu.ffmpeg.toFixed(2)} + mediasoup ${cpu.worker.toFixed(2)} |`,
    );
  lines.push('');
  const text = lines.join('\n');
  console.log(text);
  if (values.append) appendFileSync(path.resolve(import.meta.dirname, '../BENCHMARKS.md'), text);
}

await main();
