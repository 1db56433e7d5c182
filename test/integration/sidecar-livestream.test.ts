import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPanelToken } from 'roomcast/connector';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { api, startGoLiveGateway, startWebhookReceiver, TEST_OUTPUT } from '../helpers/golive.ts';
import { ExistingAppProcess } from '../helpers/existing-app-process.ts';
import { gridTileColours, hlsFrame, type Rgb } from '../helpers/hls-frame.ts';
import { freeTcpPort, waitFor } from '../helpers/net.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

// Sidecar rooms go live through the whole pipeline. The "existing app" runs in its own Node
// process (own mediasoup worker + router, two synthetic 320x240 participants, only the public
// roomcast/connector API) and registers its room with the gateway over the control channel,
// relayed through a TCP proxy the test can cut. The livestream is started through the REST API
// with a moderator panel token signed with the shared secret (the app's way); then the real
// compositor → node-media-server → HLS chain must show both participants in their tiles, the
// key/watch/webhook parts must work for the room, the app must never see the gateway as a
// peer, a cut control connection must read `reconnecting` then `live`, and an app that does not
// come back within the window must stop the livestream with the reason.

const SECRET = 'sidecar-live-secret-0123456789abcdefghijklmn';
const HOOK_SECRET = 'hook-secret-0123456789abcd';
const ROOM = 'acme-standup';
const WINDOW_SECONDS = 8;
const COLOURS: Record<string, Rgb> = { red: [255, 0, 0], blue: [0, 0, 255] };

const token = (role: 'moderator' | 'participant', room = ROOM) =>
  signPanelToken({ room, role, ttlSeconds: 600 }, SECRET);

describe('sidecar room → livestream → HLS, driven by app-signed panel tokens', () => {
  let env: Awaited<ReturnType<typeof startGoLiveGateway>>;
  let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let proxy: TcpProxy;
  let app: ExistingAppProcess | undefined;
  let playlist = '';

  const status = async () =>
    (await api(env.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: token('moderator') })).body;
  const bothInTiles = async () =>
    gridTileColours(await hlsFrame(playlist, TEST_OUTPUT.width, TEST_OUTPUT.height), 2, COLOURS)
      .sort()
      .join(',') === 'blue,red';

  beforeAll(async () => {
    hooks = await startWebhookReceiver(HOOK_SECRET);
    env = await startGoLiveGateway({
      conference: { enabled: false },
      sidecar: { enabled: true, secret: SECRET, reconnectWindowSeconds: WINDOW_SECONDS },
      webhooks: { urls: [hooks.url], secret: HOOK_SECRET },
      livestream: { defaultLayout: 'grid', autoStopEmptySeconds: 0, autoStopNoMediaSeconds: 0 },
    });
    proxy = new TcpProxy(await freeTcpPort(), { host: '127.0.0.1', port: env.gw.port });
    await proxy.start();
    app = new ExistingAppProcess({
      ROOMCAST_URL: `ws://127.0.0.1:${proxy.port}/sidecar`,
      ROOMCAST_SECRET: SECRET,
      APP_NAME: 'acme-meet',
      ROOM,
      VIDEO_SIZE: '320x240',
      PARTICIPANTS: JSON.stringify([
        { id: 'alice-1', name: 'Alice', color: 'red' },
        { id: 'bob-1', name: 'Bob', color: 'blue' },
      ]),
    });
    await app.waitLine('app ready', (l) => l.event === 'ready');
    await waitFor('sidecar room with 4 tracks', () => {
      const r = env.gw.sidecar?.roomSource(ROOM);
      return r && r.participants().flatMap((p) => p.tracks).length === 4;
    });
  });

  afterAll(async () => {
    await app?.stop();
    await proxy?.stop();
    await env?.stop();
    await hooks?.close();
  });

  it('refuses forged, tampered, wrong-room and expired tokens with 401 and a clear error; a participant may read only', async () => {
    const start = (t?: string) =>
      api(env.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, { token: t, body: {} });

    const forged = await start(signPanelToken({ room: ROOM, role: 'moderator' }, 'x'.repeat(40)));
    expect(forged.status).toBe(401);
    expect(forged.body.message).toMatch(/invalid credentials|signature/);

    // A participant's token with the role edited to moderator: the signature no longer matches.
    const [payload, sig] = token('participant').split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...claims, role: 'moderator' })).toString('base64url');
    expect((await start(`${edited}.${sig}`)).status).toBe(401);

    const otherRoom = await start(token('moderator', 'another-room'));
    expect(otherRoom.status).toBe(401);
    expect(otherRoom.body.message).toMatch(/panel token refused: token is for another room/);

    const longAgo = Math.floor(Date.now() / 1000) - 3600;
    const expired = await start(signPanelToken({ room: ROOM, role: 'moderator' }, SECRET, longAgo));
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/panel token refused: token has expired/);

    expect((await start()).status).toBe(401);

    const part = token('participant');
    const read = await api(env.baseUrl, 'GET', `/api/rooms/${ROOM}/livestream`, { token: part });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ room: ROOM, state: 'idle', role: 'participant' });
    expect(read.body).not.toHaveProperty('destinations'); // the public subset only
    expect((await start(part)).status).toBe(403);
    const key = await api(env.baseUrl, 'GET', `/api/rooms/${ROOM}/key`, { token: part });
    expect(key.status).toBe(403);

    // The panel calls the API from the app's origin: the preflight and the answers allow it,
    // with the bearer token as the credential (no cookies).
    const pre = await fetch(`${env.baseUrl}/api/rooms/${ROOM}/livestream/start`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://meet.acme.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await fetch(`${env.baseUrl}/api/rooms/${ROOM}/livestream`, {
      headers: { Origin: 'https://meet.acme.example', Authorization: `Bearer ${token('moderator', 'x')}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*'); // the panel can show why
    const script = await fetch(`${env.baseUrl}/embed/panel.js`, {
      headers: { Origin: 'https://meet.acme.example' },
    });
    expect(script.status).toBe(200);
    expect(script.headers.get('access-control-allow-origin')).toBe('*');
    expect(await script.text()).toContain('roomcast-panel');
  });

  it('a moderator token starts it; HLS shows both participants in their tiles; key, watch page and webhooks work; the app sees no new peer', async () => {
    const started = await api(env.baseUrl, 'POST', `/api/rooms/${ROOM}/livestream/start`, {
      token: token('moderator'),
      body: {},
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    await waitFor('livestream live', async () => (await status()).state === 'live', 30_000);

    const key = await api(env.baseUrl, 'GET', `/api/rooms/${ROOM}/key`, { token: token('moderator') });
    expect(key.status).toBe(200);
    expect(key.body.streamKey).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const playbackId = String(key.body.playbackId);
    expect(playbackId).not.toBe(key.body.streamKey);
    const watch = await fetch(`${env.baseUrl}/watch/${playbackId}`);
    expect(watch.status).toBe(200);
    expect(await watch.text()).not.toContain(String(key.body.streamKey));

    playlist = `${env.baseUrl}/hls/${playbackId}/index.m3u8`;
    await waitFor(
      'HLS segments',
      async () => /\.ts|\.m4s/.test(await (await fetch(playlist)).text()),
      30_000,
    );
    // Red Alice and blue Bob, each in their own grid tile (decoders may need a moment).
    await waitFor('both participants in their tiles', bothInTiles, 30_000, 1000);

    // The app's side: its peer list is its own two; the gateway is only pipes on its router.
    const report = await app!.report();
    expect(report.peers.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    expect(report.transports.webrtc ?? 0).toBe(0);
    expect(report.transports.pipe).toBe(4); // 2 participants x (camera + mic)

    await waitFor('livestream.started webhook', () =>
      hooks.events.find((e) => e.type === 'livestream.started'),
    );
    const startedHook = hooks.events.find((e) => e.type === 'livestream.started')!;
    expect(startedHook.signatureOk).toBe(true);
    expect(startedHook.data).toMatchObject({ room: ROOM });
    expect(String(startedHook.data.watchUrl)).toContain(`/watch/${playbackId}`);
  });

  it('a cut control connection reads `reconnecting`, then `live` when it is back; the picture still has both', async () => {
    await proxy.stop(); // the network between app and gateway fails
    const down = await waitFor(
      'reconnecting',
      async () => {
        const s = await status();
        return s.state === 'reconnecting' ? s : undefined;
      },
      20_000,
    );
    expect(String(down.reason)).toMatch(/lost|link/);
    await app!.waitLine('connector disconnected', (l) => l.event === 'status' && l.status === 'disconnected');
    await new Promise((r) => setTimeout(r, 1500)); // the app retries against a dead port meanwhile
    expect((await status()).state).toBe('reconnecting');

    await proxy.start();
    await waitFor('live again', async () => (await status()).state === 'live', 20_000);
    expect((await status()).reason).toBeNull();
    await waitFor('both participants after the restore', bothInTiles, 20_000, 1000);
    expect((await app!.report()).peers.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
  });

  it('an app that does not come back within the window stops the livestream with the reason', async () => {
    await app!.kill();
    const ended = await waitFor(
      'livestream stopped',
      async () => {
        const s = await status();
        return s.state === 'stopped' ? s : undefined;
      },
      (WINDOW_SECONDS + 20) * 1000,
      500,
    );
    expect(String(ended.reason)).toMatch(
      new RegExp(`room closed: app "acme-meet" did not reconnect within ${WINDOW_SECONDS} s`),
    );
    const hook = await waitFor('livestream.ended webhook', () =>
      hooks.events.find((e) => e.type === 'livestream.ended'),
    );
    expect(hook.signatureOk).toBe(true);
    expect(String(hook.data.reason)).toMatch(/did not reconnect within/);
    // Nothing of that livestream keeps running.
    await waitFor(
      'decoders and encoder gone',
      () => OwnedProcess.liveProcesses().filter((p) => /decoder|encoder/.test(p.name)).length === 0,
    );
    expect(env.gw.sidecar?.roomSource(ROOM)).toBeUndefined();
  });
});
