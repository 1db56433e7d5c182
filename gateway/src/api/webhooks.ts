import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log/logger.ts';

/**
 * Outgoing webhooks (config.webhooks: urls + secret).
 *
 * Every event is POSTed as JSON `{id, type, createdAt, data}` to every URL with headers
 *   X-Roomcast-Event: <type>
 *   X-Roomcast-Delivery: <id>            (same id on retries: receivers can de-duplicate)
 *   X-Roomcast-Timestamp: <unix seconds>
 *   X-Roomcast-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * Each URL has its own ordered queue: events arrive in emit order; a slow or dead receiver
 * delays only its own queue. Network errors, timeouts, 408, 429 and 5xx are retried with
 * exponential backoff up to `maxAttempts`; other 4xx are dropped (the receiver refused it).
 * emit() never blocks or throws: the media path must not wait on a webhook.
 */

export interface WebhookEventMap {
  'livestream.started': { room: string; watchUrl?: string; startedAt: string };
  'livestream.ended': { room: string; reason: string; durationSeconds?: number };
  'livestream.failed': { room: string; error: string };
  'destination.failed': { room: string; destinationId: string; destination: string; error: string };
  'recording.ready': { room: string; name: string; size: number; durationSeconds: number | null };
}
export type WebhookEventType = keyof WebhookEventMap;

export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  id: string;
  type: T;
  createdAt: string;
  data: WebhookEventMap[T];
}

export interface WebhookDispatcherOptions {
  /** config.webhooks */
  config: { urls: string[]; secret: string };
  logger: Logger;
  /** Per request. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts per event per URL, first included. Default 6. */
  maxAttempts?: number;
  /** Backoff: base·2^(n-1), capped. Defaults 1000 / 60000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Events waiting per URL; beyond it the oldest is dropped (logged). Default 1000. */
  maxQueue?: number;
  now?: () => number;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers: checks X-Roomcast-Signature against the RAW request body (bytes as received,
 * not re-serialised JSON) and rejects timestamps older/newer than `toleranceSeconds` (replay).
 */
export function verifyWebhookSignature(opts: {
  secret: string;
  body: string | Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  nowSeconds?: number;
}): boolean {
  const { secret, timestamp, signature } = opts;
  if (!secret || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSeconds ?? 300)) return false;
  const body = typeof opts.body === 'string' ? opts.body : opts.body.toString('utf8');
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface QueueItem {
  event: WebhookEvent;
  body: string;
  attempts: number;
}

class UrlQueue {
  readonly items: QueueItem[] = [];
  running = false;
  timer: NodeJS.Timeout | null = null;
  wake: (() => void) | null = null;
  abort: AbortController | null = null;
  constructor(readonly url: string) {}
}

export class WebhookDispatcher {
  private readonly queues: UrlQueue[];
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  /** Counters for metrics/tests. */
  readonly stats = { delivered: 0, failed: 0, dropped: 0, retried: 0 };

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.queues = opts.config.urls.map((u) => new UrlQueue(u));
  }

  get enabled(): boolean {
    return this.queues.length > 0 && this.opts.config.secret.length > 0;
  }

  /** Queues the event for every URL and returns at once. Returns the event (with its id). */
  emit<T extends WebhookEventType>(type: T, data: WebhookEventMap[T]): WebhookEvent<T> {
    const now = this.opts.now ?? Date.now;
    const event: WebhookEvent<T> = { id: randomUUID(), type, createdAt: new Date(now()).toISOString(), data };
    if (this.closed || !this.enabled) return event;
    const body = JSON.stringify(event);
    for (const q of this.queues) {
      if (q.items.length >= (this.opts.maxQueue ?? 1000)) {
        const dropped = q.items.splice(q.running ? 1 : 0, 1)[0];
        this.stats.dropped += 1;
        this.opts.logger.warn(
          { webhook: safeUrl(q.url), event: dropped?.event.type, id: dropped?.event.id },
          'webhook queue full; oldest event dropped',
        );
      }
      q.items.push({ event, body, attempts: 0 });
      if (!q.running) void this.run(q);
    }
    return event;
  }

  /** Events not yet delivered (all URLs). */
  get pending(): number {
    return this.queues.reduce((n, q) => n + q.items.length, 0);
  }

  /**
   * Stops accepting events; waits up to `timeoutMs` for queues to drain (retry delays are
   * skipped: one last try each), then drops what is left with a log line.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queues) q.wake?.();
    if (this.pending > 0) {
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
      ]);
    }
    for (const q of this.queues) {
      q.abort?.abort();
      if (q.timer) clearTimeout(q.timer);
      if (q.items.length > 0) {
        this.stats.dropped += q.items.length;
        this.opts.logger.warn(
          { webhook: safeUrl(q.url), dropped: q.items.map((i) => i.event.type) },
          'webhook events dropped at shutdown',
        );
        q.items.length = 0;
      }
    }
  }

  private async run(q: UrlQueue): Promise<void> {
    q.running = true;
    try {
      while (q.items.length > 0) {
        const item = q.items[0]!;
        item.attempts += 1;
        const result = await this.deliver(q, item);
        if (result === 'ok' || result === 'drop') {
          q.items.shift();
          continue;
        }
        const max = this.opts.maxAttempts ?? 6;
        if (item.attempts >= max || (this.closed && item.attempts >= 1)) {
          q.items.shift();
          this.stats.failed += 1;
          this.opts.logger.warn(
            { webhook: safeUrl(q.url), event: item.event.type, id: item.event.id, attempts: item.attempts },
            'webhook delivery failed; giving up',
          );
          continue;
        }
        this.stats.retried += 1;
        const base = this.opts.backoffBaseMs ?? 1000;
        const cap = this.opts.backoffMaxMs ?? 60_000;
        const delay = Math.min(cap, base * 2 ** (item.attempts - 1)) * (0.75 + Math.random() * 0.25);
        await new Promise<void>((resolve) => {
          q.wake = resolve;
          q.timer = setTimeout(resolve, delay);
        });
        q.wake = null;
        q.timer = null;
      }
    } finally {
      q.running = false;
      if (this.pending === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async deliver(q: UrlQueue, item: QueueItem): Promise<'ok' | 'retry' | 'drop'> {
    const timestamp = String(Math.floor((this.opts.now ?? Date.now)() / 1000));
    const abort = new AbortController();
    q.abort = abort;
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs ?? 5000);
    try {
      const res = await fetch(q.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'roomcast-webhooks',
          'x-roomcast-event': item.event.type,
          'x-roomcast-delivery': item.event.id,
          'x-roomcast-timestamp': timestamp,
          'x-roomcast-signature': signWebhook(this.opts.config.secret, timestamp, item.body),
        },
        body: item.body,
        signal: abort.signal,
        redirect: 'manual', // a redirect could point the signed body anywhere
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.stats.delivered += 1;
        return 'ok';
      }
      if (res.status >= 500 || res.status === 408 || res.status === 429) {
        this.opts.logger.debug({ webhook: safeUrl(q.url), status: res.status }, 'webhook attempt failed');
        return 'retry';
      }
      this.stats.failed += 1;
      this.opts.logger.warn(
        { webhook: safeUrl(q.url), event: item.event.type, status: res.status },
        'webhook refused by receiver; not retried',
      );
      return 'drop';
    } catch (err) {
      this.opts.logger.debug(
        { webhook: safeUrl(q.url), err: err instanceof Error ? err.message : String(err) },
        'webhook attempt failed',
      );
      return 'retry';
    } finally {
      clearTimeout(timer);
      q.abort = null;
    }
  }
}

/** URL for logs: origin + path, no query (may carry a token) and no credentials. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '[invalid url]';
  }
}
