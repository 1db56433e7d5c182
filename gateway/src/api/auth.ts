import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { tokenMatchesAny } from '../conference/moderators.ts';
import { signPanelToken, verifyPanelToken, type PanelRole } from '../sidecar/panel-token.ts';
import { HttpError } from './http-common.ts';

/**
 * Who may call the room APIs. `Authorization: Bearer <credential>` where the credential is
 *  - a server API key (config.api.keys): moderator of every room;
 *  - the room's moderator token (room creator's, or config.conference.moderators);
 *  - a token accepted by a pluggable verifier: the panel tokens the gateway mints for meeting
 *    participants (below) and, in sidecar mode, tokens the existing app signs.
 * No/unknown credential → 401; a valid credential without the needed role → 403.
 */

export type Role = PanelRole;

export interface Principal {
  role: Role;
  /** For logs/audit; never the credential itself. */
  actor: string;
}

/**
 * A verifier returns a principal for tokens it recognises, `null` for tokens that are not its
 * kind (the next verifier is asked) and throws HttpError(401) for its own tokens that are bad.
 */
export type TokenVerifier = (token: string, room: string) => Principal | null;

export interface ApiAuthOptions {
  apiKeys: readonly string[];
  /** The room's moderator tokens (the embedded conference's check). */
  isModerator: (room: string, token: string) => boolean;
  verifiers?: TokenVerifier[];
}

const PANEL_TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer\s+([\x21-\x7e]{1,4096})$/i;

export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  return BEARER.exec(h.trim())?.[1];
}

export class ApiAuth {
  private readonly verifiers: TokenVerifier[];

  constructor(private readonly opts: ApiAuthOptions) {
    this.verifiers = [...(opts.verifiers ?? [])];
  }

  /** Adds a verifier (the sidecar registers its signed panel tokens here). */
  addVerifier(v: TokenVerifier): void {
    this.verifiers.push(v);
  }

  /** Is this an API key (for server-wide endpoints such as /metrics)? */
  isApiKey(token: string | undefined): boolean {
    return token !== undefined && this.opts.apiKeys.length > 0 && tokenMatchesAny(token, this.opts.apiKeys);
  }

  /** Authenticates for `room`; throws 401 when there is no usable credential. */
  authenticate(req: Pick<Request, 'headers'>, room: string): Principal {
    const token = bearerToken(req);
    if (!token)
      throw new HttpError(
        401,
        'Authorization: Bearer <moderator token or API key> is required',
        'authorization',
      );
    if (this.isApiKey(token)) return { role: 'moderator', actor: 'api-key' };
    if (this.opts.isModerator(room, token)) return { role: 'moderator', actor: 'moderator-token' };
    for (const v of this.verifiers) {
      const p = v(token, room);
      if (p) return p;
    }
    // Shaped like a signed panel token but no verifier accepted it: say so (app-side bug).
    if (PANEL_TOKEN_SHAPE.test(token))
      throw new HttpError(
        401,
        'invalid credentials: panel token refused, the signature does not match (wrong secret, tampered token, or sidecar mode off)',
        'authorization',
      );
    throw new HttpError(401, 'invalid credentials for this room', 'authorization');
  }

  /** 403 unless moderator. */
  static requireModerator(p: Principal): void {
    if (p.role !== 'moderator') throw new HttpError(403, 'only moderators may do this', 'authorization');
  }
}

/**
 * Short-lived panel tokens the gateway itself mints for peers of its embedded meetings (so a
 * participant's panel can read the status without holding a moderator secret). Same format as
 * the sidecar's app-signed tokens (docs/sidecar.md), signed with a per-process random secret.
 */
export class LocalPanelTokens {
  private readonly secret = randomBytes(32).toString('base64url');

  mint(room: string, role: Role, ttlSeconds = 3600): string {
    return signPanelToken({ room, role, ttlSeconds }, this.secret);
  }

  /** Verifier for ApiAuth: our own tokens only (other panel tokens fail the signature → null). */
  readonly verifier: TokenVerifier = (token, room) => {
    const r = verifyPanelToken(token, this.secret, { room });
    if (r.ok) return { role: r.claims.role, actor: `panel:${r.claims.role}` };
    if (r.error === 'bad-signature' || r.error === 'malformed') return null;
    throw new HttpError(401, `panel token refused: ${r.message}`, 'authorization');
  };
}
