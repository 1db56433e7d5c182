import type { OutputConfig } from '../gateway/src/config/schema.ts';
import { encoderArgs } from '../gateway/src/compositor/encoder.ts';

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
