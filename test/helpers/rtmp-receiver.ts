import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { FFMPEG, FFPROBE } from '../../gateway/src/process/ffmpeg.ts';
import { freeTcpPort } from './net.ts';
import { silentLogger } from './synthetic.ts';

const execFileAsync = promisify(execFile);

/**
 * ffmpeg arguments that wait for ONE RTMP publisher on `url` (ffmpeg -listen) and stream-copy
 * what it sends to the output `out` (format and target, e.g. ['-f', 'flv', file]).
 */
export function rtmpListenArgs(url: string, out: string[]): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-listen',
    '1',
    '-f',
    'flv',
    '-i',
    url,
    '-c',
    'copy',
    ...out,
  ];
}

/**
 * An RTMP endpoint for tests: a TCP front that COUNTS connections and hands each one to a fresh
 * `ffmpeg -listen 1 -f flv -i rtmp://…` that copies the stream into its own file. One
 * connection = one RTMP session = one file.
 */
export class RtmpReceiver {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'roomcast-rtmp-'));
  readonly files: string[] = [];
  connections = 0;
  private readonly procs: OwnedProcess[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `rtmp://127.0.0.1:${this.port}/live/test-secret-key`;
  }

  static async start(): Promise<RtmpReceiver> {
    const port = await freeTcpPort();
    const server = createServer();
    const rx = new RtmpReceiver(server, port);
    server.on('connection', (s) => void rx.accept(s));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return rx;
  }

  private async accept(client: Socket): Promise<void> {
    client.pause();
    this.sockets.add(client);
    client.on('error', () => {});
    const n = this.connections++;
    const port = await freeTcpPort();
    const file = path.join(this.dir, `session-${n}.flv`);
    this.files.push(file);
    const proc = new OwnedProcess({
      name: `test rtmp listener ${n}`,
      command: FFMPEG,
      args: rtmpListenArgs(`rtmp://127.0.0.1:${port}/live/x`, ['-f', 'flv', file]),
      logger: silentLogger,
      killTimeoutMs: 3000,
    });
    this.procs.push(proc);
    for (let attempt = 0; attempt < 100; attempt++) {
      const upstream = await new Promise<Socket | null>((resolve) => {
        const u = createConnection(port, '127.0.0.1');
        u.once('connect', () => resolve(u));
        u.once('error', () => resolve(null));
      });
      if (upstream) {
        this.sockets.add(upstream);
        upstream.on('error', () => {});
        client.pipe(upstream);
        upstream.pipe(client);
        client.once('close', () => upstream.end());
        upstream.once('close', () => client.end());
        client.resume();
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    client.destroy();
  }

  /** Ends every session (listeners finish their files) and closes the front. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

export interface PacketInfo {
  stream: 'video' | 'audio';
  pts: number;
}

/** Every packet's stream and pts (seconds) in a file. */
export async function packets(file: string): Promise<PacketInfo[]> {
  const { stdout } = await execFileAsync(
    FFPROBE,
    ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time', '-of', 'csv=p=0', file],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [type, pts] = l.split(',');
      return { stream: type === 'video' ? 'video' : 'audio', pts: Number(pts) } as PacketInfo;
    })
    .filter((p) => Number.isFinite(p.pts));
}

/** Largest gap between consecutive sorted timestamps. */
export function maxGap(ts: number[]): number {
  const s = [...ts].sort((a, b) => a - b);
  let g = 0;
  for (let i = 1; i < s.length; i++) g = Math.max(g, s[i]! - s[i - 1]!);
  return g;
}

export interface RgbFrame {
  width: number;
  height: number;
  data: Buffer;
  pixel(x: number, y: number): [number, number, number];
}

/** The decoded frame at `seconds` as rgb24. */
export async function frameAt(
  file: string,
  seconds: number,
  width: number,
  height: number,
): Promise<RgbFrame> {
  const { stdout } = await execFileAsync(
    FFMPEG,
    [
      '-v',
      'error',
      '-ss',
      String(seconds),
      '-i',
      file,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 32 * 1024 * 1024 },
  );
  if (stdout.length < width * height * 3) throw new Error(`no frame at ${seconds}s in ${file}`);
  return rgbFrame(stdout, width, height);
}

/** An rgb24 buffer of width x height as an RgbFrame. */
export function rgbFrame(data: Buffer, width: number, height: number): RgbFrame {
  return {
    width,
    height,
    data,
    pixel(x, y) {
      const i = (Math.round(y) * width + Math.round(x)) * 3;
      return [data[i]!, data[i + 1]!, data[i + 2]!];
    },
  };
}

/** The frames of `file` from `from` for `seconds`, at 10 fps, as rgb24 frames of width x height. */
export async function framesBetween(
  file: string,
  from: number,
  seconds: number,
  width: number,
  height: number,
): Promise<RgbFrame[]> {
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
  const size = width * height * 3;
  const out: RgbFrame[] = [];
  for (let off = 0; off + size <= stdout.length; off += size)
    out.push(rgbFrame(stdout.subarray(off, off + size), width, height));
  return out;
}

/** The audio of `file` mixed down to mono 8 kHz signed 16-bit PCM. */
export async function monoPcm8k(file: string): Promise<Int16Array> {
  const { stdout } = await execFileAsync(
    FFMPEG,
    ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '8000', '-f', 's16le', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
}

export const colorClose = (a: [number, number, number], b: [number, number, number], tol = 40): boolean =>
  Math.abs(a[0] - b[0]) <= tol && Math.abs(a[1] - b[1]) <= tol && Math.abs(a[2] - b[2]) <= tol;
