import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { OwnedProcess, type ExitInfo } from '../process/owned-process.ts';
import { FFMPEG } from '../process/ffmpeg.ts';
import type { Logger } from '../log/logger.ts';
import type { OutputConfig } from '../config/schema.ts';

/**
 * The ONE long-lived encoder of a livestream: raw yuv420p frames on stdin and s16le PCM on fd 3,
 * both at a constant rate, so ffmpeg derives timestamps from counts and the output is continuous
 * by construction. x264 with a fixed GOP (keyframe every keyframeIntervalSeconds, no scene cuts)
 * so an HLS packager can cut equal segments; AAC; FLV to RTMP.
 */

export interface EncoderEvents {
  /** First progress report: the RTMP session is open and frames flow. */
  live: [];
  exit: [ExitInfo];
}

export function encoderArgs(output: OutputConfig, url: string): string[] {
  const gop = String(Math.max(1, Math.round(output.fps * output.keyframeIntervalSeconds)));
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-stats',
    '-stats_period',
    '0.5',
    '-thread_queue_size',
    '64',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-s',
    `${output.width}x${output.height}`,
    '-framerate',
    String(output.fps),
    '-i',
    'pipe:0',
    '-thread_queue_size',
    '256',
    '-f',
    's16le',
    '-ar',
    '48000',
    '-ac',
    '2',
    '-i',
    'pipe:3',
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    output.preset,
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    `${output.videoBitrateKbps}k`,
    '-maxrate',
    `${output.videoBitrateKbps}k`,
    '-bufsize',
    `${output.videoBitrateKbps * 2}k`,
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    `${output.audioBitrateKbps}k`,
    '-f',
    'flv',
    '-flvflags',
    'no_duration_filesize',
    url,
  ];
}

export class Encoder extends EventEmitter<EncoderEvents> {
  private readonly proc: OwnedProcess;
  readonly video: Writable;
  readonly audio: Writable;
  readonly startedAt = performance.now();
  liveAt = -1;
  /** Frames the encoder reported as done (from its progress line). */
  encodedFrames = 0;

  constructor(output: OutputConfig, url: string, name: string, logger: Logger) {
    super();
    this.proc = new OwnedProcess({
      name,
      command: FFMPEG,
      args: encoderArgs(output, url),
      logger,
      spawnOptions: { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] },
      stderrTail: 20,
      killTimeoutMs: 3000,
      onStderrLine: (line) => {
        const m = /^frame=\s*(\d+)/.exec(line);
        if (!m) return;
        this.encodedFrames = Number(m[1]);
        if (this.liveAt < 0 && this.encodedFrames > 0) {
          this.liveAt = performance.now();
          this.emit('live');
        }
      },
    });
    const stdin = this.proc.child.stdin;
    const fd3 = this.proc.child.stdio[3] as Writable | null | undefined;
    if (!stdin || !fd3) throw new Error('encoder pipes missing');
    this.video = stdin;
    this.audio = fd3;
    // A write to a dead encoder must not crash the gateway; the exit event drives recovery.
    this.audio.on('error', () => {});
    this.proc.once('exit', (info) => this.emit('exit', info));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** Close the inputs so ffmpeg finishes the FLV cleanly, then make sure it is gone. */
  async stop(): Promise<ExitInfo> {
    this.video.end();
    this.audio.end();
    return this.proc.stop();
  }

  kill(): void {
    this.proc.killNow();
  }
}
