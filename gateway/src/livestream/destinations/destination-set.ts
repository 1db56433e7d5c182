import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log/logger.ts';
import type { BackoffOptions } from './backoff.ts';
import { DestinationRelay, type RelayStatus } from './relay.ts';
import {
  DestinationError,
  validateDestination,
  type DestinationInput,
  type DestinationPolicy,
  type Resolver,
} from './validate.ts';

export interface DestinationSetOptions {
  /** Local hub URL every relay reads (SECRET). */
  sourceUrl: string;
  /** config.destinations */
  config: DestinationPolicy & { maxPerLivestream: number };
  logger: Logger;
  resolve?: Resolver;
  /** Passed to every relay (tests use short delays). */
  relay?: {
    backoff?: BackoffOptions;
    maxConsecutiveFailures?: number;
    stableAfterMs?: number;
    stallTimeoutMs?: number;
    ioTimeoutMs?: number;
  };
}

export interface DestinationSetEvents {
  /** Any relay changed state (or progressed). */
  state: [RelayStatus];
  /** A relay reached `failed` (→ webhook destination.failed). */
  failed: [RelayStatus];
  /** One connection attempt of a relay failed (→ metric destination failures). */
  attemptFailed: [{ id: string; attempt: number; error: string }];
}

/**
 * The extra destinations of one livestream. Each relay is an independent ffmpeg: one failing
 * never touches the others or the local hub. Destinations can be added/removed while live.
 */
export class DestinationSet extends EventEmitter<DestinationSetEvents> {
  private readonly relays = new Map<string, DestinationRelay>();
  private closed = false;

  constructor(private readonly opts: DestinationSetOptions) {
    super();
  }

  /**
   * Validates (syntax + DNS + address policy) and starts a relay. Throws DestinationError
   * (field "url" / "streamKey" / "destinations") on bad input; the caller maps it to HTTP 400.
   */
  async add(input: DestinationInput, id: string = randomUUID()): Promise<RelayStatus> {
    if (this.closed) throw new DestinationError('the livestream is stopping', 'destinations');
    if (this.relays.size >= this.opts.config.maxPerLivestream) {
      throw new DestinationError(
        `at most ${this.opts.config.maxPerLivestream} destinations per livestream (destinations.maxPerLivestream)`,
        'destinations',
      );
    }
    if (this.relays.has(id)) throw new DestinationError(`destination ${id} already exists`, 'id');
    const destination = await validateDestination(input, this.opts.config, this.opts.resolve);
    // Re-check after the await: a concurrent add() may have taken the last slot.
    if (this.closed) throw new DestinationError('the livestream is stopping', 'destinations');
    if (this.relays.size >= this.opts.config.maxPerLivestream) {
      throw new DestinationError(
        `at most ${this.opts.config.maxPerLivestream} destinations per livestream (destinations.maxPerLivestream)`,
        'destinations',
      );
    }
    const relay = new DestinationRelay({
      id,
      sourceUrl: this.opts.sourceUrl,
      destination,
      policy: this.opts.config,
      logger: this.opts.logger,
      resolve: this.opts.resolve,
      ...this.opts.relay,
    });
    relay.on('state', (s) => {
      this.emit('state', s);
      if (s.state === 'failed') this.emit('failed', s);
    });
    relay.on('attemptFailed', (e) => this.emit('attemptFailed', e));
    this.relays.set(id, relay);
    relay.start();
    return relay.status;
  }

  /** Stops and forgets one destination. False if unknown. */
  async remove(id: string): Promise<boolean> {
    const relay = this.relays.get(id);
    if (!relay) return false;
    this.relays.delete(id);
    await relay.stop();
    relay.removeAllListeners();
    return true;
  }

  get(id: string): RelayStatus | undefined {
    return this.relays.get(id)?.status;
  }

  list(): RelayStatus[] {
    return [...this.relays.values()].map((r) => r.status);
  }

  get size(): number {
    return this.relays.size;
  }

  /** Stops every relay (livestream end). The set refuses new destinations afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.relays.keys()];
    await Promise.all(all.map((id) => this.remove(id)));
  }
}
