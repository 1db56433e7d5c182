import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { validateConfig } from '../../gateway/src/config/loader.ts';
import { Gateway } from '../../gateway/src/gateway.ts';
import type { ConsumedTrack, RoomSource } from '../../gateway/src/rooms/room-source.ts';
import { RoomcastConnector } from '../../gateway/src/connector/index.ts';
import { helloMac, newNonce } from '../../gateway/src/sidecar/protocol.ts';
import { silentLogger } from '../helpers/synthetic.ts';
import { freeTcpPort, freeUdpPortPair, waitFor } from '../helpers/net.ts';
import { startRtpRecorder } from '../helpers/rtp-receiver.ts';
import { probe } from '../helpers/ffprobe.ts';
import { colorClose, frameAt } from '../helpers/rtmp-receiver.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { ExistingAppProcess as AppProcess } from '../helpers/existing-app-process.ts';

// Sidecar mode across processes: an "existing app" (its own Node process, mediasoup worker and
// router, two synthetic ffmpeg participants, only the public connector API) registers its room
// with an in-process gateway over the authenticated control channel; the gateway consumes the
// app's producers through PipeTransports and decodes each participant's own picture. The control
// channel goes through a TCP relay so the test can cut it like a network failure.

const SECRET = 'sidecar-test-secret-0123456789abcdefghijklmnop';
const ROOM = 'sidecar-demo';
const RED: [number, number, number] = [255, 0, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const GREEN: [number, number, number] = [0, 128, 0];

/** Config of an in-process sidecar-mode gateway: loopback, files under `dir`, no conference. */
async function sidecarGatewayConfig(
  dir: string,
  server: Record<string, unknown>,
  sidecar: Record<string, unknown>,
): Promise<ReturnType<typeof validateConfig>> {
  return validateConfig({
    server: { host: '127.0.0.1', port: 0, ...server },
    log: { level: 'silent' },
    mediasoup: { numWorkers: 1, listenIp: '127.0.0.1', logLevel: 'error' },
    conference: { enabled: false },
    hls: { dir: path.join(dir, 'hls') },
    storage: { database: path.join(dir, 'roomcast.db') },
    rtmp: { bind: '127.0.0.1', port: await freeTcpPort() },
    recording: { dir: path.join(dir, 'recordings') },
    sidecar: { enabled: true, secret: SECRET, ...sidecar },
  });
}

/** Consumes `trackId` to a local ffmpeg recorder for `seconds`; returns the recording. */
async function recordTrack(room: RoomSource, trackId: string, seconds: number, existing?: ConsumedTrack) {
  const port = existing ? existing.receive.port : await freeUdpPortPair();
  const track = existing ?? (await room.consume(trackId, { ip: '127.0.0.1', port, rtcpPort: port + 1 }));
  const rec = startRtpRecorder([track.receive], seconds);
  await new Promise((r) => setTimeout(r, 300)); // receiver bound before media flows
  if (existing) await track.requestKeyFrame();
  else await track.start();
  const exit = await rec.proc.waitForExit();
  expect(exit.code, exit.stderrTail.join('\n')).toBe(0);
  const probed = await probe(rec.outFile);
  const v = probed.streams.find((s) => s.codecType === 'video');
  const frame = await frameAt(rec.outFile, 0.5, 160, 120);
  rmSync(rec.workDir, { recursive: true, force: true });
  return { track, frames: v?.frames ?? 0, width: v?.width, centre: frame.pixel(80, 60) };
}

function videoTrackOf(room: RoomSource, participantId: string): string {
  const t = room
    .participants()
    .find((p) => p.id === participantId)
    ?.tracks.find((x) => x.kind === 'video');
  if (!t) throw new Error(`no video track for ${participantId}`);
  return t.id;
}

describe('sidecar: livestream source from another process’s mediasoup server', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-sidecar-'));
  let gw: Gateway;
  let proxy: TcpProxy;
  let app: AppProcess | undefined;
  let app2: AppProcess | undefined;
  const connectors: RoomcastConnector[] = [];

  const appEnv = (participants: unknown) => ({
    ROOMCAST_URL: `ws://127.0.0.1:${proxy.port}/sidecar`,
    ROOMCAST_SECRET: SECRET,
    APP_NAME: 'acme-meet',
    ROOM,
    PARTICIPANTS: JSON.stringify(participants),
  });

  beforeAll(async () => {
    const config = await sidecarGatewayConfig(dir, {}, { reconnectWindowSeconds: 12 });
    gw = await Gateway.start(config, silentLogger);
    proxy = new TcpProxy(await freeTcpPort(), { host: '127.0.0.1', port: gw.port });
    await proxy.start();
  });

  afterAll(async () => {
    for (const c of connectors) c.close();
    await app?.stop();
    await app2?.stop();
    await proxy?.stop();
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists both participants with tracks, and each piped video decodes to that participant’s picture', async () => {
    app = new AppProcess(
      appEnv([
        { id: 'alice-1', name: 'Alice', color: 'red' },
        { id: 'bob-1', name: 'Bob', color: 'blue' },
      ]),
    );
    await app.waitLine('app ready', (l) => l.event === 'ready');
    await app.waitLine('connector connected', (l) => l.event === 'status' && l.status === 'connected');

    const room = await waitFor('room with 2 participants and 4 tracks', () => {
      const r = gw.sidecar?.roomSource(ROOM);
      return r && r.participants().flatMap((p) => p.tracks).length === 4 ? r : undefined;
    });
    const people = room.participants().sort((a, b) => a.id.localeCompare(b.id));
    expect(people.map((p) => [p.id, p.displayName])).toEqual([
      ['alice-1', 'Alice'],
      ['bob-1', 'Bob'],
    ]);
    for (const p of people) {
      expect(p.tracks.map((t) => `${t.kind}:${t.source}`).sort()).toEqual(['audio:mic', 'video:camera']);
      expect(p.excludedFromStream).toBe(false);
    }
    expect(gw.sidecar?.registry.rooms()).toEqual([
      { name: ROOM, app: 'acme-meet', status: 'live', participants: 2 },
    ]);

    const alice = await recordTrack(room, videoTrackOf(room, 'alice-1'), 3);
    const bob = await recordTrack(room, videoTrackOf(room, 'bob-1'), 3);
    expect(alice.width).toBe(160);
    expect(alice.frames).toBeGreaterThan(15);
    expect(bob.frames).toBeGreaterThan(15);
    expect(colorClose(alice.centre, RED), `alice centre ${alice.centre.join(',')}`).toBe(true);
    expect(colorClose(bob.centre, BLUE), `bob centre ${bob.centre.join(',')}`).toBe(true);

    // The app's side: its peers are still only its own; the gateway shows up only as two pipes.
    const during = await app.report();
    expect((during.peers as { displayName: string }[]).map((p) => p.displayName).sort()).toEqual([
      'Alice',
      'Bob',
    ]);
    expect((during.transports as Record<string, number>).pipe).toBe(2);
    expect((during.transports as Record<string, number>).webrtc ?? 0).toBe(0);

    // The app mutes Bob's camera (producer.pause() only): the gateway's room and consumer follow.
    const bobEvents: string[] = [];
    room.on('trackPaused', (pid) => bobEvents.push(`room-paused:${pid}`));
    room.on('trackResumed', (pid) => bobEvents.push(`room-resumed:${pid}`));
    bob.track.on('paused', () => bobEvents.push('consumer-paused'));
    bob.track.on('resumed', () => bobEvents.push('consumer-resumed'));
    app.child.stdin!.write('pause bob-1\n');
    await waitFor(
      'bob paused',
      () => bobEvents.includes('consumer-paused') && bobEvents.includes('room-paused:bob-1'),
    );
    expect(
      room
        .participants()
        .find((p) => p.id === 'bob-1')
        ?.tracks.find((t) => t.kind === 'video')?.paused,
    ).toBe(true);
    app.child.stdin!.write('resume bob-1\n');
    await waitFor(
      'bob resumed',
      () => bobEvents.includes('consumer-resumed') && bobEvents.includes('room-resumed:bob-1'),
    );

    // Stop consuming → the pipes are torn down on both sides.
    bob.track.close();
    await waitFor(
      'bob pipe closed on the app',
      async () => ((await app!.report()).transports as Record<string, number>).pipe === 1,
    );
    alice.track.close();
    await waitFor(
      'all pipes closed on the app',
      async () => ((await app!.report()).transports as Record<string, number>).pipe === 0,
    );
  });

  it('a lost control connection → interrupted, then restored; the same consumer delivers frames again', async () => {
    const room = gw.sidecar!.roomSource(ROOM)!;
    const events: string[] = [];
    room.on('interrupted', (reason) => events.push(`interrupted:${reason}`));
    room.on('restored', () => events.push('restored'));
    room.on('closed', (reason) => events.push(`closed:${reason}`));

    const first = await recordTrack(room, videoTrackOf(room, 'alice-1'), 2);
    expect(colorClose(first.centre, RED)).toBe(true);
    const consumer = first.track;

    await proxy.stop(); // the network between app and gateway fails
    await waitFor('interrupted', () => events.some((e) => e.startsWith('interrupted')));
    expect(room.status).toBe('interrupted');
    await expect(
      room.consume(videoTrackOf(room, 'bob-1'), { ip: '127.0.0.1', port: 9, rtcpPort: 10 }),
    ).rejects.toThrow(/reconnecting/);
    await app!.waitLine('connector disconnected', (l) => l.event === 'status' && l.status === 'disconnected');
    await new Promise((r) => setTimeout(r, 1500)); // the app retries against a dead port meanwhile
    await proxy.start();
    await waitFor('restored', () => events.includes('restored'));
    expect(room.status).toBe('live');
    expect(events.some((e) => e.startsWith('closed'))).toBe(false);
    expect(consumer.closed).toBe(false);
    expect(room.participants()).toHaveLength(2);

    const again = await recordTrack(room, consumer.trackId, 2, consumer);
    expect(again.frames).toBeGreaterThan(10);
    expect(colorClose(again.centre, RED), `centre ${again.centre.join(',')}`).toBe(true);
    consumer.close();
  });

  it('the app process dies and a new one comes back within the window → restored with its new participants', async () => {
    const room = gw.sidecar!.roomSource(ROOM)!;
    const port = await freeUdpPortPair();
    const old = await room.consume(videoTrackOf(room, 'alice-1'), {
      ip: '127.0.0.1',
      port,
      rtcpPort: port + 1,
    });
    await old.start();
    const events: string[] = [];
    room.on('interrupted', () => events.push('interrupted'));
    room.on('restored', () => events.push('restored'));
    room.on('participantLeft', (id) => events.push(`left:${id}`));
    room.on('participantJoined', (p) => events.push(`joined:${p.id}`));
    old.once('closed', () => events.push('old-consumer-closed'));

    await app!.kill();
    await waitFor('interrupted', () => events.includes('interrupted'));
    app2 = new AppProcess(appEnv([{ id: 'carol-1', name: 'Carol', color: 'green' }]));
    // The new app's participants arrive in its state messages, which may follow `restored`.
    const expected = ['restored', 'left:alice-1', 'left:bob-1', 'joined:carol-1', 'old-consumer-closed'];
    await waitFor('restored with the new app state', () => expected.every((e) => events.includes(e)), 30_000);
    expect(events).toEqual(expect.arrayContaining(expected));
    expect(gw.sidecar!.roomSource(ROOM)).toBe(room);
    expect(room.participants().map((p) => p.displayName)).toEqual(['Carol']);
    const carol = await recordTrack(room, videoTrackOf(room, 'carol-1'), 2);
    expect(carol.frames).toBeGreaterThan(10);
    expect(colorClose(carol.centre, GREEN), `carol centre ${carol.centre.join(',')}`).toBe(true);
    carol.track.close();
  });

  it('forged secret, a bad hello and malformed messages are refused with a clear error; the room is unaffected', async () => {
    // Through the public connector API with a wrong secret.
    const forged = new RoomcastConnector({
      url: `ws://127.0.0.1:${gw.port}/sidecar`,
      secret: 'x'.repeat(40),
      appName: 'intruder',
      reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 },
    });
    connectors.push(forged);
    const refused = await new Promise<string>((resolve) => forged.once('refused', resolve));
    forged.close();
    expect(refused).toMatch(/authentication failed.*signature does not match/);
    expect(gw.sidecar!.registry.rooms().map((r) => r.app)).toEqual(['acme-meet']);

    // Raw clients: garbage instead of a hello; a valid hello then a malformed message.
    const raw = async (script: (ws: WebSocket, challenge: string) => void) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/sidecar`);
      const got: { errors: string[]; code?: number } = { errors: [] };
      await new Promise<void>((resolve) => {
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; nonce?: string; message?: string };
          if (m.type === 'challenge') script(ws, m.nonce!);
          if (m.type === 'error') got.errors.push(m.message!);
        });
        ws.on('close', (code) => {
          got.code = code;
          resolve();
        });
      });
      return got;
    };
    const garbage = await raw((ws) => ws.send('{"type":"hello","appName":"x"'));
    expect(garbage.code).toBe(4401);
    expect(garbage.errors[0]).toMatch(
      /authentication failed: expected a hello \(message is not valid JSON\)/,
    );

    const malformed = await raw((ws, challenge) => {
      const nonce = newNonce();
      ws.send(
        JSON.stringify({
          type: 'hello',
          v: 1,
          appName: 'tester',
          nonce,
          mac: helloMac(SECRET, challenge, nonce, 'tester'),
        }),
      );
      ws.once('message', () =>
        ws.send(
          JSON.stringify({ type: 'room.state', room: 'Bad Room!', participants: [], activeSpeaker: null }),
        ),
      );
    });
    expect(malformed.code).toBe(4400);
    expect(malformed.errors[0]).toMatch(/invalid message: room: room names are lowercase/);

    // Another app cannot take over a live room's name.
    const thief = new RoomcastConnector({
      url: `ws://127.0.0.1:${gw.port}/sidecar`,
      secret: SECRET,
      appName: 'other-app',
    });
    connectors.push(thief);
    const roomRefused = new Promise<string>((resolve) => thief.once('roomRefused', (_r, m) => resolve(m)));
    const thiefRouter = await gw.workers.createRouter();
    thief.registerRoom(ROOM, thiefRouter);
    expect(await roomRefused).toMatch(/already registered by another app \("acme-meet"\)/);
    thief.close();
    thiefRouter.close();

    const room = gw.sidecar!.roomSource(ROOM)!;
    expect(room.status).toBe('live');
    expect(room.participants().map((p) => p.displayName)).toEqual(['Carol']);
  });

  it('an app that does not come back within the window → closed with a reason', async () => {
    const room = gw.sidecar!.roomSource(ROOM)!;
    const closed = new Promise<string>((resolve) => room.once('closed', resolve));
    await app2!.kill();
    const reason = await closed;
    expect(reason).toMatch(/app "acme-meet" did not reconnect within 12 s/);
    expect(gw.sidecar!.roomSource(ROOM)).toBeUndefined();
  });
});

describe('sidecar over TLS (wss://)', () => {
  it('the connector authenticates over wss with the gateway certificate, and refuses an untrusted one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-sidecar-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const gw = await Gateway.start(await sidecarGatewayConfig(dir, { tls: { cert, key } }, {}), silentLogger);
    const router = await gw.workers.createRouter();
    const url = `wss://127.0.0.1:${gw.port}/sidecar`;
    const untrusted = new RoomcastConnector({
      url,
      secret: SECRET,
      appName: 'tls-app',
      reconnect: { initialDelayMs: 5000 },
    });
    const trusted = new RoomcastConnector({
      url,
      secret: SECRET,
      appName: 'tls-app',
      tls: { ca: readFileSync(cert) },
    });
    try {
      const wentDown = new Promise<void>((resolve) =>
        untrusted.once('status', (s) => s === 'disconnected' && resolve()),
      );
      trusted.registerRoom('tls-room', router).participantJoined({ id: 'p1', displayName: 'Over TLS' });
      await waitFor('room over wss', () => gw.sidecar?.roomSource('tls-room')?.participants().length === 1);
      expect(trusted.status).toBe('connected');
      await wentDown; // self-signed certificate not trusted: the TLS handshake fails, no session
      expect(gw.sidecar?.registry.rooms()).toHaveLength(1);
    } finally {
      untrusted.close();
      trusted.close();
      router.close();
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
