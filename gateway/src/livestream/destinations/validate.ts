import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress, isNumericHostTrick, type AddressClass } from './address.ts';

/**
 * Validation of an extra livestream destination (RTMP/RTMPS URL + optional stream key) and the
 * SSRF guard: the host is resolved and every address must be public, unless the config allows
 * private addresses or lists the host. Called when the destination is added AND before every
 * connection attempt (a DNS answer can change between the two: rebinding).
 */

export interface DestinationInput {
  /** rtmp://host[:port]/app[/streamKey][?query] or rtmps://… */
  url: string;
  /** Stream key, if not already part of url. Appended as the last path segment. */
  streamKey?: string;
}

export interface DestinationPolicy {
  allowPrivate: boolean;
  allowHosts: string[];
}

/** A validation failure; `field` names the request field ("url", "streamKey", …). */
export class DestinationError extends Error {
  constructor(
    message: string,
    readonly field: string,
    /** 'resolve' failures may be temporary (DNS); the others are permanent. */
    readonly kind: 'invalid' | 'resolve' | 'forbidden' = 'invalid',
  ) {
    super(message);
    this.name = 'DestinationError';
  }
}

export interface ParsedDestination {
  /** Full URL given to ffmpeg, key included. SECRET: never log it; use `display`. */
  url: string;
  protocol: 'rtmp' | 'rtmps';
  /** Hostname without brackets, lower case. */
  host: string;
  port: number;
  /** The URL with the key masked, for logs and the UI. */
  display: string;
  /** The stream key (from streamKey, or the last path segment of url). SECRET. */
  key: string;
}

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => {
  const all = await lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
};

const MAX_URL = 2048;
const MAX_KEY = 512;

/** Syntax only (no DNS). Throws DestinationError naming the field. */
export function parseDestination(input: DestinationInput): ParsedDestination {
  if (typeof input.url !== 'string' || input.url.trim() === '') {
    throw new DestinationError('url is required', 'url');
  }
  const raw = input.url.trim();
  if (raw.length > MAX_URL) throw new DestinationError(`url is longer than ${MAX_URL} characters`, 'url');
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw new DestinationError('url must not contain spaces', 'url');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DestinationError('url is not a valid URL', 'url');
  }
  const protocol = u.protocol.slice(0, -1).toLowerCase();
  if (protocol !== 'rtmp' && protocol !== 'rtmps') {
    throw new DestinationError('url must start with rtmp:// or rtmps://', 'url');
  }
  if (u.username || u.password) {
    throw new DestinationError(
      'url must not contain user:password@; put credentials in the stream key',
      'url',
    );
  }
  let host = u.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) throw new DestinationError('url has no host', 'url');
  if (isNumericHostTrick(host)) {
    throw new DestinationError(`url host "${host}" is not a canonical IP address or hostname`, 'url');
  }
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/.test(host)) {
    throw new DestinationError(`url host "${host}" is not a valid hostname`, 'url');
  }
  const port = u.port ? Number(u.port) : protocol === 'rtmps' ? 443 : 1935;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DestinationError('url port must be between 1 and 65535', 'url');
  }
  const segments = u.pathname.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw new DestinationError('url must include an application path (/app)', 'url');

  let key: string;
  let url: string;
  const streamKey = input.streamKey?.trim() ?? '';
  if (streamKey) {
    if (streamKey.length > MAX_KEY) {
      throw new DestinationError(`streamKey is longer than ${MAX_KEY} characters`, 'streamKey');
    }
    // eslint-disable-next-line no-control-regex
    if (/[\s\u0000-\u001f\u007f/]/.test(streamKey)) {
      throw new DestinationError('streamKey must not contain spaces or "/"', 'streamKey');
    }
    key = streamKey;
    url = `${raw.replace(/\/+$/, '')}/${streamKey}`;
  } else {
    if (segments.length < 2) {
      throw new DestinationError(
        'streamKey is required (the url has no stream name after /app)',
        'streamKey',
      );
    }
    key = decodeURIComponent(segments[segments.length - 1] ?? '');
    url = raw;
  }
  const shownPort = u.port ? `:${u.port}` : '';
  const shownHost = isIP(host) === 6 ? `[${host}]` : host;
  const appPath = streamKey ? segments.join('/') : segments.slice(0, -1).join('/');
  const display = `${protocol}://${shownHost}${shownPort}/${appPath}/[REDACTED]`;
  return { url, protocol, host, port, display, key };
}

export function hostIsAllowListed(host: string, policy: DestinationPolicy): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return policy.allowHosts.some((a) => a.toLowerCase().replace(/^\[|\]$/g, '') === h);
}

export interface CheckedAddress {
  address: string;
  class: AddressClass;
}

/**
 * Resolves the host and refuses it if any address is not public (a host with one public and
 * one private address could be steered to the private one). Returns the resolved addresses.
 */
export async function checkDestinationHost(
  dest: Pick<ParsedDestination, 'host'>,
  policy: DestinationPolicy,
  resolve: Resolver = systemResolver,
): Promise<CheckedAddress[]> {
  let addresses: string[];
  if (isIP(dest.host)) {
    addresses = [dest.host];
  } else {
    try {
      addresses = await resolve(dest.host);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      throw new DestinationError(`url host "${dest.host}" could not be resolved (${code})`, 'url', 'resolve');
    }
    if (addresses.length === 0) {
      throw new DestinationError(
        `url host "${dest.host}" could not be resolved (no address)`,
        'url',
        'resolve',
      );
    }
  }
  const checked = addresses.map((address) => ({ address, class: classifyAddress(address) }));
  if (policy.allowPrivate || hostIsAllowListed(dest.host, policy)) return checked;
  for (const c of checked) {
    if (c.class === 'public') continue;
    if (hostIsAllowListed(c.address, policy)) continue;
    throw new DestinationError(
      `url host "${dest.host}" resolves to a ${c.class} address (${c.address}); ` +
        'such destinations are refused unless destinations.allowPrivate or destinations.allowHosts allows them',
      'url',
      'forbidden',
    );
  }
  return checked;
}

/** parseDestination + checkDestinationHost. */
export async function validateDestination(
  input: DestinationInput,
  policy: DestinationPolicy,
  resolve: Resolver = systemResolver,
): Promise<ParsedDestination> {
  const parsed = parseDestination(input);
  await checkDestinationHost(parsed, policy, resolve);
  return parsed;
}
