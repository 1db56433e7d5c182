import { EventEmitter } from 'node:events';
import type { Logger } from '../../log/logger.ts';
import { redactText } from '../../log/logger.ts';
import { OwnedProcess } from '../../process/owned-process.ts';
import { FFMPEG } from '../../process/ffmpeg.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { ProgressParser } from './progress.ts';
import {
  checkDestinationHost,
  DestinationError,
  systemResolver,
  type DestinationPolicy,
  type ParsedDestination,
  type Resolver,
} from './validate.ts';

/**
 * Relays the local hub stream to one external destination with `ffmpeg -c copy` (no re-encode:
 * a relay costs almost no CPU). Owns exactly one ffmpeg at a time; reconnects with backoff.
 *
 *   connecting → live → retrying → connecting … → stopped (stop()) | failed (permanent error or
 *   too many consecutive failures)
 */
export type RelayState = 'connecting' | 'live' | 'retrying' | 'stopped' | 'failed';

export interface RelayStatus {
  id: string;
  state: RelayState;
  /** Destination URL with the key masked. */
  display: string;
  /** Connection attempts so far (1 = first). */
  attempts: number;
  /** Consecutive failed attempts since the last stable live period. */
  consecutiveFailures: number;
  /** Bytes written to the destination by the current/last ffmpeg. */
  bytes: number;
  /** Epoch ms when the current live period began, null when not live. */
  liveSince: number | null;
  /** Epoch ms of the next attempt while retrying. */
  nextAttemptAt: number | null;
  /** Last error, redacted (no key). */
  lastError: string | null;
}

export interface RelayOptions {
  id: string;
  /** Hub URL the relay reads (SECRET: contains the hub key). */
  sourceUrl: string;
  destination: ParsedDestination;
  policy: DestinationPolicy;
  logger: Logger;
  resolve?: Resolver;
  backoff?: BackoffOptions;
  /** Consecutive failures before giving up (state failed). Default 20. */
  maxConsecutiveFailures?: number;
  /** A live period this long resets the failure count (backoff starts small again). Default 10 s. */
  stableAfterMs?: number;
  /** No new bytes for this long while live → the attempt is restarted. Default 15 s. */
  stallTimeoutMs?: number;
  /** ffmpeg read/write timeout (network), default 10 s. */
  ioTimeoutMs?: number;
}

export interface RelayEvents {
  state: [RelayStatus];
  /** One connection attempt ended with an error (counted by metrics as a destination failure). */
  attemptFailed: [{ id: string; attempt: number; error: string }];
}

export class DestinationRelay extends EventEmitter<RelayEvents> {
  readonly id: string;
  private readonly opts: RelayOptions;
  private proc: OwnedProcess | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private st: RelayStatus;
  private lastBytesAt = 0;
  private closed = false;

  constructor(opts: RelayOptions) {
    super();
    this.opts = opts;
    this.id = opts.id;
    this.st = {
      id: opts.id,
      state: 'connecting',
      display: opts.destination.display,
      attempts: 0,
      consecutiveFailures: 0,
      bytes: 0,
      liveSince: null,
      nextAttemptAt: null,
      lastError: null,
    };
  }

  get status(): RelayStatus {
    return { ...this.st };
  }

  /** Starts the first attempt. Never throws: failures show up as state changes. */
  start(): void {
    if (this.closed || this.proc || this.retryTimer) return;
    void this.attempt();
  }

  /** Stops for good (idempotent). Resolves when ffmpeg has exited. */
  async stop(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    const p = this.proc;
    if (p) await p.stop();
    if (this.st.state !== 'failed') this.setState('stopped', { liveSince: null, nextAttemptAt: null });
  }

  /** Removes the key (and the full URLs) from any text that may quote them. */
  scrub(text: string): string {
    let t = text;
    for (const secret of [this.opts.destination.url, this.opts.sourceUrl, this.opts.destination.key]) {
      if (secret) t = t.split(secret).join('[REDACTED]');
    }
    return redactText(t);
  }

  private async attempt(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    this.st.attempts += 1;
    this.setState('connecting', { liveSince: null, nextAttemptAt: null, bytes: 0 });
    // DNS rebinding: the name was checked when the destination was added, but may now point
    // elsewhere. Check again right before every connection.
    try {
      await checkDestinationHost(
        this.opts.destination,
        this.opts.policy,
        this.opts.resolve ?? systemResolver,
      );
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof DestinationError && err.kind !== 'resolve') {
        this.fail(msg);
      } else {
        this.onAttemptFailed(msg);
      }
      return;
    }
    if (this.closed) return;
    this.spawn();
  }

  private spawn(): void {
    const io = String((this.opts.ioTimeoutMs ?? 10_000) * 1000);
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-nostats',
      '-progress',
      'pipe:1',
      '-stats_period',
      '0.5',
      '-rw_timeout',
      io,
      '-i',
      this.opts.sourceUrl,
      '-map',
      '0',
      '-c',
      'copy',
      '-rw_timeout',
      io,
      '-flvflags',
      'no_duration_filesize',
      '-f',
      'flv',
      this.opts.destination.url,
    ];
    const proc = new OwnedProcess({
      name: `relay ${this.id}`,
      command: FFMPEG,
      args,
      logger: this.opts.logger,
      killTimeoutMs: 3000,
    });
    this.proc = proc;
    const parser = new ProgressParser();
    let lastSize = 0;
    proc.child.stdout?.setEncoding('utf8');
    proc.child.stdout?.on('data', (chunk: string) => {
      for (const r of parser.push(chunk)) {
        if (r.totalSize > lastSize) {
          // Bytes keep leaving towards the destination: that is what "live" means here.
          const wasGrowing = lastSize > 0;
          lastSize = r.totalSize;
          this.st.bytes = r.totalSize;
          this.lastBytesAt = Date.now();
          if (wasGrowing && r.outTimeUs > 0 && this.st.state === 'connecting') {
            this.setState('live', { liveSince: Date.now() });
            this.armStallWatch();
          }
        }
      }
    });
    proc.once('exit', (info) => {
      this.proc = null;
      this.clearStallWatch();
      if (this.closed || info.requested) return;
      const tail = info.stderrTail.slice(-3).join(' | ');
      const reason = tail || `ffmpeg exited (code ${String(info.code)}, signal ${String(info.signal)})`;
      if (this.st.liveSince && Date.now() - this.st.liveSince >= (this.opts.stableAfterMs ?? 10_000)) {
        this.st.consecutiveFailures = 0;
      }
      this.onAttemptFailed(reason);
    });
  }

  private onAttemptFailed(rawReason: string): void {
    const reason = this.scrub(rawReason);
    this.st.consecutiveFailures += 1;
    this.st.lastError = reason;
    this.opts.logger.warn(
      { relay: this.id, destination: this.st.display, attempt: this.st.attempts, error: reason },
      'destination relay attempt failed',
    );
    this.emit('attemptFailed', { id: this.id, attempt: this.st.attempts, error: reason });
    if (this.closed) return;
    if (this.st.consecutiveFailures >= (this.opts.maxConsecutiveFailures ?? 20)) {
      this.fail(`gave up after ${this.st.consecutiveFailures} consecutive failures: ${reason}`);
      return;
    }
    const delay = backoffDelay(this.st.consecutiveFailures, this.opts.backoff ?? DEFAULT_BACKOFF);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
    this.setState('retrying', { liveSince: null, nextAttemptAt: Date.now() + delay });
  }

  private fail(rawReason: string): void {
    this.closed = true;
    this.clearTimers();
    const p = this.proc;
    if (p) void p.stop();
    this.st.lastError = this.scrub(rawReason);
    this.opts.logger.error(
      { relay: this.id, destination: this.st.display, error: this.st.lastError },
      'destination relay failed',
    );
    this.setState('failed', { liveSince: null, nextAttemptAt: null });
  }

  private armStallWatch(): void {
    this.clearStallWatch();
    const limit = this.opts.stallTimeoutMs ?? 15_000;
    this.stallTimer = setInterval(
      () => {
        if (this.proc && Date.now() - this.lastBytesAt > limit) {
          this.opts.logger.warn({ relay: this.id }, 'destination relay stalled; restarting');
          this.proc.killNow('SIGTERM');
        }
      },
      Math.min(limit, 1000),
    );
  }

  private clearStallWatch(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearStallWatch();
  }

  private setState(state: RelayState, patch: Partial<RelayStatus> = {}): void {
    const changed = state !== this.st.state;
    Object.assign(this.st, patch, { state });
    if (changed) {
      this.opts.logger.info(
        { relay: this.id, destination: this.st.display, state },
        'destination relay state',
      );
    }
    this.emit('state', this.status);
  }
}
