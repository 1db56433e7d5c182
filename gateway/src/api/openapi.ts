import { Router } from 'express';
import { VERSION } from '../version.ts';

/**
 * The OpenAPI 3.1 description of the gateway's HTTP API, served at GET /api/openapi.json.
 * Hand-written (small, stable); test/integration/golive-api.test.ts checks that every route
 * of the API is listed.
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const err = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});
const ok = (description: string, schema: Json): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const body = (schema: Json): Json => ({ required: true, content: { 'application/json': { schema } } });

const roomParam: Json = {
  name: 'room',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' },
  description: 'Room (conference) name.',
};

const common = {
  '400': err('Bad input; `message` names the field, `field` is its path.'),
  '401': err('No credential, or not valid for this room.'),
  '404': err('Unknown room.'),
};
const modOnly = { ...common, '403': err('The credential is a participant, not a moderator.') };
const mutating = {
  ...modOnly,
  '409': err('The room is not being livestreamed (or already is).'),
  '429': err('Rate limited (api.rateLimitPerMinute); see Retry-After.'),
};
const security = [{ bearer: [] }];

function roomOp(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, security, parameters: [roomParam], responses, ...extra };
}

export const openApiDocument: Json = {
  openapi: '3.1.0',
  info: {
    title: 'roomcast gateway API',
    version: VERSION,
    description:
      'Livestream a conference room: start/stop, layout, extra RTMP destinations, recording, stream keys. ' +
      'Room routes take `Authorization: Bearer <credential>`: the room moderator token, a server API key ' +
      '(config api.keys), or a signed panel token (role moderator or participant).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      },
      Layout: { type: 'string', enum: ['auto', 'grid', 'speaker', 'screen'] },
      State: { type: 'string', enum: ['idle', 'starting', 'live', 'reconnecting', 'stopped', 'failed'] },
      PublicStatus: {
        type: 'object',
        properties: {
          room: { type: 'string' },
          state: ref('State'),
          reason: { type: ['string', 'null'], description: 'Why it stopped/failed/is reconnecting.' },
          startedAt: { type: ['string', 'null'], format: 'date-time' },
          endedAt: { type: ['string', 'null'], format: 'date-time' },
          durationSeconds: { type: 'integer' },
          viewers: { type: 'integer' },
          watchPath: { type: 'string', description: 'Public player page, e.g. /watch/<playbackId>.' },
        },
      },
      Status: {
        allOf: [
          ref('PublicStatus'),
          {
            type: 'object',
            properties: {
              layout: ref('Layout'),
              shownLayout: { type: ['string', 'null'] },
              hls: { type: 'string', enum: ['live', 'offline', 'ended'] },
              destinations: { type: 'array', items: ref('Destination') },
              recording: {
                type: 'object',
                properties: {
                  enabled: { type: 'boolean' },
                  state: {
                    type: ['string', 'null'],
                    enum: ['recording', 'finalising', 'ready', 'failed', null],
                  },
                  file: { type: ['string', 'null'] },
                },
              },
            },
          },
        ],
      },
      Destination: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          state: { type: 'string', enum: ['connecting', 'live', 'retrying', 'stopped', 'failed'] },
          url: { type: 'string', description: 'The URL with the key masked.' },
          attempts: { type: 'integer' },
          lastError: { type: ['string', 'null'] },
          liveSince: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      Recording: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          size: { type: 'integer' },
          durationSeconds: { type: ['number', 'null'] },
          createdAt: { type: 'string', format: 'date-time' },
          complete: { type: 'boolean' },
        },
      },
      Key: {
        type: 'object',
        properties: {
          room: { type: 'string' },
          rtmpUrl: { type: 'string', description: 'RTMP server URL for OBS (rtmp://host:1935/live).' },
          streamKey: { type: 'string', description: 'Secret: whoever has it can publish to this room.' },
          playbackId: { type: 'string' },
          watchPath: { type: 'string' },
        },
      },
      StreamStatus: {
        type: 'object',
        properties: {
          playbackId: { type: 'string' },
          status: { type: 'string', enum: ['live', 'offline', 'ended'] },
          startedAt: { type: ['string', 'null'] },
          endedAt: { type: ['string', 'null'] },
          viewers: { type: 'integer' },
          title: { type: 'string' },
          description: { type: ['string', 'null'] },
          poster: { type: ['string', 'null'] },
        },
      },
    },
  },
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness/readiness: mediasoup workers and ffmpeg.',
        security: [],
        responses: { '200': ok('Healthy.', { type: 'object' }), '503': ok('Unhealthy.', { type: 'object' }) },
      },
    },
    '/api/streams/{playbackId}': {
      get: {
        summary: 'Public stream status for the player page (no auth).',
        security: [],
        parameters: [{ name: 'playbackId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('Status.', ref('StreamStatus')), '404': err('Unknown playback id.') },
      },
    },
    '/api/openapi.json': {
      get: {
        summary: 'This document.',
        security: [],
        responses: { '200': ok('OpenAPI 3.1.', { type: 'object' }) },
      },
    },
    '/api/rooms/{room}/livestream': {
      get: roomOp('Livestream status (participants get the public subset).', {
        '200': ok('Status.', { oneOf: [ref('Status'), ref('PublicStatus')] }),
        ...common,
      }),
      delete: roomOp('Stop the livestream (same as POST …/stop).', {
        '200': ok('Stopped.', ref('Status')),
        ...mutating,
      }),
    },
    '/api/rooms/{room}/livestream/events': {
      get: roomOp('Server-sent events: `event: status` with the status on every change.', {
        '200': {
          description: 'text/event-stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...common,
      }),
    },
    '/api/rooms/{room}/livestream/start': {
      post: roomOp(
        'Start livestreaming the room (the gateway joins as a hidden participant).',
        { '201': ok('Starting.', ref('Status')), ...mutating },
        {
          requestBody: {
            content: {
              'application/json': { schema: { type: 'object', properties: { layout: ref('Layout') } } },
            },
          },
        },
      ),
    },
    '/api/rooms/{room}/livestream/stop': {
      post: roomOp('Stop the livestream.', { '200': ok('Stopped.', ref('Status')), ...mutating }),
    },
    '/api/rooms/{room}/livestream/layout': {
      put: roomOp(
        'Change the layout, live.',
        { '200': ok('Status.', ref('Status')), ...mutating },
        {
          requestBody: body({ type: 'object', required: ['layout'], properties: { layout: ref('Layout') } }),
        },
      ),
    },
    '/api/rooms/{room}/livestream/destinations': {
      get: roomOp('Extra RTMP(S) destinations and their states.', {
        '200': ok('List.', {
          type: 'object',
          properties: { destinations: { type: 'array', items: ref('Destination') } },
        }),
        ...modOnly,
      }),
      post: roomOp(
        'Add a destination while live (checked against config destinations.allowPrivate/allowHosts).',
        { '201': ok('Added.', ref('Destination')), ...mutating },
        {
          requestBody: body({
            type: 'object',
            required: ['url'],
            properties: {
              url: { type: 'string', description: 'rtmp:// or rtmps:// URL.' },
              streamKey: { type: 'string', description: 'Appended as the last path segment.' },
            },
          }),
        },
      ),
    },
    '/api/rooms/{room}/livestream/destinations/{id}': {
      delete: {
        summary: 'Remove a destination.',
        security,
        parameters: [roomParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '204': { description: 'Removed.' }, ...mutating },
      },
    },
    '/api/rooms/{room}/livestream/recording': {
      put: roomOp(
        'Record toggle (an MP4 in recording.dir; HLS segments are kept).',
        { '200': ok('Status.', ref('Status')), ...mutating },
        {
          requestBody: body({
            type: 'object',
            required: ['enabled'],
            properties: { enabled: { type: 'boolean' } },
          }),
        },
      ),
    },
    '/api/rooms/{room}/recordings': {
      get: roomOp('Recordings of the room, newest first.', {
        '200': ok('List.', {
          type: 'object',
          properties: { recordings: { type: 'array', items: ref('Recording') } },
        }),
        ...modOnly,
      }),
    },
    '/api/rooms/{room}/key': {
      get: roomOp('The room RTMP URL and stream key (for OBS or a restreamer).', {
        '200': ok('Key.', ref('Key')),
        ...modOnly,
      }),
    },
    '/api/rooms/{room}/key/rotate': {
      post: roomOp('New stream key; the old one stops working at once.', {
        '200': ok('New key.', ref('Key')),
        ...mutating,
      }),
    },
  },
};

export function openApiRouter(): Router {
  const router = Router();
  router.get('/api/openapi.json', (_req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.json(openApiDocument);
  });
  return router;
}
