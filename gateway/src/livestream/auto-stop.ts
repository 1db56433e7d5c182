/**
 * Auto-stop rules for a livestream (pure) and a small polling wrapper.
 * A livestream stops by itself when the room has been empty for `emptySeconds`, or when no media
 * arrived from any participant for `noMediaSeconds` (config.livestream.autoStop*; 0 disables).
 */

export type AutoStopReason = 'room_empty' | 'no_media';

export interface AutoStopConfig {
  /** config.livestream.autoStopEmptySeconds; 0 = never. */
  emptySeconds: number;
  /** config.livestream.autoStopNoMediaSeconds; 0 = never. */
  noMediaSeconds: number;
}

export interface AutoStopInput {
  /** Epoch ms now. */
  now: number;
  /** Epoch ms the livestream started (grace: counts as "last media" before any arrived). */
  startedAt: number;
  /** Participants in the room (visible ones; the hidden gateway participant is not counted). */
  occupancy: number;
  /** Epoch ms the room became empty; null while occupied. */
  emptySince: number | null;
  /** Epoch ms of the last media packet from any participant; null if none yet. */
  lastMediaAt: number | null;
}

export type AutoStopDecision =
  { stop: false } | { stop: true; reason: AutoStopReason; message: string; idleSeconds: number };

export function decideAutoStop(input: AutoStopInput, cfg: AutoStopConfig): AutoStopDecision {
  if (cfg.emptySeconds > 0 && input.occupancy <= 0) {
    const since = Math.max(input.emptySince ?? input.startedAt, input.startedAt);
    const idle = (input.now - since) / 1000;
    if (idle >= cfg.emptySeconds) {
      return {
        stop: true,
        reason: 'room_empty',
        message: `the room has been empty for ${Math.floor(idle)} s (livestream.autoStopEmptySeconds = ${cfg.emptySeconds})`,
        idleSeconds: idle,
      };
    }
  }
  if (cfg.noMediaSeconds > 0) {
    const since = Math.max(input.lastMediaAt ?? input.startedAt, input.startedAt);
    const idle = (input.now - since) / 1000;
    if (idle >= cfg.noMediaSeconds) {
      return {
        stop: true,
        reason: 'no_media',
        message: `no media arrived for ${Math.floor(idle)} s (livestream.autoStopNoMediaSeconds = ${cfg.noMediaSeconds})`,
        idleSeconds: idle,
      };
    }
  }
  return { stop: false };
}

export interface AutoStopWatcherOptions {
  config: AutoStopConfig;
  /** Current room state; called every interval. */
  sample: () => Omit<AutoStopInput, 'now' | 'startedAt'>;
  /** Called once with the decision; the watcher stops itself first. */
  onStop: (decision: Extract<AutoStopDecision, { stop: true }>) => void;
  intervalMs?: number;
  now?: () => number;
}

/** Polls `sample()` and fires `onStop` once. Disabled (no timer) when both limits are 0. */
export class AutoStopWatcher {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly opts: AutoStopWatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  start(): void {
    if (this.timer) return;
    const { emptySeconds, noMediaSeconds } = this.opts.config;
    if (emptySeconds <= 0 && noMediaSeconds <= 0) return;
    this.timer = setInterval(() => this.check(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** One evaluation (also used by tests with a fake clock). Returns the decision. */
  check(): AutoStopDecision {
    const decision = decideAutoStop(
      { ...this.opts.sample(), now: this.now(), startedAt: this.startedAt },
      this.opts.config,
    );
    if (decision.stop && this.timer !== null) {
      this.stop();
      this.opts.onStop(decision);
    }
    return decision;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
