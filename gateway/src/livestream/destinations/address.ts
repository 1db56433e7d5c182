import { isIP } from 'node:net';

/**
 * Classification of IP addresses for the destination allow-list (SSRF guard). Pure: no DNS.
 * We parse addresses ourselves instead of relying on net.BlockList so IPv4-mapped, NAT64 and
 * 6to4 IPv6 forms are judged by the IPv4 address they embed.
 */

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'invalid';

/** CIDR blocks that are never a legitimate public RTMP ingest. */
const V4_RANGES: Array<[number, number, AddressClass]> = [
  [ip4('0.0.0.0'), 8, 'unspecified'],
  [ip4('10.0.0.0'), 8, 'private'],
  [ip4('100.64.0.0'), 10, 'cgnat'],
  [ip4('127.0.0.0'), 8, 'loopback'],
  [ip4('169.254.0.0'), 16, 'link-local'],
  [ip4('172.16.0.0'), 12, 'private'],
  [ip4('192.0.0.0'), 24, 'reserved'],
  [ip4('192.0.2.0'), 24, 'documentation'],
  [ip4('192.88.99.0'), 24, 'reserved'],
  [ip4('192.168.0.0'), 16, 'private'],
  [ip4('198.18.0.0'), 15, 'reserved'],
  [ip4('198.51.100.0'), 24, 'documentation'],
  [ip4('203.0.113.0'), 24, 'documentation'],
  [ip4('224.0.0.0'), 4, 'multicast'],
  [ip4('240.0.0.0'), 4, 'reserved'],
];

function ip4(a: string): number {
  const p = a.split('.').map(Number);
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

export function classifyIPv4(address: string): AddressClass {
  if (isIP(address) !== 4) return 'invalid';
  const n = ip4(address);
  for (const [base, bits, cls] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return cls;
  }
  return 'public';
}

/** Expands an IPv6 literal (with optional embedded IPv4 tail, no zone) to 8 16-bit groups. */
export function expandIPv6(address: string): number[] | null {
  let addr = address;
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  if (isIP(addr) !== 6) return null;
  const lastColon = addr.lastIndexOf(':');
  const last = addr.slice(lastColon + 1);
  if (last.includes('.')) {
    // Rewrite the dotted IPv4 tail as two hex groups, then parse as plain IPv6.
    const v4 = ip4(last);
    addr = `${addr.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = addr.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const missing = 8 - h.length - r.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  return [...h, ...new Array<number>(missing).fill(0), ...r];
}

function v4FromGroups(hi: number, lo: number): string {
  return `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
}

export function classifyIPv6(address: string): AddressClass {
  const g = expandIPv6(address);
  if (!g || g.length !== 8) return 'invalid';
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped): judged as the IPv4 address it maps to.
  if (zeroPrefix && g5 === 0xffff) return classifyIPv4(v4FromGroups(g6, g7));
  // ::a.b.c.d (deprecated IPv4-compatible) and other ::/96 forms: never a real destination.
  if (zeroPrefix && g5 === 0) return 'reserved';
  // 64:ff9b::/96 NAT64 and 2002::/16 6to4 embed an IPv4 address that a gateway would reach.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIPv4(v4FromGroups(g6, g7));
  }
  if (g0 === 0x2002) return classifyIPv4(v4FromGroups(g1, g2));
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  if (g0 === 0x2001 && g1 === 0x0db8) return 'documentation'; // 2001:db8::/32
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // 100::/64 discard
  if (g0 === 0x2001 && g1 < 0x200) return 'reserved'; // 2001::/23 IETF protocol assignments (Teredo, …)
  return 'public';
}

export function classifyAddress(address: string): AddressClass {
  const v = isIP(address.split('%')[0] ?? '');
  if (v === 4) return classifyIPv4(address);
  if (v === 6) return classifyIPv6(address);
  return 'invalid';
}

/**
 * True for host strings that are not a canonical IP literal but that resolvers (inet_aton)
 * still turn into an address: "2130706433", "0x7f.1", "0177.0.0.1", "127.1". Refused outright:
 * no legitimate ingest URL is written like that, and they are the classic filter bypasses.
 */
export function isNumericHostTrick(host: string): boolean {
  if (isIP(host) !== 0) return false;
  return /^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$/i.test(host);
}
