import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { DestinationSet } from '../../gateway/src/livestream/destinations/destination-set.ts';
import { DestinationError } from '../../gateway/src/livestream/destinations/validate.ts';
import type { RelayState } from '../../gateway/src/livestream/destinations/relay.ts';
import { REDACT_PATHS } from '../../gateway/src/log/logger.ts';
import type { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { probe } from '../helpers/ffprobe.ts';
import {
  startRtmpListener,
  startTestHub,
  startTestPublisher,
  type TestHub,
} from '../helpers/livestream-hub.ts';
import { freeTcpPort, waitFor } from '../helpers/net.ts';

// Two extra destinations (ffmpeg RTMP listeners on loopback) fed from a real node-media-server
// hub. One listener is killed and restarted; the other must not notice.

const DEST_KEY = 'destkey'; // the listeners' stream name; must never reach the logs
let hub: TestHub;
let publisher: OwnedProcess;
let dir: string;
const logLines: string[] = [];
const logger = pino(
  { level: 'debug', redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } },
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  }),
);

async function size(file: string): Promise<number> {
  return await stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roomcast-dest-'));
  hub = await startTestHub();
  publisher = startTestPublisher(hub.url('hubkey123'));
});

afterAll(async () => {
  await publisher?.stop();
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('DestinationSet with real relays', () => {
  it('relays to two destinations; one reconnects after its listener dies, the other is untouched', async () => {
    const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
    const f1 = join(dir, 'd1.flv');
    const f1b = join(dir, 'd1b.flv');
    const f2 = join(dir, 'd2.flv');
    let listener1 = startRtmpListener(p1, f1);
    const listener2 = startRtmpListener(p2, f2);
    const set = new DestinationSet({
      sourceUrl: hub.url('hubkey123'),
      config: { allowPrivate: false, allowHosts: ['127.0.0.1'], maxPerLivestream: 2 },
      logger,
      relay: { backoff: { baseMs: 300, maxMs: 1500, jitter: 0.2 }, ioTimeoutMs: 5000 },
    });
    const states = new Map<string, RelayState[]>();
    set.on('state', (s) => {
      const l = states.get(s.id) ?? [];
      if (l[l.length - 1] !== s.state) l.push(s.state);
      states.set(s.id, l);
    });
    try {
      await set.add({ url: `rtmp://127.0.0.1:${p1}/app`, streamKey: DEST_KEY }, 'one');
      await set.add({ url: `rtmp://127.0.0.1:${p2}/app/${DEST_KEY}` }, 'two');
      await expect(set.add({ url: `rtmp://127.0.0.1:${p2}/app/x` })).rejects.toMatchObject({
        field: 'destinations',
      });

      await waitFor('both relays live', () => set.list().every((s) => s.state === 'live'), 30_000);
      await waitFor('bytes at destination 1', async () => (await size(f1)) > 20_000, 20_000);

      // Destination 1 goes away.
      listener1.killNow();
      await listener1.waitForExit();
      await waitFor('relay one retrying', () => set.get('one')?.state === 'retrying', 20_000);
      expect(set.get('one')?.lastError).toBeTruthy();

      // Meanwhile destination 2 keeps receiving.
      const before2 = await size(f2);
      await waitFor('destination 2 still growing', async () => (await size(f2)) > before2 + 20_000, 20_000);
      expect(set.get('two')?.state).toBe('live');

      // Destination 1 comes back on the same port: the relay reconnects by itself.
      listener1 = startRtmpListener(p1, f1b);
      await waitFor('relay one live again', () => set.get('one')?.state === 'live', 30_000);
      await waitFor('bytes at the new destination 1', async () => (await size(f1b)) > 20_000, 20_000);

      expect(states.get('one')).toEqual(expect.arrayContaining(['connecting', 'live', 'retrying']));
      expect(states.get('one')?.slice(-1)).toEqual(['live']);
      // Relay two never left "live" once it got there.
      expect(states.get('two')).toEqual(['connecting', 'live']);
    } finally {
      await set.close();
      await listener1.stop();
      await listener2.stop();
    }
    expect(set.size).toBe(0);

    for (const f of [f1, f1b, f2]) {
      const p = await probe(f);
      const v = p.streams.find((s) => s.codecType === 'video');
      expect(v?.codecName).toBe('h264');
      expect(v?.width).toBe(320);
      expect(v?.frames ?? 0).toBeGreaterThan(10);
      expect(p.streams.find((s) => s.codecType === 'audio')?.codecName).toBe('aac');
    }

    const logs = logLines.join('');
    expect(logs).toContain('destination relay attempt failed');
    expect(logs).not.toContain(DEST_KEY);
    expect(logs).not.toContain('hubkey123');
  });

  it('refuses private/loopback destinations when they are not allowed', async () => {
    const set = new DestinationSet({
      sourceUrl: hub.url('hubkey123'),
      config: { allowPrivate: false, allowHosts: [], maxPerLivestream: 5 },
      logger,
    });
    for (const url of [
      'rtmp://127.0.0.1:1935/app/k',
      'rtmp://localhost/app/k',
      'rtmp://[::1]/app/k',
      'rtmp://[::ffff:127.0.0.1]/app/k',
      'rtmp://10.1.2.3/app/k',
      'rtmp://169.254.169.254/app/k',
      'rtmp://2130706433/app/k',
    ]) {
      const err = await set.add({ url }).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(DestinationError);
      expect((err as DestinationError).field).toBe('url');
    }
    expect(set.size).toBe(0);
    await set.close();
  });
});
