import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/loader.ts';
import { createLogger } from './log/logger.ts';
import { Gateway } from './gateway.ts';

// Entry point: load and validate config, start the gateway, stop it cleanly on SIGTERM/SIGINT.
async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string', short: 'c' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    console.error(`roomcast: ${(err as Error).message}\nusage: roomcast [--config config/default.yaml]`);
    return 2;
  }
  const file = args.values.config ?? process.env.ROOMCAST_CONFIG;
  let config;
  try {
    config = loadConfig(file ? path.resolve(file) : undefined);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`roomcast: ${err.message}`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.log.level);
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, logger);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'gateway failed to start');
    return 1;
  }
  return await new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutdown requested');
      const force = setTimeout(() => {
        logger.error('shutdown took longer than 10 s, exiting');
        resolve(1);
      }, 10_000);
      force.unref();
      gateway.stop().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err: String(err) }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

process.on('unhandledRejection', (reason) => {
  console.error('roomcast: unhandled rejection:', reason);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('roomcast: fatal:', err);
    process.exit(1);
  },
);
