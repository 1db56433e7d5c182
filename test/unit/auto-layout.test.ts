import { describe, expect, it } from 'vitest';
import {
  AUTO_TIMING,
  autoLayout,
  initialAutoState,
  type AutoInputs,
  type AutoState,
} from '../../gateway/src/compositor/auto-layout.ts';

const quiet: AutoInputs = { screenSharing: false, activeSpeaker: null, participantCount: 3 };

/** Feed `inputs` from `from` to `to` (ms) every 250 ms, as the livestream's timer does. */
function run(state: AutoState, inputs: AutoInputs, from: number, to: number): AutoState {
  let s = state;
  for (let t = from; t <= to; t += 250) s = autoLayout(s, inputs, t);
  return s;
}

describe('auto layout', () => {
  it('starts in grid and stays there while nobody talks', () => {
    const s = run(initialAutoState(0), quiet, 0, 20_000);
    expect(s.mode).toBe('grid');
  });

  it('switches to screen at once when someone shares, and back to grid after the share', () => {
    let s = run(initialAutoState(0), quiet, 0, 1000);
    s = autoLayout(s, { ...quiet, screenSharing: true }, 1250);
    expect(s.mode).toBe('screen');
    s = run(s, quiet, 1500, 1500 + AUTO_TIMING.minDwellMs + AUTO_TIMING.hold.grid + 500);
    expect(s.mode).toBe('grid');
  });

  it('goes to speaker when one person holds the floor, not before', () => {
    let s = run(initialAutoState(0), quiet, 0, 5000);
    s = run(s, { ...quiet, activeSpeaker: 'a' }, 5250, 5250 + AUTO_TIMING.soloSpeakerMs - 500);
    expect(s.mode).toBe('grid');
    s = run(s, { ...quiet, activeSpeaker: 'a' }, 5250 + AUTO_TIMING.soloSpeakerMs, 12_000);
    expect(s.mode).toBe('speaker');
  });

  it('a conversation (speakers changing often) stays in / returns to grid', () => {
    let s = run(initialAutoState(0), { ...quiet, activeSpeaker: 'a' }, 0, 10_000);
    expect(s.mode).toBe('speaker');
    let t = 10_000;
    const modes = new Set<string>();
    for (const who of ['b', 'a', 'c', 'b', 'a', 'c', 'b']) {
      s = run(s, { ...quiet, activeSpeaker: who }, t, t + 1500);
      t += 1750;
      modes.add(s.mode);
    }
    expect(s.mode).toBe('grid');
  });

  it('does not flicker: a mode change is held for the minimum dwell time', () => {
    let s = initialAutoState(0);
    let switches = 0;
    let prev = s.mode;
    // Speaker toggles on/off every 600 ms for a minute.
    for (let t = 0; t < 60_000; t += 200) {
      const on = Math.floor(t / 600) % 2 === 0;
      s = autoLayout(s, { ...quiet, activeSpeaker: on ? 'a' : null }, t);
      if (s.mode !== prev) switches++;
      prev = s.mode;
    }
    expect(switches).toBeLessThanOrEqual(60_000 / AUTO_TIMING.minDwellMs);
    expect(switches).toBeLessThanOrEqual(2);
  });

  it('with fewer than two people there is nothing to feature: grid', () => {
    const s = run(
      initialAutoState(0),
      { screenSharing: false, activeSpeaker: 'a', participantCount: 1 },
      0,
      20_000,
    );
    expect(s.mode).toBe('grid');
  });
});
