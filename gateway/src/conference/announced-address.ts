import os from 'node:os';

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * What WebRTC transports announce to browsers (mediasoup is ICE-lite: it never discovers its
 * public address). Configured value wins; with a wildcard listen ip the first non-internal IPv4
 * is guessed, else loopback; with a concrete listen ip, that ip is announced as is.
 */
export function resolveAnnouncedAddress(
  configured: string,
  listenIp: string,
  interfaces: Interfaces = os.networkInterfaces(),
): string | undefined {
  if (configured) return configured;
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return undefined;
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}
