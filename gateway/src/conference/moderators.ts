import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh moderator token: 32 random bytes from the CSPRNG, URL-safe. */
export function newModeratorToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Constant-time token comparison. Both sides are hashed first so the comparison never depends
 * on (or leaks) the secret's length.
 */
export function tokenEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** True if `token` matches any of `valid` (checks all of them: no early exit). */
export function tokenMatchesAny(token: string, valid: readonly string[]): boolean {
  let match = false;
  for (const v of valid) if (tokenEquals(token, v)) match = true;
  return match;
}
