import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

/**
 * Token-bucket rate limiting for the mutating API routes (config.api.rateLimitPerMinute).
 * Each client has a bucket of `capacity` tokens refilled continuously at `perMinute`/60 s; a
 * request takes one token; an empty bucket → 429 with Retry-After.
 */

export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Tokens left after this request. */
  remaining: number;
  /** When refused: ms until one token is available. */
  retryAfterMs: number;
}

/** Pure bucket step: refill for elapsed time, then try to take one token. Mutates `state`. */
export function takeToken(state: BucketState, now: number, capacity: number, perMinute: number): TakeResult {
  const ratePerMs = perMinute / 60_000;
  const elapsed = Math.max(0, now - state.updatedAt);
  state.tokens = Math.min(capacity, state.tokens + elapsed * ratePerMs);
  state.updatedAt = now;
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return { allowed: true, remaining: Math.floor(state.tokens), retryAfterMs: 0 };
  }
  return { allowed: false, remaining: 0, retryAfterMs: Math.ceil((1 - state.tokens) / ratePerMs) };
}

export class RateLimiter {
  private readonly buckets = new Map<string, BucketState>();
  readonly capacity: number;

  constructor(
    readonly perMinute: number,
    opts: { burst?: number; maxClients?: number } = {},
    private readonly now: () => number = Date.now,
  ) {
    if (!(perMinute > 0)) throw new Error('perMinute must be > 0');
    this.capacity = Math.max(1, opts.burst ?? perMinute);
    this.maxClients = opts.maxClients ?? 10_000;
  }
  private readonly maxClients: number;

  take(key: string): TakeResult {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.evict(now);
      b = { tokens: this.capacity, updatedAt: now };
    } else {
      this.buckets.delete(key); // re-insert: Map order = least recently used first
    }
    this.buckets.set(key, b);
    return takeToken(b, now, this.capacity, this.perMinute);
  }

  get clients(): number {
    return this.buckets.size;
  }

  /** Memory bound: forget buckets that are full again, else the least recently used one. */
  private evict(now: number): void {
    const fullAfterMs = (this.capacity / this.perMinute) * 60_000;
    for (const [k, b] of this.buckets) {
      if (now - b.updatedAt >= fullAfterMs) this.buckets.delete(k);
    }
    if (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}

/**
 * The client key: the source IP (req.ip; configure express `trust proxy` behind a reverse proxy).
 * With `by: 'token'`, a request carrying a bearer token is keyed by the token's SHA-256 instead
 * (several moderators behind one NAT don't share a bucket). Note: random tokens each get a fresh
 * bucket, so use 'token' only after authentication has rejected unknown tokens.
 */
export function clientKey(req: Request, by: 'ip' | 'token' = 'ip'): string {
  if (by === 'token') {
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    if (m?.[1]) return `token:${createHash('sha256').update(m[1]).digest('hex').slice(0, 32)}`;
  }
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

export function rateLimit(opts: {
  perMinute: number;
  burst?: number;
  by?: 'ip' | 'token';
  key?: (req: Request) => string;
  limiter?: RateLimiter;
}): RequestHandler {
  const limiter = opts.limiter ?? new RateLimiter(opts.perMinute, { burst: opts.burst });
  return (req, res, next) => {
    const r = limiter.take(opts.key ? opts.key(req) : clientKey(req, opts.by));
    res.setHeader('RateLimit-Limit', String(limiter.perMinute));
    res.setHeader('RateLimit-Remaining', String(r.remaining));
    if (r.allowed) {
      next();
      return;
    }
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    res.setHeader('Retry-After', String(seconds));
    res.status(429).json({
      error: 'rate_limited',
      message: `too many requests; retry in ${seconds} s (api.rateLimitPerMinute = ${limiter.perMinute})`,
      retryAfterSeconds: seconds,
    });
  };
}
