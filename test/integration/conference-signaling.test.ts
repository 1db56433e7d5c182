import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestGateway, TestSignalingClient } from '../helpers/conference.ts';
import { waitFor } from '../helpers/net.ts';

// The embedded conference over its real WebSocket, with a real mediasoup worker: validation of
// every message, moderator tokens, cleanup when a socket closes, room close after the grace period.
describe('conference signaling', () => {
  let env: Awaited<ReturnType<typeof startTestGateway>>;
  const clients: TestSignalingClient[] = [];
  const CONFIG_MOD_TOKEN = 'config-moderator-token-123456';

  const connect = async (headers?: Record<string, string>) => {
    const c = await TestSignalingClient.connect(env.wsUrl, headers);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    env = await startTestGateway({
      conference: { emptyRoomGraceSeconds: 0.5, moderators: { staff: [CONFIG_MOD_TOKEN] } },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
  });

  it('serves the lobby, meeting pages (bad room name → 400 page) and cached assets, with a CSP', async () => {
    const home = await fetch(`${env.baseUrl}/`);
    expect(home.status).toBe(200);
    const homeHtml = await home.text();
    expect(homeHtml).toContain('roomcast');
    expect(homeHtml).toContain('data-testid="lobby-form"');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");

    const meeting = await fetch(`${env.baseUrl}/r/team-sync`);
    expect(meeting.status).toBe(200);
    const meetingHtml = await meeting.text();
    expect(meetingHtml).toContain('data-testid="grid"');
    expect(meeting.headers.get('content-security-policy')).toContain("default-src 'self'");

    const bad = await fetch(`${env.baseUrl}/r/Team%20Sync`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('text/html');
    expect(await bad.text()).toContain('Room name contains &#34;T&#34;');
    const long = await fetch(`${env.baseUrl}/r/${'a'.repeat(65)}`);
    expect(long.status).toBe(400);

    const script = /src="(\/assets\/meeting-[^"]+\.js)"/.exec(meetingHtml)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${env.baseUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${env.baseUrl}/assets/nope.js`)).status).toBe(404);
  });

  it('answers malformed, unknown and out-of-order messages with errors and keeps serving', async () => {
    const c = await connect();
    c.sendRaw('{not json');
    expect(await c.nextResponse()).toMatchObject({ ok: false, id: null, error: { code: 'bad_json' } });
    c.sendRaw(JSON.stringify({ id: 'x', method: 'join' }));
    const badId = await c.nextResponse();
    expect(badId.error?.code).toBe('bad_request');
    expect(badId.error?.message).toContain('id');
    c.sendRaw(Buffer.from([1, 2, 3]));
    expect((await c.nextResponse()).error?.message).toContain('binary');

    expect(await c.request('nope')).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect((await c.request('nope')).error?.message).toContain("'nope'");
    expect(await c.request('createWebRtcTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'not_joined' },
    });
    const badRoom = await c.request('join', { room: 'Bad Room', displayName: 'A' });
    expect(badRoom.error?.message).toMatch(/^room: Room name contains "B"/);
    const noName = await c.request('join', { room: 'ok', displayName: '  ' });
    expect(noName.error?.message).toContain('displayName');
    const typo = await c.request('join', { room: 'ok', displayName: 'A', extra: 1 });
    expect(typo).toMatchObject({ ok: false, error: { code: 'bad_params' } });
    expect(typo.error?.message).toContain('extra');

    // Still the same healthy connection and server.
    const joined = await c.request('join', { room: 'validation', displayName: 'A' });
    expect(joined.ok).toBe(true);
    const badProduce = await c.request('produce', {
      transportId: 'nope',
      kind: 'video',
      rtpParameters: {},
      appData: { source: 'desktop' },
    });
    expect(badProduce.error?.message).toContain('appData.source');
    expect(
      (await c.request('connectWebRtcTransport', { transportId: 'x', dtlsParameters: {} })).error?.message,
    ).toContain('no transport x');
    expect((await fetch(`${env.baseUrl}/healthz`)).status).toBe(200);
  });

  it('closes a socket that sends an oversized frame, without harming the server', async () => {
    const c = await connect();
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.sendRaw('x'.repeat(300 * 1024));
    expect(await closed).toBe(1009);
    const again = await connect();
    expect((await again.request('join', { room: 'size', displayName: 'B' })).ok).toBe(true);
  });

  it('refuses a WebSocket from a page of another origin', async () => {
    await expect(TestSignalingClient.connect(env.wsUrl, { Origin: 'https://evil.example' })).rejects.toThrow(
      '403',
    );
    const same = await connect({ Origin: env.baseUrl });
    expect(same.ws.readyState).toBe(same.ws.OPEN);
  });

  it('gives the creator a moderator token; others are moderators only with a valid token', async () => {
    const conf = env.gw.conference!;
    const a = await connect();
    const ja = await a.request('join', { room: 'mods', displayName: 'Creator' });
    const token = ja.data?.moderatorToken as string;
    expect(ja.data?.moderator).toBe(true);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(conf.isModerator('mods', token)).toBe(true);
    expect(conf.isModerator('mods', token.slice(0, -1))).toBe(false);
    expect(conf.isModerator('other', token)).toBe(false);

    const b = await connect();
    const jb = await b.request('join', {
      room: 'mods',
      displayName: 'Guest',
      moderatorToken: 'guess-guess-guess',
    });
    expect(jb.data).toMatchObject({ moderator: false });
    expect(jb.data?.moderatorToken).toBeUndefined();
    expect((jb.data?.peers as { displayName: string }[]).map((p) => p.displayName)).toEqual(['Creator']);

    const c = await connect();
    const jc = await c.request('join', { room: 'mods', displayName: 'Back', moderatorToken: token });
    expect(jc.data).toMatchObject({ moderator: true, moderatorToken: token });

    const s = await connect();
    const js = await s.request('join', { room: 'staff', displayName: 'S', moderatorToken: CONFIG_MOD_TOKEN });
    expect(js.data?.moderator).toBe(true);
    expect(conf.isModerator('staff', CONFIG_MOD_TOKEN)).toBe(true);
  });

  it('extra methods can be registered, moderator-only ones are refused to others; notifyRoom reaches every peer', async () => {
    const conf = env.gw.conference!;
    conf.registerMethod('test.echo', {
      params: z.object({ n: z.number() }).strict(),
      moderatorOnly: true,
      handler: ({ room, peer }, p) => ({ n: p.n * 2, room: room.name, peer: peer.displayName }),
    });
    expect(() => conf.registerMethod('join', { params: z.object({}), handler: () => ({}) })).toThrow(
      'exists',
    );
    const mod = await connect();
    await mod.request('join', { room: 'ext', displayName: 'Mod' });
    const guest = await connect();
    await guest.request('join', { room: 'ext', displayName: 'Guest' });
    expect(await mod.request('test.echo', { n: 21 })).toMatchObject({
      ok: true,
      data: { n: 42, room: 'ext', peer: 'Mod' },
    });
    expect(await mod.request('test.echo', { n: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'bad_params' },
    });
    expect(await guest.request('test.echo', { n: 1 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });

    expect(conf.notifyRoom('ext', 'livestream.state', { live: true })).toBe(true);
    expect(conf.notifyRoom('no-such-room', 'x', {})).toBe(false);
    for (const c of [mod, guest])
      expect((await c.notification('livestream.state')).data).toEqual({ live: true });
  });

  it('cleans up a peer when its socket closes and closes the room after the grace period', async () => {
    const conf = env.gw.conference!;
    const events: string[] = [];
    conf.on('roomCreated', (r) => events.push(`created:${r}`));
    conf.on('roomClosed', (r, reason) => events.push(`closed:${r}:${reason}`));
    const a = await connect();
    const b = await connect();
    await a.request('join', { room: 'life', displayName: 'A' });
    await b.request('join', { room: 'life', displayName: 'B' });
    const t = await b.request('createWebRtcTransport', { direction: 'send' });
    expect(t.data).toMatchObject({ id: expect.any(String), iceCandidates: expect.any(Array) });
    // UDP and TCP candidates, on the loopback listen ip.
    const cands = t.data!.iceCandidates as { protocol: string; address: string }[];
    expect(cands.map((x) => x.protocol).sort()).toEqual(['tcp', 'udp']);
    expect(cands.every((x) => x.address === '127.0.0.1')).toBe(true);

    const room = conf.room('life')!;
    const peerB = [...room.peers.values()].find((p) => p.displayName === 'B')!;
    const transport = [...peerB.transports.values()][0]!;
    const source = conf.roomSource('life')!;
    const left: string[] = [];
    source.on('participantLeft', (id) => left.push(id));
    expect(
      source
        .participants()
        .map((p) => p.displayName)
        .sort(),
    ).toEqual(['A', 'B']);

    await b.close();
    const n = await a.notification('peerLeft');
    expect(n.data).toEqual({ peerId: peerB.id });
    expect(transport.closed).toBe(true);
    expect(left).toEqual([peerB.id]);
    expect(source.participants().map((p) => p.displayName)).toEqual(['A']);

    await a.close();
    await waitFor('room closed', () => room.closed, 5000);
    expect(room.router.closed).toBe(true);
    expect(conf.roomSource('life')).toBeUndefined();
    expect(source.closed).toBe(true);
    expect(events).toEqual(['created:life', 'closed:life:empty']);
  });
});
