import { describe, expect, it } from 'vitest';
import {
  formatLatency,
  formatViewers,
  isStatusResponse,
  messageFor,
  playbackIdFromPath,
} from '../../player/player-state.ts';

describe('player state', () => {
  it('reads the playback id from /watch/<id> only', () => {
    expect(playbackIdFromPath('/watch/AbCdEfGhIjKlMn_-')).toBe('AbCdEfGhIjKlMn_-');
    expect(playbackIdFromPath('/watch/AbCdEfGhIjKlMn_-/')).toBe('AbCdEfGhIjKlMn_-');
    for (const p of ['/watch/', '/watch/short', '/watch/AbCdEfGhIjKlMn_-/x', '/r/AbCdEfGhIjKlMn_-'])
      expect(playbackIdFromPath(p)).toBeNull();
  });
  it('validates status responses', () => {
    expect(isStatusResponse({ status: 'live', title: 't', viewers: 1 })).toBe(true);
    expect(isStatusResponse({ status: 'weird', title: 't', viewers: 1 })).toBe(false);
    expect(isStatusResponse(null)).toBe(false);
  });
  it('formats readouts and messages', () => {
    expect(formatViewers(1)).toBe('1 viewer');
    expect(formatViewers(3)).toBe('3 viewers');
    expect(formatLatency(2.345)).toBe('2.3 s behind live');
    expect(formatLatency(Number.NaN)).toBeNull();
    expect(formatLatency(undefined)).toBeNull();
    expect(messageFor('offline')).toMatch(/not started/);
    expect(messageFor('ended')).toMatch(/ended/);
  });
});
