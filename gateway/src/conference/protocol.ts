import { z } from 'zod';
import { DISPLAY_NAME_MAX, ROOM_NAME_MAX } from './room-name.ts';

// The signaling protocol over one WebSocket per peer. Three message shapes, all JSON:
//   client → server  request       { id, method, data }
//   server → client  response      { response: true, id, ok: true, data } | { response: true, id, ok: false, error }
//   server → client  notification  { notification: true, method, data }
// Every request is validated here; a message that fails gets an error response naming the
// problem (id is echoed when it could be read, null otherwise).

/** Frames bigger than this close the socket (ws maxPayload). A Chrome rtpCapabilities is ~15 KB. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

const jsonObject = z.record(z.string(), z.unknown());
const id = z.string().min(1).max(100);

export const requestEnvelope = z
  .object({
    id: z.number().int().nonnegative(),
    method: z.string().min(1).max(64),
    data: jsonObject.optional(),
  })
  .strict();

export const trackSourceSchema = z.enum(['camera', 'mic', 'screen', 'screen-audio']);

/** Param schemas of the core methods. mediasoup's own objects are passed through as objects
 * (mediasoup validates them again and its errors are returned as error responses). */
export const coreParams = {
  join: z
    .object({
      room: z.string().min(1).max(ROOM_NAME_MAX),
      displayName: z.string().max(200),
      moderatorToken: z.string().max(200).optional(),
    })
    .strict(),
  createWebRtcTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectWebRtcTransport: z.object({ transportId: id, dtlsParameters: jsonObject }).strict(),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      rtpParameters: jsonObject,
      appData: z.object({ source: trackSourceSchema }).strict(),
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  consume: z.object({ producerId: id, rtpCapabilities: jsonObject }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  setDisplayName: z.object({ displayName: z.string().max(200) }).strict(),
  'stream.setExcluded': z.object({ excluded: z.boolean() }).strict(),
  leave: z.object({}).strict(),
} as const;

export type CoreMethod = keyof typeof coreParams;
export type CoreParams<M extends CoreMethod> = z.infer<(typeof coreParams)[M]>;

export function isCoreMethod(m: string): m is CoreMethod {
  return Object.hasOwn(coreParams, m);
}

export interface ProtocolError {
  code: 'bad_json' | 'bad_request' | 'unknown_method' | 'bad_params' | 'not_joined' | 'forbidden' | 'failed';
  message: string;
}

export type Response =
  | { response: true; id: number | null; ok: true; data: unknown }
  | { response: true; id: number | null; ok: false; error: ProtocolError };

export interface Notification {
  notification: true;
  method: string;
  data: unknown;
}

export type ParsedRequest =
  | { ok: true; id: number; method: string; data: Record<string, unknown> }
  | { ok: false; id: number | null; error: ProtocolError };

/** Parses one text frame into a request envelope (params are validated per method later). */
export function parseRequest(raw: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, id: null, error: { code: 'bad_json', message: 'message is not valid JSON' } };
  }
  const env = requestEnvelope.safeParse(json);
  if (!env.success) {
    const rawId = (json as { id?: unknown } | null)?.id;
    return {
      ok: false,
      id: typeof rawId === 'number' && Number.isInteger(rawId) ? rawId : null,
      error: { code: 'bad_request', message: `bad request: ${describeIssues(env.error)}` },
    };
  }
  return { ok: true, id: env.data.id, method: env.data.method, data: env.data.data ?? {} };
}

/** Validates params with `schema`; the error message names each bad field. */
export function parseParams<T>(
  method: string,
  schema: z.ZodType<T>,
  data: unknown,
): { ok: true; value: T } | { ok: false; error: ProtocolError } {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: { code: 'bad_params', message: `${method}: ${describeIssues(r.error)}` } };
}

export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

export function okResponse(id: number, data: unknown): Response {
  return { response: true, id, ok: true, data };
}

export function errorResponse(id: number | null, error: ProtocolError): Response {
  return { response: true, id, ok: false, error };
}

export function notification(method: string, data: unknown): Notification {
  return { notification: true, method, data };
}

/** What peers learn about each other (never the moderator flag's token, never hidden consumers). */
export interface PeerView {
  id: string;
  displayName: string;
  excludedFromStream: boolean;
  producers: ProducerView[];
}

export interface ProducerView {
  id: string;
  kind: 'audio' | 'video';
  source: z.infer<typeof trackSourceSchema>;
  paused: boolean;
}

export { DISPLAY_NAME_MAX };
