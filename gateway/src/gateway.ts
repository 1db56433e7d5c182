import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Config } from './config/schema.ts';
import type { Logger } from './log/logger.ts';
import { WorkerPool } from './mediasoup/worker-pool.ts';
import { ffmpegVersion } from './process/ffmpeg.ts';
import { OwnedProcess } from './process/owned-process.ts';
import { healthRouter } from './api/health.ts';
import { errorHandler, notFoundHandler, securityHeaders } from './api/http-common.ts';
import { homeRouter } from './api/home.ts';

/**
 * The running gateway: owns the mediasoup workers, the HTTP server and (in later stages) the
 * conference, ingest, HLS and livestreams. `stop()` releases all of them; nothing outlives it.
 */
export class Gateway {
  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly workers: WorkerPool,
    readonly app: Express,
    readonly server: http.Server | https.Server,
  ) {}

  static async start(config: Config, logger: Logger): Promise<Gateway> {
    const ffmpeg = await ffmpegVersion();
    if (!ffmpeg)
      logger.error('ffmpeg not found on PATH: livestreams and HLS will not work (run npm run setup)');
    const workers = await WorkerPool.create(config.mediasoup, logger);

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', config.server.trustProxy);
    app.use(securityHeaders);
    app.use(healthRouter({ workers: () => workers.status(), ffmpegVersion: ffmpeg }));
    app.use(homeRouter());
    app.use(notFoundHandler);
    app.use(errorHandler(logger));

    const { tls } = config.server;
    const server = tls.cert
      ? https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, app)
      : http.createServer(app);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.server.port, config.server.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      workers.close();
      throw new Error(
        `cannot listen on ${config.server.host}:${config.server.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    const gw = new Gateway(config, logger, workers, app, server);
    logger.info(
      { url: gw.url, workers: workers.pids(), ffmpeg, tls: Boolean(tls.cert) },
      'roomcast gateway listening',
    );
    return gw;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.config.server.host === '0.0.0.0' ? 'localhost' : this.config.server.host;
    return `${this.config.server.tls.cert ? 'https' : 'http'}://${host}:${this.port}`;
  }

  private stopping: Promise<void> | undefined;

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping gateway');
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      await OwnedProcess.stopAll();
      this.workers.close();
      this.logger.info('gateway stopped');
    })();
    return this.stopping;
  }
}
