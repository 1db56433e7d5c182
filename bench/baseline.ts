import type { OutputConfig } from '../gateway/src/config/schema.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encoderArgs } from '../gateway/src/compositor/encoder.ts';
import { allocatePortPair } from '../gateway/src/livestream/udp-ports.ts';
import { OwnedProcess } from '../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../gateway/src/process/ffmpeg.ts';
import type { ConsumedTrack } from '../gateway/src/rooms/room-source.ts';
import { buildReceiveSdp } from '../gateway/src/rtp/sdp.ts';
import type { SyntheticRoom } from '../test/helpers/synthetic-room.ts';
import { silentLogger } from '../test/helpers/synthetic.ts';

/**
 * ffmpeg arguments of the comparison baseline: ONE ffmpeg reading the 4 participants' SDP inputs,
 * `xstack` 2x2 + `amix`, with exactly the Livestream encoder's x264/AAC/FLV settings.
 */
export function xstackBaselineArgs(sdpFiles: string[], output: OutputConfig, rtmpUrl: string): string[] {
  const inputs = sdpFiles.flatMap((sdp) => [
    '-protocol_whitelist',
    'file,udp,rtp',
    '-analyzeduration',
    '300000',
    '-f',
    'sdp',
    '-i',
    sdp,
  ]);
  const enc = encoderArgs(output, rtmpUrl);
  const filter =
    [0, 1, 2, 3].map((i) => `[${i}:v]scale=640:360,setsar=1[v${i}]`).join(';') +
    ';[v0][v1][v2][v3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0,fps=30[v];' +
    '[0:a][1:a][2:a][3:a]amix=inputs=4:normalize=0[a]';
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    ...inputs,
    '-filter_complex',
    filter,
    '-map',
    '[v]',
    '-map',
    '[a]',
    ...enc.slice(enc.indexOf('-c:v')),
  ];
}

/** The baseline: one ffmpeg, 4 RTP inputs (audio + video SDP each) → xstack 2x2 + amix → same encoder. */
export async function startBaseline(
  room: SyntheticRoom,
  url: string,
  dir: string,
  output: OutputConfig,
  name = 'bench baseline',
) {
  const consumed: ConsumedTrack[] = [];
  const sdpFiles: string[] = [];
  for (const [i, p] of room.participants().entries()) {
    const streams = [];
    for (const t of p.tracks) {
      const port = await allocatePortPair();
      const c = await room.consume(t.id, { ip: '127.0.0.1', port, rtcpPort: port + 1 });
      consumed.push(c);
      streams.push(c.receive);
    }
    const sdp = path.join(dir, `baseline-${i}.sdp`);
    writeFileSync(sdp, buildReceiveSdp(streams));
    sdpFiles.push(sdp);
  }
  const proc = new OwnedProcess({
    name,
    command: FFMPEG,
    args: xstackBaselineArgs(sdpFiles, output, url),
    logger: silentLogger,
  });
  await new Promise((r) => setTimeout(r, 300)); // receiver sockets bound before the flow starts
  for (const c of consumed) await c.start();
  const keyframes = setInterval(() => consumed.forEach((c) => void c.requestKeyFrame()), 1000);
  return {
    proc,
    async stop() {
      clearInterval(keyframes);
      await proc.stop();
      consumed.forEach((c) => c.close());
    },
  };
}
