import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types as ms } from 'mediasoup';
import type { ProducerAppData } from '../../gateway/src/conference/peer.ts';
import type { ConsumedTrack, RoomSource } from '../../gateway/src/rooms/room-source.ts';
import { startTestGateway, TestSignalingClient } from '../helpers/conference.ts';
import { startSyntheticSender, type SyntheticProducers } from '../helpers/synthetic.ts';
import { startRtpRecorder } from '../helpers/rtp-receiver.ts';
import { freeUdpPortPair, waitFor } from '../helpers/net.ts';
import { probe } from '../helpers/ffprobe.ts';

// The embedded RoomSource: participants are real signaling peers (WebSocket clients of the
// gateway). Their media comes from synthetic ffmpeg senders registered as the peers' tracks,
// because browser WebRTC into this worker build is blocked (see the issue 3 report: the worker
// segfaults in libssl on the first DTLS write). Consumption goes through the real path:
// RoomSource.consume → PlainTransport consumer → ffmpeg receiver → decoded frames.
describe('EmbeddedRoomSource', () => {
  let env: Awaited<ReturnType<typeof startTestGateway>>;
  const clients: TestSignalingClient[] = [];
  const senders: SyntheticProducers[] = [];
  let consumed: ConsumedTrack | undefined;

  beforeAll(async () => {
    env = await startTestGateway();
  });
  afterAll(async () => {
    consumed?.close();
    await Promise.all(senders.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
  });

  async function join(name: string) {
    const c = await TestSignalingClient.connect(env.wsUrl);
    clients.push(c);
    const r = await c.request('join', { room: 'rs', displayName: name });
    expect(r.ok).toBe(true);
    return { client: c, peerId: r.data!.peerId as string };
  }

  async function publishSynthetic(peerId: string, color: string) {
    const room = env.gw.conference!.room('rs')!;
    const peer = room.peers.get(peerId)!;
    const s = await startSyntheticSender({
      router: room.router,
      name: color,
      videoInput: ['-f', 'lavfi', '-i', `color=c=${color}:size=320x240:rate=15`],
      audioInput: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      appData: { peerId },
    });
    senders.push(s);
    await room.registerProducer(peer, s.video as ms.Producer<ProducerAppData>);
    await room.registerProducer(peer, s.audio as ms.Producer<ProducerAppData>);
    return s;
  }

  it('lists both participants with their tracks, and events follow the room', async () => {
    const alice = await join('Alice');
    const conf = env.gw.conference!;
    const source: RoomSource = conf.roomSource('rs')!;
    expect(conf.roomSource('rs')).toBe(source); // one source per room
    const events: string[] = [];
    source.on('participantJoined', (p) => events.push(`joined:${p.displayName}`));
    source.on('trackAdded', (_id, t) => events.push(`track:${t.kind}:${t.source}`));
    source.on('participantUpdated', (p) => events.push(`updated:${p.displayName}:${p.excludedFromStream}`));

    const bob = await join('Bob');
    await publishSynthetic(alice.peerId, 'red');
    await publishSynthetic(bob.peerId, 'blue');
    expect((await bob.client.request('stream.setExcluded', { excluded: true })).ok).toBe(true);

    const parts = source.participants();
    expect(parts.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    for (const p of parts) {
      expect(p.tracks.map((t) => `${t.kind}:${t.source}:${t.paused}`).sort()).toEqual([
        'audio:mic:false',
        'video:camera:false',
      ]);
    }
    expect(parts.find((p) => p.displayName === 'Bob')?.excludedFromStream).toBe(true);
    expect(events).toEqual([
      'joined:Bob',
      'track:video:camera',
      'track:audio:mic',
      'track:video:camera',
      'track:audio:mic',
      'updated:Bob:true',
    ]);
    // Peers were told about each other's tracks through signaling.
    await waitFor('newProducer at Alice', () =>
      alice.client.notifications.filter((n) => n.method === 'newProducer').length === 2 ? true : undefined,
    );
  });

  it('consumes a video track to an ffmpeg receiver that decodes frames; the consumer stays hidden', async () => {
    const source = env.gw.conference!.roomSource('rs')!;
    const alice = source.participants().find((p) => p.displayName === 'Alice')!;
    const video = alice.tracks.find((t) => t.kind === 'video')!;
    const notificationsBefore = clients.map((c) => c.notifications.length);

    const port = await freeUdpPortPair();
    consumed = await source.consume(video.id, { ip: '127.0.0.1', port, rtcpPort: port + 1 });
    expect(consumed.kind).toBe('video');
    const rec = startRtpRecorder([consumed.receive], 4);
    await new Promise((r) => setTimeout(r, 300)); // let ffmpeg bind before media flows
    await consumed.start();
    await rec.proc.waitForExit();
    const probed = await probe(rec.outFile);
    const v = probed.streams.find((s) => s.codecType === 'video');
    expect(v?.codecName).toBe('vp8');
    expect(v?.frames ?? 0).toBeGreaterThan(10);
    expect(await consumed.bytesSent()).toBeGreaterThan(1000);

    // Hidden: no signaling peer was told anything, and a newcomer sees exactly Alice and Bob.
    // (activeSpeaker may fire: the synthetic mics play a tone.)
    const newMethods = clients.flatMap((c, i) =>
      c.notifications.slice(notificationsBefore[i]).map((n) => n.method),
    );
    expect(newMethods.filter((m) => m !== 'activeSpeaker')).toEqual([]);
    const carol = await TestSignalingClient.connect(env.wsUrl);
    clients.push(carol);
    const j = await carol.request('join', { room: 'rs', displayName: 'Carol' });
    const peers = j.data!.peers as { displayName: string; producers: unknown[] }[];
    expect(peers.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    expect(peers.every((p) => p.producers.length === 2)).toBe(true);
    expect(source.participants()).toHaveLength(3);
  });

  it('a consumed track closes when its participant leaves', async () => {
    const source = env.gw.conference!.roomSource('rs')!;
    const left: string[] = [];
    source.on('participantLeft', (id) => left.push(id));
    const removed: string[] = [];
    source.on('trackRemoved', (_p, t) => removed.push(t));
    const alice = source.participants().find((p) => p.displayName === 'Alice')!;
    const closed = new Promise<void>((resolve) => consumed!.once('closed', () => resolve()));
    await clients[0]!.close();
    await closed;
    expect(consumed!.closed).toBe(true);
    expect(left).toEqual([alice.id]);
    expect(removed.sort()).toEqual(alice.tracks.map((t) => t.id).sort());
    await expect(
      source.consume(alice.tracks[0]!.id, { ip: '127.0.0.1', port: 9, rtcpPort: 10 }),
    ).rejects.toThrow('no track');
  });
});
