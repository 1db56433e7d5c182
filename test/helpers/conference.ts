import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Gateway } from '../../gateway/src/gateway.ts';
import { validateConfig } from '../../gateway/src/config/loader.ts';
import { silentLogger } from './synthetic.ts';
import { freeTcpPort } from './net.ts';

/** An in-process gateway on a free port with temp data dirs, one mediasoup worker, loopback WebRTC. */
export async function startTestGateway(
  overrides: { conference?: Record<string, unknown>; mediasoup?: Record<string, unknown> } = {},
): Promise<{ gw: Gateway; baseUrl: string; wsUrl: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-conf-'));
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    mediasoup: { numWorkers: 1, listenIp: '127.0.0.1', logLevel: 'error', ...overrides.mediasoup },
    conference: { emptyRoomGraceSeconds: 1, ...overrides.conference },
    hls: { dir: path.join(dir, 'hls') },
    storage: { database: path.join(dir, 'roomcast.db') },
    rtmp: { bind: '127.0.0.1', port: await freeTcpPort() },
    recording: { dir: path.join(dir, 'recordings') },
  });
  const gw = await Gateway.start(config, silentLogger);
  const baseUrl = `http://127.0.0.1:${gw.port}`;
  return {
    gw,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${gw.port}/ws`,
    async stop() {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface WsResponse {
  response: true;
  id: number | null;
  ok: boolean;
  data?: Record<string, unknown>;
  error?: { code: string; message: string };
}
export interface WsNotification {
  notification: true;
  method: string;
  data: Record<string, unknown>;
}

/** A minimal Node signaling client: raw send, request/response by id, recorded notifications. */
export class TestSignalingClient {
  readonly notifications: WsNotification[] = [];
  readonly responses: WsResponse[] = [];
  private nextId = 1;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (buf) => {
      const msg = JSON.parse(buf.toString()) as WsResponse | WsNotification;
      if ('notification' in msg) this.notifications.push(msg);
      else this.responses.push(msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<TestSignalingClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new TestSignalingClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Waits for the next response (any id). */
  async nextResponse(timeoutMs = 5000): Promise<WsResponse> {
    const start = this.responses.length;
    await this.until(() => this.responses.length > start, timeoutMs);
    return this.responses[start]!;
  }

  async request(method: string, data?: object): Promise<WsResponse> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify(data === undefined ? { id, method } : { id, method, data }));
    await this.until(() => this.responses.some((r) => r.id === id), 10_000);
    return this.responses.find((r) => r.id === id)!;
  }

  async notification(method: string, timeoutMs = 5000): Promise<WsNotification> {
    await this.until(() => this.notifications.some((n) => n.method === method), timeoutMs);
    return this.notifications.find((n) => n.method === method)!;
  }

  private until(cond: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(
        () => reject(new Error('timed out waiting for a signaling message')),
        timeoutMs,
      );
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
