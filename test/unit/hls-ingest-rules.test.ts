import { describe, expect, it } from 'vitest';
import { hlsHeaders, parseHlsRequest } from '../../gateway/src/hls/hls-paths.ts';
import { ViewerCounter } from '../../gateway/src/hls/viewer-counter.ts';
import { packagerArgs } from '../../gateway/src/hls/packager.ts';
import { decidePublish, isLoopback, mayPlay } from '../../gateway/src/ingest/publish-policy.ts';
import { redactNmsMessage } from '../../gateway/src/ingest/nms-redact.ts';
import { generateStreamKey } from '../../gateway/src/keys/key-rules.ts';
import { sameOriginPath } from '../../gateway/src/api/streams.ts';

const ID = 'AbCdEfGhIjKlMn_-';

describe('HLS path validation', () => {
  it('accepts the playlist and our segment names', () => {
    expect(parseHlsRequest(ID, 'index.m3u8')).toEqual({
      playbackId: ID,
      file: 'index.m3u8',
      kind: 'playlist',
    });
    expect(parseHlsRequest(ID, 'a1b2c3d4-000001.ts')?.kind).toBe('segment');
  });

  it('rejects traversal, encoded variants (already decoded by Express), other files and bad ids', () => {
    for (const [id, file] of [
      [ID, '../index.m3u8'],
      [ID, '..'],
      [ID, '../../roomcast.db'],
      [ID, '..%2findex.m3u8'],
      [ID, 'a/b.ts'],
      [ID, 'a\\b.ts'],
      [ID, 'index.m3u8.tmp'],
      [ID, 'x.ts.tmp'],
      [ID, '.ts'],
      [ID, 'x.mp4'],
      [ID, 'x.ts\u0000'],
      ['..', 'index.m3u8'],
      ['%2e%2e', 'index.m3u8'],
      [`${ID}x`, 'index.m3u8'],
      [undefined, 'index.m3u8'],
    ] as const)
      expect(parseHlsRequest(id, file), `${String(id)}/${file}`).toBeNull();
  });

  it('headers: playlist no-cache, segments immutable, CORS for all, right types', () => {
    expect(hlsHeaders('playlist')).toMatchObject({
      'Content-Type': 'application/vnd.apple.mpegurl',
      'Cache-Control': 'no-cache',
      'Access-Control-Allow-Origin': '*',
    });
    expect(hlsHeaders('segment')['Cache-Control']).toContain('immutable');
    expect(hlsHeaders('segment')['Content-Type']).toBe('video/mp2t');
  });
});

describe('packager arguments', () => {
  it('copies codecs into 1 s TS segments with a sliding window and a read timeout', () => {
    const args = packagerArgs({
      inputUrl: 'rtmp://127.0.0.1:1935/live/k',
      dir: '/d',
      runId: 'r',
      segmentSeconds: 1,
      listSize: 6,
      appendToExisting: false,
    });
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    expect(at('-c')).toBe('copy');
    expect(at('-hls_time')).toBe('1');
    expect(at('-hls_list_size')).toBe('6');
    expect(at('-hls_segment_type')).toBe('mpegts');
    expect(at('-rw_timeout')).toBe('5000000');
    expect(at('-hls_flags')).toContain('delete_segments');
    expect(at('-hls_flags')).not.toContain('append_list');
    const again = packagerArgs({
      inputUrl: 'x',
      dir: '/d',
      runId: 's',
      segmentSeconds: 1,
      listSize: 6,
      appendToExisting: true,
    });
    expect(again[again.indexOf('-hls_flags') + 1]).toContain('append_list');
  });
});

describe('publish policy', () => {
  const rec = { room: 'standup', playbackId: ID };
  const key = generateStreamKey();
  const lookup = (k: string) => (k === key ? rec : undefined);
  it('accepts only app "live" with a known key and no live publisher', () => {
    expect(decidePublish({ app: 'live', streamName: key }, 'live', lookup, () => false)).toEqual({
      ok: true,
      record: rec,
    });
    expect(decidePublish({ app: 'live', streamName: 'nope' }, 'live', lookup, () => false)).toEqual({
      ok: false,
      reason: 'invalid_key',
    });
    expect(decidePublish({ app: 'other', streamName: key }, 'live', lookup, () => false)).toEqual({
      ok: false,
      reason: 'wrong_app',
    });
    expect(decidePublish({ app: 'live', streamName: key }, 'live', lookup, () => true)).toEqual({
      ok: false,
      reason: 'already_live',
    });
  });
  it('lets only local readers play', () => {
    for (const a of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '', undefined, '1127.0.0.1'])
      expect(isLoopback(a)).toBe(false);
    expect(mayPlay('203.0.113.5', '203.0.113.5')).toBe(true); // this host via its own address
    expect(mayPlay('203.0.113.9', '203.0.113.5')).toBe(false);
    expect(mayPlay(undefined, undefined)).toBe(false);
  });
});

describe('NMS log redaction', () => {
  it('masks stream paths, names and RTMP URLs', () => {
    const key = generateStreamKey();
    for (const msg of [
      `RTMP session abc 127.0.0.1:5000 start push /live/${key}`,
      `RTMP session abc invalid stream path characters: app=live, name=${key}`,
      `connect rtmp://host:1935/live/${key}`,
      `streamPath=/live/${key} already has a publisher`,
    ])
      expect(redactNmsMessage(msg)).not.toContain(key);
  });
});

describe('viewer counter', () => {
  it('counts distinct tokens within the window and forgets older ones', () => {
    let now = 0;
    const c = new ViewerCounter(10_000, 100, () => now);
    c.hit('s', 'sessionAAAA1', '1.2.3.4', 'ua');
    c.hit('s', 'sessionAAAA1', '1.2.3.4', 'ua');
    c.hit('s', undefined, '1.2.3.4', 'ua');
    c.hit('s', undefined, '5.6.7.8', 'ua');
    expect(c.count('s')).toBe(3);
    now = 8000;
    c.hit('s', 'sessionAAAA1', '1.2.3.4', 'ua');
    now = 12_000;
    expect(c.count('s')).toBe(1);
    expect(c.count('other')).toBe(0);
  });
  it('never keeps the address itself and caps the per-stream table', () => {
    const salt = Buffer.alloc(32, 1);
    const t = ViewerCounter.tokenFor(salt, undefined, '192.0.2.7', 'ua');
    expect(t).not.toContain('192.0.2.7');
    expect(ViewerCounter.tokenFor(salt, 'bad sid!', '192.0.2.7', 'ua')).toBe(t);
    const c = new ViewerCounter(10_000, 5, () => 0);
    for (let i = 0; i < 50; i++) c.hit('s', `sid-${String(i).padStart(8, '0')}`, 'a', 'b');
    expect(c.count('s')).toBe(5);
  });
});

describe('poster', () => {
  it('keeps only same-origin paths', () => {
    expect(sameOriginPath('/static/p.jpg')).toBe('/static/p.jpg');
    for (const p of ['https://cdn.example/p.jpg', '//cdn.example/p.jpg', 'p.jpg', '/\\evil', undefined])
      expect(sameOriginPath(p)).toBeNull();
  });
});
