import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/loader.ts';
import type { Config } from '../config/schema.ts';
import { KeyStore, KeyStoreError, type StreamKeyRecord } from '../keys/key-store.ts';
import { rtmpBaseUrl, watchUrl } from './urls.ts';

// `roomcast keys show|rotate|revoke <room> [--json] [--config file]`: operators without a meeting
// UI manage stream keys on the same SQLite store the gateway uses (WAL: safe while it runs).

const USAGE = `usage: roomcast keys <show|rotate|revoke> <room> [--json] [--config file]

  show    print the room's RTMP URL with its stream key, playback id and watch URL
          (issues a key on first use)
  rotate  replace the room's stream key (the old key is refused at once)
  revoke  delete the room's stream key and playback id`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export function runCli(argv: string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`roomcast: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  const [group, action, room, ...extra] = parsed.positionals;
  if (group !== 'keys') {
    io.err(`roomcast: unknown command ${JSON.stringify(group ?? '')}\n${USAGE}`);
    return 2;
  }
  if (action !== 'show' && action !== 'rotate' && action !== 'revoke') {
    io.err(`roomcast: unknown keys action ${JSON.stringify(action ?? '')}\n${USAGE}`);
    return 2;
  }
  if (!room || extra.length > 0) {
    io.err(`roomcast: keys ${action} needs exactly one <room>\n${USAGE}`);
    return 2;
  }
  const file = parsed.values.config ?? io.env.ROOMCAST_CONFIG;
  let config: Config;
  try {
    config = loadConfig(file ? path.resolve(file) : undefined, io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`roomcast: ${err.message}`);
      return 78;
    }
    throw err;
  }
  let store: KeyStore;
  try {
    store = new KeyStore(config.storage.database);
  } catch (err) {
    io.err(`roomcast: cannot open ${config.storage.database}: ${(err as Error).message}`);
    return 1;
  }
  try {
    if (action === 'revoke') {
      const removed = store.revoke(room);
      if (parsed.values.json) io.out(JSON.stringify({ room, revoked: removed }));
      else io.out(removed ? `revoked the stream key of room ${room}` : `room ${room} had no stream key`);
      return removed ? 0 : 1;
    }
    const rec = action === 'rotate' ? store.rotate(room) : store.getOrCreate(room);
    const view = describe(config, rec);
    if (parsed.values.json) io.out(JSON.stringify(view));
    else
      io.out(
        [
          `room:         ${view.room}`,
          `RTMP server:  ${view.rtmpServer}`,
          `stream key:   ${view.streamKey}`,
          `RTMP URL:     ${view.rtmpUrl}`,
          `playback id:  ${view.playbackId}`,
          `watch URL:    ${view.watchUrl}`,
          ...(action === 'rotate' ? ['(the previous key no longer works)'] : []),
        ].join('\n'),
      );
    return 0;
  } catch (err) {
    if (err instanceof KeyStoreError) {
      io.err(`roomcast: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    store.close();
  }
}

export function describe(config: Config, rec: StreamKeyRecord) {
  const server = rtmpBaseUrl(config);
  return {
    room: rec.room,
    rtmpServer: server,
    streamKey: rec.streamKey,
    rtmpUrl: `${server}/${rec.streamKey}`,
    playbackId: rec.playbackId,
    watchUrl: watchUrl(config, rec.playbackId),
    createdAt: rec.createdAt,
    rotatedAt: rec.rotatedAt,
  };
}
