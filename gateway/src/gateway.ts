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
import { ConferenceServer } from './conference/conference-server.ts';
import { conferenceRouter } from './conference/http-routes.ts';
import { startStreaming, type Streaming } from './ingest/streaming.ts';
import { Sidecar } from './sidecar/sidecar.ts';
import { GoLive } from './livestream/go-live.ts';

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
    // Stream keys (SQLite), the RTMP hub and the HLS packagers.
    let streaming: Streaming;
    try {
      streaming = await startStreaming(config, logger);
    } catch (err) {
      workers.close();
      throw err;
    }

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', config.server.trustProxy);
    app.use(securityHeaders);
    app.use(healthRouter({ workers: () => workers.status(), ffmpegVersion: ffmpeg }));
    // Lobby (/), meeting pages (/r/:room) and the browser bundles (/assets).
    app.use(conferenceRouter());
    // Public HLS files, stream status and the watch page.
    app.use(...streaming.routers);
    // Go live: livestream REST API, /api/openapi.json, /metrics, /embed/panel.js.
    const golive = new GoLive({ config, logger, streaming });
    app.use(...golive.routers());
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
      await streaming.stop();
      workers.close();
      throw new Error(
        `cannot listen on ${config.server.host}:${config.server.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    const gw = new Gateway(config, logger, workers, app, server);
    gw.streaming = streaming;
    if (config.conference.enabled) gw.conference = new ConferenceServer(config, workers, server, logger);
    gw.golive = golive;
    if (gw.conference) golive.attachConference(gw.conference);
    // Rooms of an existing mediasoup app (roomcast/connector) on /sidecar; names shared with the conference.
    if (config.sidecar.enabled)
      gw.sidecar = Sidecar.start(server, config, workers, logger, (room) =>
        Boolean(gw.conference?.room(room)),
      );
    golive.sidecar = gw.sidecar;
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

  /** The embedded conference (rooms + signaling); undefined when conference.enabled is false. */
  conference: ConferenceServer | undefined;

  /** Remote rooms of existing mediasoup apps (`sidecar.roomSource(name)`); undefined when sidecar.enabled is false. */
  sidecar: Sidecar | undefined;

  private streaming!: Streaming;

  /** Livestreams of rooms (service, REST API, webhooks, metrics). */
  golive!: GoLive;

  /** Stream keys and playback ids (SQLite). */
  get keys(): Streaming['keys'] {
    return this.streaming.keys;
  }

  /** The embedded RTMP hub: streamStarted/streamEnded events, local pull URLs. */
  get ingest(): Streaming['ingest'] {
    return this.streaming.ingest;
  }

  /** HLS packagers, stream status, viewer counts, keep flag (recording). */
  get hls(): Streaming['hls'] {
    return this.streaming.hls;
  }

  /** Where a local publisher (the livestream compositor) publishes a room: rtmp://127.0.0.1:<port>/live/<key>. */
  localPublishUrl(room: string): string {
    return this.streaming.ingest.localPublishUrl(this.streaming.keys.getOrCreate(room).streamKey);
  }

  private stopping: Promise<void> | undefined;

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping gateway');
      // Livestreams first: their recordings are finalised while the hub is still up.
      await this.golive.close();
      await this.conference?.close();
      this.sidecar?.close();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      await this.streaming.stop();
      await OwnedProcess.stopAll();
      this.workers.close();
      this.logger.info('gateway stopped');
    })();
    return this.stopping;
  }
}
