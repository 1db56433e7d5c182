import type { Router } from 'express';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { KeyStore } from '../keys/key-store.ts';
import { HlsManager } from '../hls/hls-manager.ts';
import { hlsRouter } from '../hls/hls-routes.ts';
import { streamsRouter } from '../api/streams.ts';
import { watchRouter } from '../api/watch.ts';
import { Ingest } from './ingest.ts';

/** Keys + RTMP ingest + HLS, wired together; the Gateway owns one of these. */
export interface Streaming {
  keys: KeyStore;
  ingest: Ingest;
  hls: HlsManager;
  /** /hls/*, /api/streams/*, /watch/* */
  routers: Router[];
  stop(): Promise<void>;
}

export async function startStreaming(config: Config, logger: Logger): Promise<Streaming> {
  const keys = new KeyStore(config.storage.database);
  let ingest: Ingest;
  try {
    ingest = await Ingest.start({ bind: config.rtmp.bind, port: config.rtmp.port, keys, logger });
  } catch (err) {
    keys.close();
    throw err;
  }
  const hls = new HlsManager(config.hls, logger.child({ component: 'hls' }), (room) =>
    ingest.localPlayUrl(room),
  );
  ingest.on('streamStarted', (info) => hls.onStreamStarted(info));
  ingest.on('streamEnded', (info) => void hls.onStreamEnded(info));
  let stopping: Promise<void> | undefined;
  return {
    keys,
    ingest,
    hls,
    routers: [hlsRouter(hls), streamsRouter(config, keys, hls), watchRouter(keys)],
    stop() {
      stopping ??= (async () => {
        await ingest.stop();
        await hls.stop();
        keys.close();
      })();
      return stopping;
    },
  };
}
