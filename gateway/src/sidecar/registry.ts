import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.ts';
import type { AppMessage, RoomDelta } from './protocol.ts';
import {
  RemoteRoomSource,
  type RemoteRoomSettings,
  type RemoteRoomStatus,
  type RouterFactory,
} from './remote-room-source.ts';
import type { AppSession, SessionHost } from './session.ts';

export interface SidecarRegistryEvents {
  /** A room appeared (first room.state of an app, or again after it was closed). */
  roomRegistered: [room: RemoteRoomSource];
  roomClosed: [name: string, reason: string];
}

export interface SidecarRoomSummary {
  name: string;
  app: string;
  status: RemoteRoomStatus;
  participants: number;
}

/**
 * Remote rooms by name. A name belongs to the app that registered it until the room closes; the
 * same app (by appName) may re-claim it from a new connection (reconnect, restart), another app
 * is refused. Room names share the gateway's namespace with the embedded conference's rooms, so
 * `isTaken` lets the embedded side refuse clashes (and vice versa).
 */
export class SidecarRegistry
  extends EventEmitter<SidecarRegistryEvents>
  implements Omit<SessionHost, 'secret' | 'reconnectWindowSeconds'>
{
  private readonly roomsByName = new Map<string, RemoteRoomSource>();

  constructor(
    private readonly routers: RouterFactory,
    private readonly settings: RemoteRoomSettings,
    private readonly logger: Logger,
    /** Refuses names used elsewhere (e.g. by an embedded conference room). */
    private readonly isTaken: (room: string) => boolean = () => false,
  ) {
    super();
  }

  roomSource(name: string): RemoteRoomSource | undefined {
    return this.roomsByName.get(name);
  }

  rooms(): SidecarRoomSummary[] {
    return [...this.roomsByName.values()].map((r) => ({
      name: r.name,
      app: r.appName,
      status: r.status,
      participants: r.participants().length,
    }));
  }

  roomState(session: AppSession, msg: Extract<AppMessage, { type: 'room.state' }>): string[] {
    const existing = this.roomsByName.get(msg.room);
    if (existing) {
      if (existing.appName !== session.appName)
        throw new Error(`room "${msg.room}" is already registered by another app ("${existing.appName}")`);
      return existing.attach(session, msg);
    }
    if (this.isTaken(msg.room))
      throw new Error(`room "${msg.room}" exists on this gateway's embedded conference`);
    const room = new RemoteRoomSource(msg.room, session.appName, this.routers, this.settings, this.logger);
    this.roomsByName.set(msg.room, room);
    room.once('closed', (reason) => {
      if (this.roomsByName.get(msg.room) === room) this.roomsByName.delete(msg.room);
      this.emit('roomClosed', msg.room, reason);
    });
    const strays = room.attach(session, msg);
    this.logger.info({ room: msg.room, app: session.appName }, 'sidecar room registered');
    this.emit('roomRegistered', room);
    return strays;
  }

  roomDelta(session: AppSession, msg: RoomDelta): boolean {
    const room = this.roomsByName.get(msg.room);
    if (!room || room.sessionId !== session.sessionId) return false;
    room.apply(msg);
    return true;
  }

  sessionClosed(session: AppSession, reason: string): void {
    for (const room of this.roomsByName.values()) room.detach(session, reason);
  }

  close(reason = 'gateway stopping'): void {
    for (const room of [...this.roomsByName.values()]) room.close(reason);
    this.roomsByName.clear();
  }
}
