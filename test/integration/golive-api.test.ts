import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestSignalingClient } from '../helpers/conference.ts';
import { api, startGoLiveGateway, startWebhookReceiver } from '../helpers/golive.ts';
import { startRtmpListener } from '../helpers/livestream-hub.ts';
import { freeTcpPort, waitFor } from '../helpers/net.ts';
import { probe } from '../helpers/ffprobe.ts';
import { descendants, isAlive } from '../helpers/gateway-process.ts';
import type { OwnedProcess } from '../../gateway/src/process/owned-process.ts';

// The go-live REST API against a real gateway: embedded conference (signaling peers without
// media: the compositor streams placeholders), real compositor → node-media-server → HLS,
// real relays to an ffmpeg RTMP listener on loopback, real recorder, a webhook receiver.

const API_KEY = 'test-api-key-0123456789abcdef';
const SECRET = 'webhook-secret-0123456789';
const ROOM = 'golive-api';

let gw: Awaited<ReturnType<typeof startGoLiveGateway>>;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let mod: TestSignalingClient;
let part: TestSignalingClient;
let modToken: string;
let partToken: string;
const tmp = mkdtempSync(path.join(tmpdir(), 'roomcast-golive-dest-'));
const listeners: OwnedProcess[] = [];

const fileSize = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};
const metricsText = async () =>
  (await fetch(`${gw.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${API_KEY}` } })).text();
const status = async () =>
  (await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: modToken })).body;

beforeAll(async () => {
  hooks = await startWebhookReceiver(SECRET);
  gw = await startGoLiveGateway({
    api: { keys: [API_KEY], rateLimitPerMinute: 600 },
    webhooks: { urls: [hooks.url], secret: SECRET },
    destinations: { allowPrivate: false, allowHosts: ['127.0.0.1'], maxPerLivestream: 2 },
    livestream: { autoStopEmptySeconds: 3, autoStopNoMediaSeconds: 0 },
  });
  mod = await TestSignalingClient.connect(gw.wsUrl);
  const j1 = await mod.request('join', { room: ROOM, displayName: 'Mo' });
  modToken = String(j1.data?.moderatorToken);
  part = await TestSignalingClient.connect(gw.wsUrl);
  const j2 = await part.request('join', { room: ROOM, displayName: 'Pat' });
  expect(j2.data?.moderator).toBe(false);
  const t = await part.request('livestream.panelToken', {});
  expect(t.data?.role).toBe('participant');
  partToken = String(t.data?.token);
}, 60_000);

afterAll(async () => {
  await mod?.close();
  await part?.close();
  for (const l of listeners) await l.stop();
  await gw?.stop();
  await hooks?.close();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('go-live REST API', () => {
  it('serves an OpenAPI 3.1 document listing every route', async () => {
    const r = await api(gw.baseUrl, 'GET', '/api/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const paths = Object.keys(r.body.paths as object);
    for (const p of [
      '/healthz',
      '/api/streams/{playbackId}',
      '/api/rooms/{room}/livestream',
      '/api/rooms/{room}/livestream/events',
      '/api/rooms/{room}/livestream/start',
      '/api/rooms/{room}/livestream/stop',
      '/api/rooms/{room}/livestream/layout',
      '/api/rooms/{room}/livestream/destinations',
      '/api/rooms/{room}/livestream/destinations/{id}',
      '/api/rooms/{room}/livestream/recording',
      '/api/rooms/{room}/recordings',
      '/api/rooms/{room}/key',
      '/api/rooms/{room}/key/rotate',
    ])
      expect(paths).toContain(p);
  });

  it('refuses bad room names (400), missing/invalid credentials (401), unknown rooms (404)', async () => {
    const bad = await api(gw.baseUrl, 'GET', '/api/rooms/Bad%20Room/livestream', { token: API_KEY });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('room');
    const none = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`);
    expect(none.status).toBe(401);
    expect(String(none.body.message)).toMatch(/Authorization/);
    const wrong = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/key`, { token: 'x'.repeat(43) });
    expect(wrong.status).toBe(401);
    const unknown = await api(gw.baseUrl, 'GET', '/api/rooms/no-such-room/livestream', { token: API_KEY });
    expect(unknown.status).toBe(404);
    // A moderator token of one room is not a credential for another room.
    const other = await api(gw.baseUrl, 'GET', '/api/rooms/no-such-room/key', { token: modToken });
    expect(other.status).toBe(401);
  });

  it("refuses a participant's moderator calls (403) but shows them the public status", async () => {
    const st = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: partToken });
    expect(st.status).toBe(200);
    expect(st.body).toMatchObject({ role: 'participant', state: 'idle' });
    expect(st.body.destinations).toBeUndefined();
    for (const [method, p, body] of [
      ['POST', '/livestream/start', {}],
      ['POST', '/livestream/stop', undefined],
      ['DELETE', '/livestream', undefined],
      ['PUT', '/livestream/layout', { layout: 'grid' }],
      ['GET', '/livestream/destinations', undefined],
      ['POST', '/livestream/destinations', { url: 'rtmp://127.0.0.1/app/k' }],
      ['PUT', '/livestream/recording', { enabled: true }],
      ['GET', '/recordings', undefined],
      ['GET', '/key', undefined],
      ['POST', '/key/rotate', undefined],
    ] as const) {
      const r = await api(gw.baseUrl, method, `/api/rooms/${ROOM}${p}`, { token: partToken, body });
      expect(r.status, `${method} ${p}`).toBe(403);
    }
  });

  it('shows moderators the RTMP URL and key; rotation replaces the key', async () => {
    const k = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/key`, { token: modToken });
    expect(k.status).toBe(200);
    expect(String(k.body.rtmpUrl)).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
    expect(String(k.body.streamKey).length).toBeGreaterThan(16);
    const r = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/key/rotate`, { token: API_KEY });
    expect(r.status).toBe(200);
    expect(r.body.streamKey).not.toBe(k.body.streamKey);
    expect(r.body.playbackId).toBe(k.body.playbackId);
  });

  it('validates start/layout/recording/destination bodies, naming the field', async () => {
    const start = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, {
      token: modToken,
      body: { layout: 'mosaic' },
    });
    expect(start.status).toBe(400);
    expect(start.body.field).toBe('layout');
    const json = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, {
      token: modToken,
      rawBody: '{not json',
    });
    expect(json.status).toBe(400);
    const extra = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, {
      token: modToken,
      body: { layuot: 'grid' },
    });
    expect(extra.status).toBe(400);
    // Not live yet: changes that need a running livestream are a conflict, not a crash.
    const layout = await api(gw.baseUrl, 'PUT', `/api/rooms/${ROOM}/livestream/layout`, {
      token: modToken,
      body: { layout: 'grid' },
    });
    expect(layout.status).toBe(409);
    const stopIdle = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/stop`, { token: modToken });
    expect(stopIdle.status).toBe(404);
  });

  it('starts: live for everyone (signaling notification), HLS plays, metrics count it', async () => {
    const r = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, {
      token: modToken,
      body: { layout: 'grid' },
    });
    expect(r.status).toBe(201);
    expect(['starting', 'live']).toContain(r.body.state);
    const again = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, { token: API_KEY });
    expect(again.status).toBe(409);

    await waitFor('live', async () => (await status()).state === 'live', 30_000);
    await waitFor(
      'participant notified live',
      () => part.notifications.some((n) => n.method === 'livestream.state' && n.data.state === 'live'),
      10_000,
    );
    const st = await status();
    const playbackId = String(st.watchPath).split('/').pop();
    await waitFor(
      'HLS playlist',
      async () => (await fetch(`${gw.baseUrl}/hls/${playbackId}/index.m3u8`)).status === 200,
      30_000,
    );
    const metrics = await metricsText();
    expect(metrics).toMatch(/^roomcast_livestreams_live 1$/m);
    // Viewers come from the HLS status (the playlist fetch above counts as one).
    await waitFor('viewer counted', async () => Number((await status()).viewers) >= 1, 10_000);

    const lay = await api(gw.baseUrl, 'PUT', `/api/rooms/${ROOM}/livestream/layout`, {
      token: modToken,
      body: { layout: 'speaker' },
    });
    expect(lay.status).toBe(200);
    expect(lay.body.layout).toBe('speaker');
    expect((await status()).state).toBe('live');
  });

  it('streams the server-sent status to a participant', async () => {
    const ac = new AbortController();
    const res = await fetch(`${gw.baseUrl}/api/rooms/${ROOM}/livestream/events`, {
      headers: { Authorization: `Bearer ${partToken}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    ac.abort();
    const text = new TextDecoder().decode(value);
    expect(text).toMatch(/^event: status\ndata: /);
    const data = JSON.parse(text.split('data: ')[1]!.split('\n')[0]!) as Record<string, unknown>;
    expect(data).toMatchObject({ state: 'live', role: 'participant' });
  });

  it('relays to an extra destination; its loss leaves HLS playing; it reconnects', async () => {
    const bad = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/destinations`, {
      token: modToken,
      body: { url: 'http://example.org/live' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('url');
    const missing = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/destinations`, {
      token: modToken,
      body: {},
    });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('url');
    // A private address is refused (only 127.0.0.1 is allow-listed in this config).
    const priv = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/destinations`, {
      token: modToken,
      body: { url: 'rtmp://10.1.2.3/live', streamKey: 'k' },
    });
    expect(priv.status).toBe(400);
    expect(String(priv.body.message)).toMatch(/private|not allowed|refused/i);

    const port = await freeTcpPort();
    const f1 = path.join(tmp, 'dest-1.flv');
    listeners.push(startRtmpListener(port, f1));
    const add = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/destinations`, {
      token: modToken,
      body: { url: `rtmp://127.0.0.1:${port}/app`, streamKey: 'dest-secret-key' },
    });
    expect(add.status).toBe(201);
    const id = String(add.body.id);
    expect(String(add.body.url)).not.toContain('dest-secret-key');
    const dest = async () =>
      ((await status()).destinations as { id: string; state: string; bytes: number }[]).find(
        (d) => d.id === id,
      );
    const destState = async () => (await dest())?.state;
    await waitFor('destination live', async () => (await destState()) === 'live', 30_000);
    // Bytes as reported by the relay's ffmpeg (the listener's file is flushed in 32 KB blocks).
    await waitFor('bytes sent to the destination', async () => ((await dest())?.bytes ?? 0) > 10_000, 30_000);

    // Kill the listener: the destination retries, the local HLS keeps going.
    const l1 = listeners.pop()!;
    l1.killNow();
    await l1.waitForExit();
    await waitFor('destination retrying', async () => (await destState()) === 'retrying', 30_000);
    const playbackId = String((await status()).watchPath)
      .split('/')
      .pop();
    const seq = async () => {
      const text = await (await fetch(`${gw.baseUrl}/hls/${playbackId}/index.m3u8`)).text();
      return Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1);
    };
    const s0 = await seq();
    await waitFor('HLS still advancing', async () => (await seq()) > s0 + 1, 20_000);
    expect((await status()).state).toBe('live');

    // Bring it back on the same port: the relay reconnects by itself.
    const f2 = path.join(tmp, 'dest-2.flv');
    listeners.push(startRtmpListener(port, f2));
    await waitFor('destination live again', async () => (await destState()) === 'live', 40_000);
    await waitFor('bytes sent again', async () => ((await dest())?.bytes ?? 0) > 10_000, 30_000);

    const metrics = await metricsText();
    expect(metrics).toMatch(/roomcast_destination_failures_total\{room="golive-api"\} [1-9]/);

    const unknown = await api(gw.baseUrl, 'DELETE', `/api/rooms/${ROOM}/livestream/destinations/nope`, {
      token: modToken,
    });
    expect(unknown.status).toBe(404);
    const badId = await api(gw.baseUrl, 'DELETE', `/api/rooms/${ROOM}/livestream/destinations/a%20b`, {
      token: modToken,
    });
    expect(badId.status).toBe(400);
    const del = await api(gw.baseUrl, 'DELETE', `/api/rooms/${ROOM}/livestream/destinations/${id}`, {
      token: modToken,
    });
    expect(del.status).toBe(204);
    const list = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream/destinations`, {
      token: modToken,
    });
    expect(list.body.destinations).toEqual([]);
    // What the second listener received is the livestream (H.264 + AAC).
    await listeners.pop()!.stop();
    expect(fileSize(f2)).toBeGreaterThan(1000);
    const p = await probe(f2);
    expect(p.streams.find((s) => s.codecType === 'video')?.codecName).toBe('h264');
    expect(p.streams.find((s) => s.codecType === 'audio')?.codecName).toBe('aac');
  });

  it('records to MP4 while live; stop ends it and lists the recording', async () => {
    const bad = await api(gw.baseUrl, 'PUT', `/api/rooms/${ROOM}/livestream/recording`, {
      token: modToken,
      body: { enabled: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('enabled');
    const on = await api(gw.baseUrl, 'PUT', `/api/rooms/${ROOM}/livestream/recording`, {
      token: modToken,
      body: { enabled: true },
    });
    expect(on.status).toBe(200);
    expect(on.body.recording).toMatchObject({ enabled: true, state: 'recording' });
    await new Promise((r) => setTimeout(r, 4000));

    const stop = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/stop`, { token: modToken });
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ state: 'stopped', reason: expect.stringMatching(/moderator/) });
    // Idempotent.
    const again = await api(gw.baseUrl, 'DELETE', `/api/rooms/${ROOM}/livestream`, { token: modToken });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('stopped');

    const recs = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/recordings`, { token: modToken });
    expect(recs.status).toBe(200);
    const list = recs.body.recordings as {
      name: string;
      size: number;
      complete: boolean;
      durationSeconds: number;
    }[];
    expect(list.length).toBe(1);
    expect(list[0]).toMatchObject({ complete: true });
    expect(list[0]!.durationSeconds).toBeGreaterThan(1);
    await waitFor('participant notified stopped', () =>
      part.notifications.some((n) => n.method === 'livestream.state' && n.data.state === 'stopped'),
    );
    const metrics = await metricsText();
    expect(metrics).toMatch(/^roomcast_livestreams_live 0$/m);
  });

  it('auto-stops when the room is empty, with the reason recorded', async () => {
    const r = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, { token: API_KEY });
    expect(r.status).toBe(201);
    await waitFor('live', async () => (await status()).state === 'live', 30_000);
    await part.close();
    await mod.close();
    await waitFor(
      'auto-stopped',
      async () =>
        (await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: API_KEY })).body.state ===
        'stopped',
      30_000,
    );
    const st = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: API_KEY });
    expect(String(st.body.reason)).toMatch(/auto-stop: the room has been empty/);
  });

  it('sent signed webhooks, in order', async () => {
    await waitFor(
      'webhooks delivered',
      () => hooks.events.filter((e) => e.type === 'livestream.ended').length >= 2,
      20_000,
    );
    expect(hooks.events.every((e) => e.signatureOk)).toBe(true);
    const types = hooks.events.map((e) => e.type);
    expect(types).toEqual([
      'livestream.started',
      'recording.ready',
      'livestream.ended',
      'livestream.started',
      'livestream.ended',
    ]);
    expect(hooks.events[2]!.data.reason).toMatch(/moderator/);
    expect(hooks.events[4]!.data.reason).toMatch(/empty/);
  });

  it('rotating the key while live restarts the livestream on the new key', async () => {
    const r = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, { token: API_KEY });
    expect(r.status).toBe(201);
    await waitFor('live', async () => (await status()).state === 'live', 30_000);
    const before = await api(gw.baseUrl, 'GET', `/api/rooms/${ROOM}/key`, { token: API_KEY });
    const rot = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/key/rotate`, { token: API_KEY });
    expect(rot.status).toBe(200);
    expect(rot.body.streamKey).not.toBe(before.body.streamKey);
    await waitFor('live again', async () => (await status()).state === 'live', 30_000);
    // The hub has exactly one live publisher for the room: ours, on the new key.
    expect(gw.gw.ingest.isLive(ROOM)).toBe(true);
    const stop = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/stop`, { token: API_KEY });
    expect(stop.body.state).toBe('stopped');
  });

  it('rate-limits the mutating routes', async () => {
    let limited = 0;
    for (let i = 0; i < 700 && limited === 0; i++) {
      const r = await api(gw.baseUrl, 'PUT', `/api/rooms/${ROOM}/livestream/layout`, {
        token: API_KEY,
        body: { layout: 'grid' },
      });
      if (r.status === 429) limited++;
    }
    expect(limited).toBe(1);
  });
});

describe('gateway shutdown', () => {
  it('stops running livestreams cleanly: ended webhook sent, no ffmpeg left', async () => {
    // The previous test emptied this client's rate-limit bucket: wait for it to refill.
    await new Promise((res) => setTimeout(res, 1500));
    const r = await api(gw.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, { token: API_KEY });
    expect(r.status).toBe(201);
    await waitFor('live', async () => (await status()).state === 'live', 30_000);
    const ffmpegs = () => descendants(process.pid).filter((p) => isAlive(p) && comm(p) === 'ffmpeg');
    expect(ffmpegs().length).toBeGreaterThan(0);
    await gw.stop();
    expect(ffmpegs()).toEqual([]);
    const last = hooks.events[hooks.events.length - 1]!;
    expect(last.type).toBe('livestream.ended');
    expect(last.data.reason).toMatch(/shutting down/);
  }, 60_000);
});

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
