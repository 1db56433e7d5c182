import type { types as ms } from 'mediasoup';
import pino from 'pino';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface SyntheticProducers {
  video?: ms.Producer;
  audio?: ms.Producer;
  transports: ms.PlainTransport[];
  sender: OwnedProcess;
  close(): Promise<void>;
}

export interface SyntheticSenderOptions {
  router: ms.Router;
  /** ffmpeg input args for the video, e.g. a lavfi test source or a pre-encoded VP8 file (-c copy). */
  videoInput?: string[];
  /** ffmpeg input args for the audio. */
  audioInput?: string[];
  /** true when the inputs are already VP8/Opus (replay with -c copy). */
  copy?: boolean;
  name?: string;
  appData?: Record<string, unknown>;
}

let ssrcSeq = 11110000;

/**
 * An ffmpeg process pushing VP8 + Opus over RTP into PlainTransport producers (comedia, no
 * rtcp-mux: ffmpeg sends RTCP from a different port). ffmpeg ignores keyframe requests, so live
 * sources use a 1 s GOP.
 */
export async function startSyntheticSender(opts: SyntheticSenderOptions): Promise<SyntheticProducers> {
  const transports: ms.PlainTransport[] = [];
  const args: string[] = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  const outputs: string[] = [];
  let inputIndex = 0;
  let video: ms.Producer | undefined;
  let audio: ms.Producer | undefined;

  const mkTransport = async () => {
    const t = await opts.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: false,
      comedia: true,
    });
    transports.push(t);
    return t;
  };

  if (opts.videoInput) {
    const t = await mkTransport();
    const ssrc = ssrcSeq++;
    video = await t.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
      appData: { ...opts.appData, source: 'camera' },
    });
    args.push('-re', ...opts.videoInput);
    const codec = opts.copy
      ? ['-c:v', 'copy']
      : [
          '-c:v',
          'libvpx',
          '-deadline',
          'realtime',
          '-cpu-used',
          '8',
          '-g',
          '30',
          '-keyint_min',
          '30',
          '-b:v',
          '400k',
          '-pix_fmt',
          'yuv420p',
        ];
    outputs.push(
      '-map',
      `${inputIndex}:v:0`,
      ...codec,
      '-ssrc',
      String(ssrc),
      '-payload_type',
      '101',
      '-f',
      'rtp',
      `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple?.localPort ?? t.tuple.localPort + 1}&pkt_size=1200`,
    );
    inputIndex++;
  }
  if (opts.audioInput) {
    const t = await mkTransport();
    const ssrc = ssrcSeq++;
    audio = await t.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'audio/opus',
            payloadType: 100,
            clockRate: 48000,
            channels: 2,
            parameters: { 'sprop-stereo': 1 },
          },
        ],
        encodings: [{ ssrc }],
      },
      appData: { ...opts.appData, source: 'mic' },
    });
    args.push('-re', ...opts.audioInput);
    const codec = opts.copy
      ? ['-c:a', 'copy']
      : ['-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k'];
    outputs.push(
      '-map',
      `${inputIndex}:a:0`,
      ...codec,
      '-ssrc',
      String(ssrc),
      '-payload_type',
      '100',
      '-f',
      'rtp',
      `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple?.localPort ?? t.tuple.localPort + 1}`,
    );
    inputIndex++;
  }
  const sender = new OwnedProcess({
    name: `synthetic sender ${opts.name ?? ''}`.trim(),
    command: FFMPEG,
    args: [...args, ...outputs],
    logger: silentLogger,
    killTimeoutMs: 1000,
  });
  return {
    video,
    audio,
    transports,
    sender,
    async close() {
      await sender.stop();
      for (const t of transports) t.close();
    },
  };
}
