import { Router } from 'express';
import type { WorkerStatus } from '../mediasoup/worker-pool.ts';
import { VERSION } from '../version.ts';

export interface HealthSources {
  workers: () => WorkerStatus[];
  ffmpegVersion: string | null;
}

/** GET /healthz: 200 when every mediasoup worker is alive and ffmpeg was found, else 503. */
export function healthRouter(sources: HealthSources): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    const workers = sources.workers();
    const ok = workers.length > 0 && workers.every((w) => w.alive) && sources.ffmpegVersion !== null;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      version: VERSION,
      mediasoup: { workers },
      ffmpeg: { found: sources.ffmpegVersion !== null, version: sources.ffmpegVersion },
    });
  });
  return router;
}
