import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';
import { freeTcpPort } from './net.ts';
import { silentLogger } from './synthetic.ts';
import { x264AacFlvArgs } from './rtmp-publisher.ts';

/**
 * A real node-media-server 4 bound to 127.0.0.1 on a free port (the local RTMP hub), plus an
 * ffmpeg publisher (testsrc2 320x240 + sine, libx264 ultrafast, 1 s GOP, AAC). For tests of
 * things that pull from the hub (relays, recorder). NMS has no TypeScript types: loaded with
 * require and described by the few members used here.
 */
interface Nms {
  run(): Promise<void>;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

export interface TestHub {
  port: number;
  /** rtmp://127.0.0.1:port/live/<name> */
  url(name: string): string;
  close(): Promise<void>;
}

export async function startTestHub(): Promise<TestHub> {
  const NodeMediaServer = require('node-media-server') as new (config: object) => Nms;
  const nmsLogger = require('node-media-server/src/core/logger.js') as { level: string };
  const port = await freeTcpPort();
  const dir = await mkdtemp(join(tmpdir(), 'roomcast-nms-'));
  const nms = new NodeMediaServer({ bind: '127.0.0.1', rtmp: { port }, store: { path: dir } });
  nmsLogger.level = process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'error'; // NMS forces debug
  await nms.run();
  return {
    port,
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    close: async () => {
      await nms.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Publishes a synthetic H.264 + AAC stream to `url` in real time until stopped. */
export function startTestPublisher(url: string, seconds?: number): OwnedProcess {
  return new OwnedProcess({
    name: 'test publisher',
    command: FFMPEG,
    args: [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=44100',
      ...(seconds ? ['-t', String(seconds)] : []),
      ...x264AacFlvArgs(25, url),
    ],
    logger: silentLogger,
    quitWithQ: true,
    killTimeoutMs: 3000,
  });
}

/**
 * An RTMP "destination": ffmpeg listening on 127.0.0.1:port, writing what it receives to
 * `file` (FLV, -c copy). Stands in for YouTube/Twitch ingest.
 */
export function startRtmpListener(port: number, file: string): OwnedProcess {
  return new OwnedProcess({
    name: `rtmp listener ${port}`,
    command: FFMPEG,
    args: [
      '-hide_banner',
      '-loglevel',
      'error',
      '-listen',
      '1',
      '-f',
      'flv',
      '-i',
      `rtmp://127.0.0.1:${port}/app/destkey`,
      '-c',
      'copy',
      '-f',
      'flv',
      '-y',
      file,
    ],
    logger: silentLogger,
    quitWithQ: true,
    killTimeoutMs: 3000,
  });
}
