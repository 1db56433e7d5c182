import { describe, expect, it } from 'vitest';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { RateLimiter, rateLimit, takeToken } from '../../gateway/src/api/rate-limit.ts';

describe('token bucket', () => {
  it('allows a burst of capacity, then refills at perMinute', () => {
    const s = { tokens: 3, updatedAt: 0 };
    expect([0, 0, 0].map(() => takeToken(s, 0, 3, 60).allowed)).toEqual([true, true, true]);
    const refused = takeToken(s, 0, 3, 60);
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1000 });
    expect(takeToken(s, 500, 3, 60)).toMatchObject({ allowed: false, retryAfterMs: 500 });
    expect(takeToken(s, 1000, 3, 60).allowed).toBe(true);
    // Long idle: refills to capacity, not beyond.
    expect(takeToken(s, 1_000_000, 3, 60).remaining).toBe(2);
  });

  it('keeps clients apart and bounds memory', () => {
    let now = 0;
    const l = new RateLimiter(2, { maxClients: 3 }, () => now);
    expect(l.take('a').allowed).toBe(true);
    expect(l.take('a').allowed).toBe(true);
    expect(l.take('a').allowed).toBe(false);
    expect(l.take('b').allowed).toBe(true);
    l.take('c');
    l.take('d');
    expect(l.clients).toBeLessThanOrEqual(3);
    now = 30_000;
    expect(l.take('a').allowed).toBe(true);
  });
});

describe('rateLimit middleware', () => {
  it('answers 429 with Retry-After and a JSON error after the limit', async () => {
    const app = express();
    app.post('/x', rateLimit({ perMinute: 2 }), (_req, res) => {
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await fetch(url, { method: 'POST' });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(last?.headers.get('retry-after')).toBe('30');
      const body = (await last?.json()) as { error: string; retryAfterSeconds: number };
      expect(body).toMatchObject({ error: 'rate_limited', retryAfterSeconds: 30 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
