import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  isStreamed,
  liveSeconds,
  parseSseBlock,
  stateText,
} from '../../gateway/web/panel/format.ts';

describe('livestream panel formatting', () => {
  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(7.9)).toBe('0:07');
    expect(formatDuration(723)).toBe('12:03');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(-5)).toBe('0:00');
  });

  it('ticks the duration from startedAt', () => {
    const start = '2026-01-01T00:00:00.000Z';
    expect(liveSeconds(start, Date.parse(start) + 65_000, 0)).toBe(65);
    expect(liveSeconds(null, 0, 12)).toBe(12);
    expect(liveSeconds('garbage', 0, 3)).toBe(3);
  });

  it('says each state in words, with the reason', () => {
    expect(stateText({ state: 'idle', reason: null, viewers: 0 }, 0)).toBe('Not live');
    expect(stateText({ state: 'live', reason: null, viewers: 1 }, 75)).toBe('Live · 1:15 · 1 viewer');
    expect(stateText({ state: 'live', reason: null, viewers: 3 }, 5)).toBe('Live · 0:05 · 3 viewers');
    expect(stateText({ state: 'failed', reason: 'encoder exited', viewers: 0 }, 0)).toBe(
      'Failed: encoder exited',
    );
    expect(stateText({ state: 'stopped', reason: 'auto-stop: room empty', viewers: 0 }, 0)).toBe(
      'Stopped: auto-stop: room empty',
    );
    expect(stateText({ state: 'reconnecting', reason: null, viewers: 0 }, 0)).toBe('Reconnecting…');
    expect(isStreamed('reconnecting')).toBe(true);
    expect(isStreamed('stopped')).toBe(false);
  });

  it('parses server-sent event blocks', () => {
    expect(parseSseBlock('event: status\ndata: {"a":1}')).toBe('{"a":1}');
    expect(parseSseBlock(': ping')).toBeNull();
    expect(parseSseBlock('data: x')).toBeNull();
    expect(parseSseBlock('event: status\ndata: a\ndata: b')).toBe('a\nb');
  });
});
