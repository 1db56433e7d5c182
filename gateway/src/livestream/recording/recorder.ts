import { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../log/logger.ts';
import { OwnedProcess } from '../../process/owned-process.ts';
import { FFMPEG, FFPROBE } from '../../process/ffmpeg.ts';

const execFileAsync = promisify(execFile);

/**
 * Records the local hub stream of one room into an MP4 with `ffmpeg -c copy`.
 *
 * Format choice: FRAGMENTED MP4 (`-movflags +frag_keyframe+empty_moov+default_base_moof`).
 * A classic MP4 only becomes playable when ffmpeg writes the moov atom at the very end (and
 * +faststart then rewrites the whole file): if the gateway or ffmpeg is killed, a 2-hour
 * recording is lost. A fragmented MP4 is playable up to the last keyframe fragment (1 s GOP → at
 * most ~1 s lost), needs no second pass at the end, and still plays in browsers, VLC, ffmpeg.
 *
 * While recording, the file is `<room>-<UTC>.mp4.part`; a clean stop ('q' → ffmpeg flushes the
 * last fragment) renames it to `.mp4`. A leftover `.part` (crash) is still listed as incomplete.
 */

export interface RecordingInfo {
  /** File name (no directory), e.g. "standup-20261126T151300Z.mp4". */
  name: string;
  room: string;
  path: string;
  size: number;
  /** Seconds, from ffprobe; null when unreadable. */
  duration: number | null;
  /** ISO time the recording started (from the name). */
  createdAt: string;
  /** false for a `.part` file (still recording, or interrupted). */
  complete: boolean;
}

/**
 * Encodes a room name for a file name: [A-Za-z0-9_-] kept (room names are [a-z0-9_-], see
 * conference/room-name.ts), anything else as ~XX (UTF-8 hex), so the mapping is one-to-one and
 * path-safe. Rooms never share files: the fixed-format "-<stamp>.mp4" suffix is parsed exactly,
 * so room "a" does not match "a-b-20261126T151300Z.mp4".
 */
export function roomFilePrefix(room: string): string {
  if (!room) throw new Error('room name is empty');
  return Array.from(Buffer.from(room, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_-]/.test(c) ? c : `~${b.toString(16).padStart(2, '0')}`;
    })
    .join('');
}

/** 20261126T151300Z */
export function utcStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

const STAMP_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function recordingFileName(room: string, startedAt: Date): string {
  return `${roomFilePrefix(room)}-${utcStamp(startedAt)}.mp4`;
}

/** Parses a file name of this room's recordings; null when it is not one. */
export function parseRecordingName(
  room: string,
  name: string,
): { createdAt: string; complete: boolean } | null {
  const prefix = `${roomFilePrefix(room)}-`;
  if (!name.startsWith(prefix)) return null;
  let rest = name.slice(prefix.length);
  let complete = true;
  if (rest.endsWith('.mp4.part')) {
    complete = false;
    rest = rest.slice(0, -'.mp4.part'.length);
  } else if (rest.endsWith('.mp4')) {
    rest = rest.slice(0, -'.mp4'.length);
  } else {
    return null;
  }
  const m = STAMP_RE.exec(rest);
  if (!m) return null;
  return { createdAt: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`, complete };
}

/**
 * Absolute path of a recording of `room`, or null when `name` is not a recording of that room
 * (rejects "../", other rooms' files, anything not produced by the recorder).
 */
export function recordingPath(dir: string, room: string, name: string): string | null {
  if (name.includes('/') || name.includes('\\') || name.includes('\0')) return null;
  if (!parseRecordingName(room, name)) return null;
  const base = resolve(dir);
  const p = resolve(base, name);
  return p.startsWith(base + sep) ? p : null;
}

export async function probeDuration(file: string): Promise<number | null> {
  try {
    const { stdout } = await execFileAsync(
      FFPROBE,
      ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
      { timeout: 15_000 },
    );
    const d = Number(stdout.trim());
    return Number.isFinite(d) ? d : null;
  } catch {
    return null;
  }
}

/** The recordings of one room in `dir`, newest first. */
export async function listRecordings(dir: string, room: string): Promise<RecordingInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  const out: RecordingInfo[] = [];
  for (const name of names) {
    const parsed = parseRecordingName(room, name);
    if (!parsed) continue;
    const path = join(resolve(dir), name);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) continue;
      size = s.size;
    } catch {
      continue; // deleted meanwhile
    }
    out.push({ name, room, path, size, duration: await probeDuration(path), ...parsed });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export type RecorderState = 'recording' | 'finalising' | 'ready' | 'failed';

export interface RecorderOptions {
  room: string;
  /** Hub URL (SECRET). */
  sourceUrl: string;
  /** config.recording.dir */
  dir: string;
  logger: Logger;
  /** Network read timeout: the recording ends if the hub sends nothing this long. Default 10 s. */
  ioTimeoutMs?: number;
  now?: () => Date;
}

export interface RecorderEvents {
  /** The MP4 is finalised (→ webhook recording.ready). */
  ready: [RecordingInfo];
  /** ffmpeg failed before producing a usable file. */
  failed: [{ room: string; error: string }];
}

export class Recorder extends EventEmitter<RecorderEvents> {
  private proc: OwnedProcess | null = null;
  private finalPromise: Promise<RecordingInfo | null> | null = null;
  private _state: RecorderState = 'recording';
  readonly name: string;
  readonly path: string;
  readonly partPath: string;

  constructor(private readonly opts: RecorderOptions) {
    super();
    this.name = recordingFileName(opts.room, (opts.now ?? (() => new Date()))());
    this.path = join(resolve(opts.dir), this.name);
    this.partPath = `${this.path}.part`;
  }

  get state(): RecorderState {
    return this._state;
  }

  /** Creates the folder and starts ffmpeg. */
  async start(): Promise<void> {
    if (this.proc || this.finalPromise) throw new Error('recorder already started');
    await mkdir(this.opts.dir, { recursive: true });
    const io = String((this.opts.ioTimeoutMs ?? 10_000) * 1000);
    this.proc = new OwnedProcess({
      name: `recorder ${this.opts.room}`,
      command: FFMPEG,
      args: [
        '-hide_banner',
        '-loglevel',
        'warning',
        '-nostats',
        '-rw_timeout',
        io,
        '-i',
        this.opts.sourceUrl,
        '-map',
        '0',
        '-c',
        'copy',
        '-movflags',
        '+frag_keyframe+empty_moov+default_base_moof',
        '-f',
        'mp4',
        '-y',
        this.partPath,
      ],
      logger: this.opts.logger,
      quitWithQ: true, // 'q' lets ffmpeg flush the last fragment and the index.
      killTimeoutMs: 10_000,
    });
    const proc = this.proc;
    this.finalPromise = proc.waitForExit().then(async (info) => {
      this._state = 'finalising';
      const size = await stat(this.partPath).then(
        (s) => s.size,
        () => 0,
      );
      const duration = size > 0 ? await probeDuration(this.partPath) : null;
      if (!duration || duration <= 0) {
        const error = info.stderrTail.slice(-3).join(' | ') || 'no media recorded';
        this._state = 'failed';
        this.opts.logger.warn({ room: this.opts.room, error }, 'recording failed');
        this.emit('failed', { room: this.opts.room, error });
        return null;
      }
      await rename(this.partPath, this.path);
      const rec: RecordingInfo = {
        name: this.name,
        room: this.opts.room,
        path: this.path,
        size,
        duration,
        createdAt: parseRecordingName(this.opts.room, this.name)?.createdAt ?? new Date().toISOString(),
        complete: true,
      };
      this._state = 'ready';
      this.opts.logger.info({ room: this.opts.room, file: this.name, duration, size }, 'recording ready');
      this.emit('ready', rec);
      return rec;
    });
  }

  /**
   * Stops ffmpeg gracefully and finalises. Also resolves when the recording ended on its own
   * (hub stream gone). Null when nothing usable was recorded.
   */
  async stop(): Promise<RecordingInfo | null> {
    if (!this.finalPromise) return null;
    await this.proc?.stop();
    return this.finalPromise;
  }

  /** Resolves when the recording has ended (by stop() or by itself). */
  done(): Promise<RecordingInfo | null> {
    return this.finalPromise ?? Promise.resolve(null);
  }
}
