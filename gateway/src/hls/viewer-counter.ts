import { createHmac, randomBytes } from 'node:crypto';

/**
 * Approximate viewers per stream: distinct client tokens seen on playlist requests within a
 * rolling window (every hls.js viewer re-fetches the live playlist about once a segment).
 * The token is the player's anonymous per-page-load id (`?sid=`, random, not stored anywhere
 * else) when present, else an HMAC of address + user agent under a random key that lives only
 * in memory — no IP address is stored, and tokens cannot be linked across restarts.
 */
export class ViewerCounter {
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly salt = randomBytes(32);

  constructor(
    private readonly windowMs: number,
    private readonly maxPerStream = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  static tokenFor(salt: Buffer, sid: unknown, address: string | undefined, userAgent: string | undefined) {
    if (typeof sid === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(sid)) return `s:${sid}`;
    return `h:${createHmac('sha256', salt)
      .update(`${address ?? ''}\n${userAgent ?? ''}`)
      .digest('base64url')
      .slice(0, 16)}`;
  }

  hit(streamId: string, sid: unknown, address: string | undefined, userAgent: string | undefined): void {
    let m = this.seen.get(streamId);
    if (!m) this.seen.set(streamId, (m = new Map()));
    const token = ViewerCounter.tokenFor(this.salt, sid, address, userAgent);
    if (!m.has(token) && m.size >= this.maxPerStream) this.prune(streamId, m);
    if (!m.has(token) && m.size >= this.maxPerStream) return; // flood: count stays approximate
    m.delete(token); // re-insert: Map order = last-seen order, oldest first
    m.set(token, this.now());
  }

  count(streamId: string): number {
    const m = this.seen.get(streamId);
    if (!m) return 0;
    this.prune(streamId, m);
    return m.size;
  }

  forget(streamId: string): void {
    this.seen.delete(streamId);
  }

  private prune(streamId: string, m: Map<string, number>): void {
    const cutoff = this.now() - this.windowMs;
    for (const [token, t] of m) {
      if (t >= cutoff) break;
      m.delete(token);
    }
    if (m.size === 0) this.seen.delete(streamId);
  }
}
