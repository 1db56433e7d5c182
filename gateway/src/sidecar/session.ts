import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import type { Logger } from '../log/logger.ts';
import {
  CLOSE_AUTH_FAILED,
  CLOSE_BAD_MESSAGE,
  PROTOCOL_VERSION,
  helloMac,
  macEquals,
  newNonce,
  parseAppMessage,
  parseHello,
  welcomeMac,
  type AppMessage,
  type RoomDelta,
  type GatewayMessage,
  type PipeEndpoint,
  type PipeOpenResult,
} from './protocol.ts';
import type { AppLink } from './remote-room-source.ts';

export interface SessionHost {
  readonly secret: string;
  readonly reconnectWindowSeconds: number;
  /** A room.state arrived: attach (or create) the room. Throws with a message to refuse the room. */
  roomState(session: AppSession, msg: Extract<AppMessage, { type: 'room.state' }>): string[];
  /** A delta for a room; false when the room is not attached to this session. */
  roomDelta(session: AppSession, msg: RoomDelta): boolean;
  sessionClosed(session: AppSession, reason: string): void;
}

const HELLO_TIMEOUT_MS = 10_000;
const PIPE_TIMEOUT_MS = 10_000;
const PING_INTERVAL_MS = 10_000;

interface Pending {
  resolve: (r: PipeOpenResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One app connection on `/sidecar`. Challenge-response first (nothing else is accepted before),
 * then room state in and pipe requests out. Any invalid input ends the connection with an
 * `error` message naming the problem and a 44xx close code; it never throws into the server.
 */
export class AppSession implements AppLink {
  readonly sessionId = randomUUID();
  appName = '';
  private authed = false;
  private closed = false;
  /** refuse()/close() called: waiting for the socket to finish closing. */
  private ending = false;
  private readonly serverNonce = newNonce();
  private nextReqId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly helloTimer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;
  private alive = true;
  private readonly log: Logger;

  constructor(
    private readonly ws: WebSocket,
    private readonly host: SessionHost,
    logger: Logger,
    readonly remoteAddress: string,
  ) {
    this.log = logger.child({ sidecarSession: this.sessionId, remote: remoteAddress });
    this.helloTimer = setTimeout(
      () => this.refuse(CLOSE_AUTH_FAILED, 'no hello within 10 s'),
      HELLO_TIMEOUT_MS,
    );
    // A half-open TCP connection never fires 'close': pings find it.
    this.pingTimer = setInterval(() => {
      if (!this.alive) {
        this.log.warn('sidecar app stopped answering pings');
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, PING_INTERVAL_MS);
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data as Buffer, isBinary);
      } catch (err) {
        this.log.error({ err: String(err) }, 'sidecar message handling failed');
        this.refuse(CLOSE_BAD_MESSAGE, 'internal error while handling the message');
      }
    });
    ws.on('close', (code, reason) =>
      this.onClose(`control connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`),
    );
    ws.on('error', (err) => this.log.warn({ err: err.message }, 'sidecar socket error'));
    this.send({ type: 'challenge', v: PROTOCOL_VERSION, nonce: this.serverNonce });
  }

  get authenticated(): boolean {
    return this.authed;
  }

  openPipe(room: string, trackId: string, pipeId: string, gateway: PipeEndpoint): Promise<PipeOpenResult> {
    if (this.closed) return Promise.reject(new Error('app connection closed'));
    const reqId = this.nextReqId++;
    return new Promise<PipeOpenResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(
          new Error(
            `app "${this.appName}" did not answer the pipe request within ${PIPE_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, PIPE_TIMEOUT_MS);
      this.pending.set(reqId, { resolve, reject, timer });
      this.send({ type: 'pipe.open', reqId, room, trackId, pipeId, gateway });
    });
  }

  closePipe(room: string, pipeId: string): void {
    this.send({ type: 'pipe.close', room, pipeId });
  }

  /** Sends a clear error, then closes; the app's connector surfaces the message. */
  refuse(code: number, message: string): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.log.warn({ code, app: this.appName || undefined }, `sidecar connection refused: ${message}`);
    this.send({ type: 'error', message });
    this.ws.close(code, message.slice(0, 120));
    // Do not wait for a misbehaving peer to complete the closing handshake.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  close(reason: string): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.ws.close(1001, reason.slice(0, 120));
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private send(msg: GatewayMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed || this.ending) return; // nothing more is read from a refused connection
    if (isBinary) return this.refuse(CLOSE_BAD_MESSAGE, 'binary messages are not accepted');
    if (!this.authed) return this.onHello(data);
    const parsed = parseAppMessage(data);
    if (!parsed.ok) return this.refuse(CLOSE_BAD_MESSAGE, parsed.error);
    const msg = parsed.message;
    if (msg.type === 'pipe.opened' || msg.type === 'pipe.failed') {
      const p = this.pending.get(msg.reqId);
      if (!p) return; // answered after its timeout: the room already gave up on it
      this.pending.delete(msg.reqId);
      clearTimeout(p.timer);
      if (msg.type === 'pipe.opened') p.resolve(msg.result);
      else p.reject(new Error(`app "${this.appName}" could not open the pipe: ${msg.error}`));
      return;
    }
    if (msg.type === 'room.state') {
      let strays: string[];
      try {
        strays = this.host.roomState(this, msg);
      } catch (err) {
        this.send({
          type: 'room.refused',
          room: msg.room,
          message: err instanceof Error ? err.message : String(err),
        });
        return;
      }
      for (const pipeId of strays) this.closePipe(msg.room, pipeId);
      return;
    }
    if (!this.host.roomDelta(this, msg))
      this.refuse(
        CLOSE_BAD_MESSAGE,
        `${msg.type}: room "${msg.room}" is not registered on this connection (send room.state first)`,
      );
  }

  private onHello(data: Buffer): void {
    const parsed = parseHello(data);
    if (!parsed.ok)
      return this.refuse(CLOSE_AUTH_FAILED, `authentication failed: expected a hello (${parsed.error})`);
    const hello = parsed.message;
    const expected = helloMac(this.host.secret, this.serverNonce, hello.nonce, hello.appName);
    if (!macEquals(hello.mac, expected))
      return this.refuse(
        CLOSE_AUTH_FAILED,
        'authentication failed: the hello signature does not match (wrong sidecar secret?)',
      );
    clearTimeout(this.helloTimer);
    this.authed = true;
    this.appName = hello.appName;
    this.log.info({ app: hello.appName }, 'sidecar app connected');
    this.send({
      type: 'welcome',
      mac: welcomeMac(this.host.secret, hello.nonce, this.serverNonce),
      sessionId: this.sessionId,
      reconnectWindowSeconds: this.host.reconnectWindowSeconds,
    });
  }

  private onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearInterval(this.pingTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`app connection lost: ${reason}`));
    }
    this.pending.clear();
    if (this.authed) {
      this.log.info({ app: this.appName, reason }, 'sidecar app disconnected');
      this.host.sessionClosed(this, reason);
    }
  }
}
