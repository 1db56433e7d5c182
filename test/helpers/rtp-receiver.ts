import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';
import { buildReceiveSdp, type RtpReceiveStream } from '../../gateway/src/rtp/sdp.ts';
import { silentLogger } from './synthetic.ts';

/**
 * An ffmpeg RTP receiver: reads the streams described by an SDP and copies them into a
 * Matroska file for `seconds`, then exits by itself.
 */
export function startRtpRecorder(streams: RtpReceiveStream[], seconds: number, dir?: string) {
  const workDir = dir ?? mkdtempSync(path.join(tmpdir(), 'roomcast-rtp-'));
  const sdpFile = path.join(workDir, 'in.sdp');
  const outFile = path.join(workDir, 'out.mkv');
  writeFileSync(sdpFile, buildReceiveSdp(streams));
  const proc = new OwnedProcess({
    name: 'test rtp recorder',
    command: FFMPEG,
    args: [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-protocol_whitelist',
      'file,udp,rtp',
      '-analyzeduration',
      '2000000',
      '-probesize',
      '5000000',
      '-reorder_queue_size',
      '64',
      '-f',
      'sdp',
      '-i',
      sdpFile,
      '-map',
      '0',
      '-c',
      'copy',
      '-t',
      String(seconds),
      '-y',
      outFile,
    ],
    logger: silentLogger,
    killTimeoutMs: 2000,
  });
  return { proc, outFile, workDir };
}
