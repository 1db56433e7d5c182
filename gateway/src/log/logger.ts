import pino, { type Logger } from 'pino';

export type { Logger };

// Field names whose values are secrets wherever they appear in a log object.
const SECRET_FIELDS = [
  'streamKey',
  'key',
  'token',
  'moderatorToken',
  'secret',
  'password',
  'apiKey',
  'authorization',
  'cookie',
  'signature',
];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/**
 * Masks secrets inside free text (URLs in ffmpeg/NMS messages): the stream-name segment of
 * rtmp(s):// URLs, and token/key query parameters.
 */
export function redactText(text: string): string {
  return text
    .replace(/(rtmps?:\/\/[^\s/'"]+\/[^\s/'"]+\/)([^\s'"?]+)/gi, '$1[REDACTED]')
    .replace(/([?&](?:token|key|secret|sig|signature|streamKey)=)[^&\s'"]+/gi, '$1[REDACTED]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'roomcast' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
