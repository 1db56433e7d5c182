import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { signPanelToken, verifyPanelToken } from '../../gateway/src/connector/index.ts';

const SECRET = 'panel-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const NOW = 1_800_000_000;

const resign = (payload: object, secret = SECRET) => {
  const b64 = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${b64}.${createHmac('sha256', secret).update(`roomcast-panel/1.${b64}`).digest('base64url')}`;
};

describe('panel tokens', () => {
  it('round-trips room, role and expiry; the format is payload.signature in base64url', () => {
    const token = signPanelToken({ room: 'team-sync', role: 'moderator', ttlSeconds: 300 }, SECRET, NOW);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ v: 1, room: 'team-sync', role: 'moderator', iat: NOW, exp: NOW + 300 });
    // Documented signing rule (docs/sidecar.md) reproduces the signature.
    expect(resign(payload)).toBe(token);
    const r = verifyPanelToken(token, SECRET, { now: NOW + 10, room: 'team-sync' });
    expect(r).toEqual({ ok: true, claims: payload });
  });

  it('refuses a token signed with another secret (forged)', () => {
    const forged = signPanelToken(
      { room: 'team-sync', role: 'moderator' },
      'another-secret-0123456789abcdefghijklmnop',
      NOW,
    );
    const r = verifyPanelToken(forged, SECRET, { now: NOW });
    expect(r).toMatchObject({ ok: false, error: 'bad-signature' });
  });

  it('refuses a tampered payload (participant → moderator) even with the original signature', () => {
    const token = signPanelToken({ room: 'team-sync', role: 'participant' }, SECRET, NOW);
    const [payloadB64, sig] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payloadB64, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, role: 'moderator' })).toString('base64url')}.${sig}`;
    expect(verifyPanelToken(tampered, SECRET, { now: NOW })).toMatchObject({
      ok: false,
      error: 'bad-signature',
    });
    // A flipped signature character too.
    const flipped = `${payloadB64}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    expect(verifyPanelToken(flipped, SECRET, { now: NOW })).toMatchObject({
      ok: false,
      error: 'bad-signature',
    });
  });

  it('expired tokens are refused after the clock-skew allowance, accepted within it', () => {
    const token = signPanelToken({ room: 'r1', role: 'participant', ttlSeconds: 60 }, SECRET, NOW);
    expect(verifyPanelToken(token, SECRET, { now: NOW + 60 + 30 }).ok).toBe(true);
    expect(verifyPanelToken(token, SECRET, { now: NOW + 60 + 61 })).toMatchObject({
      ok: false,
      error: 'expired',
    });
    expect(verifyPanelToken(token, SECRET, { now: NOW + 61, clockSkewSeconds: 0 })).toMatchObject({
      ok: false,
      error: 'expired',
    });
  });

  it('refuses tokens from the future, too long-lived, for another room, or malformed', () => {
    const future = signPanelToken({ room: 'r1', role: 'participant' }, SECRET, NOW + 3600);
    expect(verifyPanelToken(future, SECRET, { now: NOW })).toMatchObject({
      ok: false,
      error: 'not-yet-valid',
    });
    const long = resign({
      v: 1,
      room: 'r1',
      role: 'moderator',
      iat: NOW,
      exp: NOW + 7 * 86400,
      jti: 'abcdefghij',
    });
    expect(verifyPanelToken(long, SECRET, { now: NOW })).toMatchObject({
      ok: false,
      error: 'too-long-lived',
    });
    const other = signPanelToken({ room: 'r1', role: 'moderator' }, SECRET, NOW);
    expect(verifyPanelToken(other, SECRET, { now: NOW, room: 'r2' })).toMatchObject({
      ok: false,
      error: 'wrong-room',
    });
    for (const bad of ['', 'abc', 'a.b.c', 42, null, `${'x'.repeat(3000)}.y`]) {
      expect(verifyPanelToken(bad, SECRET, { now: NOW })).toMatchObject({ ok: false, error: 'malformed' });
    }
    // Signed correctly but with a payload that is not valid claims.
    const junk = resign({ v: 1, room: 'R!', role: 'admin', iat: NOW, exp: NOW + 60, jti: 'abcdefghij' });
    expect(verifyPanelToken(junk, SECRET, { now: NOW })).toMatchObject({ ok: false, error: 'malformed' });
  });

  it('signing refuses bad input and a short secret', () => {
    expect(() => signPanelToken({ room: 'r1', role: 'moderator' }, 'short', NOW)).toThrow(/>= 32/);
    expect(() => signPanelToken({ room: 'Bad Room', role: 'moderator' }, SECRET, NOW)).toThrow(/room/);
    expect(() => signPanelToken({ room: 'r1', role: 'moderator', exp: NOW - 1 }, SECRET, NOW)).toThrow(
      /past/,
    );
    expect(() =>
      signPanelToken({ room: 'r1', role: 'moderator', ttlSeconds: 2 * 86400 }, SECRET, NOW),
    ).toThrow(/lifetime/);
  });
});
