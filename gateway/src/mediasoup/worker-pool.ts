import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import type { Logger } from '../log/logger.ts';
import type { Config } from '../config/schema.ts';

/** Codecs every router supports: Opus for audio, VP8 and H264 for video (what browsers send). */
export const MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1 },
  },
];

export interface WorkerStatus {
  pid: number;
  alive: boolean;
  routers: number;
}

/**
 * The mediasoup workers of this gateway (one per core by default). Routers are spread by
 * picking the worker with the fewest routers. A worker that dies is logged and replaced; its
 * routers are closed by mediasoup, and their owners (rooms, livestreams) see 'workerclose'.
 */
export class WorkerPool {
  private readonly workers: ms.Worker[] = [];
  private readonly routerCount = new Map<ms.Worker, number>();
  private closed = false;

  private constructor(
    private readonly settings: Config['mediasoup'],
    private readonly logger: Logger,
  ) {}

  static async create(settings: Config['mediasoup'], logger: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(settings, logger);
    const n = settings.numWorkers > 0 ? settings.numWorkers : Math.max(1, os.availableParallelism());
    try {
      for (let i = 0; i < n; i++) await pool.spawnWorker();
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  private async spawnWorker(): Promise<ms.Worker> {
    const worker = await mediasoup.createWorker({
      logLevel: this.settings.logLevel,
      rtcMinPort: this.settings.rtcMinPort,
      rtcMaxPort: this.settings.rtcMaxPort,
    });
    this.workers.push(worker);
    this.routerCount.set(worker, 0);
    worker.on('died', (err) => {
      this.logger.error({ workerPid: worker.pid, err: err.message }, 'mediasoup worker died, replacing it');
      this.remove(worker);
      if (!this.closed) {
        this.spawnWorker().catch((e: unknown) =>
          this.logger.error({ err: String(e) }, 'could not replace a dead mediasoup worker'),
        );
      }
    });
    this.logger.info({ workerPid: worker.pid }, 'mediasoup worker started');
    return worker;
  }

  private remove(worker: ms.Worker): void {
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers.splice(i, 1);
    this.routerCount.delete(worker);
  }

  /** A new router with the standard codecs on the least loaded worker. */
  async createRouter(appData: Record<string, unknown> = {}): Promise<ms.Router> {
    const worker = this.leastLoaded();
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData });
    this.routerCount.set(worker, (this.routerCount.get(worker) ?? 0) + 1);
    router.observer.once('close', () => {
      const n = this.routerCount.get(worker);
      if (n !== undefined) this.routerCount.set(worker, Math.max(0, n - 1));
    });
    return router;
  }

  private leastLoaded(): ms.Worker {
    if (this.closed) throw new Error('worker pool is closed');
    let best: ms.Worker | undefined;
    for (const w of this.workers) {
      if (w.closed || w.died) continue;
      if (!best || (this.routerCount.get(w) ?? 0) < (this.routerCount.get(best) ?? 0)) best = w;
    }
    if (!best) throw new Error('no mediasoup worker available');
    return best;
  }

  status(): WorkerStatus[] {
    return this.workers.map((w) => ({
      pid: w.pid,
      alive: !w.closed && !w.died && isPidAlive(w.pid),
      routers: this.routerCount.get(w) ?? 0,
    }));
  }

  pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) w.close();
    this.workers.length = 0;
  }
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
