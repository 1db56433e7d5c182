import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DestinationSet } from '../../gateway/src/livestream/destinations/destination-set.ts';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { waitFor } from '../helpers/net.ts';

describe('DNS rebinding', () => {
  it('re-checks the address before connecting: a name that turns private fails the relay, no ffmpeg starts', async () => {
    let calls = 0;
    const set = new DestinationSet({
      sourceUrl: 'rtmp://127.0.0.1:1/live/x',
      config: { allowPrivate: false, allowHosts: [], maxPerLivestream: 5 },
      logger: pino({ level: 'silent' }),
      // First answer (validation at add time) is public; the next one (connect time) is loopback.
      resolve: async () => (calls++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
    });
    const failed: string[] = [];
    set.on('failed', (s) => failed.push(s.lastError ?? ''));
    const before = OwnedProcess.liveProcesses().length;
    const status = await set.add({ url: 'rtmp://rebind.example/app', streamKey: 'k3y' }, 'r');
    expect(status.display).toBe('rtmp://rebind.example/app/[REDACTED]');
    await waitFor('relay failed', () => set.get('r')?.state === 'failed', 5000);
    expect(calls).toBe(2);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/loopback address \(127\.0\.0\.1\)/);
    expect(OwnedProcess.liveProcesses().length).toBe(before);
    await set.close();
  });

  it('treats a DNS failure at connect time as temporary (retrying, not failed)', async () => {
    let calls = 0;
    const set = new DestinationSet({
      sourceUrl: 'rtmp://127.0.0.1:1/live/x',
      config: { allowPrivate: false, allowHosts: [], maxPerLivestream: 5 },
      logger: pino({ level: 'silent' }),
      resolve: async () => {
        if (calls++ === 0) return ['93.184.216.34'];
        throw Object.assign(new Error('temporary failure'), { code: 'EAI_AGAIN' });
      },
      relay: { backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 } },
    });
    await set.add({ url: 'rtmp://flaky.example/app/key' }, 'f');
    await waitFor('relay retrying', () => set.get('f')?.state === 'retrying', 5000);
    expect(set.get('f')?.lastError).toContain('EAI_AGAIN');
    await set.close();
    expect(set.size).toBe(0);
  });
});
