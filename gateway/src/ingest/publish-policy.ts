// Pure decisions of the ingest: who may publish and who may play from the hub.

export interface PublishRequest {
  app: string;
  streamName: string;
}

export type PublishDecision<R> =
  { ok: true; record: R } | { ok: false; reason: 'wrong_app' | 'invalid_key' | 'already_live' };

export function decidePublish<R extends { room: string }>(
  req: PublishRequest,
  app: string,
  lookup: (key: string) => R | undefined,
  isLive: (room: string) => boolean,
): PublishDecision<R> {
  if (req.app !== app) return { ok: false, reason: 'wrong_app' };
  const record = lookup(req.streamName);
  if (!record) return { ok: false, reason: 'invalid_key' };
  if (isLive(record.room)) return { ok: false, reason: 'already_live' };
  return { ok: true, record };
}

/** Loopback in any spelling Node reports (IPv4, IPv6, IPv4-mapped IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/**
 * Playing RTMP from the hub is for the gateway's own readers (HLS packager, relays, recorder),
 * which connect from this host: loopback, or the host's own address when the hub is bound to a
 * specific interface. Viewers use HLS; nobody else may play (a play URL contains the stream key).
 */
export function mayPlay(remoteAddress: string | undefined, localAddress: string | undefined): boolean {
  if (isLoopback(remoteAddress)) return true;
  return Boolean(remoteAddress) && remoteAddress === localAddress;
}
