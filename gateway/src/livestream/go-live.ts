import { existsSync } from 'node:fs';
import path from 'node:path';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { RoomSource } from '../rooms/room-source.ts';
import type { ConferenceServer } from '../conference/conference-server.ts';
import { WEB_DIST } from '../conference/http-routes.ts';
import { verifyPanelToken } from '../sidecar/panel-token.ts';
import { WebhookDispatcher } from '../api/webhooks.ts';
import { GatewayMetrics, metricsRouter } from '../api/metrics.ts';
import { ApiAuth, LocalPanelTokens, bearerToken } from '../api/auth.ts';
import { HttpError } from '../api/http-common.ts';
import { livestreamRouter } from '../api/livestream-routes.ts';
import { openApiRouter } from '../api/openapi.ts';
import { LivestreamService, type LivestreamServiceOptions, type StreamingParts } from './service.ts';

/**
 * "Go live" wiring for the Gateway: the LivestreamService plus its REST API, auth, webhooks,
 * metrics, the embeddable panel script and the conference signaling hooks. The Gateway makes
 * one, mounts `routers()` and tells it about the conference / sidecar once they exist.
 */

export interface GoLiveOptions {
  config: Config;
  logger: Logger;
  streaming: StreamingParts & { keys: { byRoom(room: string): unknown } };
  /** Tests: faster backoffs, resolver. */
  tuning?: Pick<LivestreamServiceOptions, 'livestream' | 'destinations' | 'autoStopIntervalMs'>;
  distDir?: string;
}

/** Remote rooms (sidecar mode): anything that can look a room up. */
export interface RoomDirectory {
  roomSource(name: string): RoomSource | undefined;
}

export class GoLive {
  readonly service: LivestreamService;
  readonly auth: ApiAuth;
  readonly metrics = new GatewayMetrics();
  readonly webhooks: WebhookDispatcher;
  readonly panelTokens = new LocalPanelTokens();
  conference: ConferenceServer | undefined;
  sidecar: RoomDirectory | undefined;

  constructor(private readonly opts: GoLiveOptions) {
    const { config, logger } = opts;
    this.webhooks = new WebhookDispatcher({
      config: config.webhooks,
      logger: logger.child({ part: 'webhooks' }),
    });
    this.auth = new ApiAuth({
      apiKeys: config.api.keys,
      isModerator: (room, token) => this.conference?.isModerator(room, token) ?? false,
      verifiers: [this.panelTokens.verifier],
    });
    // Sidecar mode: the existing app signs panel tokens with the shared secret (docs/sidecar.md).
    if (config.sidecar.enabled && config.sidecar.secret.length >= 32) {
      const secret = config.sidecar.secret;
      this.auth.addVerifier((token, room) => {
        const r = verifyPanelToken(token, secret, { room });
        if (r.ok) return { role: r.claims.role, actor: `app-panel:${r.claims.role}` };
        if (r.error === 'bad-signature' || r.error === 'malformed') return null;
        throw new HttpError(401, `panel token refused: ${r.message}`, 'authorization');
      });
    }
    this.service = new LivestreamService({
      config,
      logger: logger.child({ part: 'livestream' }),
      roomSource: (room) => this.roomSource(room),
      streaming: opts.streaming,
      webhooks: this.webhooks,
      metrics: this.metrics,
      notify: (room, method, data) => void this.conference?.notifyRoom(room, method, data),
      publicUrl: config.server.publicUrl.replace(/\/$/, ''),
      ...opts.tuning,
    });
  }

  /** Embedded conference first, then rooms of existing apps (names are shared, never both). */
  roomSource(room: string): RoomSource | undefined {
    return this.conference?.roomSource(room) ?? this.sidecar?.roomSource(room);
  }

  roomExists(room: string): boolean {
    return (
      this.roomSource(room) !== undefined ||
      this.conference?.room(room) !== undefined ||
      this.opts.streaming.keys.byRoom(room) !== undefined
    );
  }

  routers(): Router[] {
    const { config } = this.opts;
    const api = livestreamRouter({
      service: this.service,
      auth: this.auth,
      roomExists: (room) => this.roomExists(room),
      rtmpBaseUrl: (req) => rtmpBaseUrl(config, req, this.opts.streaming.ingest.port),
      rateLimitPerMinute: config.api.rateLimitPerMinute,
    });
    // Room names are in the labels: scrapers need an API key, or must be on this host.
    const metrics = metricsRouter(this.metrics, {
      authorize: (req) =>
        config.api.keys.length > 0
          ? this.auth.isApiKey(bearerToken(req))
          : isLoopback(req.socket.remoteAddress),
    });
    return [api, openApiRouter(), metrics, embedRouter(this.opts.distDir ?? WEB_DIST)];
  }

  /** Signaling hooks: panel tokens for the meeting page's `<roomcast-panel>`. */
  attachConference(conference: ConferenceServer): void {
    this.conference = conference;
    conference.registerMethod('livestream.panelToken', {
      params: z.object({}).strict(),
      handler: ({ room, moderator }) => {
        const role = moderator ? 'moderator' : 'participant';
        return { role, token: this.panelTokens.mint(room.name, role) };
      },
    });
    conference.registerMethod('livestream.status', {
      params: z.object({}).strict(),
      handler: ({ room }) => this.service.publicStatus(room.name),
    });
  }

  /** Stops every livestream (their recordings are finalised), then flushes webhooks. */
  async close(): Promise<void> {
    await this.service.close();
    await this.webhooks.close();
  }
}

function rtmpBaseUrl(config: Config, req: Request, port: number): string {
  if (config.rtmp.publicUrl) return config.rtmp.publicUrl.replace(/\/$/, '');
  const host = (req.hostname || 'localhost').replace(/^\[|\]$/g, '');
  const h = host.includes(':') ? `[${host}]` : host;
  return `rtmp://${h}:${port}/live`;
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

/**
 * /embed/panel.js: the `<roomcast-panel>` custom element as one standalone module (vite entry
 * gateway/web/panel/embed.ts), loadable from other sites' pages (CORS for module scripts).
 */
function embedRouter(distDir: string): Router {
  const router = Router();
  router.get(['/embed/panel.js', '/embed/panel.js.map'], (req, res, next) => {
    const file = path.join(distDir, 'embed', path.basename(req.path));
    if (!existsSync(file)) {
      next(new HttpError(404, 'the panel script is not built: run npm run build:web'));
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(file);
  });
  return router;
}
