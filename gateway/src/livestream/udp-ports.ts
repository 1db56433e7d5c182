import { createSocket } from 'node:dgram';

/**
 * RTP/RTCP port pairs for decoder receivers. Probed by binding (then released for ffmpeg to
 * bind), and reserved in-process so two livestreams of this gateway never pick the same pair.
 */
const reserved = new Set<number>();
const RANGE_START = 30000;
const RANGE_PAIRS = 9000;

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function allocatePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = RANGE_START + 2 * Math.floor(Math.random() * RANGE_PAIRS);
    if (reserved.has(base)) continue;
    reserved.add(base);
    if ((await udpFree(base)) && (await udpFree(base + 1))) return base;
    reserved.delete(base);
  }
  throw new Error('no free UDP port pair for a decoder');
}

export function releasePortPair(base: number): void {
  reserved.delete(base);
}
