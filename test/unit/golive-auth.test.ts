import { describe, expect, it } from 'vitest';
import { ApiAuth, LocalPanelTokens, bearerToken } from '../../gateway/src/api/auth.ts';
import { HttpError } from '../../gateway/src/api/http-common.ts';

const KEY = 'server-api-key-0123456789abcdef';
const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } });

describe('ApiAuth', () => {
  const tokens = new LocalPanelTokens();
  const auth = new ApiAuth({
    apiKeys: [KEY],
    isModerator: (room, token) => room === 'r1' && token === 'moderator-token-of-r1',
    verifiers: [tokens.verifier],
  });
  const status = (fn: () => unknown) => {
    try {
      fn();
      return 200;
    } catch (err) {
      return err instanceof HttpError ? err.status : -1;
    }
  };

  it('reads only well-formed bearer headers', () => {
    expect(bearerToken(req('Bearer abc'))).toBe('abc');
    expect(bearerToken(req('bearer  abc '))).toBe('abc');
    expect(bearerToken(req('Basic abc'))).toBeUndefined();
    expect(bearerToken(req('Bearer a b'))).toBeUndefined();
    expect(bearerToken(req())).toBeUndefined();
  });

  it('API keys and room moderator tokens are moderators; nothing/unknown is 401', () => {
    expect(auth.authenticate(req(`Bearer ${KEY}`), 'any-room')).toEqual({
      role: 'moderator',
      actor: 'api-key',
    });
    expect(auth.authenticate(req('Bearer moderator-token-of-r1'), 'r1').role).toBe('moderator');
    expect(status(() => auth.authenticate(req('Bearer moderator-token-of-r1'), 'r2'))).toBe(401);
    expect(status(() => auth.authenticate(req(), 'r1'))).toBe(401);
    expect(status(() => auth.authenticate(req('Bearer nope'), 'r1'))).toBe(401);
  });

  it('panel tokens carry their role and room; participants are refused moderator actions (403)', () => {
    const p = auth.authenticate(req(`Bearer ${tokens.mint('r1', 'participant')}`), 'r1');
    expect(p.role).toBe('participant');
    expect(status(() => ApiAuth.requireModerator(p))).toBe(403);
    const m = auth.authenticate(req(`Bearer ${tokens.mint('r1', 'moderator')}`), 'r1');
    expect(status(() => ApiAuth.requireModerator(m))).toBe(200);
    // Another room's token, another gateway's token, a tampered token: 401.
    expect(status(() => auth.authenticate(req(`Bearer ${tokens.mint('r2', 'moderator')}`), 'r1'))).toBe(401);
    expect(
      status(() => auth.authenticate(req(`Bearer ${new LocalPanelTokens().mint('r1', 'moderator')}`), 'r1')),
    ).toBe(401);
    const t = tokens.mint('r1', 'participant');
    const forged = `${Buffer.from(JSON.stringify({ v: 1, room: 'r1', role: 'moderator', iat: 1, exp: 2, jti: 'xxxxxxxxxx' })).toString('base64url')}.${t.split('.')[1]}`;
    expect(status(() => auth.authenticate(req(`Bearer ${forged}`), 'r1'))).toBe(401);
    expect(() => auth.authenticate(req(`Bearer ${forged}`), 'r1')).toThrow(
      /invalid credentials: panel token refused, the signature/,
    );
  });

  it('an API key is recognised for server-wide endpoints only when configured', () => {
    expect(auth.isApiKey(KEY)).toBe(true);
    expect(auth.isApiKey('x')).toBe(false);
    expect(new ApiAuth({ apiKeys: [], isModerator: () => false }).isApiKey('')).toBe(false);
  });
});
