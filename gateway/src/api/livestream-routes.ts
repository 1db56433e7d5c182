import express, {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { z } from 'zod';
import { checkRoomName } from '../conference/room-name.ts';
import type { LivestreamService } from '../livestream/service.ts';
import { HttpError } from './http-common.ts';
import { ApiAuth, type Principal } from './auth.ts';
import { rateLimit } from './rate-limit.ts';
import { parseBody } from './validation.ts';

/**
 * The livestream REST API, per room (documented in openapi.ts, served at /api/openapi.json):
 *
 *   GET    /api/rooms/:room/livestream                 status (participants: the public subset)
 *   GET    /api/rooms/:room/livestream/events          server-sent events: the status on every change
 *   POST   /api/rooms/:room/livestream/start           {layout?}
 *   POST   /api/rooms/:room/livestream/stop            (also DELETE /api/rooms/:room/livestream)
 *   PUT    /api/rooms/:room/livestream/layout          {layout}
 *   GET    /api/rooms/:room/livestream/destinations
 *   POST   /api/rooms/:room/livestream/destinations    {url, streamKey?}
 *   DELETE /api/rooms/:room/livestream/destinations/:id
 *   PUT    /api/rooms/:room/livestream/recording       {enabled}
 *   GET    /api/rooms/:room/recordings
 *   GET    /api/rooms/:room/key                        RTMP URL + stream key
 *   POST   /api/rooms/:room/key/rotate
 *
 * Order of checks: room name (400) → credentials (401) → room exists (404) → role (403) →
 * body (400). Mutating routes are rate-limited per client address. CORS is open (bearer
 * tokens, no cookies): the embeddable panel calls this API from other sites' pages.
 */

export interface LivestreamRoutesOptions {
  service: LivestreamService;
  auth: ApiAuth;
  /** Does a room with this name exist (open in a conference/sidecar, or has a key)? */
  roomExists: (room: string) => boolean;
  /** RTMP base URL shown to moderators (config.rtmp.publicUrl, else from the request host). */
  rtmpBaseUrl: (req: Request) => string;
  rateLimitPerMinute: number;
}

export const layoutSchema = z.enum(['auto', 'grid', 'speaker', 'screen']);
const startBody = z.object({ layout: layoutSchema.optional() }).strict();
const layoutBody = z.object({ layout: layoutSchema }).strict();
const recordingBody = z.object({ enabled: z.boolean() }).strict();
const destinationBody = z
  .object({
    url: z.string().min(1).max(2048),
    streamKey: z.string().min(1).max(512).optional(),
  })
  .strict();
const destinationId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not a destination id');

interface Ctx {
  room: string;
  principal: Principal;
}

export function livestreamRouter(opts: LivestreamRoutesOptions): Router {
  const router = Router();
  const { service } = opts;
  const limited = rateLimit({ perMinute: opts.rateLimitPerMinute, by: 'ip' });
  const json = express.json({ limit: '16kb', type: () => true });

  router.use(['/api/rooms', '/api/openapi.json'], (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  /** Runs the checks in order, then the handler; errors go to the gateway's error handler. */
  const route =
    (
      role: 'any' | 'moderator',
      handler: (ctx: Ctx, req: Request, res: Response) => Promise<unknown> | unknown,
    ) =>
    (req: Request, res: Response, next: NextFunction): void => {
      void (async () => {
        const check = checkRoomName(req.params.room);
        if (!check.ok) throw new HttpError(400, `room: ${check.message}`, 'room');
        const principal = opts.auth.authenticate(req, check.name);
        if (!opts.roomExists(check.name) && !service.knows(check.name))
          throw new HttpError(404, `unknown room "${check.name}"`, 'room');
        if (role === 'moderator') ApiAuth.requireModerator(principal);
        const out = await handler({ room: check.name, principal }, req, res);
        if (out !== undefined && !res.headersSent) res.json(out);
      })().catch(next);
    };
  /** Moderators get everything; participants the public subset. `role` tells the panel which. */
  const view = (room: string, principal: Principal) =>
    principal.role === 'moderator'
      ? { ...service.status(room), role: principal.role }
      : { ...service.publicStatus(room), role: principal.role };
  const mod = (h: (ctx: Ctx, req: Request, res: Response) => Promise<unknown> | unknown) =>
    route('moderator', h);
  const mutating: RequestHandler[] = [limited, json];

  router.get(
    '/api/rooms/:room/livestream',
    route('any', ({ room, principal }) => view(room, principal)),
  );

  router.get(
    '/api/rooms/:room/livestream/events',
    route('any', ({ room, principal }, req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
        'Access-Control-Allow-Origin': '*',
      });
      const send = () => res.write(`event: status\ndata: ${JSON.stringify(view(room, principal))}\n\n`);
      send();
      const onChange = (r: string) => {
        if (r === room) send();
      };
      service.on('change', onChange);
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      const done = () => {
        clearInterval(ping);
        service.off('change', onChange);
      };
      req.on('close', done);
      res.on('error', done);
      return undefined;
    }),
  );

  router.post(
    '/api/rooms/:room/livestream/start',
    ...mutating,
    mod(async ({ room, principal }, req, res) => {
      const body = parseBody(startBody, req.body);
      const st = await service.start(room, principal.actor, { layout: body.layout });
      res.status(201);
      return st;
    }),
  );

  const stop = mod(({ room }) => service.stop(room, 'stopped by a moderator'));
  router.post('/api/rooms/:room/livestream/stop', ...mutating, stop);
  router.delete('/api/rooms/:room/livestream', limited, stop);

  router.put(
    '/api/rooms/:room/livestream/layout',
    ...mutating,
    mod(({ room }, req) => service.setLayout(room, parseBody(layoutBody, req.body).layout)),
  );

  router.get(
    '/api/rooms/:room/livestream/destinations',
    mod(({ room }) => ({ destinations: service.status(room).destinations })),
  );
  router.post(
    '/api/rooms/:room/livestream/destinations',
    ...mutating,
    mod(async ({ room }, req, res) => {
      const body = parseBody(destinationBody, req.body);
      const d = await service.addDestination(room, body);
      res.status(201);
      return d;
    }),
  );
  router.delete(
    '/api/rooms/:room/livestream/destinations/:id',
    limited,
    mod(async ({ room }, req, res) => {
      const id = destinationId.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, `id: ${id.error.issues[0]?.message ?? 'invalid'}`, 'id');
      await service.removeDestination(room, id.data);
      res.status(204).end();
    }),
  );

  router.put(
    '/api/rooms/:room/livestream/recording',
    ...mutating,
    mod(({ room }, req) => service.setRecording(room, parseBody(recordingBody, req.body).enabled)),
  );
  router.get(
    '/api/rooms/:room/recordings',
    mod(async ({ room }) => ({
      recordings: (await service.recordings(room)).map((r) => ({
        name: r.name,
        size: r.size,
        durationSeconds: r.duration,
        createdAt: r.createdAt,
        complete: r.complete,
      })),
    })),
  );

  const keyView = (room: string, req: Request, k: { streamKey: string; playbackId: string }) => {
    const rtmpUrl = opts.rtmpBaseUrl(req);
    return {
      room,
      rtmpUrl,
      streamKey: k.streamKey,
      playbackId: k.playbackId,
      watchPath: `/watch/${k.playbackId}`,
    };
  };
  router.get(
    '/api/rooms/:room/key',
    mod(({ room }, req) => keyView(room, req, service.key(room))),
  );
  router.post(
    '/api/rooms/:room/key/rotate',
    limited,
    mod(async ({ room, principal }, req) =>
      keyView(room, req, await service.rotateKey(room, principal.actor)),
    ),
  );

  return router;
}
