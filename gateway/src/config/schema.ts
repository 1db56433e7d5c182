import { z } from 'zod';

// The whole configuration, validated at start. Every object is strict: an unknown key is an
// error (a typo must not silently fall back to a default). Defaults give a working embedded
// set-up on localhost with no config file at all.

const port = z.number().int().min(1).max(65535);
const portOrZero = z.number().int().min(0).max(65535);
const seconds = z.number().min(0);
const hostOrIp = z.string().min(1);

const serverSchema = z
  .object({
    /** Address the HTTP(S) server binds to. */
    host: hostOrIp.default('0.0.0.0'),
    port: portOrZero.default(8080),
    /** Public base URL (https://live.example.org) used in watch links; empty = derived from the request. */
    publicUrl: z.union([z.url(), z.literal('')]).default(''),
    /** PEM files; both set → HTTPS (browsers need a secure context for camera/mic off localhost). */
    tls: z
      .object({ cert: z.string().default(''), key: z.string().default('') })
      .strict()
      .default({ cert: '', key: '' })
      .refine((t) => (t.cert === '') === (t.key === ''), { message: 'set both cert and key, or neither' }),
    /** Trust X-Forwarded-* headers (set when running behind a reverse proxy). */
    trustProxy: z.boolean().default(false),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

const mediasoupSchema = z
  .object({
    /** Number of mediasoup workers; 0 = one per CPU core. */
    numWorkers: z.number().int().min(0).max(64).default(0),
    logLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
    rtcMinPort: port.default(40000),
    rtcMaxPort: port.default(49999),
    /** Local address WebRTC transports listen on. */
    listenIp: hostOrIp.default('0.0.0.0'),
    /** Address announced to browsers (public IP or hostname); empty = auto (first non-internal IPv4, else 127.0.0.1). */
    announcedAddress: z.string().default(''),
    /** Local address for server-side RTP (decoders, pipes); loopback unless ffmpeg runs on another host. */
    plainRtpIp: hostOrIp.default('127.0.0.1'),
  })
  .strict()
  .refine((m) => m.rtcMinPort <= m.rtcMaxPort, { message: 'rtcMinPort must be <= rtcMaxPort' });

const conferenceSchema = z
  .object({
    /** Run the embedded conference server (meeting pages + WebSocket signaling). */
    enabled: z.boolean().default(true),
    /** A room is closed this long after its last participant left. */
    emptyRoomGraceSeconds: seconds.default(10),
    /** Extra moderators per room: room name → list of moderator tokens (≥ 16 chars each). */
    moderators: z.record(z.string(), z.array(z.string().min(16))).default({}),
    maxParticipantsPerRoom: z.number().int().min(1).max(500).default(50),
  })
  .strict();

const rtmpSchema = z
  .object({
    /** Address the embedded RTMP server binds to. */
    bind: hostOrIp.default('0.0.0.0'),
    port: portOrZero.default(1935),
    /** RTMP base URL shown to moderators/OBS; empty = rtmp://<host of the request>:<port>/live. */
    publicUrl: z.string().default(''),
  })
  .strict();

const hlsSchema = z
  .object({
    /** Where segments and playlists are written while live. */
    dir: z.string().default('./data/hls'),
    segmentSeconds: z.number().min(1).max(10).default(1),
    /** Segments kept in the live playlist. */
    listSize: z.number().int().min(3).max(30).default(6),
    /** After a stream ends its segments are deleted after this delay (privacy), unless recording is on. */
    deleteAfterSeconds: seconds.default(60),
    /** A viewer counts as watching if it fetched from the stream within this window. */
    viewerWindowSeconds: z.number().min(2).max(120).default(15),
  })
  .strict();

const storageSchema = z
  .object({
    /** SQLite file for stream keys and playback ids. */
    database: z.string().default('./data/roomcast.db'),
  })
  .strict();

const outputSchema = z
  .object({
    width: z.number().int().min(640).max(1920).default(1280),
    height: z.number().int().min(360).max(1080).default(720),
    fps: z.number().int().min(10).max(60).default(30),
    videoBitrateKbps: z.number().int().min(200).max(20000).default(2500),
    audioBitrateKbps: z.number().int().min(32).max(320).default(128),
    preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
    keyframeIntervalSeconds: z.number().min(0.5).max(10).default(1),
  })
  .strict()
  .refine((o) => o.width % 2 === 0 && o.height % 2 === 0, { message: 'width and height must be even' });

/** The output used when none is configured: 720p30, what common RTMP ingests expect. */
export const DEFAULT_OUTPUT: z.infer<typeof outputSchema> = {
  width: 1280,
  height: 720,
  fps: 30,
  videoBitrateKbps: 2500,
  audioBitrateKbps: 128,
  preset: 'veryfast',
  keyframeIntervalSeconds: 1,
};

const livestreamSchema = z
  .object({
    output: outputSchema.default(DEFAULT_OUTPUT),
    defaultLayout: z.enum(['auto', 'grid', 'speaker', 'screen']).default('auto'),
    /** Stop when the room has had no participant for this long (Jibri's default: 30 s). 0 = never. */
    autoStopEmptySeconds: seconds.default(30),
    /** Stop when no media arrived from any participant for this long. 0 = never. */
    autoStopNoMediaSeconds: seconds.default(60),
  })
  .strict();

const recordingSchema = z
  .object({
    dir: z.string().default('./data/recordings'),
  })
  .strict();

const destinationsSchema = z
  .object({
    /** Allow destinations on private/loopback/link-local addresses (refused by default: SSRF). */
    allowPrivate: z.boolean().default(false),
    /** Hosts (or IPs) always allowed, even if private, e.g. an internal restreamer. */
    allowHosts: z.array(z.string().min(1)).default([]),
    maxPerLivestream: z.number().int().min(0).max(20).default(5),
  })
  .strict();

const webhooksSchema = z
  .object({
    urls: z.array(z.url()).default([]),
    /** HMAC-SHA256 secret for the X-Roomcast-Signature header. */
    secret: z.string().default(''),
  })
  .strict()
  .refine((w) => w.urls.length === 0 || w.secret.length >= 16, {
    message: 'secret (>= 16 chars) is required when urls are set',
  });

const apiSchema = z
  .object({
    /** Server API keys (Authorization: Bearer <key>) with moderator rights on every room. */
    keys: z.array(z.string().min(24)).default([]),
    /** Mutating requests per minute per client. */
    rateLimitPerMinute: z.number().int().min(1).default(60),
  })
  .strict();

const sidecarSchema = z
  .object({
    /** Accept rooms from an existing mediasoup app through roomcast/connector. */
    enabled: z.boolean().default(false),
    /** Shared secret for the control channel and panel tokens (>= 32 chars). */
    secret: z.string().default(''),
    /** How long a livestream waits for a lost app connection before stopping. */
    reconnectWindowSeconds: seconds.default(30),
    /** The gateway's side of the media pipes (mediasoup PipeTransports, UDP, ports from mediasoup.rtcMinPort-rtcMaxPort). */
    pipe: z
      .object({
        /** Local address the gateway's pipe transports listen on (0.0.0.0 when the app is on another host). */
        listenIp: hostOrIp.default('127.0.0.1'),
        /** Address the app sends media to; required when listenIp is 0.0.0.0. */
        announcedAddress: z.string().default(''),
        /** Encrypt piped media (SRTP); keys are exchanged over the authenticated control channel. */
        enableSrtp: z.boolean().default(true),
      })
      .strict()
      .default({ listenIp: '127.0.0.1', announcedAddress: '', enableSrtp: true })
      .refine((p) => !['0.0.0.0', '::'].includes(p.listenIp) || p.announcedAddress !== '', {
        message: 'announcedAddress is required when listenIp is a wildcard address',
      }),
  })
  .strict()
  .refine((s) => !s.enabled || s.secret.length >= 32, {
    message: 'secret (>= 32 chars) is required when sidecar is enabled',
  });

const playerSchema = z
  .object({
    /** Per-room page title/description/poster, keyed by room name. */
    rooms: z
      .record(
        z.string(),
        z
          .object({
            title: z.string().max(200).optional(),
            description: z.string().max(2000).optional(),
            poster: z.string().max(500).optional(),
          })
          .strict(),
      )
      .default({}),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverSchema.default(() => serverSchema.parse({})),
    log: logSchema.default(() => logSchema.parse({})),
    mediasoup: mediasoupSchema.default(() => mediasoupSchema.parse({})),
    conference: conferenceSchema.default(() => conferenceSchema.parse({})),
    rtmp: rtmpSchema.default(() => rtmpSchema.parse({})),
    hls: hlsSchema.default(() => hlsSchema.parse({})),
    storage: storageSchema.default(() => storageSchema.parse({})),
    livestream: livestreamSchema.default(() => livestreamSchema.parse({})),
    recording: recordingSchema.default(() => recordingSchema.parse({})),
    destinations: destinationsSchema.default(() => destinationsSchema.parse({})),
    webhooks: webhooksSchema.default(() => webhooksSchema.parse({})),
    api: apiSchema.default(() => apiSchema.parse({})),
    sidecar: sidecarSchema.default(() => sidecarSchema.parse({})),
    player: playerSchema.default(() => playerSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type OutputConfig = Config['livestream']['output'];
