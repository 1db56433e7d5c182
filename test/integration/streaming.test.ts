import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../gateway/src/config/loader.ts';
import { createLogger } from '../../gateway/src/log/logger.ts';
import { Gateway } from '../../gateway/src/gateway.ts';
import { generateStreamKey } from '../../gateway/src/keys/key-rules.ts';
import type { StreamInfo } from '../../gateway/src/ingest/ingest.ts';
import { waitFor } from '../helpers/net.ts';
import { startFfmpegPublisher, type FfmpegPublisher } from '../helpers/rtmp-publisher.ts';
import { makeTestFlv, rawPlay, rawPublish, type FlvTag } from '../helpers/rtmp-raw.ts';

const execFileAsync = promisify(execFile);

// Real node-media-server + ffmpeg + SQLite, through Gateway.start (the same wiring as npm start).

const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-streaming-'));
const dbFile = path.join(dir, 'db', 'roomcast.db');
let logText = '';
let stdoutText = '';
const logStream = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logText += chunk.toString();
    cb();
  },
});
const logger = createLogger('trace', logStream);
const realStdoutWrite = process.stdout.write.bind(process.stdout);
const config = validateConfig({
  server: { host: '127.0.0.1', port: 0 },
  mediasoup: { numWorkers: 1 },
  rtmp: { bind: '127.0.0.1', port: 0 },
  hls: { dir: path.join(dir, 'hls'), deleteAfterSeconds: 2, listSize: 4 },
  storage: { database: dbFile },
  player: {
    rooms: { alpha: { title: 'Alpha live', description: 'd', poster: 'https://evil.example/p.jpg' } },
  },
});

let gw: Gateway;
let tags: FlvTag[];
const publishers: FfmpegPublisher[] = [];
const started: StreamInfo[] = [];
const base = () => `http://127.0.0.1:${gw.port}`;
const host = '127.0.0.1';

async function startGateway(): Promise<Gateway> {
  const g = await Gateway.start(config, logger);
  g.ingest.on('streamStarted', (i) => started.push(i));
  return g;
}

beforeAll(async () => {
  // Everything anything prints to stdout during these tests is captured (and still shown).
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stdoutText += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return realStdoutWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
  tags = makeTestFlv(path.join(dir, 'src.flv'));
  gw = await startGateway();
});

afterAll(async () => {
  process.stdout.write = realStdoutWrite;
  await Promise.all(publishers.map((p) => p.stop()));
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('valid publish → HLS', () => {
  it('serves a playlist and segments that ffprobe decodes as H.264 + AAC, restarts a dead packager, ends with ENDLIST and deletes segments', async () => {
    const rec = gw.keys.getOrCreate('alpha');
    const pub = startFfmpegPublisher(gw.localPublishUrl('alpha'));
    publishers.push(pub);
    const playlistUrl = `${base()}/hls/${rec.playbackId}/index.m3u8`;

    const live = await waitFor(
      'status live',
      async () => {
        const r = await fetch(`${base()}/api/streams/${rec.playbackId}`);
        const j = (await r.json()) as { status: string };
        return j.status === 'live' ? j : undefined;
      },
      30_000,
    );
    expect(live).toMatchObject({ status: 'live', title: 'Alpha live', description: 'd', poster: null });

    await waitFor(
      '3 segments listed',
      async () => {
        const t = await (await fetch(playlistUrl)).text();
        return (t.match(/\.ts$/gm) ?? []).length >= 3 ? t : undefined;
      },
      30_000,
    );
    const res = await fetch(`${playlistUrl}?sid=viewer0001`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const playlist = await res.text();
    expect(playlist).toContain('#EXTM3U');
    expect(playlist).not.toContain('#EXT-X-ENDLIST');
    const seg = /^([A-Za-z0-9_-]+\.ts)$/m.exec(playlist)?.[1] as string;
    const segRes = await fetch(`${base()}/hls/${rec.playbackId}/${seg}`);
    expect(segRes.status).toBe(200);
    expect(segRes.headers.get('content-type')).toBe('video/mp2t');
    expect(segRes.headers.get('cache-control')).toContain('immutable');
    expect((await segRes.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const status = (await (await fetch(`${base()}/api/streams/${rec.playbackId}`)).json()) as {
      viewers: number;
    };
    expect(status.viewers).toBeGreaterThanOrEqual(1);

    // A live playlist never ends: decode 3 s of it.
    const probed = await probeLive(playlistUrl);
    const v = probed.find((s) => s.codec_type === 'video');
    const a = probed.find((s) => s.codec_type === 'audio');
    expect(v?.codec_name).toBe('h264');
    expect(v?.width).toBe(320);
    expect(Number(v?.nb_read_frames)).toBeGreaterThan(10);
    expect(a?.codec_name).toBe('aac');
    expect(Number(a?.nb_read_frames)).toBeGreaterThan(10);

    // A second publisher with the same key is refused (and the first stays live).
    const second = startFfmpegPublisher(gw.localPublishUrl('alpha'), { seconds: 20 });
    publishers.push(second);
    const code = await Promise.race([
      second.exited,
      new Promise((r) => setTimeout(() => r('running'), 15_000)),
    ]);
    expect(code).not.toBe(0);
    await second.stop();
    expect(logText).toContain('second publisher refused');
    expect(gw.ingest.isLive('alpha')).toBe(true);

    // Packager killed while live → restarted, playlist keeps growing.
    const packager = gw.hls.packager(rec.playbackId);
    const firstProc = packager?.process;
    expect(firstProc?.running).toBe(true);
    firstProc?.killNow();
    await waitFor(
      'packager restarted',
      () => {
        const p = packager?.process;
        return p && p !== firstProc && p.running;
      },
      15_000,
    );
    const lastSeq = mediaSequence(await (await fetch(playlistUrl)).text());
    await waitFor(
      'playlist advances after restart',
      async () => {
        const t = await (await fetch(playlistUrl)).text();
        return mediaSequence(t) > lastSeq + 1 ? t : undefined;
      },
      20_000,
    );

    // Publisher stops → ENDLIST, status ended, then segments deleted after deleteAfterSeconds.
    await pub.stop();
    const ended = await waitFor(
      'ENDLIST',
      async () => {
        const t = await (await fetch(playlistUrl)).text();
        return t.includes('#EXT-X-ENDLIST') ? t : undefined;
      },
      10_000,
    );
    expect(ended).toContain('#EXT-X-ENDLIST');
    const st = (await (await fetch(`${base()}/api/streams/${rec.playbackId}`)).json()) as { status: string };
    expect(st.status).toBe('ended');
    expect(gw.hls.packager(rec.playbackId)).toBeUndefined();
    await waitFor('segments deleted', () => !existsSync(gw.hls.dirFor(rec.playbackId)), 15_000);
    expect((await fetch(playlistUrl)).status).toBe(404);
  });
});

async function probeLive(url: string): Promise<Array<Record<string, string | number>>> {
  const { stdout } = await execFileAsync(
    'ffprobe',
    ['-v', 'error', '-read_intervals', '%+3', '-count_frames', '-show_streams', '-of', 'json', url],
    { timeout: 30_000 },
  );
  return (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams;
}

function mediaSequence(playlist: string): number {
  return Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1] ?? -1);
}

describe('publish authorisation', () => {
  it('a wrong-key publisher that keeps sending delivers 0 bytes to a waiting viewer and makes no HLS; a valid key (control) does deliver', async () => {
    const wrongKey = generateStreamKey();
    const before = started.length;
    const hlsDirsBefore = existsSync(config.hls.dir) ? readdirSync(config.hls.dir) : [];
    const viewer = await rawPlay({ host, port: gw.ingest.port, app: 'live', streamName: wrongKey });
    await new Promise((r) => setTimeout(r, 300));
    const result = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'live',
      streamName: wrongKey,
      tags,
      durationMs: 3000,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(result.tagsWritten).toBeGreaterThanOrEqual(40); // the burst went out with the publish command
    expect(result.cutOff).toBe(true);
    expect(viewer.mediaBytes()).toBe(0);
    viewer.close();
    expect(started.length).toBe(before);
    const hlsDirs = existsSync(config.hls.dir) ? readdirSync(config.hls.dir) : [];
    expect(hlsDirs).toEqual(hlsDirsBefore);

    // Control: the same raw publisher and viewer with a valid key.
    const rec = gw.keys.getOrCreate('beta');
    const okViewer = await rawPlay({ host, port: gw.ingest.port, app: 'live', streamName: rec.streamKey });
    await new Promise((r) => setTimeout(r, 300));
    const ok = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'live',
      streamName: rec.streamKey,
      tags,
      durationMs: 2000,
    });
    expect(ok.cutOff).toBe(false);
    expect(okViewer.mediaBytes()).toBeGreaterThan(10_000);
    okViewer.close();
    expect(started.some((s) => s.room === 'beta')).toBe(true);
    await waitFor('beta ended', () => !gw.ingest.isLive('beta'));

    // Another app name with a valid key is refused too.
    const other = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'other',
      streamName: rec.streamKey,
      tags,
      durationMs: 1000,
    });
    expect(other.cutOff).toBe(true);

    // No key reached the logs or stdout (NMS prints stream paths at debug level).
    for (const k of [wrongKey, rec.streamKey]) {
      expect(logText).not.toContain(k);
      expect(stdoutText).not.toContain(k);
    }
    expect(logText).toContain('RTMP publish refused');
  });

  it('rotate: the old key is refused at once, the new one works', async () => {
    const old = gw.keys.getOrCreate('gamma').streamKey;
    const fresh = gw.keys.rotate('gamma').streamKey;
    expect(fresh).not.toBe(old);
    const before = started.filter((s) => s.room === 'gamma').length;
    const refused = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'live',
      streamName: old,
      tags,
      durationMs: 1500,
    });
    expect(refused.cutOff).toBe(true);
    expect(started.filter((s) => s.room === 'gamma').length).toBe(before);
    const ok = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'live',
      streamName: fresh,
      tags,
      durationMs: 1500,
    });
    expect(ok.cutOff).toBe(false);
    expect(started.filter((s) => s.room === 'gamma').length).toBe(before + 1);
    await waitFor('gamma ended', () => !gw.ingest.isLive('gamma'));
  });

  it('keys survive a gateway restart', async () => {
    const rec = gw.keys.getOrCreate('delta');
    await gw.stop();
    gw = await startGateway();
    expect(gw.keys.byRoom('delta')).toEqual(rec);
    const ok = await rawPublish({
      host,
      port: gw.ingest.port,
      app: 'live',
      streamName: rec.streamKey,
      tags,
      durationMs: 1500,
    });
    expect(ok.cutOff).toBe(false);
    expect(started.some((s) => s.room === 'delta')).toBe(true);
    await waitFor('delta ended', () => !gw.ingest.isLive('delta'));
  });
});

describe('HTTP surface', () => {
  it('rejects traversal and bad ids with 404; serves the watch page with a strict CSP', async () => {
    const rec = gw.keys.getOrCreate('alpha');
    for (const p of [
      `/hls/${rec.playbackId}/..%2F..%2Froomcast.db`,
      `/hls/${rec.playbackId}/%2e%2e%2fx.ts`,
      `/hls/%2e%2e/index.m3u8`,
      `/hls/${rec.playbackId}/../../db/roomcast.db`,
      `/hls/${rec.playbackId}/a/b.ts`,
      `/hls/not-an-id/index.m3u8`,
      `/hls/${rec.playbackId}/index.m3u8.tmp`,
    ]) {
      const r = await fetch(`${base()}${p}`);
      expect(r.status, p).toBe(404);
    }
    const watch = await fetch(`${base()}/watch/${rec.playbackId}`);
    expect(watch.status).toBe(200);
    expect(watch.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await watch.text()).toContain('id="video"');
    expect((await fetch(`${base()}/watch/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    expect((await fetch(`${base()}/api/streams/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    const st = (await (await fetch(`${base()}/api/streams/${rec.playbackId}`)).json()) as { status: string };
    expect(st.status).toBe('offline'); // after the restart: nothing live, no memory of the old stream
  });
});
