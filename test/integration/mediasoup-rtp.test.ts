import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { MEDIA_CODECS } from '../../gateway/src/mediasoup/worker-pool.ts';
import { consumerReceiveStream } from '../../gateway/src/rtp/sdp.ts';
import { startSyntheticSender, type SyntheticProducers } from '../helpers/synthetic.ts';
import { startRtpRecorder } from '../helpers/rtp-receiver.ts';
import { freeUdpPortPair } from '../helpers/net.ts';
import { probe } from '../helpers/ffprobe.ts';

// The offline-built worker carries real media: ffmpeg → PlainTransport producer → router →
// consumer on a second PlainTransport → ffmpeg receiver; ffprobe decodes what arrived.
describe('mediasoup worker (offline build) moves RTP end to end', () => {
  let worker: ms.Worker;
  let router: ms.Router;
  let sender: SyntheticProducers;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'error' });
    router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  });

  afterAll(async () => {
    await sender?.close();
    worker?.close();
  });

  it('router offers VP8, H264 and Opus', () => {
    const mimes = router.rtpCapabilities.codecs?.map((c) => c.mimeType) ?? [];
    expect(mimes).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8', 'video/H264']));
  });

  it('VP8 test pattern + Opus from an ffmpeg sender reach an ffmpeg receiver through a consumer', async () => {
    sender = await startSyntheticSender({
      router,
      name: 'pattern',
      videoInput: ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      audioInput: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    });
    expect(sender.video).toBeDefined();
    expect(sender.audio).toBeDefined();

    const out = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: false,
      comedia: false,
    });
    const videoPort = await freeUdpPortPair();
    let audioPort = await freeUdpPortPair();
    while (audioPort === videoPort) audioPort = await freeUdpPortPair();
    // One transport per RTP destination: each connect() sets a single remote address.
    const outAudio = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: false,
      comedia: false,
    });
    await out.connect({ ip: '127.0.0.1', port: videoPort, rtcpPort: videoPort + 1 });
    await outAudio.connect({ ip: '127.0.0.1', port: audioPort, rtcpPort: audioPort + 1 });
    const videoConsumer = await out.consume({
      producerId: sender.video!.id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
    });
    const audioConsumer = await outAudio.consume({
      producerId: sender.audio!.id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
    });

    const rec = startRtpRecorder(
      [consumerReceiveStream(videoConsumer, videoPort), consumerReceiveStream(audioConsumer, audioPort)],
      4,
    );
    await new Promise((r) => setTimeout(r, 300)); // receiver sockets bound
    await videoConsumer.resume();
    await audioConsumer.resume();
    await videoConsumer.requestKeyFrame();
    const exit = await rec.proc.waitForExit();
    expect(exit.code, exit.stderrTail.join('\n')).toBe(0);

    const stats = await videoConsumer.getStats();
    const outbound = stats.find((s) => s.type === 'outbound-rtp');
    expect(outbound?.packetCount ?? 0).toBeGreaterThan(50);

    const probed = await probe(rec.outFile);
    const v = probed.streams.find((s) => s.codecType === 'video');
    const a = probed.streams.find((s) => s.codecType === 'audio');
    expect(v?.codecName).toBe('vp8');
    expect(v?.width).toBe(320);
    expect(v?.frames ?? 0).toBeGreaterThan(30);
    expect(a?.codecName).toBe('opus');
    expect(a?.frames ?? 0).toBeGreaterThan(50);
    out.close();
    outAudio.close();
  });
});
