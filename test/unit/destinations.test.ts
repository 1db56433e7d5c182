import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  expandIPv6,
  isNumericHostTrick,
} from '../../gateway/src/livestream/destinations/address.ts';
import {
  checkDestinationHost,
  DestinationError,
  parseDestination,
  validateDestination,
  type Resolver,
} from '../../gateway/src/livestream/destinations/validate.ts';
import { backoffDelay } from '../../gateway/src/livestream/destinations/backoff.ts';
import { ProgressParser } from '../../gateway/src/livestream/destinations/progress.ts';

const closed = { allowPrivate: false, allowHosts: [] as string[] };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DestinationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('address classification', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['2002:c0a8:0101::1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['2001:db8::1', 'documentation'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:800::200e', 'public'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (addr, cls) => {
    expect(classifyAddress(addr)).toBe(cls);
  });

  it('expands IPv6 with an IPv4 tail', () => {
    expect(expandIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(expandIPv6('1::2')).toEqual([1, 0, 0, 0, 0, 0, 0, 2]);
  });

  it.each(['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '017700000001'])(
    'flags the numeric trick %s',
    (h) => expect(isNumericHostTrick(h)).toBe(true),
  );
  it.each(['127.0.0.1', 'a.rtmp.youtube.com', 'live-fra.twitch.tv', '1e100.net'])('does not flag %s', (h) =>
    expect(isNumericHostTrick(h)).toBe(false),
  );
});

describe('parseDestination', () => {
  it('joins url and separate stream key, masks the key in display', () => {
    const d = parseDestination({ url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'abcd-efgh-1234' });
    expect(d.url).toBe('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-1234');
    expect(d.host).toBe('a.rtmp.youtube.com');
    expect(d.port).toBe(1935);
    expect(d.key).toBe('abcd-efgh-1234');
    expect(d.display).toBe('rtmp://a.rtmp.youtube.com/live2/[REDACTED]');
    expect(d.display).not.toContain('abcd');
  });

  it('takes the key from the url path and defaults rtmps to 443', () => {
    const d = parseDestination({ url: 'rtmps://live.example.com/app/secretkey' });
    expect(d.protocol).toBe('rtmps');
    expect(d.port).toBe(443);
    expect(d.key).toBe('secretkey');
    expect(d.display).toBe('rtmps://live.example.com/app/[REDACTED]');
  });

  it('accepts bracketed IPv6 hosts and explicit ports', () => {
    const d = parseDestination({ url: 'rtmp://[2606:4700::1]:1936/app', streamKey: 'k' });
    expect(d.host).toBe('2606:4700::1');
    expect(d.port).toBe(1936);
  });

  it.each([
    [{ url: '' }, 'url'],
    [{ url: 'http://example.com/app/key' }, 'url'],
    [{ url: 'rtmp://example.com' }, 'url'],
    [{ url: 'rtmp://user:pw@example.com/app/key' }, 'url'],
    [{ url: 'rtmp://2130706433/app/key' }, 'url'],
    [{ url: 'rtmp://0x7f.1/app/key' }, 'url'],
    [{ url: 'rtmp://exa mple.com/app/key' }, 'url'],
    [{ url: 'rtmp://example.com/app' }, 'streamKey'],
    [{ url: 'rtmp://example.com/app', streamKey: 'a b' }, 'streamKey'],
    [{ url: 'rtmp://example.com/app', streamKey: 'x'.repeat(600) }, 'streamKey'],
  ])('refuses %j (field %s)', (input, field) => {
    expect(fieldOf(() => parseDestination(input))).toBe(field);
  });
});

describe('checkDestinationHost', () => {
  const resolver =
    (map: Record<string, string[]>): Resolver =>
    async (host) => {
      const a = map[host];
      if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return a;
    };

  it('allows a host whose addresses are all public', async () => {
    const r = await checkDestinationHost(
      { host: 'ingest.example' },
      closed,
      resolver({ 'ingest.example': ['8.8.4.4'] }),
    );
    expect(r).toEqual([{ address: '8.8.4.4', class: 'public' }]);
  });

  it('refuses a host with any private address and names the field and the range', async () => {
    const err = await checkDestinationHost(
      { host: 'mixed.example' },
      closed,
      resolver({ 'mixed.example': ['8.8.8.8', '10.0.0.5'] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DestinationError);
    expect((err as DestinationError).field).toBe('url');
    expect((err as DestinationError).kind).toBe('forbidden');
    expect((err as DestinationError).message).toMatch(/private address \(10\.0\.0\.5\)/);
  });

  it.each(['127.0.0.1', '::1', '169.254.169.254', '::ffff:192.168.0.1', '100.100.100.100', '0.0.0.0'])(
    'refuses the literal %s',
    async (ip) => {
      await expect(checkDestinationHost({ host: ip }, closed, resolver({}))).rejects.toThrow(
        /refused unless/,
      );
    },
  );

  it('allows private addresses with allowPrivate, or for an allow-listed host/IP', async () => {
    const res = resolver({ 'restreamer.internal': ['10.0.0.7'] });
    await expect(
      checkDestinationHost({ host: 'restreamer.internal' }, { allowPrivate: true, allowHosts: [] }, res),
    ).resolves.toHaveLength(1);
    await expect(
      checkDestinationHost(
        { host: 'restreamer.internal' },
        { allowPrivate: false, allowHosts: ['Restreamer.Internal'] },
        res,
      ),
    ).resolves.toHaveLength(1);
    await expect(
      checkDestinationHost({ host: '127.0.0.1' }, { allowPrivate: false, allowHosts: ['127.0.0.1'] }, res),
    ).resolves.toHaveLength(1);
    await expect(
      checkDestinationHost({ host: '127.0.0.2' }, { allowPrivate: false, allowHosts: ['127.0.0.1'] }, res),
    ).rejects.toThrow();
  });

  it('reports an unresolvable host as a resolve error on url', async () => {
    const err = (await checkDestinationHost({ host: 'nx.example' }, closed, resolver({})).catch(
      (e: unknown) => e,
    )) as DestinationError;
    expect(err.field).toBe('url');
    expect(err.kind).toBe('resolve');
    expect(err.message).toContain('ENOTFOUND');
  });

  it('validateDestination resolves "localhost" with the system resolver and refuses it', async () => {
    await expect(validateDestination({ url: 'rtmp://localhost/app/key' }, closed)).rejects.toThrow(
      /loopback/,
    );
  });
});

describe('backoff and progress', () => {
  it('grows exponentially, is capped, and jitters downwards only', () => {
    const o = { baseMs: 1000, maxMs: 30_000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, o, 0))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(backoffDelay(3, o, 0.999)).toBeGreaterThanOrEqual(2000);
    expect(backoffDelay(3, o, 0.999)).toBeLessThan(4000);
    expect(backoffDelay(100, o, 0.5)).toBe(22500);
  });

  it('parses ffmpeg -progress blocks across chunk boundaries', () => {
    const p = new ProgressParser();
    expect(p.push('frame=10\ntotal_size=4096\nout_time_us=1000')).toEqual([]);
    const r = p.push('000\ndrop_frames=2\nprogress=continue\nframe=20\ntotal_size=N/A\nprogress=end\n');
    expect(r).toEqual([
      { frames: 10, totalSize: 4096, outTimeUs: 1000000, dropFrames: 2, end: false },
      { frames: 20, totalSize: 0, outTimeUs: 0, dropFrames: 0, end: true },
    ]);
  });
});
