import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  verifyWebhookSignature,
  WebhookDispatcher,
  type WebhookEvent,
} from '../../gateway/src/api/webhooks.ts';
import { waitFor } from '../helpers/net.ts';

const secret = 'integration-test-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  raw: string;
  status: number;
}

const servers: Server[] = [];

async function receiver(
  decide: (n: number, raw: string) => number | 'hang',
): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const d = decide(n++, raw);
      if (d === 'hang') return; // never answers: the dispatcher must time out
      got.push({ headers: req.headers, raw, status: d });
      res.writeHead(d).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('WebhookDispatcher with real HTTP receivers', () => {
  it('delivers signed events in order, retries a 500, and a dead receiver blocks nobody', async () => {
    // Receiver A fails the 2nd request with 500 once; receiver B never answers.
    const a = await receiver((n) => (n === 1 ? 500 : 200));
    const b = await receiver(() => 'hang');
    const logLines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(c: Buffer, _e, cb) {
          logLines.push(c.toString());
          cb();
        },
      }),
    );
    const d = new WebhookDispatcher({
      config: { urls: [a.url, b.url], secret },
      logger,
      timeoutMs: 500,
      maxAttempts: 3,
      backoffBaseMs: 100,
      backoffMaxMs: 400,
    });

    const emitted: WebhookEvent[] = [
      d.emit('livestream.started', { room: 'r1', startedAt: new Date().toISOString() }),
      d.emit('destination.failed', {
        room: 'r1',
        destinationId: 'x',
        destination: 'rtmp://h/app/[REDACTED]',
        error: 'refused',
      }),
      d.emit('recording.ready', { room: 'r1', name: 'r1-20261126T000000Z.mp4', size: 1, durationSeconds: 1 }),
      d.emit('livestream.ended', { room: 'r1', reason: 'room_empty' }),
    ];
    // emit() only queues: nothing can have been delivered synchronously.
    expect(a.got).toHaveLength(0);

    await waitFor(
      '4 events delivered to A',
      () => a.got.filter((r) => r.status === 200).length === 4,
      10_000,
    );
    // B is still stuck on its first event (timeouts + backoff) while A got everything.
    expect(d.pending).toBeGreaterThan(0);

    const ok = a.got.filter((r) => r.status === 200);
    expect(ok.map((r) => r.headers['x-roomcast-event'])).toEqual(emitted.map((e) => e.type));
    expect(ok.map((r) => r.headers['x-roomcast-delivery'])).toEqual(emitted.map((e) => e.id));
    for (const r of a.got) {
      const body = JSON.parse(r.raw) as WebhookEvent;
      expect(body.id).toBe(r.headers['x-roomcast-delivery']);
      expect(body.type).toBe(r.headers['x-roomcast-event']);
      expect(r.headers['content-type']).toBe('application/json');
      expect(
        verifyWebhookSignature({
          secret,
          body: r.raw,
          timestamp: r.headers['x-roomcast-timestamp'] as string,
          signature: r.headers['x-roomcast-signature'] as string,
        }),
      ).toBe(true);
      expect(
        verifyWebhookSignature({
          secret: 'wrong-secret-wrong-secret',
          body: r.raw,
          timestamp: r.headers['x-roomcast-timestamp'] as string,
          signature: r.headers['x-roomcast-signature'] as string,
        }),
      ).toBe(false);
    }
    // The 500 was retried with the same delivery id.
    expect(a.got[1]?.status).toBe(500);
    expect(a.got[1]?.headers['x-roomcast-delivery']).toBe(emitted[1]?.id);
    expect((JSON.parse(ok[3]!.raw) as WebhookEvent<'livestream.ended'>).data.reason).toBe('room_empty');

    await d.close(300);
    expect(d.pending).toBe(0);
    expect(d.stats.delivered).toBe(4);
    expect(d.stats.dropped + d.stats.failed).toBeGreaterThan(0);
    expect(logLines.join('')).toMatch(/dropped at shutdown|giving up/);
    // After close, emit is a no-op and never throws.
    d.emit('livestream.failed', { room: 'r1', error: 'x' });
    expect(d.pending).toBe(0);
  });

  it('does not retry a 4xx refusal, and keeps going with the next event', async () => {
    const a = await receiver((n) => (n === 0 ? 400 : 200));
    const d = new WebhookDispatcher({
      config: { urls: [a.url], secret },
      logger: pino({ level: 'silent' }),
      backoffBaseMs: 50,
    });
    d.emit('livestream.failed', { room: 'r2', error: 'encoder crashed' });
    d.emit('livestream.ended', { room: 'r2', reason: 'failed' });
    await waitFor('second event delivered', () => a.got.length === 2, 5000);
    expect(a.got.map((r) => [r.status, r.headers['x-roomcast-event']])).toEqual([
      [400, 'livestream.failed'],
      [200, 'livestream.ended'],
    ]);
    await d.close();
    expect(d.stats).toMatchObject({ delivered: 1, failed: 1, retried: 0 });
  });
});
