import { describe, expect, it } from 'vitest';
import {
  helloMac,
  macEquals,
  newNonce,
  parseAppMessage,
  parseGatewayMessage,
  parseHello,
  welcomeMac,
} from '../../gateway/src/sidecar/protocol.ts';

const SECRET = 'sidecar-secret-0123456789abcdefghijklmnop';
const j = (o: unknown) => JSON.stringify(o);

describe('sidecar protocol', () => {
  it('accepts each well-formed app message', () => {
    const track = { id: 'p1', kind: 'video', source: 'camera', paused: false };
    const ok = [
      {
        type: 'room.state',
        room: 'demo',
        participants: [{ id: 'a', displayName: 'A', tracks: [track] }],
        activeSpeaker: null,
      },
      { type: 'participant.joined', room: 'demo', participant: { id: 'a', displayName: 'A' } },
      {
        type: 'participant.updated',
        room: 'demo',
        participantId: 'a',
        displayName: 'B',
        excludedFromStream: true,
      },
      { type: 'participant.left', room: 'demo', participantId: 'a' },
      { type: 'track.added', room: 'demo', participantId: 'a', track },
      { type: 'track.removed', room: 'demo', participantId: 'a', trackId: 'p1' },
      { type: 'track.paused', room: 'demo', participantId: 'a', trackId: 'p1' },
      { type: 'track.resumed', room: 'demo', participantId: 'a', trackId: 'p1' },
      { type: 'speaker', room: 'demo', participantId: null },
      { type: 'room.closed', room: 'demo', reason: 'bye' },
      {
        type: 'pipe.opened',
        reqId: 3,
        result: {
          ip: '127.0.0.1',
          port: 40000,
          kind: 'video',
          paused: false,
          rtpParameters: {
            codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
            encodings: [{ ssrc: 1 }],
          },
        },
      },
      { type: 'pipe.failed', reqId: 3, error: 'no such producer' },
    ];
    for (const m of ok) {
      const r = parseAppMessage(j(m));
      expect(r.ok, `${m.type}: ${r.ok ? '' : r.error}`).toBe(true);
    }
    // Defaults are filled in: a joined participant has no tracks and is shown.
    const joined = parseAppMessage(j(ok[1]));
    expect(joined.ok && joined.message).toMatchObject({
      participant: { tracks: [], excludedFromStream: false },
    });
  });

  it('refuses malformed messages with the field named', () => {
    const cases: [unknown, RegExp][] = [
      ['not json', /not valid JSON/],
      [{ type: 'nope', room: 'demo' }, /type/],
      [
        { type: 'room.state', room: 'Demo Room', participants: [], activeSpeaker: null },
        /^invalid message: room: room names/,
      ],
      [{ type: 'participant.left', room: 'demo' }, /participantId/],
      [
        {
          type: 'track.added',
          room: 'demo',
          participantId: 'a',
          track: { id: 'p', kind: 'data', source: 'camera', paused: false },
        },
        /track\.kind/,
      ],
      [{ type: 'speaker', room: 'demo', participantId: 'a', extra: 1 }, /extra|Unrecognized/i],
      [
        {
          type: 'pipe.opened',
          reqId: 1,
          result: { ip: '1.2.3.4', port: 70000, kind: 'video', paused: false, rtpParameters: { codecs: [] } },
        },
        /result\.port/,
      ],
      [
        { type: 'participant.joined', room: 'demo', participant: { id: 'x'.repeat(200), displayName: 'A' } },
        /participant\.id/,
      ],
    ];
    for (const [msg, re] of cases) {
      const r = parseAppMessage(typeof msg === 'string' ? msg : j(msg));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(re);
    }
  });

  it('parses gateway messages and refuses unknown ones', () => {
    expect(parseGatewayMessage(j({ type: 'challenge', v: 1, nonce: newNonce() })).ok).toBe(true);
    expect(
      parseGatewayMessage(
        j({
          type: 'pipe.open',
          reqId: 1,
          room: 'demo',
          trackId: 't',
          pipeId: 'p',
          gateway: { ip: '127.0.0.1', port: 4000 },
        }),
      ).ok,
    ).toBe(true);
    expect(parseGatewayMessage(j({ type: 'challenge', v: 2, nonce: newNonce() })).ok).toBe(false);
    expect(parseGatewayMessage(j({ type: 'shell', cmd: 'rm' })).ok).toBe(false);
  });

  it('handshake MACs bind both nonces, the app name and the secret', () => {
    const s = newNonce();
    const c = newNonce();
    const mac = helloMac(SECRET, s, c, 'app');
    expect(mac).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(macEquals(mac, helloMac(SECRET, s, c, 'app'))).toBe(true);
    expect(macEquals(mac, helloMac(SECRET, newNonce(), c, 'app'))).toBe(false); // replay on a new challenge
    expect(macEquals(mac, helloMac(SECRET, s, c, 'other'))).toBe(false);
    expect(macEquals(mac, helloMac(`${SECRET}x`, s, c, 'app'))).toBe(false);
    expect(macEquals(mac, welcomeMac(SECRET, c, s))).toBe(false); // the two directions differ
    expect(macEquals(mac, mac.slice(1))).toBe(false);
    const hello = parseHello(j({ type: 'hello', v: 1, appName: 'app', nonce: c, mac }));
    expect(hello.ok).toBe(true);
    expect(parseHello(j({ type: 'hello', v: 1, appName: 'app', nonce: 'short', mac })).ok).toBe(false);
  });
});
