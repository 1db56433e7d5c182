import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import WebSocket from 'ws';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  helloMac,
  macEquals,
  newNonce,
  parseGatewayMessage,
  welcomeMac,
  type AppMessage,
  type GatewayMessage,
} from '../sidecar/protocol.ts';
import { RoomHandle, type RoomHandleHost } from './room-handle.ts';

/** pino-compatible (any logger with these methods works). */
export interface ConnectorLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RoomcastConnectorOptions {
  /** The gateway's sidecar endpoint: ws://host:8080/sidecar, or wss:// when the gateway has TLS. */
  url: string;
  /** The gateway's `sidecar.secret` (>= 32 characters). Only HMACs of it are sent. */
  secret: string;
  /** Names this app in the gateway's logs; a room can only be re-claimed by the same appName. */
  appName: string;
  /** Where this app's side of each media pipe (a mediasoup PipeTransport, UDP) listens. */
  pipe?: {
    /** Local address (default 127.0.0.1). Use 0.0.0.0 together with announcedAddress across hosts. */
    listenIp?: string;
    /** Address the gateway sends media requests (RTCP) to and receives RTP from; needed when listenIp is 0.0.0.0. */
    announcedAddress?: string;
    /** UDP port range for pipes (default: the worker's rtcMinPort-rtcMaxPort). */
    portRange?: { min: number; max: number };
  };
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** TLS options for wss:// (a private CA, or rejectUnauthorized: false for a self-signed test gateway). */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** Reconnect when the gateway has not pinged for this long (default 30 s). */
  heartbeatTimeoutMs?: number;
  logger?: ConnectorLogger;
}

export type ConnectorStatus = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface RoomcastConnectorEvents {
  status: [status: ConnectorStatus];
  connected: [];
  disconnected: [reason: string];
  /** The gateway refused this app (wrong secret, bad message) or failed to prove it knows the secret. */
  refused: [message: string];
  /** The gateway refused one room (e.g. another app owns that name). */
  roomRefused: [room: string, message: string];
}

interface AppPipe {
  room: string;
  transport: ms.PipeTransport;
}

const ROOM_NAME_RE = /^[a-z0-9_-]{1,64}$/;
const noopLogger: ConnectorLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * The link between an existing mediasoup app and a roomcast gateway. It keeps one authenticated
 * WebSocket open (reconnecting with backoff), reports the registered rooms (full state after each
 * connect, then changes), and serves the gateway's pipe requests: a PipeTransport on the room's
 * router that consumes the asked producer and sends it to the gateway's own PipeTransport.
 *
 * Pipes survive a lost control connection for the gateway's reconnect window, so a blip in the
 * WebSocket does not interrupt the media; after the window they are closed.
 */
export class RoomcastConnector extends EventEmitter<RoomcastConnectorEvents> {
  private readonly rooms = new Map<string, RoomHandle>();
  private readonly refusedRooms = new Set<string>();
  private readonly pipes = new Map<string, AppPipe>();
  private ws: WebSocket | undefined;
  private welcomed = false;
  private currentStatus: ConnectorStatus = 'connecting';
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private orphanTimer: NodeJS.Timeout | undefined;
  private reconnectWindowMs = 30_000;
  private readonly log: ConnectorLogger;
  private readonly host: RoomHandleHost;

  constructor(private readonly options: RoomcastConnectorOptions) {
    super();
    if (!/^wss?:\/\//.test(options.url))
      throw new Error('roomcast connector: url must start with ws:// or wss://');
    if (typeof options.secret !== 'string' || options.secret.length < 32)
      throw new Error('roomcast connector: secret must be the gateway sidecar.secret (>= 32 characters)');
    if (!/^[\w.-]{1,64}$/.test(options.appName ?? ''))
      throw new Error(
        'roomcast connector: appName must be 1-64 characters of letters, digits, ".", "_" or "-"',
      );
    const listenIp = options.pipe?.listenIp ?? '127.0.0.1';
    if ((listenIp === '0.0.0.0' || listenIp === '::') && !options.pipe?.announcedAddress)
      throw new Error(
        'roomcast connector: pipe.announcedAddress is required when pipe.listenIp is a wildcard',
      );
    this.log = options.logger ?? noopLogger;
    this.host = {
      send: (m) => this.send(m),
      roomClosed: (h) => this.onRoomClosed(h),
    };
    this.connect();
  }

  get status(): ConnectorStatus {
    return this.currentStatus;
  }

  /** Reports a room (a router of this app) to the gateway. Throws on a bad or duplicate name. */
  registerRoom(name: string, router: ms.Router): RoomHandle {
    if (this.currentStatus === 'closed') throw new Error('roomcast connector: closed');
    if (!ROOM_NAME_RE.test(name))
      throw new Error(`roomcast connector: room name "${name}" must be 1-64 of a-z, 0-9, '-' and '_'`);
    if (this.rooms.has(name)) throw new Error(`roomcast connector: room "${name}" is already registered`);
    const handle = new RoomHandle(name, router, this.host);
    this.rooms.set(name, handle);
    this.refusedRooms.delete(name);
    this.send(handle.snapshot([]));
    return handle;
  }

  room(name: string): RoomHandle | undefined {
    return this.rooms.get(name);
  }

  /** Closes the control connection and every pipe; rooms are not closed on the gateway's side (it sees a lost app). */
  close(): void {
    if (this.currentStatus === 'closed') return;
    this.setStatus('closed');
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.orphanTimer);
    this.ws?.close(1000, 'connector closed');
    this.ws = undefined;
    for (const id of [...this.pipes.keys()]) this.closePipe(id);
  }

  // ---------- connection ----------

  private connect(): void {
    if (this.currentStatus === 'closed') return;
    this.setStatus('connecting');
    this.welcomed = false;
    const ws = new WebSocket(this.options.url, {
      handshakeTimeout: 10_000,
      maxPayload: MAX_MESSAGE_BYTES,
      ca: this.options.tls?.ca,
      rejectUnauthorized: this.options.tls?.rejectUnauthorized ?? true,
    });
    this.ws = ws;
    const clientNonce = newNonce();
    let serverNonce = '';
    let closeReason = 'connection lost';

    this.armHeartbeat(ws);
    ws.on('ping', () => this.armHeartbeat(ws));
    ws.on('error', (err) => {
      closeReason = err.message;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = parseGatewayMessage(data as Buffer);
      if (!parsed.ok) {
        this.log.warn(
          { error: parsed.error },
          'roomcast connector: invalid message from the gateway, reconnecting',
        );
        closeReason = parsed.error;
        ws.terminate();
        return;
      }
      const msg = parsed.message;
      if (msg.type === 'challenge') {
        serverNonce = msg.nonce;
        ws.send(
          JSON.stringify({
            type: 'hello',
            v: PROTOCOL_VERSION,
            appName: this.options.appName,
            nonce: clientNonce,
            mac: helloMac(this.options.secret, serverNonce, clientNonce, this.options.appName),
          }),
        );
        return;
      }
      if (msg.type === 'welcome') {
        if (!serverNonce || !macEquals(msg.mac, welcomeMac(this.options.secret, clientNonce, serverNonce))) {
          closeReason = 'the gateway failed to prove it knows the secret (wrong URL or secret?)';
          this.log.error({ url: this.options.url }, `roomcast connector: ${closeReason}`);
          this.emit('refused', closeReason);
          ws.terminate();
          return;
        }
        this.onWelcome(msg.reconnectWindowSeconds);
        return;
      }
      if (msg.type === 'error') {
        closeReason = `refused by the gateway: ${msg.message}`;
        // Retrying at once cannot fix a wrong secret: go straight to the longest delay.
        this.attempt = Math.max(this.attempt, 16);
        this.log.error({ url: this.options.url }, `roomcast connector: ${closeReason}`);
        this.emit('refused', msg.message);
        return;
      }
      if (!this.welcomed) return;
      this.onGatewayMessage(msg);
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      clearTimeout(this.heartbeatTimer);
      this.ws = undefined;
      const text = reason.toString() || closeReason;
      const wasWelcomed = this.welcomed;
      this.welcomed = false;
      if (this.currentStatus === 'closed') return;
      this.setStatus('disconnected');
      if (wasWelcomed) this.emit('disconnected', `${text} (code ${code})`);
      this.log.warn({ code, reason: text }, 'roomcast connector: control connection closed, will reconnect');
      this.armOrphanTimer();
      this.scheduleReconnect();
    });
  }

  private onWelcome(reconnectWindowSeconds: number): void {
    this.welcomed = true;
    this.attempt = 0;
    this.reconnectWindowMs = reconnectWindowSeconds * 1000;
    clearTimeout(this.orphanTimer);
    this.setStatus('connected');
    this.log.info({ url: this.options.url, rooms: this.rooms.size }, 'roomcast connector: connected');
    this.refusedRooms.clear();
    // Resync: the gateway rebuilds its view of each room from this, including which pipes survive.
    for (const handle of this.rooms.values()) {
      const pipes = [...this.pipes].filter(([, p]) => p.room === handle.name).map(([id]) => id);
      this.send(handle.snapshot(pipes));
    }
    this.emit('connected');
  }

  private scheduleReconnect(): void {
    const initial = this.options.reconnect?.initialDelayMs ?? 500;
    const max = this.options.reconnect?.maxDelayMs ?? 10_000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    // Jitter so many apps do not reconnect in lockstep after a gateway restart.
    const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), jittered);
  }

  private armHeartbeat(ws: WebSocket): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.log.warn({}, 'roomcast connector: no heartbeat from the gateway, reconnecting');
      ws.terminate();
    }, this.options.heartbeatTimeoutMs ?? 30_000);
  }

  /** Pipes nobody reclaims within the window (the gateway is gone) are closed: no leak on the app. */
  private armOrphanTimer(): void {
    clearTimeout(this.orphanTimer);
    if (this.pipes.size === 0) return;
    this.orphanTimer = setTimeout(() => {
      if (this.welcomed) return;
      this.log.warn(
        { pipes: this.pipes.size },
        'roomcast connector: gateway did not come back, closing pipes',
      );
      for (const id of [...this.pipes.keys()]) this.closePipe(id);
    }, this.reconnectWindowMs + 5_000);
  }

  private setStatus(s: ConnectorStatus): void {
    if (this.currentStatus === s) return;
    this.currentStatus = s;
    this.emit('status', s);
  }

  private send(message: AppMessage): void {
    if (!this.welcomed || !this.ws || this.ws.readyState !== WebSocket.OPEN) return; // resynced on connect
    if ('room' in message && this.refusedRooms.has(message.room)) return;
    this.ws.send(JSON.stringify(message));
  }

  // ---------- gateway requests ----------

  private onGatewayMessage(msg: GatewayMessage): void {
    switch (msg.type) {
      case 'room.refused':
        this.refusedRooms.add(msg.room);
        this.log.error({ room: msg.room }, `roomcast connector: room refused: ${msg.message}`);
        this.emit('roomRefused', msg.room, msg.message);
        return;
      case 'pipe.open':
        this.openPipe(msg).then(
          (result) => this.send({ type: 'pipe.opened', reqId: msg.reqId, result }),
          (err: unknown) => {
            const error = err instanceof Error ? err.message : String(err);
            this.log.warn({ room: msg.room, trackId: msg.trackId, error }, 'roomcast connector: pipe failed');
            this.send({ type: 'pipe.failed', reqId: msg.reqId, error });
          },
        );
        return;
      case 'pipe.close':
        this.closePipe(msg.pipeId);
        return;
      default:
        return;
    }
  }

  private async openPipe(msg: Extract<GatewayMessage, { type: 'pipe.open' }>) {
    const handle = this.rooms.get(msg.room);
    if (!handle || handle.closed) throw new Error(`room "${msg.room}" is not registered by this app`);
    if (!handle.hasTrack(msg.trackId))
      throw new Error(`track "${msg.trackId}" is not a reported track of room "${msg.room}"`);
    if (this.pipes.has(msg.pipeId)) throw new Error(`pipe "${msg.pipeId}" already exists`);
    const cfg = this.options.pipe ?? {};
    const transport = await handle.router.createPipeTransport({
      listenInfo: {
        protocol: 'udp',
        ip: cfg.listenIp ?? '127.0.0.1',
        announcedAddress: cfg.announcedAddress,
        portRange: cfg.portRange,
      },
      enableSrtp: Boolean(msg.gateway.srtp),
      appData: { roomcast: true, pipeId: msg.pipeId },
    });
    try {
      await transport.connect({
        ip: msg.gateway.ip,
        port: msg.gateway.port,
        srtpParameters: msg.gateway.srtp,
      });
      const consumer = await transport.consume({ producerId: msg.trackId, appData: { roomcast: true } });
      this.pipes.set(msg.pipeId, { room: msg.room, transport });
      consumer.observer.once('close', () => this.closePipe(msg.pipeId));
      transport.observer.once('close', () => this.pipes.delete(msg.pipeId));
      return {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        srtp: transport.srtpParameters,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown> & {
          codecs: { mimeType: string; payloadType: number; clockRate: number }[];
        },
        paused: consumer.producerPaused,
      };
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  private closePipe(pipeId: string): void {
    const pipe = this.pipes.get(pipeId);
    if (!pipe) return;
    this.pipes.delete(pipeId);
    pipe.transport.close();
  }

  private onRoomClosed(handle: RoomHandle): void {
    if (this.rooms.get(handle.name) === handle) this.rooms.delete(handle.name);
    for (const [id, p] of [...this.pipes]) if (p.room === handle.name) this.closePipe(id);
  }
}
