import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import { RoomHandle } from '../../gateway/src/connector/room-handle.ts';
import type { AppMessage } from '../../gateway/src/sidecar/protocol.ts';

// The connector's room bookkeeping, with stand-ins for a mediasoup router/producer (only their
// observers and ids are used). Real mediasoup objects are exercised by the sidecar integration test.

function fakeProducer(id: string, kind: 'audio' | 'video') {
  const observer = new EventEmitter();
  const p = { id, kind, paused: false, closed: false, observer };
  return p as typeof p & ms.Producer;
}

function setup() {
  const sent: AppMessage[] = [];
  const closed: string[] = [];
  const routerObserver = new EventEmitter();
  const router = { observer: routerObserver } as unknown as ms.Router;
  const handle = new RoomHandle('demo', router, {
    send: (m) => sent.push(m),
    roomClosed: (_h, reason) => closed.push(reason),
  });
  return { handle, sent, closed, routerObserver };
}

describe('connector RoomHandle', () => {
  it('reports joins and tracks, and follows producer pause/resume/close by itself', () => {
    const { handle, sent } = setup();
    handle.participantJoined({ id: 'alice', displayName: 'Alice' });
    const cam = fakeProducer('cam-1', 'video');
    const mic = fakeProducer('mic-1', 'audio');
    handle.trackAdded('alice', cam);
    handle.trackAdded('alice', mic);
    handle.trackAdded('alice', cam); // duplicate: ignored
    cam.observer.emit('pause');
    cam.observer.emit('pause'); // no change: not re-sent
    cam.observer.emit('resume');
    mic.observer.emit('close');
    mic.observer.emit('pause'); // after close: no longer watched
    expect(sent.map((m) => `${m.type}${'trackId' in m ? ` ${m.trackId}` : ''}`)).toEqual([
      'participant.joined',
      'track.added',
      'track.added',
      'track.paused cam-1',
      'track.resumed cam-1',
      'track.removed mic-1',
    ]);
    expect(sent[1]).toMatchObject({ track: { id: 'cam-1', kind: 'video', source: 'camera', paused: false } });
    expect(sent[2]).toMatchObject({ track: { id: 'mic-1', kind: 'audio', source: 'mic' } });
    expect(handle.hasTrack('cam-1')).toBe(true);
    expect(handle.hasTrack('mic-1')).toBe(false);
  });

  it('the snapshot carries the full state for a resync', () => {
    const { handle } = setup();
    handle.participantJoined({ id: 'alice', displayName: 'Alice' });
    handle.participantJoined({ id: 'bob', displayName: 'Bob', excludedFromStream: true });
    handle.trackAdded('bob', fakeProducer('screen-1', 'video'), 'screen');
    handle.activeSpeaker('bob');
    handle.participantLeft('alice');
    expect(handle.snapshot(['pipe-1'])).toEqual({
      type: 'room.state',
      room: 'demo',
      participants: [
        {
          id: 'bob',
          displayName: 'Bob',
          excludedFromStream: true,
          tracks: [{ id: 'screen-1', kind: 'video', source: 'screen', paused: false }],
        },
      ],
      activeSpeaker: 'bob',
      pipes: ['pipe-1'],
    });
  });

  it('refuses tracks of unknown participants; closing (or the router closing) ends the room once', () => {
    const { handle, sent, closed, routerObserver } = setup();
    expect(() => handle.trackAdded('nobody', fakeProducer('x', 'video'))).toThrow(
      /unknown participant "nobody"/,
    );
    routerObserver.emit('close');
    handle.close('again');
    expect(closed).toEqual(['router closed']);
    expect(sent.at(-1)).toEqual({ type: 'room.closed', room: 'demo', reason: 'router closed' });
    expect(() => handle.participantJoined({ id: 'late', displayName: 'Late' })).toThrow(/closed/);
  });
});
