import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { MEDIA_CODECS } from '../../gateway/src/mediasoup/worker-pool.ts';
import { Livestream } from '../../gateway/src/livestream/livestream.ts';
import type { OutputConfig } from '../../gateway/src/config/schema.ts';
import { SyntheticRoom } from './synthetic-room.ts';
import { RtmpReceiver } from './rtmp-receiver.ts';
import { silentLogger } from './synthetic.ts';
import { waitFor } from './net.ts';

/** A small output for Livestream tests: enough pixels for tile checks, cheap on 2 shared cores. */
export const SMALL_OUTPUT: OutputConfig = {
  width: 640,
  height: 360,
  fps: 30,
  videoBitrateKbps: 800,
  audioBitrateKbps: 96,
  preset: 'veryfast',
  keyframeIntervalSeconds: 1,
};

/**
 * What a Livestream integration test runs against: a real mediasoup worker + router with a
 * SyntheticRoom in it (participants join in the test) and an RtmpReceiver that records every
 * RTMP session. close() stops the livestream (if one was made), the receiver, the room, the worker.
 */
export class LivestreamFixture {
  /** The livestream made by livestream(), stopped on close(). */
  live: Livestream | undefined;

  private constructor(
    readonly worker: ms.Worker,
    readonly room: SyntheticRoom,
    readonly rx: RtmpReceiver,
  ) {}

  static async start(): Promise<LivestreamFixture> {
    const worker = await mediasoup.createWorker({ logLevel: 'error' });
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    const room = new SyntheticRoom(router);
    try {
      return new LivestreamFixture(worker, room, await RtmpReceiver.start());
    } catch (err) {
      await room.close();
      worker.close();
      throw err;
    }
  }

  /** A grid Livestream of the room to the receiver; not started yet. */
  livestream(output: OutputConfig): Livestream {
    this.live = new Livestream({
      source: this.room,
      rtmpUrl: this.rx.url,
      output,
      layout: 'grid',
      logger: silentLogger,
    });
    return this.live;
  }

  async close(): Promise<void> {
    await this.live?.stop();
    await this.rx.stop();
    await this.room.close();
    this.worker.close();
  }
}

/** Starts `live` and waits until it is live. */
export async function goLive(live: Livestream, what = 'live'): Promise<void> {
  await live.start();
  await waitFor(what, () => live.state === 'live', 20_000);
}

/** Waits until the compositor has had a first video frame from every participant. */
export async function waitForAllVideo(live: Livestream, what = 'both videos'): Promise<void> {
  await waitFor(what, () => live.stats().participants.every((p) => p.firstVideoFrameMs !== null), 20_000);
}
