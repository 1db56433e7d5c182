/**
 * CPU cost of one destination relay (ffmpeg -c copy, hub → RTMP listener) and of one recorder
 * (ffmpeg -c copy, hub → fragmented MP4), each measured over 20 s from /proc/<pid>/stat, with a
 * 320x240 publisher. Appends a row to BENCHMARKS.md.
 * Run: flock /tmp/roomcast-heavy.lock node --import tsx bench/relay-recorder.ts
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DestinationSet } from '../gateway/src/livestream/destinations/destination-set.ts';
import { Recorder } from '../gateway/src/livestream/recording/recorder.ts';
import { OwnedProcess } from '../gateway/src/process/owned-process.ts';
import { startRtmpListener, startTestHub, startTestPublisher } from '../test/helpers/livestream-hub.ts';
import { freeTcpPort, waitFor } from '../test/helpers/net.ts';

const SECONDS = 20;
const TICKS = 100; // getconf CLK_TCK on Linux

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

const logger = pino({ level: 'silent' });
const dir = await mkdtemp(join(tmpdir(), 'roomcast-bench-'));
const hub = await startTestHub();
const publisher = startTestPublisher(hub.url('benchkey'));
const port = await freeTcpPort();
const listener = startRtmpListener(port, join(dir, 'dest.flv'));
const set = new DestinationSet({
  sourceUrl: hub.url('benchkey'),
  config: { allowPrivate: false, allowHosts: ['127.0.0.1'], maxPerLivestream: 1 },
  logger,
});
const rec = new Recorder({ room: 'bench', sourceUrl: hub.url('benchkey'), dir, logger });
try {
  const t0 = Date.now();
  await set.add({ url: `rtmp://127.0.0.1:${port}/app/destkey` }, 'd');
  await rec.start();
  await waitFor('relay live', () => set.get('d')?.state === 'live', 30_000);
  const toLiveMs = Date.now() - t0;
  const relayProc = OwnedProcess.liveProcesses().find((p) => p.name === 'relay d');
  const recProc = OwnedProcess.liveProcesses().find((p) => p.name === 'recorder bench');
  if (!relayProc?.pid || !recProc?.pid) throw new Error('processes not found');
  const [r0, c0] = [await cpuTicks(relayProc.pid), await cpuTicks(recProc.pid)];
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const [r1, c1] = [await cpuTicks(relayProc.pid), await cpuTicks(recProc.pid)];
  const relayCores = (r1 - r0) / TICKS / SECONDS;
  const recCores = (c1 - c0) / TICKS / SECONDS;
  listener.killNow();
  await waitFor('relay retrying', () => set.get('d')?.state === 'retrying', 30_000);
  console.log('lastError after the listener died:', set.get('d')?.lastError);
  const line =
    `\n## Destination relay and recorder (issue 6)\n\nMachine: ${cpus().length} cores ${cpus()[0]?.model ?? ''}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. ` +
    `Command: \`flock /tmp/roomcast-heavy.lock node --import tsx bench/relay-recorder.ts\` ` +
    `(publisher 320x240 25 fps x264 ultrafast + AAC 64k into node-media-server).\n\n` +
    `| what | figure |\n| --- | --- |\n` +
    `| relay (ffmpeg -c copy → RTMP listener) CPU over ${SECONDS} s | ${relayCores.toFixed(3)} core |\n` +
    `| recorder (ffmpeg -c copy → fragmented MP4) CPU over ${SECONDS} s | ${recCores.toFixed(3)} core |\n` +
    `| add() → relay "live" (incl. DNS check, ffmpeg start, RTMP handshakes) | ${toLiveMs} ms |\n`;
  console.log(line);
  if (process.argv.includes('--append')) await appendFile(new URL('../BENCHMARKS.md', import.meta.url), line);
} finally {
  await set.close();
  await rec.stop();
  await listener.stop();
  await publisher.stop();
  await hub.close();
  await rm(dir, { recursive: true, force: true });
}
