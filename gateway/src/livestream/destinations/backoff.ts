/** Exponential backoff with jitter and a cap (pure). */
export interface BackoffOptions {
  /** Delay before the first retry. */
  baseMs: number;
  /** Upper bound for any delay. */
  maxMs: number;
  /** 0..1: the delay is drawn uniformly from [d·(1-jitter), d]. Spreads reconnect storms. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000, jitter: 0.5 };

/** Delay before retry number `attempt` (1-based). `random` in [0,1). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: number = Math.random()): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jitter = Math.min(1, Math.max(0, opts.jitter));
  return Math.round(exp * (1 - jitter * random));
}
