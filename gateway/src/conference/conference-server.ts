import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { types as ms } from 'mediasoup';
import { WebSocketServer, type WebSocket } from 'ws';
import type { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { WorkerPool } from '../mediasoup/worker-pool.ts';
import type { RoomSource } from '../rooms/room-source.ts';
import { EmbeddedRoomSource } from '../rooms/embedded-room-source.ts';
import { resolveAnnouncedAddress } from './announced-address.ts';
import { newModeratorToken, tokenEquals, tokenMatchesAny } from './moderators.ts';
import { Peer, RequestError } from './peer.ts';
import {
  MAX_MESSAGE_BYTES,
  coreParams,
  errorResponse,
  isCoreMethod,
  okResponse,
  parseParams,
  parseRequest,
  type CoreMethod,
  type CoreParams,
  type ProtocolError,
  type Response,
} from './protocol.ts';
import { Room, type WebRtcSettings } from './room.ts';
import { checkRoomName, cleanDisplayName } from './room-name.ts';

export const WS_PATH = '/ws';

export interface ConferenceEvents {
  roomCreated: [room: string];
  roomClosed: [room: string, reason: string];
}

/** What an extra signaling method (registered by later features) gets to work with. */
export interface PeerRequestContext {
  room: Room;
  peer: Peer;
  /** Server-side moderator check (creator token or config). */
  moderator: boolean;
}

export interface ExtraMethod<T> {
  params: z.ZodType<T>;
  /** Refused with 'forbidden' for non-moderators before the handler runs. */
  moderatorOnly?: boolean;
  handler: (ctx: PeerRequestContext, params: T) => Promise<unknown> | unknown;
}

interface Connection {
  socket: WebSocket;
  peer?: Peer;
  room?: Room;
  alive: boolean;
  /** Requests of one socket run one after the other (produce, then pause, …). */
  queue: Promise<void>;
}

/**
 * The embedded conference: rooms by name, WebSocket signaling on /ws, moderator checks, and a
 * RoomSource per room for the livestream pipeline.
 */
export class ConferenceServer extends EventEmitter<ConferenceEvents> {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly sources = new Map<Room, EmbeddedRoomSource>();
  private readonly extra = new Map<string, ExtraMethod<unknown>>();
  private readonly connections = new Set<Connection>();
  private readonly wss: WebSocketServer;
  private readonly webrtc: WebRtcSettings;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  private isClosed = false;

  constructor(
    private readonly config: Pick<Config, 'conference' | 'mediasoup'>,
    private readonly workers: WorkerPool,
    private readonly server: http.Server | https.Server,
    private readonly logger: Logger,
  ) {
    super();
    this.webrtc = {
      listenIp: config.mediasoup.listenIp,
      announcedAddress: resolveAnnouncedAddress(config.mediasoup.announcedAddress, config.mediasoup.listenIp),
    };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.onUpgrade = (req, socket, head) => this.handleUpgrade(req, socket, head);
    server.on('upgrade', this.onUpgrade);
    // Sockets that vanish without a close frame (laptop lid, NAT timeout) are detected by ping.
    this.heartbeat = setInterval(() => {
      for (const c of this.connections) {
        if (!c.alive) c.socket.terminate();
        else {
          c.alive = false;
          c.socket.ping();
        }
      }
    }, 20_000);
    this.heartbeat.unref();
    logger.info(
      { path: WS_PATH, announcedAddress: this.webrtc.announcedAddress ?? config.mediasoup.listenIp },
      'conference signaling ready',
    );
  }

  // ---- API for the rest of the gateway -------------------------------------------------------

  roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  room(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  /** The hidden-participant view of a live room (undefined when the room does not exist). */
  roomSource(name: string): RoomSource | undefined {
    const room = this.rooms.get(name);
    if (!room || room.closed) return undefined;
    let src = this.sources.get(room);
    if (!src) {
      src = new EmbeddedRoomSource(room, this.config.mediasoup.plainRtpIp);
      this.sources.set(room, src);
    }
    return src;
  }

  /** Server-side moderator check: the room creator's token or one from config (constant time). */
  isModerator(room: string, token: string | undefined): boolean {
    if (!token) return false;
    const configured = this.config.conference.moderators[room] ?? [];
    const creator = this.rooms.get(room)?.creatorToken;
    const byCreator = creator !== undefined && tokenEquals(token, creator);
    const byConfig = tokenMatchesAny(token, configured);
    return byCreator || byConfig;
  }

  /** Push a notification to every peer of a room (e.g. livestream state, LIVE badge). */
  notifyRoom(room: string, method: string, data: unknown): boolean {
    const r = this.rooms.get(room);
    if (!r) return false;
    r.notify(method, data);
    return true;
  }

  /** Adds a signaling method (e.g. 'livestream.start') without touching the core dispatcher. */
  registerMethod<T>(method: string, def: ExtraMethod<T>): void {
    if (isCoreMethod(method) || this.extra.has(method))
      throw new Error(`signaling method ${method} already exists`);
    this.extra.set(method, def as ExtraMethod<unknown>);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.heartbeat);
    this.server.off('upgrade', this.onUpgrade);
    for (const c of this.connections) c.socket.terminate();
    for (const room of [...this.rooms.values()]) room.close('server stopping');
    await Promise.allSettled([...this.creating.values()]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---- WebSocket plumbing --------------------------------------------------------------------

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== WS_PATH) return; // another feature's WebSocket, not ours
    // Browsers always send Origin: refuse pages of other sites (cross-site WebSocket hijacking).
    const origin = req.headers.origin;
    if (origin !== undefined && safeHost(origin) !== req.headers.host) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    if (this.isClosed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(socket: WebSocket): void {
    const conn: Connection = { socket, alive: true, queue: Promise.resolve() };
    this.connections.add(conn);
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data, isBinary) => {
      conn.alive = true;
      if (isBinary) {
        this.reply(
          conn,
          errorResponse(null, { code: 'bad_request', message: 'binary frames are not accepted' }),
        );
        return;
      }
      const text = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.concat(data as Buffer[]).toString('utf8');
      conn.queue = conn.queue.then(() => this.handleMessage(conn, text));
    });
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'signaling socket error'));
    socket.on('close', () => {
      this.connections.delete(conn);
      // Leave at once: the others must not wait for this socket's in-flight requests. Run the
      // cleanup again after them, so whatever they still create (a late join, a transport) goes too.
      void this.disconnect(conn);
      conn.queue = conn.queue.then(() => this.disconnect(conn));
    });
  }

  private reply(conn: Connection, msg: Response): void {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(msg));
  }

  private async handleMessage(conn: Connection, text: string): Promise<void> {
    const req = parseRequest(text);
    if (!req.ok) {
      this.reply(conn, errorResponse(req.id, req.error));
      return;
    }
    try {
      const data = await this.dispatch(conn, req.method, req.data);
      this.reply(conn, okResponse(req.id, data ?? {}));
    } catch (err) {
      const error = toProtocolError(err);
      if (error.code === 'failed')
        this.logger.warn(
          { method: req.method, room: conn.room?.name, err: error.message },
          'signaling request failed',
        );
      this.reply(conn, errorResponse(req.id, error));
    }
  }

  private async dispatch(conn: Connection, method: string, data: Record<string, unknown>): Promise<unknown> {
    if (isCoreMethod(method)) return this.dispatchCore(conn, method, data);
    const extra = this.extra.get(method);
    if (!extra) throw new ProtocolFailure({ code: 'unknown_method', message: `unknown method '${method}'` });
    const { room, peer } = this.joined(conn);
    const moderator = peer.moderator;
    if (extra.moderatorOnly && !moderator)
      throw new ProtocolFailure({ code: 'forbidden', message: `${method} is for moderators only` });
    const params = parseParams(method, extra.params, data);
    if (!params.ok) throw new ProtocolFailure(params.error);
    return extra.handler({ room, peer, moderator }, params.value);
  }

  private params<M extends CoreMethod>(method: M, data: unknown): CoreParams<M> {
    const r = parseParams(method, coreParams[method] as unknown as z.ZodType<CoreParams<M>>, data);
    if (!r.ok) throw new ProtocolFailure(r.error);
    return r.value;
  }

  private joined(conn: Connection): { room: Room; peer: Peer } {
    if (!conn.room || !conn.peer || conn.peer.closed)
      throw new ProtocolFailure({ code: 'not_joined', message: 'join a room first' });
    return { room: conn.room, peer: conn.peer };
  }

  // One case per method, as in mediasoup-demo: validation above, the work in Room.
  private async dispatchCore(conn: Connection, method: CoreMethod, data: unknown): Promise<unknown> {
    switch (method) {
      case 'join':
        return this.join(conn, this.params('join', data));
      case 'leave': {
        this.params('leave', data);
        await this.disconnect(conn);
        return {};
      }
      case 'createWebRtcTransport': {
        const { direction } = this.params(method, data);
        const { room, peer } = this.joined(conn);
        const t = await room.createWebRtcTransport(peer, direction);
        return {
          id: t.id,
          iceParameters: t.iceParameters,
          iceCandidates: t.iceCandidates,
          dtlsParameters: t.dtlsParameters,
        };
      }
      case 'connectWebRtcTransport': {
        const p = this.params(method, data);
        const { peer } = this.joined(conn);
        await peer
          .transport(p.transportId)
          .connect({ dtlsParameters: p.dtlsParameters as unknown as ms.DtlsParameters });
        return {};
      }
      case 'produce': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        const producer = await room.produce(
          peer,
          p.transportId,
          p.kind,
          p.rtpParameters as unknown as ms.RtpParameters,
          p.appData.source,
        );
        return { id: producer.id };
      }
      case 'closeProducer': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        room.closeProducer(peer, p.producerId);
        return {};
      }
      case 'pauseProducer':
      case 'resumeProducer': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        await room.setProducerPaused(peer, p.producerId, method === 'pauseProducer');
        return {};
      }
      case 'consume': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        return room.consume(peer, p.producerId, p.rtpCapabilities as unknown as ms.RtpCapabilities);
      }
      case 'resumeConsumer': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        await room.resumeConsumer(peer, p.consumerId);
        return {};
      }
      case 'setDisplayName': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        const displayName = cleanDisplayName(p.displayName);
        if (!displayName) throw new RequestError('displayName: must not be empty');
        room.updatePeer(peer, { displayName });
        return { displayName };
      }
      case 'stream.setExcluded': {
        const p = this.params(method, data);
        const { room, peer } = this.joined(conn);
        room.updatePeer(peer, { excludedFromStream: p.excluded });
        return { excluded: p.excluded };
      }
    }
  }

  private async join(conn: Connection, p: CoreParams<'join'>) {
    if (conn.peer) throw new RequestError('already joined; open a new connection for another room');
    const check = checkRoomName(p.room);
    if (!check.ok) throw new RequestError(`room: ${check.message}`);
    const displayName = cleanDisplayName(p.displayName);
    if (!displayName) throw new RequestError('displayName: must not be empty');

    const { room, created } = await this.getOrCreateRoom(check.name);
    if (room.peers.size >= this.config.conference.maxParticipantsPerRoom)
      throw new RequestError(
        `room is full (${this.config.conference.maxParticipantsPerRoom} participants)`,
        'forbidden',
      );
    if (conn.socket.readyState !== conn.socket.OPEN) throw new RequestError('socket closed', 'failed');

    const peer = new Peer(randomUUID(), displayName, (msg) => {
      if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(msg));
    });
    let moderatorToken: string | undefined;
    if (created) moderatorToken = room.creatorToken;
    else if (p.moderatorToken && this.isModerator(room.name, p.moderatorToken))
      moderatorToken = p.moderatorToken;
    peer.moderator = moderatorToken !== undefined;
    const others = room.peerViews();
    room.join(peer);
    conn.peer = peer;
    conn.room = room;
    return {
      peerId: peer.id,
      displayName,
      moderator: peer.moderator,
      moderatorToken,
      routerRtpCapabilities: room.router.rtpCapabilities,
      peers: others,
      activeSpeaker: room.activeSpeaker,
    };
  }

  private async getOrCreateRoom(name: string): Promise<{ room: Room; created: boolean }> {
    const existing = this.rooms.get(name);
    if (existing && !existing.closed) return { room: existing, created: false };
    const pending = this.creating.get(name);
    if (pending) return { room: await pending, created: false };
    if (this.isClosed) throw new RequestError('server is stopping', 'failed');
    const promise = (async () => {
      const router = await this.workers.createRouter({ room: name });
      try {
        return await Room.create({
          name,
          router,
          creatorToken: newModeratorToken(),
          graceMs: this.config.conference.emptyRoomGraceSeconds * 1000,
          webrtc: this.webrtc,
          logger: this.logger,
        });
      } catch (err) {
        router.close();
        throw err;
      }
    })();
    this.creating.set(name, promise);
    try {
      const room = await promise;
      this.rooms.set(name, room);
      room.once('closed', (reason) => {
        if (this.rooms.get(name) === room) this.rooms.delete(name);
        this.sources.delete(room);
        this.emit('roomClosed', name, reason);
      });
      this.logger.info({ room: name }, 'room created');
      this.emit('roomCreated', name);
      return { room, created: true };
    } finally {
      this.creating.delete(name);
    }
  }

  private async disconnect(conn: Connection): Promise<void> {
    const { room, peer } = conn;
    conn.peer = undefined;
    conn.room = undefined;
    if (room && peer) room.leave(peer);
  }
}

class ProtocolFailure extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof ProtocolFailure) return err.error;
  if (err instanceof RequestError) return { code: err.code, message: err.message };
  // mediasoup's TypeError/UnsupportedError messages describe bad client parameters.
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'failed', message };
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
