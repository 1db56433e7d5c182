import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Pure rules for stream keys and playback ids (no I/O): format, generation, hashing, comparison.

/** 32 random bytes → 43 base64url chars: 256 bits from the OS CSPRNG (≥ 128 required). */
export const STREAM_KEY_BYTES = 32;
/** 12 random bytes → 16 base64url chars: public, only needs to be unguessable enough to not enumerate. */
export const PLAYBACK_ID_BYTES = 12;

const STREAM_KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const PLAYBACK_ID_RE = /^[A-Za-z0-9_-]{16}$/;
/** Room names as used by the conference: short, URL-safe, no path characters. */
const ROOM_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function generateStreamKey(): string {
  return randomBytes(STREAM_KEY_BYTES).toString('base64url');
}

export function generatePlaybackId(): string {
  return randomBytes(PLAYBACK_ID_BYTES).toString('base64url');
}

export function isValidStreamKeyFormat(key: unknown): key is string {
  return typeof key === 'string' && STREAM_KEY_RE.test(key);
}

export function isValidPlaybackId(id: unknown): id is string {
  return typeof id === 'string' && PLAYBACK_ID_RE.test(id);
}

export function isValidRoomName(room: unknown): room is string {
  return typeof room === 'string' && ROOM_RE.test(room) && !room.includes('..');
}

/**
 * SHA-256 of the key, hex. The store indexes keys by this hash, so a lookup never compares the
 * secret byte by byte in SQL (whose string compare stops at the first differing byte); the
 * stored key is then checked with timingSafeEqual.
 */
export function hashStreamKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time equality of two keys (length difference is not secret: all keys are 43 chars). */
export function keysEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) {
    // Still spend a comparison so the early exit does not stand out.
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
}
