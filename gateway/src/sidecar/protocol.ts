import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The sidecar control channel: a WebSocket between an existing mediasoup app (roomcast/connector)
 * and the gateway (`/sidecar`). Both sides import this file, so it must stay free of gateway
 * internals (only zod and node:crypto). Every message is one JSON object with a `type`; each side
 * validates everything it receives with these schemas and refuses the rest with a message naming
 * the field.
 *
 * Handshake (mutual, the secret never travels):
 *   gateway → app  challenge {nonce: S}
 *   app → gateway  hello {appName, nonce: C, mac: HMAC(secret, "roomcast-sidecar/1|hello|S|C|appName")}
 *   gateway → app  welcome {mac: HMAC(secret, "roomcast-sidecar/1|welcome|C|S"), reconnectWindowSeconds}
 * After the welcome the app sends a full `room.state` per registered room (also after every
 * reconnect: the resync), then deltas. The gateway asks for media with `pipe.open` requests.
 */

export const PROTOCOL_VERSION = 1;
export const SIDECAR_PATH = '/sidecar';
/** WebSocket close codes used by the gateway (4000-4999 are application codes). */
export const CLOSE_AUTH_FAILED = 4401;
export const CLOSE_BAD_MESSAGE = 4400;
export const CLOSE_REPLACED = 4409;
export const MAX_MESSAGE_BYTES = 512 * 1024;

// Same alphabet as the embedded conference's room names: they end up in URLs, keys and file names.
const roomName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_-]+$/, "room names are lowercase letters a-z, digits, '-' and '_'");
const id = z.string().min(1).max(128);
const displayName = z.string().max(100);
const nonce = z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'nonce must be base64url, >= 16 bytes');
const mac = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'mac must be a base64url HMAC-SHA256');

export const trackSchema = z
  .object({
    id,
    kind: z.enum(['audio', 'video']),
    source: z.enum(['camera', 'mic', 'screen', 'screen-audio']),
    paused: z.boolean(),
  })
  .strict();

export const participantSchema = z
  .object({
    id,
    displayName,
    excludedFromStream: z.boolean().default(false),
    tracks: z.array(trackSchema).max(16).default([]),
  })
  .strict();

const srtpSchema = z
  .object({
    cryptoSuite: z.enum([
      'AEAD_AES_256_GCM',
      'AEAD_AES_128_GCM',
      'AES_CM_128_HMAC_SHA1_80',
      'AES_CM_128_HMAC_SHA1_32',
    ]),
    keyBase64: z.string().min(16).max(256),
  })
  .strict();

const endpointSchema = z
  .object({
    ip: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535),
    srtp: srtpSchema.optional(),
  })
  .strict();

// mediasoup validates RTP parameters in depth when the gateway produce()s with them; here we only
// check the shape so a malformed message is refused with a field name instead of a worker error.
const rtpParametersSchema = z.looseObject({
  codecs: z
    .array(
      z.looseObject({
        mimeType: z.string().regex(/^(audio|video)\/[\w.-]+$/),
        payloadType: z.number().int().min(0).max(127),
        clockRate: z.number().int().positive(),
      }),
    )
    .min(1)
    .max(32),
  encodings: z.array(z.looseObject({})).max(8).optional(),
  headerExtensions: z.array(z.looseObject({})).max(32).optional(),
  rtcp: z.looseObject({}).optional(),
  mid: z.string().optional(),
});

// ---------- app → gateway ----------

export const helloSchema = z
  .object({
    type: z.literal('hello'),
    v: z.literal(PROTOCOL_VERSION),
    appName: z.string().min(1).max(64),
    nonce,
    mac,
  })
  .strict();

const roomStateSchema = z
  .object({
    type: z.literal('room.state'),
    room: roomName,
    participants: z.array(participantSchema).max(1000),
    activeSpeaker: id.nullable(),
    /** Pipes the app still holds for this room (kept across a lost control connection). */
    pipes: z.array(id).max(1000).default([]),
  })
  .strict();

const appMessageSchema = z.discriminatedUnion('type', [
  roomStateSchema,
  z
    .object({
      type: z.literal('participant.joined'),
      room: roomName,
      participant: participantSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('participant.updated'),
      room: roomName,
      participantId: id,
      displayName,
      excludedFromStream: z.boolean(),
    })
    .strict(),
  z.object({ type: z.literal('participant.left'), room: roomName, participantId: id }).strict(),
  z
    .object({ type: z.literal('track.added'), room: roomName, participantId: id, track: trackSchema })
    .strict(),
  z.object({ type: z.literal('track.removed'), room: roomName, participantId: id, trackId: id }).strict(),
  z.object({ type: z.literal('track.paused'), room: roomName, participantId: id, trackId: id }).strict(),
  z.object({ type: z.literal('track.resumed'), room: roomName, participantId: id, trackId: id }).strict(),
  z.object({ type: z.literal('speaker'), room: roomName, participantId: id.nullable() }).strict(),
  z.object({ type: z.literal('room.closed'), room: roomName, reason: z.string().max(500) }).strict(),
  z
    .object({
      type: z.literal('pipe.opened'),
      reqId: z.number().int().nonnegative(),
      result: endpointSchema.extend({
        kind: z.enum(['audio', 'video']),
        rtpParameters: rtpParametersSchema,
        paused: z.boolean(),
      }),
    })
    .strict(),
  z
    .object({
      type: z.literal('pipe.failed'),
      reqId: z.number().int().nonnegative(),
      error: z.string().max(1000),
    })
    .strict(),
]);

export type Hello = z.infer<typeof helloSchema>;
export type AppMessage = z.infer<typeof appMessageSchema>;
export type RoomStateMessage = z.infer<typeof roomStateSchema>;
export type WireTrack = z.infer<typeof trackSchema>;
export type WireParticipant = z.infer<typeof participantSchema>;
export type PipeEndpoint = z.infer<typeof endpointSchema>;
export type PipeOpenResult = Extract<AppMessage, { type: 'pipe.opened' }>['result'];
/** Messages about a room's state (everything but the full state and pipe answers). */
export type RoomDelta = Exclude<AppMessage, { type: 'room.state' | 'pipe.opened' | 'pipe.failed' }>;

// ---------- gateway → app ----------

const gatewayMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('challenge'), v: z.literal(PROTOCOL_VERSION), nonce }).strict(),
  z
    .object({
      type: z.literal('welcome'),
      mac,
      sessionId: id,
      reconnectWindowSeconds: z.number().min(0),
    })
    .strict(),
  z.object({ type: z.literal('error'), message: z.string().max(1000) }).strict(),
  z
    .object({ type: z.literal('room.refused'), room: z.string().max(200), message: z.string().max(1000) })
    .strict(),
  z
    .object({
      type: z.literal('pipe.open'),
      reqId: z.number().int().nonnegative(),
      room: roomName,
      trackId: id,
      pipeId: id,
      gateway: endpointSchema,
    })
    .strict(),
  z.object({ type: z.literal('pipe.close'), room: roomName, pipeId: id }).strict(),
]);

export type GatewayMessage = z.infer<typeof gatewayMessageSchema>;

// ---------- parsing ----------

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

function describe(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

function parseWith<T>(schema: z.ZodType<T>, raw: string | Buffer): Parsed<T> {
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
  const r = schema.safeParse(data);
  return r.success
    ? { ok: true, message: r.data }
    : { ok: false, error: `invalid message: ${describe(r.error)}` };
}

export const parseHello = (raw: string | Buffer): Parsed<Hello> => parseWith(helloSchema, raw);
export const parseAppMessage = (raw: string | Buffer): Parsed<AppMessage> => parseWith(appMessageSchema, raw);
export const parseGatewayMessage = (raw: string | Buffer): Parsed<GatewayMessage> =>
  parseWith(gatewayMessageSchema, raw);

// ---------- handshake MACs ----------

export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

export function helloMac(secret: string, serverNonce: string, clientNonce: string, appName: string): string {
  return hmac(secret, `roomcast-sidecar/${PROTOCOL_VERSION}|hello|${serverNonce}|${clientNonce}|${appName}`);
}

export function welcomeMac(secret: string, clientNonce: string, serverNonce: string): string {
  return hmac(secret, `roomcast-sidecar/${PROTOCOL_VERSION}|welcome|${clientNonce}|${serverNonce}`);
}

/** Constant-time comparison of two base64url MACs (different lengths → false, no early exit on content). */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
