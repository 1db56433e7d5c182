import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Gateway } from '../../gateway/src/gateway.ts';
import { validateConfig } from '../../gateway/src/config/loader.ts';
import { verifyWebhookSignature } from '../../gateway/src/api/webhooks.ts';
import { silentLogger } from './synthetic.ts';
import { freeTcpPort } from './net.ts';

/** Small, cheap livestream output for tests (2 cores shared by everyone). */
export const TEST_OUTPUT = {
  width: 640,
  height: 360,
  fps: 15,
  videoBitrateKbps: 600,
  audioBitrateKbps: 64,
  preset: 'ultrafast',
  keyframeIntervalSeconds: 1,
} as const;

export type Overrides = Record<string, Record<string, unknown>>;

/** An in-process gateway with temp dirs, one worker, loopback everything, section overrides. */
export async function startGoLiveGateway(overrides: Overrides = {}): Promise<{
  gw: Gateway;
  baseUrl: string;
  wsUrl: string;
  dir: string;
  stop(): Promise<void>;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-golive-'));
  const o = (k: string) => overrides[k] ?? {};
  const config = validateConfig({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...o('server') },
    log: { level: process.env.ROOMCAST_TEST_LOG ?? 'silent' },
    mediasoup: { numWorkers: 1, listenIp: '127.0.0.1', logLevel: 'error', ...o('mediasoup') },
    conference: { emptyRoomGraceSeconds: 30, ...o('conference') },
    hls: { dir: path.join(dir, 'hls'), ...o('hls') },
    storage: { database: path.join(dir, 'roomcast.db') },
    rtmp: { bind: '127.0.0.1', port: await freeTcpPort() },
    recording: { dir: path.join(dir, 'recordings') },
    livestream: { output: TEST_OUTPUT, ...o('livestream') },
  });
  const logger = process.env.ROOMCAST_TEST_LOG
    ? (await import('../../gateway/src/log/logger.ts')).createLogger(config.log.level)
    : silentLogger;
  const gw = await Gateway.start(config, logger);
  return {
    gw,
    dir,
    baseUrl: `http://127.0.0.1:${gw.port}`,
    wsUrl: `ws://127.0.0.1:${gw.port}/ws`,
    async stop() {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedWebhook {
  type: string;
  data: Record<string, unknown>;
  signatureOk: boolean;
}

/** A webhook receiver on loopback that checks every signature with `secret`. */
export async function startWebhookReceiver(secret: string): Promise<{
  url: string;
  events: ReceivedWebhook[];
  close(): Promise<void>;
}> {
  const events: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = req.headers['x-roomcast-timestamp'];
      const sig = req.headers['x-roomcast-signature'];
      const signatureOk = verifyWebhookSignature({
        secret,
        body,
        timestamp: typeof ts === 'string' ? ts : undefined,
        signature: typeof sig === 'string' ? sig : undefined,
      });
      const ev = JSON.parse(body) as { type: string; data: Record<string, unknown> };
      events.push({ type: ev.type, data: ev.data, signatureOk });
      res.writeHead(204).end();
    });
  });
  const port = await freeTcpPort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    events,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** fetch with a bearer token and JSON; returns status + parsed body. */
export async function api(
  baseUrl: string,
  method: string,
  p: string,
  opts: { token?: string; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers,
    body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}
