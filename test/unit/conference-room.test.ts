import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { types as ms } from 'mediasoup';
import pino from 'pino';
import { Room } from '../../gateway/src/conference/room.ts';
import { Peer, RequestError } from '../../gateway/src/conference/peer.ts';
import type { Notification } from '../../gateway/src/conference/protocol.ts';

// Room/peer lifecycle against a fake router (the real-router path is covered by
// test/integration/conference-signaling.test.ts): who is told what, and when the room closes.

function fakeRouter() {
  const observer = new EventEmitter();
  const router = {
    closed: false,
    observer,
    rtpCapabilities: { codecs: [] },
    async createActiveSpeakerObserver() {
      return Object.assign(new EventEmitter(), { addProducer: async () => {} });
    },
    close() {
      if (router.closed) return;
      router.closed = true;
      observer.emit('close');
    },
  };
  return router;
}

function peer(id: string) {
  const inbox: Notification[] = [];
  return { peer: new Peer(id, id.toUpperCase(), (m) => inbox.push(m)), inbox };
}

const GRACE = 10_000;

describe('Room lifecycle', () => {
  let router: ReturnType<typeof fakeRouter>;
  let room: Room;

  beforeEach(async () => {
    vi.useFakeTimers();
    router = fakeRouter();
    room = await Room.create({
      name: 'r1',
      router: router as unknown as ms.Router,
      creatorToken: 'tok',
      graceMs: GRACE,
      webrtc: { listenIp: '127.0.0.1', announcedAddress: undefined },
      logger: pino({ level: 'silent' }),
    });
  });
  afterEach(() => {
    room.close();
    vi.useRealTimers();
  });

  it('tells the others (not the newcomer) about a join, and the remaining peers about a leave', () => {
    const a = peer('a');
    const b = peer('b');
    room.join(a.peer);
    room.join(b.peer);
    expect(a.inbox.map((m) => m.method)).toEqual(['peerJoined']);
    expect(a.inbox[0]!.data).toMatchObject({ id: 'b', displayName: 'B', producers: [] });
    expect(b.inbox).toEqual([]);
    expect(room.peerViews('b').map((p) => p.id)).toEqual(['a']);

    room.leave(b.peer);
    expect(b.peer.closed).toBe(true);
    expect(a.inbox.at(-1)).toEqual({ notification: true, method: 'peerLeft', data: { peerId: 'b' } });
    expect([...room.peers.keys()]).toEqual(['a']);
  });

  it('closes its transports when a peer leaves', () => {
    const a = peer('a');
    room.join(a.peer);
    const close = vi.fn();
    a.peer.transports.set('t1', { close } as unknown as ms.WebRtcTransport);
    room.leave(a.peer);
    expect(close).toHaveBeenCalledOnce();
    expect(a.peer.transports.size).toBe(0);
  });

  it('closes (router released) a grace period after the last peer leaves', () => {
    const closed = vi.fn();
    room.on('closed', closed);
    const a = peer('a');
    room.join(a.peer);
    vi.advanceTimersByTime(GRACE * 3);
    expect(room.closed).toBe(false); // occupied rooms never time out
    room.leave(a.peer);
    vi.advanceTimersByTime(GRACE - 1);
    expect(room.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(room.closed).toBe(true);
    expect(router.closed).toBe(true);
    expect(closed).toHaveBeenCalledWith('empty');
  });

  it('stays open when someone rejoins within the grace period', () => {
    const a = peer('a');
    room.join(a.peer);
    room.leave(a.peer);
    vi.advanceTimersByTime(GRACE / 2);
    const b = peer('b');
    room.join(b.peer);
    vi.advanceTimersByTime(GRACE * 2);
    expect(room.closed).toBe(false);
  });

  it('a room nobody joins closes after the grace period too', () => {
    vi.advanceTimersByTime(GRACE);
    expect(room.closed).toBe(true);
  });

  it('a router closed underneath (worker died) closes the room and tells the peers', () => {
    const a = peer('a');
    room.join(a.peer);
    router.close();
    expect(room.closed).toBe(true);
    expect(a.inbox.at(-1)).toMatchObject({ method: 'roomClosed' });
    expect(a.peer.closed).toBe(true);
    expect(() => room.join(peer('c').peer)).toThrow(RequestError);
  });

  it('peer updates (name, stream opt-out) are broadcast and emitted', () => {
    const a = peer('a');
    const b = peer('b');
    room.join(a.peer);
    room.join(b.peer);
    const updated = vi.fn();
    room.on('peerUpdated', updated);
    room.updatePeer(b.peer, { excludedFromStream: true });
    expect(updated).toHaveBeenCalledWith(b.peer);
    expect(a.inbox.at(-1)).toMatchObject({
      method: 'peerUpdated',
      data: { id: 'b', excludedFromStream: true },
    });
  });

  it('refuses a track whose kind does not match its source, before touching mediasoup', async () => {
    const a = peer('a');
    room.join(a.peer);
    await expect(room.produce(a.peer, 'nope', 'audio', { codecs: [] }, 'camera')).rejects.toThrow(
      "a 'camera' track must be video, not audio",
    );
    await expect(room.produce(a.peer, 'nope', 'video', { codecs: [] }, 'camera')).rejects.toThrow(
      'no transport nope',
    );
  });

  it('notifications to a closed peer are dropped', () => {
    const a = peer('a');
    a.peer.close();
    a.peer.send({ notification: true, method: 'x', data: {} });
    expect(a.inbox).toEqual([]);
  });
});
