import { describe, expect, it } from 'vitest';
import {
  coreParams,
  MAX_MESSAGE_BYTES,
  parseParams,
  parseRequest,
} from '../../gateway/src/conference/protocol.ts';
import {
  checkRoomName,
  cleanDisplayName,
  normalizeRoomInput,
} from '../../gateway/src/conference/room-name.ts';
import { newModeratorToken, tokenEquals, tokenMatchesAny } from '../../gateway/src/conference/moderators.ts';
import { resolveAnnouncedAddress } from '../../gateway/src/conference/announced-address.ts';

describe('signaling message validation', () => {
  it('accepts a well-formed request', () => {
    expect(parseRequest('{"id":3,"method":"join","data":{"room":"a"}}')).toEqual({
      ok: true,
      id: 3,
      method: 'join',
      data: { room: 'a' },
    });
  });

  it('malformed JSON → bad_json with a null id', () => {
    const r = parseRequest('{"id":1,');
    expect(r).toMatchObject({ ok: false, id: null, error: { code: 'bad_json' } });
  });

  it.each([
    ['"a string"', null, '(message)'],
    ['null', null, '(message)'],
    ['{"method":"join"}', null, 'id'],
    ['{"id":-1,"method":"join"}', -1, 'id'],
    ['{"id":7,"method":""}', 7, 'method'],
    ['{"id":7,"method":"join","data":[1]}', 7, 'data'],
    ['{"id":7,"method":"join","extra":1}', 7, 'extra'],
  ])('bad envelope %s → bad_request naming the field', (raw, id, field) => {
    const r = parseRequest(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.id).toBe(id);
    expect(r.error.code).toBe('bad_request');
    expect(r.error.message).toContain(field);
  });

  it('params errors name the method and the field', () => {
    const r = parseParams('produce', coreParams.produce, {
      transportId: 't',
      kind: 'video',
      rtpParameters: {},
      appData: { source: 'webcam' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad_params');
    expect(r.error.message).toMatch(/^produce: appData\.source/);
  });

  it('stream.setExcluded needs a boolean', () => {
    expect(parseParams('x', coreParams['stream.setExcluded'], { excluded: 'yes' }).ok).toBe(false);
    expect(parseParams('x', coreParams['stream.setExcluded'], { excluded: true })).toEqual({
      ok: true,
      value: { excluded: true },
    });
  });

  it('the message size limit leaves room for a browser rtpCapabilities but not for abuse', () => {
    expect(MAX_MESSAGE_BYTES).toBeGreaterThanOrEqual(64 * 1024);
    expect(MAX_MESSAGE_BYTES).toBeLessThanOrEqual(1024 * 1024);
  });
});

describe('room names', () => {
  it.each(['a', 'team-sync', 'room_1', 'x'.repeat(64)])('%s is valid', (name) => {
    expect(checkRoomName(name)).toEqual({ ok: true, name });
  });

  it.each([
    ['', 'Enter a room name'],
    ['x'.repeat(65), 'too long (65'],
    ['Team', 'contains "T"'],
    ['a/b', 'contains "/"'],
    ['a b', 'contains " "'],
    ['ü', 'contains "ü"'],
  ])('%j is refused with a clear message', (name, msg) => {
    const r = checkRoomName(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(msg);
  });

  it('the lobby normalises typed input', () => {
    expect(normalizeRoomInput('  Team Sync ')).toBe('team-sync');
  });

  it('display names are trimmed, bounded and stripped of control characters', () => {
    expect(cleanDisplayName('  Ada\u0000\n ')).toBe('Ada');
    expect(cleanDisplayName('x'.repeat(100))).toHaveLength(40);
  });
});

describe('moderator tokens', () => {
  it('are random and URL-safe', () => {
    const a = newModeratorToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newModeratorToken()).not.toBe(a);
  });

  it('compare equal only when identical, whatever the lengths', () => {
    expect(tokenEquals('abc', 'abc')).toBe(true);
    expect(tokenEquals('abc', 'abd')).toBe(false);
    expect(tokenEquals('abc', 'abcd')).toBe(false);
    expect(tokenMatchesAny('b'.repeat(20), ['a'.repeat(20), 'b'.repeat(20)])).toBe(true);
    expect(tokenMatchesAny('c'.repeat(20), ['a'.repeat(20)])).toBe(false);
    expect(tokenMatchesAny('x', [])).toBe(false);
  });
});

describe('announced address', () => {
  const ifaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: 'fe80::1', family: 'IPv6', internal: false },
      { address: '10.1.2.3', family: 'IPv4', internal: false },
    ],
  } as unknown as Parameters<typeof resolveAnnouncedAddress>[2];

  it('configured value wins', () => {
    expect(resolveAnnouncedAddress('meet.example.org', '0.0.0.0', ifaces)).toBe('meet.example.org');
  });
  it('wildcard listen → first non-internal IPv4', () => {
    expect(resolveAnnouncedAddress('', '0.0.0.0', ifaces)).toBe('10.1.2.3');
  });
  it('wildcard listen and only loopback → 127.0.0.1', () => {
    expect(resolveAnnouncedAddress('', '0.0.0.0', { lo: ifaces!.lo })).toBe('127.0.0.1');
  });
  it('concrete listen ip → announce it as is', () => {
    expect(resolveAnnouncedAddress('', '127.0.0.1', ifaces)).toBeUndefined();
  });
});
