import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { RemoteRoomSource, type AppLink } from '../../gateway/src/sidecar/remote-room-source.ts';
import type { RoomStateMessage, WireParticipant } from '../../gateway/src/sidecar/protocol.ts';

// The room-state logic of a remote room (diffs, resync, interruption window) with a fake app link.
// Media (pipes) is covered by test/integration/sidecar.test.ts with real mediasoup workers.

const link = (sessionId: string): AppLink => ({
  appName: 'app',
  sessionId,
  openPipe: () => Promise.reject(new Error('no media in unit tests')),
  closePipe: () => {},
});
const noRouters = { createRouter: () => Promise.reject(new Error('no mediasoup in unit tests')) };
const settings = {
  reconnectWindowSeconds: 5,
  pipe: { listenIp: '127.0.0.1', announcedAddress: '', enableSrtp: true },
  plainRtpIp: '127.0.0.1',
};
const person = (
  id: string,
  tracks: string[] = [],
  extra: Partial<WireParticipant> = {},
): WireParticipant => ({
  id,
  displayName: id.toUpperCase(),
  excludedFromStream: false,
  tracks: tracks.map((t) => ({
    id: t,
    kind: t.startsWith('v') ? 'video' : 'audio',
    source: t.startsWith('v') ? 'camera' : 'mic',
    paused: false,
  })),
  ...extra,
});
const state = (participants: WireParticipant[], activeSpeaker: string | null = null): RoomStateMessage => ({
  type: 'room.state',
  room: 'demo',
  participants,
  activeSpeaker,
  pipes: [],
});

function record(room: RemoteRoomSource): string[] {
  const log: string[] = [];
  room.on('participantJoined', (p) => log.push(`joined ${p.id}`));
  room.on('participantLeft', (id) => log.push(`left ${id}`));
  room.on('participantUpdated', (p) => log.push(`updated ${p.id} ${p.displayName} ${p.excludedFromStream}`));
  room.on('trackAdded', (pid, t) => log.push(`+track ${pid} ${t.id}`));
  room.on('trackRemoved', (pid, t) => log.push(`-track ${pid} ${t}`));
  room.on('trackPaused', (pid, t) => log.push(`pause ${pid} ${t}`));
  room.on('trackResumed', (pid, t) => log.push(`resume ${pid} ${t}`));
  room.on('activeSpeakerChanged', (id) => log.push(`speaker ${id}`));
  room.on('interrupted', (r) => log.push(`interrupted ${r}`));
  room.on('restored', () => log.push('restored'));
  room.on('closed', (r) => log.push(`closed ${r}`));
  return log;
}

describe('RemoteRoomSource state', () => {
  let room: RemoteRoomSource;
  let log: string[];
  const l1 = link('s1');

  beforeEach(() => {
    vi.useFakeTimers();
    room = new RemoteRoomSource('demo', 'app', noRouters, settings, pino({ level: 'silent' }));
    log = record(room);
    room.attach(l1, state([person('a', ['v1', 'a1'])], 'a'));
  });
  afterEach(() => vi.useRealTimers());

  it('the first state announces participants then their tracks', () => {
    expect(log).toEqual(['joined a', '+track a v1', '+track a a1', 'speaker a']);
    expect(room.participants()).toEqual([person('a', ['v1', 'a1'])]);
    expect(room.activeSpeaker()).toBe('a');
  });

  it('applies deltas and returns copies (callers cannot mutate the room)', () => {
    log.length = 0;
    room.apply({ type: 'participant.joined', room: 'demo', participant: person('b', ['v2']) });
    room.apply({ type: 'track.paused', room: 'demo', participantId: 'b', trackId: 'v2' });
    room.apply({
      type: 'participant.updated',
      room: 'demo',
      participantId: 'b',
      displayName: 'Bee',
      excludedFromStream: true,
    });
    room.apply({ type: 'speaker', room: 'demo', participantId: 'b' });
    room.apply({ type: 'track.removed', room: 'demo', participantId: 'a', trackId: 'a1' });
    room.apply({ type: 'participant.left', room: 'demo', participantId: 'b' });
    room.apply({
      type: 'track.added',
      room: 'demo',
      participantId: 'ghost',
      track: person('x', ['v9']).tracks[0]!,
    });
    expect(log).toEqual([
      'joined b',
      '+track b v2',
      'pause b v2',
      'updated b Bee true',
      'speaker b',
      '-track a a1',
      '-track b v2',
      'speaker null',
      'left b',
    ]);
    room.participants()[0]!.tracks.length = 0;
    expect(room.participants()[0]!.tracks).toHaveLength(1);
  });

  it('lost link → interrupted; consume refused; resync within the window → diff events + restored', async () => {
    log.length = 0;
    room.detach(l1, 'socket closed');
    expect(room.status).toBe('interrupted');
    await expect(room.consume('v1', { ip: '127.0.0.1', port: 5000, rtcpPort: 5001 })).rejects.toThrow(
      /reconnecting/,
    );
    vi.advanceTimersByTime(4000);
    room.attach(
      link('s2'),
      state([person('a', ['v1', 'a2'], { displayName: 'Alice' }), person('c', ['v3'])]),
    );
    expect(room.status).toBe('live');
    expect(log).toEqual([
      'interrupted socket closed',
      'updated a Alice false',
      '-track a a1',
      '+track a a2',
      'joined c',
      '+track c v3',
      'speaker null',
      'restored',
    ]);
    vi.advanceTimersByTime(10_000);
    expect(room.closed).toBe(false);
  });

  it('a stale session closing does not interrupt a room that moved to a new session', () => {
    room.attach(link('s2'), state([person('a', ['v1', 'a1'])], 'a'));
    log.length = 0;
    room.detach(l1, 'old socket finally closed');
    expect(room.status).toBe('live');
    expect(log).toEqual([]);
  });

  it('no app within the window → closed with the reason', () => {
    room.detach(l1, 'socket closed');
    vi.advanceTimersByTime(5001);
    expect(room.closed).toBe(true);
    expect(log.at(-1)).toBe('closed app "app" did not reconnect within 5 s (socket closed)');
    expect(() => room.attach(l1, state([]))).toThrow(/closed/);
  });

  it('room.closed from the app closes the room', () => {
    room.apply({ type: 'room.closed', room: 'demo', reason: 'meeting ended' });
    expect(room.closed).toBe(true);
    expect(log.at(-1)).toBe('closed closed by app "app": meeting ended');
  });
});
