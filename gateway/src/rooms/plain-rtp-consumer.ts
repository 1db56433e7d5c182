import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import { consumerReceiveStream, type RtpReceiveStream } from '../rtp/sdp.ts';
import type { ConsumedTrack, ConsumedTrackEvents, RtpDestination } from './room-source.ts';

/**
 * Consumes a producer of `router` on its own PlainTransport that sends RTP (+ RTCP on a separate
 * port) to `destination`. This is not a signaling peer: the room's participants never learn of it.
 * Used by every RoomSource connector, so consumption behaves the same embedded or as a sidecar.
 */
export async function consumeToRtp(
  router: ms.Router,
  producerId: string,
  destination: RtpDestination,
  listenIp = '127.0.0.1',
): Promise<ConsumedTrack> {
  const transport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: listenIp },
    rtcpMux: false,
    comedia: false,
    appData: { hidden: true, purpose: 'livestream' },
  });
  try {
    await transport.connect({ ip: destination.ip, port: destination.port, rtcpPort: destination.rtcpPort });
    const consumer = await transport.consume({
      producerId,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
      appData: { hidden: true },
    });
    return new PlainRtpConsumedTrack(
      transport,
      consumer,
      consumerReceiveStream(consumer, destination.port, destination.rtcpPort),
    );
  } catch (err) {
    transport.close();
    throw err;
  }
}

class PlainRtpConsumedTrack extends EventEmitter<ConsumedTrackEvents> implements ConsumedTrack {
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  private isClosed = false;

  constructor(
    private readonly transport: ms.PlainTransport,
    private readonly consumer: ms.Consumer,
    readonly receive: RtpReceiveStream,
  ) {
    super();
    this.trackId = consumer.producerId;
    this.kind = consumer.kind;
    const onGone = () => this.close();
    consumer.on('producerclose', onGone);
    consumer.on('transportclose', onGone);
    consumer.on('producerpause', () => this.emit('paused'));
    consumer.on('producerresume', () => this.emit('resumed'));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async start(): Promise<void> {
    if (this.isClosed) return;
    await this.consumer.resume();
    await this.requestKeyFrame();
  }

  async requestKeyFrame(): Promise<void> {
    if (this.isClosed || this.kind !== 'video') return;
    await this.consumer.requestKeyFrame().catch(() => {
      /* consumer closed meanwhile */
    });
  }

  async bytesSent(): Promise<number> {
    if (this.isClosed) return 0;
    const stats = await this.consumer.getStats().catch(() => []);
    return stats.filter((s) => s.type === 'outbound-rtp').reduce((sum, s) => sum + (s.byteCount ?? 0), 0);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.transport.close();
    this.emit('closed');
  }
}
