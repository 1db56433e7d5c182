import { spawn, type ChildProcess } from 'node:child_process';

export interface FfmpegPublisher {
  child: ChildProcess;
  output: () => string;
  /** Graceful stop ('q'), SIGKILL after 3 s. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * ffmpeg output arguments of the test publishers: H.264 (ultrafast, zerolatency, a keyframe every
 * `gop` frames) + AAC 64k as FLV to `url`.
 */
export function x264AacFlvArgs(gop: number, url: string): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-f',
    'flv',
    url,
  ];
}

/**
 * A test publisher: ffmpeg -re testsrc2 + sine → H.264 (ultrafast, 1 s GOP) + AAC → RTMP.
 */
export function startFfmpegPublisher(
  url: string,
  opts: { width?: number; height?: number; fps?: number; seconds?: number; videoFilter?: string } = {},
): FfmpegPublisher {
  const w = opts.width ?? 320;
  const h = opts.height ?? 240;
  const fps = opts.fps ?? 15;
  let video = `testsrc2=size=${w}x${h}:rate=${fps}`;
  if (opts.videoFilter) video += `,${opts.videoFilter}`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-re',
    '-f',
    'lavfi',
    '-i',
    video,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
    ...x264AacFlvArgs(fps, url),
  ];
  let out = '';
  const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end('q');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
