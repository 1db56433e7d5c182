import { afterEach, describe, expect, it, vi } from 'vitest';
import { AutoStopWatcher, decideAutoStop } from '../../gateway/src/livestream/auto-stop.ts';

const cfg = { emptySeconds: 30, noMediaSeconds: 60 };
const t0 = 1_000_000;

describe('decideAutoStop', () => {
  it('keeps running while the room is occupied and media flows', () => {
    expect(
      decideAutoStop(
        { now: t0 + 600_000, startedAt: t0, occupancy: 2, emptySince: null, lastMediaAt: t0 + 599_000 },
        cfg,
      ),
    ).toEqual({ stop: false });
  });

  it('stops once the room has been empty for emptySeconds, not before', () => {
    const base = { startedAt: t0, occupancy: 0, emptySince: t0 + 10_000, lastMediaAt: t0 + 39_000 };
    expect(decideAutoStop({ ...base, now: t0 + 39_999 }, cfg).stop).toBe(false);
    const d = decideAutoStop({ ...base, now: t0 + 40_000 }, cfg);
    expect(d).toMatchObject({ stop: true, reason: 'room_empty', idleSeconds: 30 });
    expect(d.stop && d.message).toContain('autoStopEmptySeconds = 30');
  });

  it('counts an empty room from the livestream start when it was empty before', () => {
    const d = decideAutoStop(
      { now: t0 + 30_000, startedAt: t0, occupancy: 0, emptySince: t0 - 500_000, lastMediaAt: null },
      cfg,
    );
    expect(d).toMatchObject({ stop: true, reason: 'room_empty', idleSeconds: 30 });
  });

  it('stops when no media arrived for noMediaSeconds (never-arrived counts from start)', () => {
    expect(
      decideAutoStop(
        { now: t0 + 59_000, startedAt: t0, occupancy: 3, emptySince: null, lastMediaAt: null },
        cfg,
      ).stop,
    ).toBe(false);
    expect(
      decideAutoStop(
        { now: t0 + 60_000, startedAt: t0, occupancy: 3, emptySince: null, lastMediaAt: null },
        cfg,
      ),
    ).toMatchObject({
      stop: true,
      reason: 'no_media',
    });
    expect(
      decideAutoStop(
        { now: t0 + 100_000, startedAt: t0, occupancy: 3, emptySince: null, lastMediaAt: t0 + 40_000 },
        cfg,
      ),
    ).toMatchObject({
      stop: true,
      reason: 'no_media',
      idleSeconds: 60,
    });
  });

  it('0 disables each rule', () => {
    const input = { now: t0 + 10_000_000, startedAt: t0, occupancy: 0, emptySince: t0, lastMediaAt: null };
    expect(decideAutoStop(input, { emptySeconds: 0, noMediaSeconds: 0 })).toEqual({ stop: false });
    expect(decideAutoStop(input, { emptySeconds: 0, noMediaSeconds: 60 })).toMatchObject({
      reason: 'no_media',
    });
    expect(decideAutoStop(input, { emptySeconds: 30, noMediaSeconds: 0 })).toMatchObject({
      reason: 'room_empty',
    });
  });
});

describe('AutoStopWatcher', () => {
  afterEach(() => vi.useRealTimers());

  it('fires onStop exactly once when the room empties, with the reason', () => {
    vi.useFakeTimers({ now: t0 });
    let occupancy = 1;
    let emptySince: number | null = null;
    const stops: string[] = [];
    const w = new AutoStopWatcher({
      config: { emptySeconds: 5, noMediaSeconds: 0 },
      sample: () => ({ occupancy, emptySince, lastMediaAt: Date.now() }),
      onStop: (d) => stops.push(d.reason),
      intervalMs: 1000,
    });
    w.start();
    vi.advanceTimersByTime(10_000);
    expect(stops).toEqual([]);
    occupancy = 0;
    emptySince = Date.now();
    vi.advanceTimersByTime(4_000);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(2_000);
    expect(stops).toEqual(['room_empty']);
    vi.advanceTimersByTime(60_000);
    expect(stops).toEqual(['room_empty']);
  });

  it('starts no timer when both rules are disabled', () => {
    vi.useFakeTimers({ now: t0 });
    const stops: string[] = [];
    const w = new AutoStopWatcher({
      config: { emptySeconds: 0, noMediaSeconds: 0 },
      sample: () => ({ occupancy: 0, emptySince: t0, lastMediaAt: null }),
      onStop: (d) => stops.push(d.reason),
    });
    w.start();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000_000);
    expect(stops).toEqual([]);
  });
});
