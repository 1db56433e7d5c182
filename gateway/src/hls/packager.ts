import { EventEmitter } from 'node:events';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import { FFMPEG } from '../process/ffmpeg.ts';
import { OwnedProcess } from '../process/owned-process.ts';
import { PLAYLIST_NAME } from './hls-paths.ts';

export interface PackagerOptions {
  playbackId: string;
  /** Directory of this stream's playlist and segments. */
  dir: string;
  /** Local RTMP pull URL (contains the key: never logged; ffmpeg's stderr is redacted). */
  inputUrl: string;
  segmentSeconds: number;
  listSize: number;
  logger: Logger;
}

/**
 * `args` for one packager run. MPEG-TS segments rather than fMP4: every TS segment is
 * self-contained (no init segment a cache or a late viewer can miss), hls.js and Safari play
 * it, `-c copy` from FLV into TS is the most exercised path of ffmpeg 5.1's HLS muxer, and the
 * ~5 % container overhead does not matter at our bitrates. Segments are cut on keyframes, so
 * publishers must send a keyframe every segmentSeconds (the compositor does: 1 s GOP).
 */
export function packagerArgs(o: {
  inputUrl: string;
  dir: string;
  runId: string;
  segmentSeconds: number;
  listSize: number;
  appendToExisting: boolean;
}): string[] {
  // temp_file: playlist and segments are written to *.tmp and renamed, so the HTTP side never
  // reads a half-written playlist.
  const flags = ['delete_segments', 'independent_segments', 'program_date_time', 'temp_file'];
  // After a crash the new run continues the same playlist (sequence numbers go on) with a
  // discontinuity, so players already watching keep going.
  if (o.appendToExisting) flags.push('append_list', 'discont_start');
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    // The hub never tells a reader that the publisher left (30 s grace): fail reads after 5 s.
    '-rw_timeout',
    '5000000',
    '-analyzeduration',
    '1000000',
    '-probesize',
    '1000000',
    '-i',
    o.inputUrl,
    '-map',
    '0:v?',
    '-map',
    '0:a?',
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    String(o.segmentSeconds),
    '-hls_list_size',
    String(o.listSize),
    '-hls_delete_threshold',
    '2',
    '-hls_segment_type',
    'mpegts',
    '-hls_flags',
    flags.join('+'),
    '-hls_segment_filename',
    path.join(o.dir, `${o.runId}-%06d.ts`),
    path.join(o.dir, PLAYLIST_NAME),
  ];
}

export interface PackagerEvents {
  /** The playlist exists (first segment written). */
  ready: [];
  /** ffmpeg died while the stream was live; a restart is scheduled. */
  crashed: [{ code: number | null; signal: NodeJS.Signals | null }];
  restarted: [];
}

/**
 * One live stream's ffmpeg HLS packager. Restarted (with backoff) if it dies while the stream
 * is live; `stop()` ends it (SIGTERM: ffmpeg aborts its blocked RTMP read and writes the
 * final playlist) and makes sure the playlist ends with #EXT-X-ENDLIST.
 */
export class Packager extends EventEmitter<PackagerEvents> {
  private proc: OwnedProcess | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private runs = 0;
  readyAt: Date | undefined;

  constructor(private readonly o: PackagerOptions) {
    super();
  }

  get playlistPath(): string {
    return path.join(this.o.dir, PLAYLIST_NAME);
  }

  /** The ffmpeg process of the current run (tests inject faults through it). */
  get process(): OwnedProcess | undefined {
    return this.proc;
  }

  start(): void {
    mkdirSync(this.o.dir, { recursive: true });
    this.spawn();
    this.watchReady();
  }

  private spawn(): void {
    const runId = randomBytes(4).toString('hex');
    const appendToExisting = this.runs > 0 && existsSync(this.playlistPath);
    this.runs++;
    const startedAt = Date.now();
    const proc = new OwnedProcess({
      name: `hls packager ${this.o.playbackId}`,
      command: FFMPEG,
      args: packagerArgs({ ...this.o, runId, appendToExisting }),
      logger: this.o.logger,
      killTimeoutMs: 3000,
      onStderrLine: (line) => this.o.logger.debug({ playbackId: this.o.playbackId, ffmpeg: line }),
    });
    this.proc = proc;
    proc.once('exit', (info) => {
      if (this.stopped || info.requested) return;
      if (Date.now() - startedAt > 30_000) this.failures = 0;
      const delay = Math.min(500 * 2 ** this.failures, 5000);
      this.failures++;
      this.o.logger.warn(
        {
          playbackId: this.o.playbackId,
          code: info.code,
          signal: info.signal,
          retryMs: delay,
          stderr: info.stderrTail.slice(-3),
        },
        'HLS packager died while live; restarting',
      );
      this.emit('crashed', { code: info.code, signal: info.signal });
      this.restartTimer = setTimeout(() => {
        if (this.stopped) return;
        this.spawn();
        this.emit('restarted');
      }, delay);
    });
  }

  private watchReady(): void {
    const check = () => {
      if (this.stopped) return;
      if (existsSync(this.playlistPath)) {
        this.readyAt = new Date();
        this.emit('ready');
        return;
      }
      this.readyTimer = setTimeout(check, 100);
    };
    check();
  }

  private stopping: Promise<void> | undefined;

  /** Idempotent: every caller waits for the same, complete stop. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.readyTimer);
    const proc = this.proc;
    // ffmpeg interrupted by signals may leave an empty playlist (its trailer write is aborted by
    // the same interrupt): keep the last complete one and finish it ourselves.
    const lastGood = readPlaylist(this.playlistPath);
    if (proc?.running) {
      // ffmpeg only aborts a blocked network read on the *second* signal (its interrupt callback
      // checks received signals > transcode started); the hub never closes the pull after the
      // publisher left, so send two, a moment apart, and it writes its trailer right away.
      const stopped = proc.stop();
      const again = setTimeout(() => proc.killNow('SIGTERM'), 150);
      await stopped;
      clearTimeout(again);
    }
    try {
      if (!existsSync(this.o.dir)) return;
      if (lastGood && !readPlaylist(this.playlistPath)) writeFileSync(this.playlistPath, lastGood);
      for (const f of readdirSync(this.o.dir))
        if (f.endsWith('.tmp')) rmSync(path.join(this.o.dir, f), { force: true });
      ensureEndList(this.playlistPath);
    } catch (err) {
      this.o.logger.warn(
        { playbackId: this.o.playbackId, err: (err as Error).message },
        'cannot finish the HLS playlist',
      );
    }
  }
}

function readPlaylist(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return text.includes('#EXTINF') ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Appends #EXT-X-ENDLIST if the playlist exists without it (ffmpeg killed before its trailer). */
export function ensureEndList(playlist: string): void {
  if (!existsSync(playlist)) return;
  const text = readFileSync(playlist, 'utf8');
  if (!text.includes('#EXT-X-ENDLIST'))
    appendFileSync(playlist, `${text.endsWith('\n') ? '' : '\n'}#EXT-X-ENDLIST\n`);
}
