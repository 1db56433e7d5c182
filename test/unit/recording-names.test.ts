import { describe, expect, it } from 'vitest';
import {
  parseRecordingName,
  recordingFileName,
  recordingPath,
  roomFilePrefix,
} from '../../gateway/src/livestream/recording/recorder.ts';

const at = new Date('2026-11-26T15:13:00.123Z');

describe('recording file names', () => {
  it('names <room>-<UTC>.mp4 and parses it back', () => {
    expect(recordingFileName('standup', at)).toBe('standup-20261126T151300Z.mp4');
    expect(parseRecordingName('standup', 'standup-20261126T151300Z.mp4')).toEqual({
      createdAt: '2026-11-26T15:13:00Z',
      complete: true,
    });
    expect(parseRecordingName('standup', 'standup-20261126T151300Z.mp4.part')?.complete).toBe(false);
  });

  it('encodes unsafe room characters so names are path-safe and rooms never collide', () => {
    expect(roomFilePrefix('../etc')).toBe('~2e~2e~2fetc');
    expect(roomFilePrefix('team-sync')).toBe('team-sync');
    expect(roomFilePrefix('a~b')).toBe('a~7eb');
    const nameOfAB = recordingFileName('a-b', at);
    expect(parseRecordingName('a', nameOfAB)).toBeNull();
    expect(parseRecordingName('a-b', nameOfAB)).not.toBeNull();
    expect(recordingFileName('café', at)).toBe('caf~c3~a9-20261126T151300Z.mp4');
  });

  it('recordingPath refuses traversal, other rooms and foreign files', () => {
    expect(recordingPath('/rec', 'standup', 'standup-20261126T151300Z.mp4')).toBe(
      '/rec/standup-20261126T151300Z.mp4',
    );
    expect(recordingPath('/rec', 'standup', '../standup-20261126T151300Z.mp4')).toBeNull();
    expect(recordingPath('/rec', 'standup', 'other-20261126T151300Z.mp4')).toBeNull();
    expect(recordingPath('/rec', 'standup', 'standup-x.mp4')).toBeNull();
    expect(recordingPath('/rec', 'standup', 'standup-20261126T151300Z.mp4/../../x')).toBeNull();
  });
});
