import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { StreamEndInfo, StreamInfo } from '../ingest/ingest.ts';
import { Packager } from './packager.ts';
import { ViewerCounter } from './viewer-counter.ts';

export type HlsStatus = 'live' | 'offline' | 'ended';

interface StreamState {
  room: string;
  playbackId: string;
  startedAt: Date;
  endedAt?: Date;
  packager?: Packager;
  deleteTimer?: NodeJS.Timeout;
}

export interface HlsStreamStatus {
  status: HlsStatus;
  startedAt: string | null;
  endedAt: string | null;
  /** When the first playlist was written (null until then). */
  readyAt: string | null;
}

export interface HlsManagerEvents {
  /** First playlist of a stream is on disk: players can start. */
  ready: [{ playbackId: string; room: string; startedAt: Date; readyAt: Date }];
  ended: [{ playbackId: string; room: string }];
  /** A stream's segments were deleted (privacy delay elapsed). */
  deleted: [{ playbackId: string }];
}

/**
 * One packager per live stream, driven by the ingest's streamStarted/streamEnded events; keeps
 * the live/ended state the status API and the player read, counts viewers, deletes segments
 * after the privacy delay unless the stream is marked "keep" (recording).
 */
export class HlsManager extends EventEmitter<HlsManagerEvents> {
  private readonly streams = new Map<string, StreamState>();
  private readonly keep = new Set<string>();
  readonly viewers: ViewerCounter;
  private closed = false;

  constructor(
    private readonly cfg: Config['hls'],
    private readonly logger: Logger,
    /** Local pull URL for a live room (from the ingest). */
    private readonly inputUrlFor: (room: string) => string | undefined,
  ) {
    super();
    this.viewers = new ViewerCounter(cfg.viewerWindowSeconds * 1000);
  }

  get rootDir(): string {
    return path.resolve(this.cfg.dir);
  }

  dirFor(playbackId: string): string {
    return path.join(this.rootDir, playbackId);
  }

  /** Keep (true) or allow deleting (false) a stream's segments after it ends: recording. */
  setKeep(playbackId: string, keep: boolean): void {
    if (keep) this.keep.add(playbackId);
    else this.keep.delete(playbackId);
  }

  status(playbackId: string): HlsStreamStatus {
    const s = this.streams.get(playbackId);
    if (!s) return { status: 'offline', startedAt: null, endedAt: null, readyAt: null };
    const readyAt = s.packager?.readyAt ?? null;
    const status: HlsStatus = s.endedAt ? 'ended' : readyAt ? 'live' : 'offline';
    return {
      status,
      startedAt: s.startedAt.toISOString(),
      endedAt: s.endedAt?.toISOString() ?? null,
      readyAt: readyAt?.toISOString() ?? null,
    };
  }

  /** The packager of a live stream (tests, diagnostics). */
  packager(playbackId: string): Packager | undefined {
    const s = this.streams.get(playbackId);
    return s && !s.endedAt ? s.packager : undefined;
  }

  /** True while the stream's files may be served (live, or ended and not yet deleted). */
  hasFiles(playbackId: string): boolean {
    return this.streams.has(playbackId) && existsSync(this.dirFor(playbackId));
  }

  onStreamStarted(info: StreamInfo): void {
    if (this.closed) return;
    const input = this.inputUrlFor(info.room);
    if (!input) return;
    const prev = this.streams.get(info.playbackId);
    if (prev) {
      clearTimeout(prev.deleteTimer);
      void prev.packager?.stop();
      if (!this.keep.has(info.playbackId)) this.deleteFiles(info.playbackId);
    }
    const packager = new Packager({
      playbackId: info.playbackId,
      dir: this.dirFor(info.playbackId),
      inputUrl: input,
      segmentSeconds: this.cfg.segmentSeconds,
      listSize: this.cfg.listSize,
      logger: this.logger,
    });
    const state: StreamState = {
      room: info.room,
      playbackId: info.playbackId,
      startedAt: info.startedAt,
      packager,
    };
    this.streams.set(info.playbackId, state);
    packager.once('ready', () => {
      const readyAt = packager.readyAt as Date;
      this.logger.info(
        {
          playbackId: info.playbackId,
          room: info.room,
          msFromPublish: readyAt.getTime() - info.startedAt.getTime(),
        },
        'HLS stream ready',
      );
      this.emit('ready', {
        playbackId: info.playbackId,
        room: info.room,
        startedAt: info.startedAt,
        readyAt,
      });
    });
    packager.start();
  }

  onStreamEnded(info: StreamEndInfo): Promise<void> {
    const s = this.streams.get(info.playbackId);
    if (!s || s.endedAt) return Promise.resolve();
    s.endedAt = info.endedAt;
    const done = (s.packager?.stop() ?? Promise.resolve()).then(() => {
      this.emit('ended', { playbackId: s.playbackId, room: s.room });
      if (this.keep.has(s.playbackId) || this.closed) return;
      s.deleteTimer = setTimeout(() => this.deleteFiles(s.playbackId), this.cfg.deleteAfterSeconds * 1000);
      s.deleteTimer.unref();
    });
    return done;
  }

  private deleteFiles(playbackId: string): void {
    const dir = this.dirFor(playbackId);
    // Never outside our root, whatever the id (ids are validated upstream; belt and braces).
    if (path.dirname(dir) !== this.rootDir) return;
    rmSync(dir, { recursive: true, force: true });
    this.viewers.forget(playbackId);
    this.logger.debug({ playbackId }, 'HLS segments deleted');
    this.emit('deleted', { playbackId });
  }

  /** Stops every packager; segments not marked "keep" are deleted now (no one serves them). */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.streams.values()].map(async (s) => {
        clearTimeout(s.deleteTimer);
        await s.packager?.stop();
        if (!this.keep.has(s.playbackId)) this.deleteFiles(s.playbackId);
      }),
    );
  }
}
