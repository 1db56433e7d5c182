import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { Logger } from '../log/logger.ts';
import { consumeToRtp } from '../rooms/plain-rtp-consumer.ts';
import type {
  ConsumedTrack,
  ParticipantInfo,
  RoomSource,
  RoomSourceEvents,
  RtpDestination,
  TrackInfo,
} from '../rooms/room-source.ts';
import type {
  RoomDelta,
  PipeEndpoint,
  PipeOpenResult,
  RoomStateMessage,
  WireParticipant,
} from './protocol.ts';

/** The app connection a remote room talks through (an authenticated sidecar session). */
export interface AppLink {
  readonly appName: string;
  readonly sessionId: string;
  openPipe(room: string, trackId: string, pipeId: string, gateway: PipeEndpoint): Promise<PipeOpenResult>;
  closePipe(room: string, pipeId: string): void;
}

export interface RemoteRoomSettings {
  reconnectWindowSeconds: number;
  pipe: { listenIp: string; announcedAddress: string; enableSrtp: boolean };
  /** Where gateway-side consumers send plain RTP from (mediasoup.plainRtpIp). */
  plainRtpIp: string;
}

export interface RouterFactory {
  createRouter(appData?: Record<string, unknown>): Promise<ms.Router>;
}

export type RemoteRoomStatus = 'live' | 'interrupted' | 'closed';

/** The gateway's end of one pipe: a PipeTransport + a producer mirroring the app's producer. */
interface GatewayPipe {
  pipeId: string;
  trackId: string;
  transport: ms.PipeTransport;
  producer: ms.Producer;
  users: Set<ConsumedTrack>;
}

/**
 * A room hosted by another process's mediasoup server, seen through the sidecar control channel.
 * Media for a consumed track arrives over a PipeTransport pair (app router → this gateway's own
 * router) and is then consumed to plain RTP like an embedded room's track, so the livestream
 * pipeline cannot tell the difference. One pipe per track, shared by all its consumers, closed
 * when the last consumer closes.
 *
 * When the app's connection is lost the room is `interrupted` (pipes and consumers stay open:
 * the media path does not go through the WebSocket); if the app comes back within the window the
 * state is resynced and `restored` is emitted, otherwise the room closes with a reason.
 */
export class RemoteRoomSource extends EventEmitter<RoomSourceEvents> implements RoomSource {
  private readonly people = new Map<string, ParticipantInfo>();
  private speaker: string | null = null;
  private state: RemoteRoomStatus = 'live';
  private link: AppLink | undefined;
  private router: Promise<ms.Router> | undefined;
  private readonly pipes = new Map<string, GatewayPipe>();
  private readonly opening = new Map<string, Promise<GatewayPipe>>();
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    readonly appName: string,
    private readonly routers: RouterFactory,
    private readonly settings: RemoteRoomSettings,
    logger: Logger,
  ) {
    super();
    this.log = logger.child({ room: name, app: appName });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get status(): RemoteRoomStatus {
    return this.state;
  }

  /** The session currently serving this room (undefined while interrupted). */
  get sessionId(): string | undefined {
    return this.link?.sessionId;
  }

  participants(): ParticipantInfo[] {
    return [...this.people.values()].map(copyParticipant);
  }

  activeSpeaker(): string | null {
    return this.speaker;
  }

  async consume(trackId: string, destination: RtpDestination): Promise<ConsumedTrack> {
    if (this.state === 'closed') throw new Error(`sidecar room "${this.name}" is closed`);
    if (this.state === 'interrupted')
      throw new Error(`sidecar room "${this.name}" is reconnecting (app "${this.appName}" connection lost)`);
    if (!this.findTrack(trackId)) throw new Error(`sidecar room "${this.name}" has no track "${trackId}"`);
    const pipe = await this.ensurePipe(trackId);
    const router = await this.getRouter();
    let track: ConsumedTrack;
    try {
      track = await consumeToRtp(router, pipe.producer.id, destination, this.settings.plainRtpIp);
    } catch (err) {
      if (pipe.users.size === 0 && this.pipes.get(trackId) === pipe) this.closePipe(pipe, true);
      throw err;
    }
    pipe.users.add(track);
    track.once('closed', () => {
      pipe.users.delete(track);
      if (pipe.users.size === 0 && this.pipes.get(trackId) === pipe) this.closePipe(pipe, true);
    });
    return track;
  }

  // ---------- driven by the sidecar session ----------

  /**
   * A (re)connected app sent the full state. Returns the app's pipe ids this gateway does not
   * know (to be closed on the app's side).
   */
  attach(link: AppLink, msg: RoomStateMessage): string[] {
    if (this.state === 'closed') throw new Error(`sidecar room "${this.name}" is closed`);
    clearTimeout(this.windowTimer);
    // A new session taking over from a live one (the old TCP connection is half-open) is not a restore.
    const wasInterrupted = this.state === 'interrupted';
    this.link = link;
    this.state = 'live';

    const next = new Map(msg.participants.map((p) => [p.id, p] as const));
    for (const id of [...this.people.keys()]) if (!next.has(id)) this.removeParticipant(id);
    for (const p of msg.participants) this.upsertParticipant(p);

    // Pipes the app no longer holds (e.g. it restarted its pipe) cannot carry media any more:
    // end them, and announce the track again so the pipeline consumes it afresh.
    const appPipes = new Set(msg.pipes);
    for (const pipe of [...this.pipes.values()]) {
      if (appPipes.has(pipe.pipeId)) continue;
      const found = this.findTrack(pipe.trackId);
      this.closePipe(pipe, false);
      if (found) {
        this.emit('trackRemoved', found.participant.id, found.track.id);
        this.emit('trackAdded', found.participant.id, { ...found.track });
      }
    }
    const known = new Set([...this.pipes.values()].map((p) => p.pipeId));
    const strays = msg.pipes.filter((id) => !known.has(id));

    if (
      msg.activeSpeaker !== this.speaker &&
      (msg.activeSpeaker === null || this.people.has(msg.activeSpeaker))
    ) {
      this.speaker = msg.activeSpeaker;
      this.emit('activeSpeakerChanged', this.speaker);
    }
    if (wasInterrupted) {
      this.log.info({ session: link.sessionId }, 'sidecar room restored');
      this.emit('restored');
    }
    return strays;
  }

  /** The app's control connection is gone: wait for it for the reconnect window. */
  detach(link: AppLink, reason: string): void {
    if (this.state === 'closed' || this.link !== link) return;
    this.link = undefined;
    this.state = 'interrupted';
    const window = this.settings.reconnectWindowSeconds;
    this.log.warn({ reason, windowSeconds: window }, 'sidecar room interrupted');
    this.emit('interrupted', reason);
    this.windowTimer = setTimeout(() => {
      this.close(`app "${this.appName}" did not reconnect within ${window} s (${reason})`);
    }, window * 1000);
  }

  /** A delta from the app (the room is attached to `link`). */
  apply(msg: RoomDelta): void {
    if (this.state !== 'live') return;
    switch (msg.type) {
      case 'participant.joined':
        this.upsertParticipant(msg.participant);
        return;
      case 'participant.updated': {
        const p = this.people.get(msg.participantId);
        if (!p) return this.stale(msg.type, msg.participantId);
        if (p.displayName === msg.displayName && p.excludedFromStream === msg.excludedFromStream) return;
        p.displayName = msg.displayName;
        p.excludedFromStream = msg.excludedFromStream;
        this.emit('participantUpdated', copyParticipant(p));
        return;
      }
      case 'participant.left':
        this.removeParticipant(msg.participantId);
        return;
      case 'track.added': {
        const p = this.people.get(msg.participantId);
        if (!p) return this.stale(msg.type, msg.participantId);
        this.addTrack(p, msg.track);
        return;
      }
      case 'track.removed':
        this.removeTrack(msg.participantId, msg.trackId);
        return;
      case 'track.paused':
      case 'track.resumed':
        this.setPaused(msg.participantId, msg.trackId, msg.type === 'track.paused');
        return;
      case 'speaker':
        if (msg.participantId !== null && !this.people.has(msg.participantId)) return;
        if (this.speaker === msg.participantId) return;
        this.speaker = msg.participantId;
        this.emit('activeSpeakerChanged', this.speaker);
        return;
      case 'room.closed':
        this.close(`closed by app "${this.appName}": ${msg.reason}`);
        return;
    }
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.windowTimer);
    for (const pipe of [...this.pipes.values()]) this.closePipe(pipe, true);
    const router = this.router;
    this.router = undefined;
    void router?.then((r) => r.close()).catch(() => {});
    this.log.info({ reason }, 'sidecar room closed');
    this.emit('closed', reason);
  }

  // ---------- state ----------

  private upsertParticipant(p: WireParticipant): void {
    const existing = this.people.get(p.id);
    if (!existing) {
      const info: ParticipantInfo = {
        id: p.id,
        displayName: p.displayName,
        excludedFromStream: p.excludedFromStream,
        tracks: [],
      };
      this.people.set(p.id, info);
      this.emit('participantJoined', copyParticipant(info));
      for (const t of p.tracks) this.addTrack(info, t);
      return;
    }
    if (existing.displayName !== p.displayName || existing.excludedFromStream !== p.excludedFromStream) {
      existing.displayName = p.displayName;
      existing.excludedFromStream = p.excludedFromStream;
      this.emit('participantUpdated', copyParticipant(existing));
    }
    const wanted = new Map(p.tracks.map((t) => [t.id, t] as const));
    for (const t of [...existing.tracks]) if (!wanted.has(t.id)) this.removeTrack(p.id, t.id);
    for (const t of p.tracks) {
      const have = existing.tracks.find((x) => x.id === t.id);
      if (!have) this.addTrack(existing, t);
      else if (have.paused !== t.paused) this.setPaused(p.id, t.id, t.paused);
    }
  }

  private addTrack(p: ParticipantInfo, t: TrackInfo): void {
    if (p.tracks.some((x) => x.id === t.id)) return;
    if (this.findTrack(t.id)) return this.stale('track.added (duplicate id)', t.id);
    const track: TrackInfo = { id: t.id, kind: t.kind, source: t.source, paused: t.paused };
    p.tracks.push(track);
    this.emit('trackAdded', p.id, { ...track });
  }

  private removeTrack(participantId: string, trackId: string): void {
    const p = this.people.get(participantId);
    const i = p?.tracks.findIndex((t) => t.id === trackId) ?? -1;
    if (!p || i < 0) return;
    p.tracks.splice(i, 1);
    const pipe = this.pipes.get(trackId);
    if (pipe) this.closePipe(pipe, true);
    this.emit('trackRemoved', participantId, trackId);
  }

  private removeParticipant(id: string): void {
    const p = this.people.get(id);
    if (!p) return;
    for (const t of [...p.tracks]) this.removeTrack(id, t.id);
    this.people.delete(id);
    if (this.speaker === id) {
      this.speaker = null;
      this.emit('activeSpeakerChanged', null);
    }
    this.emit('participantLeft', id);
  }

  private setPaused(participantId: string, trackId: string, paused: boolean): void {
    const t = this.people.get(participantId)?.tracks.find((x) => x.id === trackId);
    if (!t || t.paused === paused) return;
    t.paused = paused;
    // The pipe producer mirrors the app's producer, so gateway consumers see producerpause/resume.
    const pipe = this.pipes.get(trackId);
    if (pipe) void (paused ? pipe.producer.pause() : pipe.producer.resume()).catch(() => {});
    this.emit(paused ? 'trackPaused' : 'trackResumed', participantId, trackId);
  }

  private findTrack(trackId: string): { participant: ParticipantInfo; track: TrackInfo } | undefined {
    for (const participant of this.people.values()) {
      const track = participant.tracks.find((t) => t.id === trackId);
      if (track) return { participant, track };
    }
    return undefined;
  }

  private stale(what: string, ref: string): void {
    this.log.debug({ what, ref }, 'sidecar message refers to an unknown participant/track, ignored');
  }

  // ---------- pipes ----------

  private getRouter(): Promise<ms.Router> {
    if (!this.router) {
      const p = this.routers.createRouter({ room: this.name, sidecar: true });
      this.router = p;
      p.then(
        (r) =>
          r.observer.once('close', () => {
            if (this.router === p) this.router = undefined;
            for (const pipe of [...this.pipes.values()]) this.closePipe(pipe, false);
          }),
        () => {
          if (this.router === p) this.router = undefined;
        },
      );
    }
    return this.router;
  }

  private ensurePipe(trackId: string): Promise<GatewayPipe> {
    const have = this.pipes.get(trackId);
    if (have) return Promise.resolve(have);
    let p = this.opening.get(trackId);
    if (!p) {
      p = this.openPipe(trackId).finally(() => this.opening.delete(trackId));
      this.opening.set(trackId, p);
    }
    return p;
  }

  private async openPipe(trackId: string): Promise<GatewayPipe> {
    const link = this.link;
    if (!link) throw new Error(`sidecar room "${this.name}" is reconnecting`);
    const router = await this.getRouter();
    const cfg = this.settings.pipe;
    const transport = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: cfg.listenIp, announcedAddress: cfg.announcedAddress || undefined },
      enableSrtp: cfg.enableSrtp,
      appData: { room: this.name, trackId, purpose: 'sidecar-pipe' },
    });
    const pipeId = randomUUID();
    let appOpened = false;
    try {
      const result = await link.openPipe(this.name, trackId, pipeId, {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        srtp: transport.srtpParameters,
      });
      appOpened = true;
      if (cfg.enableSrtp && !result.srtp) throw new Error('the app answered without SRTP parameters');
      await transport.connect({ ip: result.ip, port: result.port, srtpParameters: result.srtp });
      const found = this.findTrack(trackId);
      if (!found || this.state === 'closed') throw new Error(`track "${trackId}" went away while piping`);
      // Same id as the app's producer: ConsumedTrack.trackId then equals the RoomSource track id.
      const producer = await transport.produce({
        id: trackId,
        kind: result.kind,
        rtpParameters: result.rtpParameters as unknown as ms.RtpParameters,
        paused: found.track.paused,
        appData: { room: this.name, sidecar: true },
      });
      const pipe: GatewayPipe = { pipeId, trackId, transport, producer, users: new Set() };
      this.pipes.set(trackId, pipe);
      transport.observer.once('close', () => {
        if (this.pipes.get(trackId) === pipe) this.pipes.delete(trackId);
      });
      this.log.debug({ trackId, pipeId, app: `${result.ip}:${result.port}` }, 'sidecar pipe open');
      return pipe;
    } catch (err) {
      transport.close();
      if (appOpened) link.closePipe(this.name, pipeId);
      throw new Error(
        `cannot pipe track "${trackId}" of sidecar room "${this.name}": ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Closing the transport closes the producer, so every consumer of it ends ('closed'). */
  private closePipe(pipe: GatewayPipe, tellApp: boolean): void {
    if (this.pipes.get(pipe.trackId) === pipe) this.pipes.delete(pipe.trackId);
    pipe.transport.close();
    if (tellApp) this.link?.closePipe(this.name, pipe.pipeId);
  }
}

function copyParticipant(p: ParticipantInfo): ParticipantInfo {
  return { ...p, tracks: p.tracks.map((t) => ({ ...t })) };
}
