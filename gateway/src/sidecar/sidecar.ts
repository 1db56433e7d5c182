import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { MAX_MESSAGE_BYTES, SIDECAR_PATH } from './protocol.ts';
import { SidecarRegistry } from './registry.ts';
import type { RemoteRoomSource, RouterFactory } from './remote-room-source.ts';
import { AppSession } from './session.ts';

const MAX_SESSIONS = 256;

/**
 * The gateway's sidecar endpoint: WebSocket upgrades on `/sidecar` of the gateway's HTTP(S)
 * server become app sessions; their rooms live in the registry as RoomSources. Other upgrade
 * paths (the conference's `/ws`) are left to their own handlers.
 */
export class Sidecar {
  readonly registry: SidecarRegistry;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AppSession>();
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

  private constructor(
    private readonly server: http.Server | https.Server,
    config: Config,
    routers: RouterFactory,
    private readonly logger: Logger,
    isTaken?: (room: string) => boolean,
  ) {
    const log = logger.child({ part: 'sidecar' });
    this.registry = new SidecarRegistry(
      routers,
      {
        reconnectWindowSeconds: config.sidecar.reconnectWindowSeconds,
        pipe: config.sidecar.pipe,
        plainRtpIp: config.mediasoup.plainRtpIp,
      },
      log,
      isTaken,
    );
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    const host = {
      secret: config.sidecar.secret,
      reconnectWindowSeconds: config.sidecar.reconnectWindowSeconds,
      roomState: this.registry.roomState.bind(this.registry),
      roomDelta: this.registry.roomDelta.bind(this.registry),
      sessionClosed: (s: AppSession, reason: string) => {
        this.sessions.delete(s);
        this.registry.sessionClosed(s, reason);
      },
    };
    this.onUpgrade = (req, socket, head) => {
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://x').pathname;
      } catch {
        return;
      }
      if (pathname !== SIDECAR_PATH) return; // not ours: another handler (e.g. /ws) takes it
      if (this.sessions.size >= MAX_SESSIONS) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new AppSession(ws, host, log, req.socket.remoteAddress ?? '');
        this.sessions.add(session);
        ws.once('close', () => this.sessions.delete(session));
      });
    };
    server.on('upgrade', this.onUpgrade);
  }

  static start(
    server: http.Server | https.Server,
    config: Config,
    routers: RouterFactory,
    logger: Logger,
    isTaken?: (room: string) => boolean,
  ): Sidecar {
    const sidecar = new Sidecar(server, config, routers, logger, isTaken);
    logger.info(
      { path: SIDECAR_PATH, reconnectWindowSeconds: config.sidecar.reconnectWindowSeconds },
      'sidecar endpoint enabled',
    );
    return sidecar;
  }

  /** The RoomSource of a room registered by an app (undefined if no app registered it). */
  roomSource(name: string): RemoteRoomSource | undefined {
    return this.registry.roomSource(name);
  }

  close(): void {
    this.server.off('upgrade', this.onUpgrade);
    for (const s of [...this.sessions]) s.close('gateway stopping');
    this.sessions.clear();
    this.registry.close('gateway stopping');
    this.wss.close();
    this.logger.debug('sidecar endpoint closed');
  }
}
