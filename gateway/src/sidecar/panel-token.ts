import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Short-lived tokens the existing app signs (with the sidecar shared secret) to authorise its
 * users in the embeddable `<roomcast-panel>`. Compact format, documented in docs/sidecar.md:
 *
 *   token     = base64url(payloadJson) "." base64url(HMAC-SHA256(secret, "roomcast-panel/1." + base64url(payloadJson)))
 *   payload   = {"v":1,"room":"…","role":"moderator"|"participant","iat":<unix s>,"exp":<unix s>,"jti":"…"}
 *
 * The prefix in the signed text separates these signatures from the control-channel MACs made
 * with the same secret. Pure (node:crypto + zod); the connector re-exports it.
 */

export type PanelRole = 'moderator' | 'participant';

export interface PanelTokenClaims {
  v: 1;
  room: string;
  role: PanelRole;
  /** Issued at, unix seconds. */
  iat: number;
  /** Expires at, unix seconds. */
  exp: number;
  /** Random id (lets a verifier refuse replays if it wants to). */
  jti: string;
}

/** Tokens are meant to be minted per page load; anything longer-lived is refused. */
export const PANEL_TOKEN_MAX_LIFETIME_SECONDS = 24 * 3600;
export const PANEL_TOKEN_DEFAULT_TTL_SECONDS = 600;
export const PANEL_TOKEN_CLOCK_SKEW_SECONDS = 60;
const SIGNING_PREFIX = 'roomcast-panel/1.';
const MAX_TOKEN_LENGTH = 2048;

const claimsSchema = z
  .object({
    v: z.literal(1),
    room: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9_-]+$/),
    role: z.enum(['moderator', 'participant']),
    iat: z.number().int().nonnegative(),
    exp: z.number().int().positive(),
    jti: z.string().min(8).max(64),
  })
  .strict();

export interface SignPanelTokenInput {
  room: string;
  role: PanelRole;
  /** Absolute expiry (unix seconds). Default: now + ttlSeconds. */
  exp?: number;
  /** Lifetime when exp is not given (default 600 s). */
  ttlSeconds?: number;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function sign(payloadB64: string, secret: string): string {
  return createHmac('sha256', secret)
    .update(SIGNING_PREFIX + payloadB64)
    .digest('base64url');
}

function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < 32)
    throw new Error('panel token secret must be the sidecar secret (>= 32 characters)');
}

export function signPanelToken(input: SignPanelTokenInput, secret: string, now = nowSeconds()): string {
  checkSecret(secret);
  const exp = input.exp ?? now + (input.ttlSeconds ?? PANEL_TOKEN_DEFAULT_TTL_SECONDS);
  const claims: PanelTokenClaims = {
    v: 1,
    room: input.room,
    role: input.role,
    iat: now,
    exp,
    jti: randomBytes(12).toString('base64url'),
  };
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `cannot sign panel token: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (exp <= now) throw new Error('cannot sign panel token: exp is in the past');
  if (exp - now > PANEL_TOKEN_MAX_LIFETIME_SECONDS)
    throw new Error(`cannot sign panel token: lifetime over ${PANEL_TOKEN_MAX_LIFETIME_SECONDS} s`);
  const payloadB64 = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payloadB64}.${sign(payloadB64, secret)}`;
}

export type PanelTokenError =
  'malformed' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'too-long-lived' | 'wrong-room';

export type VerifyPanelTokenResult =
  { ok: true; claims: PanelTokenClaims } | { ok: false; error: PanelTokenError; message: string };

export interface VerifyPanelTokenOptions {
  now?: number;
  clockSkewSeconds?: number;
  /** Require this room (the panel's `room` attribute). */
  room?: string;
}

/**
 * Checks the signature first (constant time), then the claims. Never throws on bad input: a
 * token comes from a browser and is refused with a reason, not an exception.
 */
export function verifyPanelToken(
  token: unknown,
  secret: string,
  opts: VerifyPanelTokenOptions = {},
): VerifyPanelTokenResult {
  checkSecret(secret);
  const fail = (error: PanelTokenError, message: string): VerifyPanelTokenResult => ({
    ok: false,
    error,
    message,
  });
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH)
    return fail('malformed', 'token must be a string of at most 2048 characters');
  const parts = token.split('.');
  if (
    parts.length !== 2 ||
    !/^[A-Za-z0-9_-]+$/.test(parts[0] ?? '') ||
    !/^[A-Za-z0-9_-]{43}$/.test(parts[1] ?? '')
  )
    return fail('malformed', 'token must be <base64url payload>.<base64url HMAC-SHA256>');
  const [payloadB64, sigB64] = parts as [string, string];
  const expected = Buffer.from(sign(payloadB64, secret), 'base64url');
  const given = Buffer.from(sigB64, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail('bad-signature', 'token signature does not match (wrong secret or tampered token)');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8'));
  } catch {
    return fail('malformed', 'token payload is not JSON');
  }
  const parsed = claimsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail('malformed', `token payload: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const claims = parsed.data;
  const now = opts.now ?? nowSeconds();
  const skew = opts.clockSkewSeconds ?? PANEL_TOKEN_CLOCK_SKEW_SECONDS;
  if (claims.exp - claims.iat > PANEL_TOKEN_MAX_LIFETIME_SECONDS)
    return fail('too-long-lived', `token lifetime exceeds ${PANEL_TOKEN_MAX_LIFETIME_SECONDS} s`);
  if (claims.iat > now + skew)
    return fail('not-yet-valid', 'token is issued in the future (check the clocks)');
  if (claims.exp + skew < now) return fail('expired', 'token has expired');
  if (opts.room !== undefined && opts.room !== claims.room)
    return fail('wrong-room', `token is for another room ("${claims.room}")`);
  return { ok: true, claims };
}
